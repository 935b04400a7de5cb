"""The divergence register: every place our rules deliberately differ from the community reference tool.

Each rule records its own difference in a `divergence:` block (one, or a list) next to its condition and
examples. Differences that lie outside any one rule's logic (how the reference reads the files, or data its rules
share) are *file-level*: rules/<return>/file_divergences.yaml names the rules whose findings each one changes and
an example (a rule example, or a test for how a file is read) that pins what we do. This module checks them and
gathers both into rules/<return>/divergences.yaml, which a test keeps in step with their sources.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

from ..resources import rules_dir
from ..yamlio import load_yaml_file
from .model import load_rules
from .rule import RuleLoadError, divergence_blocks
from .rule_schema import FILE_DIVERGENCES

HEADER = """\
# Where our rules deliberately differ from the community reference implementation, and why.
# Generated from the `divergence:` blocks of the rule files and from file_divergences.yaml by
#   python -m validator rules divergences --return {ret} --write
# Do not edit by hand: edit the rule (or file_divergences.yaml), then regenerate. Each entry names the example
# that shows the difference.
"""


def divergences_path(return_type: str) -> Path:
    return rules_dir(return_type) / "divergences.yaml"


def file_divergences_path(return_type: str) -> Path:
    return rules_dir(return_type) / "file_divergences.yaml"


def collect(return_type: str) -> list[dict[str, object]]:
    entries = []
    for rule in load_rules(return_type):
        years = list(rule.years)
        for block in divergence_blocks(rule.spec):
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


@cache
def file_divergences(return_type: str) -> tuple[dict[str, Any], ...]:
    """The return's file-level divergences, checked: known rule codes, an example or test that exists."""
    path = file_divergences_path(return_type)
    if not path.exists():
        return ()
    return check_file_divergences(return_type, load_yaml_file(path), path)


def check_file_divergences(return_type: str, data: Any, path: Path) -> tuple[dict[str, Any], ...]:
    """``data`` (file_divergences.yaml as read) checked against the schema and the return's rules."""
    try:
        fastjsonschema.compile(FILE_DIVERGENCES)(data)
    except fastjsonschema.JsonSchemaException as exc:
        raise RuleLoadError(f"{path}: {exc.message}") from None
    rules = load_rules(return_type)
    codes = {r.code for r in rules}
    seen: set[str] = set()
    for entry in data["divergences"]:
        where = f"{path}: divergence {entry['id']}"
        if entry["id"] in seen:
            raise RuleLoadError(f"{where}: the id is used twice")
        seen.add(entry["id"])
        unknown = [c for c in entry["codes"] if c not in codes]
        if unknown:
            raise RuleLoadError(f"{where}: codes: no rule {', '.join(unknown)}")
        example = entry["example"]
        if "rule" in example:
            names = {e.name for r in rules if r.code == example["rule"] for e in r.examples}
            if example["name"] not in names:
                raise RuleLoadError(f"{where}: example: rule {example['rule']} has no example '{example['name']}'")
        else:
            _check_test(where, example["test"])
    return tuple(data["divergences"])


def _check_test(where: str, test: str) -> None:
    """A test named as an example must exist: tests/FILE.py::test_NAME (looked for beside the rules' checkout)."""
    file, name = test.split("::")
    path = rules_dir("ssda903").parent.parent / file
    if not path.exists():
        return  # an installed package carries no tests: nothing to check against
    if not re.search(rf"^def {re.escape(name)}\(", path.read_text(encoding="utf-8"), re.M):
        raise RuleLoadError(f"{where}: example: {file} has no test {name}")


def file_divergences_for(return_type: str, code: str) -> list[dict[str, Any]]:
    """The file-level divergences that change rule ``code``'s findings."""
    return [d for d in file_divergences(return_type) if code in d["codes"]]


def render_divergences(return_type: str) -> str:
    register: dict[str, Any] = {"divergences": collect(return_type)}
    file_level = [{**entry, "source": "file_divergences.yaml"} for entry in file_divergences(return_type)]
    if file_level:
        register["file_level"] = file_level
    body = yaml.safe_dump(register, sort_keys=False, allow_unicode=True, width=110)
    return HEADER.format(ret=return_type) + body
