"""XML returns -> one CSV file per table in the CSV layout (SSDA903: DfE's file names and columns), values as read.

Every table the XML file can carry is written, with its header row, even when the file has no records of it:
an absent table and an empty one are not the same to the rules (a missing table leaves its rules not run).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .ingest.loader import InputError, complete_xml_tables, expand_paths, sniff_xml_layout
from .ingest.raw import RawTable
from .ingest.xml_cin import read_cin_xml
from .outputs import write_atomic
from .outputs.csv_out import safe_cell
from .schema import load_schema


def _table_csv(raw: RawTable, columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    data = [raw.columns.get(c, [None] * len(raw)) for c in columns]
    for i in range(len(raw)):
        writer.writerow([safe_cell(col[i]) for col in data])
    return buffer.getvalue().encode("utf-8")


def convert_xml(inputs: list[Path], output: Path) -> list[Path]:
    written: list[Path] = []
    for path in expand_paths(inputs):
        layout = sniff_xml_layout(path)
        kind, xml_file = layout if layout else (None, "main")
        if kind not in ("ssda903", "cin"):
            raise InputError(f"{path}: not an SSDA903 or CIN census XML file")
        if kind == "ssda903":
            from .ingest.xml903 import read_ssda903_xml

            tables, _ = read_ssda903_xml(path)
        else:
            tables, _ = read_cin_xml(path)
        schema = load_schema(kind)
        complete_xml_tables(tables, schema, str(path), xml_file)
        for name, raw in tables.items():
            if name not in schema.tables:
                continue
            table = schema.tables[name]
            stem = table.file.removesuffix(".csv") if table.file else name
            target = output / f"{path.stem}_{stem}.csv"
            write_atomic(target, _table_csv(raw, list(table.csv_columns if kind == "ssda903" else table.columns)))
            written.append(target)
    return written
