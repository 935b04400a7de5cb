"""The rules of a return: every rule file read and compiled once, kept in the user's cache, and looked up.

The rule model itself is in :mod:`.rule` (import its names from there), the compiler in :mod:`.compiler`, reading
one rule file in :mod:`.rule_files` (``load_rule_file`` is importable from here too).
"""

from __future__ import annotations

import ast
import gc
import hashlib
import io
import pickle
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cache import SourceStamp, checks_hold, code_stamp, content_checks, read_signed, source_stamp, write_signed
from ..resources import rules_dir, schemas_dir, user_cache_dir
from ..years import SUPPORTED_YEARS
from .rule import Rule, RuleLoadError

if TYPE_CHECKING:
    from .rule_files import load_rule_file

__all__ = [
    "Rule",
    "RuleLoadError",
    "find_rules",
    "load_rule_file",
    "load_rules",
    "rule_heading",
    "rules_for",
]


def __getattr__(name: str) -> Any:
    """``load_rule_file`` from :mod:`.rule_files`, imported when first asked: the compiler it brings is needed only
    when the rules are not in the cache."""
    if name == "load_rule_file":
        from .rule_files import load_rule_file

        return load_rule_file
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def load_rules(return_type: str) -> tuple[Rule, ...]:
    """Every rule of a return, checked; versions of one code must not share a year.

    Reading, checking and compiling the rule files takes most of a second, so the compiled rules are kept in the
    user's cache folder (see :func:`rules_cache_dir`), under a stamp of everything they are built from: the rule
    files, code lists and table definitions, and the validator's own code (:func:`validator.cache.source_stamp`:
    the files' identities, and the content of any changed moments before). A change to any of them gives a new
    stamp, so a stale cache is never used. A cache that cannot be read or written is passed over.

    What a run does not need of a rule (its parsed YAML ``spec`` and its ``examples``, two thirds of the file and
    of the time to read it) is kept in the same file as one pickled block, read when first asked for
    (:class:`CachedRule`).
    """
    if rules_cache_dir() is None:
        return _load_rules_from_files(return_type)
    stamp = _rules_stamp(return_type)
    # One file per installation (its rules folder) and return type; a newer stamp replaces the older file.
    prefix = f"rules-{return_type}-{hashlib.sha256(str(rules_dir(return_type).resolve()).encode()).hexdigest()[:12]}-"
    name = f"{prefix}{stamp.digest[:40]}.pickle"
    cached = _read_rules_cache(name, stamp.digest)
    if cached is not None:
        return cached
    rules = _load_rules_from_files(return_type)
    hot, cold = _split(rules)
    body = io.BytesIO()
    _RulesPickler(body, pickle.HIGHEST_PROTOCOL).dump((stamp.digest, content_checks(stamp.recent), hot, cold))
    write_signed(name, body.getvalue(), replaces=f"{prefix}*.pickle")
    return rules


def rules_cache_dir() -> Path | None:
    """Where compiled rules are kept (:func:`validator.resources.user_cache_dir`); None for no cache."""
    return user_cache_dir()


def _rules_stamp(return_type: str) -> SourceStamp:
    """The stamp of the files a return's compiled rules depend on: its rule files (the code lists among them), its
    table definitions and the validator's code."""
    code = code_stamp()
    sources = [*sorted(rules_dir(return_type).glob("*.yaml")), schemas_dir(return_type) / "tables.yaml"]
    stamp = source_stamp(sources, salt=code.digest)
    return SourceStamp(stamp.digest, code.recent + stamp.recent)


def _read_rules_cache(name: str, digest: str) -> tuple[Rule, ...] | None:
    data = read_signed(name)  # None unless the file is signed with the user's key: never unpickle a planted file
    if data is None:
        return None
    # Unpickling some 30,000 small objects: the cycle collector would only slow it down, and its first pass after
    # (5-10 ms) would find nothing to free either: the rules live as long as the process (load_rules keeps them).
    # A process that keeps its long-lived objects frozen out of the collector's passes (the command line:
    # validator.cli._load_library) freezes them too; another (a library caller, the web app) leaves them to it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        stored, checks, rules, cold = pickle.loads(data)
    except Exception:  # a file of another version of the validator: rebuilt from the rule files
        return None
    finally:
        if collecting:
            if gc.get_freeze_count():
                gc.freeze()
            gc.enable()
    if stored != digest or not isinstance(rules, tuple) or not isinstance(cold, ColdFields):
        return None
    if not all(isinstance(r, CachedRule) for r in rules) or not checks_hold(checks):
        return None
    return rules


COLD_FIELDS = ("spec", "examples")  # what only the docs, `rules show`, the examples' tests and checks read


class ColdFields:
    """The cold fields of a return's cached rules, as one pickled block, unpickled when a rule's are first asked."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self._values: list[dict[str, Any]] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (ColdFields, (self.blob,))

    def of(self, index: int) -> dict[str, Any]:
        if self._values is None:
            self._values = pickle.loads(self.blob)
        return self._values[index]


class _Cold:
    """A cold field of a :class:`CachedRule`: read from the rules' :class:`ColdFields` when first asked, then kept
    on the rule (a non-data descriptor, so the kept value is found first from then on)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, rule: CachedRule | None, owner: type | None = None) -> Any:
        if rule is None:
            return self
        store, index = rule.__dict__["_cold"]
        value = rule.__dict__[self.name] = store.of(index)[self.name]
        return value


class CachedRule(Rule):
    """A rule as read from the rules cache: the same rule, its ``spec`` and ``examples`` read when first asked."""

    spec = _Cold()
    examples = _Cold()


class _RulesPickler(pickle.Pickler):
    """Pickles the compiled expressions' syntax trees without their nodes' positions in the expression text
    (``lineno``, ``col_offset`` ...), which nothing reads once a rule is compiled: a sixth less to unpickle."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, ast.AST):
            return (type(obj), (), {k: v for k, v in obj.__dict__.items() if k not in _POSITIONS})
        return NotImplemented


_POSITIONS = frozenset({"lineno", "col_offset", "end_lineno", "end_col_offset"})


def _split(rules: tuple[Rule, ...]) -> tuple[tuple[CachedRule, ...], ColdFields]:
    """The rules without their cold fields (each pointing to its place in the block), and that block."""
    cold = ColdFields(pickle.dumps([{k: getattr(r, k) for k in COLD_FIELDS} for r in rules], pickle.HIGHEST_PROTOCOL))
    hot: list[CachedRule] = []
    for index, rule in enumerate(rules):
        cached = object.__new__(CachedRule)
        cached.__dict__.update({k: v for k, v in rule.__dict__.items() if k not in COLD_FIELDS}, _cold=(cold, index))
        hot.append(cached)
    return tuple(hot), cold


def _load_rules_from_files(return_type: str) -> tuple[Rule, ...]:
    from .rule_files import NOT_RULE_FILES, load_rule_file

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
