"""Named code lists (rules/<return>/codelists.yaml), versioned by collection year."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .resources import rules_dir
from .yamlio import load_data_file
from .years import SUPPORTED_YEARS, expand


@dataclass(frozen=True)
class CodeList:
    name: str
    description: str
    by_year: dict[str, frozenset[str]]


@cache
def load_codelists(return_type: str) -> dict[str, CodeList]:
    path = rules_dir(return_type) / "codelists.yaml"
    data = load_data_file(path) or {}
    available = SUPPORTED_YEARS[return_type]
    lists: dict[str, CodeList] = {}
    for name, spec in data.items():
        by_year: dict[str, frozenset[str]] = {}
        versions = spec.get("versions") or [{"years": "all", "codes": spec.get("codes", [])}]
        for version in versions:
            codes = frozenset(str(c) for c in version["codes"])
            for year in expand(version["years"], available):
                if year in by_year:
                    raise ValueError(f"{path}: code list {name} has two versions for {year}")
                by_year[year] = codes
        lists[name] = CodeList(name=name, description=str(spec.get("description", "")), by_year=by_year)
    return lists


def codes_for(return_type: str, name: str, year: str) -> frozenset[str]:
    """The codes of list ``name`` in ``year``; KeyError names what is missing."""
    lists = load_codelists(return_type)
    if name not in lists:
        raise KeyError(f"no code list named {name} for {return_type}")
    if year not in lists[name].by_year:
        raise KeyError(f"code list {name} has no codes for {year}")
    return lists[name].by_year[year]
