"""Care history across years: Table@all, the `covered` let, and findings unconfirmed for want of older returns."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from helpers import SAMPLES, flagged_rows, run_on

from validator.dataset import Context, InputFile
from validator.engine.model import RuleLoadError
from validator.findings import Finding
from validator.outputs.formats import render
from validator.result import Result, RuleStatus

HEAD = """
code: "T1"
message: test rule
severity: error
level: record
years: 2024_25
"""

# Care leavers with fewer than 91 days in care since their 14th birthday, in every year given.
DAYS_RULE = (
    HEAD
    + """
table: OC3
fields: [IN_TOUCH]
history: {table: Episodes, from: "birthday(DOB, 14)"}
let:
  days:
    covered:
      table: Episodes@all
      as: ep
      start: "latest(ep.DECOM, birthday(DOB, 14))"
      end: "earliest(coalesce(ep.DEC, ep.RETURN_END), collection_end)"
condition: "days < 91"
"""
)


def test_covered_counts_each_day_once(make_rule) -> None:
    rule = make_rule(
        HEAD
        + """
table: Header
fields: [CHILD]
let:
  days: {covered: {table: Episodes, as: ep, start: "ep.DECOM", end: "coalesce(ep.DEC, collection_end)"}}
condition: "days != 30"
"""
    )
    episodes = [
        # A: 1-31 May, with a period nested in it and one overlapping its end (1 May to 31 May: 30 days)
        {"CHILD": "A", "DECOM": "01/05/2024", "DEC": "21/05/2024"},
        {"CHILD": "A", "DECOM": "02/05/2024", "DEC": "03/05/2024"},
        {"CHILD": "A", "DECOM": "10/05/2024", "DEC": "31/05/2024"},
        # B: two back-to-back periods (30 days), one with no start and one ending before it starts (nothing)
        {"CHILD": "B", "DECOM": "01/06/2024", "DEC": "16/06/2024"},
        {"CHILD": "B", "DECOM": "16/06/2024", "DEC": "01/07/2024"},
        {"CHILD": "B", "DECOM": "", "DEC": "01/07/2024"},
        {"CHILD": "B", "DECOM": "05/07/2024", "DEC": "01/07/2024"},
        # C: the same period twice (30 days)
        {"CHILD": "C", "DECOM": "01/03/2025", "DEC": ""},
        {"CHILD": "C", "DECOM": "01/03/2025", "DEC": "31/03/2025"},
        # D: 31 days
        {"CHILD": "D", "DECOM": "01/05/2024", "DEC": "01/06/2024"},
    ]
    header = [{"CHILD": c} for c in "ABCDE"]
    assert flagged_rows(run_on(rule, {"Header": header, "Episodes": episodes})) == [3, 4]  # D (31) and E (0)


def test_all_years_brings_each_year_given_with_its_collection_year(make_rule) -> None:
    rule = make_rule(DAYS_RULE)
    oc3 = [{"CHILD": "A", "DOB": "01/06/2008", "IN_TOUCH": "YES"}]  # 14 on 01/06/2022
    # 100 days of care, only in the return two years back: open there, so counted up to its 31 March.
    older = [{"CHILD": "A", "DECOM": "21/12/2022", "DEC": ""}]
    tables = {"OC3": oc3, "Episodes": [], "Episodes@previous": [], "Episodes@previous2": older}
    assert flagged_rows(run_on(rule, tables)) == []
    # Without the year before last, the care is not seen: the finding is unconfirmed, naming the years needed.
    outcome = run_on(rule, {"OC3": oc3, "Episodes": [], "Episodes@previous": []})
    (finding,) = outcome.findings
    assert finding.unconfirmed and finding.confidence == "unconfirmed"
    assert finding.note is not None and "2022_23" in finding.note and "--previous" in finding.note
    assert "01/04/2023" in finding.note  # the first day of the oldest year given


def test_a_finding_is_confirmed_once_the_years_reach_back_far_enough(make_rule) -> None:
    rule = make_rule(DAYS_RULE)
    oc3 = [{"CHILD": "A", "DOB": "01/06/2008", "IN_TOUCH": "YES"}]
    few = run_on(rule, {"OC3": oc3, "Episodes": []})
    assert [f.unconfirmed for f in few.findings] == [True]
    assert "only this year's return was given" in (few.findings[0].note or "")
    enough = run_on(rule, {"OC3": oc3, "Episodes": [], "Episodes@previous": [], "Episodes@previous2": []})
    assert [f.unconfirmed for f in enough.findings] == [False]
    assert enough.findings[0].note is None


def test_a_gap_in_the_years_given_stops_the_history_there(make_rule) -> None:
    rule = make_rule(DAYS_RULE)
    oc3 = [{"CHILD": "A", "DOB": "01/06/2008", "IN_TOUCH": "YES"}]
    older = [{"CHILD": "A", "DECOM": "21/12/2022", "DEC": ""}]
    outcome = run_on(rule, {"OC3": oc3, "Episodes": [], "Episodes@previous2": older})
    assert [f.unconfirmed for f in outcome.findings] == [True]


def test_history_when_limits_the_findings_that_rest_on_it(make_rule) -> None:
    rule = make_rule(
        DAYS_RULE.replace('from: "birthday(DOB, 14)"}', 'from: "birthday(DOB, 14)", when: "IN_TOUCH == \'NO\'"}')
    )
    oc3 = [
        {"CHILD": "A", "DOB": "01/06/2008", "IN_TOUCH": "YES"},
        {"CHILD": "B", "DOB": "01/06/2008", "IN_TOUCH": "NO"},
        {"CHILD": "C", "DOB": "", "IN_TOUCH": "NO"},
    ]
    outcome = run_on(rule, {"OC3": oc3, "Episodes": []})
    assert {f.child: f.unconfirmed for f in outcome.findings} == {"A": False, "B": True, "C": True}
    note_c = next(f.note for f in outcome.findings if f.child == "C")
    assert note_c is not None and "every earlier year's return" in note_c


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('history: {table: Episode, from: "DOB"}', "unknown table 'Episode'"),
        ('history: {table: Episodes, from: "DOBB"}', "'DOBB'"),
        ("let:\n  days:\n    covered: {table: Episodes@all, as: ep, start: ep.DECOM}", "go together"),
        ("let:\n  days:\n    sum: {table: Episodes@all, as: ep, value: ep.DECOM, end: ep.DEC}", "go together"),
        ("let:\n  days:\n    max: {table: Episodes@all, as: ep, value: ep.POC_START}", "has no field POC_START"),
    ],
)
def test_history_mistakes_are_named_at_load(make_rule, change: str, message: str) -> None:
    body = HEAD + "table: OC3\nfields: [IN_TOUCH]\n" + change + '\ncondition: "present(DOB)"\n'
    with pytest.raises(RuleLoadError, match=message):
        make_rule(body)


# ---------------------------------------------------------------------------------------------------- reports


def _result() -> Result:
    context = Context("ssda903", "2024_25", None, dt.date(2024, 4, 1), dt.date(2025, 3, 31), dt.date(2025, 3, 31))
    note = "Rests on Episodes before 01/04/2024 (only this year's return was given): give the returns back to 2019_20 with --previous to confirm."
    findings = [
        Finding(
            "1002",
            "error",
            "record",
            "No previous episodes.",
            table="OC3",
            row=0,
            child="C1",
            fields=("IN_TOUCH",),
            values=("YES",),
            confidence="unconfirmed",
            note=note,
        ),
        Finding(
            "1001",
            "error",
            "record",
            "Not a relevant child.",
            table="OC3",
            row=1,
            child="C2",
            fields=("IN_TOUCH",),
            values=("YES",),
        ),
    ]
    rules = [
        RuleStatus("1002", "run", "", 0, "error", "No previous episodes."),
        RuleStatus("1001", "run", "", 1, "error", "Not a relevant child."),
    ]
    return Result("ssda903", context, [InputFile("oc3.csv", "csv", ["OC3"])], rules, findings)


def test_unconfirmed_findings_are_apart_and_do_not_fail_the_run() -> None:
    result = _result()
    assert [f.code for f in result.findings] == ["1001"] and [f.code for f in result.unconfirmed] == ["1002"]
    assert result.count("error") == 1
    alone = Result("ssda903", result.context, result.inputs, result.rules, list(result.unconfirmed))
    assert alone.exit_status() == 0 and alone.count("error") == 0 and len(alone.unconfirmed) == 1
    assert result.exit_status() == 1


def test_every_report_shows_unconfirmed_findings_apart() -> None:
    result = _result()
    data = json.loads(render(result, "json"))
    assert data["summary"]["errors"] == 1 and data["summary"]["unconfirmed"] == 1
    assert [f["code"] for f in data["findings"]] == ["1001"] and "confidence" not in data["findings"][0]
    (item,) = data["unconfirmed"]
    assert item["confidence"] == "unconfirmed" and "2019_20" in item["note"]

    rows = list(csv.DictReader(io.StringIO(render(result, "csv").decode())))
    assert [(r["code"], r["confidence"]) for r in rows] == [("1001", "confirmed"), ("1002", "unconfirmed")]
    assert "2019_20" in rows[1]["note"]

    console = " ".join(render(result, "console").decode().split())
    assert "1 error " in console and "1 unconfirmed" in console and "Unconfirmed" in console

    junit = render(result, "junit").decode()
    assert 'failures="1"' in junit and "unconfirmed error" in junit

    sarif = json.loads(render(result, "sarif"))
    levels = {r["ruleId"]: (r["level"], r["properties"].get("confidence")) for r in sarif["runs"][0]["results"]}
    assert levels == {"1001": ("error", None), "1002": ("note", "unconfirmed")}

    html = render(result, "html").decode()
    assert 'id="unconfirmed"' in html and "2019_20" in html

    with zipfile.ZipFile(io.BytesIO(render(result, "xlsx"))) as book:
        text = " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist() if n.endswith(".xml"))
    assert "Unconfirmed" in text and "2019_20" in text


def test_a_return_without_older_years_gets_unconfirmed_care_leaver_findings_and_exit_0() -> None:

    import validator

    samples = SAMPLES / "clean" / "ssda903"
    alone = validator.validate([samples / "2024_25"], year="2024_25", la="E09000027", rules=["1001", "1002"])
    assert alone.unconfirmed and {f.code for f in alone.unconfirmed} <= {"1001", "1002"}
    assert alone.count("error") == 0 and alone.exit_status() == 0
    assert all(f.note and "--previous" in f.note for f in alone.unconfirmed)
    with_last = validator.validate(
        [samples / "2024_25"], year="2024_25", la="E09000027", previous=[samples / "2023_24"], rules=["1001", "1002"]
    )
    # Last year's return brings the history a year further back: the notes now name it as given.
    assert all("returns given back to 2023_24" in (f.note or "") for f in with_last.unconfirmed)
