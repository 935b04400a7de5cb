"""The rule compiler: one rule's YAML mapping into a :class:`Rule`, every reference it makes checked."""

from __future__ import annotations

import re
from typing import Any

from ..codelists import load_codelists
from ..schema import ReturnSchema
from ..years import SUPPORTED_YEARS, YearError, expand
from .derived import child_columns, derived_columns
from .expr import CONSTANTS, Compiled, ExpressionError, compile_expression, key_shared_parts
from .functions import FUNCTIONS
from .rule import (
    ALL_YEARS,
    RETURN_COLUMNS,
    Condition,
    Example,
    History,
    Related,
    Rule,
    RuleLoadError,
    default_on,
    divergence_blocks,
)


class Builder:
    """Turns one rule's YAML mapping into a Rule, checking every reference it makes."""

    def __init__(self, schema: ReturnSchema, source: str, spec: dict[str, Any]) -> None:
        self.schema = schema
        self.source = source
        self.spec = spec
        self.code = str(spec.get("code"))
        self.table = spec["table"]
        self.aliases: dict[str, str] = {}  # alias -> table
        self.lets: set[str] = set()
        self.has_sequence = "sequence" in spec
        self.derived_used: set[str] = set()
        self.has_run = False

    def fail(self, key: str, problem: str) -> RuleLoadError:
        return RuleLoadError(f"{self.source}: rule {self.code}: {key}: {problem}")

    def columns_of(self, table: str, key: str) -> set[str]:
        base = table.split("@", 1)[0]
        if table.count("@") and not table.endswith(ALL_YEARS) and not table.split("@", 1)[1].startswith("previous"):
            raise self.fail(key, f"'{table}': only @previous (and @previous2, ...) or @all may follow a table name")
        if base not in self.schema.tables:
            known = ", ".join(sorted(self.schema.tables))
            raise self.fail(key, f"unknown table '{table}' (tables of {self.schema.return_type}: {known})")
        if table.endswith(ALL_YEARS):  # every year's records: no derived columns, which are worked out per year
            return set(self.schema.tables[base].columns) | set(RETURN_COLUMNS)
        columns = set(self.schema.tables[base].columns) | set(derived_columns(self.schema.return_type, base))
        if self.schema.child_key in columns:
            columns |= set(child_columns(self.schema.return_type))
        return columns

    def compile(self, source: str, key: str, base_table: str | None, aliases: dict[str, str]) -> Compiled:
        try:
            compiled = compile_expression(source, set(FUNCTIONS))
        except ExpressionError as exc:
            raise self.fail(key, str(exc)) from None
        for fn in compiled.functions:
            if (
                FUNCTIONS[fn].kind == "sequence"
                and not self.has_sequence
                and fn.startswith(("prev", "next", "is_", "pos"))
            ):
                raise self.fail(key, f"{fn}() needs a `sequence:` (by / order) on the rule")
            if fn.startswith("run_") and not self.has_run:
                raise self.fail(key, f"{fn}() needs `run:` in the rule's `sequence:`")
            if FUNCTIONS[fn].kind == "aggregate" and self.spec["level"] != "return":
                raise self.fail(key, f"{fn}() sums over the whole table and is only for level: return rules")
        base_cols = self.columns_of(base_table, key) if base_table else set()
        derived = {c for t in self.schema.tables for c in derived_columns(self.schema.return_type, t)}
        derived |= set(child_columns(self.schema.return_type))
        self.derived_used |= {ref.name for ref in compiled.references if ref.name in derived}
        for ref in compiled.references:
            if ref.alias is None:
                if ref.name in base_cols or ref.name in self.lets or ref.name in CONSTANTS:
                    continue
                raise self.fail(
                    key,
                    f"'{ref.name}' in '{source}' is not a field of {base_table}, a let value "
                    "or a constant (collection_start, collection_end, reference_date, census_start, la, year)",
                )
            if ref.alias not in aliases:
                raise self.fail(key, f"'{ref.alias}.{ref.name}': no join or related table is called '{ref.alias}'")
            if ref.name not in self.columns_of(aliases[ref.alias], key):
                raise self.fail(key, f"'{ref.alias}.{ref.name}': {aliases[ref.alias]} has no field {ref.name}")
        return compiled

    def related(self, spec: dict[str, Any], key: str, default_alias: str | None = None) -> Related:
        table = spec["table"]
        related_cols = self.columns_of(table, key)
        base_cols = self.columns_of(self.table, key)
        alias = spec.get("as") or default_alias or table.split("@")[0].lower()
        on_spec = spec.get("on", self._default_on(table))
        if isinstance(on_spec, str):
            pairs = ((on_spec, on_spec),)
        elif isinstance(on_spec, list):
            pairs = tuple((c, c) for c in on_spec)
        else:
            pairs = tuple(on_spec.items())
        for mine, theirs in pairs:
            if mine not in base_cols:
                raise self.fail(key, f"on: {self.table} has no field {mine}")
            if theirs not in related_cols:
                raise self.fail(key, f"on: {table} has no field {theirs}")
        if spec.get("exclude_self") and table != self.table:
            raise self.fail(key, "exclude_self only applies when the related table is the rule's own table")
        aliases = {**self.aliases, alias: table}
        where = self.compile(spec["where"], key + ".where", self.table, aliases) if "where" in spec else None
        value = self.compile(spec["value"], key + ".value", self.table, aliases) if "value" in spec else None
        start = self.compile(spec["start"], key + ".start", self.table, aliases) if "start" in spec else None
        end = self.compile(spec["end"], key + ".end", self.table, aliases) if "end" in spec else None
        whole = key.startswith("let.") and self.spec["level"] == "return" and "on" not in spec
        return Related(
            table,
            alias,
            pairs,
            where,
            bool(spec.get("exclude_self")),
            value,
            bool(spec.get("optional")),
            whole,
            start,
            end,
        )

    def _default_on(self, table: str) -> str | list[str]:
        return default_on(self.schema, self.table, table)

    def condition(self, spec: Any, key: str) -> Condition:
        if isinstance(spec, str):
            compiled = self.compile(spec, key, self.table, self.aliases)
            key_shared_parts(compiled)  # kept with the compiled rule: sharing needs them on every run
            return Condition("expr", expr=compiled)
        ((op, body),) = spec.items()
        if op in ("all", "any"):
            return Condition(op, parts=tuple(self.condition(p, f"{key}.{op}[{i}]") for i, p in enumerate(body)))
        if op == "not":
            return Condition("not", parts=(self.condition(body, key + ".not"),))
        return Condition(op, related=self.related(body, f"{key}.{op}"))

    def build(self, return_type: str) -> Rule:
        spec = self.spec
        years = self.years(return_type)
        base_cols = self.columns_of(self.table, "table")
        joins: dict[str, Related] = {}
        for alias, jspec in (spec.get("join") or {}).items():
            joins[alias] = self.related(jspec, f"join.{alias}", default_alias=alias)
            self.aliases[alias] = jspec["table"]
        by_cols, order, run = self.sequence(base_cols, joins)
        lets = self.let_values()
        condition = self.condition(spec["condition"], "condition")
        history = self.history()
        self.check_fields(base_cols, joins)
        self.check_codelists(return_type, years)
        examples = tuple(self.example(i, e) for i, e in enumerate(spec["examples"]))
        for block in divergence_blocks(spec):
            if block["example"] not in {e.name for e in examples}:
                raise self.fail("divergence.example", f"no example is named '{block['example']}'")
        if not any(e.expect == "fail" for e in examples) or not any(e.expect == "pass" for e in examples):
            raise self.fail("examples", "needs at least one failing and one passing example")
        return Rule(
            code=self.code,
            return_type=return_type,
            message=spec["message"].strip(),
            severity=spec["severity"],
            level=spec["level"],
            table=self.table,
            fields=tuple(spec["fields"]),
            years=years,
            condition=condition,
            joins=joins,
            lets=lets,
            sequence_by=by_cols,
            sequence_order=order,
            sequence_run=run,
            has_sequence=self.has_sequence,
            derived_used=frozenset(self.derived_used),
            examples=examples,
            history=history,
            description=str(spec.get("description", "")).strip(),
            notes=str(spec.get("notes", "")).strip(),
            source=self.source,
            spec=spec,
        )

    def years(self, return_type: str) -> tuple[str, ...]:
        try:
            years = tuple(expand(self.spec["years"], SUPPORTED_YEARS[return_type]))
        except YearError as exc:
            raise self.fail("years", str(exc)) from None
        if not years:
            raise self.fail("years", "names no supported collection year")
        return years

    def sequence(
        self, base_cols: set[str], joins: dict[str, Related]
    ) -> tuple[tuple[str, ...], tuple[str, ...], Compiled | None]:
        """The rule's `sequence:`: its group keys (the child by default), its order, and its `run` expression."""
        seq = self.spec.get("sequence") or {}
        by = seq.get("by", self.schema.child_key if self.schema.child_key in base_cols else [])
        by_cols = tuple([by] if isinstance(by, str) else by)
        order = tuple(seq.get("order", ()))
        for col in (*by_cols, *order):
            if col not in base_cols and col not in joins_columns(joins, self):
                raise self.fail("sequence", f"{self.table} has no field {col}")
        self.has_run = "run" in seq
        run = self.compile(seq["run"], "sequence.run", self.table, self.aliases) if "run" in seq else None
        return by_cols, order, run

    def let_values(self) -> dict[str, tuple[str, Related]]:
        lets: dict[str, tuple[str, Related]] = {}
        for name, lspec in (self.spec.get("let") or {}).items():
            ((kind, rspec),) = lspec.items()
            if kind in ("min", "max", "sum") and "value" not in rspec:
                raise self.fail(f"let.{name}", f"{kind} needs a `value` expression")
            if (kind == "covered") != ("start" in rspec and "end" in rspec) or (
                kind != "covered" and ("start" in rspec or "end" in rspec)
            ):
                raise self.fail(f"let.{name}", "`start` and `end` go together, and only with covered")
            if kind == "covered" and self.spec["level"] == "return" and "on" not in rspec:
                raise self.fail(f"let.{name}", "covered counts days per record: give `on`")
            lets[name] = (kind, self.related(rspec, f"let.{name}"))
            self.lets.add(name)
        return lets

    def history(self) -> History | None:
        if "history" not in self.spec:
            return None
        hspec = self.spec["history"]
        if hspec["table"] not in self.schema.tables:
            raise self.fail("history.table", f"unknown table '{hspec['table']}' (give a table's plain name)")
        when = hspec.get("when")
        return History(
            hspec["table"],
            self.compile(hspec["from"], "history.from", self.table, self.aliases),
            self.compile(when, "history.when", self.table, self.aliases) if when else None,
        )

    def check_fields(self, base_cols: set[str], joins: dict[str, Related]) -> None:
        for name in self.spec["fields"]:
            col = name.split(".", 1)[-1]
            owner = name.split(".", 1)[0] if "." in name else self.table
            if "." in name and owner in self.schema.tables:
                if col not in self.columns_of(owner, "fields"):
                    raise self.fail("fields", f"{owner} has no field {col}")
            elif "." in name and owner in joins:
                continue
            elif col not in base_cols:
                raise self.fail("fields", f"{self.table} has no field {col}")

    def check_codelists(self, return_type: str, years: tuple[str, ...]) -> None:
        lists = load_codelists(return_type)
        for cond_src in _all_sources(self.spec):
            for list_name in _codelist_names(cond_src):
                if list_name not in lists:
                    raise self.fail("codes", f"no code list named {list_name}")
                missing_years = [y for y in years if y not in lists[list_name].by_year]
                if missing_years:
                    raise self.fail("codes", f"code list {list_name} has no codes for {', '.join(missing_years)}")

    def example(self, i: int, spec: dict[str, Any]) -> Example:
        for table in spec["tables"]:
            self.columns_of(table, f"examples[{i}].tables")
        return Example(
            name=spec.get("name", f"example {i + 1}"),
            expect=spec["expect"],
            tables=spec["tables"],
            year=spec.get("year"),
            context=dict(spec.get("context") or {}),
            absent=tuple(spec.get("absent", ())),
            flagged=tuple(spec["flagged"]) if "flagged" in spec else None,
            unconfirmed=tuple(spec["unconfirmed"]) if "unconfirmed" in spec else None,
            postcodes=tuple(spec["postcodes"]) if "postcodes" in spec else None,
        )


def joins_columns(joins: dict[str, Related], builder: Builder) -> set[str]:
    return {f"{alias}.{c}" for alias, r in joins.items() for c in builder.columns_of(r.table, "join")}


def _all_sources(spec: Any) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, dict):
        return [s for k, v in spec.items() if k != "examples" for s in _all_sources(v)]
    if isinstance(spec, list):
        return [s for v in spec for s in _all_sources(v)]
    return []


def _codelist_names(source: str) -> list[str]:
    return re.findall(r"codes\(\s*['\"]([^'\"]+)['\"]\s*\)", source)
