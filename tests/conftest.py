"""Shared helpers: rules written inline as YAML, loaded through the real loader and run on example tables."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from validator.engine.model import Rule, load_rule_file

PASS_FAIL = """
    examples:
      - {expect: fail, tables: {}}
      - {expect: pass, tables: {}}
"""


@pytest.fixture
def make_rule(tmp_path: Path):
    """Load one rule from a YAML snippet (the `examples` block may be left out)."""

    def make(body: str, return_type: str = "ssda903") -> Rule:
        text = textwrap.dedent(body).strip("\n")
        if "examples:" not in text:
            text += textwrap.dedent(PASS_FAIL).rstrip()
        indented = textwrap.indent(text, "    ")
        path = tmp_path / "rule.yaml"
        path.write_text("rules:\n  -" + indented[3:] + "\n", encoding="utf-8")
        (rule,) = load_rule_file(path, return_type)
        return rule

    return make


# Hypothesis budgets: "ci" (the default) keeps the property tests to seconds; "dev" runs far more examples
# locally. Choose with HYPOTHESIS_PROFILE=dev.
try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
    )
    settings.register_profile("dev", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # hypothesis is a test extra; the tests that need it skip without it
    pass
