"""JSON output: the public contract CI scripts parse (documented in docs/output.md).

Written in pieces: the document without its findings by ``json.dumps``, then each finding from the columns, in
the exact text ``json.dumps(..., indent=2)`` gives it, so no string of the whole report is ever built.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, BinaryIO, TextIO

from ..findings import CONFIRMED, FindingTable, jsonable
from ..result import FINDING_COLUMNS, Result
from . import text_writer
from .formats import RenderOptions

CHUNK = 2000  # findings per write


def render_json(result: Result) -> str:
    """The JSON report as one string (for small results and tests; reports are written with :func:`write`)."""
    import io

    buffer = io.BytesIO()
    write(result, buffer, RenderOptions())
    return buffer.getvalue().decode("utf-8")


def write(result: Result, out: BinaryIO, options: RenderOptions) -> None:
    marker = {name: f"@@{uuid.uuid4().hex}@@" for name in ("findings", "unconfirmed")}
    head = json.dumps(
        {**result.header_dict(), **marker}, indent=2, ensure_ascii=False, sort_keys=False
    )  # the findings' places hold markers
    with text_writer(out) as text:
        rest = head
        for name, table in (("findings", result.findings), ("unconfirmed", result.unconfirmed)):
            before, rest = rest.split(json.dumps(marker[name]), 1)
            text.write(before)
            _write_array(text, table)
        text.write(rest + "\n")


def _write_array(text: TextIO, table: FindingTable) -> None:
    if not len(table):
        text.write("[]")
        return
    text.write("[\n")
    pieces: list[str] = []
    first = True
    for row in table.rows(*FINDING_COLUMNS, "confidence", "note"):
        pieces.append(("" if first else ",\n") + _finding(row))
        first = False
        if len(pieces) >= CHUNK:
            text.write("".join(pieces))
            pieces.clear()
    text.write("".join(pieces) + "\n  ]")


def _value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring(value)  # type: ignore[no-any-return]
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False)


def _list(values: Iterable[Any]) -> str:
    items = [_value(v) for v in values]
    if not items:
        return "[]"
    return "[\n        " + ",\n        ".join(items) + "\n      ]"


def _finding(row: tuple[Any, ...]) -> str:
    code, severity, level, message, table, number, child, fields, values, file, line, confidence, note = row
    parts = [
        f'"code": {_value(code)}',
        f'"severity": {_value(severity)}',
        f'"level": {_value(level)}',
        f'"message": {_value(message)}',
        f'"table": {_value(table)}',
        f'"row": {_value(number)}',
        f'"child": {_value(child)}',
        f'"fields": {_list(fields)}',
        f'"values": {_list(jsonable(v) for v in values)}',
        f'"file": {_value(file)}',
        f'"line": {_value(line)}',
    ]
    if confidence != CONFIRMED:
        parts += [f'"confidence": {_value(confidence)}', f'"note": {_value(note)}']
    return "    {\n      " + ",\n      ".join(parts) + "\n    }"
