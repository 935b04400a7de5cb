"""SARIF 2.1.0: one rule per code (with DfE's message), one result per finding, so code-scanning views show them.

Levels: error -> ``error``, query -> ``warning``, notice -> ``note``; an unconfirmed finding (resting on older
returns not given) is a ``note`` whatever its severity, with ``confidence`` and ``note`` among its properties. A finding with a file gets that file (the
input's path as given) and line as its physicalLocation. Rules not run are tool configuration notifications;
crashed rules are tool execution notifications (and the invocation is then not successful).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from ..findings import INGEST_CODES, UNCONFIRMED, Finding
from ..result import FINDING_COLUMNS, Result, completeness
from . import text_writer
from .details import code_key, display, finding_place, rule_catalogue, ruleset_label
from .formats import RenderOptions

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "query": "warning", "notice": "note"}


def _uri(path: str) -> str:
    p = Path(path)
    return p.as_uri() if p.is_absolute() else PurePath(path).as_posix()


def _message(f: Finding) -> str:
    detail = finding_place(f, with_file=False)  # SARIF gives the file as the result's location
    return f"{f.message} ({detail})" if detail else f.message


def render_sarif(result: Result, *, notes: Sequence[tuple[str, str]] = ()) -> str:
    buffer = io.BytesIO()
    write(result, buffer, RenderOptions(notes=tuple(notes)))
    return buffer.getvalue().decode("utf-8")


def _findings(result: Result) -> Iterator[Finding]:
    """Each finding, confirmed then unconfirmed, as a light view read from the columns."""
    for table in (result.findings, result.unconfirmed):
        for row in table.rows(*FINDING_COLUMNS, "confidence", "note"):
            yield Finding(*row[:11], confidence=row[11], note=row[12])  # type: ignore[arg-type]


def write(result: Result, out: BinaryIO, options: RenderOptions) -> None:
    notes = options.notes
    catalogue = {info.code: info for info in rule_catalogue(result)}
    codes = sorted(catalogue, key=code_key)
    index = {code: i for i, code in enumerate(codes)}
    rules = _driver_rules(catalogue, codes)
    artifacts: dict[str, int] = {}  # the files findings are in, in order of their first finding
    for table in (result.findings, result.unconfirmed):
        for file in table.frame["file"].unique().tolist():
            if file:
                artifacts.setdefault(_uri(file), len(artifacts))
    marker = f"@@{uuid.uuid4().hex}@@"
    invocation = _invocation(result, index)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": str(result.tool.get("name", "cscvalidate")),
                "version": str(result.tool.get("version", "")),
                "rules": rules,
                "properties": {"ruleset": ruleset_label(result)},
            }
        },
        "invocations": [invocation],
        **({"artifacts": [{"location": {"uri": uri}} for uri in artifacts]} if artifacts else {}),
        "results": marker,
        "properties": {
            "return": result.return_type,
            "year": result.year,
            "la": result.context.la,
            "summary": {
                "errors": result.count("error"),
                "queries": result.count("query"),
                "notices": result.count("notice"),
                "unconfirmed": len(result.unconfirmed),
                "rules_run": len(result.rules_run),
                "rules_not_run": len(result.rules_not_run),
                "rules_crashed": len(result.rules_crashed),
            },
            "completeness": completeness(result),
            **({"notes": {label: text for label, text in notes}} if notes else {}),
        },
    }
    doc = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    before, after = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).split(json.dumps(marker), 1)
    uris: dict[str, str] = {}
    with text_writer(out) as text:  # compact: large runs stay fast
        text.write(before + "[")
        items: list[dict[str, Any]] = []
        first = True
        for f in _findings(result):
            if f.file and f.file not in uris:
                uris[f.file] = _uri(f.file)  # the path as given
            items.append(_result(f, index, uris, artifacts))
            if len(items) >= 2000:  # one json.dumps per chunk of results, without its brackets
                text.write(("" if first else ",") + json.dumps(items, ensure_ascii=False, separators=(",", ":"))[1:-1])
                first = False
                items.clear()
        if items:
            text.write(("" if first else ",") + json.dumps(items, ensure_ascii=False, separators=(",", ":"))[1:-1])
        text.write("]" + after + "\n")


def _driver_rules(catalogue: dict[str, Any], codes: list[str]) -> list[dict[str, Any]]:
    """The tool's rules, one per code of the run's catalogue, in code order."""
    rules = []
    for code in codes:
        info = catalogue[code]
        rule: dict[str, Any] = {
            "id": code,
            "shortDescription": {"text": info.message or code},
            "defaultConfiguration": {"level": LEVELS.get(info.severity, "warning")},
            "properties": {"severity": info.severity, "fields": list(info.fields)},
        }
        if code in INGEST_CODES:
            rule["properties"]["kind"] = "file check"
        rules.append(rule)

    return rules


def _invocation(result: Result, index: dict[str, int]) -> dict[str, Any]:
    """The run's invocation: whether it succeeded, the rules not run and the rules that crashed."""
    config = [
        {
            "level": "note",
            "message": {"text": f"rule {r.code} was not run: {r.reason}"},
            "descriptor": {"id": r.code, "index": index[r.code]},
        }
        for r in sorted(result.rules_not_run, key=lambda r: code_key(r.code))
    ]
    crashes = [
        {
            "level": "error",
            "message": {"text": f"rule {r.code} crashed: {r.reason}"},
            "associatedRule": {"id": r.code, "index": index[r.code]},
        }
        for r in sorted(result.rules_crashed, key=lambda r: code_key(r.code))
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not result.rules_crashed}
    if config:
        invocation["toolConfigurationNotifications"] = config
    if crashes:
        invocation["toolExecutionNotifications"] = crashes
    return invocation


def _result(f: Finding, index: dict[str, int], uris: dict[str, str], artifacts: dict[str, int]) -> dict[str, Any]:
    """The SARIF result of one finding."""
    unconfirmed = f.confidence == UNCONFIRMED
    item: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": "note" if unconfirmed else LEVELS.get(f.severity, "warning"),
        "message": {"text": f"{_message(f)} Unconfirmed: {f.note}" if unconfirmed else _message(f)},
    }
    if f.file:
        uri = uris[f.file]
        physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "index": artifacts[uri]}}
        if f.line is not None and f.line >= 1:
            physical["region"] = {"startLine": int(f.line)}
        item["locations"] = [{"physicalLocation": physical}]
    identity = json.dumps([f.code, f.table, f.child, f.fields, [display(v) for v in f.values]], ensure_ascii=False)
    item["partialFingerprints"] = {"cscvalidate/v1": hashlib.sha256(identity.encode()).hexdigest()[:32]}
    props = {
        "severity": f.severity,
        "level": f.level,
        "table": f.table,
        "row": f.row,
        "child": f.child,
        "fields": list(f.fields),
        "values": [display(v) if v is not None else None for v in f.values],
        "confidence": f.confidence if unconfirmed else None,
        "note": f.note,
    }
    item["properties"] = {k: v for k, v in props.items() if v not in (None, [])}
    return item
