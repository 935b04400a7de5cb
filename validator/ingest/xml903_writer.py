"""Tables -> SSDA903 XML files in the layouts ``xml903.read_ssda903_xml`` reads, its inverse.

Used by the sample generator and the tests. :func:`write_ssda903_xml` writes the main return: one <CHILD> per
Header row, holding that child's records from every other table it carries (DoLo included, as <DOLO> blocks,
when a DoLo table is given). :func:`write_ssda903_sw_xml` writes the social worker file from SWEpisodes: one
<CHILD> per child with social worker episodes. Values are written as found (dates as dd/mm/yyyy when given as
dates); blank values are written as empty elements for the HEADER's own fields and the EPISODE fields, and left
out elsewhere. What the XML cannot express is refused with a ValueError rather than dropped: records of a child
who has no Header row, more than one UASC, AD1 or OC3 record for a child, and social worker episodes of one
child with different dates of birth. The DOB and SEX columns of the other tables are copies of the Header's in
the main file, so the writer does not read them there.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lxml import etree

from .xml903 import (
    DOLO,
    EPISODES,
    FLAT_BLOCKS,
    HEADER,
    HEADER_FIELDS,
    MISSING,
    OC2,
    PLACED_ADOPTION,
    PREV_PERM,
    RECORD,
    REVIEWS,
    ROOT,
    SW_EPISODES,
    SW_ROOT,
    TABLE_COLUMNS,
    UASC,
    Block,
)

Row = dict[str, str | None]

# HEADER fields written before and after the flat groups and the AMISSING/AREVIEW blocks.
_HEADER_FIRST = ("CHILDID", "UPN", "SEX", "DOB", "ETHNIC", "UASC")
_HEADER_LATER = ("MOTHER", "MC_DOB")
_BLOCKS_BEFORE_MOTHER = (MISSING, REVIEWS)
_BLOCKS_AFTER_MOTHER = (PREV_PERM, OC2, PLACED_ADOPTION, DOLO)
# Tables the main file does not carry: they are written by write_ssda903_sw_xml.
_OTHER_FILE_TABLES = (SW_EPISODES.table,)


def text_value(value: Any) -> str | None:
    """The text written for one cell: None for blanks (None, NaN, NaT, empty), dd/mm/yyyy for dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
        if value is pd.NaT:
            return None
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) or hasattr(value, "dtype"):
        try:
            if pd.isna(value):
                return None
        except (TypeError, ValueError):
            pass
        if hasattr(value, "item"):
            return text_value(value.item())
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return str(int(value))
    return str(value).strip() or None


def _rows(df: pd.DataFrame, columns: tuple[str, ...]) -> list[Row]:
    """The frame's records as text, keeping only the table's columns."""
    present = [c for c in columns if c in df.columns]
    records = df[present].to_dict("records") if present else [{} for _ in range(len(df))]
    return [{c: text_value(r.get(c)) for c in columns} for r in records]


def _by_child(tables: dict[str, pd.DataFrame], table: str) -> dict[str | None, list[Row]]:
    grouped: dict[str | None, list[Row]] = defaultdict(list)
    if table in tables:
        for row in _rows(tables[table], TABLE_COLUMNS[table]):
            grouped[row["CHILD"]].append(row)
    return grouped


def _leaf(parent: etree._Element, name: str, value: str | None) -> None:
    etree.SubElement(parent, name).text = value


def _block(parent: etree._Element, block: Block, row: Row) -> None:
    """One wrapped record (AREVIEW, OC2, ...): blank fields are left out."""
    el = etree.SubElement(parent, block.element or "")
    for element, column in block.fields.items():
        if row.get(column) is not None:
            _leaf(el, element, row[column])


def _child_element(header: Row, records: dict[str, list[Row]]) -> etree._Element:
    child = etree.Element(RECORD)
    head = etree.SubElement(child, HEADER)
    uasc_flag = header.get("UASC")
    if uasc_flag is None and records[UASC.table]:
        uasc_flag = "1"  # the CSV convention: a child with a UASC record is UASC
    for element in _HEADER_FIRST:
        _leaf(head, element, uasc_flag if element == "UASC" else header.get(HEADER_FIELDS[element]))
    for block in FLAT_BLOCKS:
        for row in records[block.table][:1]:
            for element, column in block.fields.items():
                if row.get(column) is not None:
                    _leaf(head, element, row[column])
    for block in _BLOCKS_BEFORE_MOTHER:
        for row in records[block.table]:
            _block(head, block, row)
    for element in _HEADER_LATER:
        _leaf(head, element, header.get(HEADER_FIELDS[element]))
    for block in _BLOCKS_AFTER_MOTHER:
        for row in records[block.table]:
            _block(head, block, row)
    for row in records[EPISODES.table]:
        episode = etree.SubElement(child, EPISODES.element or "")
        for element, column in EPISODES.fields.items():
            _leaf(episode, element, row.get(column))
    return child


def write_ssda903_xml(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Write the tables as one SSDA903 XML return (root <EXPSSDA903>) at ``path``.

    ``tables`` uses the table and column names of schemas/ssda903/tables.yaml; Header is required, and its
    optional UASC column gives the <UASC> flag (else 1 for children with a UASC record). A DoLo table is
    written as <DOLO> blocks (the 2026_27 layout); SWEpisodes belong to the social worker file and are not
    written here (see :func:`write_ssda903_sw_xml`).
    """
    unknown = sorted(set(tables) - set(TABLE_COLUMNS))
    if unknown:
        raise ValueError(f"not SSDA903 tables: {', '.join(unknown)} (expected {', '.join(TABLE_COLUMNS)})")
    if "Header" not in tables:
        raise ValueError("a Header table is needed: every <CHILD> is written from a Header row")
    headers = _rows(tables["Header"], TABLE_COLUMNS["Header"])
    grouped = {
        name: _by_child(tables, name) for name in TABLE_COLUMNS if name != "Header" and name not in _OTHER_FILE_TABLES
    }
    known = {h["CHILD"] for h in headers}
    for name, by_child in grouped.items():
        orphans = sorted(str(c) for c in by_child if c not in known)
        if orphans:
            raise ValueError(
                f"{name} has records for child(ren) with no Header row, which XML cannot hold: "
                f"{', '.join(orphans[:10])}"
            )
    for block in FLAT_BLOCKS:
        repeated = sorted(str(c) for c, rows in grouped[block.table].items() if len(rows) > 1)
        if repeated:
            raise ValueError(
                f"{block.table} has more than one record for child(ren) {', '.join(repeated[:10])}; "
                "the XML layout holds one per child"
            )
    written: set[str | None] = set()
    empty: list[Row] = []
    with etree.xmlfile(str(path), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(ROOT):
            xf.write("\n")
            for header in headers:
                key = header["CHILD"]
                first = key not in written
                written.add(key)
                records = {name: (by_child.get(key, empty) if first else empty) for name, by_child in grouped.items()}
                child = _child_element(header, records)
                etree.indent(child, space="  ", level=1)
                child.tail = "\n"
                xf.write("  ")
                xf.write(child)


def write_ssda903_sw_xml(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Write the SWEpisodes table as an SSDA903 social worker XML file (root <EXPSSDA903SW>) at ``path``.

    One <CHILD> per child, in the order the child first appears, holding a <HEADER> (CHILDID, and DOB from the
    child's episodes) and one <SW_EPISODE> per row; blank values are left out. Other tables are not read.
    """
    if SW_EPISODES.table not in tables:
        raise ValueError("a SWEpisodes table is needed to write the social worker file")
    grouped = _by_child(tables, SW_EPISODES.table)
    if None in grouped:
        raise ValueError("SWEpisodes has rows without a CHILD, which XML cannot hold")
    for child, rows in grouped.items():
        births = {row.get("DOB") for row in rows}
        if len(births) > 1:
            raise ValueError(f"SWEpisodes gives child {child} more than one DOB; the XML holds it once per child")
    with etree.xmlfile(str(path), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(SW_ROOT):
            xf.write("\n")
            for child_id, rows in grouped.items():
                child = etree.Element(RECORD)
                head = etree.SubElement(child, HEADER)
                _leaf(head, "CHILDID", child_id)
                if rows[0].get("DOB") is not None:
                    _leaf(head, "DOB", rows[0]["DOB"])
                for row in rows:
                    _block(child, SW_EPISODES, row)
                etree.indent(child, space="  ", level=1)
                child.tail = "\n"
                xf.write("  ")
                xf.write(child)
