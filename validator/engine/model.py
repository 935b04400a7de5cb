"""The rules of a return: every rule file read and compiled once, kept in the user's cache, and looked up.

The rule model itself is in :mod:`.rule` (import its names from there), the compiler in :mod:`.compiler`, reading
one rule file in :mod:`.rule_files` (``load_rule_file`` is importable from here too).
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..cache import read_signed, write_signed
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
