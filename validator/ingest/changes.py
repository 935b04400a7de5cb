"""One normalisation made to a value or a row while reading a spreadsheet or writing DfE-ready files: what
``convert`` lists in its change log, so an LA can see every difference between its files and what it submits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..schema import ReturnSchema
from .csv_reader import normalise_header
from .raw import RawTable

CHANGE_LOG_COLUMNS = ("file", "sheet", "table", "cell", "row", "column", "old_value", "new_value", "change")


@dataclass(frozen=True)
class Change:
    """``file``: the input file; ``sheet``: the workbook sheet (blank for CSV and XML); ``cell``: the Excel
    reference (A5) when one cell changed; ``row``: the row or line in the file; ``column``: the column name (blank
    for a change of a whole row)."""

    file: str
    why: str
    sheet: str = ""
    table: str = ""
    cell: str = ""
    row: int | None = None
    column: str = ""
    old: str = ""
    new: str = ""

    def cells(self) -> list[str]:
        row = "" if self.row is None else str(self.row)
        return [self.file, self.sheet, self.table, self.cell, row, self.column, self.old, self.new, self.why]


def shown(value: object) -> str:
    """A cell's value as the change log shows it: text as it is, numbers as their digits, dates as yyyy-mm-dd."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def change_at(
    file: str, line: int | None, column: str, table: str, places: dict[str, Any], old: str, new: str, why: str
) -> Change:
    """A change to a record's value (or, with no ``column``, to the record), located as the change log shows it:
    for a workbook sheet's table (its ``RawTable.file`` among ``places``), the workbook, sheet and cell."""
    place = places.get(file)
    if place is None:
        return Change(file=file, table=table, row=line, column=column, old=old, new=new, why=why)
    letter = place.letters.get(column, "")
    cell = f"{letter}{line}" if letter and line is not None else letter
    return Change(place.file, why, place.sheet, table, cell, line, column, old, new)


TRIMMED = "spaces before or after the value: removed"
SPACES_ONLY = "blank-looking cell (spaces only): read as blank"


def trimmed_values(raw: RawTable, columns: Iterable[str], places: dict[str, Any]) -> list[Change]:
    """The values of a table read from a CSV file or a sheet that typing trims (every value is read without the
    spaces around it; a value of spaces only is blank). Vectorised: each column's distinct values are looked at
    once, and only the records of a value that changes are visited. ``columns``: those looked at."""
    if raw.clean:  # the XML readers give values already trimmed
        return []
    out: list[Change] = []
    for column in columns:
        values = raw.columns.get(column)
        if values is None:
            continue
        array = np.empty(len(values), dtype=object)
        array[:] = values
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        changed = np.fromiter((isinstance(u, str) and u.strip() != u for u in uniques), bool, len(uniques))
        if not changed.any():
            continue
        for pos in np.flatnonzero(np.append(changed, False)[codes]).tolist():
            old = values[pos] or ""
            new = old.strip()
            why = TRIMMED if new else SPACES_ONLY
            out.append(change_at(raw.file, raw.lines[pos], column, raw.name, places, old, new, why))
    return out


def renamed_headers(raw: RawTable, aliases: dict[str, str], places: dict[str, Any]) -> list[Change]:
    """The header cells of a table read from a CSV file or a sheet that name a column other than as DfE's layout
    does (another letter case, spaces or quotes around it, spaces for underscores, or an alias): the files
    written have DfE's header."""
    out: list[Change] = []
    for column, text in raw.headers.items():
        if text == column:
            continue
        key = normalise_header(text)
        alias = next((a for a, c in aliases.items() if c == column and normalise_header(a) == key), None)
        why = (
            f"header {alias} is another name of {column}: written as {column}"
            if alias
            else f"header matched {column} in another letter case or spelling: written as {column}"
        )
        out.append(change_at(raw.file, raw.header_line, column, raw.name, places, text, column, why))
    return out


def reading_changes(raws: dict[str, list[RawTable]], schema: ReturnSchema, places: dict[str, Any]) -> list[Change]:
    """What typing will change in the tables read (before it does): headers written otherwise than DfE's, values
    with spaces around them. Only when a change log is asked for (``load_return(log_changes=True)``: ``convert``
    and the web app, for its DfE-ready download), never on a plain ``validate`` run."""
    out: list[Change] = []
    for name, tables in raws.items():
        table = schema.tables.get(name)
        if table is None:
            continue
        for raw in tables:
            out += renamed_headers(raw, table.aliases, places)
            out += trimmed_values(raw, table.columns, places)
    return out
