"""Write tests/workbooks/ssda903_2024_25.xls: three tables of the bundled SSDA903 sample (header, episodes, uasc)
as an Excel 97-2003 workbook, made messy as validator/messy_workbooks.py makes .xlsx ones (a title row, blanks
written "N/A" or "-", dates as Excel dates, a merged notes cell, a totals row) plus a hidden sheet.

Nothing in the project writes .xls, so this needs xlwt (an old, unmaintained writer, not a dependency):

    pip install xlwt && python scripts/make_xls_workbook.py
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from pathlib import Path

import xlwt  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "samples" / "ssda903" / "2024_25"
TARGET = ROOT / "tests" / "workbooks" / "ssda903_2024_25.xls"
TABLES = ("header", "episodes", "uasc")
DATE_COLUMNS = {"DOB", "MC_DOB", "DECOM", "DEC", "DUC"}


def main() -> None:
    book = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    blanks = itertools.cycle(["N/A", "-", ""])
    for name in TABLES:
        with open(SOURCE / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
            header, *body = list(csv.reader(fh))
        sheet = book.add_sheet(name)
        sheet.write(0, 0, f"{name}: synthetic data, not a real child")
        for col, title in enumerate([*header, "Notes"]):
            sheet.write(2, col, title)
        for n, row in enumerate(body, start=3):
            for col, value in enumerate(row):
                if not value.strip():
                    blank = next(blanks)
                    if blank:
                        sheet.write(n, col, blank)
                elif header[col] in DATE_COLUMNS:
                    try:
                        sheet.write(n, col, dt.datetime.strptime(value, "%d/%m/%Y"), date_style)
                    except ValueError:
                        sheet.write(n, col, value)
                else:
                    sheet.write(n, col, value)
        notes = len(header)
        sheet.write_merge(3, 4, notes, notes, "checked by the team")
        sheet.write(len(body) + 4, 0, "Total")
        sheet.write(len(body) + 4, 1, len(body))
    hidden = book.add_sheet("workings")
    hidden.write(0, 0, "working notes, not part of the return")
    hidden.visibility = 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(TARGET))


if __name__ == "__main__":
    main()
