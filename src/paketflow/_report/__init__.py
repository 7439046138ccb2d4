"""The compliance report (domain R-11, R-16): planned vs actual per stage, delays in
calendar and working days, escalations, incomplete meetings, refusals, the shortfall
deliberation and deferred budget lines, warnings and funding per source; as text, JSON
or one self-contained HTML page. ``paketflow report`` and ``simulate --report`` use it.
"""

from __future__ import annotations

from paketflow._report._main import render, scenario_report
from paketflow._report._model import Report, build_report

__all__ = ["Report", "build_report", "render", "scenario_report"]
