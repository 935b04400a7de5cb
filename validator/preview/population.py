"""``--population FILE``: ONS mid-year population estimates, for DfE's rates per 10,000 children (aged 0 to 17).

The file is CSV with a header row (column names in any case, spaces or underscores alike), in one of two layouts
(docs/preview.md, "Rates per 10,000 children"):

- long: an area code column, an ``age`` column (0, 1, ... 89, 90 or "90+") and the population, either one
  ``population`` column or one column per mid-year, ``population_2023``, ``population_2024`` ...;
- wide (ONS's MYE2 tables): an area code column and one column per age, ``0`` to ``90`` (an ``All ages`` column is
  ignored).

The area code column is one of: ``code``, ``area code``, ``area_code``, ``ladcode`` (or ``ladcode23`` etc.),
``la code``, ``geography code``. A ``sex`` column is allowed: its rows are added up, unless some rows are for
all persons (``persons``, ``all``, ``p`` or ``0``), which are then used alone.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..ingest.csv_reader import decode_bytes
from ..ingest.loader import InputError

CHILD_AGES = range(18)  # DfE's rates are per 10,000 children aged 0 to 17
PERSONS = {"persons", "all", "all persons", "p", "0"}
_CODE = re.compile(r"(code|area code|la code|ladcode\d*|lad\d*cd|geography code)")
_MID_YEAR = re.compile(r"population (\d{4})")
_AGE = re.compile(r"(\d{1,2})\+?")


@dataclass(frozen=True)
class Population:
    """The children aged 0 to 17 of one area, by mid-year (a single-figure file: the year previewed's)."""

    path: Path
    area: str
    children: dict[int, float]

    def for_year(self, year: str) -> float | None:
        """The estimate for the collection year ``year``: mid-2024 (30 June, inside the year) for 2024_25."""
        return self.children.get(int(year[:4]))

    def describe(self) -> str:
        years = ", ".join(f"mid-{y}" for y in sorted(self.children))
        return f"{self.path.name}: {self.area}, children aged 0 to 17, {years}"


def _name(cell: str) -> str:
    return " ".join(cell.strip().lower().replace("_", " ").replace("-", " ").split())


def _number(text: str, where: str) -> float:
    cleaned = text.strip().replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(f"{where}: '{text.strip()[:30]}' is not a number of people") from None
    if value < 0 or value != value:
        raise InputError(f"{where}: '{text.strip()[:30]}' is not a number of people")
    return value


def load_population(path: Path, la: str | None, year: str) -> Population:
    """The children aged 0 to 17 of ``la`` (or of the file's only area) in ``path``; InputError with a specific
    message when the file cannot be used. ``year`` (the collection year) picks the single-figure file's meaning."""
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--population {where}: cannot be read ({exc.strerror or exc})") from None
    rows = list(csv.reader(io.StringIO(decode_bytes(data).text)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise InputError(f"--population {where}: no rows; expected a CSV with a header row (docs/preview.md)")
    header = [_name(c) for c in rows[0]]
    code_cols = [i for i, c in enumerate(header) if _CODE.fullmatch(c)]
    if not code_cols:
        raise InputError(
            f"--population {where}: no area code column; name it code, area_code or ladcode (found: "
            f"{', '.join(rows[0][:8])})"
        )
    code = code_cols[0]
    sex = header.index("sex") if "sex" in header else None
    body = [(n + 2, r + [""] * (len(header) - len(r))) for n, r in enumerate(rows[1:])]
    areas = sorted({r[code].strip().upper() for _, r in body if r[code].strip()})
    if la:
        area = la.upper()
        if area not in areas:
            shown = ", ".join(areas[:5]) + (" ..." if len(areas) > 5 else "")
            raise InputError(f"--population {where}: no rows for {area} (--la); the file's areas: {shown}")
    elif len(areas) == 1:
        area = areas[0]
    else:
        raise InputError(f"--population {where}: {len(areas)} areas in the file: give --la to choose one")
    mine = [(line, r) for line, r in body if r[code].strip().upper() == area]
    if sex is not None:
        persons = [(line, r) for line, r in mine if _name(r[sex]) in PERSONS]
        mine = persons or mine
    if "age" in header:
        children = _long(where, header, mine, header.index("age"))
    else:
        children = _wide(where, header, mine)
    if None in children and len(children) > 1:
        raise InputError(f"--population {where}: give either one population column or population_YYYY columns")
    if None in children:  # a single figure: the year previewed's
        children = {int(year[:4]): children[None]}
    empty = [str(y) for y, n in children.items() if not n]
    if empty:
        raise InputError(f"--population {where}: {area} has no children aged 0 to 17 in mid-{', '.join(empty)}")
    return Population(path, area, {int(y): n for y, n in children.items() if y is not None})


def _long(where: str, header: list[str], rows: list[tuple[int, list[str]]], age_col: int) -> dict[int | None, float]:
    columns: dict[int | None, int] = {}
    for i, name in enumerate(header):
        found = _MID_YEAR.fullmatch(name)
        if found:
            columns[int(found.group(1))] = i
        elif name == "population":
            columns[None] = i
    if not columns:
        raise InputError(
            f"--population {where}: an age column but no population column; name it population or "
            "population_YYYY (one per mid-year)"
        )
    totals = dict.fromkeys(columns, 0.0)
    seen: set[int] = set()
    for line, row in rows:
        age = _AGE.fullmatch(row[age_col].strip())
        if age is None:
            if row[age_col].strip().lower() in ("all ages", "all", "total"):
                continue
            raise InputError(f"--population {where}, line {line}: age '{row[age_col].strip()[:20]}' is not 0 to 90")
        if int(age.group(1)) not in CHILD_AGES:
            continue
        seen.add(int(age.group(1)))
        for key, col in columns.items():
            totals[key] += _number(row[col], f"--population {where}, line {line}")
    _all_ages(where, seen)
    return totals


def _wide(where: str, header: list[str], rows: list[tuple[int, list[str]]]) -> dict[int | None, float]:
    ages = {int(name): i for i, name in enumerate(header) if name.isdigit()}
    if not ages:
        raise InputError(
            f"--population {where}: neither an age column (long layout) nor columns 0 to 90 (wide layout); "
            "docs/preview.md shows both"
        )
    _all_ages(where, set(ages))
    total = 0.0
    for line, row in rows:
        for age in CHILD_AGES:
            total += _number(row[ages[age]], f"--population {where}, line {line}")
    return {None: total}


def _all_ages(where: str, seen: set[int]) -> None:
    missing = [a for a in CHILD_AGES if a not in seen]
    if missing:
        raise InputError(
            f"--population {where}: no figure for age {', '.join(map(str, missing[:6]))}"
            f"{' ...' if len(missing) > 6 else ''}: rates need every age from 0 to 17"
        )
