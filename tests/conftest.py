"""Shared helpers: rules written inline as YAML, loaded through the real loader and run on example tables."""

from __future__ import annotations

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
