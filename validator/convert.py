"""``convert``: a return in any accepted form (CSV files, XML, workbooks) -> the files DfE takes, and a change log.

:func:`convert_return` reads the inputs as ``validate`` does and writes, for SSDA903, into ``csv/`` one CSV file
per table with DfE's file names, exact headers and dd/mm/yyyy dates, and into ``xml/`` the XML (``ssda903.xml``,
and ``ssda903_sw.xml`` for the social worker episodes); for the CIN census, ``xml/cin.xml`` and the flattened
tables as CSV (``csv/cin_<table>.csv``, dates yyyy-mm-dd). ``changes.csv`` lists every change made on the way (a date rewritten, a "no data" token read
as blank, a totals row left out, ...), so the LA can submit exactly what it validated: validating the written
files gives the same rule findings. :func:`convert_xml` is the older XML -> CSV conversion, values as read.

Every table an XML file can carry is written, with its header row, even when the file has no records of it:
an absent table and an empty one are not the same to the rules (a missing table leaves its rules not run).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dataset import FILE, LINE, Dataset, Table
from .findings import Finding
from .ingest.changes import CHANGE_LOG_COLUMNS, Change, change_at
from .ingest.coerce import DMY, FORM_NAMES, ISO, RAW_SUFFIX
from .ingest.loader import (
    InputError,
    complete_xml_tables,
    expand_paths,
    load_return,
    sniff_xml_layout,
    xml_unread,
)
from .ingest.raw import RawTable
from .ingest.xlsx_reader import is_workbook
from .ingest.xml_cin import read_cin_xml
from .ingest.xml_cin_writer import BLOCK_TABLES, write_cin_xml
from .outputs import write_atomic
from .outputs.csv_out import csv_text, safe_cell
from .schema import TableDef, load_schema

Row = dict[str, str | None]


def _table_csv(raw: RawTable, columns: list[str]) -> bytes:
    data = [raw.columns.get(c, [None] * len(raw)) for c in columns]
    rows = [columns, *([col[i] for col in data] for i in range(len(raw)))]
    return csv_text(rows, lineterminator="\r\n").encode("utf-8")


@dataclass
class Converted:
    """What ``convert`` did: the files written, and the reading problems (error findings) of each input."""

    written: list[Path] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    failed: list[Path] = field(default_factory=list)  # inputs of which no table could be written
    changes: list[Change] = field(default_factory=list)  # convert_return: the change log's rows
    not_written: list[str] = field(default_factory=list)  # convert_return: files that could not be written, why


def convert_xml(inputs: list[Path], output: Path) -> Converted:
    done = Converted()
    for path in expand_paths(inputs):
        layout = sniff_xml_layout(path)
        kind, xml_file = layout if layout else (None, "main")
        if kind not in ("ssda903", "cin"):
            raise InputError(f"{path}: not an SSDA903 or CIN census XML file")
        if kind == "ssda903":
            from .ingest.xml903 import read_ssda903_xml

            tables, findings = read_ssda903_xml(path)
        else:
            tables, findings = read_cin_xml(path)
        # a refused (unsafe) or broken file: its tables are what was read before the problem, or nothing
        done.problems += [f for f in findings if f.severity == "error"]
        schema = load_schema(kind)
        if not xml_unread(tables, findings):
            complete_xml_tables(tables, schema, str(path), xml_file)
        before = len(done.written)
        for name, raw in tables.items():
            if name not in schema.tables or (not len(raw) and any(f.code == "XML-UNSAFE" for f in findings)):
                continue
            table = schema.tables[name]
            stem = table.file.removesuffix(".csv") if table.file else name
            target = output / f"{path.stem}_{stem}.csv"
            write_atomic(target, _table_csv(raw, list(table.csv_columns if kind == "ssda903" else table.columns)))
            done.written.append(target)
        if len(done.written) == before:
            done.failed.append(path)
    return done


# Reading problems after which the written files hold only part of an input (exit status 1).
READING_PROBLEMS = frozenset({"XML-MALFORMED", "FILE-UNREADABLE", "FILE-UNKNOWN-TABLE", "FILE-EMPTY"})
REFUSED = frozenset({"XML-UNSAFE", "XML-ROOT"})
CHANGE_LOG = "changes.csv"
XML_NAMES = {"ssda903": "ssda903.xml", "cin": "cin.xml"}
SW_XML_NAME = "ssda903_sw.xml"
BLOCKS_GUESSED = (
    "several ChildIdentifiers rows share this LAchildID, and the tables do not say which of its <Child> blocks "
    "holds each disability and episode: they were written into its first block in cin.xml"
)


@dataclass
class DfeFiles:
    """The files of one return, ready for DfE: file name -> content, the changes made, and what could not be
    written (the XML cannot hold some things a CSV file can, e.g. records of a child with no Header row)."""

    return_type: str
    files: dict[str, bytes] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    not_written: list[str] = field(default_factory=list)


def csv_name(return_type: str, table: TableDef) -> str:
    """SSDA903: DfE's file name (episodes.csv); CIN (which DfE takes as XML only): cin_<table>.csv."""
    if return_type == "ssda903" and table.file:
        return table.file
    return f"{return_type}_{table.name.lower()}.csv"


def dfe_files(dataset: Dataset) -> DfeFiles:
    """The return held by ``dataset`` (this year's tables) as DfE-ready files, with the change log's changes:
    those made reading workbooks (``dataset.changes``) and those made writing (dates in DfE's form, numbers as
    their digits, columns DfE does not take left out, columns missing from the input written blank)."""
    kind = dataset.return_type
    out = DfeFiles(kind, changes=list(dataset.changes))
    rows: dict[str, list[Row]] = {}
    for name, table_def in dataset.schema.tables.items():
        table = dataset.tables.get(name)
        if table is None or not table_def.in_return:
            continue  # not given: an absent table stays absent (its rules are not run)
        rows[name] = _table_rows(table, table_def, kind, dataset.places, out.changes)
        columns = list(table_def.csv_columns if kind == "ssda903" else table_def.columns)
        body = [[row.get(c) for c in columns] for row in rows[name]]
        text = csv_text([columns, *body], lineterminator="\r\n")
        out.files[f"csv/{csv_name(kind, table_def)}"] = text.encode("utf-8")
    try:
        _write_xml(kind, rows, out, dataset.places)
    except ValueError as exc:
        out.not_written.append(f"{XML_NAMES[kind]} was not written: {exc}")
    # in the order of the files, sheets and rows (a change of a whole column first)
    out.changes.sort(key=lambda c: (c.file, c.sheet, c.row or 0))
    out.files[CHANGE_LOG] = change_log(out.changes)
    return out


def change_log(changes: list[Change]) -> bytes:
    """The change log as CSV: one row per change, every cell formula-safe (csv_text)."""
    return csv_text([CHANGE_LOG_COLUMNS, *(c.cells() for c in changes)], lineterminator="\r\n").encode("utf-8")


def _write_xml(kind: str, rows: dict[str, list[Row]], out: DfeFiles, places: dict[str, Any]) -> None:
    import tempfile

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="cscvalidate-convert-") as tmp:
        target = Path(tmp) / XML_NAMES[kind]
        if kind == "cin":
            for child in write_cin_xml(rows, target):
                first = next(r for r in rows["ChildIdentifiers"] if r.get("LAchildID") == child)
                line = int(first[LINE]) if first.get(LINE) else None
                out.changes.append(change_at(first.get(FILE) or "", line, "LAchildID", "ChildIdentifiers", places,
                                          child or "", child or "", BLOCKS_GUESSED))  # fmt: skip
        else:
            from .ingest.xml903 import TABLE_COLUMNS
            from .ingest.xml903_writer import write_ssda903_sw_xml, write_ssda903_xml

            frames = {n: pd.DataFrame(r, columns=list(TABLE_COLUMNS[n])) for n, r in rows.items() if n in TABLE_COLUMNS}
            if "Header" not in frames:
                raise ValueError("the return has no Header table")
            write_ssda903_xml({n: f for n, f in frames.items() if n != "SWEpisodes"}, target)
            if len(frames.get("SWEpisodes", ())):
                write_ssda903_sw_xml(frames, Path(tmp) / SW_XML_NAME)
                out.files[f"xml/{SW_XML_NAME}"] = (Path(tmp) / SW_XML_NAME).read_bytes()
        out.files[f"xml/{XML_NAMES[kind]}"] = target.read_bytes()


def _table_rows(
    table: Table, table_def: TableDef, kind: str, places: dict[str, Any], changes: list[Change]
) -> list[Row]:
    """The table's records as DfE's text: dates in the return's standard form, whole numbers as their digits,
    anything that could not be read as it was written (so the same findings come back)."""
    df = table.df
    form = DMY if kind == "ssda903" else ISO
    files = df[FILE].tolist() if FILE in df else [""] * len(df)
    lines = df[LINE].tolist() if LINE in df else [None] * len(df)
    out: list[Row] = [{} for _ in range(len(df))]
    if table_def.name in BLOCK_TABLES:  # where each record was read: which <Child> block of a repeated child
        out = [{FILE: f, LINE: None if n is None else str(n)} for f, n in zip(files, lines, strict=True)]
    for col in table_def.columns.values():
        if col.name not in df:
            continue
        new, old = _column_text(df, col.name, col.type, form)
        for i, value in enumerate(new):
            out[i][col.name] = value
            if old is not None and old[i] != value and old[i] is not None:
                why = f"date written {FORM_NAMES[form]}" if col.type == "date" else "whole number written as digits"
                changes.append(
                    change_at(files[i], lines[i], col.name, table_def.name, places, old[i], value or "", why)
                )
            if value and safe_cell(value) != value:  # csv_text keeps a spreadsheet from running it as a formula
                why = "a leading ' added in the CSV file, so that a spreadsheet does not run the value as a formula"
                changes.append(change_at(files[i], lines[i], col.name, table_def.name, places, value, value, why))
    for col_name, lacking in table.missing_columns.items():
        if table_def.columns[col_name].optional:
            continue
        for file in lacking:
            changes.append(change_at(file, None, col_name, table_def.name, places, "", "",
                                  "column missing from the input: written blank"))  # fmt: skip
    extras = [c for c in df.columns if c not in table_def.columns and not c.startswith("_") and "@" not in c]
    for extra in extras:
        for file in sorted(set(df.loc[df[extra].notna(), FILE])) if FILE in df else []:
            changes.append(change_at(file, None, extra, table_def.name, places, "", "",
                                  "column not in DfE's layout of the table: not written"))  # fmt: skip
    return out


def _column_text(df: Any, name: str, kind: str, form: str) -> tuple[list[str | None], list[str | None] | None]:
    """(the text written for each record, the text read when the column is typed, else None)."""
    import pandas as pd

    raw_name = name + RAW_SUFFIX
    if kind in ("date", "int") and raw_name in df:
        raw = df[raw_name]
        typed = df[name]
        text = typed.dt.strftime(form) if kind == "date" else typed.astype("string")
        written = text.where(typed.notna(), raw)  # unreadable: written as it was, so it is reported again
        to_list = lambda s: [None if pd.isna(v) else str(v) for v in s]  # noqa: E731
        return to_list(written), to_list(raw)
    values = df[raw_name] if raw_name in df else df[name]
    return [None if pd.isna(v) else str(v) for v in values], None


def _groups(inputs: list[Path]) -> list[tuple[str | None, list[Path]]]:
    """The inputs by return: XML files by their root element, everything else together (recognised when read)."""
    groups: dict[str | None, list[Path]] = {}
    for path in inputs:
        layout = sniff_xml_layout(path) if path.is_file() and not is_workbook(path) else None
        kind = layout[0] if layout and layout[0] in ("ssda903", "cin") else None
        groups.setdefault(kind, []).append(path)
    return list(groups.items())


def convert_return(
    inputs: list[Path],
    output: Path,
    *,
    return_type: str | None = None,
    year: str | None = None,
    no_data: Sequence[str] | None = None,
) -> Converted:
    """Read the inputs as ``validate`` does and write DfE-ready files and ``changes.csv`` into ``output``. Inputs
    of both returns (an SSDA903 and a CIN XML file) are written side by side: their file names differ."""
    done = Converted()
    groups = _groups(inputs) if return_type is None else [(return_type, inputs)]
    logs: list[Change] = []
    for kind, paths in groups:
        dataset = load_return(
            list(paths), return_type=kind or return_type, year=year, no_data=no_data, log_changes=True
        )
        done.problems += [f for f in dataset.findings if f.code in READING_PROBLEMS | REFUSED]
        refused = {f.file for f in dataset.findings if f.code in REFUSED}
        if not any(len(t.df) or t.files for n, t in dataset.tables.items() if "@" not in n):
            done.failed += [p for p in paths if str(p) in refused] or list(paths)
            continue
        made = dfe_files(dataset)
        done.not_written += made.not_written
        logs += made.changes
        for name, data in made.files.items():
            if name != CHANGE_LOG:
                write_atomic(output / name, data)
                done.written.append(output / name)
        done.failed += [p for p in paths if str(p) in refused]
    if done.written:
        write_atomic(output / CHANGE_LOG, change_log(logs))
        done.written.append(output / CHANGE_LOG)
        done.changes = logs
    return done


def dfe_zip(dataset: Dataset) -> bytes:
    """The DfE-ready files of a validated return, with the change log, as one zip (the web app's download)."""
    import io
    import zipfile

    made = dfe_files(dataset)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in made.files.items():
            archive.writestr(name, data)
        if made.not_written:
            archive.writestr("not-written.txt", "\r\n".join(made.not_written) + "\r\n")
    return buffer.getvalue()
