"""Checks before the rules: YEAR-MISMATCH, YEARS-SWAPPED, YEARS-MIXED, FILE-SKIPPED, LA-UNKNOWN, --rules codes.

Each fires on the situation it is for, and none fires on the bundled clean samples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import ROOT

import validator
from validator.cli import main
from validator.findings import STOPPING_CODES
from validator.ingest.loader import InputError
from validator.reference.authorities import english_las, la_label

S903 = ROOT / "samples" / "ssda903"
CLEAN = ROOT / "samples" / "clean"
CIN = ROOT / "samples" / "cin" / "cin_2024_25.xml"
SANITY = {"YEAR-MISMATCH", "YEARS-SWAPPED", "YEARS-MIXED", "FILE-SKIPPED", "LA-UNKNOWN"}


def codes(result: validator.Result) -> list[str]:
    return [f.code for f in result.findings if f.code in SANITY]


def test_none_fires_on_the_bundled_clean_samples() -> None:
    clean_903 = validator.validate(
        [CLEAN / "ssda903/2024_25"], year="2024_25", la="E09000027", previous=[CLEAN / "ssda903/2023_24"]
    )
    assert codes(clean_903) == [] and clean_903.exit_status() == 0
    for given in (None, "2024_25"):
        clean_cin = validator.validate([CLEAN / "cin/cin_2024_25.xml"], year=given, la="E09000027")
        assert codes(clean_cin) == [] and clean_cin.exit_status() == 0
    samples = validator.validate([S903 / "2024_25"], year="2024_25", la="E09000027", previous=[S903 / "2023_24"])
    assert codes(samples) == []


def test_a_year_that_the_data_is_not_of_stops_the_run() -> None:
    result = validator.validate([S903 / "2024_25"], year="2022_23", la="E09000027")
    assert codes(result) == ["YEAR-MISMATCH"]
    assert "2024_25" in result.stopped[0].message and result.exit_status() == 2
    assert result.rules_run == [] and all("YEAR-MISMATCH" in r.reason for r in result.rules_not_run)
    older = validator.validate([S903 / "2023_24"], year="2024_25", la="E09000027")
    assert codes(older) == ["YEAR-MISMATCH"] and "2023_24" in older.stopped[0].message


def test_cin_year_comes_from_the_header_and_a_year_that_disagrees_is_a_mismatch(tmp_path: Path) -> None:
    result = validator.validate([CIN], year="2025_26")
    assert codes(result) == ["YEAR-MISMATCH"] and result.exit_status() == 2
    # no usable ReferenceDate: the year is the header's <Year>, and the schema is still checked
    text = CIN.read_text(encoding="utf-8").replace("<ReferenceDate>2025-03-31</ReferenceDate>", "", 1)
    text = text.replace("<LAchildID>", "<LAchildID>", 1)
    (tmp_path / "cin.xml").write_text(text, encoding="utf-8")
    no_date = validator.validate([tmp_path / "cin.xml"])
    assert no_date.year == "2024_25"
    assert any(f.code == "XML-SCHEMA" and "ReferenceDate" in f.message for f in no_date.findings)


def test_a_cin_file_in_a_namespace_is_one_clear_finding(tmp_path: Path) -> None:
    text = CIN.read_text(encoding="utf-8").replace("<Message>", '<Message xmlns="http://example.org/cin">', 1)
    (tmp_path / "cin.xml").write_text(text, encoding="utf-8")
    result = validator.validate([tmp_path / "cin.xml"])
    schema = [f for f in result.findings if f.code == "XML-SCHEMA"]
    assert len(schema) == 1 and "namespace 'http://example.org/cin'" in schema[0].message


def test_last_years_return_newer_than_this_years_is_swapped() -> None:
    result = validator.validate([S903 / "2023_24"], year="2023_24", la="E09000027", previous=[S903 / "2024_25"])
    assert codes(result) == ["YEARS-SWAPPED"] and result.exit_status() == 2


def test_last_years_files_in_this_years_folder_are_mixed(tmp_path: Path) -> None:
    folder = tmp_path / "current"
    shutil.copytree(S903 / "2024_25", folder)
    for path in (S903 / "2023_24").glob("*.csv"):
        shutil.copy(path, folder / f"old_{path.name}")
    result = validator.validate([folder], year="2024_25", la="E09000027")
    assert "YEARS-MIXED" in codes(result) and result.exit_status() == 2
    (mixed,) = [f for f in result.findings if f.code == "YEARS-MIXED"]
    assert "2023_24" in mixed.message and str(folder / "old_episodes.csv") in mixed.message


def test_files_that_are_not_read_are_reported_as_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "current"
    shutil.copytree(S903 / "2024_25", folder)
    # workbooks (.xlsx, .xlsm, .xls, .ods) are read, by their content: a CSV file named .xls is read as CSV
    (folder / "episodes.csv").rename(folder / "episodes.xls")
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden files are not the LA's data
    (folder / "notes.pdf").write_bytes(b"%PDF")
    result = validator.validate([folder], year="2024_25", la="E09000027")
    skipped = {Path(f.file or "").name: f.severity for f in result.findings if f.code == "FILE-SKIPPED"}
    assert skipped == {"notes.pdf": "notice"}
    assert [i.tables for i in result.inputs if i.path.endswith("episodes.xls")] == [["Episodes"]]
    assert result.exit_status() == 1  # the sample's injected mistakes; the run goes on


@pytest.mark.parametrize("la", ["Richmond", "318", "E09999999"])
def test_an_la_that_is_not_an_english_las_ons_code_is_reported(la: str) -> None:
    result = validator.validate([S903 / "2024_25"], year="2024_25", la=la, rules=["101"])
    (finding,) = [f for f in result.findings if f.code == "LA-UNKNOWN"]
    assert la in finding.message and result.exit_status() == 1
    if la == "Richmond":
        assert "E09000027 (Richmond upon Thames)" in finding.message


def test_the_la_list_has_every_english_la_with_childrens_services() -> None:
    las = english_las()
    assert len(las) >= 152 and all(code[:3] in ("E06", "E08", "E09", "E10") for code in las)
    assert la_label("E09000027") == "E09000027 (Richmond upon Thames)"
    assert las["E06000065"] == "North Yorkshire"  # created in 2023, after the packaged list
    assert "LA-UNKNOWN" not in codes(validator.validate([S903 / "2024_25"], year="2024_25", la="e06000065"))


def test_unknown_rule_codes_stop_the_run_naming_them(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="9999, abc"):
        validator.validate([S903 / "2024_25"], year="2024_25", rules=["9999", "abc", "101"])
    assert main(["validate", str(S903 / "2024_25"), "--year", "2024_25", "--rules", "9999,abc"]) == 2
    assert "9999, abc" in capsys.readouterr().err
    assert main(["validate", str(S903 / "2024_25"), "--year", "2024_25", "--rules", "101", "--la", "E09000027"]) in (
        0,
        1,
    )


def test_the_stopping_codes_are_the_documented_ones() -> None:
    docs = (ROOT / "docs" / "output.md").read_text(encoding="utf-8")
    for code in SANITY:
        assert f"| {code} |" in docs
    assert {"YEAR-MISMATCH", "YEARS-SWAPPED", "YEARS-MIXED"} == STOPPING_CODES
