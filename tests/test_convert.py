"""convert: XML -> one CSV file per table; validating the CSV folder gives the XML's rule findings."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from helpers import SAMPLES

import validator
from validator.convert import convert_return, convert_xml
from validator.schema import load_schema


def rule_findings(result: validator.Result) -> list[tuple[str, str | None, str | None, tuple[str, ...]]]:
    """The rule findings, without where they were found (file and line differ between XML and CSV)."""
    return sorted((f.code, f.table, f.child, f.fields) for f in result.findings if f.code[0].isdigit())


@pytest.mark.parametrize(
    ("inputs", "year"),
    [
        (["ssda903/2024_25.xml", "ssda903/2024_25_sw.xml"], "2024_25"),
        (["clean/ssda903/2024_25.xml", "clean/ssda903/2024_25_sw.xml"], "2024_25"),
        (["cin/cin_2024_25.xml"], "2024_25"),
        (["clean/cin/cin_2024_25.xml"], "2024_25"),
    ],
)
def test_round_trip_xml_convert_validate_gives_the_same_rule_findings(
    tmp_path: Path, inputs: list[str], year: str
) -> None:
    paths = [SAMPLES / p for p in inputs]
    convert_xml(paths, tmp_path)
    from_xml = validator.validate(paths, year=year, la="E09000027")
    from_csv = validator.validate([tmp_path], year=year, la="E09000027")
    assert from_csv.rules_run == from_xml.rules_run
    assert rule_findings(from_csv) == rule_findings(from_xml)
    if "clean" not in inputs[0]:
        assert rule_findings(from_xml)  # the comparison is not of two empty lists


def test_tables_the_xml_leaves_empty_are_written_with_their_header(tmp_path: Path) -> None:
    xml = tmp_path / "r.xml"
    xml.write_text(
        "<?xml version='1.0'?><EXPSSDA903><CHILD><HEADER><CHILDID>C1</CHILDID><SEX>1</SEX><DOB>01/02/2015</DOB>"
        "<ETHNIC>WBRI</ETHNIC><UPN>UN1</UPN></HEADER><EPISODE><DECOM>01/04/2023</DECOM><RNE>S</RNE><LS>C2</LS>"
        "<CIN>N1</CIN><PL>U1</PL></EPISODE></CHILD></EXPSSDA903>",
        encoding="utf-8",
    )
    written = {p.name: p for p in convert_xml([xml], tmp_path / "csv").written}
    schema = load_schema("ssda903")
    main_tables = [t for t in schema.tables.values() if t.xml_file == "main"]
    assert len(written) == len(main_tables)
    for table in main_tables:
        name = f"r_{table.file.removesuffix('.csv') if table.file else table.name}.csv"
        lines = written[name].read_text(encoding="utf-8").splitlines()
        assert lines[0] == ",".join(table.csv_columns)
    assert len(written["r_uasc.csv"].read_text(encoding="utf-8").splitlines()) == 1  # header only


# ------------------------------------------------------------------ convert_return: DfE-ready files, change log


def _read_changes(folder: Path) -> list[dict[str, str]]:
    with open(folder / "changes.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    ("inputs", "year"),
    [
        (["ssda903/2024_25"], "2024_25"),  # CSV
        (["ssda903/2024_25.xml", "ssda903/2024_25_sw.xml"], "2024_25"),  # XML
        (["cin/cin_2024_25.xml"], "2024_25"),
        (["clean/cin/cin_2024_25.xml"], "2024_25"),
    ],
)
def test_round_trip_convert_then_validate_the_csv_and_the_xml_gives_the_same_rule_findings(
    tmp_path: Path, inputs: list[str], year: str
) -> None:
    paths = [SAMPLES / p for p in inputs]
    done = convert_return(paths, tmp_path, year=year)
    assert not done.not_written and not done.problems
    given = validator.validate(paths, year=year, la="E09000027")
    assert rule_findings(given)  # the samples have injected errors: not a comparison of two empty lists
    for written in ("csv", "xml"):
        again = validator.validate([tmp_path / written], year=year, la="E09000027")
        assert again.rules_run == given.rules_run, written
        assert rule_findings(again) == rule_findings(given), written
        assert not [f for f in again.findings if f.code in ("DATE-FORMAT", "COLUMN-MISSING")]
        schema_problems = len([f for f in given.findings if f.code == "XML-SCHEMA"])  # injected codes, dates...
        assert len([f for f in again.findings if f.code == "XML-SCHEMA"]) <= schema_problems


def test_dfe_csv_files_have_dfes_headers_and_dates_and_every_change_is_logged(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES / "ssda903/2024_25", folder)
    header = folder / "header.csv"
    lines = header.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    dob = cells[2]
    day, month, year = dob.split("/")
    cells[2] = f"{year}-{month}-{day}"  # a date in another readable form
    lines[1] = ",".join(cells)
    header.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = convert_return([folder], tmp_path / "out", year="2024_25")
    schema = load_schema("ssda903")
    for table in schema.tables.values():
        if table.file and (folder / table.file).exists():
            written = (tmp_path / "out/csv" / table.file).read_text(encoding="utf-8").splitlines()
            assert written[0] == ",".join(table.csv_columns)
    out_header = (tmp_path / "out/csv/header.csv").read_text(encoding="utf-8").splitlines()
    assert out_header[1].split(",")[2] == dob
    changes = _read_changes(tmp_path / "out")
    assert {"file": str(header), "row": "2", "column": "DOB", "old_value": cells[2], "new_value": dob,
            "change": "date written dd/mm/yyyy"}.items() <= next(c for c in changes if c["row"] == "2").items()  # fmt: skip
    assert len(changes) == len(done.changes)


def test_round_trip_a_cin_workbook_to_cin_xml_gives_the_same_rule_findings(tmp_path: Path) -> None:
    from validator.messy_workbooks import messy_workbook

    xml = SAMPLES / "cin/cin_2024_25.xml"
    convert_xml([xml], tmp_path / "flat")
    book = messy_workbook(tmp_path / "flat", tmp_path / "cin.xlsx", "cin")
    done = convert_return([book], tmp_path / "out", year="2024_25")
    assert not done.not_written
    given = validator.validate([xml], year="2024_25", la="E09000027")
    again = validator.validate([tmp_path / "out/xml"], year="2024_25", la="E09000027")
    assert rule_findings(given)
    assert rule_findings(again) == rule_findings(given)
    assert again.rules_run == given.rules_run
    assert any(c.why == "title or notes row above the header row: not read" for c in done.changes)


def test_a_value_a_spreadsheet_would_run_as_a_formula_is_made_safe_and_logged(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES / "ssda903/2024_25", folder)
    header = folder / "header.csv"
    lines = header.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[4] = "=HYPERLINK(1)"  # the UPN
    lines[1] = ",".join(cells)
    header.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = convert_return([folder], tmp_path / "out", year="2024_25")
    assert (tmp_path / "out/csv/header.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[
        4
    ] == "'=HYPERLINK(1)"
    (change,) = [c for c in done.changes if c.column == "UPN"]
    assert change.row == 2 and "formula" in change.why
    log = (tmp_path / "out/changes.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in log and ",=HYPERLINK" not in log  # the log itself is formula-safe
