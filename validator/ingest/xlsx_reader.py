"""Excel workbooks (.xlsx, .xlsm; .xls and .ods through calamine_reader) -> raw tables, read as the CSV reader reads files: each sheet is recognised as a
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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lxml import etree

from ..findings import Finding, ingest_finding
from ..schema import ReturnSchema, TableDef
from .changes import Change, shown
from .coerce import DMY, FORM_NAMES, ISO
from .csv_reader import identify_table, match_columns, rows_to_table
from .raw import RawTable
from .sheet_layout import SheetLayout
from .workbooks import NO_DATA_TOKENS, SheetPlace, WorkbookRead, workbook_format
from .workbooks import WORKBOOK_SUFFIXES as WORKBOOK_SUFFIXES
from .workbooks import is_workbook as is_workbook

REPORT_TITLE = "validation report"  # the title outputs/xlsx.py gives the report workbooks it writes
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")
# How far down a sheet the header row is looked for (title rows and notes above it are reported and skipped).
HEADER_SEARCH_ROWS = 50
# Below the data, a row whose child identifier is blank, or that starts like this, is a notes or totals row.
_TRAILER = re.compile(r"^\s*(total|totals|sum|count|note|notes|source)\b", re.IGNORECASE)


class Book(Protocol):
    """An opened workbook, whatever its format: its sheets in order, each as (name, visible, sheet, layout),
    where a sheet gives ``iter_rows()`` of cells with ``value`` and ``data_type`` ("e" for an error value)."""

    errors: tuple[type[BaseException], ...]  # what reading a sheet may raise for a damaged file

    def sheets(self) -> Iterator[tuple[str, bool, Any, SheetLayout]]: ...

    def close(self) -> None: ...


def _unreadable(name: str, why: object) -> WorkbookRead:
    text = (
        f"{name}: it has the signature of a spreadsheet workbook but could not be read as one ({why}); "
        "open it in Excel or LibreOffice and save it again as .xlsx, or save each table as CSV"
    )
    return WorkbookRead([], [ingest_finding("FILE-UNREADABLE", text, file=name)])


def read_workbook(
    path: Path,
    schemas: list[ReturnSchema],
    display_name: str | None = None,
    no_data: Sequence[str] = NO_DATA_TOKENS,
    dates_logged: bool = False,
) -> WorkbookRead:
    """Every sheet of the workbook that is a table of one of the returns, with the findings about the file.
    ``dates_logged``: a change is listed for each date cell written as text in another form (convert)."""
    name = display_name or str(path)
    kind = workbook_format(path)
    if kind in ("xls", "ods"):
        from .calamine_reader import open_calamine

        try:
            opened: Book | WorkbookRead = open_calamine(path, kind)
        except Exception as exc:  # a damaged, encrypted or foreign file
            return _unreadable(name, str(exc) or type(exc).__name__)
    else:
        opened = _open_openpyxl(path, name)
    if isinstance(opened, WorkbookRead):  # unreadable, or one of this tool's reports
        return opened
    tokens = frozenset(t.strip().casefold() for t in no_data if t.strip())
    out = WorkbookRead([], [])
    not_tables: list[str] = []
    try:
        for title, visible, sheet, layout in opened.sheets():
            found = _read_sheet(sheet, name, title, layout, schemas, tokens, dates_logged)
            if found is None:
                if any(not _blank(c.value) for row in sheet.iter_rows() for c in row):
                    not_tables.append(title)
                continue
            label = found.raw.file
            if not visible:
                found.findings.insert(
                    0,
                    ingest_finding(
                        "SHEET-HIDDEN",
                        f"{label}: the sheet is hidden; it holds the {found.raw.name} table and was read",
                        table=found.raw.name,
                        file=label,
                    ),
                )
                found.changes.insert(0, Change(file=name, sheet=title, table=found.raw.name, why="hidden sheet: read"))
            out.tables.append((found.schema, found.raw))
            out.findings.extend(found.findings)
            out.changes.extend(found.changes)
            out.places[label] = SheetPlace(name, title, found.letters)
    except opened.errors as exc:
        return _unreadable(name, exc)
    finally:
        opened.close()
    out.findings.extend(_book_findings(name, not_tables, bool(out.tables)))
    if kind == "xls" and out.tables:
        from .calamine_reader import unseen_in_xls

        unseen, logged = unseen_in_xls(name)
        out.findings.append(unseen)
        out.changes.insert(0, logged)
    for title in not_tables:
        out.changes.append(Change(file=name, sheet=title, why="sheet with no header row of a table: not read"))
    return out


def _book_findings(name: str, not_tables: list[str], any_table: bool) -> list[Finding]:
    if not_tables:
        sheets = ", ".join(not_tables)
        if any_table:
            return [
                ingest_finding(
                    "SHEET-NOT-TABLE",
                    f"{name}: sheet(s) {sheets} have no header row of a table of the return; they were not read",
                    file=name,
                )
            ]
        return [
            ingest_finding(
                "FILE-UNKNOWN-TABLE",
                f"{name}: no sheet ({sheets}) has a header row that matches a table of the return "
                f"in its first {HEADER_SEARCH_ROWS} rows",
                file=name,
            )
        ]
    if not any_table:
        return [ingest_finding("FILE-EMPTY", f"{name}: the workbook's sheets are empty", file=name)]
    return []


class _OpenpyxlBook:
    """An .xlsx/.xlsm workbook through openpyxl's streaming mode, with each sheet's XML read for its layout."""

    errors = (OSError, zipfile.BadZipFile, KeyError, etree.LxmlError)

    def __init__(self, path: Path, book: Any) -> None:
        self.path, self.book = path, book

    def sheets(self) -> Iterator[tuple[str, bool, Any, SheetLayout]]:
        with zipfile.ZipFile(self.path) as archive:
            for sheet in self.book.worksheets:
                layout = _sheet_layout(archive, getattr(sheet, "_worksheet_path", ""))
                yield sheet.title, sheet.sheet_state == "visible", sheet, layout

    def close(self) -> None:
        self.book.close()


def _open_openpyxl(path: Path, name: str) -> _OpenpyxlBook | WorkbookRead:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds of error for a damaged or foreign file
        return _unreadable(name, str(exc) or type(exc).__name__)
    if str(book.properties.title or "").endswith(REPORT_TITLE):  # e.g. last run's report saved with the data
        book.close()
        why = "it is a validation report written by this tool, not part of the return"
        return WorkbookRead([], [ingest_finding("FILE-SKIPPED", f"{name}: not read; {why}", file=name)])
    return _OpenpyxlBook(path, book)


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


@dataclass
class _SheetRead:
    schema: ReturnSchema
    raw: RawTable
    findings: list[Finding]
    changes: list[Change]
    letters: dict[str, str]  # column name -> its letter in the sheet


def _find_header(sheet: Any, schemas: list[ReturnSchema]) -> tuple[list[list[Any]], int, ReturnSchema, TableDef] | None:
    """The sheet's rows (cells), the header row's number and the table it is the header of; None: not a table."""
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
    return rows, header_at, found[0], found[1]


def _content(cells: Sequence[Any]) -> str:
    """A row's non-blank values, as the change log shows a row that was not written."""
    return " | ".join(shown(c.value) for c in cells if not _blank(c.value))


def _read_sheet(
    sheet: Any,
    file: str,
    title: str,
    layout: SheetLayout,
    schemas: list[ReturnSchema],
    tokens: frozenset[str],
    dates_logged: bool = False,
) -> _SheetRead | None:
    located = _find_header(sheet, schemas)
    if located is None:
        return None
    rows, header_at, schema, table = located
    label = f"{file} [{title}]"
    header_cells = [c.value for c in rows[header_at - 1]]
    while header_cells and _blank(header_cells[-1]):
        header_cells.pop()
    header = ["" if v is None else str(v).strip() for v in header_cells]
    width = len(header)
    findings: list[Finding] = []
    changes: list[Change] = []

    def notice(code: str, message: str, **where: Any) -> None:
        findings.append(ingest_finding(code, f"{label}: {message}", table=table.name, file=label, **where))

    def change(why: str, **where: Any) -> None:
        changes.append(Change(file=file, sheet=title, table=table.name, why=why, **where))

    positions = match_columns(header, table)
    data = _rows_around(rows, header_at, width, schema, positions, notice, change)
    last = data[-1][0] if data else header_at
    _layout_notices(layout, header, header_at, last, width, notice, change)
    column_of = {pos: table.columns[col].type for pos, col in positions.items()}
    names = {pos: (positions.get(pos) or header[pos]) for pos in range(width)}
    typer = _CellText(schema, label, table.name, names, tokens, change, dates_logged)
    converted = [(n, [typer.text(c, pos, column_of.get(pos, "text"), n) for pos, c in enumerate(cells[:width])])
                 for n, cells in data]  # fmt: skip
    raw, more = rows_to_table(label, header, converted, schema, table, header_line=header_at, ragged=False)
    findings.extend(typer.findings())
    findings.extend(more)
    letters: dict[str, str] = {}
    for pos, col in sorted(positions.items(), reverse=True):  # the first of two same-named columns is read
        letters[col] = _letter(pos + 1)
    for pos, name in enumerate(header):
        if pos not in positions and name:
            letters.setdefault(name, _letter(pos + 1))
    return _SheetRead(schema, raw, findings, changes, letters)


def _rows_around(
    rows: list[list[Any]],
    header_at: int,
    width: int,
    schema: ReturnSchema,
    positions: dict[int, str],
    notice: Any,
    change: Any,
) -> list[tuple[int, list[Any]]]:
    """The data rows (number, cells) under the header row, without blank rows and the notes or totals rows below
    the data; notices and changes for what is left out (rows above the header, rows below, cells to the right)."""
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
        for n in above:
            change("title or notes row above the header row: not read", row=n, old=_content(rows[n - 1]))
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
        for n in sorted(trailer):
            change("notes or totals row below the data: not read", row=n, old=_content(rows[n - 1]))
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
        for n in outside:
            change("cells right of the table's last column: not read", row=n, old=_content(rows[n - 1][width:]))
    return data


def _layout_notices(
    layout: SheetLayout, header: list[str], first: int, last: int, width: int, notice: Any, change: Any
) -> None:
    """Notices (and changes) for hidden rows and columns, merged cells and formulas within the table (header row
    to last row)."""
    rows_hidden = [r for r in layout.hidden_rows if first < r <= last]
    if rows_hidden:
        notice(
            "SHEET-HIDDEN",
            f"row(s) {_spans(rows_hidden)} are hidden or filtered out; they were read like every other row "
            "(a filtered-out row is still part of the return)",
        )
        for r in sorted(rows_hidden):
            change("hidden or filtered-out row: read like every other row", row=r)
    cols_hidden = [c for c in layout.hidden_columns if c <= width]
    if cols_hidden:
        named = ", ".join(f"{_letter(c)} ({header[c - 1] or 'no header'})" for c in sorted(cols_hidden))
        notice("SHEET-HIDDEN", f"column(s) {named} are hidden; they were read like every other column")
        for c in sorted(cols_hidden):
            change("hidden column: read like every other column", cell=_letter(c), column=header[c - 1])
    merged = [m for m in layout.merged if m[0] <= last and m[2] >= first and m[1] <= width]
    if merged:
        ranges = ", ".join(f"{_letter(c1)}{r1}:{_letter(c2)}{r2}" for r1, c1, r2, c2 in merged[:10])
        more = f" and {len(merged) - 10} more" if len(merged) > 10 else ""
        notice(
            "SHEET-MERGED",
            f"merged cells {ranges}{more}: only the first cell of each holds a value; the others were read as blank",
        )
        for r1, c1, r2, c2 in merged:
            change("merged cells: only the first cell's value was read", cell=f"{_letter(c1)}{r1}:{_letter(c2)}{r2}")
    for column, found_rows in sorted(layout.formulas.items()):
        inside = [r for r in found_rows if first < r <= last]
        if column <= width and inside:
            notice(
                "CELL-FORMULA",
                f"{len(inside)} cell(s) of column {_letter(column)} ({header[column - 1]}), rows {_spans(inside)}, "
                "hold formulas; their last calculated values were read",
            )
            for r in sorted(inside):
                ref = f"{_letter(column)}{r}"
                change("formula: its last calculated value was read", cell=ref, row=r, column=header[column - 1])


class _CellText:
    """A cell's value -> the text a CSV file of the same data would hold, with notices for what was changed."""

    def __init__(
        self,
        schema: ReturnSchema,
        label: str,
        table: str,
        names: dict[int, str],
        tokens: frozenset[str],
        change: Any = None,
        dates_logged: bool = False,
    ) -> None:
        self.label, self.table, self.names, self.tokens = label, table, names, tokens
        self.dates_logged = dates_logged
        self.change = change or (lambda why, **where: None)
        self.date_form = DMY if schema.return_type == "ssda903" else ISO
        self.no_data: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.serial_dates: dict[int, list[int]] = defaultdict(list)
        self.numbers_as_codes: dict[int, list[int]] = defaultdict(list)
        self.dates_elsewhere: dict[int, list[int]] = defaultdict(list)
        self.numbers_as_text: dict[int, list[int]] = defaultdict(list)
        self.errors: list[Finding] = []

    def text(self, cell: Any, pos: int, kind: str, row: int) -> str | None:
        """The cell's text, with a change recorded when it is not the value as Excel holds it."""
        found, why = self._text(cell, pos, kind, row)
        if why:
            value = cell.value
            old = "(blank-looking)" if isinstance(value, str) and not value.strip() and value else shown(value)
            if why.startswith("error"):
                old = str(value)
            ref = f"{_letter(pos + 1)}{row}"
            self.change(why, cell=ref, row=row, column=self.names[pos], old=old, new=found or "")
        return found

    def _text(self, cell: Any, pos: int, kind: str, row: int) -> tuple[str | None, str]:
        """(text, why it differs from the cell's value, or "")."""
        value = cell.value
        if value is None:
            return None, ""
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
            return None, "error value: read as blank"
        if isinstance(value, bool):
            return ("1" if value else "0"), "TRUE/FALSE cell: read as 1/0"
        if isinstance(value, dt.datetime | dt.date):
            if kind != "date":
                self.dates_elsewhere[pos].append(row)
                return value.strftime(ISO), "date in a column that is not a date: read as yyyy-mm-dd"
            text = value.strftime(self.date_form)
            if self.dates_logged and text != shown(value):  # what the cell held, as yyyy-mm-dd (and its time)
                timed = isinstance(value, dt.datetime) and value.time() != dt.time()
                return (
                    text,
                    f"date {'and time ' if timed else ''}cell: written as text {FORM_NAMES[self.date_form]}"
                    + (", the time left out" if timed else ""),
                )
            return text, ""
        if isinstance(value, int | float):
            return self._number_text(value, pos, kind, row)
        if isinstance(value, dt.time | dt.timedelta):
            return str(value), ""
        text = str(value)
        stripped = text.strip()
        if not stripped:
            self.no_data[pos]["(blank-looking: spaces)"] += 1
            return None, "blank-looking cell (spaces only): read as blank"
        if stripped.casefold() in self.tokens:
            self.no_data[pos][stripped] += 1
            return None, "'no data' token: read as blank"
        if kind == "int" and _NUMBER.fullmatch(stripped):
            self.numbers_as_text[pos].append(row)
            return text, "number stored as text: read as a number"
        return text, ""

    def _number_text(self, value: float, pos: int, kind: str, row: int) -> tuple[str, str]:
        if kind == "date":
            from openpyxl.utils.datetime import from_excel

            try:
                day = from_excel(value)
            except (ValueError, OverflowError):
                return _number(value), ""
            if not isinstance(day, dt.datetime | dt.date):
                return _number(value), ""
            self.serial_dates[pos].append(row)
            return day.strftime(self.date_form), "date stored as a plain number: read as an Excel date"
        if kind not in ("int", "flag"):
            self.numbers_as_codes[pos].append(row)
            return _number(value), "code stored as a number: read as its whole digits (leading zeros are lost)"
        return _number(value), ""

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
