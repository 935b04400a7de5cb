"""The bundled samples: the clean ones raise no errors (no crying wolf); every injected mistake is caught."""

from __future__ import annotations

import csv
import re

import pytest
from helpers import SAMPLES

import validator


def errors(result) -> list[tuple[str, str | None]]:
    return [(f.code, f.child) for f in result.findings if f.severity == "error"]


def test_clean_ssda903_sample_has_no_errors() -> None:
    result = validator.validate(
        [SAMPLES / "clean/ssda903/2024_25"],
        year="2024_25",
        la="E09000027",
        previous=[SAMPLES / "clean/ssda903/2023_24"],
        providers=[SAMPLES / "clean/ssda903/ofsted_providers_2024_25.csv"],  # invented, from the sample's URNs
    )
    assert errors(result) == []
    assert result.rules_crashed == [] and result.rules_not_run == []


def test_clean_ssda903_xml_sample_has_no_errors() -> None:
    result = validator.validate([SAMPLES / "clean/ssda903/2024_25.xml"], year="2024_25", la="E09000027")
    assert errors(result) == []
    assert result.rules_crashed == []


def test_clean_cin_sample_has_no_errors() -> None:
    result = validator.validate([SAMPLES / "clean/cin/cin_2024_25.xml"])
    assert errors(result) == []
    assert result.rules_crashed == [] and result.rules_not_run == []


@pytest.mark.parametrize(
    ("inputs", "previous", "injected"),
    [
        (["ssda903/2024_25"], ["ssda903/2023_24"], "ssda903/2024_25_injected.csv"),
        (["cin/cin_2024_25.xml"], [], "cin/2024_25_injected.csv"),
    ],
)
def test_every_injected_mistake_is_reported_for_its_child(inputs, previous, injected) -> None:
    result = validator.validate([SAMPLES / p for p in inputs], previous=[SAMPLES / p for p in previous], la="E09000027")
    with open(SAMPLES / injected, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    # A date written yyyy-mm-dd is read, and reported once per file and column (DATE-FORMAT), not per child.
    iso = [r for r in rows if re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["injected"]) and not inputs[0].endswith(".xml")]
    for row in iso:
        assert any(f.code == "DATE-FORMAT" and row["field"] in f.fields for f in result.findings), row
    children = {r["child"] for r in rows if r not in iso}
    reported = {f.child for f in result.findings if f.severity in ("error", "query", "notice") and f.child}
    assert children <= reported, sorted(children - reported)
    assert result.exit_status() == 1
