"""The preview shown and written: a rich table on the console, tidy CSV (measures, and one file per table) and an
Excel workbook (a Measures sheet, an About sheet, then one sheet per table)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from ..outputs.csv_out import csv_text
from ..outputs.terminal import term
from .model import SUPPRESSED, Convention, Measure, Preview, history_text

RETURN_NAMES = {"ssda903": "SSDA903 (children looked after)", "cin": "CIN census"}
DATE_FORMATS = {"ssda903": "%d/%m/%Y", "cin": "%Y-%m-%d"}  # as each return writes its dates


def convention_text(conv: Convention) -> str:
    if conv.raw:
        return "exact figures (--raw): for internal use, not for publication"
    rounding = f"; other counts rounded to the nearest {conv.round_to}" if conv.round_to > 1 else ""
    return (
        f"DfE's conventions: counts of 1 to 5 shown as {SUPPRESSED}, and percentages or averages built on them"
        f"{rounding}; percentages and days to whole numbers (--raw for exact figures)"
    )


def _shown(value: Any, kind: str, suffix: bool = True) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if value == SUPPRESSED:
        return SUPPRESSED
    if kind == "percent" and suffix:
        return f"{value}%"
    if kind == "mean_days" and suffix:
        return f"{value} days"
    if kind == "rate" and suffix:
        return f"{value} per 10,000"
    return str(value)


def _change(conv: Convention, m: Measure) -> str:
    change = conv.change(m)
    if change is None or change == SUPPRESSED:
        return "" if change is None else SUPPRESSED
    sign = "+" if change > 0 else ""  # type: ignore[operator]
    change = f"{change:g}"
    if m.kind == "percent":
        return f"{sign}{change} pts"
    if m.kind == "mean_days":
        return f"{sign}{change} days"
    if m.kind in ("mean", "rate"):
        return f"{sign}{change}"
    share = conv.change(m, percent=True)
    if not isinstance(share, int | float):
        return f"{sign}{change}"
    return f"{sign}{change} ({'+' if share > 0 else ''}{share:g}%)"


@dataclass(frozen=True)
class FigureRow:
    """One measure as text, as the console, the HTML report and the Excel Figures sheet show it."""

    group: str
    label: str
    value: str
    parts: str  # numerator/denominator
    previous: str
    change: str
    flag: str
    note: str
    history: str  # beside the figure: how many children rest on history the return lacks, and what settles it


def figure_rows(preview: Preview, conv: Convention) -> list[FigureRow]:
    rows = []
    for m in preview.measures:
        value = _shown(conv.value(m), m.kind) if m.numerator is not None else "n/a"
        parts = _shown(conv.numerator(m), "count")
        if m.kind != "count" and m.numerator is not None:
            parts += f"/{_shown(conv.denominator(m), 'count')}"
        previous = _shown(conv.previous(m), m.kind) if preview.previous_year else ""
        change = _change(conv, m) if preview.previous_year else ""
        history = ""
        if m.history_unknown:
            history = f"{_shown(conv.count(m.history_unknown), 'count')} {history_text(m)}"
        note = "; ".join(text for text in (m.note, history) if text)
        rows.append(FigureRow(m.group, m.label, value, parts, previous, change, m.flag or "", note, history))
    return rows


def print_preview(preview: Preview, conv: Convention, out: Console) -> None:
    title = f"{RETURN_NAMES.get(preview.return_type, preview.return_type)} {preview.year}: preview of DfE's figures"
    if preview.la:
        title += f" for {term(preview.la)}"
    comparing = preview.previous_year is not None
    table = Table(title=term(title), title_justify="left", show_lines=False)
    table.add_column("Measure", overflow="fold", min_width=24)
    table.add_column("Value", justify="right")
    table.add_column("Num./Denom.", justify="right")
    if comparing:
        table.add_column(term(preview.previous_year or ""), justify="right")
        table.add_column("Change", justify="right")
        table.add_column("Flag", no_wrap=True)
    group = None
    for row in figure_rows(preview, conv):
        if row.group != group:
            group = row.group
            table.add_row(f"[bold]{term(group)}[/]")
        label = f"  {term(row.label)}" + (f"\n  [dim]({term(row.history)})[/]" if row.history else "")
        cells = [label, term(row.value), term(row.parts)]
        if comparing:
            cells += [term(row.previous), term(row.change), f"[bold yellow]{term(row.flag)}[/]" if row.flag else ""]
        table.add_row(*cells)
    out.print(table, width=max(out.width, 100), crop=False)  # a pipe or file: wide enough not to crop columns
    out.print(f"Shown by {convention_text(conv)}.")
    if comparing:
        flagged = sum(1 for m in preview.measures if m.flag)
        out.print(
            f"{flagged} measure(s) flagged for a large change from {term(preview.previous_year)} (docs/preview.md)."
        )
    for m in preview.measures:
        if m.numerator is None and m.note:
            out.print(f"n/a: {term(m.label)}: {term(m.note)}")
    for note in preview.notes:
        out.print(f"Note: {term(note)}")


def measures_csv(preview: Preview, conv: Convention) -> bytes:
    frame = preview.measures_frame(conv)
    return _csv(frame.columns, frame.itertuples(index=False))


def table_csv(frame: pd.DataFrame, return_type: str) -> bytes:
    text = _as_text(frame, DATE_FORMATS.get(return_type, "%Y-%m-%d"))
    return _csv(text.columns, text.itertuples(index=False))


def _csv(columns: Any, rows: Any) -> bytes:
    return csv_text([list(columns), *([None if _blank(v) else v for v in row] for row in rows)]).encode("utf-8")


def _blank(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _as_text(frame: pd.DataFrame, date_format: str) -> pd.DataFrame:
    """Every column as text (None for blanks): dates in the return's own form, flags as true / false."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime(date_format).astype("object").where(s.notna(), None)
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.map({True: "true", False: "false"}).astype("object").where(s.notna(), None)
        else:
            converted = s.astype("object")
            stamps = converted.map(lambda v: isinstance(v, pd.Timestamp))
            if stamps.any():  # a date column holding some unreadable text as written
                converted = converted.where(~stamps, pd.to_datetime(converted.where(stamps)).dt.strftime(date_format))
            out[col] = converted.where(s.notna(), None)
    return pd.DataFrame(out, index=frame.index)


def render_workbook(preview: Preview, conv: Convention) -> bytes:
    from openpyxl import Workbook

    from ..outputs.xlsx import Column, Sheet, finish_workbook, write_sheet

    wb = Workbook(write_only=True)
    wb.properties.creator = "cscvalidate"
    wb.properties.title = f"{preview.return_type} {preview.year} preview"
    wb.properties.lastModifiedBy = None
    frame = preview.measures_frame(conv)
    measures = Sheet(
        "Measures", "Measures", [Column(c, "auto", 60 if c in ("label", "note") else None) for c in frame.columns]
    )
    for row in frame.itertuples(index=False):
        measures.add([None if _blank(v) else v for v in row])
    about = Sheet("About", "About", [Column("Item", width=24), Column("Value", width=110)])
    about.add(["Return", RETURN_NAMES.get(preview.return_type, preview.return_type)])
    about.add(["Year", preview.year])
    about.add(["LA", preview.la or ""])
    about.add(["Compared with", preview.previous_year or "(no previous year given)"])
    about.add(["Figures", convention_text(conv)])
    about.add(["Definitions", "docs/preview.md"])
    for note in preview.notes:
        about.add(["Note", note])
    sheets = [measures, about]
    date_format = DATE_FORMATS.get(preview.return_type, "%Y-%m-%d")
    for name, df in preview.tables.items():
        sheets.append(_table_sheet(name, df, date_format, Column, Sheet))
    for sheet in sheets:
        write_sheet(wb, sheet)
    buffer = io.BytesIO()
    wb.save(buffer)
    return finish_workbook(buffer.getvalue(), wb, sheets, None)


def _table_sheet(name: str, df: pd.DataFrame, date_format: str, column_type: Any, sheet_type: Any) -> Any:
    """One sheet for a table: dates as Excel dates, numbers as numbers, everything else as text."""
    columns, values = [], []
    text = None
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            columns.append(column_type(col, "date", 13))
            values.append([None if pd.isna(v) else v.date() for v in s])
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            columns.append(column_type(col, "number"))
            values.append([None if pd.isna(v) else (int(v) if float(v).is_integer() else float(v)) for v in s])
        else:
            if text is None:
                text = _as_text(df, date_format)
            columns.append(column_type(col, "text"))
            values.append(list(text[col]))
    sheet = sheet_type(name[:31], f"T_{name}", columns)
    for row in zip(*values, strict=True) if values else []:
        sheet.add(list(row))
    return sheet
