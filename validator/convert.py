"""XML returns -> one CSV file per table, values exactly as the XML had them (nothing typed or dropped)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .ingest.loader import InputError, expand_paths, sniff_xml_root
from .ingest.raw import RawTable
from .ingest.xml_cin import read_cin_xml
from .outputs import write_atomic
from .outputs.csv_out import safe_cell
from .schema import load_schema

SSDA903_FILE_NAMES = {
    "Header": "header",
    "Episodes": "episodes",
    "Reviews": "reviews",
    "UASC": "uasc",
    "OC2": "oc2",
    "OC3": "oc3",
    "AD1": "ad1",
    "PlacedAdoption": "placed_for_adoption",
    "PrevPerm": "previous_permanence",
    "Missing": "missing",
    "SWEpisodes": "sw_episodes",
    "DoLo": "dolo",
}


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
            stem = SSDA903_FILE_NAMES.get(name, name) if kind == "ssda903" else name
            target = output / f"{path.stem}_{stem}.csv"
            write_atomic(target, _table_csv(raw, list(schema.tables[name].columns)))
            written.append(target)
    return written
