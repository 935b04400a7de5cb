"""Tests for the synthetic sample generator (validator/samples/). All data is invented by the generator."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import xmlschema
from helpers import ROOT, read_rows

from validator.engine import functions
from validator.samples import INJECTED_COLUMNS, SSDA903_COLUMNS, SSDA903_FILES, generate_samples, previous_year
from validator.samples.common import add_years, ages, with_check_letters

CIN_YEARS = ["2022_23", "2023_24", "2024_25", "2025_26"]
SSDA903_YEARS = ["2022_23", "2023_24", "2024_25", "2025_26", "2026_27"]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


@pytest.mark.parametrize("return_type", ["ssda903", "cin"])
def test_same_seed_gives_identical_bytes(tmp_path: Path, return_type: str) -> None:
    first = generate_samples(return_type, "2024_25", 60, 5, 0.2, tmp_path / "a")
    second = generate_samples(return_type, "2024_25", 60, 5, 0.2, tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate_samples("ssda903", "2024_25", 30, 1, 0.0, tmp_path / "a")
    generate_samples("ssda903", "2024_25", 30, 2, 0.0, tmp_path / "b")
    name = "ssda903/2024_25/episodes.csv"
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_clean_data_does_not_depend_on_errors_or_previous(tmp_path: Path) -> None:
    generate_samples("ssda903", "2024_25", 50, 3, 0.0, tmp_path / "clean")
    generate_samples("ssda903", "2024_25", 50, 3, 0.0, tmp_path / "alone", previous=False)
    generate_samples("ssda903", "2024_25", 50, 3, 0.3, tmp_path / "dirty")
    clean = tmp_path / "clean" / "ssda903" / "2024_25"
    assert _files(clean) == _files(tmp_path / "alone" / "ssda903" / "2024_25")
    assert not (tmp_path / "alone" / "ssda903" / "2023_24").exists()
    injected = {r["child"] for r in read_rows(tmp_path / "dirty" / "ssda903" / "2024_25_injected.csv")}
    dirty = {tuple(r.values()) for r in read_rows(tmp_path / "dirty" / "ssda903" / "2024_25" / "episodes.csv")}
    same = {tuple(r.values()) for r in read_rows(clean / "episodes.csv") if r["CHILD"] not in injected}
    assert same <= dirty


@pytest.mark.parametrize("year", CIN_YEARS)
def test_cin_output_is_valid_against_the_year_xsd(tmp_path: Path, year: str) -> None:
    written = generate_samples("cin", year, 300, 11, 0.0, tmp_path)
    xml = tmp_path / "cin" / f"cin_{year}.xml"
    assert xml in written
    assert xml.read_bytes().startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    schema = xmlschema.XMLSchema(str(ROOT / "schemas" / "cin" / f"cin_{year}.xsd"))
    errors = list(schema.iter_errors(str(xml)))
    assert errors == [], errors[0].reason if errors else ""


def test_cin_uses_the_year_sex_element(tmp_path: Path) -> None:
    generate_samples("cin", "2023_24", 20, 1, 0.0, tmp_path / "old")
    generate_samples("cin", "2024_25", 20, 1, 0.0, tmp_path / "new")
    assert b"<GenderCurrent>" in (tmp_path / "old" / "cin" / "cin_2023_24.xml").read_bytes()
    newer = (tmp_path / "new" / "cin" / "cin_2024_25.xml").read_bytes()
    assert b"<Sex>" in newer
    assert b"<GenderCurrent>" not in newer


def _check_letter(digits: str) -> str:
    """DfE's UPN check letter: sum of digit x position (positions 2..13), mod 23, into this alphabet."""
    return "ABCDEFGHJKLMNPQRTUVWXYZ"[sum(int(d) * i for i, d in enumerate(digits, start=2)) % 23]


def test_cin_upns_have_correct_check_letters(tmp_path: Path) -> None:
    generate_samples("cin", "2024_25", 200, 4, 0.0, tmp_path)
    text = (tmp_path / "cin" / "cin_2024_25.xml").read_text(encoding="utf-8")
    upns = [part.split("</UPN>")[0] for part in text.split("<UPN>")[1:]]
    assert upns
    assert all(_check_letter(u[1:]) == u[0] for u in upns)
    assert len(set(upns)) == len(upns)


def test_ssda903_upns_have_correct_check_letters(tmp_path: Path) -> None:
    generate_samples("ssda903", "2024_25", 200, 4, 0.0, tmp_path, previous=False)
    upns = [r["UPN"] for r in read_rows(tmp_path / "ssda903" / "2024_25" / "header.csv") if r["UPN"][:2] != "UN"]
    assert upns
    assert all(_check_letter(u[1:]) == u[0] for u in upns)
    assert len(set(upns)) == len(upns)


def test_with_check_letters() -> None:
    assert with_check_letters(["123456789012", "000000000000"]) == [
        _check_letter("123456789012") + "123456789012",
        "A000000000000",
    ]
    assert with_check_letters([]) == []


def test_date_helpers_agree_with_the_engine() -> None:
    """add_years is the engine's add_years (29 February to 28 February); ages come from the engine's age."""
    days = [dt.date(2008, 2, 29), dt.date(2008, 2, 28), dt.date(2008, 3, 1), dt.date(2011, 12, 31)]
    days += [dt.date(2000, 1, 1) + n * dt.timedelta(days=97) for n in range(100)]
    scope = SimpleNamespace(frame=pd.DataFrame(index=range(len(days))))
    for years in (-18, 1, 4, 16, 17, 18):
        engine = functions.add_years(scope, pd.Series(pd.to_datetime(days)), years)
        assert [add_years(day, years) for day in days] == [d.date() for d in engine]
    for on in (dt.date(2025, 3, 31), dt.date(2023, 8, 31), dt.date(2024, 2, 28), dt.date(2024, 2, 29)):
        expected = [on.year - d.year - ((on.month, on.day) < (d.month, d.day)) for d in days]
        assert ages(days, on) == expected
    assert ages([], dt.date(2025, 3, 31)) == []


@pytest.mark.parametrize("year", SSDA903_YEARS)
def test_ssda903_csv_files_have_the_expected_headers(tmp_path: Path, year: str) -> None:
    generate_samples("ssda903", year, 80, 2, 0.0, tmp_path)
    first = int(year[:4])
    for folder_year in (year, previous_year(year)):
        folder = tmp_path / "ssda903" / folder_year
        expected = {n for n in SSDA903_FILES if n not in ("SWEpisodes", "DoLo")}
        if int(folder_year[:4]) >= 2023:
            expected.add("SWEpisodes")
        if int(folder_year[:4]) >= 2026:
            expected.add("DoLo")
        assert sorted(p.name for p in folder.glob("*.csv")) == sorted(SSDA903_FILES[n] for n in expected)
        for name in expected:
            assert _header(folder / SSDA903_FILES[name]) == list(SSDA903_COLUMNS[name])
    assert (tmp_path / "ssda903" / f"{year}.xml").exists()
    sexes = {r["SEX"] for r in read_rows(tmp_path / "ssda903" / year / "header.csv")}
    assert sexes <= ({"M", "F"} if first >= 2024 else {"1", "2"})


def test_ssda903_columns_match_the_project_schema() -> None:
    from validator.schema import load_schema

    schema = load_schema("ssda903")
    for name, columns in SSDA903_COLUMNS.items():
        assert list(columns) == [c for c, d in schema.tables[name].columns.items() if not d.optional]


def test_ssda903_dates_and_episode_chains(tmp_path: Path) -> None:
    generate_samples("ssda903", "2024_25", 300, 8, 0.0, tmp_path)
    end = dt.date(2025, 3, 31)
    episodes: dict[str, list[dict[str, str]]] = {}
    for row in read_rows(tmp_path / "ssda903" / "2024_25" / "episodes.csv"):
        episodes.setdefault(row["CHILD"], []).append(row)
    assert episodes
    day = lambda text: dt.datetime.strptime(text, "%d/%m/%Y").date()  # noqa: E731
    for rows in episodes.values():
        rows.sort(key=lambda r: day(r["DECOM"]))
        for before, after in itertools.pairwise(rows):
            assert before["DEC"], "only the last episode may be open"
            if after["RNE"] == "S":
                assert day(after["DECOM"]) > day(before["DEC"])
            else:
                assert after["DECOM"] == before["DEC"]
                assert before["REC"] == "X1"
        for row in rows:
            assert (row["DEC"] == "") == (row["REC"] == "")
            if row["DEC"]:
                assert day(row["DECOM"]) < day(row["DEC"]) <= end


def test_ssda903_previous_year_continues_into_this_year(tmp_path: Path) -> None:
    generate_samples("ssda903", "2024_25", 200, 9, 0.0, tmp_path)
    last = read_rows(tmp_path / "ssda903" / "2023_24" / "episodes.csv")
    this = read_rows(tmp_path / "ssda903" / "2024_25" / "episodes.csv")
    open_last = {r["CHILD"]: r for r in last if not r["DEC"]}
    first_this: dict[str, dict[str, str]] = {}
    for row in this:
        key = dt.datetime.strptime(row["DECOM"], "%d/%m/%Y").date()
        known = first_this.get(row["CHILD"])
        if known is None or key < dt.datetime.strptime(known["DECOM"], "%d/%m/%Y").date():
            first_this[row["CHILD"]] = row
    assert open_last
    same = ("DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "HOME_POST", "PL_POST", "URN")
    for child, row in open_last.items():
        assert child in first_this
        assert all(first_this[child][c] == row[c] for c in same)


@pytest.mark.parametrize("return_type", ["ssda903", "cin"])
def test_injected_list(tmp_path: Path, return_type: str) -> None:
    generate_samples(return_type, "2024_25", 100, 6, 0.1, tmp_path / "dirty")
    generate_samples(return_type, "2024_25", 100, 6, 0.0, tmp_path / "clean")
    dirty = tmp_path / "dirty" / return_type / "2024_25_injected.csv"
    clean = tmp_path / "clean" / return_type / "2024_25_injected.csv"
    assert _header(dirty) == list(INJECTED_COLUMNS)
    rows = read_rows(dirty)
    assert len(rows) == 10
    assert len({r["child"] for r in rows}) == 10
    assert all(r["table"] and r["field"] and r["error"] and r["description"] for r in rows)
    assert _header(clean) == list(INJECTED_COLUMNS)
    assert read_rows(clean) == []


def test_a_small_error_share_still_injects_one(tmp_path: Path) -> None:
    generate_samples("cin", "2024_25", 5, 1, 0.01, tmp_path)
    assert len(read_rows(tmp_path / "cin" / "2024_25_injected.csv")) == 1


def test_thousand_children_ssda903(tmp_path: Path) -> None:
    written = generate_samples("ssda903", "2026_27", 1000, 1, 0.05, tmp_path)
    header = read_rows(tmp_path / "ssda903" / "2026_27" / "header.csv")
    assert len(header) == 1000
    assert len({r["CHILD"] for r in header}) == 1000
    assert tmp_path / "ssda903" / "2026_27.xml" in written


def test_xml_holds_the_same_records_as_the_csv(tmp_path: Path) -> None:
    from validator.ingest.xml903 import read_ssda903_xml

    generate_samples("ssda903", "2024_25", 40, 12, 0.1, tmp_path)
    tables, _ = read_ssda903_xml(tmp_path / "ssda903" / "2024_25.xml")
    folder = tmp_path / "ssda903" / "2024_25"
    for name in ("Header", "Episodes", "Reviews", "OC2", "OC3", "AD1", "PlacedAdoption", "PrevPerm", "Missing"):
        rows = read_rows(folder / SSDA903_FILES[name])
        raw = tables.get(name)
        count = len(raw) if raw is not None else 0
        assert count == len(rows), name
        if rows:
            assert raw is not None
            assert sorted(v or "" for v in raw.columns["CHILD"]) == sorted(r["CHILD"] for r in rows)
    flags = tables["Header"].columns["UASC"]
    assert set(flags) <= {"0", "1"}
    assert flags.count("1") == len(read_rows(folder / "uasc.csv"))


@pytest.mark.parametrize(
    ("return_type", "year", "message"),
    [
        ("ssda903", "2021_22", "can be made for"),
        ("cin", "2026_27", "can be made for"),
        ("abc", "2024_25", "not a return"),
    ],
)
def test_rejects_unknown_returns_and_years(tmp_path: Path, return_type: str, year: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_samples(return_type, year, 5, 1, 0.0, tmp_path)


def test_rejects_an_error_share_outside_0_to_1(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="share"):
        generate_samples("cin", "2024_25", 5, 1, 1.5, tmp_path)
