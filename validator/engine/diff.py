"""`rules diff`: what changed in a return's rules between two collection years.

A rule is *added* when its code runs in the later year only, *removed* when it runs in the earlier year only, and
*changed* when the version that runs in each year differs in what it checks or reports: message, severity, level,
the table it flags, the fields it shows, the tables it reads, its logic (condition, joins, lets,
sequence: compared with YAML anchors resolved), or the code lists it uses; a change in its recorded divergence
from the community tool is shown too (the reference changed beside it). A code list counts as changed when
the rule uses it in both years and its codes differ between them, even when the rule itself is the same entry.
Examples, notes and descriptions are not compared: they explain a rule, they do not change what it finds.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..codelists import load_codelists
from ..outputs.details import code_key as _code_key
from ..schema import RETURN_NAMES
from .model import rules_for
from .rule import Rule, divergence_blocks
from .rule_text import dump_yaml

LOGIC_KEYS = ("join", "let", "sequence", "condition")


def logic_of(rule: Rule) -> dict[str, Any]:
    """The parts of a rule's YAML that decide what it flags."""
    return {key: rule.spec[key] for key in LOGIC_KEYS if key in rule.spec}


def logic_text(rule: Rule) -> str:
    return dump_yaml(logic_of(rule))


def codelists_used(rule: Rule) -> list[str]:
    """The code lists a rule's logic names with codes('NAME'), in order of first use."""
    names = re.findall(r"codes\(\s*['\"]([^'\"]+)['\"]\s*\)", logic_text(rule))
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Change:
    """One aspect of a rule that differs between the two years."""

    aspect: str  # message | severity | level | table | fields | tables | logic | divergence | codelists | codelist NAME
    before: str
    after: str
    detail: tuple[str, ...] = ()  # a unified diff of the logic; the codes added and removed from a code list

    def to_dict(self) -> dict[str, Any]:
        return {"aspect": self.aspect, "from": self.before, "to": self.after, "detail": list(self.detail)}


@dataclass(frozen=True)
class RuleChange:
    code: str
    before: Rule
    after: Rule
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class RulesDiff:
    return_type: str
    year_from: str
    year_to: str
    added: tuple[Rule, ...]
    removed: tuple[Rule, ...]
    changed: tuple[RuleChange, ...]
    unchanged: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "return": self.return_type,
            "from": self.year_from,
            "to": self.year_to,
            "added": [_summary(r) for r in self.added],
            "removed": [_summary(r) for r in self.removed],
            "changed": [
                {"code": c.code, "message": c.after.message, "changes": [x.to_dict() for x in c.changes]}
                for c in self.changed
            ],
            "unchanged": self.unchanged,
        }


def _summary(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "message": rule.message,
        "severity": rule.severity,
        "level": rule.level,
        "table": rule.table,
        "fields": list(rule.fields),
        "tables": rule.tables_used,
        "codelists": codelists_used(rule),
    }


def _codes_of(return_type: str, name: str, year: str) -> frozenset[str] | None:
    codelist = load_codelists(return_type).get(name)
    return None if codelist is None else codelist.by_year.get(year)


def _joined(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "(none)"


def compare_rules(before: Rule, after: Rule, year_from: str, year_to: str) -> tuple[Change, ...]:
    """How the version of a rule that runs in ``year_to`` differs from the one in ``year_from``."""
    changes: list[Change] = []
    for aspect in ("message", "severity", "level", "table"):
        old, new = str(getattr(before, aspect)), str(getattr(after, aspect))
        if old != new:
            changes.append(Change(aspect, old, new))
    if before.fields != after.fields:
        changes.append(Change("fields", _joined(before.fields), _joined(after.fields)))
    if before.tables_used != after.tables_used:
        changes.append(Change("tables", _joined(before.tables_used), _joined(after.tables_used)))
    old_logic, new_logic = logic_text(before), logic_text(after)
    if old_logic != new_logic:
        diff = difflib.unified_diff(
            old_logic.splitlines(), new_logic.splitlines(), year_from, year_to, n=2, lineterm=""
        )
        changes.append(Change("logic", old_logic, new_logic, tuple(diff)))
    old_div, new_div = (
        dump_yaml(divergence_blocks(r.spec)) if r.spec.get("divergence") else "(none)" for r in (before, after)
    )
    if old_div != new_div:  # what it finds is the same, but the reference tool's behaviour beside it changed
        diff = difflib.unified_diff(old_div.splitlines(), new_div.splitlines(), year_from, year_to, n=1, lineterm="")
        changes.append(Change("divergence", old_div, new_div, tuple(diff)))
    old_lists, new_lists = codelists_used(before), codelists_used(after)
    if old_lists != new_lists:
        changes.append(Change("codelists", _joined(old_lists), _joined(new_lists)))
    for name in (n for n in new_lists if n in old_lists):
        old_codes = _codes_of(before.return_type, name, year_from) or frozenset()
        new_codes = _codes_of(after.return_type, name, year_to) or frozenset()
        if old_codes != new_codes:
            detail = []
            if new_codes - old_codes:
                detail.append("added: " + ", ".join(sorted(new_codes - old_codes)))
            if old_codes - new_codes:
                detail.append("removed: " + ", ".join(sorted(old_codes - new_codes)))
            changes.append(
                Change(f"codelist {name}", ", ".join(sorted(old_codes)), ", ".join(sorted(new_codes)), tuple(detail))
            )
    return tuple(changes)


def diff_rule_sets(
    return_type: str, year_from: str, year_to: str, before: Sequence[Rule], after: Sequence[Rule]
) -> RulesDiff:
    """The difference between the rules that run in ``year_from`` (``before``) and in ``year_to`` (``after``)."""
    old = {r.code: r for r in before}
    new = {r.code: r for r in after}
    changed = []
    unchanged = 0
    for code in sorted(old.keys() & new.keys(), key=_code_key):
        changes = compare_rules(old[code], new[code], year_from, year_to)
        if changes:
            changed.append(RuleChange(code, old[code], new[code], changes))
        else:
            unchanged += 1
    return RulesDiff(
        return_type,
        year_from,
        year_to,
        added=tuple(new[c] for c in sorted(new.keys() - old.keys(), key=_code_key)),
        removed=tuple(old[c] for c in sorted(old.keys() - new.keys(), key=_code_key)),
        changed=tuple(changed),
        unchanged=unchanged,
    )


def diff_years(return_type: str, year_from: str, year_to: str) -> RulesDiff:
    """The rules of one return added, removed and changed from ``year_from`` to ``year_to``."""
    return diff_rule_sets(
        return_type, year_from, year_to, rules_for(return_type, year_from), rules_for(return_type, year_to)
    )


# --------------------------------------------------------------------------------------------------- rendering


def render_json(diffs: Sequence[RulesDiff]) -> str:
    return json.dumps([d.to_dict() for d in diffs], indent=1, ensure_ascii=False) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _counts(d: RulesDiff) -> str:
    return f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed, {d.unchanged} unchanged"


def render_markdown(diffs: Sequence[RulesDiff]) -> str:
    out: list[str] = []
    for d in diffs:
        out += [f"# {RETURN_NAMES.get(d.return_type, d.return_type)}: rules {d.year_from} → {d.year_to}", ""]
        out += [_counts(d) + ".", ""]
        for title, rules in (("Added", d.added), ("Removed", d.removed)):
            if not rules:
                continue
            out += [f"## {title}", "", "| code | severity | table | fields | message |", "|---|---|---|---|---|"]
            out += [
                f"| {_md_cell(r.code)} | {r.severity} | {_md_cell(r.table)} | {_md_cell(', '.join(r.fields))} "
                f"| {_md_cell(r.message)} |"
                for r in rules
            ]
            out.append("")
        if d.changed:
            out += ["## Changed", ""]
        for c in d.changed:
            out += [f"### {c.code}", "", _md_cell(c.after.message), ""]
            for x in c.changes:
                if x.aspect in ("logic", "divergence"):
                    out += [f"- {x.aspect}:", "", "  ```diff", *(f"  {line}" for line in x.detail), "  ```"]
                elif x.aspect.startswith("codelist "):
                    out.append(f"- {_md_code(x.aspect)} codes changed: " + "; ".join(x.detail))
                else:
                    out.append(f"- {x.aspect}: {_md_cell(x.before)} → {_md_cell(x.after)}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_console(diffs: Sequence[RulesDiff], console: Any) -> None:
    """Rich output for a terminal; every text from the rules is escaped from rich's markup."""
    from rich.markup import escape

    for d in diffs:
        console.print(f"[bold]{d.return_type} rules {d.year_from} → {d.year_to}[/bold]: {_counts(d)}")
        for label, rules, colour in (("added", d.added, "green"), ("removed", d.removed, "red")):
            for r in rules:
                console.print(
                    f"  [{colour}]{label:8}[/{colour}] {escape(r.code):10} {escape(r.message)}", soft_wrap=True
                )
        for c in d.changed:
            aspects = ", ".join(x.aspect for x in c.changes)
            console.print(f"  [yellow]changed [/yellow] {escape(c.code):10} {escape(aspects)}")
            for x in c.changes:
                if x.aspect in ("logic", "divergence"):
                    for line in x.detail[2:]:  # the two header lines only repeat the years
                        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                        console.print(f"      [{style}]{escape(line)}[/{style}]", soft_wrap=True)
                elif x.aspect.startswith("codelist "):
                    console.print(f"      {escape(x.aspect)}: {escape('; '.join(x.detail))}", soft_wrap=True)
                else:
                    console.print(f"      {x.aspect}: {escape(x.before)} → {escape(x.after)}", soft_wrap=True)
        console.print()
