""".xls (Excel 97-2003) and .ods (OpenDocument) workbooks, through python-calamine, for xlsx_reader.read_workbook.

Each sheet is given to xlsx_reader as openpyxl's are (rows of cells with ``value`` and ``data_type``), so the
header row, title and totals rows, "no data" tokens, dates and numbers are handled and reported the same way.
What calamine does not give is not reported: hidden rows and columns (read, as in .xlsx, but with no notice) and
formulas (their cached values are read); merged cells are reported where calamine gives them (.xls). Hidden
sheets are reported for both formats. An error value (#REF!, #DIV/0!...) is a CELL-ERROR finding, as in .xlsx;
calamine gives it as its text, so a cell *typed* as "#REF!" is taken for one too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sheet_layout import SheetLayout

# The error values a spreadsheet shows for a formula that cannot be calculated (#N/A is a "no data" token).
ERROR_VALUES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#GETTING_DATA", "#SPILL!"})


@dataclass(frozen=True)
class _Cell:
    value: Any
    data_type: str = ""


class _Sheet:
    """A sheet's values as rows of cells; calamine's "" for an empty cell is None, as openpyxl gives it."""

    def __init__(self, rows: list[list[Any]]) -> None:
        self.rows = rows

    def iter_rows(self) -> Iterator[list[_Cell]]:
        for row in self.rows:
            yield [_cell(v) for v in row]


def _cell(value: Any) -> _Cell:
    if isinstance(value, str):
        if value == "":
            return _Cell(None)
        if value.strip() in ERROR_VALUES:
            return _Cell(value.strip(), "e")
        return _Cell(value)
    return _Cell(value)


class _CalamineBook:
    def __init__(self, book: Any, errors: tuple[type[BaseException], ...]) -> None:
        self.book, self.errors = book, errors

    def sheets(self) -> Iterator[tuple[str, bool, Any, SheetLayout]]:
        for meta in self.book.sheets_metadata:
            if str(getattr(meta.typ, "name", meta.typ)).lower() not in ("worksheet", "sheettypeenum.worksheet"):
                continue  # a chart sheet or macro sheet holds no table
            sheet = self.book.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False)
            layout = SheetLayout()
            for merged in getattr(sheet, "merged_cell_ranges", None) or []:
                (r1, c1), (r2, c2) = merged  # 0-based (row, column) corners
                layout.merged.append((r1 + 1, c1 + 1, r2 + 1, c2 + 1))
            visible = str(getattr(meta.visible, "name", meta.visible)).lower().endswith("visible")
            yield meta.name, visible, _Sheet(rows), layout

    def close(self) -> None:
        self.book.close()


def open_calamine(path: Path) -> _CalamineBook:
    """The workbook, opened; calamine's errors (a damaged, encrypted or foreign file) are raised."""
    import python_calamine as calamine

    errors: tuple[type[BaseException], ...] = (calamine.CalamineError, OSError, ValueError)
    return _CalamineBook(calamine.CalamineWorkbook.from_path(str(path)), errors)
