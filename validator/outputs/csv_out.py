"""CSV output: one row per finding. Cells that a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..result import FINDING_COLUMNS, Result

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
    writer = csv.writer(buffer, lineterminator=lineterminator)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


CSV_COLUMNS = [*FINDING_COLUMNS, "confidence", "note"]


def render_csv(result: Result) -> str:
    def rows() -> Iterable[Sequence[Any]]:
        yield CSV_COLUMNS
        # Confirmed findings first, then those resting on older returns not given (confidence "unconfirmed").
        for f in (*result.findings, *result.unconfirmed):
            d = f.to_dict()
            d["fields"] = ";".join(d["fields"])
            d["values"] = ";".join("" if v is None else str(v) for v in d["values"])
            d["confidence"] = f.confidence
            yield [d.get(c) for c in CSV_COLUMNS]
        for status in (*result.rules_not_run, *result.rules_crashed):
            # Rules that could not give an answer are listed too, so nobody reads their silence as a pass.
            row = {"code": status.code, "severity": status.status, "level": "rule", "message": status.reason}
            yield [row.get(c) for c in CSV_COLUMNS]

    return csv_text(rows())
