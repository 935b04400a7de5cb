"""XML returns -> one CSV file per table in the CSV layout (SSDA903: DfE's file names and columns), values as read.

Every table the XML file can carry is written, with its header row, even when the file has no records of it:
an absent table and an empty one are not the same to the rules (a missing table leaves its rules not run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding
from .ingest.loader import InputError, complete_xml_tables, expand_paths, sniff_xml_layout, xml_unread
from .ingest.raw import RawTable
from .ingest.xml_cin import read_cin_xml
from .outputs import write_atomic
from .outputs.csv_out import csv_text
from .schema import load_schema


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
