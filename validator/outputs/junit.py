"""JUnit XML (the common Jenkins/Ant form): one test case per rule, so CI systems show results natively.

- A rule that ran: a test case that passes, or has one ``<failure>`` per finding (the first ``cap``, each
  numbered "k of N"; ``<system-out>`` gives the count). Only findings that fail the run under ``fail_on``
  are failures (errors; queries too with ``fail_on="query"``); the others are listed in ``<system-out>``.
- A rule not run: ``<skipped>`` with the reason. A rule that crashed: ``<error>`` with the error.
- Problems in the files (the project's own codes) are a second suite, one test case per code found.
- Unconfirmed findings (resting on older returns not given) are never failures: ``<system-out>`` lists them,
  each with what would confirm it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO
from xml.etree import ElementTree as ET

from ..findings import INGEST_CODES, FindingTable
from ..result import Result, completeness
from . import text_writer
from .details import code_key, finding_place, ruleset_label
from .formats import RenderOptions

CAP = 100  # failures listed per test case; the count is always given


def _failing(severity: str, fail_on: str) -> bool:
    return severity == "error" or (fail_on == "query" and severity == "query")


def _clean(text: str) -> str:
    """Text XML 1.0 can carry (control characters other than tab and newlines are dropped)."""
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)


def _case(parent: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(parent, "testcase", {"classname": classname, "name": _clean(name), "time": "0"})


def _by_code(table: FindingTable) -> dict[str, FindingTable]:
    """The findings of each code, in their order."""
    groups = table.frame.groupby("code", sort=False).indices if len(table) else {}
    return {code: table.take(positions) for code, positions in groups.items()}


def _add_findings(case: ET.Element, findings: FindingTable, fail_on: str, cap: int) -> tuple[int, list[str]]:
    """Failures for the failing findings; returns how many failures and the lines for <system-out>."""
    failing_severities = ["error", "query"] if fail_on == "query" else ["error"]  # as _failing
    fails = findings.frame["severity"].isin(failing_severities).to_numpy(dtype=bool)
    failing = findings.take(fails)
    others = findings.take(~fails)
    out: list[str] = []
    for k, f in enumerate(failing.take(range(min(cap, len(failing)))), start=1):
        el = ET.SubElement(
            case,
            "failure",
            {"message": _clean(f"{k} of {len(failing)}: {finding_place(f)}"), "type": f.severity},
        )
        el.text = _clean(f"{f.message}\n{finding_place(f)}")
    if failing:
        shown = min(cap, len(failing))
        out.append(f"{len(failing)} finding(s)" + (f"; the first {shown} are listed" if shown < len(failing) else ""))
    for f in others:
        where = finding_place(f)
        out.append(_clean(f"{f.severity}: {where} — {f.message}" if where else f"{f.severity}: {f.message}"))
    return (1 if failing else 0), out


def render_junit(
    result: Result, *, fail_on: str = "error", cap: int = CAP, notes: Sequence[tuple[str, str]] = ()
) -> str:
    buffer = io.BytesIO()
    write(result, buffer, RenderOptions(fail_on, tuple(notes)), cap=cap)
    return buffer.getvalue().decode("utf-8")


def write(result: Result, out: BinaryIO, options: RenderOptions, *, cap: int = CAP) -> None:
    root = _tree(result, options.fail_on, cap, options.notes)
    with text_writer(out) as text:
        text.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        ET.ElementTree(root).write(text, encoding="unicode")
        text.write("\n")


def _tree(result: Result, fail_on: str, cap: int, notes: Sequence[tuple[str, str]]) -> ET.Element:
    by_code = _by_code(result.findings)
    unconfirmed = _by_code(result.unconfirmed)
    name = f"cscvalidate {result.return_type} {result.year}" + (f" {result.context.la}" if result.context.la else "")
    root = ET.Element("testsuites", {"name": name})

    rules = ET.SubElement(root, "testsuite", {"name": f"{result.return_type}.rules"})
    props = ET.SubElement(rules, "properties")
    for key, value in (
        ("return", result.return_type),
        ("year", result.year),
        ("la", result.context.la or ""),
        ("tool", f"{result.tool.get('name', '')} {result.tool.get('version', '')}".strip()),
        ("ruleset", ruleset_label(result)),
        ("fail_on", fail_on),
        ("completeness", completeness(result)),
        *notes,
    ):
        ET.SubElement(props, "property", {"name": key, "value": value})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    classname = f"{result.return_type}.{result.year}"
    for status in sorted(result.rules, key=lambda r: code_key(r.code)):
        counts["tests"] += 1
        case = _case(rules, classname, f"{status.code} {status.message}".strip()[:200])
        if status.status == "not_run":
            ET.SubElement(case, "skipped", {"message": _clean(status.reason)})
            counts["skipped"] += 1
            continue
        if status.status == "crashed":
            el = ET.SubElement(case, "error", {"message": _clean(status.reason), "type": "crashed"})
            el.text = _clean(f"rule {status.code} failed inside; its findings are unknown: {status.reason}")
            counts["errors"] += 1
            continue
        failed, out = _add_findings(case, by_code.pop(status.code, FindingTable()), fail_on, cap)
        out += [
            _clean(f"unconfirmed {f.severity}: {finding_place(f)} — {f.note}")
            for f in unconfirmed.get(status.code, FindingTable())
        ]
        counts["failures"] += failed
        if out:
            ET.SubElement(case, "system-out").text = "\n".join(out)
    rules.attrib.update({k: str(v) for k, v in counts.items()} | {"time": "0"})

    files = ET.SubElement(root, "testsuite", {"name": f"{result.return_type}.files"})
    file_counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for code in sorted(by_code, key=code_key):  # the project's file codes (and any finding without a rule status)
        file_counts["tests"] += 1
        title = INGEST_CODES.get(code, ("", by_code[code][0].message))[1]
        case = _case(files, f"{result.return_type}.files", f"{code} {title}".strip()[:200])
        failed, out = _add_findings(case, by_code[code], fail_on, cap)
        file_counts["failures"] += failed
        if out:
            ET.SubElement(case, "system-out").text = "\n".join(out)
    files.attrib.update({k: str(v) for k, v in file_counts.items()} | {"time": "0"})

    root.attrib.update(
        {k: str(counts[k] + file_counts[k]) for k in ("tests", "failures", "errors", "skipped")} | {"time": "0"}
    )
    ET.indent(root, space="  ")
    return root
