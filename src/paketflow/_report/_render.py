"""Render a :class:`~paketflow._report._model.Report` as text, JSON or one
self-contained HTML page (inline CSS and SVG, no script, nothing fetched)."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from typing import Any

import attrs

from paketflow._report._model import Issue, Report, Stage

__all__ = ["PALETTE", "WORDS", "render_html", "render_json", "render_text"]

WORDS: dict[str, dict[str, str]] = {
    "id": {
        "report": "Laporan kepatuhan",
        "instance": "Instans",
        "definition": "Definisi proses",
        "state": "Status saat ini",
        "as_of": "Per tanggal",
        "started": "Dimulai",
        "flags": "Penanda",
        "summary": "Ringkasan",
        "stages": "Tahap: rencana dan realisasi",
        "chart": "Grafik waktu: rencana dan realisasi per tahap",
        "chart_desc": "Setiap baris satu tahap. Batang atas: dari mulai sampai jatuh tempo "
        "(rencana). Batang bawah: dari mulai sampai selesai (realisasi); bagian merah adalah "
        "keterlambatan.",
        "stage": "Tahap",
        "start": "Mulai",
        "planned": "Jatuh tempo (rencana)",
        "actual": "Selesai (realisasi)",
        "late": "Terlambat (hari kalender)",
        "late_wd": "Terlambat (hari kerja)",
        "escalations": "Eskalasi",
        "open": "masih berjalan",
        "on_time": "tepat waktu",
        "days": "hari",
        "working_days": "hari kerja",
        "sign": "Tanda tangan",
        "meetings": "Rapat tidak lengkap",
        "missing": "Unsur tidak hadir",
        "message": "Pesan",
        "date": "Tanggal",
        "event": "Kejadian",
        "notify": "Diberitahukan kepada",
        "step": "Tingkat",
        "deadline": "Batas waktu",
        "refusals": "Tindakan yang ditolak",
        "refusals_unknown": "Tidak diketahui: tindakan yang ditolak tidak mengubah apa pun dan "
        "tidak tersimpan di riwayat; laporan dari simulasi mencantumkannya.",
        "actor": "Pelaku",
        "action": "Tindakan",
        "reasons": "Alasan",
        "deferred": "Pos anggaran ditunda",
        "code": "Kode",
        "description": "Uraian",
        "cost": "Biaya",
        "deliberation": "Musyawarah penentuan prioritas",
        "prioritised": "Diprioritaskan",
        "total": "Total prioritas",
        "warnings": "Peringatan",
        "notes": "Catatan lain",
        "funding": "Pendanaan: rencana dan penerimaan per sumber",
        "source": "Sumber",
        "received": "Diterima",
        "in_kind": "natura (bukan tunai)",
        "none": "Tidak ada.",
        "late_stages": "tahap terlambat",
        "max_late": "keterlambatan terbesar",
        "legend_planned": "Rencana",
        "legend_actual": "Realisasi",
        "legend_late": "Keterlambatan",
        "events": "kejadian tercatat",
    },
    "en": {
        "report": "Compliance report",
        "instance": "Instance",
        "definition": "Process definition",
        "state": "Current state",
        "as_of": "As of",
        "started": "Started",
        "flags": "Flags",
        "summary": "Summary",
        "stages": "Stages: planned and actual",
        "chart": "Timeline: planned and actual per stage",
        "chart_desc": "Each row is one stage. Upper bar: from start to due date (planned). "
        "Lower bar: from start to completion (actual); the red part is the delay.",
        "stage": "Stage",
        "start": "Start",
        "planned": "Due (planned)",
        "actual": "Done (actual)",
        "late": "Late (calendar days)",
        "late_wd": "Late (working days)",
        "escalations": "Escalations",
        "open": "still open",
        "on_time": "on time",
        "days": "days",
        "working_days": "working days",
        "sign": "Sign",
        "meetings": "Incomplete meetings",
        "missing": "Missing elements",
        "message": "Message",
        "date": "Date",
        "event": "Event",
        "notify": "Notified",
        "step": "Tier",
        "deadline": "Deadline",
        "refusals": "Refused actions",
        "refusals_unknown": "Unknown: refused actions change nothing and are not in the "
        "history; a report from a simulation lists them.",
        "actor": "Actor",
        "action": "Action",
        "reasons": "Reasons",
        "deferred": "Deferred budget lines",
        "code": "Code",
        "description": "Description",
        "cost": "Cost",
        "deliberation": "Prioritisation deliberation",
        "prioritised": "Prioritised",
        "total": "Total prioritised",
        "warnings": "Warnings",
        "notes": "Other notes",
        "funding": "Funding: planned and received per source",
        "source": "Source",
        "received": "Received",
        "in_kind": "in kind (not cash)",
        "none": "None.",
        "late_stages": "late stages",
        "max_late": "largest delay",
        "legend_planned": "Planned",
        "legend_actual": "Actual",
        "legend_late": "Delay",
        "events": "recorded events",
    },
}

#: Colours of the HTML report; tests check text contrast (WCAG AA) against ``bg``.
PALETTE = {
    "bg": "#ffffff",
    "text": "#1a1a1a",
    "muted": "#4d4d4d",
    "planned_fill": "#c6dbf2",
    "planned_stroke": "#1f4e8c",
    "actual": "#1f4e8c",
    "late": "#b3261e",
    "grid": "#8c8c8c",
    "head_bg": "#eef2f7",
}


def _d(moment: dt.datetime | None, r: Report) -> str:
    return moment.date().isoformat() if moment is not None else "—"


def _rp(amount: int | None) -> str:
    if amount is None:
        return "—"
    return "Rp" + f"{amount:,}".replace(",", ".")


def _late(stage: Stage, w: dict[str, str]) -> str:
    if stage.days_late:
        return f"{stage.days_late} {w['days']}" + (f" ({w['open']})" if stage.open else "")
    return w["open"] if stage.open else w["on_time"]


# -- JSON ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        out = {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
        if hasattr(value, "as_dict") and not isinstance(value, Report):
            return value.as_dict()
        return out
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(v) for v in value]
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def render_json(report: Report) -> str:
    """The report as JSON (dates ISO 8601, amounts in whole rupiah)."""
    doc = _plain(report)
    doc["format"] = 1
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)


# -- text ----------------------------------------------------------------------------


def render_text(report: Report) -> str:
    """The report as plain text."""
    w = WORDS[report.lang]
    out = [
        f"{w['report']} — {report.title}",
        f"{w['instance']}: {report.instance} ({report.definition})",
        f"{w['state']}: {report.state_label}; {w['as_of']} {_d(report.as_of, report)}",
        f"{w['flags']}: {', '.join(report.flags) or '—'}",
        "",
        f"== {w['stages']}",
    ]
    for s in report.stages:
        out.append(
            f"- {s.label} [{s.state_label}]: {w['start']} {_d(s.start, report)}, "
            f"{w['planned']} {_d(s.planned, report)}, {w['actual']} {_d(s.actual, report)}: "
            f"{_late(s, w)}"
            + (f" ({s.working_days_late} {w['working_days']})" if s.days_late else "")
            + (f", {w['escalations'].lower()} {s.escalations}" if s.escalations else "")
        )
    out += ["", f"== {w['escalations']}"]
    out += [
        f"- {_d(e.at, report)} {e.label} ({e.step}) → {', '.join(e.notify)}: {e.message}"
        for e in report.escalations
    ] or [w["none"]]
    out += _issues_text(w["meetings"], report.meetings, report)
    out += ["", f"== {w['refusals']}"]
    if report.refusals is None:
        out.append(w["refusals_unknown"])
    else:
        for ref in report.refusals:
            who = ref.actor.name or ref.actor.id if ref.actor else "—"
            for reason in ref.reasons:
                out.append(
                    f"- {_d(ref.at, report)} {who}: {ref.command}: {reason.code}: "
                    f"{reason.message(report.lang)}"
                )
        if not report.refusals:
            out.append(w["none"])
    out += ["", f"== {w['deliberation']}"]
    out += [f"- {_d(i.at, report)} {i.event}: {i.message}" for i in report.shortfalls]
    if report.deliberation:
        out.append(_deliberation_line(report, w))
    out += [f"- {w['deferred']}: {b.code} {b.description} {_rp(b.cost)}" for b in report.deferred]
    if not report.deliberation and not report.deferred and not report.shortfalls:
        out.append(w["none"])
    out += _issues_text(w["warnings"], report.warnings, report)
    out += ["", f"== {w['funding']}"]
    out += [
        f"- {f.source}: {_rp(f.planned)} → " + (w["in_kind"] if f.in_kind else _rp(f.received))
        for f in report.funding
    ] or [w["none"]]
    return "\n".join(out) + "\n"


def _deliberation_line(report: Report, w: dict[str, str]) -> str:
    d = report.deliberation or {}
    prio = ", ".join(
        f"{p.get('kode')} {_rp(p.get('jumlah'))}" for p in d.get("prioritas", ()) or ()
    )
    note = f" — {d['catatan']}" if d.get("catatan") else ""
    return (
        f"- {d.get('tanggal', '—')}: {w['prioritised']} {prio}; "
        f"{w['total']} {_rp(d.get('total_prioritas'))}{note}"
    )


def _issues_text(title: str, issues: Sequence[Issue], report: Report) -> list[str]:
    lines = ["", f"== {title}"]
    lines += [f"- {_d(i.at, report)} {i.event}: {i.code}: {i.message}" for i in issues]
    if not issues:
        lines.append(WORDS[report.lang]["none"])
    return lines


# -- HTML ----------------------------------------------------------------------------

_CSS = """
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: {text}; background: {bg}; margin: 2rem auto; max-width: 70rem; line-height: 1.45;
  padding: 0 1rem; }}
h1 {{ font-size: 1.7rem; margin-bottom: .2rem; }}
h2 {{ font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid {head_bg}; }}
.meta {{ color: {muted}; margin: 0; }}
.late {{ color: {late}; font-weight: 700; }}
table {{ border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }}
th, td {{ text-align: left; padding: .35rem .5rem; border-bottom: 1px solid {grid};
  vertical-align: top; }}
th {{ background: {head_bg}; }}
td.num, th.num {{ text-align: right; }}
td {{ font-variant-numeric: tabular-nums; }}
td.date {{ white-space: nowrap; }}
.sr-only {{ position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }}
figure {{ margin: 1rem 0; }}
figcaption {{ color: {muted}; }}
.summary {{ font-size: 1.1rem; }}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _cls(head: tuple[str, bool], cell: str) -> str:
    if head[1]:
        return " class=num"
    return " class=date" if len(cell) == 10 and cell[4] == "-" and cell[7] == "-" else ""


def _table(caption: str, heads: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> str:
    """A table; ``heads`` are (label, numeric); cells are already escaped HTML."""
    th = "".join(f'<th scope="col"{" class=num" if num else ""}>{_e(h)}</th>' for h, num in heads)
    body = "".join(
        "<tr>"
        + "".join(f"<td{_cls(heads[i], cell)}>{cell}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption class=sr-only>{_e(caption)}</caption><thead><tr>{th}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _chart(report: Report) -> str:
    """An SVG timeline: per stage a planned bar (start → due) and an actual bar
    (start → done, the delay in red), with month ticks."""
    w = WORDS[report.lang]
    p = PALETTE
    stages = report.stages
    if not stages:
        return f"<p>{_e(w['none'])}</p>"
    left, width, row_h, top = 290, 600, 44, 40
    lo = min(s.start for s in stages)
    hi = max(max(s.planned, s.actual or report.as_of) for s in stages)
    span = max((hi - lo).total_seconds(), 1.0)

    def x(moment: dt.datetime) -> float:
        return left + width * (moment - lo).total_seconds() / span

    height = top + row_h * len(stages) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title '
        f'chart-desc" viewBox="0 0 {left + width + 90} {height}" width="100%" '
        f'style="max-width:{left + width + 90}px" font-size="13" '
        f'font-family="system-ui, sans-serif">',
        f'<title id="chart-title">{_e(w["chart"])}</title>',
        f'<desc id="chart-desc">{_e(w["chart_desc"])}</desc>',
        f'<rect width="100%" height="100%" fill="{p["bg"]}"/>',
    ]
    # month ticks, every n-th month so that labels keep at least 64 px apart
    months = (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    every = max(1, -(-months * 64 // width))
    month = dt.datetime(lo.year, lo.month, 1, tzinfo=lo.tzinfo)
    count = 0
    while month <= hi:
        count += 1
        if month >= lo and count % every == 0:
            mx = x(month)
            parts.append(
                f'<line x1="{mx:.1f}" y1="{top - 8}" x2="{mx:.1f}" y2="{height - 30}" '
                f'stroke="{p["grid"]}" stroke-width="0.5"/>'
                f'<text x="{mx + 2:.1f}" y="{top - 12}" fill="{p["muted"]}">'
                f"{month:%Y-%m}</text>"
            )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    for i, s in enumerate(stages):
        y = top + i * row_h
        x0, xp = x(s.start), x(s.planned)
        end = s.actual or report.as_of
        xa = x(end)
        parts.append(
            f'<text x="{left - 8}" y="{y + 22}" text-anchor="end" fill="{p["text"]}">'
            f"{_e(s.label)}</text>"
        )
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(xp - x0, 1.5):.1f}" height="13" '
            f'fill="{p["planned_fill"]}" stroke="{p["planned_stroke"]}" stroke-width="1">'
            f"<title>{_e(w['planned'])}: {_d(s.planned, report)}</title></rect>"
        )
        on_time_end = min(xa, xp) if s.days_late else xa
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 20}" width="{max(on_time_end - x0, 1.5):.1f}" '
            f'height="13" fill="{p["actual"]}"><title>{_e(w["actual"])}: '
            f"{_d(s.actual, report)}</title></rect>"
        )
        if s.days_late:
            parts.append(
                f'<rect x="{xp:.1f}" y="{y + 20}" width="{max(xa - xp, 1.5):.1f}" height="13" '
                f'fill="{p["late"]}"><title>{_e(w["legend_late"])}: {s.days_late} '
                f"{_e(w['days'])}</title></rect>"
                f'<text x="{xa + 6:.1f}" y="{y + 31}" fill="{p["late"]}" font-weight="700">'
                f"+{s.days_late} {_e(w['days'])}</text>"
            )
    ly = height - 16
    parts.append(
        f'<rect x="{left}" y="{ly - 10}" width="14" height="10" fill="{p["planned_fill"]}" '
        f'stroke="{p["planned_stroke"]}"/><text x="{left + 20}" y="{ly}" fill="{p["text"]}">'
        f"{_e(w['legend_planned'])}</text>"
        f'<rect x="{left + 120}" y="{ly - 10}" width="14" height="10" fill="{p["actual"]}"/>'
        f'<text x="{left + 140}" y="{ly}" fill="{p["text"]}">{_e(w["legend_actual"])}</text>'
        f'<rect x="{left + 240}" y="{ly - 10}" width="14" height="10" fill="{p["late"]}"/>'
        f'<text x="{left + 260}" y="{ly}" fill="{p["text"]}">{_e(w["legend_late"])}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """One self-contained HTML page: headings, a timeline chart, tables with headers."""
    w = WORDS[report.lang]
    r = report
    late = r.late_stages
    worst = max(late, key=lambda s: s.days_late) if late else None
    summary = f"{len(late)} {w['late_stages']}"
    if worst is not None:
        summary += (
            f'; {w["max_late"]}: <span class="late">{worst.days_late} {_e(w["days"])}</span> '
            f"({_e(worst.label)}, {w['planned'].lower()} {_d(worst.planned, r)}, "
            f"{w['actual'].lower()} {_d(worst.actual, r)})"
        )
    summary += f"; {len(r.escalations)} {w['escalations'].lower()}; {r.events} {w['events']}."
    sec: list[str] = []
    sec.append(f"<h2 id=summary>{_e(w['summary'])}</h2><p class=summary>{summary}</p>")
    sec.append(
        f"<h2 id=chart>{_e(w['chart'])}</h2><figure>{_chart(r)}"
        f"<figcaption>{_e(w['chart_desc'])}</figcaption></figure>"
    )
    stage_rows = [
        [
            _e(s.label) + f"<br><span class=meta>{_e(s.state_label)}</span>",
            _d(s.start, r),
            _d(s.planned, r),
            _d(s.actual, r) if s.actual else _e(w["open"]),
            f'<span class="late">{s.days_late}</span>' if s.days_late else "0",
            str(s.working_days_late),
            str(s.escalations),
        ]
        for s in r.stages
    ]
    sec.append(
        f"<h2 id=stages>{_e(w['stages'])}</h2>"
        + _table(
            w["stages"],
            [
                (w["stage"], False),
                (w["start"], False),
                (w["planned"], False),
                (w["actual"], False),
                (w["late"], True),
                (w["late_wd"], True),
                (w["escalations"], True),
            ],
            stage_rows,
        )
    )
    sec.append(
        f"<h2 id=escalations>{_e(w['escalations'])}</h2>"
        + (
            _table(
                w["escalations"],
                [
                    (w["date"], False),
                    (w["deadline"], False),
                    (w["step"], False),
                    (w["notify"], False),
                    (w["message"], False),
                ],
                [
                    [_d(e.at, r), _e(e.label), _e(e.step), _e(", ".join(e.notify)), _e(e.message)]
                    for e in r.escalations
                ],
            )
            if r.escalations
            else f"<p>{_e(w['none'])}</p>"
        )
    )
    sec.append(
        f"<h2 id=meetings>{_e(w['meetings'])}</h2>"
        + (
            _table(
                w["meetings"],
                [(w["date"], False), (w["missing"], False), (w["message"], False)],
                [[_d(i.at, r), _e(", ".join(i.missing)), _e(i.message)] for i in r.meetings],
            )
            if r.meetings
            else f"<p>{_e(w['none'])}</p>"
        )
    )
    if r.refusals is None:
        refused = f"<p>{_e(w['refusals_unknown'])}</p>"
    elif not r.refusals:
        refused = f"<p>{_e(w['none'])}</p>"
    else:
        refused = _table(
            w["refusals"],
            [(w["date"], False), (w["actor"], False), (w["action"], False), (w["reasons"], False)],
            [
                [
                    _d(ref.at, r),
                    _e(ref.actor.name or ref.actor.id) if ref.actor else "—",
                    _e(ref.command),
                    "<br>".join(
                        f"<code>{_e(x.code)}</code> {_e(x.message(r.lang))}" for x in ref.reasons
                    ),
                ]
                for ref in r.refusals
            ],
        )
    sec.append(f"<h2 id=refusals>{_e(w['refusals'])}</h2>{refused}")
    delib = "".join(f"<p>{_d(i.at, r)}: {_e(i.message)}</p>" for i in r.shortfalls)
    delib += f"<p>{_e(_deliberation_line(r, w)[2:])}</p>" if r.deliberation else ""
    deferred = (
        _table(
            w["deferred"],
            [(w["code"], False), (w["description"], False), (w["cost"], True)],
            [[_e(b.code), _e(b.description), _rp(b.cost)] for b in r.deferred],
        )
        if r.deferred
        else ""
    )
    sec.append(
        f"<h2 id=deliberation>{_e(w['deliberation'])}</h2>"
        + (delib + deferred or f"<p>{_e(w['none'])}</p>")
    )
    for key, issues in (("warnings", r.warnings), ("notes", r.notes)):
        sec.append(
            f"<h2 id={key}>{_e(w[key])}</h2>"
            + (
                _table(
                    w[key],
                    [
                        (w["date"], False),
                        (w["event"], False),
                        (w["code"], False),
                        (w["message"], False),
                    ],
                    [
                        [_d(i.at, r), _e(i.event), f"<code>{_e(i.code)}</code>", _e(i.message)]
                        for i in issues
                    ],
                )
                if issues
                else f"<p>{_e(w['none'])}</p>"
            )
        )
    sec.append(
        f"<h2 id=funding>{_e(w['funding'])}</h2>"
        + (
            _table(
                w["funding"],
                [(w["source"], False), (w["planned"].split(" ")[0], True), (w["received"], True)],
                [
                    [
                        _e(f.source),
                        _rp(f.planned),
                        _e(w["in_kind"]) if f.in_kind else _rp(f.received),
                    ]
                    for f in r.funding
                ],
            )
            if r.funding
            else f"<p>{_e(w['none'])}</p>"
        )
    )
    css = _CSS.format(**PALETTE)
    return (
        f'<!DOCTYPE html>\n<html lang="{r.lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(w['report'])} — {_e(r.instance)}</title>\n<style>{css}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{_e(w['report'])}: {_e(r.title)}</h1>\n"
        f"<p class=meta>{_e(w['instance'])}: <strong>{_e(r.instance)}</strong> · "
        f"{_e(w['definition'])}: {_e(r.definition)} · {_e(w['state'])}: {_e(r.state_label)} · "
        f"{_e(w['started'])}: {_d(r.started, r)} · {_e(w['as_of'])}: {_d(r.as_of, r)} · "
        f"{_e(w['flags'])}: {_e(', '.join(r.flags) or '—')}</p>\n"
        + "\n".join(sec)
        + "\n</main>\n</body>\n</html>\n"
    )
