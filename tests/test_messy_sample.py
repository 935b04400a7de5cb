"""The bundled messy workbooks (samples/ssda903/workbooks, made by validator/messy_workbooks.py from the bundled
CSV files, their twins) give exactly the rule findings of the CSV files, with a notice for each barrier; and
``convert`` turns them into DfE CSV files that give the same findings again, listing every change it made."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from helpers import SAMPLES

import validator
from validator.convert import convert_return
from validator.messy_workbooks import messy_workbook

S903 = SAMPLES / "ssda903"
BOOKS = S903 / "workbooks"
CURRENT, PREVIOUS = BOOKS / "ssda903_2024_25.xlsx", BOOKS / "ssda903_2023_24.xlsx"
RUN = {"year": "2024_25", "la": "E09000027"}


def rule_findings(result: validator.Result) -> list[tuple[str, str | None, str | None, tuple[str, ...]]]:
    return sorted((f.code, f.table, f.child, f.fields) for f in result.findings if f.code[0].isdigit())


def messages(result: validator.Result, code: str) -> list[str]:
    return [f.message for f in result.findings if f.code == code]


@pytest.fixture(scope="module")
def from_csv() -> validator.Result:
    return validator.validate([S903 / "2024_25"], previous=[S903 / "2023_24"], **RUN)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def from_books() -> validator.Result:
    return validator.validate([CURRENT], previous=[PREVIOUS], **RUN)  # type: ignore[arg-type]


def test_the_bundled_workbooks_are_what_the_script_makes_of_their_csv_twins(tmp_path: Path) -> None:
    for year, book in (("2024_25", CURRENT), ("2023_24", PREVIOUS)):
        made = messy_workbook(S903 / year, tmp_path / book.name)
        ours, bundled = openpyxl.load_workbook(made), openpyxl.load_workbook(book)
        assert ours.sheetnames == bundled.sheetnames
        for name in ours.sheetnames:
            assert [list(r) for r in ours[name].values] == [list(r) for r in bundled[name].values], (book, name)


def test_the_messy_workbooks_give_exactly_the_rule_findings_of_their_csv_twins(
    from_csv: validator.Result, from_books: validator.Result
) -> None:
    assert rule_findings(from_csv)  # the sample has injected mistakes: not a comparison of two empty lists
    assert rule_findings(from_books) == rule_findings(from_csv)
    assert from_books.rules_run == from_csv.rules_run


def test_each_barrier_of_the_messy_workbooks_gets_its_notice(from_books: validator.Result) -> None:
    layout = " ".join(messages(from_books, "SHEET-LAYOUT"))
    assert "[episodes]: the header row is row 3; above it, row(s) 1 hold a title" in layout
    assert "[episodes]: row(s)" in layout and "below the data are notes or totals" in layout
    hidden = " ".join(messages(from_books, "SHEET-HIDDEN"))
    assert "[episodes]: row(s) 5 are hidden or filtered out; they were read" in hidden
    assert "[episodes]: column(s) N (Notes) are hidden" in hidden
    assert "[episodes]: merged cells N4:N5" in " ".join(messages(from_books, "SHEET-MERGED"))
    no_data = " ".join(messages(from_books, "CELL-NO-DATA"))
    assert "'-'" in no_data and "'N/A'" in no_data and "blank-looking" in no_data
    assert "stored as plain numbers" in " ".join(messages(from_books, "CELL-TYPE"))  # serial dates
    assert not messages(from_books, "FILE-SKIPPED") and not messages(from_books, "DATE-INVALID")


def test_convert_round_trip_workbook_to_dfe_csv_gives_the_same_findings_and_logs_every_change(
    tmp_path: Path, from_books: validator.Result
) -> None:
    before = hashlib.sha256(CURRENT.read_bytes()).hexdigest()
    done = convert_return([CURRENT], tmp_path, year="2024_25")
    assert hashlib.sha256(CURRENT.read_bytes()).hexdigest() == before  # the workbook is never written
    current_only = validator.validate([CURRENT], **RUN)  # type: ignore[arg-type]
    again = validator.validate([tmp_path / "csv"], **RUN)  # type: ignore[arg-type]
    assert rule_findings(again) == rule_findings(current_only)
    assert again.rules_run == current_only.rules_run
    for name in (p.name for p in (S903 / "2024_25").glob("*.csv")):  # DfE's files, headers as the CSV twin's
        twin = (S903 / "2024_25" / name).read_text(encoding="utf-8").splitlines()
        assert (tmp_path / "csv" / name).read_text(encoding="utf-8").splitlines()[0] == twin[0]
    with open(tmp_path / "changes.csv", encoding="utf-8", newline="") as fh:
        changes = list(csv.DictReader(fh))
    assert len(changes) == len(done.changes)
    kinds = Counter(c["change"] for c in changes)
    no_data = sum(n for f in current_only.findings if f.code == "CELL-NO-DATA" for n in _counts(f.message))
    assert kinds["'no data' token: read as blank"] + kinds["blank-looking cell (spaces only): read as blank"] == no_data
    sheets = len(openpyxl.load_workbook(CURRENT, read_only=True).sheetnames)
    assert kinds["title or notes row above the header row: not read"] == sheets
    assert kinds["notes or totals row below the data: not read"] == sheets
    assert kinds["hidden column: read like every other column"] == sheets
    assert kinds["column not in DfE's layout of the table: not written"] == sheets  # Notes
    assert kinds["date stored as a plain number: read as an Excel date"] > 0
    assert kinds["hidden or filtered-out row: read like every other row"] > 0
    token = next(c for c in changes if c["change"] == "'no data' token: read as blank")
    assert (
        token["sheet"] and token["cell"] and token["column"] and token["old_value"] in ("'-", "N/A")
    )  # csv_text: a leading - gets a '


def _counts(message: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r" x(\d+)", message)]
