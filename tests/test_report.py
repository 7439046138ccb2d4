"""The compliance report: SC-1's facts (92 days late, the missing element, the
shortfall deliberation, deferred lines, warnings, refusals, funding), its text, JSON and
self-contained HTML forms, accessibility basics, a real headless-browser rendering, and
the ``report`` / ``simulate --report`` commands."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import paketflow
from paketflow._cli import main as cli
from paketflow._report._main import render, scenario_report
from paketflow._report._model import Report, build_report
from paketflow._report._render import PALETTE
from paketflow._runtime.simulate import ScenarioResult, load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent
TUNGGAL = ROOT / "processes" / "paket-tahap-tunggal.json"
PAKET = ROOT / "processes" / "paket.json"
SC1 = ROOT / "processes" / "scenarios" / "sc-1-saigon-2012.json"
SC2 = ROOT / "processes" / "scenarios" / "sc-2-mekar-sari-2013.json"


def _run(def_path: Path, scenario: Path) -> tuple[Any, ScenarioResult, paketflow.Engine]:
    definition = paketflow.load_definition(def_path)
    engine = paketflow.Engine([definition])
    result = run_scenario(definition, load_scenario(scenario), engine=engine)
    return definition, result, engine


@pytest.fixture(scope="module")
def sc1() -> tuple[Any, ScenarioResult, paketflow.Engine]:
    return _run(TUNGGAL, SC1)


def _report(sc: tuple[Any, ScenarioResult, paketflow.Engine], lang: str = "en") -> Report:
    definition, result, engine = sc
    assert result.instance is not None
    return scenario_report(definition, result, engine.history(result.instance.id), lang)


def test_sc1_disbursement_stage_is_92_days_late(sc1: Any) -> None:
    """The tranche due 2012-06-04 and received 2012-09-04 is 92 calendar days and 64
    Indonesian working days late, after three escalation tiers."""
    report = _report(sc1)
    (stage,) = [s for s in report.stages if s.deadline == "TM-DISB"]
    assert stage.planned.date().isoformat() == "2012-06-04"
    assert stage.actual is not None and stage.actual.date().isoformat() == "2012-09-04"
    assert (stage.days_late, stage.working_days_late, stage.escalations) == (92, 64, 3)
    assert stage.state == "MENUNGGU_PENCAIRAN"


def test_sc1_proposal_stage_spans_its_scope(sc1: Any) -> None:
    """The proposal deadline (scope: preparation and waiting for elements) ends when
    the proposal is submitted, 14 days after 2012-04-04."""
    report = _report(sc1)
    (stage,) = [s for s in report.stages if s.deadline == "TM-PROP"]
    assert stage.actual is not None and stage.actual.date().isoformat() == "2012-04-18"
    assert stage.days_late == 14


def test_sc1_open_stage_and_on_time_stages(sc1: Any) -> None:
    """A stage still armed at the end is open and not late before its due date;
    stages met before their due date have no delay."""
    report = _report(sc1)
    evaluation = next(s for s in report.stages if s.deadline == "TM-EVAL")
    assert evaluation.open and evaluation.days_late == 0
    verification = next(s for s in report.stages if s.deadline == "TM-VERIF")
    assert not verification.open and verification.days_late == 0


def test_sc1_incomplete_meetings_name_the_missing_element(sc1: Any) -> None:
    """Both incomplete PAKEM meetings are listed with the absent care-group element."""
    report = _report(sc1, "id")
    assert [m.at.date().isoformat() for m in report.meetings] == ["2012-03-19", "2012-03-26"]
    assert all(m.missing == ("kelompok peduli",) for m in report.meetings)


def test_sc1_escalations_name_whom_they_notify(sc1: Any) -> None:
    """Escalations fired by the clock are listed with the notified roles' labels."""
    report = _report(sc1)
    steps = [(e.deadline, e.step) for e in report.escalations]
    assert ("TM-DISB", "h30") in steps and ("TM-PROP", "terlambat") in steps
    h30 = next(e for e in report.escalations if e.step == "h30")
    assert h30.notify == ("Mayor", "Regional poverty-reduction coordination team")


def test_sc1_refusals_warnings_deferred_lines_and_funding(sc1: Any) -> None:
    """Refusals carry their reasons; warnings include trained officers and the
    technical agency; line C is deferred by the deliberation; the APBD share was
    planned but not received."""
    report = _report(sc1)
    assert report.refusals is not None
    codes = {r.code for ref in report.refusals for r in ref.reasons}
    assert {"ERR_BUKAN_PRIORITAS", "ERR_PERUNTUKAN_BELUM_DIPAHAMI"} <= codes
    warnings = {w.code for w in report.warnings}
    assert {"WARN_PETUGAS_TERLATIH", "WARN_DINAS_BELUM_TERLIBAT"} <= warnings
    assert [(b.code, b.cost) for b in report.deferred] == [("C", 10_000_000)]
    assert report.deliberation is not None and report.deliberation["total_prioritas"] == 110_000_000
    (shortfall,) = report.shortfalls  # detected on receipt, before the deliberation
    assert shortfall.at.date().isoformat() == "2012-09-04"
    assert "Rp110.000.000 < required Rp130.000.000" in shortfall.message
    funding = {f.source: (f.planned, f.received) for f in report.funding}
    assert funding["PAKET_APBN"] == (100_000_000, 100_000_000)
    assert funding["APBD_KOTA"] == (20_000_000, 0)
    assert funding["SWADAYA"] == (5_000_000, None)


def test_happy_path_is_late_only_where_the_definition_says_so() -> None:
    """SC-2 (on time) has no incomplete meeting and every stage up to the handover on
    time. The evaluation deadline (30 days, scope EVALUASI) ends only when the audit
    is recorded months later, so the report shows that stage late: the engine's own
    rule (a deadline is met on leaving its scope), reported as it is."""
    report = _report(_run(ROOT / "processes" / "paket.json", SC2))
    assert report.stages and not report.meetings
    assert [s.deadline for s in report.late_stages] == ["TM-EVAL"]
    (evaluation,) = report.late_stages
    assert evaluation.actual is not None and evaluation.actual.date().isoformat() == "2014-03-17"


def test_report_from_history_alone_says_refusals_are_unknown(sc1: Any) -> None:
    """Without the runner's refusals the report says they are unknown (None)."""
    definition, result, engine = sc1
    report = build_report(definition, engine.history(result.instance.id))
    assert report.refusals is None
    assert "Unknown: refused actions" in render(report, "text")


def test_report_checks_the_definition_hash(sc1: Any) -> None:
    """A history reported against another definition is refused, naming both."""
    _, result, engine = sc1
    other = paketflow.load_definition(PAKET)
    with pytest.raises(paketflow.PaketflowError, match=r"not paket@1\.0\.0 \(sha256:"):
        build_report(other, engine.history(result.instance.id))


def test_text_report_in_both_languages(sc1: Any) -> None:
    """The text report is fully in the chosen language."""
    en = render(_report(sc1, "en"), "text")
    id_ = render(_report(sc1, "id"), "text")
    assert "Due date of the current tranche" in en and "92 days (64 working days)" in en
    assert "Jadwal pencairan tahap berjalan" in id_ and "92 hari (64 hari kerja)" in id_
    assert "Proposal" not in id_.replace("Proposal deadline", "")


def test_json_report_is_plain_json(sc1: Any) -> None:
    """The JSON report parses and carries the stage facts as plain values."""
    doc = json.loads(render(_report(sc1), "json"))
    disb = next(s for s in doc["stages"] if s["deadline"] == "TM-DISB")
    assert disb["days_late"] == 92 and disb["planned"].startswith("2012-06-04")
    assert doc["format"] == 1 and doc["refusals"][0]["reasons"][0]["code"]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.th_in_thead = 0
        self.tables = 0
        self.theads = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables += 1
        if tag == "thead":
            self.theads += 1
        if tag == "th" and "thead" in self.stack:
            self.th_in_thead += 1
        if tag not in ("br", "meta", "rect", "line"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass


def _html(sc1: Any, lang: str = "en") -> str:
    return render(_report(sc1, lang), "html")


def test_html_is_self_contained(sc1: Any) -> None:
    """One file: no script, no stylesheet link, no external resource (the only URL is
    the SVG namespace)."""
    page = _html(sc1)
    assert "<script" not in page and "<link" not in page and " src=" not in page
    assert "url(" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}


def test_html_accessibility_basics(sc1: Any) -> None:
    """The page declares its language, has one h1 and a heading per section, every
    table has a header row of column headers, and the chart is an image with a title
    and a description."""
    page = _html(sc1, "id")
    parser = _Page()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert ("html", {"lang": "id"}) in parser.tags
    assert tags.count("h1") == 1 and tags.count("h2") >= 9
    assert parser.tables and parser.tables == parser.theads
    assert all(a.get("scope") == "col" for t, a in parser.tags if t == "th")
    svg = next(a for t, a in parser.tags if t == "svg")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "chart-title chart-desc"
    assert '<title id="chart-title">' in page and '<desc id="chart-desc">' in page


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_meets_wcag_aa() -> None:
    """Text colours reach 4.5:1 against the page and header backgrounds; chart bars
    reach 3:1 against the page (WCAG 2.1 AA for text and graphics)."""
    for fg in ("text", "muted", "late", "actual"):
        for bg in ("bg", "head_bg"):
            assert _contrast(PALETTE[fg], PALETTE[bg]) >= 4.5, (fg, bg)
    for bar in ("actual", "late", "planned_stroke"):
        assert _contrast(PALETTE[bar], PALETTE["bg"]) >= 3.0, bar
    assert _contrast("#777777", "#ffffff") < 4.5  # the check can fail


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into rows of pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, kind = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if tag == b"IHDR":
            width, height, depth, kind = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and kind in (2, 6)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 4 if kind == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line[j] for k in range(0, stride, bpp) for j in range(k, k + 3)))
        prev = line
    return width, height, rows


def test_html_renders_in_headless_chromium(sc1: Any, tmp_path: Path) -> None:
    """Chromium (Debian's package, installed by .ci/run) renders SC-1's report: the DOM
    it builds holds the chart and the 92-day delay, and its screenshot shows the delay
    bar in the report's red."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is required: apt-get install chromium"
    page = tmp_path / "sc1.html"
    page.write_text(_html(sc1), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "<svg" in dom and "+92 days" in dom and "Timeline: planned and actual" in dom
    shot = tmp_path / "sc1.png"
    subprocess.run(
        [chromium, *flags, "--window-size=1280,1400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 1400)
    late = bytes(int(PALETTE["late"][i : i + 2], 16) for i in (1, 3, 5))
    red_rows = [y for y, row in enumerate(rows) if late in _pixels(row)]
    assert len(red_rows) >= 10, "the delay bars are not in the screenshot"


def _pixels(row: bytes) -> set[bytes]:
    return {row[i : i + 3] for i in range(0, len(row), 3)}


def test_simulate_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``simulate … --report FILE`` writes the report in the format the suffix names
    and the language of ``--lang``; the timeline still goes to stdout."""
    out = tmp_path / "sc1.html"
    code = cli(["simulate", str(TUNGGAL), str(SC1), "--lang", "id", "--report", str(out)])
    assert code == 0
    assert "SC-1" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert '<html lang="id">' in page and "+92 hari" in page
    js = tmp_path / "sc1.json"
    assert cli(["simulate", str(TUNGGAL), str(SC1), "--report", str(js)]) == 0
    assert json.loads(js.read_text(encoding="utf-8"))["instance"] == "saigon-2012"


def test_report_command_reads_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``paketflow report INSTANCE --store URL --definition DEF`` reports an instance
    kept in an SQLite store; an unknown instance exits 2 naming it."""
    url = f"sqlite:///{tmp_path / 'paket.db'}"
    definition = paketflow.load_definition(TUNGGAL)
    engine = paketflow.Engine([definition], store=paketflow.open_store(url))
    result = run_scenario(definition, load_scenario(SC1), engine=engine)
    assert result.ok
    args = ["report", "saigon-2012", "--store", url, "--definition", str(TUNGGAL)]
    assert cli([*args, "--format", "text"]) == 0
    assert "92 days (64 working days)" in capsys.readouterr().out
    html_out = tmp_path / "r.html"
    assert cli([*args, "--format", "html", "--lang", "id", "--output", str(html_out)]) == 0
    assert "+92 hari" in html_out.read_text(encoding="utf-8")
    assert cli(["report", "nope", "--store", url, "--definition", str(TUNGGAL)]) == 2
    assert "'nope'" in capsys.readouterr().err


def test_report_command_finds_the_definition_in_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``--definition``, ``paketflow report`` uses the resolved document the
    store kept when the engine ran on it (``paketflow simulate --store``); a file whose
    hash differs from the instance's is refused naming both hashes."""
    url = f"sqlite:///{tmp_path / 'paket.db'}"
    assert cli(["simulate", str(TUNGGAL), str(SC1), "--store", url]) == 0
    capsys.readouterr()
    assert cli(["report", "saigon-2012", "--store", url]) == 0
    assert "92 days (64 working days)" in capsys.readouterr().out
    other = paketflow.load_definition(PAKET)
    pinned = paketflow.load_definition(TUNGGAL).hash
    code = cli(["report", "saigon-2012", "--store", url, "--definition", str(PAKET)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"--definition: {PAKET} has hash {other.hash}, but instance 'saigon-2012' runs on "
        f"{pinned}; pass the definition file it was started with, or leave --definition "
        "out to use the store's copy\n"
    )


def test_report_command_without_a_kept_definition_asks_for_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store that kept no copy of the instance's definition (written by a paketflow
    before schema 2) is reported with ``--definition`` and otherwise exits 2 saying so."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    definition = paketflow.load_definition(TUNGGAL)
    engine = paketflow.Engine([definition], store=paketflow.open_store(url))
    assert run_scenario(definition, load_scenario(SC1), engine=engine).ok
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("DELETE FROM definitions")
    assert cli(["report", "saigon-2012", "--store", url]) == 2
    assert capsys.readouterr().err == (
        f"--store: {url} keeps no copy of definition {definition.hash} that instance "
        "'saigon-2012' runs on (written before paketflow kept definitions, schema 1); "
        "pass --definition FILE\n"
    )
    assert cli(["report", "saigon-2012", "--store", url, "--definition", str(TUNGGAL)]) == 0
