"""`rules diff`: rules added, removed and changed between two collection years."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validator.cli import main
from validator.engine.diff import diff_rule_sets, diff_years, logic_text, render_markdown
from validator.engine.model import Rule, load_rule_file, rules_for

EXAMPLES = """
    examples:
      - {expect: fail, tables: {Episodes: [{CHILD: "1", DECOM: 01/05/2024}]}}
      - {expect: pass, tables: {Episodes: [{CHILD: "1", DECOM: 01/05/2024}]}}
"""


DIVERGENCE = """    divergence:
      reference: Flags it too.
      ours: We do not.
      why: DfE says so.
      example: example 1
"""


def rule_yaml(
    code: str,
    years: str,
    *,
    message: str = "A message.",
    condition: str = "DEC < DECOM",
    fields: str = "[DECOM]",
    severity: str = "error",
    extra: str = "",
) -> str:
    return (
        f'  - code: "{code}"\n    message: {message}\n    severity: {severity}\n    level: record\n'
        f"    table: Episodes\n    fields: {fields}\n    years: {years}\n"
        f'    condition: "{condition}"\n{extra}' + EXAMPLES
    )


def load(tmp_path: Path, *entries: str, prelude: str = "") -> list[Rule]:
    path = tmp_path / "rules.yaml"
    path.write_text(prelude + "rules:\n" + "".join(entries), encoding="utf-8")
    return load_rule_file(path, "ssda903")


def split(rules: list[Rule]) -> tuple[list[Rule], list[Rule]]:
    return [r for r in rules if "2024_25" in r.years], [r for r in rules if "2025_26" in r.years]


def test_added_removed_unchanged(tmp_path: Path) -> None:
    rules = load(
        tmp_path,
        rule_yaml("100", "2024_25"),
        rule_yaml("200", "2025_26+"),
        rule_yaml("300", "all"),
    )
    diff = diff_rule_sets("ssda903", "2024_25", "2025_26", *split(rules))
    assert [r.code for r in diff.removed] == ["100"]
    assert [r.code for r in diff.added] == ["200"]
    assert diff.changed == () and diff.unchanged == 1


def test_each_aspect_of_a_changed_rule_is_reported(tmp_path: Path) -> None:
    rules = load(
        tmp_path,
        rule_yaml("101", "2024_25", message="Old text."),
        rule_yaml("101", "2025_26+", message="New text.", severity="query"),
        rule_yaml("102", "2024_25", fields="[DECOM]"),
        rule_yaml("102", "2025_26+", fields="[DECOM, DEC]"),
        rule_yaml("103", "2024_25", condition="DEC < DECOM"),
        rule_yaml("103", "2025_26+", condition="DEC <= DECOM"),
        rule_yaml("104", "2024_25", extra="    notes: only the notes differ\n"),
        rule_yaml("104", "2025_26+", extra="    notes: another note\n"),
        rule_yaml("110", "2024_25"),
        rule_yaml("110", "2025_26+", extra=DIVERGENCE),
    )
    diff = diff_rule_sets("ssda903", "2024_25", "2025_26", *split(rules))
    by_code = {c.code: {x.aspect: x for x in c.changes} for c in diff.changed}
    assert set(by_code) == {"101", "102", "103", "110"}  # notes and examples do not change what a rule finds
    assert list(by_code["110"]) == ["divergence"]  # the reference changed beside an unchanged rule
    assert by_code["110"]["divergence"].before == "(none)"
    assert "+- reference: Flags it too." in by_code["110"]["divergence"].detail
    assert by_code["101"]["message"].before == "Old text." and by_code["101"]["message"].after == "New text."
    assert by_code["101"]["severity"].after == "query" and "logic" not in by_code["101"]
    assert by_code["102"]["fields"].after == "DECOM, DEC"
    logic = by_code["103"]["logic"]
    assert "-condition: DEC < DECOM" in logic.detail and "+condition: DEC <= DECOM" in logic.detail
    assert diff.unchanged == 1


def test_a_code_list_whose_codes_changed_marks_the_same_rule_as_changed(tmp_path: Path) -> None:
    # PLACE lost H5, P2 and Z1 and gained Z11 to Z14 in 2025_26; the rule entry itself is the same in both years.
    rules = load(
        tmp_path,
        rule_yaml("105", "all", condition="PLACE not in codes('PLACE')", fields="[PLACE]"),
        rule_yaml("106", "all", condition="LS not in codes('LS')", fields="[LS]"),
    )
    diff = diff_rule_sets("ssda903", "2024_25", "2025_26", *split(rules))
    assert [c.code for c in diff.changed] == ["105"] and diff.unchanged == 1
    (change,) = diff.changed[0].changes
    assert change.aspect == "codelist PLACE"
    assert change.detail == ("added: Z11, Z12, Z13, Z14", "removed: H5, P2, Z1")
    same_year = diff_rule_sets("ssda903", "2025_26", "2026_27", split(rules)[1], split(rules)[1])
    assert same_year.changed == ()


def test_code_lists_and_tables_used_are_compared(tmp_path: Path) -> None:
    rules = load(
        tmp_path,
        rule_yaml("107", "2024_25", condition="LS not in codes('LS')"),
        rule_yaml(
            "107",
            "2025_26+",
            condition="LS not in codes('LS') or RNE not in codes('RNE')",
            extra="    join:\n      h: {table: Header}\n",
        ),
    )
    ((change,),) = [diff_rule_sets("ssda903", "2024_25", "2025_26", *split(rules)).changed]
    aspects = {x.aspect: x for x in change.changes}
    assert aspects["codelists"].before == "LS" and aspects["codelists"].after == "LS, RNE"
    assert aspects["tables"].after == "Episodes, Header"
    assert any(line.startswith("+join:") for line in aspects["logic"].detail)


def test_yaml_anchors_are_written_out_in_full(tmp_path: Path) -> None:
    # One mapping used twice through an anchor: the logic shows it twice, never as &id001 / *id001.
    lets = "    let:\n      a: &one {count: {table: Header, as: h}}\n      b: *one\n"
    again = "    let:\n      a: *one\n      b: *one\n"
    rules = load(
        tmp_path,
        rule_yaml("108", "2024_25", condition="a > b", extra=lets),
        rule_yaml("108", "2025_26+", condition="a >= b", extra=again),
    )
    assert logic_text(rules[0]).count("count:") == 2 and "&" not in logic_text(rules[0])
    (change,) = diff_rule_sets("ssda903", "2024_25", "2025_26", *split(rules)).changed
    assert [x.aspect for x in change.changes] == ["logic"]
    assert "*" not in "\n".join(change.changes[0].detail)


def test_markdown_escapes_table_cells(tmp_path: Path) -> None:
    rules = load(tmp_path, rule_yaml("109", "2025_26+", message="'A | B, not C'"))
    text = render_markdown([diff_rule_sets("ssda903", "2024_25", "2025_26", *split(rules))])
    assert "A \\| B, not C" in text and "## Added" in text and "1 added, 0 removed" in text


def test_real_rules_2024_25_to_2025_26() -> None:
    diff = diff_years("ssda903", "2024_25", "2025_26")
    codes = {c.code: {x.aspect for x in c.changes} for c in diff.changed}
    # Rules that test PLACE codes changed with the code list (H5, P2, Z1 out; Z11-Z14 in) in 2025_26.
    assert any("codelist PLACE" in aspects for aspects in codes.values())
    assert diff.unchanged > 100
    assert not {r.code for r in diff.added} & {r.code for r in diff.removed}
    new_codes = {r.code for r in rules_for("ssda903", "2025_26")}
    assert len(diff.added) + len(diff.changed) + diff.unchanged == len(new_codes)


def test_same_year_has_no_difference() -> None:
    diff = diff_years("cin", "2024_25", "2024_25")
    assert diff.added == diff.removed == diff.changed == ()


def test_cli_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "diff", "2024_25", "2025_26", "--return", "ssda903", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["return"] == "ssda903" and data[0]["from"] == "2024_25" and data[0]["to"] == "2025_26"
    assert {"added", "removed", "changed", "unchanged"} <= set(data[0])
    assert main(["rules", "diff", "2024_25", "2025_26", "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert "# SSDA903 (children looked after): rules 2024_25 → 2025_26" in text and "# CIN census" in text
    out = tmp_path / "diff.txt"
    assert main(["rules", "diff", "2024-25", "2025/26", "--return", "cin", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("cin rules 2024_25 → 2025_26")


def test_cli_years_without_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "diff", "2025_26", "2026_27", "--return", "cin"]) == 2
    assert "no rules for both 2025_26 and 2026_27" in capsys.readouterr().err
    # Without --return, the returns that have rules for both years are compared.
    assert main(["rules", "diff", "2025_26", "2026_27", "--format", "json"]) == 0
    assert [d["return"] for d in json.loads(capsys.readouterr().out)] == ["ssda903"]
    with pytest.raises(SystemExit):
        main(["rules", "diff", "2024", "2025_26"])
