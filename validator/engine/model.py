"""Rules as loaded from YAML: checked against the rule schema, expressions compiled, references resolved."""

from __future__ import annotations

import gc
import hashlib
import pickle
import sys
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema
import yaml

from .._version import __version__
from ..cache import read_signed, write_signed
from ..codelists import load_codelists
from ..resources import rules_dir, schemas_dir, user_cache_dir
from ..schema import ReturnSchema, load_schema
from ..yamlio import load_yaml_with_nodes
from ..years import SUPPORTED_YEARS, YearError, expand
from .derived import child_columns, derived_columns
from .expr import CONSTANTS, Compiled, ExpressionError, compile_expression
from .functions import FUNCTIONS
from .rule_schema import RULE_FILE
from .rule_text import written_out

if TYPE_CHECKING:  # jsonschema is imported only to explain a rule file that fails the fast check
    import jsonschema

NOT_RULE_FILES = {"codelists.yaml", "divergences.yaml", "file_divergences.yaml"}  # data files beside the rules


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
        """Tables the rule cannot run without (optional related tables are not among them)."""
        optional = {r.table for r in self.related if r.optional} - {r.table for r in self.related if not r.optional}
        needed = [self.table] + [r.table for r in self.related if r.table not in optional]
        # Table@all needs this year's table; the earlier years' are used when given.
        return list(dict.fromkeys(t.removesuffix(ALL_YEARS) for t in needed))

    @property
    def tables_used(self) -> list[str]:
        return list(dict.fromkeys([self.table] + [r.table for r in self.related]))


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


class _Builder:
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
            return Condition("expr", expr=self.compile(spec, key, self.table, self.aliases))
        ((op, body),) = spec.items()
        if op in ("all", "any"):
            return Condition(op, parts=tuple(self.condition(p, f"{key}.{op}[{i}]") for i, p in enumerate(body)))
        if op == "not":
            return Condition("not", parts=(self.condition(body, key + ".not"),))
        return Condition(op, related=self.related(body, f"{key}.{op}"))

    def build(self, return_type: str) -> Rule:
        spec = self.spec
        try:
            years = tuple(expand(spec["years"], SUPPORTED_YEARS[return_type]))
        except YearError as exc:
            raise self.fail("years", str(exc)) from None
        if not years:
            raise self.fail("years", "names no supported collection year")
        base_cols = self.columns_of(self.table, "table")
        joins: dict[str, Related] = {}
        for alias, jspec in (spec.get("join") or {}).items():
            joins[alias] = self.related(jspec, f"join.{alias}", default_alias=alias)
            self.aliases[alias] = jspec["table"]
        seq = spec.get("sequence") or {}
        by = seq.get("by", self.schema.child_key if self.schema.child_key in base_cols else [])
        by_cols = tuple([by] if isinstance(by, str) else by)
        order = tuple(seq.get("order", ()))
        for col in (*by_cols, *order):
            if col not in base_cols and col not in joins_columns(joins, self):
                raise self.fail("sequence", f"{self.table} has no field {col}")
        self.has_run = "run" in seq
        run = self.compile(seq["run"], "sequence.run", self.table, self.aliases) if "run" in seq else None
        lets: dict[str, tuple[str, Related]] = {}
        for name, lspec in (spec.get("let") or {}).items():
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
        condition = self.condition(spec["condition"], "condition")
        history = None
        if "history" in spec:
            hspec = spec["history"]
            if hspec["table"] not in self.schema.tables:
                raise self.fail("history.table", f"unknown table '{hspec['table']}' (give a table's plain name)")
            when = hspec.get("when")
            history = History(
                hspec["table"],
                self.compile(hspec["from"], "history.from", self.table, self.aliases),
                self.compile(when, "history.when", self.table, self.aliases) if when else None,
            )
        for name in spec["fields"]:
            col = name.split(".", 1)[-1]
            owner = name.split(".", 1)[0] if "." in name else self.table
            if "." in name and owner in self.schema.tables:
                if col not in self.columns_of(owner, "fields"):
                    raise self.fail("fields", f"{owner} has no field {col}")
            elif "." in name and owner in joins:
                continue
            elif col not in base_cols:
                raise self.fail("fields", f"{self.table} has no field {col}")
        lists = load_codelists(return_type)
        for cond_src in _all_sources(spec):
            for list_name in _codelist_names(cond_src):
                if list_name not in lists:
                    raise self.fail("codes", f"no code list named {list_name}")
                missing_years = [y for y in years if y not in lists[list_name].by_year]
                if missing_years:
                    raise self.fail("codes", f"code list {list_name} has no codes for {', '.join(missing_years)}")
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


def divergence_blocks(spec: dict[str, Any]) -> list[dict[str, str]]:
    """A rule's `divergence:` blocks: none, one, or a list of them."""
    block = spec.get("divergence")
    if not block:
        return []
    return list(block) if isinstance(block, list) else [block]


def joins_columns(joins: dict[str, Related], builder: _Builder) -> set[str]:
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
    import re

    return re.findall(r"codes\(\s*['\"]([^'\"]+)['\"]\s*\)", source)


def _rule_texts(text: str, root: Any) -> list[tuple[int, str]]:
    """(first line, YAML text) of each entry of the file's `rules:` list, as written (comments and all)."""
    lines = text.splitlines()
    out: list[tuple[int, str]] = []
    if root is None or not isinstance(root, yaml.MappingNode):
        return out
    for key, value in root.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            items = value.value
            for i, item in enumerate(items):
                start = item.start_mark.line
                end = items[i + 1].start_mark.line - 1 if i + 1 < len(items) else item.end_mark.line
                block = lines[start : end + 1]
                indent = len(block[0]) - len(block[0].lstrip())  # the "- " of the entry
                out.append((start + 1, "\n".join(x[indent:] for x in block).rstrip()))
    return out


@cache
def _rule_file_validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(RULE_FILE)


@cache
def _fast_rule_file_check() -> Any:
    """The rule-file schema compiled to Python: a fast yes/no. jsonschema then explains any no in detail."""
    return fastjsonschema.compile(RULE_FILE)


def _valid_fast(data: Any) -> bool:
    try:
        _fast_rule_file_check()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def load_rule_file(path: Path, return_type: str) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
        data, root = load_yaml_with_nodes(text)
        texts = _rule_texts(text, root)
    except yaml.YAMLError as exc:
        raise RuleLoadError(f"{path}: not valid YAML: {exc}") from None
    errors = (
        []
        if _valid_fast(data)
        else sorted(_rule_file_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    )
    if errors:
        err = errors[0]
        where = list(err.absolute_path)
        code = "?"
        if len(where) >= 2 and where[0] == "rules" and isinstance(where[1], int):
            code = str((data["rules"][where[1]] or {}).get("code", f"#{where[1] + 1}"))
            where = where[2:]
        key = ".".join(str(p) for p in where) or "(rule)"
        raise RuleLoadError(f"{path}: rule {code}: {key}: {_short(err)}")
    schema = load_schema(return_type)
    shown = written_out(text, texts, data["rules"])  # shared (anchored) parts written out where they are used
    rules = []
    for i, spec in enumerate(data["rules"]):
        line, source_text = (texts[i][0], shown[i]) if i < len(texts) else (0, "")
        rule = _Builder(schema, f"{path}:{line}" if line else str(path), spec).build(return_type)
        rules.append(replace(rule, source=str(path), line=line, text=source_text))
    return rules


def _short(err: jsonschema.ValidationError) -> str:
    if err.validator == "additionalProperties":
        return err.message.replace("Additional properties are not allowed", "unknown key")
    if err.validator == "oneOf" and err.context:
        return min((e.message for e in err.context), key=len)
    return err.message


@cache
def load_rules(return_type: str) -> tuple[Rule, ...]:
    """Every rule of a return, checked; versions of one code must not share a year.

    Reading, checking and compiling the rule files takes most of a second, so the compiled rules are kept in the
    user's cache folder (see :func:`rules_cache_dir`), under a fingerprint of everything they are built from: the
    rule files, code lists and table definitions, and the validator's own code. A change to any of them gives a
    new fingerprint, so a stale cache is never used. A cache that cannot be read or written is passed over.
    """
    if rules_cache_dir() is None:
        return _load_rules_from_files(return_type)
    fingerprint = _rules_fingerprint(return_type)
    # One file per installation (its rules folder) and return type; a newer fingerprint replaces the older file.
    prefix = f"rules-{return_type}-{hashlib.sha256(str(rules_dir(return_type).resolve()).encode()).hexdigest()[:12]}-"
    name = f"{prefix}{fingerprint[:40]}.pickle"
    cached = _read_rules_cache(name, fingerprint)
    if cached is not None:
        return cached
    rules = _load_rules_from_files(return_type)
    write_signed(
        name, pickle.dumps((fingerprint, rules), protocol=pickle.HIGHEST_PROTOCOL), replaces=f"{prefix}*.pickle"
    )
    return rules


def rules_cache_dir() -> Path | None:
    """Where compiled rules are kept (:func:`validator.resources.user_cache_dir`); None for no cache."""
    return user_cache_dir()


def _rules_fingerprint(return_type: str) -> str:
    """A hash of every file the compiled rules depend on, and of the Python and validator versions."""
    digest = hashlib.sha256(f"{sys.version}|{__version__}|{pickle.HIGHEST_PROTOCOL}".encode())
    package = Path(__file__).resolve().parent.parent
    folder = rules_dir(return_type)
    files = [*sorted(folder.glob("*.yaml")), schemas_dir(return_type) / "tables.yaml", *sorted(package.rglob("*.py"))]
    for path in files:
        digest.update(str(path.resolve()).encode() + b"\0")  # the rules remember their file's path
        digest.update(path.read_bytes() if path.is_file() else b"(absent)")
        digest.update(b"\0")
    return digest.hexdigest()


def _read_rules_cache(name: str, fingerprint: str) -> tuple[Rule, ...] | None:
    data = read_signed(name)  # None unless the file is signed with the user's key: never unpickle a planted file
    if data is None:
        return None
    gc.disable()  # unpickling many small objects: the cycle collector would only slow it down
    try:
        stored, rules = pickle.loads(data)
    except Exception:  # a file of another version of the validator: rebuilt from the rule files
        return None
    finally:
        gc.enable()
    if stored != fingerprint or not isinstance(rules, tuple) or not all(isinstance(r, Rule) for r in rules):
        return None
    return rules


def _load_rules_from_files(return_type: str) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for path in sorted(rules_dir(return_type).glob("*.yaml")):
        if path.name in NOT_RULE_FILES:
            continue
        rules.extend(load_rule_file(path, return_type))
    seen: dict[tuple[str, str], str] = {}
    for rule in rules:
        for year in rule.years:
            key = (rule.code, year)
            if key in seen:
                raise RuleLoadError(
                    f"{rule.source}: rule {rule.code}: years: {year} is already covered by a version in {seen[key]}"
                )
            seen[key] = rule.source
    return tuple(rules)


def rules_for(return_type: str, year: str) -> list[Rule]:
    return [r for r in load_rules(return_type) if year in r.years]


def find_rules(code: str, return_type: str | None = None) -> list[Rule]:
    """Every version of rule ``code`` (case-blind), of one return or of every return (`rules show`)."""
    wanted = code.strip().upper()
    returns = [return_type] if return_type else list(SUPPORTED_YEARS)
    return [rule for ret in returns for rule in load_rules(ret) if rule.code.upper() == wanted]


def rule_heading(rule: Rule) -> str:
    """What `rules show` prints above a rule's YAML: its years, severity, level, file and line."""
    years = f"{rule.years[0]}..{rule.years[-1]}" if len(rule.years) > 1 else rule.years[0]
    return f"{years} ({rule.severity}, {rule.level}) — {Path(rule.source).name} line {rule.line}"
