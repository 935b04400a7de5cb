""".xls (Excel 97-2003) and .ods (OpenDocument) workbooks, through python-calamine, for xlsx_reader.read_workbook.

Each sheet is given to xlsx_reader as openpyxl's are (rows of cells with ``value`` and ``data_type``), so the
header row, title and totals rows, "no data" tokens, dates and numbers are handled and reported the same way.
For .xls, calamine (0.9) does not say which rows and columns are hidden or which cells hold formulas: they are
read as in .xlsx (hidden rows and columns like every other, formulas as their cached values), and one SHEET-UNSEEN
notice per workbook says so (:func:`unseen_in_xls`); merged cells are reported (calamine gives them). For .ods, hidden
rows and columns, merged cells and formulas are read from the file's content.xml. Hidden sheets are reported for
both formats. An error value (#REF!, #DIV/0!...) is a CELL-ERROR finding, as in .xlsx;
calamine gives it as its text, so a cell *typed* as "#REF!" is taken for one too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..findings import Finding, ingest_finding
from .changes import Change
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


UNSEEN_IN_XLS = (
    "an .xls workbook does not show which rows and columns are hidden or filtered out, nor which cells hold "
    "formulas: any hidden or filtered-out rows and hidden columns were read like every other row and column (a "
    "filtered-out row is still part of the return), and formulas' last calculated values were read; save it as "
    ".xlsx to have them listed"
)


def unseen_in_xls(name: str) -> tuple[Finding, Change]:
    """Said once for an .xls workbook that holds tables: what its reader cannot see was read as data."""
    finding = ingest_finding("SHEET-UNSEEN", f"{name}: {UNSEEN_IN_XLS}", file=name)
    why = "hidden rows and columns and formulas cannot be seen in an .xls workbook: any were read as data"
    return finding, Change(file=name, why=why)


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_REPEAT_CAP = 100_000  # repeated hidden rows or columns past this (a sheet's empty tail) are not listed


def _attr(elem: Any, name: str, default: str = "") -> str:
    return str(elem.get(_TABLE + name, default))


def ods_layouts(path: Path) -> dict[str, SheetLayout]:
    """Hidden rows and columns, merged ranges and formula cells of each sheet of an .ods file, read from its
    content.xml (calamine does not give them), streaming, with entities and network access refused."""
    import zipfile

    from lxml import etree

    layouts: dict[str, SheetLayout] = {}
    layout = SheetLayout()
    row = col = column_count = 0
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as fh:
        for event, elem in etree.iterparse(fh, events=("start", "end"), resolve_entities=False, no_network=True):
            tag = str(elem.tag)
            if event == "start" and tag == _TABLE + "table":
                layout = layouts.setdefault(_attr(elem, "name"), SheetLayout())
                row = column_count = 0
            elif event == "start" and tag == _TABLE + "table-column":
                repeat = int(_attr(elem, "number-columns-repeated", "1"))
                if _attr(elem, "visibility") in ("collapse", "filter") and repeat <= _REPEAT_CAP:
                    layout.hidden_columns.update(range(column_count + 1, column_count + repeat + 1))
                column_count += repeat
            elif event == "start" and tag == _TABLE + "table-row":
                col = 0
            elif event == "end" and tag == _TABLE + "table-row":
                repeat = int(_attr(elem, "number-rows-repeated", "1"))
                if _attr(elem, "visibility") in ("collapse", "filter") and repeat <= _REPEAT_CAP:
                    layout.hidden_rows.update(range(row + 1, row + repeat + 1))
                row += repeat
                elem.clear()
            elif event == "end" and tag in (_TABLE + "table-cell", _TABLE + "covered-table-cell"):
                _ods_cell(elem, layout, row + 1, col + 1)
                col += int(_attr(elem, "number-columns-repeated", "1"))
    return layouts


def _ods_cell(elem: Any, layout: SheetLayout, row: int, col: int) -> None:
    rows, cols = int(_attr(elem, "number-rows-spanned", "1")), int(_attr(elem, "number-columns-spanned", "1"))
    if rows > 1 or cols > 1:
        layout.merged.append((row, col, row + rows - 1, col + cols - 1))
    if _attr(elem, "formula"):
        layout.formulas[col].append(row)


class _CalamineBook:
    def __init__(self, book: Any, errors: tuple[type[BaseException], ...], layouts: dict[str, SheetLayout]) -> None:
        self.book, self.errors, self.layouts = book, errors, layouts

    def sheets(self) -> Iterator[tuple[str, bool, Any, SheetLayout]]:
        for meta in self.book.sheets_metadata:
            if str(getattr(meta.typ, "name", meta.typ)).lower() not in ("worksheet", "sheettypeenum.worksheet"):
                continue  # a chart sheet or macro sheet holds no table
            sheet = self.book.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False)
            layout = self.layouts.get(meta.name) or SheetLayout()
            for merged in getattr(sheet, "merged_cell_ranges", None) or []:
                (r1, c1), (r2, c2) = merged  # 0-based (row, column) corners
                layout.merged.append((r1 + 1, c1 + 1, r2 + 1, c2 + 1))
            visible = str(getattr(meta.visible, "name", meta.visible)).lower().endswith("visible")
            yield meta.name, visible, _Sheet(rows), layout

    def close(self) -> None:
        self.book.close()


def open_calamine(path: Path, kind: str) -> _CalamineBook:
    """The workbook (``kind``: "xls" or "ods"), opened; errors (a damaged, encrypted or foreign file) are raised.
    For .ods, what calamine does not give (hidden rows and columns, merged cells, formulas) is read from the XML."""
    import python_calamine as calamine

    errors: tuple[type[BaseException], ...] = (calamine.CalamineError, OSError, ValueError)
    layouts = ods_layouts(path) if kind == "ods" else {}
    return _CalamineBook(calamine.CalamineWorkbook.from_path(str(path)), errors, layouts)
