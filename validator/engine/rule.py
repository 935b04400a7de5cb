"""The rule model: a rule as the engine runs it (its table, condition, related tables, sequence, examples).

Built from YAML by :mod:`.compiler`; loaded and cached by :mod:`.model`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..schema import ReturnSchema
from .expr import CONSTANTS, SHARED_NODES, Compiled, node_text


class RuleLoadError(ValueError):
    """A rule file that cannot be used; the message names the file, the rule and the key."""


@dataclass(frozen=True)
class Related:
    """Another table's records related to each record of the rule's table."""

    table: str
    alias: str
    on: tuple[tuple[str, str], ...]  # (rule table column, related table column)
    where: Compiled | None
    exclude_self: bool
    value: Compiled | None
    optional: bool = False  # an absent table counts as one with no records
    whole_table: bool = False  # return-level `let` without `on`: one value over all the table's records
    start: Compiled | None = None  # `covered`: where each related record's period starts
    end: Compiled | None = None  # `covered`: where it ends (that day not counted)


ALL_YEARS = "@all"  # Episodes@all: this year's records and those of every earlier year's return given
RETURN_COLUMNS = ("RETURN_START", "RETURN_END")  # on a Table@all record: the collection year it was returned in


@dataclass(frozen=True)
class History:
    """The care history a rule's findings rest on (`history:`): ``table`` in earlier years, from ``start``.

    A finding for which ``when`` holds (always, without it) and ``start`` is before the first collection year given
    of ``table`` (or is missing) is unconfirmed: it may be wrong for want of older returns.
    """

    table: str
    start: Compiled
    when: Compiled | None = None


@dataclass(frozen=True)
class Condition:
    op: str  # "expr" | "all" | "any" | "not" | "exists" | "none"
    expr: Compiled | None = None
    parts: tuple[Condition, ...] = ()
    related: Related | None = None


@dataclass(frozen=True)
class Example:
    name: str
    expect: str
    tables: dict[str, list[dict[str, Any]]]
    year: str | None = None
    context: dict[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    flagged: tuple[int, ...] | None = None
    unconfirmed: tuple[int, ...] | None = None  # rows whose findings must be unconfirmed (others confirmed)
    postcodes: tuple[dict[str, Any], ...] | None = None  # ONS postcode data the example brings


@dataclass(frozen=True)
class Rule:
    code: str
    return_type: str
    message: str
    severity: str
    level: str
    table: str
    fields: tuple[str, ...]
    years: tuple[str, ...]
    condition: Condition
    joins: dict[str, Related]
    lets: dict[str, tuple[str, Related]]
    sequence_by: tuple[str, ...]
    sequence_order: tuple[str, ...]
    sequence_run: Compiled | None
    has_sequence: bool
    examples: tuple[Example, ...]
    description: str
    notes: str
    source: str
    spec: dict[str, Any] = field(compare=False, repr=False)
    derived_used: frozenset[str] = frozenset()  # derived columns (e.g. POC_START, PL_LA) its expressions name
    line: int = 0  # where the rule starts in its file
    text: str = field(default="", compare=False, repr=False)  # its YAML as written, aliases written out
    history: History | None = None  # the care history its findings rest on

    @property
    def related(self) -> list[Related]:
        found = list(self.joins.values()) + [r for _, r in self.lets.values()]
        found += _related_in(self.condition)
        return found

    @property
    def tables_needed(self) -> list[str]:
        """Tables the rule cannot run without (optional related tables are not among them); worked out once per
        rule (never change the list)."""
        known: list[str] | None = self.__dict__.get("_tables_needed")
        if known is None:
            known = self.__dict__["_tables_needed"] = self._tables_needed()
        return known

    def _tables_needed(self) -> list[str]:
        optional = {r.table for r in self.related if r.optional} - {r.table for r in self.related if not r.optional}
        needed = [self.table] + [r.table for r in self.related if r.table not in optional]
        # Table@all needs this year's table; the earlier years' are used when given.
        return list(dict.fromkeys(t.removesuffix(ALL_YEARS) for t in needed))

    @property
    def tables_used(self) -> list[str]:
        return list(dict.fromkeys([self.table] + [r.table for r in self.related]))

    def shared_uses(self) -> tuple[tuple[Prefix, str], ...]:
        """Each sub-expression its condition evaluates on its table's own records that other rules may share
        (engine/shared.py), as (prefix, text); worked out once per rule, when it is compiled (kept in the rules
        cache)."""
        known: tuple[tuple[Prefix, str], ...] | None = self.__dict__.get("_shared_uses")
        if known is None:
            prefix = rule_prefix(self)
            found = (
                []
                if prefix is None
                else [
                    (prefix, node_text(node))
                    for compiled in condition_expressions(self.condition)
                    for node in ast.walk(compiled.tree.body)
                    if isinstance(node, SHARED_NODES)
                ]
            )
            known = self.__dict__["_shared_uses"] = tuple(found)
        return known

    def columns_used(self) -> dict[str, set[str]]:
        """The columns of each table that the rule's expressions read (never change the sets), worked out once per
        rule: when it is compiled, so that the rules cache keeps them."""
        known: dict[str, set[str]] | None = self.__dict__.get("_columns_used")
        if known is None:
            known = self.__dict__["_columns_used"] = _columns_used(self)
        return known


def _columns_used(rule: Rule) -> dict[str, set[str]]:
    """The columns of each table that the rule's expressions read."""
    used: dict[str, set[str]] = {}
    aliases = {alias: rel.table for alias, rel in rule.joins.items()}

    def add(compiled: Compiled | None, local: dict[str, str]) -> None:
        if compiled is None:
            return
        for ref in compiled.references:
            if ref.alias is None:
                if ref.name not in CONSTANTS and ref.name not in rule.lets:
                    used.setdefault(rule.table, set()).add(ref.name)
            elif ref.alias in local:
                used.setdefault(local[ref.alias], set()).add(ref.name)
        for node in ast.walk(compiled.tree):
            if isinstance(node, ast.Call) and node.func.id in ("invalid", "raw", "filled") and node.args:  # type: ignore[union-attr]
                arg = node.args[0]
                if isinstance(arg, ast.Name):
                    used.setdefault(rule.table, set()).add(arg.id)

    def walk(cond: Condition | None) -> None:
        if cond is None:
            return
        add(cond.expr, aliases)
        if cond.related:
            local = {**aliases, cond.related.alias: cond.related.table}
            add(cond.related.where, local)
            add(cond.related.value, local)
        for part in cond.parts:
            walk(part)

    walk(rule.condition)
    add(rule.sequence_run, aliases)
    for _, rel in rule.lets.values():
        local = {**aliases, rel.alias: rel.table}
        for compiled in (rel.where, rel.value, rel.start, rel.end):
            add(compiled, local)
    return used


Prefix = tuple[str, tuple[str, ...], tuple[str, ...], str | None]


def rule_prefix(rule: Rule) -> Prefix | None:
    """What a rule's condition values depend on besides the expression: its table and its sequence. None for a
    rule whose records are not its table's own (joins, `let` values)."""
    if rule.joins or rule.lets:
        return None
    run = rule.sequence_run.source if rule.sequence_run is not None else None
    return (rule.table, rule.sequence_by, rule.sequence_order, run)


def condition_expressions(cond: Condition) -> Iterator[Compiled]:
    """The expressions of a condition evaluated on the rule's records (not those of a related table's `where`)."""
    if cond.expr is not None:
        yield cond.expr
    for part in cond.parts:
        yield from condition_expressions(part)


def _related_in(cond: Condition) -> list[Related]:
    found = [cond.related] if cond.related else []
    for part in cond.parts:
        found += _related_in(part)
    return found


def default_on(schema: ReturnSchema, table: str, other: str) -> str | list[str]:
    """How ``table``'s records relate to ``other``'s by default: through the child; a CIN table to its parent
    through the parent's keys."""
    mine = table.split("@")[0]
    theirs = other.split("@")[0]
    tables = schema.tables
    if tables[mine].parent == theirs or (theirs == mine and tables[mine].parent):
        return list(schema.parent_keys(mine))
    if tables[theirs].parent == mine:
        return list(schema.parent_keys(theirs))
    return schema.child_key


def divergence_blocks(spec: dict[str, Any]) -> list[dict[str, str]]:
    """A rule's `divergence:` blocks: none, one, or a list of them."""
    block = spec.get("divergence")
    if not block:
        return []
    return list(block) if isinstance(block, list) else [block]
