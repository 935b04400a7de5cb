"""Excel workbook: Summary, Rules, Children (one row per finding about a child) and Return-level sheets.

Every sheet is a real Excel table (filters, banded rows) with a frozen header row. Codes, ids and other text
are written as text cells with the Text number format, so 0112 and 8525Q stay as written (also when a cell is
edited); dates are Excel dates. A text value starting with = + - @ is written with a leading ' (as in the CSV
report) and as a text cell, so Excel never runs it. The file is deterministic: no creation or modification
time unless one is given.

openpyxl builds the workbook (styles, tables, frozen panes). The long sheets' rows are then written straight
into their sheet XML, with the styles openpyxl gave the first row: openpyxl takes about 20 seconds for 50,000
findings, this about 2.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from ..findings import SEVERITY_ORDER, Finding, FindingTable
from ..ingest.xlsx_reader import REPORT_TITLE
from ..reference.authorities import la_name
from ..result import Result, completeness
from .csv_out import safe_cell
from .details import Records, code_key, display, rule_catalogue, ruleset_label
from .formats import RenderOptions

MAX_CELL = 32_767  # Excel's limit on the characters of one cell
MAX_ROWS = 1_048_575  # Excel's rows per sheet, less the header
WIDTH_ROWS = 2000  # the rows a column's width is taken from
DATE_FORMAT = "dd/mm/yyyy"
TEXT_FORMAT = "@"
STYLE = "TableStyleMedium2"
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DCTERMS = "http://purl.org/dc/terms/"
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text | number | date | note | auto (by the value's type)
    width: float | None = None  # None: from the content


class Sheet:
    """Rows of one sheet, typed by column: added one by one (:meth:`add`), or read from a source when the sheet
    is written (:meth:`stream`, for the long sheets: only the first rows are held, to size the columns)."""

    def __init__(self, title: str, table: str, columns: Sequence[Column], freeze: str = "A2") -> None:
        # Column names can come from an input (an extra column's header): neutralised like every other cell.
        named = [dataclasses.replace(c, name=_text(c.name)) for c in columns]
        self.title, self.table, self.columns, self.freeze = title, table, named, freeze
        self.rows: list[list[Any]] = []  # every row, or (streamed from a source) the first WIDTH_ROWS
        self.truncated = 0
        self.size = 0  # the rows the sheet holds
        self.source: Callable[[], Iterator[list[Any]]] | None = None

    def add(self, row: Sequence[Any]) -> None:
        if len(self.rows) >= MAX_ROWS:
            self.truncated += 1
            return
        self.rows.append(list(row))
        self.size += 1

    def stream(self, count: int, source: Callable[[], Iterator[list[Any]]]) -> None:
        """The sheet's ``count`` rows come from ``source()`` when it is written (up to MAX_ROWS of them)."""
        self.size = min(count, MAX_ROWS)
        self.truncated = count - self.size
        self.source = source
        self.rows = list(itertools.islice(source(), min(WIDTH_ROWS, self.size)))

    def all_rows(self) -> Iterator[list[Any]]:
        if self.source is None:
            return iter(self.rows)
        return itertools.islice(self.source(), self.size)

    @property
    def streamed(self) -> bool:
        """Whether the rows are written straight into the sheet XML (every column has one kind)."""
        return all(c.kind != "auto" for c in self.columns)


def _text(value: Any) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", safe_cell(value))
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _kind(column: Column, value: Any) -> str:
    if column.kind != "auto":
        return column.kind
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return "text"


def _cell(ws: Any, column: Column, value: Any) -> Any:
    kind = _kind(column, value)
    if kind == "date":
        cell = WriteOnlyCell(ws, value=value if isinstance(value, dt.date) else None)
        cell.number_format = DATE_FORMAT
        return cell
    if kind == "number":
        return WriteOnlyCell(
            ws, value=value if isinstance(value, int | float) and not isinstance(value, bool) else None
        )
    text = _text(value)
    cell = WriteOnlyCell(ws, value=text or None)
    if text:
        cell.data_type = "s"  # never a formula, whatever the text starts with
    cell.number_format = TEXT_FORMAT
    if kind == "note":
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def _width(column: Column, rows: list[list[Any]], index: int) -> float:
    if column.width is not None:
        return column.width
    longest = len(column.name)
    for row in rows[:WIDTH_ROWS]:
        value = row[index]
        shown = DATE_FORMAT if isinstance(value, dt.date) else display(value)
        longest = max(longest, len(shown))
    return float(min(max(longest + 2, 8), 60))


def write_sheet(wb: Workbook, sheet: Sheet) -> None:
    """The sheet through openpyxl: all its rows, or (streamed sheets) the header and one styled row."""
    ws = wb.create_sheet(sheet.title)
    for i, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(column, sheet.rows, i - 1)
    ws.freeze_panes = sheet.freeze
    header = []
    for column in sheet.columns:
        cell = WriteOnlyCell(ws, value=column.name)
        cell.data_type = "s"  # never a formula
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    rows = sheet.rows or [[None] * len(sheet.columns)]  # an Excel table needs a row under its header
    for row in rows[:1] if sheet.streamed else rows:
        ws.append([_cell(ws, c, v) for c, v in zip(sheet.columns, row, strict=True)])
    ref = f"A1:{get_column_letter(len(sheet.columns))}{max(sheet.size, 1) + 1}"
    table = Table(displayName=sheet.table, ref=ref, autoFilter=AutoFilter(ref=ref))
    table.tableColumns = [TableColumn(id=i, name=c.name) for i, c in enumerate(sheet.columns, start=1)]
    table.tableStyleInfo = TableStyleInfo(name=STYLE, showRowStripes=True)
    with warnings.catch_warnings():  # the columns are given above, as write-only mode asks
        warnings.simplefilter("ignore", UserWarning)
        ws.add_table(table)


def _summary(result: Result, notes: Sequence[tuple[str, Any]]) -> Sheet:
    ctx = result.context
    names = {"ssda903": "SSDA903 (children looked after)", "cin": "CIN census"}
    sheet = Sheet("Summary", "Summary", [Column("Item", width=28), Column("Value", "auto", width=90)])
    rows: list[tuple[str, Any]] = [
        ("Return", names.get(result.return_type, result.return_type)),
        ("Year", ctx.year),
        ("Collection start", ctx.collection_start),
        ("Collection end", ctx.collection_end),
        ("Reference date", ctx.reference_date),
        ("LA", ctx.la or ""),
        ("LA name", la_name(ctx.la) or ""),
        ("Tool", f"{result.tool.get('name', '')} {result.tool.get('version', '')}".strip()),
        ("Ruleset", ruleset_label(result)),
        ("Errors", result.count("error")),
        ("Queries", result.count("query")),
        ("Notices", result.count("notice")),
        ("Unconfirmed (need older returns; not counted)", len(result.unconfirmed)),
        ("Rules run", len(result.rules_run)),
        ("Rules not run", len(result.rules_not_run)),
        ("Rules crashed", len(result.rules_crashed)),
        ("Completeness", completeness(result)),
        *notes,
    ]
    for n, item in enumerate(result.inputs, start=1):
        label = f"Input {n}" if item.year == "current" else f"Input {n} ({item.year} year)"
        tables = ", ".join(item.tables) if item.tables else "not recognised"
        rows.append((label, f"{item.path} ({item.kind}): {tables}"))
    for status in sorted(result.rules_not_run, key=lambda r: code_key(r.code)):
        rows.append((f"Not run: {status.code}", status.reason))
    for status in sorted(result.rules_crashed, key=lambda r: code_key(r.code)):
        rows.append((f"Crashed: {status.code}", status.reason))
    for item, value in rows:
        sheet.add([item, value])
    return sheet


def write(result: Result, out: BinaryIO, options: RenderOptions) -> None:
    if out.seekable():
        write_xlsx(result, out, notes=options.notes)
    else:  # a zip written to a pipe would differ (sizes after each entry): made in memory, then copied
        out.write(render_xlsx(result, notes=options.notes))


def render_xlsx(
    result: Result, *, notes: Sequence[tuple[str, str]] = (), timestamp: dt.datetime | None = None
) -> bytes:
    """The workbook as bytes. ``notes``: extra Summary rows (e.g. redaction, split); ``timestamp``: the
    workbook's created/modified time (default: none, so the same result gives the same bytes)."""
    buffer = io.BytesIO()
    write_xlsx(result, buffer, notes=notes, timestamp=timestamp)
    return buffer.getvalue()


def write_xlsx(
    result: Result, out: BinaryIO, *, notes: Sequence[tuple[str, str]] = (), timestamp: dt.datetime | None = None
) -> None:
    """The workbook, written to ``out`` (seekable) as it is made: the long sheets' rows straight from the
    findings' columns into the zip."""
    records = Records(result)
    wb = Workbook(write_only=True)
    wb.properties.creator = str(result.tool.get("name", "cscvalidate"))
    wb.properties.title = f"{result.return_type} {result.year} {REPORT_TITLE}"
    wb.properties.lastModifiedBy = None

    summary = _summary(result, notes)

    rules = Sheet(
        "Rules",
        "Rules",
        [
            Column("Code"),
            Column("Severity"),
            Column("Status"),
            Column("Findings", "number"),
            Column("Message", width=80),
            Column("Fields", width=40),
            Column("Reason", width=60),
        ],
        freeze="B2",
    )
    catalogue = sorted(
        rule_catalogue(result),
        key=lambda r: (r.count == 0, SEVERITY_ORDER.get(r.severity, 9), code_key(r.code)),
    )
    for info in catalogue:
        status = {"not_run": "not run"}.get(info.status, info.status)
        rules.add([info.code, info.severity, status, info.count, info.message, "; ".join(info.fields), info.reason])

    children, returns = _finding_sheets()
    found = result.findings
    about_child = np.fromiter(
        (c is not None or lv in ("record", "child") for c, lv in found.rows("child", "level")), bool, len(found)
    )
    mine, others = found.take(about_child), found.take(~about_child)
    children.stream(len(mine), lambda: _child_rows(mine, records))
    returns.stream(len(others), lambda: _return_rows(others))
    for sheet in (children, returns):
        if sheet.truncated:
            summary.add([f"{sheet.title} sheet", f"only the first {MAX_ROWS} of {MAX_ROWS + sheet.truncated} rows fit"])

    sheets = [summary, rules, children, returns]
    if result.unconfirmed:
        sheets.append(_unconfirmed(result))
    figures = _figures(result)
    if figures is not None:
        sheets.insert(1, figures)
    for sheet in sheets:
        write_sheet(wb, sheet)
    buffer = io.BytesIO()
    wb.save(buffer)
    write_workbook(out, buffer.getvalue(), wb, sheets, timestamp)


def _finding_sheets() -> tuple[Sheet, Sheet]:
    """The Children and Return-level sheets, without their rows."""
    children = Sheet(
        "Children",
        "Children",
        [
            Column("Child"),
            Column("Table"),
            Column("Row", "number"),
            Column("Line", "number"),
            Column("File"),
            Column("Code"),
            Column("Severity"),
            Column("Message", width=70),
            Column("Fields", width=30),
            Column("Values", width=30),
            Column("Locator", width=40),
            Column("Record date", "date", width=13),
            Column("Query notes", "note", width=60),
        ],
        freeze="B2",
    )
    returns = Sheet(
        "Return-level",
        "ReturnLevel",
        [
            Column("Code"),
            Column("Severity"),
            Column("Level"),
            Column("Message", width=80),
            Column("Table"),
            Column("Fields", width=30),
            Column("Values", width=30),
            Column("File"),
            Column("Line", "number"),
            Column("Query notes", "note", width=60),
        ],
        freeze="B2",
    )
    return children, returns


def _child_rows(found: FindingTable, records: Records) -> Iterator[list[Any]]:
    names = ("child", "table", "row", "line", "file", "code", "severity", "message", "fields", "values")
    for child, table, row, line, file, code, severity, message, fields, values in found.rows(*names):
        where = records.locate(table, row)
        yield [
            child,
            table,
            row,
            line,
            file,
            code,
            severity,
            message,
            "; ".join(fields),
            "; ".join(display(v) for v in values),
            where.text,
            where.date,
            None,
        ]


def _return_rows(found: FindingTable) -> Iterator[list[Any]]:
    names = ("code", "severity", "level", "message", "table", "fields", "values", "file", "line")
    for code, severity, level, message, table, fields, values, file, line in found.rows(*names):
        yield [
            code,
            severity,
            level,
            message,
            table,
            "; ".join(fields),
            "; ".join(display(v) for v in values),
            file,
            line,
            None,
        ]


def _unconfirmed(result: Result) -> Sheet:
    """The findings that rest on care history older than the returns given, apart from the others."""
    sheet = Sheet(
        "Unconfirmed",
        "Unconfirmed",
        [
            Column("Child"),
            Column("Code"),
            Column("Severity"),
            Column("Message", width=70),
            Column("Table"),
            Column("Row", "number"),
            Column("Line", "number"),
            Column("File"),
            Column("Values", width=30),
            Column("What would confirm it", width=90),
        ],
        freeze="B2",
    )
    names = ("child", "code", "severity", "message", "table", "row", "line", "file", "values", "note")
    for child, code, severity, message, table, row, line, file, values, note in result.unconfirmed.rows(*names):
        sheet.add([child, code, severity, message, table, row, line, file, "; ".join(display(v) for v in values), note])
    return sheet


def _figures(result: Result) -> Sheet | None:
    """The headline measures DfE will derive (``preview``), exact: this report is for the LA's own use."""
    from ..preview import Convention

    preview = result.figures
    if preview is None:
        return None
    frame = preview.measures_frame(Convention(raw=True))
    last = preview.previous_year
    sheet = Sheet(
        "Figures",
        "Figures",
        [
            Column("Group", width=30),
            Column("Measure", width=70),
            Column("Value", "auto"),
            Column("Numerator", "auto"),
            Column("Denominator", "auto"),
            *([Column(f"{last}", "auto"), Column("Change", "auto"), Column("Flag", width=16)] if last else []),
            Column("Note", width=60),
        ],
        freeze="C2",
    )
    for row in frame.itertuples(index=False):
        cells = [row.group, row.label, row.value, row.numerator, row.denominator]
        if last:
            cells += [row.previous, row.change, row.flag]
        sheet.add([None if v is None or v != v else v for v in [*cells, row.note]])  # v != v: NaN
    return sheet


def is_child_finding(f: Finding) -> bool:
    """Findings listed child by child: about a record or a child, or any finding naming a child."""
    return f.child is not None or f.level in ("record", "child")


def _values(f: Finding) -> str:
    return "; ".join(display(v) for v in f.values)


# --------------------------------------------------------------------------------- the saved workbook


_SHEET_DATA = re.compile(rb"<sheetData>.*</sheetData>", re.DOTALL)
_CELL_STYLE = re.compile(rb'<c r="([A-Z]+)2"(?: s="(\d+)")?')


def _sheet_data(sheet: Sheet, xml: bytes) -> Iterator[bytes]:
    """The <sheetData> of a streamed sheet, in pieces: its header as openpyxl wrote it, then every row, styled as
    openpyxl styled the first row's cells of each column."""
    # an empty cell without a style (a blank number) is not written: its column has the default style, 0
    styles = {m.group(1).decode(): (m.group(2) or b"0").decode() for m in _CELL_STYLE.finditer(xml)}
    letters = [get_column_letter(i) for i in range(1, len(sheet.columns) + 1)]
    header = re.search(rb'<row r="1".*?</row>', xml, re.DOTALL)
    assert header is not None
    yield b"<sheetData>" + header.group(0)
    columns = [
        (letter, styles.get(letter, "0"), column.kind) for letter, column in zip(letters, sheet.columns, strict=True)
    ]
    rows = sheet.all_rows() if sheet.size else iter([[None] * len(sheet.columns)])
    parts: list[bytes] = []
    for n, row in enumerate(rows, start=2):
        parts.append(_row_xml(columns, n, row))
        if len(parts) >= 1000:
            yield b"".join(parts)
            parts.clear()
    parts.append(b"</sheetData>")
    yield b"".join(parts)


def _row_xml(columns: list[tuple[str, str, str]], n: int, row: Sequence[Any]) -> bytes:
    cells = []
    for (letter, style, kind), value in zip(columns, row, strict=True):
        ref = f"{letter}{n}"
        if kind == "date":
            if isinstance(value, dt.datetime):
                value = value.date()
            if isinstance(value, dt.date):
                cells.append(f'<c r="{ref}" s="{style}"><v>{(value - EXCEL_EPOCH).days}</v></c>')
            continue
        if kind == "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(f'<c r="{ref}" s="{style}"><v>{value}</v></c>')
            continue
        text = _text(value)
        if not text:
            if kind == "note":  # empty, but formatted for the notes the LA types in
                cells.append(f'<c r="{ref}" s="{style}"/>')
            continue
        space = ' xml:space="preserve"' if text != text.strip() else ""
        cells.append(f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>')
    return f'<row r="{n}">{"".join(cells)}</row>'.encode("utf-8", "replace")


def finish_workbook(data: bytes, wb: Workbook, sheets: list[Sheet], timestamp: dt.datetime | None) -> bytes:
    """The saved workbook with the streamed sheets' rows, fixed entry times, and the core properties without
    the time of saving (or with ``timestamp``)."""
    out = io.BytesIO()
    write_workbook(out, data, wb, sheets, timestamp)
    return out.getvalue()


def write_workbook(
    out: BinaryIO, data: bytes, wb: Workbook, sheets: list[Sheet], timestamp: dt.datetime | None
) -> None:
    """:func:`finish_workbook`, written to ``out`` (seekable): each streamed sheet's rows in pieces."""
    from openpyxl.xml.functions import tostring

    props = wb.properties
    props.created = props.modified = timestamp or dt.datetime(2000, 1, 1)
    tree = props.to_tree()
    if timestamp is None:  # no dates at all: the same result gives the same bytes
        for el in list(tree):
            if el.tag in (f"{{{DCTERMS}}}created", f"{{{DCTERMS}}}modified"):
                tree.remove(el)
    core = tostring(tree)
    streamed = {f"xl/worksheets/sheet{n}.xml": s for n, s in enumerate(sheets, start=1) if s.streamed}
    when = timestamp.timetuple()[:6] if timestamp else FIXED_ZIP_TIME
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = core if info.filename == "docProps/core.xml" else src.read(info.filename)
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            if info.filename not in streamed:
                dst.writestr(entry, body)
                continue
            sheet = streamed[info.filename]
            first = f"<t>{escape(sheet.columns[0].name)}</t>".encode()
            if first not in body:
                raise RuntimeError(f"{info.filename} is not the {sheet.title} sheet")
            found = _SHEET_DATA.search(body)
            assert found is not None
            with dst.open(entry, "w") as fh:
                fh.write(body[: found.start()])
                for piece in _sheet_data(sheet, body):
                    fh.write(piece)
                fh.write(body[found.end() :])
