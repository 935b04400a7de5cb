"""One normalisation made to a value or a row while reading a spreadsheet or writing DfE-ready files: what
``convert`` lists in its change log, so an LA can see every difference between its files and what it submits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
