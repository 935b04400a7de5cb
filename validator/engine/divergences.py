"""The divergence register: every place a rule deliberately differs from the community reference tool.

Each rule records its own difference in a `divergence:` block next to its condition and examples; this module
gathers them into rules/<return>/divergences.yaml, which a test keeps in step with the rules.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..resources import rules_dir
from .model import load_rules

HEADER = """\
# Where our rules deliberately differ from the community reference implementation, and why.
# Generated from the `divergence:` blocks of the rule files by
#   python -m validator rules divergences --return {ret} --write
# Do not edit by hand: edit the rule, then regenerate. Each entry names the example that shows the difference.
"""


def divergences_path(return_type: str) -> Path:
    return rules_dir(return_type) / "divergences.yaml"


def collect(return_type: str) -> list[dict[str, object]]:
    entries = []
    for rule in load_rules(return_type):
        block = rule.spec.get("divergence")
        if not block:
            continue
        years = list(rule.years)
        entries.append(
            {
                "code": rule.code,
                "years": f"{years[0]}..{years[-1]}" if len(years) > 1 else years[0],
                "reference": block["reference"],
                "ours": block["ours"],
                "why": block["why"],
                "example": block["example"],
                "rule_file": Path(rule.source).name,
            }
        )
    return sorted(entries, key=lambda e: (str(e["code"]), str(e["years"])))


def render_divergences(return_type: str) -> str:
    body = yaml.safe_dump({"divergences": collect(return_type)}, sort_keys=False, allow_unicode=True, width=110)
    return HEADER.format(ret=return_type) + body
