"""A return's CSV files -> one workbook, made messy the way people make spreadsheets (the bundled sample
``samples/ssda903/workbooks/``, and the tests of docs/excel.md): one sheet per table, each with a title row and a
blank row above the header, a hidden notes column (two of its cells merged), dates as Excel dates, as text or as
serial numbers (sheet by sheet), whole numbers as numbers, blank cells written as " ", "-", "N/A", a non-breaking
space or left empty, a filtered-out (hidden) row, and a blank row and a totals row below the data.

Regenerate the bundled workbooks (from the bundled CSV files, their twins)::

    python -m validator.messy_workbooks samples/ssda903/2024_25 samples/ssda903/workbooks/ssda903_2024_25.xlsx
    python -m validator.messy_workbooks samples/ssda903/2023_24 samples/ssda903/workbooks/ssda903_2023_24.xlsx
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import sys
from pathlib import Path

from .ingest.csv_reader import identify_table, match_columns
from .schema import load_schema

BLANKS = (" ", "-", "N/A", None, "\u00a0")
_EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year quirk, for dates after March 1900)


def _cell(value: str, kind: str, dates: str, blanks: itertools.cycle[str | None]) -> object:
    if not value.strip():
        return next(blanks)
    if kind == "date" and dates != "text":
        try:
            day = dt.datetime.strptime(value, "%d/%m/%Y")
        except ValueError:  # an invalid date stays the text it was
            return value
        return day if dates == "excel" else (day - _EPOCH).days
    if kind == "int" and value.isdigit():
        return int(value)
    return value


def messy_workbook(folder: Path, target: Path, return_type: str = "ssda903") -> Path:
    """The CSV files of ``folder`` as one messy workbook at ``target`` (see the module's description)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    schema = load_schema(return_type)
    book = openpyxl.Workbook()
    book.remove(book.active)
    book.properties.creator = "cscvalidate synthetic samples"
    book.properties.created = dt.datetime(2025, 5, 1)
    blanks = itertools.cycle(BLANKS)
    for number, path in enumerate(sorted(folder.glob("*.csv"))):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header, *body = list(csv.reader(fh))
        found = identify_table(header, [schema])
        if found is None:
            raise ValueError(f"{path}: not a table of the {return_type} return")
        kinds = {pos: found[1].columns[col].type for pos, col in match_columns(header, found[1]).items()}
        dates = ("excel", "text", "serial")[number % 3]
        sheet = book.create_sheet(path.stem[:31])
        sheet.append([f"{found[1].name}: synthetic data, not a real child"])
        sheet.append([])
        sheet.append([*header, "Notes"])
        for n, row in enumerate(body):
            cells = [_cell(value, kinds.get(pos, "text"), dates, blanks) for pos, value in enumerate(row)]
            sheet.append([*cells, "checked by the team" if n % 3 == 0 else None])
        notes = get_column_letter(len(header) + 1)
        sheet.column_dimensions[notes].hidden = True
        if len(body) > 2:
            sheet.row_dimensions[5].hidden = True  # filtered out: still part of the return
            sheet.merge_cells(f"{notes}4:{notes}5")  # in the notes column, which DfE does not take: harmless
        sheet.append([])
        sheet.append(["Total", len(body)])
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


if __name__ == "__main__":  # pragma: no cover - the command in the module's description
    messy_workbook(Path(sys.argv[1]), Path(sys.argv[2]))
