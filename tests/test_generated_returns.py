"""Every rule of every year runs on generated returns, clean and with injected mistakes, without crashing;
and the rule set matches DfE's catalogue (codes, messages, severities) where the catalogue is at hand."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers import ROOT

import validator
from validator.engine.model import load_rules
from validator.samples import generate_samples
from validator.years import SUPPORTED_YEARS

SPEC = ROOT.parent / "shared" / "spec"


@pytest.mark.parametrize("year", SUPPORTED_YEARS["ssda903"])
def test_no_ssda903_rule_crashes_on_generated_returns(tmp_path: Path, year: str) -> None:
    generate_samples("ssda903", year, 60, 11, 0.4, tmp_path)
    base = tmp_path / "ssda903"
    previous = f"{int(year[:4]) - 1}_{year[2:4]}"
    for inputs in ([base / year], [base / f"{year}.xml"]):
        result = validator.validate(inputs, year=year, la="E09000027", previous=[base / previous])
        assert result.rules_crashed == [], [(r.code, r.reason) for r in result.rules_crashed]
        assert len(result.rules_run) > 200


@pytest.mark.parametrize("year", SUPPORTED_YEARS["cin"])
def test_no_cin_rule_crashes_on_generated_returns(tmp_path: Path, year: str) -> None:
    generate_samples("cin", year, 150, 11, 0.4, tmp_path)
    result = validator.validate([tmp_path / "cin" / f"cin_{year}.xml"])
    assert result.rules_crashed == [], [(r.code, r.reason) for r in result.rules_crashed]
    assert result.rules_not_run == []


@pytest.mark.skipif(
    not (SPEC / "cin" / "rules.csv").exists(), reason="the DfE rule catalogue is not beside the project"
)
def test_cin_codes_messages_and_severities_match_the_catalogue() -> None:
    with open(SPEC / "cin" / "rules.csv", newline="", encoding="utf-8") as fh:
        catalogue = {(r["code"], r["year"]): r for r in csv.DictReader(fh)}
    ours = {(rule.code, year): rule for rule in load_rules("cin") for year in rule.years}
    assert set(ours) == set(catalogue)
    for key, rule in ours.items():
        assert rule.severity == catalogue[key]["severity"], key
        assert rule.message.rstrip(".") == catalogue[key]["message"].strip().rstrip("."), key


@pytest.mark.parametrize("return_type", ["ssda903", "cin"])
def test_no_finding_shows_a_blank_for_a_related_value_its_record_has(tmp_path: Path, return_type: str) -> None:
    """A field of another table (``Table.FIELD``) in a finding is blank only where the child has a record of that
    table with the field blank (the CIN header: the header's field is blank); never a false blank."""
    year = "2024_25"
    generate_samples(return_type, year, 200, 5, 0.5, tmp_path)
    if return_type == "cin":
        result = validator.validate([tmp_path / "cin" / f"cin_{year}.xml"])
    else:
        base = tmp_path / "ssda903"
        result = validator.validate([base / year], year=year, la="E09000027", previous=[base / "2023_24"])
    assert result.dataset is not None
    key = result.dataset.schema.child_key
    checked = 0
    for finding in result.findings:
        if finding.level not in ("record", "child"):
            continue
        for name, value in zip(finding.fields, finding.values, strict=True):
            owner, _, col = name.partition(".")
            if not col or owner == finding.table:
                continue
            checked += 1
            if value is not None:
                continue
            frames = [t.df for n, t in result.dataset.tables.items() if n.split("@")[0] == owner]
            blanks = [
                df[col].isna() & (df[key] == finding.child if key in df.columns else True)
                for df in frames
                if col in df.columns
            ]
            assert any(b.any() for b in blanks), (finding.code, finding.child, name)
    assert checked > 10
