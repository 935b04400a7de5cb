"""convert: XML -> one CSV file per table; validating the CSV folder gives the XML's rule findings."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import ONE_CHILD_903_XML, SAMPLES, rule_findings, write

import validator
from validator.convert import convert_return, convert_xml
from validator.schema import load_schema


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
    xml = write(tmp_path, "r.xml", ONE_CHILD_903_XML)
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


# ------------------------------------------------------------------ CIN: two <Child> blocks sharing an LAchildID

_AGAIN = """    <Child>
      <ChildIdentifiers><LAchildID>C1</LAchildID><PersonBirthDate>2015-01-01</PersonBirthDate><Sex>M</Sex></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>WIRI</Ethnicity><Disabilities><Disability>VIS</Disability></Disabilities></ChildCharacteristics>
      <CINdetails><CINreferralDate>2025-01-02</CINreferralDate><ReferralSource>1A</ReferralSource>
        <Assessments><AssessmentActualStartDate>2024-12-20</AssessmentActualStartDate></Assessments>
        <ReferralNFA>false</ReferralNFA></CINdetails>
    </Child>
  </Children>"""


def _repeated_child(folder: Path) -> Path:
    """The CIN test document with C1 in a second <Child> block (8510), its own ethnicity, disability and episode:
    the episode's assessment starts before its referral (1103, within the second block's episode only)."""
    from test_ingest_cin import DOC

    return write(folder, "cin.xml", DOC.replace("{referral}", "2024-04-20").replace("  </Children>", _AGAIN))


def _tables(paths: list[Path]) -> dict[str, list[list[object]]]:
    from validator.dataset import FILE, LINE, ROW
    from validator.ingest.loader import load_return

    tables = load_return(paths).tables
    return {n: t.df.drop(columns=[FILE, LINE, ROW], errors="ignore").astype("string").fillna("").values.tolist()
            for n, t in tables.items()}  # fmt: skip


def _children(xml: Path) -> list[str]:
    from lxml import etree

    return [el.text or "" for el in etree.parse(str(xml)).iterfind("Children/Child/ChildIdentifiers/LAchildID")]


def test_a_repeated_cin_child_stays_two_blocks_and_validates_the_same(tmp_path: Path) -> None:
    original = _repeated_child(tmp_path / "in")
    done = convert_return([original], tmp_path / "out")
    assert not done.not_written and not done.problems
    written = tmp_path / "out/xml/cin.xml"
    assert _children(written) == ["C1", "C2", "C1"]
    given, again = validator.validate([original]), validator.validate([written])
    reading = lambda r: sorted(f.code for f in r.findings if not f.code[0].isdigit())  # noqa: E731
    assert "XML-SCHEMA" not in reading(given)  # a valid file: the converted one must be too
    assert reading(again) == reading(given)
    assert {"8510", "1103"} <= {f.code for f in given.findings}
    assert rule_findings(again) == rule_findings(given)
    assert _tables([written]) == _tables([original])  # each block's ethnicity, disability and episode its own
    assert not [c for c in done.changes if c.table == "ChildIdentifiers"]  # nothing was guessed


def test_a_repeated_cin_child_from_flattened_tables_is_two_blocks_and_the_guess_is_logged(tmp_path: Path) -> None:
    convert_return([_repeated_child(tmp_path / "in")], tmp_path / "first")
    flat = tmp_path / "first/csv"  # the CIN tables as CSV files: nothing says which block a record is from
    done = convert_return([flat], tmp_path / "out")
    written = tmp_path / "out/xml/cin.xml"
    assert _children(written) == ["C1", "C2", "C1"]
    given, again = validator.validate([flat]), validator.validate([written])
    assert rule_findings(again) == rule_findings(given)
    # the n-th ChildCharacteristics row of C1 went into its n-th block; its episodes and disabilities into the first
    assert _tables([written])["ChildCharacteristics"] == _tables([flat])["ChildCharacteristics"]
    assert sorted(_tables([written])["CINdetails"]) == sorted(_tables([flat])["CINdetails"])  # C1's 3rd moved up
    (guess,) = [c for c in done.changes if c.table == "ChildIdentifiers"]
    assert (guess.old, guess.row, guess.column) == ("C1", 2, "LAchildID") and "first block" in guess.why
    assert guess.file.endswith("cin_childidentifiers.csv")
    assert [r["change"] for r in _read_changes(tmp_path / "out") if r["column"] == "LAchildID"] == [guess.why]


def test_cin_records_the_xml_cannot_hold_leave_it_unwritten_and_say_why(tmp_path: Path) -> None:
    convert_return([_repeated_child(tmp_path / "in")], tmp_path / "first")
    flat = tmp_path / "first/csv"
    plans = flat / "cin_childprotectionplans.csv"
    plans.write_text(plans.read_text(encoding="utf-8").replace("C2", "C9"), encoding="utf-8")  # no such child
    lines = plans.read_text(encoding="utf-8").splitlines()
    lines.append("C1,7,1,2024-06-01,,NEG,NEG,0")  # an episode C1 does not have
    plans.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    done = convert_return([flat], tmp_path / "out")
    (why,) = done.not_written
    assert why.startswith("cin.xml was not written: ChildProtectionPlans has records with no CINdetails record")
    assert "C1 7" in why
    assert not (tmp_path / "out/xml/cin.xml").exists()


# ------------------------------------------------------------------ the change log: every normalisation listed


def _sample_903(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES / "ssda903/2024_25", folder)
    return folder


def _edit_csv(path: Path, edit: Callable[[list[list[str]]], None]) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    edit(rows)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)


def test_spaces_trimmed_from_csv_values_are_logged_cell_by_cell(tmp_path: Path) -> None:
    from validator.ingest.loader import load_return

    folder = _sample_903(tmp_path)

    def pad(rows: list[list[str]]) -> None:
        rows[1][3] = f" {rows[1][3]}  "  # ETHNIC, spaces around it
        rows[2][5] = "   "  # MOTHER, spaces only

    _edit_csv(folder / "header.csv", pad)
    done = convert_return([folder], tmp_path / "out", year="2024_25")
    log = [r for r in _read_changes(tmp_path / "out") if r["file"] == str(folder / "header.csv")]
    ethnic, mother = [r for r in log if r["row"] in ("2", "3") and r["column"] in ("ETHNIC", "MOTHER")]
    assert (ethnic["row"], ethnic["old_value"], ethnic["change"]) == (
        "2",
        " WBRI  ",
        "spaces before or after the value: removed",
    )
    assert ethnic["new_value"] == "WBRI"
    assert (mother["row"], mother["old_value"], mother["new_value"]) == ("3", "   ", "")
    assert mother["change"] == "blank-looking cell (spaces only): read as blank"
    assert (tmp_path / "out/csv/header.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[3] == "WBRI"
    assert len([c for c in done.changes if "spaces" in c.why]) == 2  # nothing else had spaces
    # validate does not look for them: only convert asks for a change log
    assert not [c for c in load_return([folder], year="2024_25").changes if "spaces" in c.why]


def test_headers_matched_in_another_case_or_by_an_alias_are_logged(tmp_path: Path) -> None:
    folder = _sample_903(tmp_path)

    def lower(rows: list[list[str]]) -> None:
        rows[0][0], rows[0][2] = "child", " Dob"

    def alias(rows: list[list[str]]) -> None:
        rows[0][0] = "CHILDID"

    _edit_csv(folder / "header.csv", lower)
    _edit_csv(folder / "episodes.csv", alias)
    convert_return([folder], tmp_path / "out", year="2024_25")
    log = [r for r in _read_changes(tmp_path / "out") if r["row"] == "1"]
    by = {(Path(r["file"]).name, r["column"]): r for r in log}
    assert set(by) == {("header.csv", "CHILD"), ("header.csv", "DOB"), ("episodes.csv", "CHILD")}
    assert (by["header.csv", "CHILD"]["old_value"], by["header.csv", "CHILD"]["new_value"]) == ("child", "CHILD")
    assert "another letter case" in by["header.csv", "CHILD"]["change"]
    assert by["header.csv", "DOB"]["old_value"] == " Dob"
    assert by["episodes.csv", "CHILD"]["change"] == "header CHILDID is another name of CHILD: written as CHILD"
    assert (tmp_path / "out/csv/episodes.csv").read_text(encoding="utf-8").startswith("CHILD,DECOM,")


def test_excel_date_cells_written_as_text_are_logged_with_what_the_cell_held(tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    from validator.ingest.loader import load_return

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Children"
    sheet.append(["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"])
    sheet.append(["C1", "1", dt.datetime(2015, 1, 2), " WBRI", "UN1", None, None])
    sheet.append(["C2", "2", dt.datetime(2016, 3, 4, 10, 30), "WBRI", "UN1", None, None])
    sheet.append(["C3", "2", "05/06/2017", "WBRI", "UN1", None, None])  # text: written as it is, nothing to log
    book.save(tmp_path / "header.xlsx")
    done = convert_return([tmp_path / "header.xlsx"], tmp_path / "out", year="2024_25")
    dates = [c for c in done.changes if c.column == "DOB"]
    assert [(c.sheet, c.cell, c.old, c.new) for c in dates] == [
        ("Children", "C2", "2015-01-02", "02/01/2015"),
        ("Children", "C3", "2016-03-04 10:30:00", "04/03/2016"),
    ]
    assert dates[0].why == "date cell: written as text dd/mm/yyyy"
    assert dates[1].why == "date and time cell: written as text dd/mm/yyyy, the time left out"
    (trimmed,) = [c for c in done.changes if c.column == "ETHNIC"]  # a sheet's cell: named by its reference
    assert (trimmed.sheet, trimmed.cell, trimmed.old, trimmed.new) == ("Children", "D2", " WBRI", "WBRI")
    body = (tmp_path / "out/csv/header.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert [line.split(",")[2] for line in body] == ["02/01/2015", "04/03/2016", "05/06/2017"]
    assert not [c for c in load_return([tmp_path / "header.xlsx"], year="2024_25").changes if c.column == "DOB"]
