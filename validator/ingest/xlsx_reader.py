"""Excel workbooks (.xlsx, .xlsm) -> raw tables, read as the CSV reader reads files: each sheet is recognised as a
table by its header row (csv_reader.identify_table), never by its name, and its rows go through the same
csv_reader.rows_to_table; typing happens later, as for CSV, on the text this module writes for each cell.

What people do to spreadsheets is reported as notices naming the sheet and cells, never silently: title rows
above the header row, notes or totals rows below the data, hidden sheets, rows and columns (all read), merged
cells, formulas (their last calculated value is read; an error value such as #REF! is a CELL-ERROR finding),
dates and numbers stored as another type, and "no data" tokens read as blank (NO_DATA_TOKENS). Workbooks are
opened read-only (openpyxl's streaming mode) and never written; macros are never run.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from ..findings import Finding, ingest_finding
from ..schema import ReturnSchema, TableDef
from .coerce import DMY, ISO
from .csv_reader import identify_table, match_columns, rows_to_table
from .raw import RawTable

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})
REPORT_TITLE = "validation report"  # the title outputs/xlsx.py gives the report workbooks it writes
# Cell texts that mean "no data" and are read as blank (compared case-insensitively, after trimming spaces and
# non-breaking spaces; a cell of only spaces is always blank). "NA" is left out: it can be a real code. The
# command line's --no-data option replaces the list.
NO_DATA_TOKENS: tuple[str, ...] = ("-", "–", "—", "N/A", "NULL", "#N/A", "not known")
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")
# How far down a sheet the header row is looked for (title rows and notes above it are reported and skipped).
HEADER_SEARCH_ROWS = 50
# Below the data, a row whose child identifier is blank, or that starts like this, is a notes or totals row.
_TRAILER = re.compile(r"^\s*(total|totals|sum|count|note|notes|source)\b", re.IGNORECASE)


def is_workbook(path: Path) -> bool:
    """Whether the file is an Excel workbook (.xlsx/.xlsm layout), whatever its name ends with."""
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return False
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


@dataclass
class SheetLayout:
    """What the sheet's XML says beyond its values: hidden rows and columns, merged ranges, formula cells."""

    hidden_rows: set[int] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)  # 1-based
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_row, min_col, max_row, max_col
    formulas: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # column -> rows


@dataclass
class WorkbookRead:
    tables: list[tuple[ReturnSchema, RawTable]]
    findings: list[Finding]


def read_workbook(
    path: Path,
    schemas: list[ReturnSchema],
    display_name: str | None = None,
    no_data: Sequence[str] = NO_DATA_TOKENS,
) -> WorkbookRead:
    """Every sheet of the workbook that is a table of one of the returns, with the findings about the file."""
    import openpyxl

    name = display_name or str(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds of error for a damaged or foreign file
        why = str(exc) or type(exc).__name__
        return WorkbookRead(
            [], [ingest_finding("FILE-UNREADABLE", f"{name}: not a readable workbook ({why})", file=name)]
        )
    if str(book.properties.title or "").endswith(REPORT_TITLE):  # e.g. last run's report saved with the data
        book.close()
        why = "it is a validation report written by this tool, not part of the return"
        return WorkbookRead([], [ingest_finding("FILE-SKIPPED", f"{name}: not read; {why}", file=name)])
    tokens = frozenset(t.strip().casefold() for t in no_data if t.strip())
    tables: list[tuple[ReturnSchema, RawTable]] = []
    findings: list[Finding] = []
    not_tables: list[str] = []
    try:
        with zipfile.ZipFile(path) as archive:
            for sheet in book.worksheets:
                label = f"{name} [{sheet.title}]"
                layout = _sheet_layout(archive, getattr(sheet, "_worksheet_path", ""))
                found = _read_sheet(sheet, label, layout, schemas, tokens)
                if found is None:
                    if any(v is not None and str(v).strip() for row in sheet.iter_rows(values_only=True) for v in row):
                        not_tables.append(sheet.title)
                    continue
                schema, raw, sheet_findings = found
                if sheet.sheet_state != "visible":
                    sheet_findings.insert(
                        0,
                        ingest_finding(
                            "SHEET-HIDDEN",
                            f"{label}: the sheet is hidden; it holds the {raw.name} table and was read",
                            table=raw.name,
                            file=label,
                        ),
                    )
                tables.append((schema, raw))
                findings.extend(sheet_findings)
    except (OSError, zipfile.BadZipFile, KeyError, etree.LxmlError) as exc:
        return WorkbookRead(
            [], [ingest_finding("FILE-UNREADABLE", f"{name}: not a readable workbook ({exc})", file=name)]
        )
    finally:
        book.close()
    if not_tables:
        sheets = ", ".join(not_tables)
        if tables:
            findings.append(
                ingest_finding(
                    "SHEET-NOT-TABLE",
                    f"{name}: sheet(s) {sheets} have no header row of a table of the return; they were not read",
                    file=name,
                )
            )
        else:
            findings.append(
                ingest_finding(
                    "FILE-UNKNOWN-TABLE",
                    f"{name}: no sheet ({sheets}) has a header row that matches a table of the return "
                    f"in its first {HEADER_SEARCH_ROWS} rows",
                    file=name,
                )
            )
    elif not tables:
        findings.append(ingest_finding("FILE-EMPTY", f"{name}: the workbook's sheets are empty", file=name))
    return WorkbookRead(tables, findings)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _sheet_layout(archive: zipfile.ZipFile, member: str) -> SheetLayout:
    """Read hidden rows and columns, merged ranges and formula cells from the sheet's XML, streaming (openpyxl's
    read-only mode does not give them). Entities and network access are refused, as for every XML read."""
    from openpyxl.utils.cell import column_index_from_string as col_index
    from openpyxl.utils.cell import coordinate_from_string, range_boundaries

    layout = SheetLayout()
    if not member or member not in archive.namelist():
        return layout
    cell_ref = ""
    with archive.open(member) as fh:
        for event, elem in etree.iterparse(fh, events=("start", "end"), resolve_entities=False, no_network=True):
            tag = _local(elem.tag)
            if event == "start":
                if tag == "row" and elem.get("hidden") in ("1", "true") and elem.get("r"):
                    layout.hidden_rows.add(int(elem.get("r", "0")))
                elif tag == "col" and elem.get("hidden") in ("1", "true"):
                    layout.hidden_columns.update(range(int(elem.get("min", "1")), int(elem.get("max", "1")) + 1))
                elif tag == "c":
                    cell_ref = elem.get("r") or ""
                elif tag == "f" and cell_ref:
                    letters, row = coordinate_from_string(cell_ref)
                    layout.formulas[col_index(letters)].append(row)
                elif tag == "mergeCell" and elem.get("ref"):
                    min_col, min_row, max_col, max_row = range_boundaries(elem.get("ref", ""))
                    layout.merged.append((min_row or 1, min_col or 1, max_row or 1, max_col or 1))
            elif tag == "row":
                elem.clear()
    return layout


def _spans(numbers: Iterable[int]) -> str:
    """1, 2, 3, 7 -> "1-3, 7"."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = prev = None
    for n in ordered:
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_sheet(
    sheet: Any, label: str, layout: SheetLayout, schemas: list[ReturnSchema], tokens: frozenset[str]
) -> tuple[ReturnSchema, RawTable, list[Finding]] | None:
    rows: list[list[Any]] = []
    header_at: int | None = None
    found: tuple[ReturnSchema, TableDef] | None = None
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        rows.append(list(cells))
        if header_at is None and number <= HEADER_SEARCH_ROWS:
            values = [c.value for c in cells]
            if any(not _blank(v) for v in values):
                found = identify_table(["" if v is None else str(v) for v in values], schemas)
                if found is not None:
                    header_at = number
        elif header_at is None:
            break
    if found is None or header_at is None:
        return None
    schema, table = found
    header_cells = [c.value for c in rows[header_at - 1]]
    while header_cells and _blank(header_cells[-1]):
        header_cells.pop()
    header = ["" if v is None else str(v).strip() for v in header_cells]
    width = len(header)
    findings: list[Finding] = []

    def notice(code: str, message: str, **where: Any) -> None:
        findings.append(ingest_finding(code, f"{label}: {message}", table=table.name, file=label, **where))

    if header_at > 1:
        above = [n for n in range(1, header_at) if any(not _blank(c.value) for c in rows[n - 1])]
        blank = [n for n in range(1, header_at) if n not in above]
        parts = ([f"row(s) {_spans(above)} hold a title or notes"] if above else []) + (
            [f"row(s) {_spans(blank)} are blank"] if blank else []
        )
        notice(
            "SHEET-LAYOUT",
            f"the header row is row {header_at}; above it, {' and '.join(parts)}: they are not part of the table "
            "and were not read",
        )
    positions = match_columns(header, table)
    by_column = {col: pos for pos, col in sorted(positions.items(), reverse=True)}
    key_pos = by_column.get(schema.child_key)
    data = [(n, rows[n - 1]) for n in range(header_at + 1, len(rows) + 1)]
    data = [(n, cells) for n, cells in data if any(not _blank(c.value) for c in cells[:width])]
    trailer: list[int] = []
    while data:  # from the bottom up: rows that start like "Total" or "Notes", or have no child identifier
        n, cells = data[-1]
        first = next((c.value for c in cells[:width] if not _blank(c.value)), None)
        key = cells[key_pos].value if key_pos is not None and key_pos < len(cells) else first
        if not (_blank(key) or any(isinstance(v, str) and _TRAILER.match(v) for v in (key, first))):
            break
        trailer.append(n)
        data.pop()
    if trailer:
        notice(
            "SHEET-LAYOUT",
            f"row(s) {_spans(trailer)} below the data are notes or totals (they start with a word such as "
            f"Total or Notes, or have no {schema.child_key}); they were not read",
        )
    outside = [
        n
        for n in range(header_at, len(rows) + 1)
        if n not in trailer and any(not _blank(c.value) for c in rows[n - 1][width:])
    ]
    if outside:
        notice(
            "SHEET-LAYOUT",
            f"row(s) {_spans(outside)} have cells right of the table's last column ({_letter(width)}); "
            "they were not read",
        )
    last = data[-1][0] if data else header_at
    _layout_notices(layout, header, header_at, last, width, notice)
    column_of = {pos: table.columns[col].type for pos, col in positions.items()}
    names = {pos: (positions.get(pos) or header[pos]) for pos in range(width)}
    typer = _CellText(schema, label, table.name, names, tokens)
    converted = [(n, [typer.text(c, pos, column_of.get(pos, "text"), n) for pos, c in enumerate(cells[:width])])
                 for n, cells in data]  # fmt: skip
    raw, more = rows_to_table(label, header, converted, schema, table, header_line=header_at, ragged=False)
    findings.extend(typer.findings())
    findings.extend(more)
    return schema, raw, findings


def _layout_notices(layout: SheetLayout, header: list[str], first: int, last: int, width: int, notice: Any) -> None:
    """Notices for hidden rows and columns, merged cells and formulas within the table (header row to last row)."""
    rows_hidden = [r for r in layout.hidden_rows if first < r <= last]
    if rows_hidden:
        notice(
            "SHEET-HIDDEN",
            f"row(s) {_spans(rows_hidden)} are hidden or filtered out; they were read like every other row "
            "(a filtered-out row is still part of the return)",
        )
    cols_hidden = [c for c in layout.hidden_columns if c <= width]
    if cols_hidden:
        named = ", ".join(f"{_letter(c)} ({header[c - 1] or 'no header'})" for c in sorted(cols_hidden))
        notice("SHEET-HIDDEN", f"column(s) {named} are hidden; they were read like every other column")
    merged = [m for m in layout.merged if m[0] <= last and m[2] >= first and m[1] <= width]
    if merged:
        ranges = ", ".join(f"{_letter(c1)}{r1}:{_letter(c2)}{r2}" for r1, c1, r2, c2 in merged[:10])
        more = f" and {len(merged) - 10} more" if len(merged) > 10 else ""
        notice(
            "SHEET-MERGED",
            f"merged cells {ranges}{more}: only the first cell of each holds a value; the others were read as blank",
        )
    for column, found_rows in sorted(layout.formulas.items()):
        inside = [r for r in found_rows if first < r <= last]
        if column <= width and inside:
            notice(
                "CELL-FORMULA",
                f"{len(inside)} cell(s) of column {_letter(column)} ({header[column - 1]}), rows {_spans(inside)}, "
                "hold formulas; their last calculated values were read",
            )


class _CellText:
    """A cell's value -> the text a CSV file of the same data would hold, with notices for what was changed."""

    def __init__(
        self, schema: ReturnSchema, label: str, table: str, names: dict[int, str], tokens: frozenset[str]
    ) -> None:
        self.label, self.table, self.names, self.tokens = label, table, names, tokens
        self.date_form = DMY if schema.return_type == "ssda903" else ISO
        self.no_data: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.serial_dates: dict[int, list[int]] = defaultdict(list)
        self.numbers_as_codes: dict[int, list[int]] = defaultdict(list)
        self.dates_elsewhere: dict[int, list[int]] = defaultdict(list)
        self.numbers_as_text: dict[int, list[int]] = defaultdict(list)
        self.errors: list[Finding] = []

    def text(self, cell: Any, pos: int, kind: str, row: int) -> str | None:
        value = cell.value
        if value is None:
            return None
        if getattr(cell, "data_type", None) == "e":  # an error value; typed text such as "#N/A" is a string
            ref = f"{_letter(pos + 1)}{row}"
            self.errors.append(
                ingest_finding(
                    "CELL-ERROR",
                    f"{self.label} cell {ref}: {self.names[pos]} holds the error value {value} (a formula that "
                    "could not be calculated); it was read as blank",
                    table=self.table,
                    fields=(self.names[pos],),
                    values=(str(value),),
                    file=self.label,
                    line=row,
                )
            )
            return None
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, dt.datetime | dt.date):
            if kind != "date":
                self.dates_elsewhere[pos].append(row)
                return value.strftime(ISO)
            return value.strftime(self.date_form)
        if isinstance(value, int | float):
            if kind == "date":
                from openpyxl.utils.datetime import from_excel

                try:
                    day = from_excel(value)
                except (ValueError, OverflowError):
                    return _number(value)
                self.serial_dates[pos].append(row)
                return day.strftime(self.date_form) if isinstance(day, dt.datetime | dt.date) else _number(value)
            if kind not in ("int", "flag"):
                self.numbers_as_codes[pos].append(row)
            return _number(value)
        if isinstance(value, dt.time | dt.timedelta):
            return str(value)
        text = str(value)
        stripped = text.strip()
        if not stripped:
            self.no_data[pos]["(blank-looking: spaces)"] += 1
            return None
        if stripped.casefold() in self.tokens:
            self.no_data[pos][stripped] += 1
            return None
        if kind == "int" and _NUMBER.fullmatch(stripped):
            self.numbers_as_text[pos].append(row)
        return text

    def findings(self) -> list[Finding]:
        out = list(self.errors)

        def notice(pos: int, message: str, code: str = "CELL-TYPE") -> None:
            column = self.names[pos]
            out.append(
                ingest_finding(
                    code,
                    f"{self.label}: column {_letter(pos + 1)} ({column}) {message}",
                    table=self.table,
                    fields=(column,),
                    file=self.label,
                )
            )

        for pos, counts in sorted(self.no_data.items()):
            listed = ", ".join(f"'{token}' x{n}" if not token.startswith("(") else f"{token} x{n}"
                               for token, n in counts.items())  # fmt: skip
            notice(pos, f"has cells that mean 'no data', read as blank: {listed}", "CELL-NO-DATA")
        for pos, rows in sorted(self.serial_dates.items()):
            notice(pos, f"has {len(rows)} date(s) stored as plain numbers (rows {_spans(rows)}); read as Excel dates")
        for pos, rows in sorted(self.numbers_as_codes.items()):
            notice(
                pos,
                f"has {len(rows)} code(s) stored as numbers (rows {_spans(rows)}); read as whole numbers: a code "
                "with leading zeros has lost them in Excel, so store the column as text",
            )
        for pos, rows in sorted(self.numbers_as_text.items()):
            notice(pos, f"has {len(rows)} number(s) stored as text (rows {_spans(rows)}); read as numbers")
        for pos, rows in sorted(self.dates_elsewhere.items()):
            notice(
                pos, f"has {len(rows)} value(s) stored as dates (rows {_spans(rows)}) in a column that is not a date"
            )
        return out


def _number(value: float) -> str:
    """A number as its digits: 1.0 -> "1", 123456789012.0 -> "123456789012" (never 1.23E+11)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
