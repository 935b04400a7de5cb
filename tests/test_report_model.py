"""The report model: findings kept as columns (FindingTable), the Result carrying what the reports show, one
registry of formats whose renderers write in pieces and give the bytes the whole-document forms give."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from validator.dataset import Context, InputFile
from validator.findings import UNCONFIRMED, Finding, FindingTable
from validator.outputs.formats import FORMATS, RenderOptions, render, write_report
from validator.outputs.json_out import render_json
from validator.result import Result, RuleStatus, sort_key


def _finding(code: str, **kw: object) -> Finding:
    base: dict[str, object] = {"code": code, "severity": "error", "level": "record", "message": f"rule {code}"}
    return Finding(**(base | kw))  # type: ignore[arg-type]


FINDINGS = [
    _finding("103", table="Episodes", row=4, child="B", fields=("DECOM",), values=(dt.date(2024, 5, 1),)),
    _finding("101", table="Header", row=2, child="A", fields=("SEX", "DOB"), values=("9", None), file="h.csv", line=3),
    _finding("101", table="Header", row=1, child="C", fields=("SEX", "DOB"), values=("x", 1.5), file="h.csv", line=2),
    _finding("FILE-EMPTY", level="file", file="e.csv", message="e.csv: the file is empty; <b> & \u2028"),
    _finding("8842Q", severity="query", table="Reviews", row=0, child="A", values=(float("nan"),), fields=("R",)),
    _finding("1001", table="Episodes", row=7, child="D", confidence=UNCONFIRMED, note="give 2022_23"),
    _finding("102", severity="notice", level="child", child="A", fields=(), values=()),
]


def _result(findings: list[Finding] | FindingTable = FINDINGS) -> Result:
    context = Context(
        "ssda903", "2024_25", "E09000027", dt.date(2024, 4, 1), dt.date(2025, 3, 31), dt.date(2025, 3, 31)
    )
    rules = [
        RuleStatus("101", "run", count=2, message="rule 101", fields=("SEX", "DOB")),
        RuleStatus("102", "run", count=1, severity="notice", message="rule 102", fields=("Declared",)),
        RuleStatus("103", "run", count=1, message="rule 103", fields=("DECOM",)),
        RuleStatus("1001", "run", count=0, message="rule 1001"),
        RuleStatus("8842Q", "run", count=1, severity="query", message="rule 8842Q"),
        RuleStatus("104", "not_run", reason="needs the previous year's Episodes table"),
    ]
    inputs = [InputFile("h.csv", "csv", ["Header"]), InputFile("e.csv", "csv", [])]
    return Result("ssda903", context, inputs, rules, findings)


def test_a_table_gives_back_the_findings_it_was_made_of() -> None:
    table = FindingTable.of(FINDINGS)
    assert len(table) == len(FINDINGS)
    assert list(table) == FINDINGS
    assert table[1] == FINDINGS[1] and table[1:3] == FINDINGS[1:3]
    assert table.take([True, False] * 3 + [True]).findings() == [FINDINGS[i] for i in (0, 2, 4, 6)]
    assert FindingTable.concat([table, FindingTable(), table]).findings() == FINDINGS + FINDINGS
    assert table.column("values")[1] == ("9", None)  # tuples stay whole


def test_a_rules_findings_share_one_code_and_message_object() -> None:
    table = FindingTable.build(3, code="101", severity="error", level="record", message="m", row=[1, 2, 3])
    codes = table.column("code")
    assert codes == ["101"] * 3 and codes[0] is codes[2]
    assert [f.row for f in table] == [1, 2, 3] and table[0].fields == ()


def test_the_result_sorts_the_columns_as_sort_key_sorts_findings() -> None:
    result = _result(FindingTable.of(FINDINGS))
    confirmed = [f for f in FINDINGS if not f.unconfirmed]
    assert list(result.findings) == sorted(confirmed, key=sort_key)
    assert [f.code for f in result.unconfirmed] == ["1001"]
    assert result.count("error") == 4 and result.count("query") == 1


def test_a_list_of_findings_set_on_a_result_becomes_a_table() -> None:
    result = _result()
    result.findings = [FINDINGS[0]]
    assert isinstance(result.findings, FindingTable) and list(result.findings) == [FINDINGS[0]]
    part = dataclasses.replace(result, findings=[FINDINGS[1], FINDINGS[2]])
    assert [f.row for f in part.findings] == [1, 2]


def test_the_json_report_written_in_pieces_is_json_dumps_of_the_whole() -> None:
    result = _result()
    whole = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    assert render_json(result) == whole
    assert json.loads(whole)["unconfirmed"][0]["note"] == "give 2022_23"
    empty = _result([])
    assert render_json(empty) == json.dumps(empty.to_dict(), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_a_report_written_to_its_file_is_the_rendered_bytes(name: str, tmp_path: Path) -> None:
    result = _result()
    path = tmp_path / f"report.{FORMATS[name].extension}"
    write_report(path, result, name, notes=[("Split", "by PLACE")])
    assert path.read_bytes() == render(result, name, notes=[("Split", "by PLACE")])
    assert FORMATS[name].media_type


def test_every_renderer_has_the_one_signature() -> None:
    result = _result()
    for fmt in FORMATS.values():
        out = io.BytesIO()
        fmt.renderer(result, out, RenderOptions())
        assert out.getvalue()


def test_the_figures_are_worked_out_once_and_only_when_asked() -> None:
    calls: list[object] = []

    def source(dataset: object) -> str:
        calls.append(dataset)
        return "figures"

    result = _result()
    result.figures_source = source
    assert result.figures is None  # no dataset: nothing to work them out from
    result = dataclasses.replace(result, dataset=object(), figures_source=source)  # type: ignore[arg-type]
    assert calls == []
    assert result.figures == "figures" and result.figures == "figures"
    assert len(calls) == 1


def test_the_rule_catalogue_is_the_results_own() -> None:
    from validator.outputs.details import rule_catalogue

    catalogue = {info.code: info for info in rule_catalogue(_result())}
    assert catalogue["102"].fields == ("Declared",)  # declared by the rule, not only those of its findings
    assert catalogue["8842Q"].fields == ("R",)  # none declared: those its findings name
    assert catalogue["FILE-EMPTY"].status == "file" and catalogue["FILE-EMPTY"].count == 1


def test_each_finding_has_its_source() -> None:
    result = _result(
        [
            _finding("101", file="h.csv", table="Header"),
            _finding("101", file="old/h.csv", table="Header@previous"),
            _finding("101", table="Header@previous2"),
            _finding("101", file="h.csv2", table="Header"),
        ]
    )
    # in the result's order: by table, then file
    assert result.sources() == [("h.csv", "current"), (None, "current"), (None, "previous"), (None, "previous2")]
