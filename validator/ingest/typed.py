"""Raw tables -> one typed Table per table name, with the findings typing raised."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..codelists import load_codelists
from ..dataset import FILE, LINE, ROW, Table
from ..findings import Finding, ingest_finding
from ..schema import TableDef
from .coerce import OBJECT, RAW_SUFFIX, ColumnTyper, Factored
from .raw import RawTable

# The bookkeeping numbers (ROW, LINE) are held as 32-bit integers, half the memory of 64-bit ones; a file with a
# line number beyond their range (over two thousand million lines) keeps 64-bit ones.
POSITION = "int32"


def positions_array(values: Sequence[int] | range) -> np.ndarray:
    """Row or line positions as a compact array: 32-bit integers where they fit, else 64-bit."""
    array = np.asarray(values, dtype="int64")
    if len(array) and (array.max() > np.iinfo(POSITION).max or array.min() < np.iinfo(POSITION).min):
        return array
    return array.astype(POSITION)


def empty_frame(table: TableDef) -> pd.DataFrame:
    """A table with no records but every column, typed."""
    data: dict[str, pd.Series] = {}
    for col in table.columns.values():
        if col.type == "date":
            data[col.name] = pd.Series([], dtype="datetime64[ns]")
            data[col.name + RAW_SUFFIX] = pd.Series([], dtype="object")
        elif col.type == "int":
            data[col.name] = pd.Series([], dtype="Int64")
            data[col.name + RAW_SUFFIX] = pd.Series([], dtype="object")
        elif col.type == "flag":
            data[col.name] = pd.Series([], dtype="boolean")
            data[col.name + RAW_SUFFIX] = pd.Series([], dtype="object")
        else:
            data[col.name] = pd.Series([], dtype="object")
    data[ROW] = pd.Series([], dtype=POSITION)
    data[FILE] = pd.Series([], dtype="object")
    data[LINE] = pd.Series([], dtype=POSITION)
    return pd.DataFrame(data)


def type_raw(
    raw: RawTable, table: TableDef, return_type: str, year: str, child_key: str, date_forms: tuple[str, ...]
) -> tuple[pd.DataFrame, list[str], list[Finding]]:
    """Type one file's records. Returns the frame, the declared columns the file lacked, and findings.

    A lacked column is typed as blank; rules that use it are not run (see engine.runner.missing_requirement).
    """
    n = len(raw.lines)
    factored = {name: _factored(raw, name) for name in raw.columns if name in table.columns}
    typer = ColumnTyper(table.name, raw.file, raw.lines, None)
    index = typer.index  # every column's: the frame need not compare their indexes
    child = typer.child = factored[child_key].text(index) if child_key in factored else None
    lists = load_codelists(return_type)
    data: dict[str, pd.Series] = {}
    missing: list[str] = []
    for col in table.columns.values():
        values = factored.pop(col.name, None)
        if values is None:
            missing.append(col.name)
            values = Factored.blank(n)
        text = child if col.name == child_key and child is not None else values.text(index)
        if col.type == "date":
            data[col.name] = typer.date(col.name, values, text, date_forms)
            data[col.name + RAW_SUFFIX] = text
        elif col.type == "int":
            data[col.name] = typer.integer(col.name, values, text)
            data[col.name + RAW_SUFFIX] = text
        elif col.type == "flag":
            data[col.name] = typer.flag(col.name, values, text)
            data[col.name + RAW_SUFFIX] = text
        else:
            if col.codelist and col.codelist in lists and year in lists[col.codelist].by_year:
                typer.code_case(col.name, values, text, lists[col.codelist].by_year[year])
            data[col.name] = text
    for extra in raw.extra_columns:
        data[extra] = _factored(raw, extra).text(index)
    files = np.empty(n, dtype=object)
    files[:] = raw.file  # one shared text (np.full would copy it into every record)
    data[FILE] = pd.Series(files, index=index, dtype=OBJECT, copy=False)
    data[LINE] = pd.Series(positions_array(raw.lines), index=index, copy=False)
    return pd.DataFrame(data, index=index, copy=False), missing, typer.findings


def _factored(raw: RawTable, name: str) -> Factored:
    coded = raw.coded.get(name)
    return Factored.of(raw.columns[name], raw.clean) if coded is None else Factored.of_coded(coded)


def build_table(
    name: str,
    raws: list[RawTable],
    table: TableDef,
    return_type: str,
    year: str,
    child_key: str,
    date_forms: dict[str, tuple[str, ...]],
) -> tuple[Table, list[Finding]]:
    """Combine every file holding this table into one typed Table (rows in file order, then source order)."""
    frames: list[pd.DataFrame] = []
    findings: list[Finding] = []
    missing_columns: dict[str, list[str]] = {}
    offset = 0
    for raw in raws:
        frame, missing, found = type_raw(raw, table, return_type, year, child_key, date_forms[raw.file])
        for f in found:  # typing numbers rows within the file; the table numbers them across files
            findings.append(f if f.row is None or offset == 0 else _shift_row(f, offset))
        for col in missing:
            missing_columns.setdefault(col, []).append(raw.file)
            if table.columns[col].optional:  # e.g. Header.UASC, which only the XML carries: no finding
                continue
            findings.append(
                ingest_finding(
                    "COLUMN-MISSING",
                    f"{raw.file}: the {name} table needs a column {col}, which the file lacks; "
                    "rules that use it are not run",
                    table=name,
                    fields=(col,),
                    file=raw.file,
                )
            )
        frames.append(frame)
        offset += len(frame)
    if len(raws) > 1:
        findings.append(
            ingest_finding(
                "FILE-DUPLICATE-TABLE",
                f"the {name} table was found in {len(raws)} files "
                f"({', '.join(r.file for r in raws)}); their rows were combined in that order",
                table=name,
            )
        )
    if len(frames) > 1:
        df = pd.concat(frames, ignore_index=True)
    else:
        df = frames[0] if frames else empty_frame(table)
    df[ROW] = positions_array(range(len(df)))
    return Table(name=name, df=df, missing_columns=missing_columns, files=[r.file for r in raws]), findings


def _shift_row(finding: Finding, offset: int) -> Finding:
    from dataclasses import replace

    return replace(finding, row=(finding.row or 0) + offset)
