"""Every rule's own examples (YAML `examples:`), run through the real ingest typing and engine."""

from __future__ import annotations

import pytest

from validator.engine.examples import run_example
from validator.engine.model import load_rules

CASES = [
    pytest.param(rule, example, id=f"{ret}-{rule.code}-{rule.years[0]}-{i}-{example.expect}")
    for ret in ("ssda903", "cin")
    for rule in load_rules(ret)
    for i, example in enumerate(rule.examples)
]


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_rule_example(rule, example) -> None:
    outcome = run_example(rule, example)
    assert outcome.passed, f"{rule.code} '{example.name}': {outcome.detail}"


def test_every_rule_has_pass_and_fail_examples() -> None:
    for ret in ("ssda903", "cin"):
        for rule in load_rules(ret):
            kinds = {e.expect for e in rule.examples}
            assert kinds == {"pass", "fail"}, rule.code
