"""Where the rule and schema files are: inside the installed package, or at the top of a source checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """The folder ``rules`` or ``schemas``: packaged copy first (wheel), then the source tree's."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is missing from this installation")


def rules_dir(return_type: str) -> Path:
    return data_dir("rules") / return_type


def schemas_dir(return_type: str) -> Path:
    return data_dir("schemas") / return_type
