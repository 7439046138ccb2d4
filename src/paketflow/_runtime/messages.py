"""Built-in bilingual message templates of the engine's own refusal codes, and the
template renderer (``{name}`` placeholders only: nothing else is interpreted)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["BUILTIN", "render"]

BUILTIN: Mapping[str, tuple[str, str]] = {
    "ERR_PERAN_TIDAK_BERWENANG": (
        "Peran {peran} tidak berwenang melakukan {aksi}. Yang berwenang: {berwenang}.",
        "Role {role} is not authorised to perform {action}. Authorised: {authorised}.",
    ),
    "ERR_PEMISAHAN_TUGAS": (
        "{nama} tidak boleh melakukan {aksi}: {alasan} (aturan {sod}).",
        "{name} may not perform {action}: {reason} (rule {sod}).",
    ),
    "ERR_TANDA_TANGAN_KURANG": (
        "Tanda tangan belum lengkap: {kurang}. Yang diharapkan: {diharapkan}.",
        "Missing signatures: {missing}. Expected: {expected}.",
    ),
    "ERR_SATU_ORANG_SATU_UNSUR": (
        "{nama} sudah menandatangani sebagai {unsur}; satu orang hanya boleh mewakili satu unsur.",
        "{name} already signed as {element}; one person may represent only one element.",
    ),
    "ERR_SUDAH_MENANDATANGANI": (
        "{nama} sudah menandatangani pada tahap ini.",
        "{name} has already signed in this state.",
    ),
    "ERR_SLOT_PENUH": (
        "Tanda tangan untuk {slot} sudah lengkap; {nama} tidak diperlukan lagi.",
        "The signatures for {slot} are complete; {name} is not needed there.",
    ),
    "ERR_TANDA_TANGAN_AMBIGU": (
        "Tanda tangan {nama} dapat masuk ke lebih dari satu dokumen: {pilihan}; "
        "sebutkan dokumen atau slot yang ditandatangani.",
        "{name}'s signature fits more than one document: {choices}; "
        "name the document or slot being signed.",
    ),
    "ERR_SLOT_TIDAK_DIKENAL": (
        "Tahap {tahap} tidak memiliki dokumen atau slot tanda tangan {slot}. Pilihan: {pilihan}.",
        "State {state} has no signature document or slot {slot}. Choices: {choices}.",
    ),
    "ERR_BUKAN_PENANDATANGAN": (
        "{nama} bukan penandatangan yang diharapkan untuk {slot}. Yang diharapkan: {diharapkan}.",
        "{name} is not the expected signatory for {slot}. Expected: {expected}.",
    ),
    "ERR_UNSUR_TIDAK_LENGKAP": (
        "Unsur belum lengkap: {unsur}. Wakil yang diharapkan: {nama}. Batas waktu: {tanggal}.",
        "Elements incomplete: {elements}. Expected representatives: {names}. Deadline: {date}.",
    ),
    "ERR_TIDAK_ADA_TANDA_TANGAN": (
        "Tahap {tahap} tidak memerlukan tanda tangan.",
        "State {state} collects no signatures.",
    ),
    "ERR_EVENT_TIDAK_BERLAKU": (
        "Aksi {aksi} tidak berlaku pada tahap {tahap}. Yang berlaku: {berlaku}.",
        "Action {action} is not available in state {state}. Available: {available}.",
    ),
    "ERR_STATUS_AKHIR": (
        "Proses sudah berakhir pada tahap {tahap}; tidak ada aksi lagi.",
        "The process has ended in state {state}; no further actions.",
    ),
    "ERR_DATA_TIDAK_VALID": (
        "Data aksi {aksi} tidak valid di {lokasi}: {rincian}.",
        "Data of {action} is not valid at {location}: {detail}.",
    ),
    "ERR_EKSPRESI": (
        "Aturan {lokasi} tidak dapat dihitung dengan data ini: {rincian}.",
        "Rule {location} cannot be evaluated on this data: {detail}.",
    ),
    "ERR_ID_TIDAK_VALID": (
        "{argumen} {nilai} tidak sah: {masalah}.",
        "{argument} {value} is not valid: {problem}.",
    ),
    "ERR_AKTOR_TIDAK_VALID": (
        "Pelaku tidak sah: {bidang} {nilai}: {masalah}.",
        "The actor is not valid: {field} {value}: {problem}.",
    ),
    "ERR_DATA_TIDAK_SAH": (
        "Data tidak dapat diterima di {lokasi}: {masalah}.",
        "Data cannot be accepted at {location}: {problem}.",
    ),
    "ERR_WAKTU_TIDAK_VALID": (
        "Waktu {argumen} {nilai} di luar rentang yang didukung ({awal} sampai sebelum {akhir}).",
        "Time {argument} {value} is outside the supported range ({earliest} to before {latest}).",
    ),
    "ERR_KUNCI_TIDAK_VALID": (
        "Kunci idempotensi {nilai} tidak sah: {masalah}.",
        "Idempotency key {value} is not valid: {problem}.",
    ),
    "ERR_BATAS_EVALUASI": (
        "Aturan {lokasi} melampaui batas evaluasi per perintah ({batas}: {nilai}).",
        "Rule {location} exceeds the per-command evaluation limit ({limit}: {value}).",
    ),
    "ERR_DUPLIKAT_PERINTAH": (
        "Kunci idempotensi {kunci} sudah dipakai untuk perintah lain.",
        "Idempotency key {key} was already used for a different command.",
    ),
}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(_text(v) for v in value) or "-"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}".replace(",", ".")  # Indonesian grouping: Rp130.000.000
    return str(value)


def render(template: str, params: Mapping[str, Any]) -> str:
    """Fill ``{name}`` placeholders from ``params``; unknown ones stay as written."""
    return _PLACEHOLDER.sub(
        lambda m: _text(params[m.group(1)]) if m.group(1) in params else m.group(0), template
    )
