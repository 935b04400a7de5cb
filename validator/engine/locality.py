"""Which rules look within one child only, and which columns a rule reads: what running a return in pieces of
children (validator/chunked.py) rests on. Both are decided from the compiled rule, never from its code.

A rule is *child-local* when every record it relates a record to has the same child id (each relation's ``on``
pairs the child key with itself), or is a record of a return-level table (the CIN header, with no child key,
which every piece carries whole); and it uses no function that looks over the whole table (``duplicated``,
``count``, ``rows``), no sequence other than within a child, no care history and no derived data. Run on the
records of some children only, such a rule flags exactly the records of those children it flags on the whole
return. Any other rule is *cross-child*: it is run once on the whole return, on the columns it reads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..dataset import FILE, LINE, ROW
from ..ingest.coerce import RAW_SUFFIX
from ..schema import ReturnSchema
from .expr import CONSTANTS, Compiled
from .functions import FUNCTIONS
from .rule import ALL_YEARS, Condition, Related, Rule, default_on

# Functions whose value for a record depends on other records of the table than its own child's.
WHOLE_TABLE_FUNCTIONS = frozenset({"count", "rows", "duplicated()"})


def _across_children(compiled: Compiled, child_key: str) -> set[str]:
    """ "duplicated()" when the expression compares records of different children: a ``duplicated`` whose values
    do not include the child's id (``duplicated(LAchildID, Disability)`` compares a child's own records only)."""
    for node in ast.walk(compiled.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "duplicated"
            and not any(isinstance(arg, ast.Name) and arg.id == child_key for arg in node.args)
        ):
            return {"duplicated()"}
    return set()


def _base(table: str) -> str:
    return table.split("@")[0]


def return_level_tables(schema: ReturnSchema) -> frozenset[str]:
    """Tables with no child key and no parent (the CIN header): one record for the return, in every piece."""
    return frozenset(
        name
        for name, table in schema.tables.items()
        if schema.child_key not in table.columns and not table.parent and not table.supplied_by
    )


def _compiled(rule: Rule) -> Iterator[Compiled]:
    def of_related(rel: Related) -> Iterator[Compiled]:
        for compiled in (rel.where, rel.value, rel.start, rel.end):
            if compiled is not None:
                yield compiled

    def of_condition(cond: Condition) -> Iterator[Compiled]:
        if cond.expr is not None:
            yield cond.expr
        if cond.related is not None:
            yield from of_related(cond.related)
        for part in cond.parts:
            yield from of_condition(part)

    yield from of_condition(rule.condition)
    if rule.sequence_run is not None:
        yield rule.sequence_run
    for rel in rule.related:
        yield from of_related(rel)


def _relates_within_child(rel: Related, schema: ReturnSchema, whole: frozenset[str]) -> bool:
    if _base(rel.table) in whole:
        return True
    if "@" in rel.table or rel.whole_table:
        return False
    key = schema.child_key
    return (key, key) in rel.on


def child_local(rule: Rule, schema: ReturnSchema) -> bool:
    """Whether the rule's findings for a child's records depend on that child's records (and the return-level
    tables') only. Anything this does not know to be so counts as cross-child."""
    whole = return_level_tables(schema)
    table = schema.tables.get(_base(rule.table))
    if rule.level == "return" or rule.history is not None or rule.derived_used or "@" in rule.table:
        return False
    if table is None or schema.child_key not in table.columns:
        return False
    used: set[str] = set()
    for compiled in _compiled(rule):
        used |= compiled.functions
        used |= _across_children(compiled, schema.child_key)
    if used & WHOLE_TABLE_FUNCTIONS or any(FUNCTIONS[f].kind == "aggregate" for f in used if f in FUNCTIONS):
        return False
    sequence = rule.has_sequence or any(FUNCTIONS[f].kind == "sequence" for f in used if f in FUNCTIONS)
    if sequence and schema.child_key not in rule.sequence_by:
        return False
    if not all(_relates_within_child(rel, schema, whole) for rel in rule.related):
        return False
    return all(_field_within_child(rule, schema, name, whole) for name in rule.fields)


def _field_within_child(rule: Rule, schema: ReturnSchema, name: str, whole: frozenset[str]) -> bool:
    """A field a finding shows: the record's own, a related record's, or one of its child's records in another
    table (related by default, through the child)."""
    if "." not in name:
        return True
    owner = name.split(".", 1)[0]
    if owner in rule.joins or any(owner in (r.alias, _base(r.table)) for r in rule.related):
        return True  # the relation's record, checked with the relations
    if owner in whole or owner == _base(rule.table):
        return True
    if owner not in schema.tables:
        return True  # shows nothing
    on = default_on(schema, _base(rule.table), owner)
    keys = [on] if isinstance(on, str) else list(on)
    return schema.child_key in keys


def columns_read(rule: Rule, schema: ReturnSchema) -> dict[str, set[str]]:
    """The columns of each table a rule may read, over-counted rather than under: every field its expressions
    name (with their text as read, ``FIELD@raw``), every key it relates records on, the fields its findings show,
    each table's keys and bookkeeping columns. For running a cross-child rule on a slim copy of its tables."""
    aliases: dict[str, str] = {}
    for rel in rule.related:
        aliases[rel.alias] = rel.table
    aliases.update({alias: rel.table for alias, rel in rule.joins.items()})
    used: dict[str, set[str]] = {rule.table: set()}
    for compiled in _compiled(rule):
        for ref in compiled.references:
            if ref.alias is None:
                if ref.name not in CONSTANTS and ref.name not in rule.lets:
                    used[rule.table].add(ref.name)
            elif ref.alias in aliases:
                used.setdefault(aliases[ref.alias], set()).add(ref.name)
        for node in ast.walk(compiled.tree):  # invalid(FIELD), raw(FIELD), filled(FIELD): a name, not a value
            if isinstance(node, ast.Call):
                for arg in node.args:
                    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id in aliases:
                        used.setdefault(aliases[arg.value.id], set()).add(arg.attr)
    for rel in rule.related:
        used[rule.table].update(mine for mine, _ in rel.on)
        used.setdefault(rel.table, set()).update(theirs for _, theirs in rel.on)
    used[rule.table].update(rule.sequence_by)
    used[rule.table].update(rule.sequence_order)
    for name in rule.fields:
        owner, _, col = name.rpartition(".")
        if not owner:
            used[rule.table].add(col)
            continue
        for table in {aliases.get(owner, owner), owner, owner + ALL_YEARS}:
            if _base(table) in schema.tables and (table in aliases.values() or "@" not in table):
                used.setdefault(table, set()).add(col)
    return {table: _with_keys(schema, table, cols) for table, cols in used.items()}


def _with_keys(schema: ReturnSchema, table: str, cols: set[str]) -> set[str]:
    table_def = schema.tables.get(_base(table))
    if table_def is None:
        return cols
    keys = {schema.child_key, *schema.parent_keys(_base(table))} if table_def.parent else {schema.child_key}
    found = {c for c in cols | keys if c in table_def.columns}
    return found | {c + RAW_SUFFIX for c in found} | {ROW, FILE, LINE}
