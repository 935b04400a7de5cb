"""CSV output: one row per finding. Cells that a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO, TextIO

from ..findings import CONFIRMED, FindingTable, jsonable
from ..result import FINDING_COLUMNS, Result
from . import text_writer
from .formats import RenderOptions

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Text for a spreadsheet cell; a leading = + - @ gets a ' so Excel shows it instead of running it."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number)  # "-inf" and "-nan" are read by a spreadsheet as names, so as formulas


def csv_text(rows: Iterable[Sequence[Any]], *, lineterminator: str = "\n") -> str:
    """CSV text of ``rows`` (the header row included), every field through :func:`safe_cell`: the one way the tool
    writes a CSV file, so no field (a value, a column name taken from an input, a message) runs as a formula."""
    buffer = io.StringIO()
    write_rows(buffer, rows, lineterminator=lineterminator)
    return buffer.getvalue()


def write_rows(out: TextIO, rows: Iterable[Sequence[Any]], *, lineterminator: str = "\n") -> None:
    """:func:`csv_text`, written to ``out`` row by row."""
    writer = csv.writer(out, lineterminator=lineterminator)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])


CSV_COLUMNS = [*FINDING_COLUMNS, "confidence", "note"]


def render_csv(result: Result) -> str:
    buffer = io.BytesIO()
    write(result, buffer, RenderOptions())
    return buffer.getvalue().decode("utf-8")


def write(result: Result, out: BinaryIO, options: RenderOptions) -> None:
    with text_writer(out) as text:
        write_rows(text, _rows(result))


def _finding_rows(table: FindingTable) -> Iterable[Sequence[Any]]:
    for row in table.rows(*FINDING_COLUMNS, "confidence", "note"):
        cells = list(row)
        cells[7] = ";".join(cells[7])  # fields
        cells[8] = ";".join("" if v is None else str(v) for v in (jsonable(x) for x in cells[8]))  # values
        if cells[11] == CONFIRMED:
            cells[12] = None  # the note is given only for unconfirmed findings
        yield cells


def _rows(result: Result) -> Iterable[Sequence[Any]]:
    yield CSV_COLUMNS
    # Confirmed findings first, then those resting on older returns not given (confidence "unconfirmed").
    yield from _finding_rows(result.findings)
    yield from _finding_rows(result.unconfirmed)
    for status in (*result.rules_not_run, *result.rules_crashed):
        # Rules that could not give an answer are listed too, so nobody reads their silence as a pass.
        row = {"code": status.code, "severity": status.status, "level": "rule", "message": status.reason}
        yield [row.get(c) for c in CSV_COLUMNS]
