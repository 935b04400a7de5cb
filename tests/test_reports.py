"""Report formats opened with real readers: openpyxl, a JUnit XSD, a SARIF 2.1.0 schema; split and redacted reports."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from helpers import ROOT
from lxml import etree
from rich.console import Console

import validator
from validator.cli import main
from validator.cli.options import progress_bar as _progress
from validator.dataset import Context
from validator.findings import Finding
from validator.outputs import formats
from validator.outputs.formats import FORMATS, html_available, render
from validator.outputs.junit import render_junit
from validator.outputs.sarif import render_sarif
from validator.outputs.xlsx import render_xlsx
from validator.redact import (
    KEY_ENV,
    birth_month,
    iter_personal_values,
    postcode_sector,
    redact_result,
    resolve_key,
)
from validator.reports import report_stem, safe_name
from validator.result import Result, RuleStatus
from validator.schema import load_schema
from validator.split import split_result

TESTS = ROOT / "tests"
SSDA903 = ["samples/ssda903/2024_25", "--previous", "samples/ssda903/2023_24", "--year", "2024_25", "--la", "E09000027"]
CIN = "samples/cin/cin_2024_25.xml"
FILE_FORMATS = ["json", "csv", "xlsx", "junit", "sarif", "console"] + (["html"] if html_available() else [])


@pytest.fixture(scope="module", autouse=True)
def _in_root(request):
    """Paths in the reports are the inputs as given: run from the project folder, as the README does."""
    mp = pytest.MonkeyPatch()
    mp.chdir(ROOT)
    yield
    mp.undo()


def context() -> Context:
    return Context("ssda903", "2024_25", "E09000027", dt.date(2024, 4, 1), dt.date(2025, 3, 31), dt.date(2025, 3, 31))


def awkward_result() -> Result:
    """Codes and values a spreadsheet likes to mangle, and values that would run as formulas."""
    findings = [
        Finding(
            "0112",
            "error",
            "record",
            '=HYPERLINK("http://example.invalid","click")',
            table="Episodes",
            row=3,
            child="0112",
            fields=("PLACE", "LS", "REC", "URN"),
            values=("0112", "8525Q", "+1+2", "@SUM(A1)"),
            file="episodes.csv",
            line=5,
        ),
        Finding("8525Q", "query", "return", "-2+3", values=("=1+1",)),
    ]
    rules = [
        RuleStatus("0112", "run", "", 1, "error", "=1+1"),
        RuleStatus("8525Q", "run", "", 1, "query", "Please check"),
        RuleStatus("503B", "not_run", "needs the previous year's Episodes table", 0, "error", "Not run rule"),
        RuleStatus("999", "crashed", "ValueError: boom", 0, "error", "Crashing rule"),
    ]
    return Result("ssda903", context(), [], rules, findings)


def squash(text: str) -> str:
    """Messages as one line (rich wraps stderr at the terminal's width)."""
    return " ".join(text.split())


def sheet_rows(ws) -> list[dict[str, object]]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


def xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist())


# ------------------------------------------------------------------------------------------------- xlsx


def test_workbook_has_real_tables_frozen_headers_and_the_findings(ssda903_sample: Result) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(ssda903_sample)))
    assert wb.sheetnames == ["Summary", "Figures", "Rules", "Children", "Return-level"]
    for ws in wb.worksheets:
        assert ws.freeze_panes in ("A2", "B2", "C2"), ws.title
        (table,) = ws.tables.values()
        assert table.ref.startswith("A1:") and table.autoFilter is not None
        header = next(ws.iter_rows(max_row=1, values_only=True))
        assert [c.name for c in table.tableColumns] == list(header)
        assert all(ws.column_dimensions[chr(65 + i)].width for i in range(len(header)))

    summary = {r["Item"]: r["Value"] for r in sheet_rows(wb["Summary"])}
    assert summary["Year"] == "2024_25" and summary["LA"] == "E09000027"
    assert summary["Errors"] == ssda903_sample.count("error") and summary["Rules run"] == len(ssda903_sample.rules_run)
    assert summary["Collection start"] == dt.datetime(2024, 4, 1)  # an Excel date, not text
    assert summary["Tool"] == f"cscvalidate {validator.__version__}"
    assert "rule files" in summary["Ruleset"]
    assert any(str(k).startswith("Input") and "episodes.csv" in str(v) for k, v in summary.items())

    rules = {r["Code"]: r for r in sheet_rows(wb["Rules"])}
    assert rules["142"]["Findings"] == 1 and rules["142"]["Fields"] == "DEC; REC"
    assert rules["102"]["Status"] == "run" and rules["102"]["Findings"] == 0

    children = sheet_rows(wb["Children"])
    assert len(children) == sum(
        1 for f in ssda903_sample.findings if f.child is not None or f.level in ("record", "child")
    )
    (row,) = [r for r in children if r["Code"] == "142"]
    assert (row["Child"], row["Table"], row["Line"], row["File"]) == (
        "4696526",
        "Episodes",
        59,
        "samples/ssda903/2024_25/episodes.csv",
    )
    assert row["Values"] == "31/05/2024; " and "Query notes" in row
    assert row["Locator"].startswith("DECOM 13/11/2023")  # the episode's start date, from the record
    assert row["Record date"] == dt.datetime(2023, 11, 13)
    cell = next(c for c in wb["Children"]["L"] if isinstance(c.value, dt.datetime))
    assert cell.is_date and cell.number_format == "dd/mm/yyyy"

    returns = sheet_rows(wb["Return-level"])
    assert {r["Code"] for r in returns} == {"DATE-FORMAT", "RETURN-INFERRED"}


def test_codes_stay_text_and_formulas_are_neutralised_in_the_workbook() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(awkward_result())))
    ws = wb["Children"]
    header = [c.value for c in ws[1]]
    cells = dict(zip(header, ws[2], strict=True))
    for name in ("Child", "Code"):
        assert cells[name].value == "0112" and cells[name].data_type == "s" and cells[name].number_format == "@"
    assert cells["Values"].value == "0112; 8525Q; +1+2; @SUM(A1)"
    assert cells["Message"].value == '\'=HYPERLINK("http://example.invalid","click")'
    assert cells["Message"].data_type == "s"
    rules = {r["Code"]: r for r in sheet_rows(wb["Rules"])}
    assert rules["8525Q"]["Severity"] == "query" and rules["0112"]["Message"] == "'=1+1"
    assert {r["Status"] for r in rules.values()} == {"run", "not run", "crashed"}
    returns = sheet_rows(wb["Return-level"])
    assert returns[0]["Message"] == "'-2+3" and returns[0]["Values"] == "'=1+1"
    summary = {r["Item"]: r["Value"] for r in sheet_rows(wb["Summary"])}
    assert summary["Not run: 503B"].startswith("needs the previous") and summary["Crashed: 999"] == "ValueError: boom"
    for ws in wb.worksheets:  # no formula anywhere in the workbook
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_workbook_is_deterministic_and_has_no_timestamps(ssda903_sample: Result) -> None:
    first = render_xlsx(ssda903_sample)
    assert first == render_xlsx(ssda903_sample)
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        core = z.read("docProps/core.xml").decode()
        assert "created" not in core and "modified" not in core
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    stamped = render_xlsx(ssda903_sample, timestamp=dt.datetime(2025, 5, 1, 9, 30))
    assert "2025-05-01T09:30:00Z" in xlsx_text(stamped)


def test_empty_sheets_still_hold_valid_tables() -> None:
    empty = Result("ssda903", context(), [], [RuleStatus("102", "run", "", 0, "error", "Date of birth")], [])
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(empty)))
    assert wb["Children"].tables["Children"].ref == "A1:M2"
    assert sheet_rows(wb["Children"]) == []


# ------------------------------------------------------------------------------------------------ junit


def junit_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(TESTS / "junit.xsd")))


def test_junit_follows_the_schema_one_case_per_rule(ssda903_sample: Result) -> None:
    doc = etree.fromstring(render_junit(ssda903_sample).encode())
    assert junit_schema().validate(doc.getroottree()), junit_schema().error_log
    rules_suite, files_suite = doc.findall("testsuite")
    cases = rules_suite.findall("testcase")
    assert len(cases) == len(ssda903_sample.rules) == int(rules_suite.get("tests"))
    (case,) = [c for c in cases if c.get("name").startswith("142 ")]
    (failure,) = case.findall("failure")
    assert failure.get("message").startswith(
        "1 of 1: child 4696526; Episodes row 57; samples/ssda903/2024_25/episodes.csv line 59"
    )
    assert int(rules_suite.get("failures")) == len({f.code for f in ssda903_sample.findings if f.severity == "error"})
    assert {c.get("name").split()[0] for c in files_suite.findall("testcase")} == {"DATE-FORMAT", "RETURN-INFERRED"}
    assert int(doc.get("tests")) == len(cases) + len(files_suite.findall("testcase"))


def test_junit_skips_rules_not_run_errors_crashes_and_caps_failures() -> None:
    result = awkward_result()
    record, whole = sorted(result.findings, key=lambda f: f.level != "record")
    many = [dataclasses.replace(record, row=n, line=n + 2) for n in range(150)]
    result = dataclasses.replace(result, findings=[*many, whole])
    doc = etree.fromstring(render_junit(result, cap=100).encode())
    assert junit_schema().validate(doc.getroottree()), junit_schema().error_log
    cases = {c.get("name").split()[0]: c for c in doc.iter("testcase")}
    assert cases["503B"].find("skipped").get("message") == "needs the previous year's Episodes table"
    assert cases["999"].find("error").get("message") == "ValueError: boom"
    failures = cases["0112"].findall("failure")
    assert len(failures) == 100 and failures[-1].get("message").startswith("100 of 150:")
    assert "150 finding(s); the first 100 are listed" in cases["0112"].find("system-out").text
    # a query is not a failure unless --fail-on query
    assert cases["8525Q"].find("failure") is None and "query" in cases["8525Q"].find("system-out").text
    strict = etree.fromstring(render_junit(result, fail_on="query").encode())
    assert next(c for c in strict.iter("testcase") if c.get("name").startswith("8525Q")).find("failure") is not None
    suite = doc.find("testsuite")
    assert (suite.get("skipped"), suite.get("errors"), suite.get("failures")) == ("1", "1", "1")


# ------------------------------------------------------------------------------------------------ sarif


def sarif_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((TESTS / "sarif-2.1.0-subset.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("which", ["ssda903", "cin"])
def test_sarif_follows_the_schema_with_rules_results_and_locations(which: str, request) -> None:
    result: Result = request.getfixturevalue(f"{which}_sample")
    doc = json.loads(render_sarif(result))
    errors = sorted(sarif_validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    (run,) = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules) >= len(result.rules)
    assert len(run["results"]) == len(result.findings)
    levels = {"error": "error", "query": "warning", "notice": "note"}
    for item, finding in zip(run["results"], result.findings, strict=True):
        assert item["ruleId"] == finding.code and rules[item["ruleIndex"]]["id"] == finding.code
        assert item["level"] == levels[finding.severity]
        if finding.file and finding.line:
            location = item["locations"][0]["physicalLocation"]
            assert location["artifactLocation"]["uri"].endswith(finding.file)
            assert location["region"]["startLine"] == finding.line
    if which == "ssda903":
        (item,) = [r for r in run["results"] if r["ruleId"] == "142"]
        assert item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
            "samples/ssda903/2024_25/episodes.csv"
        )
        assert rules[item["ruleIndex"]]["shortDescription"]["text"].startswith("A new episode has started")


def test_sarif_reports_rules_not_run_and_crashed() -> None:
    doc = json.loads(render_sarif(awkward_result()))
    assert not list(sarif_validator().iter_errors(doc))
    (invocation,) = doc["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolConfigurationNotifications"][0]["descriptor"]["id"] == "503B"
    assert invocation["toolExecutionNotifications"][0]["associatedRule"]["id"] == "999"


# ------------------------------------------------------------------------------------- the command line


def test_several_formats_in_one_run_one_file_each(tmp_path: Path, ssda903_sample: Result, capsys) -> None:
    out = tmp_path / "reports"
    status = main(["validate", *SSDA903, "--format", ",".join(FILE_FORMATS), "--output-dir", str(out)])
    _, err = capsys.readouterr()
    assert status == 1
    stem = "2024_25-validation"
    expected = {f"{stem}.{FORMATS[name].extension}" for name in FILE_FORMATS}
    assert {p.name for p in out.iterdir()} == expected
    written = "".join(err.split())  # rich folds long paths at the terminal's width
    assert all(f"reportwrittento{out / name}" in written for name in expected)
    assert json.loads((out / f"{stem}.json").read_text(encoding="utf-8")) == ssda903_sample.to_dict()
    header = next(csv.reader(io.StringIO((out / f"{stem}.csv").read_text(encoding="utf-8"))))
    assert header[0] == "code"
    assert openpyxl.load_workbook(out / f"{stem}.xlsx").sheetnames[0] == "Summary"
    assert junit_schema().validate(etree.parse(str(out / f"{stem}.junit.xml")))
    assert not list(sarif_validator().iter_errors(json.loads((out / f"{stem}.sarif").read_text(encoding="utf-8"))))
    assert "errors" in (out / f"{stem}.txt").read_text(encoding="utf-8")
    if "html" in FILE_FORMATS:
        assert (out / f"{stem}.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_one_format_to_a_pipe_is_only_the_report(capsys) -> None:
    status = main(["validate", CIN, "--format", "sarif"])
    out, err = capsys.readouterr()
    assert status == 1 and err == ""  # no progress, no messages: stderr is not a terminal here
    assert json.loads(out)["version"] == "2.1.0"


def test_the_reports_carry_the_figures_dfe_will_derive(ssda903_sample: Result) -> None:
    from validator.preview import figures_of

    wanted = figures_of(ssda903_sample).measure("cla_31_march")  # worked out as `preview` does (tests/test_preview.py)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(ssda903_sample)))
    rows = {r[1]: r for r in wb["Figures"].iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in wb["Figures"][1]]
    assert header[5] == "2023_24"  # last year's figures beside this year's
    row = rows["Children looked after at 31 March"]
    assert row[2] == wanted.numerator and row[5] == wanted.previous_numerator
    page = render(ssda903_sample, "html").decode("utf-8")
    assert 'id="figures"' in page and "Children looked after at 31 March" in page and "2023_24" in page


def test_xlsx_to_a_pipe_is_the_workbook_bytes(capsysbinary) -> None:
    main(["validate", CIN, "--format", "xlsx"])
    out, _ = capsysbinary.readouterr()
    sheets = ["Summary", "Figures", "Rules", "Children", "Return-level"]
    assert openpyxl.load_workbook(io.BytesIO(out)).sheetnames == sheets


def test_progress_is_drawn_on_a_terminal_and_not_elsewhere() -> None:
    shown = io.StringIO()
    with _progress(Console(file=shown, force_terminal=True, width=100)) as progress:
        assert progress is not None
        progress("read", 0, 0)
        progress("rules", 5, 10)
    assert "running the rules" in shown.getvalue()
    with _progress(Console(file=io.StringIO(), force_terminal=False)) as progress:
        assert progress is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "json,csv"], "need --output-dir"),
        (["--format", "json", "--output", "a.json", "--output-dir", "x"], "not both"),
        (["--split-by", "LA"], "give --output-dir"),
    ],
)
def test_output_options_that_cannot_work_are_usage_errors(args: list[str], message: str, capsys) -> None:
    assert main(["validate", CIN, *args]) == 2
    assert message in squash(capsys.readouterr().err)


def test_html_missing_is_a_clear_error(monkeypatch, capsys) -> None:
    monkeypatch.setattr(formats, "html_available", lambda: False)
    assert main(["validate", CIN, "--format", "html", "--output-dir", "x"]) == 2
    assert "html format is not available" in squash(capsys.readouterr().err)


def test_report_names_come_from_the_input() -> None:
    assert report_stem(["samples/cin/cin_2024_25.xml"]) == "cin_2024_25-validation"
    assert report_stem(["samples/ssda903/2024_25/"]) == "2024_25-validation"
    assert safe_name("A. Smith / Team 3") == "A._Smith_Team_3" and safe_name("../..") == "blank"


def test_a_report_never_overwrites_an_input(tmp_path: Path, capsys) -> None:
    header = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nC1,1,01/02/2015,WBRI,UN1,,\n"
    first, second = tmp_path / "x.csv", tmp_path / "x-validation.csv"  # the second is the csv report's name
    first.write_text(header, encoding="utf-8")
    second.write_text(header, encoding="utf-8")
    before = second.read_bytes()
    status = main(
        ["validate", str(first), str(second), "--year", "2023_24", "--format", "csv", "--output-dir", str(tmp_path)]
    )
    assert status == 2 and second.read_bytes() == before
    assert "is one of the inputs" in squash(capsys.readouterr().err)


# ---------------------------------------------------------------------------------------------- split-by


def test_split_by_a_worker_column_gives_each_worker_only_their_children(
    tmp_path: Path, ssda903_sample: Result, capsys
) -> None:
    data = tmp_path / "return"
    data.mkdir()
    for path in (ROOT / "samples/ssda903/2024_25").iterdir():
        (data / path.name).write_bytes(path.read_bytes())
    rows = list(csv.reader(io.StringIO((data / "header.csv").read_text(encoding="utf-8"))))
    workers = ["Ann Smith", "Bo/Jones", ""]
    rows[0].append("Worker")
    assignment: dict[str, str] = {}
    for n, row in enumerate(rows[1:]):
        row.append(workers[n % 3])
        assignment[row[0]] = workers[n % 3]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    (data / "header.csv").write_text(buffer.getvalue(), encoding="utf-8")

    out = tmp_path / "split"
    status = main(["validate", str(data), "--previous", "samples/ssda903/2023_24", "--year", "2024_25",
                   "--format", "json,xlsx", "--output-dir", str(out), "--split-by", "worker"])  # fmt: skip
    assert status == 1
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"return-validation-worker-{v}.{ext}" for v in ("Ann_Smith", "Bo_Jones", "no-value") for ext in ("json", "xlsx")
    )
    seen: set[str] = set()
    without_child = []
    for label, worker in (("Ann_Smith", "Ann Smith"), ("Bo_Jones", "Bo/Jones"), ("no-value", "")):
        report = json.loads((out / f"return-validation-worker-{label}.json").read_text(encoding="utf-8"))
        children = {f["child"] for f in report["findings"] if f["child"] is not None}
        assert all(assignment.get(c, "") == worker for c in children), label
        without_child.append([f for f in report["findings"] if f["child"] is None])
        seen |= children
        wb = openpyxl.load_workbook(out / f"return-validation-worker-{label}.xlsx")
        assert {r["Child"] for r in sheet_rows(wb["Children"])} == children
        summary = {r["Item"]: r["Value"] for r in sheet_rows(wb["Summary"])}
        assert summary["Split by"].startswith(f"Worker = {worker or '(no value)'}")
    # findings without a child (here: the extra Worker column, the inferred return) are in every report
    assert without_child[0] == without_child[1] == without_child[2]
    assert {f["code"] for f in without_child[0]} >= {"COLUMN-EXTRA", "DATE-FORMAT"}
    # every child with a finding is in some report (the sample's findings, as the Worker column changes none)
    assert seen == {f.child for f in ssda903_sample.findings if f.child is not None}


def test_split_parts_hold_only_their_own_childrens_records(ssda903_sample: Result) -> None:
    parts = split_result(ssda903_sample, "SEX")
    assert [p.value for p in parts] == sorted(p.value for p in parts)
    for part in parts:
        header = part.result.dataset.tables["Header"].df
        assert set(header["CHILD"]) == set(part.children) and set(header["SEX"]) == {part.value}
        episodes = part.result.dataset.tables["Episodes"].df
        assert set(episodes["CHILD"]) <= set(part.children)
        counts = {r.code: r.count for r in part.result.rules}
        assert counts["142"] == sum(1 for f in part.result.findings if f.code == "142")


def test_split_by_an_unknown_column_is_a_usage_error(tmp_path: Path, capsys) -> None:
    status = main(["validate", CIN, "--format", "json", "--output-dir", str(tmp_path), "--split-by", "Team"])
    assert status == 2 and "no table of this return has a column Team" in squash(capsys.readouterr().err)


# ------------------------------------------------------------------------------------------------ redact


def test_redaction_rules() -> None:
    assert birth_month("27/03/2015") == "01/03/2015" and birth_month("2015-03-27") == "2015-03-01"
    assert birth_month("31/02/2015") == "01/02/2015" and birth_month("soon") == "[removed]"
    assert birth_month(dt.date(2015, 3, 27)) == dt.date(2015, 3, 1)
    assert postcode_sector("TW11 9AZ") == "TW11 9" and postcode_sector("tw119az") == "TW11 9"
    assert postcode_sector("EC1A 1BB") == "EC1A 1" and postcode_sector("TW11") == "TW11"
    assert postcode_sector("not known") == "[removed]"


def with_personal_findings(result: Result) -> Result:
    """The sample's findings plus some that quote a postcode, a date of birth and a UPN."""
    extra = [
        Finding(
            "392b", "error", "record", "Postcode check.", table="Episodes", row=0, child="5729176",
            fields=("HOME_POST", "PL_POST", "Header.DOB"), values=("TW10 6DH", "TW12 1EG", "04/12/2010"),
            file="episodes.csv", line=2,
        ),
        Finding(
            "DATE-INVALID", "error", "record", "header.csv line 2: DOB '04/12/2010' is not a valid date",
            table="Header", row=0, child="5729176", fields=("DOB",), values=("04/12/2010",),
            file="header.csv", line=2,
        ),
        Finding(
            "XML-SCHEMA", "error", "file", "return.xml line 9: UPN 'C313427415906' for child 5729176 is too long",
            child="5729176", file="return.xml", line=9,
        ),
    ]  # fmt: skip
    return dataclasses.replace(result, findings=[*result.findings, *extra])


def personal_values(result: Result) -> list[tuple[str, str]]:
    values = [
        (kind, text)
        for kind, text in iter_personal_values(result.dataset)
        if not (kind == "birth" and (text.startswith("01/") or text.endswith("-01")))  # already the 1st
    ]
    for table in result.dataset.tables.values():
        for column in ("HOME_POST", "PL_POST"):
            if column in table.df:
                for code in table.df[column].dropna().unique():
                    values += [("postcode", code), ("postcode", code.replace(" ", ""))]
    return values


def leaks(texts: dict[str, str], values: list[tuple[str, str]]) -> list[str]:
    found = []
    for kind, value in values:
        pattern = re.compile(r"(?<![0-9A-Za-z])" + re.escape(value) + r"(?![0-9A-Za-z])")
        found += [f"{kind} {value} in {name}" for name, text in texts.items() if value in text and pattern.search(text)]
    return found


def test_redacted_reports_hold_no_full_birth_date_postcode_or_child_id(ssda903_sample: Result) -> None:
    original = with_personal_findings(ssda903_sample)
    values = personal_values(original)
    kinds = {kind for kind, _ in values}
    assert {"id", "birth", "postcode", "removed"} <= kinds and len(values) > 100
    redacted = redact_result(original, b"test key")
    texts = {}
    for name in FILE_FORMATS:
        data = render(redacted, name, notes=[("Redacted", "yes")])
        texts[name] = xlsx_text(data) if name == "xlsx" else data.decode("utf-8")
    assert not leaks(texts, values)
    # the unredacted reports do hold them: the search would find a leak
    assert leaks({"json": render(original, "json").decode()}, values)

    wb = openpyxl.load_workbook(io.BytesIO(render(redacted, "xlsx")))
    (row,) = [r for r in sheet_rows(wb["Children"]) if r["Code"] == "392b"]
    assert row["Values"] == "TW10 6; TW12 1; 01/12/2010"
    assert re.fullmatch(r"[0-9a-f]{16}", row["Child"])
    (bad,) = [f for f in redacted.findings if f.code == "DATE-INVALID"]
    assert "'01/12/2010'" in bad.message and bad.values == ("01/12/2010",)
    (xml,) = [f for f in redacted.findings if f.code == "XML-SCHEMA"]
    assert "UPN '[removed]'" in xml.message and "5729176" not in xml.message and row["Child"] in xml.message
    header = redacted.dataset.tables["Header"].df
    assert set(header["DOB"].dropna().dt.day) == {1} and set(header["UPN"].dropna()) <= {"[removed]", "UN1", "UN2",
                                                                                         "UN3", "UN4", "UN5", "UN6"}  # fmt: skip
    assert ssda903_sample.findings == ssda903_sample.findings and "4696526" in {
        f.child for f in ssda903_sample.findings
    }  # unchanged


def test_child_hashes_are_stable_under_one_key_and_differ_under_another(ssda903_sample: Result) -> None:
    one = redact_result(ssda903_sample, b"key one")
    again = redact_result(ssda903_sample, b"key one")
    other = redact_result(ssda903_sample, b"key two")
    assert [f.child for f in one.findings] == [f.child for f in again.findings]
    assert [f.child for f in one.findings if f.child] != [f.child for f in other.findings if f.child]


def test_redaction_key_comes_from_the_option_then_the_environment_else_random(monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, "from env")
    assert resolve_key("given") == (b"given", "the --redact-key option")
    assert resolve_key(None)[0] == b"from env"
    monkeypatch.delenv(KEY_ENV)
    first, source = resolve_key(None)
    assert "random" in source and first != resolve_key(None)[0]


def test_redacted_cin_reports_from_the_command_line(tmp_path: Path, cin_sample: Result, monkeypatch, capsys) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    out = tmp_path / "redacted"
    status = main(["validate", CIN, "--format", ",".join(FILE_FORMATS), "--output-dir", str(out), "--redact"])
    err = squash(capsys.readouterr().err)
    assert status == 1 and "a random key was used" in err
    texts = {}
    for path in out.iterdir():
        texts[path.name] = xlsx_text(path.read_bytes()) if path.suffix == ".xlsx" else path.read_text(encoding="utf-8")
    values = personal_values(cin_sample)
    assert {"id", "birth", "removed"} <= {kind for kind, _ in values}
    assert not leaks(texts, values)
    summary = {
        r["Item"]: r["Value"]
        for r in sheet_rows(openpyxl.load_workbook(out / "cin_2024_25-validation.xlsx")["Summary"])
    }
    assert "differ between runs" in summary["Redacted"]


def test_redaction_knows_every_column_it_names() -> None:
    from validator.redact import BIRTH_DATES, KEEP_TEXT, UPN_FIELDS

    columns = {c for r in ("ssda903", "cin") for t in load_schema(r).tables.values() for c in t.columns}
    assert columns >= (BIRTH_DATES | KEEP_TEXT | UPN_FIELDS)


def test_a_bad_value_in_last_years_file_is_reported_with_last_years_path_and_table(tmp_path: Path) -> None:
    import shutil

    current, previous = tmp_path / "2024_25", tmp_path / "2023_24"
    shutil.copytree(ROOT / "samples/ssda903/2024_25", current)
    shutil.copytree(ROOT / "samples/ssda903/2023_24", previous)
    lines = (previous / "episodes.csv").read_text().splitlines()
    cells = lines[1].split(",")
    header = lines[0].split(",")
    cells[header.index("DECOM")] = "31/02/2023"
    lines[1] = ",".join(cells)
    (previous / "episodes.csv").write_text("\n".join(lines) + "\n")
    result = validator.validate([current], year="2024_25", la="E09000027", previous=[previous])
    (bad,) = [f for f in result.findings if f.code == "DATE-INVALID"]
    last_year = str(previous / "episodes.csv")
    assert (bad.table, bad.file, bad.line, bad.values) == ("Episodes@previous", last_year, 2, ("31/02/2023",))
    sarif = json.loads(render_sarif(result))
    (item,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "DATE-INVALID"]
    assert item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (previous / "episodes.csv").as_uri()
    rows = list(csv.DictReader(io.StringIO(render(result, "csv").decode("utf-8-sig"))))
    (row,) = [r for r in rows if r["code"] == "DATE-INVALID"]
    assert (row["table"], row["file"], row["line"]) == ("Episodes@previous", last_year, "2")
    book = openpyxl.load_workbook(io.BytesIO(render(result, "xlsx")), read_only=True)
    sheet_rows = [r for r in book["Children"].iter_rows(values_only=True)]
    head = sheet_rows[0]
    (xl,) = [dict(zip(head, r, strict=True)) for r in sheet_rows[1:] if r[head.index("Code")] == "DATE-INVALID"]
    assert (xl["Table"], xl["File"], xl["Line"]) == ("Episodes@previous", last_year, 2)
    html = render(result, "html").decode()
    assert last_year in html and "Episodes@previous" in html
    # the record it points at is last year's: its child is last year's child on line 2
    from validator.outputs.details import Records

    record = Records(result).record(bad.table, bad.row)
    assert record is not None and record["_line"] == 2 and str(record["CHILD"]) == bad.child == cells[0]


def test_every_summary_says_how_complete_the_check_was() -> None:
    from validator.result import completeness

    result = validator.validate([ROOT / "samples/ssda903/2024_25"], year="2024_25", la="E09000027")
    line = completeness(result)
    match = re.fullmatch(
        r"checked (\d+) of (\d+) rules; (\d+) not run \((\d+) need last year's return, (\d+) the Ofsted provider lists\)",
        line,
    )
    assert match, line
    run, total, not_run, previous, providers = map(int, match.groups())
    assert run == len(result.rules_run) and total == run + not_run and not_run == previous + providers
    assert json.loads(render(result, "json"))["summary"]["completeness"] == line
    import html as html_lib

    assert html_lib.escape(line) in render(result, "html").decode()
    for fmt in ("junit", "sarif"):
        assert line in render(result, fmt).decode().replace("&apos;", "'"), fmt
    console = render(result, "console").decode()
    assert re.sub(r"\s+", " ", line) in re.sub(r"\s+", " ", console)
    book = openpyxl.load_workbook(io.BytesIO(render(result, "xlsx")), read_only=True)
    assert ("Completeness", line) in [tuple(r[:2]) for r in book["Summary"].iter_rows(values_only=True)]
    full = validator.validate(
        [ROOT / "samples/ssda903/2024_25"], year="2024_25", la="E09000027", previous=[ROOT / "samples/ssda903/2023_24"]
    )
    assert "need last year's return" not in completeness(full)


def test_the_console_shows_each_rules_first_findings_and_names_the_full_reports() -> None:
    result = validator.validate([ROOT / "samples/ssda903/2024_25"], year="2024_25", la="E09000027")
    text = re.sub(r"\s+", " ", render(result, "console").decode())
    (f142,) = [f for f in result.findings if f.code == "142"]
    assert f"142 child {f142.child}; Episodes row {f142.row}; {f142.file} line {f142.line}: DEC=" in text
    assert "HTML or Excel report" in text
    assert "1 errors" not in text and "1 queries" not in text
