"""The broken and hostile input corpus (tests/corpus/cases.yaml) through the real command line.

Each case gives its expected exit status and findings; every case also proves that nothing else broke: no
traceback, no rule crashed, the inputs unchanged, no formula handed to a spreadsheet.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import CORPUS, ROOT

from validator.cli import main
from validator.findings import INGEST_CODES
from validator.outputs.csv_out import FORMULA_START

MANIFEST = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = MANIFEST["cases"]
# Reading findings the manifest must list; the two notices about what was inferred come with most runs.
READING_CODES = set(INGEST_CODES) - {"RETURN-INFERRED", "YEAR-INFERRED"}


# --------------------------------------------------------------------------- cases generated at run time


def _cin_base() -> str:
    return (CORPUS / "cin" / "base.xml").read_text(encoding="utf-8")


def _ten_mb_cell(tmp: Path) -> list[Path]:
    header = (CORPUS / "ssda903" / "base_header.csv").read_text(encoding="utf-8")
    path = tmp / "header_10mb_cell.csv"
    path.write_text(header.replace("BCRB", "X" * (10 * 1024 * 1024), 1), encoding="utf-8")
    return [path, CORPUS / "ssda903" / "base_episodes.csv"]


def _field_over_limit(tmp: Path) -> list[Path]:
    header = (CORPUS / "ssda903" / "base_header.csv").read_text(encoding="utf-8")
    path = tmp / "header_huge_quoted_cell.csv"
    path.write_text(header.replace("BCRB", '"' + "Y" * (17 * 1024 * 1024) + '"', 1), encoding="utf-8")
    return [path, CORPUS / "ssda903" / "base_episodes.csv"]


def _ten_mb_xml_text(tmp: Path) -> list[Path]:
    path = tmp / "cin_10mb_text.xml"
    path.write_text(_cin_base().replace("WBRI", "W" * (10 * 1024 * 1024), 1), encoding="utf-8")
    return [path]


def _laughs_after_prologue(tmp: Path) -> list[Path]:
    """A billion-laughs DOCTYPE placed after 100 KB of comment, beyond the prologue the first check scans."""
    base = _cin_base()
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
    )
    doc = (
        "<?xml version='1.0'?>\n<!--" + "x" * 100_000 + "-->\n<!DOCTYPE Message [" + entities + "]>\n"
        + base.split("?>", 1)[1].replace("WBRI", "&j;", 1)
    )  # fmt: skip
    path = tmp / "laughs_late.xml"
    path.write_text(doc, encoding="utf-8")
    return [path]


def _xxe_after_prologue(tmp: Path) -> list[Path]:
    base = (CORPUS / "ssda903" / "base.xml").read_text(encoding="utf-8")
    doc = (
        "<?xml version='1.0'?>\n<!--" + "x" * 100_000 + '-->\n<!DOCTYPE EXPSSDA903 [<!ENTITY x SYSTEM '
        '"file:///etc/passwd">]>\n' + base.split("?>", 1)[1].replace("BCRB", "&x;", 1)
    )  # fmt: skip
    path = tmp / "xxe_late.xml"
    path.write_text(doc, encoding="utf-8")
    return [path]


def _very_deep(tmp: Path) -> list[Path]:
    path = tmp / "deep.xml"
    path.write_text("<?xml version='1.0'?><Message>" + "<a>" * 100_000 + "</a>" * 100_000 + "</Message>")
    return [path]


def _million_rows(tmp: Path) -> list[Path]:
    """A reviews table of 1,000,000 rows (100,000 children, ten reviews each), two of them broken near the end."""
    rows = [
        f"{n // 10:07d},01/0{1 + n % 9}/2015,{1 + n % 28:02d}/0{1 + n % 9}/2024,PN{1 + n % 7}\n" for n in range(10**6)
    ]
    rows[999_990] = "0099999,01/01/2015,31/02/2024,PN1\n"  # an impossible date
    rows[999_995] = "0099999,01/01/2015,01/05/2024,PN9\n"  # an unknown participation code
    path = tmp / "reviews_million.csv"
    path.write_text("CHILD,DOB,REVIEW,REVIEW_CODE\n" + "".join(rows), encoding="utf-8")
    return [path]


GENERATORS: dict[str, Callable[[Path], list[Path]]] = {
    "million_rows": _million_rows,
    "ten_mb_cell": _ten_mb_cell,
    "field_over_limit": _field_over_limit,
    "ten_mb_xml_text": _ten_mb_xml_text,
    "laughs_after_prologue": _laughs_after_prologue,
    "xxe_after_prologue": _xxe_after_prologue,
    "very_deep": _very_deep,
}


# --------------------------------------------------------------------------- running a case


def _inputs(case: dict[str, Any], tmp: Path) -> list[Path]:
    if "generate" in case:
        return GENERATORS[case["generate"]](tmp)
    return [CORPUS / name for name in case["files"]]


def _args(case: dict[str, Any], inputs: list[Path], out: Path) -> list[str]:
    kind = case.get("return", case["id"].split("/")[0])
    args = ["validate", *map(str, inputs), "--return", kind, "--year", case.get("year", MANIFEST["defaults"]["year"])]
    rules = case.get("rules", MANIFEST["defaults"]["rules"][kind])
    if rules != "all":
        args += ["--rules", rules]
    formats = ["json", "csv", *case.get("formats", [])]
    extra = [a.replace("{corpus}", str(CORPUS)) for a in case.get("args", [])]
    return [*args, *extra, "--format", ",".join(formats), "--output-dir", str(out)]


def _report_bytes(path: Path) -> bytes:
    """A report's bytes; a workbook's are the XML of its parts."""
    if path.suffix != ".xlsx":
        return path.read_bytes()
    with zipfile.ZipFile(path) as book:
        return b"".join(book.read(n) for n in book.namelist())


def _digest(paths: list[Path]) -> dict[Path, tuple[str, float]]:
    return {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime) for p in paths}


def is_formula(cell: str) -> bool:
    """Whether a spreadsheet would run the cell as a formula (a number such as -5 is not one)."""
    if not cell.startswith(FORMULA_START):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_case(case: dict[str, Any], tmp_path: Path, capsys) -> None:
    inputs = _inputs(case, tmp_path)
    before = _digest(inputs)
    out = tmp_path / "reports"
    status = main(_args(case, inputs, out))
    _, err = capsys.readouterr()
    assert "Traceback" not in err and "unexpected problem" not in err, err
    assert status == case["exit"], err
    assert _digest(inputs) == before, "an input file was changed"
    if "stderr" in case:
        assert case["stderr"] in " ".join(err.split()), err
    reports = {p.suffix: p for p in out.glob("*")} if out.exists() else {}
    for text in case.get("absent", []):
        for path in reports.values():
            assert text.encode("utf-8") not in _report_bytes(path), (text, path.name)
    if not case["expect"] and not reports:
        return
    report = json.loads(reports[".json"].read_text(encoding="utf-8"))
    assert report["rules"]["crashed"] == []
    findings = report["findings"]
    for want in case["expect"]:
        assert any(f["code"] == want["code"] and want["text"] in f["message"] for f in findings), (
            want,
            [(f["code"], f["message"]) for f in findings],
        )
    reading = {f["code"] for f in findings if f["code"] in READING_CODES}
    assert reading == {w["code"] for w in case["expect"] if w["code"] in READING_CODES}
    cells = [c for row in csv.reader(io.StringIO(reports[".csv"].read_text(encoding="utf-8"))) for c in row]
    assert not [c for c in cells if is_formula(c)]
    if ".xlsx" in reports:
        with zipfile.ZipFile(reports[".xlsx"]) as book:
            sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in s or "<f " in s for s in sheets)
        assert not any(">=" in s.replace("&gt;=", "") for s in sheets if 't="inlineStr"' in s)
    if ".html" in reports:
        html = reports[".html"].read_text(encoding="utf-8")
        assert "<script>alert(1)" not in html


def test_the_corpus_is_big_enough_and_every_file_has_a_case() -> None:
    assert len(CASES) >= 100
    used = {name for case in CASES for name in case.get("files", [])}
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*") if p.is_file()}
    assert on_disk - used == set()
    assert used - on_disk == set()
    assert all(p.stat().st_size < 64 * 1024 for p in CORPUS.glob("*/*"))


SUBPROCESS_CASES = ["cin/billion_laughs", "ssda903/binary_junk", "ssda903/dob_year_9999", "cin/truncated_mid_child"]


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_corpus_case_in_a_real_process_has_no_traceback(case_id: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c["id"] == case_id)
    inputs = _inputs(case, tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "validator", *_args(case, inputs, tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == case["exit"], proc.stderr
    assert "Traceback" not in proc.stderr and "unexpected problem" not in proc.stderr
