"""Refusal categories: what kind of rule a refusal code reports.

Every refusal code has one category, so an application maps refusals (to an HTTP
status, a UI colour, a retry policy) by category instead of by a table of codes. The
engine's own codes have fixed categories (:data:`BUILTIN_CATEGORIES`); a definition
declares the category of each of its own codes in ``/messages/<code>/category``
(default ``rule``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

__all__ = ["BUILTIN_CATEGORIES", "CATEGORIES", "DEFAULT_CATEGORY", "Category", "category_of"]

Category = Literal[
    "permission", "segregation_of_duties", "state", "data", "rule", "deadline", "budget"
]

#: Every category, in the order the documentation lists them.
CATEGORIES: tuple[Category, ...] = (
    "permission",
    "segregation_of_duties",
    "state",
    "data",
    "rule",
    "deadline",
    "budget",
)

#: The category of a definition's code that declares none.
DEFAULT_CATEGORY: Category = "rule"

#: Categories of the engine's built-in codes (and the scenario runner's ``ERR_SKENARIO``).
BUILTIN_CATEGORIES: Mapping[str, Category] = {
    "ERR_PERAN_TIDAK_BERWENANG": "permission",
    "ERR_ID_TIDAK_VALID": "data",
    "ERR_AKTOR_TIDAK_VALID": "data",
    "ERR_DATA_TIDAK_SAH": "data",
    "ERR_WAKTU_TIDAK_VALID": "data",
    "ERR_KUNCI_TIDAK_VALID": "data",
    "ERR_PEMISAHAN_TUGAS": "segregation_of_duties",
    "ERR_SATU_ORANG_SATU_UNSUR": "segregation_of_duties",
    "ERR_SUDAH_MENANDATANGANI": "segregation_of_duties",
    "ERR_TANDA_TANGAN_KURANG": "rule",
    "ERR_SLOT_PENUH": "state",
    "ERR_SLOT_TIDAK_DIKENAL": "state",
    "ERR_TANDA_TANGAN_AMBIGU": "state",
    "ERR_BUKAN_PENANDATANGAN": "permission",
    "ERR_UNSUR_TIDAK_LENGKAP": "rule",
    "ERR_TIDAK_ADA_TANDA_TANGAN": "state",
    "ERR_EVENT_TIDAK_BERLAKU": "state",
    "ERR_STATUS_AKHIR": "state",
    "ERR_DUPLIKAT_PERINTAH": "state",
    "ERR_SKENARIO": "state",
    "ERR_DATA_TIDAK_VALID": "data",
    "ERR_EKSPRESI": "data",
    "ERR_BATAS_EVALUASI": "data",  # the data makes the rules too costly to evaluate
}


def category_of(code: str, declared: Mapping[str, str | None] | None = None) -> Category:
    """The category of ``code``: the built-in one, else the one ``declared`` (a
    definition's ``code -> category``), else :data:`DEFAULT_CATEGORY`."""
    builtin = BUILTIN_CATEGORIES.get(code)
    if builtin is not None:
        return builtin
    found = (declared or {}).get(code)
    for cat in CATEGORIES:
        if found == cat:
            return cat
    return DEFAULT_CATEGORY
