"""Test helpers: the repository's folders, writing input files, and running a rule on tables given as rows of text,
the way its YAML examples are run."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from validator.engine.examples import example_dataset
from validator.engine.rule import Example, Rule
from validator.engine.runner import RuleOutcome, TableStore, run_rule
from validator.result import Result

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CORPUS = ROOT / "tests" / "corpus"

# One child, one episode: the smallest SSDA903 XML file (2023_24 codes), for commands that turn XML into tables.
ONE_CHILD_903_XML = (
    "<?xml version='1.0'?><EXPSSDA903><CHILD><HEADER><CHILDID>C1</CHILDID><SEX>1</SEX><DOB>01/02/2015</DOB>"
    "<ETHNIC>WBRI</ETHNIC><UPN>UN1</UPN></HEADER><EPISODE><DECOM>01/04/2023</DECOM><RNE>S</RNE><LS>C2</LS>"
    "<CIN>N1</CIN><PL>U1</PL></EPISODE></CHILD></EXPSSDA903>"
)


def write(folder: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write one file (text in `encoding`, or bytes as given) into folder, making the folder; return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    """A UTF-8 CSV file's rows as dicts keyed by its header."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: Iterable[Sequence[object]], lineterminator: str = "\r\n") -> Path:
    """Write rows as a CSV file (the csv module's own line ending unless told), making the folder; return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator=lineterminator).writerows(rows)
    return path


def rule_findings(result: Result) -> list[tuple[str, str | None, str | None, tuple[str, ...]]]:
    """The rule findings (not the reader's), without where they were found: the file and line differ between the
    same data given as XML, CSV files or a workbook."""
    return sorted((f.code, f.table, f.child, f.fields) for f in result.findings if f.code[0].isdigit())


@contextmanager
def serving(server: Any) -> Iterator[Any]:
    """``server`` (an http.server) answering requests from a thread until the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.close()


def expect(locator: Any) -> Any:
    """Playwright's assertions, which poll from Python (the pages' CSP forbids eval in the page)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def run_on(rule: Rule, tables: dict[str, list[dict[str, Any]]], **kw: Any) -> RuleOutcome:
    example = Example(
        name="t",
        expect="fail",
        tables=tables,
        year=kw.get("year"),
        context=kw.get("context", {}),
        absent=tuple(kw.get("absent", ())),
        postcodes=tuple(kw["postcodes"]) if "postcodes" in kw else None,
    )
    return run_rule(rule, TableStore(example_dataset(rule, example)))


def flagged_rows(outcome: RuleOutcome) -> list[int]:
    assert outcome.status == "run", outcome.reason
    return sorted(f.row for f in outcome.findings if f.row is not None)
