"""rules/<return>/divergences.yaml is generated from the rules' own `divergence:` blocks and kept in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from validator.engine.divergences import (
    check_file_divergences,
    collect,
    divergences_path,
    file_divergences,
    file_divergences_for,
    render_divergences,
)
from validator.engine.model import RuleLoadError, load_rule_file


@pytest.mark.parametrize("return_type", ["ssda903", "cin"])
def test_divergence_register_matches_the_rules(return_type: str) -> None:
    path = divergences_path(return_type)
    expected = render_divergences(return_type)
    assert path.exists(), f"run: python -m validator rules divergences --return {return_type} --write"
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path} is out of date: python -m validator rules divergences --return {return_type} --write"
    )


def test_a_rule_may_record_several_divergences() -> None:
    entries = [e for e in collect("ssda903") if e["code"] == "224"]
    assert len(entries) == 2 and {e["example"] for e in entries} == {
        "URN not in the lists is left to 1008",
        "provider codes listed with a space after each comma",
    }


@pytest.mark.parametrize("return_type", ["ssda903", "cin"])
def test_file_level_divergences_name_real_rules_and_examples(return_type: str) -> None:
    entries = file_divergences(return_type)
    assert entries, "the reference's reading-level differences are recorded"
    register = render_divergences(return_type)
    for entry in entries:
        assert f"- id: {entry['id']}" in register
        assert all(file_divergences_for(return_type, code) for code in entry["codes"])


GOOD = {
    "id": "shift",
    "codes": ["303"],
    "reference": "r",
    "ours": "o",
    "why": "w",
    "example": {"rule": "303", "name": "a duplicated UASC row moves no other child's flag"},
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"codes": ["303", "NOPE"]}, "codes: no rule NOPE"),
        ({"example": {"rule": "303", "name": "no such example"}}, "rule 303 has no example 'no such example'"),
        ({"example": {"test": "tests/test_divergences.py::test_missing"}}, "has no test test_missing"),
        ({"example": {"test": "tests/x.py"}}, "example"),
        ({"id": "Not A Slug"}, "id"),
    ],
)
def test_a_wrong_file_level_divergence_is_refused(change: dict[str, object], problem: str) -> None:
    assert check_file_divergences("ssda903", {"divergences": [GOOD]}, Path("f.yaml"))
    with pytest.raises(RuleLoadError, match=re.escape(problem)):
        check_file_divergences("ssda903", {"divergences": [{**GOOD, **change}]}, Path("f.yaml"))
    with pytest.raises(RuleLoadError, match="used twice"):
        check_file_divergences("ssda903", {"divergences": [GOOD, GOOD]}, Path("f.yaml"))


def test_a_divergence_naming_a_missing_example_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        """rules:
  - code: "1"
    message: m
    severity: error
    level: record
    table: Episodes
    fields: [DEC]
    years: all
    divergence:
      - {reference: r, ours: o, why: w, example: one}
      - {reference: r, ours: o, why: w, example: two}
    condition: "DEC < DECOM"
    examples:
      - {name: one, expect: fail, tables: {Episodes: []}}
      - {expect: pass, tables: {Episodes: []}}
""",
        encoding="utf-8",
    )
    with pytest.raises(RuleLoadError, match="no example is named 'two'"):
        load_rule_file(path, "ssda903")
