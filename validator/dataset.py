"""Typed tables and the run's context: what the rules see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .findings import Finding
from .schema import ReturnSchema

# Hidden bookkeeping columns every table carries.
ROW = "_row"  # 0-based position of the record within its table, in source order
FILE = "_file"
LINE = "_line"
PREVIOUS = "@previous"


@dataclass(frozen=True)
class Context:
    """What the rules need to know about the return beyond its records."""

    return_type: str
    year: str
    la: str | None
    collection_start: dt.date
    collection_end: dt.date
    reference_date: dt.date

    def constants(self) -> dict[str, object]:
        return {
            "collection_start": pd.Timestamp(self.collection_start),
            "collection_end": pd.Timestamp(self.collection_end),
            "reference_date": pd.Timestamp(self.reference_date),
            "census_start": pd.Timestamp(self.reference_date) - pd.DateOffset(years=1) + pd.Timedelta(days=1),
            "la": self.la,
            "year": self.year,
        }


@dataclass
class Table:
    """One typed table: declared columns typed, plus ROW/FILE/LINE and ``COL@raw`` text for typed columns."""

    name: str
    df: pd.DataFrame
    missing_columns: dict[str, list[str]] = field(default_factory=dict)  # column -> files lacking it
    files: list[str] = field(default_factory=list)


@dataclass
class InputFile:
    path: str
    kind: str  # "csv" | "xml" | "xlsx"
    tables: list[str]
    year: str = "current"  # "current", "previous", "previous2", ...


@dataclass
class Dataset:
    schema: ReturnSchema
    context: Context
    tables: dict[str, Table]
    findings: list[Finding] = field(default_factory=list)
    inputs: list[InputFile] = field(default_factory=list)
    postcodes: Any = None  # a validator.reference.postcodes.PostcodeLookup (read lazily), or None
    # What reading workbooks changed (ingest.changes.Change), and where each sheet's table came from
    # (ingest.xlsx_reader.SheetPlace by the table's file label): for convert's change log.
    changes: list[Any] = field(default_factory=list)
    places: dict[str, Any] = field(default_factory=dict)

    @property
    def return_type(self) -> str:
        return self.schema.return_type
