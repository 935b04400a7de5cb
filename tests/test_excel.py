"""Excel workbooks as input: sheets recognised by their header rows as CSV files are, the same rule findings as
the CSV files of the same data, and a notice for each thing people do to spreadsheets (docs/excel.md)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import shutil
from pathlib import Path

import openpyxl
import pytest
from helpers import SAMPLES, rule_findings
from openpyxl.utils import get_column_letter

import validator
from validator.convert import convert_xml
from validator.ingest.csv_reader import identify_table, match_columns
from validator.ingest.loader import InputError
from validator.schema import load_schema

S903 = SAMPLES / "ssda903"
HEADER = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]


def codes(result: validator.Result, code: str) -> list[str]:
    return [f.message for f in result.findings if f.code == code]


def messy_workbook(folder: Path, target: Path, return_type: str = "ssda903", excel_dates: bool = True) -> Path:
    """The CSV files of ``folder`` as one workbook, one sheet per table, made messy the way people make them:
    a title row and a blank row above the header, a hidden notes column, a blank line and a totals row below the
    data, a filtered-out (hidden) row, dates as Excel dates (every other sheet) or text, whole numbers as numbers,
    and blank cells written as " ", "-", "N/A" or left empty."""
    schema = load_schema(return_type)
    book = openpyxl.Workbook()
    book.remove(book.active)
    blanks = itertools.cycle([" ", "-", "N/A", None, "\u00a0"])
    for number, path in enumerate(sorted(folder.glob("*.csv"))):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header, *body = list(csv.reader(fh))
        found = identify_table(header, [schema])
        assert found is not None, path
        kinds = {pos: found[1].columns[col].type for pos, col in match_columns(header, found[1]).items()}
        sheet = book.create_sheet(path.stem[:31])
        sheet.append([f"{found[1].name}: synthetic test data, not a real child"])
        sheet.append([])
        sheet.append([*header, "Notes"])
        for n, row in enumerate(body):
            cells: list[object] = []
            for pos, value in enumerate(row):
                kind = kinds.get(pos, "text")
                if not value.strip():
                    cells.append(next(blanks))
                elif kind == "date" and excel_dates and number % 2 == 0:
                    try:
                        cells.append(dt.datetime.strptime(value, "%d/%m/%Y"))
                    except ValueError:  # an invalid date stays the text it was
                        cells.append(value)
                elif kind == "int" and value.isdigit():
                    cells.append(int(value))
                else:
                    cells.append(value)
            sheet.append([*cells, "checked by the team" if n % 3 == 0 else None])
        sheet.column_dimensions[get_column_letter(len(header) + 1)].hidden = True
        if len(body) > 2:
            sheet.row_dimensions[5].hidden = True  # filtered out: still part of the return
        sheet.append([])
        sheet.append(["Total", len(body)])
    book.save(target)
    return target


def test_a_messy_workbook_return_gives_the_rule_findings_of_its_csv_files(tmp_path: Path) -> None:
    current = messy_workbook(S903 / "2024_25", tmp_path / "903_2024_25.xlsx")
    previous = messy_workbook(S903 / "2023_24", tmp_path / "903_2023_24.xlsx", excel_dates=False)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (current, previous)}
    from_csv = validator.validate([S903 / "2024_25"], year="2024_25", la="E09000027", previous=[S903 / "2023_24"])
    from_xlsx = validator.validate([current], year="2024_25", la="E09000027", previous=[previous])
    assert rule_findings(from_csv)  # the sample has injected errors: not a comparison of two empty lists
    assert rule_findings(from_xlsx) == rule_findings(from_csv)
    assert from_xlsx.rules_run == from_csv.rules_run
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (current, previous)} == before  # never modified
    layout = codes(from_xlsx, "SHEET-LAYOUT")
    assert any("[episodes]: the header row is row 3; above it, row(s) 1 hold a title" in m and "row(s) 2 are blank" in m
               for m in layout)  # fmt: skip
    assert any("[episodes]: row(s)" in m and "below the data are notes or totals" in m for m in layout)
    hidden = codes(from_xlsx, "SHEET-HIDDEN")
    assert any("[episodes]: row(s) 5 are hidden or filtered out; they were read" in m for m in hidden)
    assert any("[episodes]: column(s) N (Notes) are hidden" in m for m in hidden)
    no_data = " ".join(codes(from_xlsx, "CELL-NO-DATA"))
    assert "'-'" in no_data and "'N/A'" in no_data and "blank-looking" in no_data
    assert not codes(from_xlsx, "FILE-SKIPPED")


def test_a_workbook_among_csv_files_is_read_not_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "return"
    shutil.copytree(S903 / "2024_25", folder)
    only = tmp_path / "only"
    only.mkdir()
    shutil.move(folder / "episodes.csv", only / "episodes.csv")
    messy_workbook(only, folder / "episodes.xlsx")
    from_csv = validator.validate([S903 / "2024_25"], year="2024_25", la="E09000027")
    mixed = validator.validate([folder], year="2024_25", la="E09000027")
    assert rule_findings(mixed) == rule_findings(from_csv)
    assert not codes(mixed, "FILE-SKIPPED")
    assert [i.tables for i in mixed.inputs if i.kind == "xlsx"] == [["Episodes"]]


def test_a_cin_return_as_a_workbook_gives_the_findings_of_its_csv_files(tmp_path: Path) -> None:
    csv_dir = tmp_path / "csv"
    convert_xml([SAMPLES / "cin/cin_2024_25.xml"], csv_dir)
    book = messy_workbook(csv_dir, tmp_path / "cin.xlsm", "cin", excel_dates=True)  # .xlsm: read, macros never run
    from_csv = validator.validate([csv_dir], year="2024_25")
    from_xlsx = validator.validate([book], year="2024_25")
    assert rule_findings(from_csv)
    assert rule_findings(from_xlsx) == rule_findings(from_csv)
    assert from_xlsx.rules_run == from_csv.rules_run


def header_book(tmp_path: Path, rows: list[list[object]], name: str = "header.xlsx") -> tuple[Path, openpyxl.Workbook]:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Children"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    return tmp_path / name, book


def test_numbers_stored_as_text_are_read_as_numbers_with_a_notice(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "OC2"
    book.active.append(["CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
                        "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED",
                        "INTERVENTION_OFFERED"])  # fmt: skip
    book.active.append(["C1", "01/01/2015", "23", None, 0, 1, 1, 1, 1, 0, None, None])
    book.save(tmp_path / "oc2.xlsx")
    result = validator.validate([tmp_path / "oc2.xlsx"], year="2024_25", la="E09000027", rules=["101"])
    assert result.dataset.tables["OC2"].df["SDQ_SCORE"].iloc[0] == 23
    assert "column C (SDQ_SCORE) has 1 number(s) stored as text (rows 2); read as numbers" in " ".join(
        codes(result, "CELL-TYPE")
    )


def test_codes_stored_as_numbers_keep_every_digit_and_serial_dates_are_dates(tmp_path: Path) -> None:
    path, book = header_book(tmp_path, [["C1", "1", 42005, "WBRI", 123456789012, None, None]])
    book.save(path)
    result = validator.validate([path], year="2024_25", la="E09000027", rules=["101"])
    frame = result.dataset.tables["Header"].df
    assert frame["UPN"].iloc[0] == "123456789012"  # not 1.23457E+11
    assert frame["DOB"].iloc[0] == dt.datetime(2015, 1, 1)  # Excel serial 42005
    types = " ".join(codes(result, "CELL-TYPE"))
    assert "column E (UPN) has 1 code(s) stored as numbers (rows 2)" in types
    assert "column C (DOB) has 1 date(s) stored as plain numbers (rows 2)" in types


def test_error_values_are_findings_and_formulas_merges_hidden_sheets_are_noticed(tmp_path: Path) -> None:
    path, book = header_book(tmp_path, [["C1", "1", "01/01/2015", "WBRI", "#REF!", None, None],
                                        ["C2", "1", "=DATE(2015,1,2)", "WBRI", "UN1", None, None]])  # fmt: skip
    book.active.merge_cells("F2:G3")
    book.active.sheet_state = "hidden"
    book.create_sheet("Notes").append(["Read me first: synthetic data"])
    book.save(path)
    result = validator.validate([path], year="2024_25", la="E09000027", rules=["101"])
    errors = [f for f in result.findings if f.code == "CELL-ERROR"]
    assert [(f.severity, f.fields, f.line) for f in errors] == [("error", ("UPN",), 2)]
    assert "cell E2: UPN holds the error value #REF!" in errors[0].message
    assert result.dataset.tables["Header"].df["UPN"].iloc[0] is None
    assert "1 cell(s) of column C (DOB), rows 3, hold formulas" in " ".join(codes(result, "CELL-FORMULA"))
    assert "merged cells F2:G3" in " ".join(codes(result, "SHEET-MERGED"))
    assert "[Children]: the sheet is hidden; it holds the Header table and was read" in " ".join(
        codes(result, "SHEET-HIDDEN")
    )
    assert "sheet(s) Notes have no header row" in " ".join(codes(result, "SHEET-NOT-TABLE"))


def test_no_data_tokens_are_configurable(tmp_path: Path) -> None:
    path, book = header_book(tmp_path, [["C1", "1", "01/01/2015", "WBRI", "N/A", "not known", None]])
    book.save(path)
    default = validator.validate([path], year="2024_25", la="E09000027", rules=["101"])
    assert default.dataset.tables["Header"].df[["UPN", "MOTHER"]].iloc[0].tolist() == [None, None]
    assert "column E (UPN) has cells that mean 'no data', read as blank: 'N/A' x1" in " ".join(
        codes(default, "CELL-NO-DATA")
    )
    custom = validator.validate([path], year="2024_25", la="E09000027", rules=["101"], no_data=["not known"])
    assert custom.dataset.tables["Header"].df[["UPN", "MOTHER"]].iloc[0].tolist() == ["N/A", None]


def test_a_workbook_without_a_table_is_an_error_naming_its_sheets(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Summary"
    book.active.append(["Children looked after", 12])
    book.save(tmp_path / "summary.xlsx")
    with pytest.raises(InputError, match="no sheet \\(Summary\\) has a header row"):
        validator.validate([tmp_path / "summary.xlsx"], year="2024_25")


def test_the_cli_reads_a_workbook_and_takes_no_data_tokens(tmp_path: Path, capsys) -> None:
    from validator.cli import main

    path, book = header_book(tmp_path, [["C1", "1", "01/01/2015", "WBRI", "NA", None, None]])
    book.save(path)
    status = main(["validate", str(path), "--year", "2024_25", "--no-data", "NA,-", "--format", "json"])
    out = capsys.readouterr().out
    assert status in (0, 1) and "column E (UPN) has cells that mean 'no data', read as blank: 'NA' x1" in out


def test_the_web_apps_renaming_shows_a_sheet_under_the_uploaded_name(tmp_path: Path) -> None:
    path, book = header_book(tmp_path, [["C1", "1", "01/01/2015", "WBRI", "-", None, None]], "saved-upload.xlsx")
    book.save(path)
    result = validator.validate([path], year="2024_25", la="E09000027", rules=["101"])
    result.rename_files({str(path): "Children 2024.xlsx"})
    files = {f.file for f in result.findings if f.code == "CELL-NO-DATA"}
    assert files == {"Children 2024.xlsx [Children]"}
    assert set(result.dataset.tables["Header"].df["_file"]) == {"Children 2024.xlsx [Children]"}


def test_each_takes_no_data_tokens_for_every_return(tmp_path: Path) -> None:
    """--no-data (NA is not a default token) reaches the returns of validate --each (a regional batch), as it does a single run."""
    from validator.cli import main

    region = tmp_path / "region"
    (region / "E09000027").mkdir(parents=True)
    path, book = header_book(region / "E09000027", [["C1", "1", "01/01/2015", "WBRI", "NA", None, None]])
    book.save(path)
    out = tmp_path / "out"
    argv = ["validate", str(region), "--each", "--year", "2024_25", "--no-data", "NA,-", "--output-dir", str(out)]
    assert main([*argv, "--format", "json", "--rules", "101"]) in (0, 1)
    report = (out / "E09000027-validation.json").read_text(encoding="utf-8")
    assert "column E (UPN) has cells that mean 'no data', read as blank: 'NA' x1" in report
