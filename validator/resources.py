"""Where the rule and schema files are: inside the installed package, or at the top of a source checkout."""

from __future__ import annotations

import os
import sys
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


CACHE_ENV = "CSCVALIDATE_CACHE_DIR"  # where compiled rules and prepared reference data are kept; "off" for none


def user_cache_dir() -> Path | None:
    """$CSCVALIDATE_CACHE_DIR, else the user's cache folder (Linux ~/.cache/cscvalidate); None when "off".

    What is kept there is rebuilt from the sources whenever they change, and is never needed: when the folder
    cannot be written, the validator just works without it.
    """
    setting = os.environ.get(CACHE_ENV)
    if setting is not None:
        return None if setting.strip().lower() in ("", "0", "off", "no", "none") else Path(setting)
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cscvalidate"
