""".xls and .ods workbooks, read through python-calamine as .xlsx ones are (docs/excel.md): the same rule findings as
the CSV files of the same data, and the notices calamine lets the reader give."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from helpers import ROOT, SAMPLES

import validator
from validator.convert import convert_return
from validator.ingest.xlsx_reader import workbook_format

TABLES = ("header", "episodes", "uasc")
XLS = ROOT / "tests" / "workbooks" / "ssda903_2024_25.xls"  # made by scripts/make_xls_workbook.py
DATES = {"DOB", "MC_DOB", "DECOM", "DEC", "DUC"}
RUN = {"year": "2024_25", "la": "E09000027"}


def rule_findings(result: validator.Result) -> list[tuple[str, str | None, str | None, tuple[str, ...]]]:
    return sorted((f.code, f.table, f.child, f.fields) for f in result.findings if f.code[0].isdigit())


def messages(result: validator.Result, code: str) -> str:
    return " ".join(f.message for f in result.findings if f.code == code)


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CSV files the .xls and .ods workbooks hold."""
    folder = tmp_path_factory.mktemp("twin")
    for name in TABLES:
        shutil.copy(SAMPLES / "ssda903" / "2024_25" / f"{name}.csv", folder)
    return folder


def _ods_cell(value: str, column: str) -> str:
    if not value.strip():
        return "<table:table-cell office:value-type='string'><text:p>N/A</text:p></table:table-cell>"
    if column in DATES:
        try:
            day = dt.datetime.strptime(value, "%d/%m/%Y").date().isoformat()
            return f"<table:table-cell office:value-type='date' office:date-value='{day}'/>"
        except ValueError:
            pass
    if column == "MOTHER" and value.isdigit():
        return f"<table:table-cell office:value-type='float' office:value='{value}'/>"
    return f"<table:table-cell office:value-type='string'><text:p>{escape(value)}</text:p></table:table-cell>"


def write_ods(folder: Path, target: Path) -> Path:
    """The CSV files as an OpenDocument spreadsheet, written as its XML (no writer needed): one sheet per table
    with a title row, dates as dates, MOTHER as numbers, blanks as "N/A", a hidden row, a hidden Notes column with
    a merged formula cell, and a totals row."""
    sheets = []
    for name in TABLES:
        with open(folder / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
            header, *body = list(csv.reader(fh))
        rows = [f"<table:table-row><table:table-cell office:value-type='string'><text:p>{name}: synthetic data"
                "</text:p></table:table-cell></table:table-row>"]  # fmt: skip
        cells = "".join(f"<table:table-cell office:value-type='string'><text:p>{h}</text:p></table:table-cell>"
                        for h in [*header, "Notes"])  # fmt: skip
        rows.append(f"<table:table-row>{cells}</table:table-row>")
        notes = [  # a formula in a merged cell of the hidden Notes column, which DfE does not take
            "<table:table-cell table:number-rows-spanned='2' table:formula='of:=1+1' office:value-type='float' "
            "office:value='2'/>",
            "<table:covered-table-cell/>",
        ]
        for n, row in enumerate(body):
            hidden = " table:visibility='collapse'" if n == 1 else ""
            cells = "".join(_ods_cell(v, header[i]) for i, v in enumerate(row)) + (notes[n] if n < 2 else "")
            rows.append(f"<table:table-row{hidden}>{cells}</table:table-row>")
        rows.append("<table:table-row><table:table-cell office:value-type='string'><text:p>Total</text:p>"
                    f"</table:table-cell><table:table-cell office:value-type='float' office:value='{len(body)}'/>"
                    "</table:table-row>")  # fmt: skip
        columns = f"<table:table-column table:number-columns-repeated='{len(header)}'/>" + (
            "<table:table-column table:visibility='collapse'/>"
        )
        sheets.append(f"<table:table table:name={quoteattr(name)}>{columns}{''.join(rows)}</table:table>")
    content = (
        "<?xml version='1.0' encoding='UTF-8'?><office:document-content "
        "xmlns:office='urn:oasis:names:tc:opendocument:xmlns:office:1.0' "
        "xmlns:table='urn:oasis:names:tc:opendocument:xmlns:table:1.0' "
        "xmlns:text='urn:oasis:names:tc:opendocument:xmlns:text:1.0' office:version='1.2'>"
        f"<office:body><office:spreadsheet>{''.join(sheets)}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        "<?xml version='1.0' encoding='UTF-8'?><manifest:manifest "
        "xmlns:manifest='urn:oasis:names:tc:opendocument:xmlns:manifest:1.0' manifest:version='1.2'>"
        "<manifest:file-entry manifest:full-path='/' "
        "manifest:media-type='application/vnd.oasis.opendocument.spreadsheet'/>"
        "<manifest:file-entry manifest:full-path='content.xml' manifest:media-type='text/xml'/>"
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return target


@pytest.fixture(scope="module")
def ods(twin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ods(twin, tmp_path_factory.mktemp("ods") / "ssda903_2024_25.ods")


def test_workbooks_are_told_by_their_content() -> None:
    assert workbook_format(XLS) == "xls"
    assert workbook_format(SAMPLES / "ssda903" / "workbooks" / "ssda903_2024_25.xlsx") == "xlsx"
    assert workbook_format(SAMPLES / "ssda903" / "2024_25" / "header.csv") is None


def test_an_ods_workbook_gives_the_rule_findings_of_its_csv_files(twin: Path, ods: Path) -> None:
    assert workbook_format(ods) == "ods"
    from_csv = validator.validate([twin], **RUN)  # type: ignore[arg-type]
    from_ods = validator.validate([ods], **RUN)  # type: ignore[arg-type]
    assert rule_findings(from_csv)
    assert rule_findings(from_ods) == rule_findings(from_csv)
    assert from_ods.rules_run == from_csv.rules_run
    assert "[episodes]: the header row is row 2; above it, row(s) 1 hold a title" in messages(from_ods, "SHEET-LAYOUT")
    assert "below the data are notes or totals" in messages(from_ods, "SHEET-LAYOUT")
    assert "'N/A'" in messages(from_ods, "CELL-NO-DATA")
    hidden = messages(from_ods, "SHEET-HIDDEN")  # read from content.xml: calamine does not give them
    assert "[episodes]: row(s) 4 are hidden or filtered out; they were read" in hidden
    assert "[episodes]: column(s) N (Notes) are hidden" in hidden
    assert "[episodes]: merged cells N3:N4" in messages(from_ods, "SHEET-MERGED")
    assert "column N (Notes), rows 3, hold formulas" in messages(from_ods, "CELL-FORMULA")
    assert [i.tables for i in from_ods.inputs] == [["Header", "Episodes", "UASC"]]


def test_an_xls_workbook_gives_the_rule_findings_of_its_csv_files(twin: Path) -> None:
    from_csv = validator.validate([twin], **RUN)  # type: ignore[arg-type]
    from_xls = validator.validate([XLS], **RUN)  # type: ignore[arg-type]
    assert rule_findings(from_xls) == rule_findings(from_csv)
    assert from_xls.rules_run == from_csv.rules_run
    assert "[header]: the header row is row 3" in messages(from_xls, "SHEET-LAYOUT")
    assert "[header]: merged cells H4:H5" in messages(from_xls, "SHEET-MERGED")
    assert "'N/A'" in messages(from_xls, "CELL-NO-DATA") and "'-'" in messages(from_xls, "CELL-NO-DATA")
    assert "workings" in messages(from_xls, "SHEET-NOT-TABLE")
    assert not [f for f in from_xls.findings if f.code == "FILE-SKIPPED"]


def test_an_xls_workbook_converts_to_dfe_files_with_the_same_findings(tmp_path: Path, twin: Path) -> None:
    done = convert_return([XLS], tmp_path, year="2024_25")
    again = validator.validate([tmp_path / "csv"], **RUN)  # type: ignore[arg-type]
    assert rule_findings(again) == rule_findings(validator.validate([twin], **RUN))  # type: ignore[arg-type]
    assert any(c.why == "'no data' token: read as blank" and c.sheet == "header" for c in done.changes)


def test_a_damaged_xls_or_ods_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xls"
    broken.write_bytes(XLS.read_bytes()[:2000])
    result = validator.validate([broken, SAMPLES / "ssda903" / "2024_25"], **RUN)  # type: ignore[arg-type]
    assert "broken.xls" in messages(result, "FILE-UNREADABLE")


def test_an_xls_workbook_says_once_that_hidden_rows_and_formulas_cannot_be_seen(tmp_path: Path, twin: Path) -> None:
    # calamine gives no hidden rows, hidden columns or formulas for .xls: read as data, and said so once
    from_xls = validator.validate([XLS], **RUN)  # type: ignore[arg-type]
    (unseen,) = [f for f in from_xls.findings if f.code == "SHEET-UNSEEN"]
    assert unseen.severity == "notice" and unseen.file == str(XLS)
    assert "hidden or filtered-out rows and hidden columns were read like every other row" in unseen.message
    assert "formulas' last calculated values were read" in unseen.message
    done = convert_return([XLS], tmp_path, year="2024_25")
    assert [c.file for c in done.changes if "cannot be seen in an .xls" in c.why] == [str(XLS)]
    ods = write_ods(twin, tmp_path / "book.ods")  # .ods (and .xlsx) list them row by row: no such notice
    assert not [f for f in validator.validate([ods], **RUN).findings if f.code == "SHEET-UNSEEN"]  # type: ignore[arg-type]
