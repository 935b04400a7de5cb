"""Ofsted provider lists (--providers): reading xlsx and CSV lists into ProviderInfo, and the rules that use it."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers import SAMPLES, write_csv

from validator.api import validate
from validator.cli import main
from validator.outputs.formats import FORMATS
from validator.reference.providers import provider_rows, read_providers

PROVIDER_RULES = {"219", "221", "224", "227", "228", "229", "1008"}
REASON = "needs the Ofsted provider list: give --providers FILE"
SAMPLE = SAMPLES / "clean" / "ssda903"

# The combined list's layout (sheet "Providers", header below a title row) and the children's homes list's.
COMBINED = ["Local authority", "URN", "Provider type", "Registration status", "Deregistration date", "Placement code"]
COMBINED += ["Setting address postcode", "Owner postcode", "Placement provider code"]
HOMES = ["Local Authority", "URN", "Provider Type", "Closed Date", "Provider Code", "Provider Placement Code"]
HOMES += ["Setting Address Postcode"]


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def rows_by_urn(paths: list[Path]) -> tuple[dict[str, dict], list]:
    read = read_providers(paths, "2024_25")
    assert read.table is not None
    return {r["URN"]: r for r in provider_rows(read.table)}, read.findings


def test_reads_the_combined_xlsx_list_below_a_title_row(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "scpch.xlsx",
        {
            "Providers": [
                ["Children's social care providers, as at 31 March"],
                [],
                COMBINED,
                ["Testshire", "SC900001", "Children's home", "Active", "-", "K2", "zz1 1aa", "ZZ9 9ZZ", "PR1/PR2"],
                [
                    "Testshire",
                    2900002,
                    "Fostering agency",
                    "Closed",
                    dt.datetime(2024, 6, 30),
                    "U1, U2",
                    "ZZ1 2AB",
                    "ZZ9 9ZZ",
                    "PR4",
                ],
                [None, None, "a footnote row without a URN"],
            ],
            "Registration Conditions": [["URN", "Conditions"], ["SC900001", "Only children aged 10 to 17"]],
        },
    )
    rows, findings = rows_by_urn([path])
    assert set(rows) == {"SC900001", "2900002"}
    assert rows["SC900001"]["PLACE_CODES"] == "K2"
    assert rows["SC900001"]["PROVIDER_CODES"] == "PR1,PR2"
    assert rows["SC900001"]["POSTCODE"] == "ZZ11AA"  # the setting's, never the owner's
    assert pd.isna(rows["SC900001"]["REG_END"])
    assert rows["2900002"]["PLACE_CODES"] == "U1,U2"
    assert rows["2900002"]["REG_END"].date() == dt.date(2024, 6, 30)
    assert not findings


def test_children_homes_list_with_address_sheet_and_csv_list_together(tmp_path: Path) -> None:
    # The older children's homes list: codes on one sheet, postcodes on "Address Details".
    homes = write_xlsx(
        tmp_path / "homes.xlsx",
        {
            "Settings and Inspection Info": [
                ["Local Authority", "URN", "Provider Code", "Provider Placement Code", "Closed Date"],
                ["Testshire", "SC900010", "K2", "PR4", "31/01/2025"],
            ],
            "Address Details": [["URN", "Setting Postcode"], ["SC900010", "ZZ3 3CC"]],
        },
    )
    # A social care providers list as CSV, lower-case and spaced header names.
    scp = write_csv(
        tmp_path / "scp.csv",
        [
            ["urn", " placement CODE ", "Placement Provider Code", "Setting postcode", "deregistration date"],
            ["SC900020", "U1/U2", "PR3", "zz4 4dd", ""],
        ],
    )
    rows, findings = rows_by_urn([homes, scp])
    assert rows["SC900010"] == {
        "URN": "SC900010",
        "PLACE_CODES": "K2",
        "PROVIDER_CODES": "PR4",
        "REG_END": rows["SC900010"]["REG_END"],
        "POSTCODE": "ZZ33CC",
    }
    assert rows["SC900010"]["REG_END"].date() == dt.date(2025, 1, 31)
    assert rows["SC900020"]["PLACE_CODES"] == "U1,U2" and rows["SC900020"]["POSTCODE"] == "ZZ44DD"
    assert not findings


def test_provider_codes_are_recognised_by_their_values_when_the_names_are_swapped(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "homes.xlsx",
        {"Provider information": [HOMES, ["Testshire", "SC900030", "Children's Home", None, "PR4", "K2", "ZZ1 1AA"]]},
    )
    rows, _ = rows_by_urn([path])
    assert (rows["SC900030"]["PLACE_CODES"], rows["SC900030"]["PROVIDER_CODES"]) == ("K2", "PR4")


def test_a_missing_column_is_a_finding_and_rules_that_need_it_are_not_run(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "list.csv", [["URN", "Placement code", "Setting postcode"], ["SC900040", "K2", "ZZ1"]])
    read = read_providers([path], "2024_25")
    missing = [f for f in read.findings if f.code == "COLUMN-MISSING"]
    assert len(missing) == 1 and "'Placement provider code'" in missing[0].message
    assert missing[0].fields == ("PROVIDER_CODES",) and missing[0].file == "list.csv"
    assert read.table is not None and read.table.missing_columns == {"PROVIDER_CODES": ["list.csv"]}


def test_unreadable_files_and_files_that_are_not_provider_lists_are_findings(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    other = write_csv(tmp_path / "other.csv", [["URN", "Name"], ["SC1", "A home"]])
    read = read_providers([broken, other, tmp_path / "absent.xlsx"], "2024_25")
    assert read.table is None
    assert [f.code for f in read.findings] == ["FILE-UNREADABLE", "PROVIDERS-LAYOUT", "FILE-UNREADABLE"]


EPISODES_HEADER = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC"]
EPISODES_HEADER += ["REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]


def episodes_folder(tmp_path: Path) -> Path:
    data = tmp_path / "return"
    data.mkdir()
    write_csv(
        data / "episodes.csv",
        [
            EPISODES_HEADER,
            ["C1", "01/05/2024", "S", "C2", "N1", "K2", "PR4", "", "X1", "", "ZZ1 1AA", "ZZ1 1AA", "SC900001"],
        ],
    )
    return data


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_provider_rules_are_not_run_without_the_list_in_every_format(tmp_path: Path, capsys, name: str) -> None:
    data = episodes_folder(tmp_path)
    target = tmp_path / f"report.{FORMATS[name].extension}"
    main(["validate", str(data), "--year", "2024_25", "--format", name, "--output", str(target)])
    capsys.readouterr()
    if name == "xlsx":
        book = openpyxl.load_workbook(target, read_only=True)
        text = "\n".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    else:
        text = target.read_text(encoding="utf-8")
    assert REASON in text


def test_not_run_reason_in_the_result(tmp_path: Path) -> None:
    result = validate([episodes_folder(tmp_path)], year="2024_25")
    reasons = {r.code: r.reason for r in result.rules if r.status == "not_run"}
    assert {code: reasons.get(code) for code in PROVIDER_RULES} == dict.fromkeys(PROVIDER_RULES, REASON)


def sample_list(path: Path, drop: str | None = None) -> Path:
    """A provider list made from the bundled sample's own URNs, agreeing with its episodes."""
    with open(SAMPLE / "2024_25" / "episodes.csv", encoding="utf-8") as fh:
        episodes = [r for r in csv.DictReader(fh) if r["URN"] and r["URN"] != "XXXXXXX"]
    listing: dict[str, dict[str, set[str] | str]] = {}
    for r in episodes:
        entry = listing.setdefault(r["URN"], {"place": set(), "provider": set(), "postcode": ""})
        entry["place"].add(r["PLACE"])  # type: ignore[union-attr]
        entry["provider"].add(r["PLACE_PROVIDER"])  # type: ignore[union-attr]
        if r["PLACE"] in ("K1", "K2", "K3", "R3", "S1") and not entry["postcode"]:
            entry["postcode"] = r["PL_POST"]
    rows: list[list[object]] = [["URN", "Placement code", "Placement provider code", "Deregistration date"]]
    rows[0].append("Setting postcode")
    for urn, entry in sorted(listing.items()):
        if urn != drop:
            rows.append(
                [urn, "/".join(sorted(entry["place"])), "/".join(sorted(entry["provider"])), "", entry["postcode"]]
            )
    return write_xlsx(path, {"Providers": rows})


def run_sample(tmp_path: Path, capsys, providers: Path) -> dict:
    args = ["validate", str(SAMPLE / "2024_25"), "--previous", str(SAMPLE / "2023_24"), "--year", "2024_25"]
    args += ["--la", "E09000027", "--format", "json", "--providers", str(providers)]
    status = main(args)
    out, _ = capsys.readouterr()
    assert status in (0, 1)
    return json.loads(out)


def test_cli_with_providers_on_the_bundled_sample(tmp_path: Path, capsys) -> None:
    report = run_sample(tmp_path, capsys, sample_list(tmp_path / "providers.xlsx"))
    run = set(report["rules"]["run"])
    not_run = {r["code"]: r["reason"] for r in report["rules"]["not_run"]}
    assert {"219", "221", "224", "227", "228", "1008"} <= set(run)
    assert "229" in run or "postcode" in not_run["229"]  # 229 also needs postcode data
    assert REASON not in not_run.values()
    codes = [f["code"] for f in report["findings"]]
    assert not [c for c in codes if c in PROVIDER_RULES - {"229"}]
    assert any(i["kind"] == "providers" and i["tables"] == ["ProviderInfo"] for i in report["inputs"])


def test_cli_with_a_urn_missing_from_the_list(tmp_path: Path, capsys) -> None:
    report = run_sample(tmp_path, capsys, sample_list(tmp_path / "providers.xlsx", drop="2909692"))
    flagged = [f for f in report["findings"] if f["code"] == "1008"]
    assert flagged and all(f["values"] == ["2909692"] for f in flagged)
    assert not [f for f in report["findings"] if f["code"] in ("219", "221", "224")]


def test_a_workbook_is_read_without_openpyxl_with_excel_values_as_openpyxl_gave_them(tmp_path: Path) -> None:
    import subprocess
    import sys

    rows: list[list[object]] = [[], [None, "Title"], [None, "URN", "Placement code", "Placement provider code"]]
    rows[2] += ["Deregistration date", "Setting postcode"]
    rows += [[None, 123456, "k2/H5", 4.0, dt.datetime(2024, 3, 1), "ab1 2cd"], [None, "SC1", True, "PR1", "-", None]]
    book = write_xlsx(tmp_path / "list.xlsx", {"Providers": rows, "Notes": [["a note"]]})
    by_urn, findings = rows_by_urn([book])
    assert by_urn["123456"]["PLACE_CODES"] == "K2,H5" and by_urn["123456"]["PROVIDER_CODES"] == "4"
    assert by_urn["123456"]["REG_END"] == pd.Timestamp("2024-03-01") and by_urn["123456"]["POSTCODE"] == "AB12CD"
    assert by_urn["SC1"]["PLACE_CODES"] == "TRUE" and pd.isna(by_urn["SC1"]["REG_END"])
    assert findings == []
    code = f"from validator.reference.providers import read_providers; import sys; read_providers([{str(book)!r}], "
    code += "'2024_25'); print('openpyxl' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_a_damaged_workbook_is_reported_in_openpyxls_words(tmp_path: Path) -> None:
    import zipfile

    good = write_xlsx(tmp_path / "good.xlsx", {"Providers": [["URN", "Placement code"], ["SC1", "K2"]]})
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    (finding,) = read_providers([damaged], "2024_25").findings
    assert finding.code == "FILE-UNREADABLE" and ": line 1, column " in finding.message  # expat's words
