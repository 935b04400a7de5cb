"""XML returns -> one CSV file per table in the CSV layout (SSDA903: DfE's file names and columns), values as read."""

from __future__ import annotations

from pathlib import Path

from .ingest.loader import InputError, expand_paths, sniff_xml_root
from .ingest.raw import RawTable
from .ingest.xml_cin import read_cin_xml
from .outputs import write_atomic
from .outputs.csv_out import csv_text
from .schema import load_schema


def _table_csv(raw: RawTable, columns: list[str]) -> bytes:
    data = [raw.columns.get(c, [None] * len(raw)) for c in columns]
    rows = [columns, *([col[i] for col in data] for i in range(len(raw)))]
    return csv_text(rows, lineterminator="\r\n").encode("utf-8")


def convert_xml(inputs: list[Path], output: Path) -> list[Path]:
    written: list[Path] = []
    for path in expand_paths(inputs):
        kind = sniff_xml_root(path)
        if kind not in ("ssda903", "cin"):
            raise InputError(f"{path}: not an SSDA903 or CIN census XML file")
        if kind == "ssda903":
            from .ingest.xml903 import read_ssda903_xml

            tables, _ = read_ssda903_xml(path)
        else:
            tables, _ = read_cin_xml(path)
        schema = load_schema(kind)
        for name, raw in tables.items():
            if name not in schema.tables:
                continue
            table = schema.tables[name]
            stem = table.file.removesuffix(".csv") if table.file else name
            target = output / f"{path.stem}_{stem}.csv"
            write_atomic(target, _table_csv(raw, list(table.csv_columns if kind == "ssda903" else table.columns)))
            written.append(target)
    return written
