"""The HTML report: what the file holds (Python), and how it behaves in a real headless Chromium (Playwright).

The browser tests skip, with the reason, only when no browser or no Playwright is found and CI is not set;
in CI (CI=true, as `.ci/run` sets) they must run. `.ci/run` installs Debian's chromium when it is missing.
HTML_REPORT_SCREENSHOTS=1 also writes the screenshots used by docs/output.md into docs/img/.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import ROOT, SAMPLES, expect, write

import validator
from validator.dataset import Context, Dataset, Table
from validator.findings import Finding
from validator.outputs.html import render_html
from validator.result import Result, RuleStatus
from validator.schema import load_schema

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def hostile_result(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """The SSDA903 sample with markup in a cell, plus a finding whose child id, message and values are markup."""
    folder = tmp_path_factory.mktemp("hostile") / "2024_25"
    shutil.copytree(SAMPLES / "ssda903" / "2024_25", folder)
    header = folder / "header.csv"
    with header.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[1][rows[0].index("ETHNIC")] = SCRIPT
    rows[1][rows[0].index("UPN")] = IMG
    with header.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    result = validator.validate([folder], year="2024_25", la="E09000027", rules=["103", "142"])
    extra = Finding(
        code="142",
        severity="error",
        level="record",
        message=f"made-up {SCRIPT}",
        table="Episodes",
        row=0,
        child=IMG,
        fields=("DEC", "Header.DOB"),
        values=(SCRIPT, IMG),
        file=f"{IMG}.csv",
        line=2,
    )
    return dataclasses.replace(result, findings=[*result.findings, extra])


def synthetic_result(n_findings: int = 50_000, n_children: int = 10_000) -> Result:
    """A made-up SSDA903 result with many findings, and a Header and an Episodes record for each child."""
    ctx = Context("ssda903", "2024_25", "E09000027", dt.date(2024, 4, 1), dt.date(2025, 3, 31), dt.date(2025, 3, 31))
    children = [f"C{i:06d}" for i in range(n_children)]
    header = pd.DataFrame(
        {
            "CHILD": children,
            "SEX": ["1"] * n_children,
            "DOB": pd.to_datetime(["2015-06-01"] * n_children),
            "DOB@raw": ["01/06/2015"] * n_children,
            "ETHNIC": ["WBRI"] * n_children,
            "_file": ["header.csv"] * n_children,
            "_line": range(2, n_children + 2),
            "_row": range(n_children),
        }
    )
    episodes = pd.DataFrame(
        {
            "CHILD": children,
            "DECOM": pd.to_datetime(["2024-05-01"] * n_children),
            "DECOM@raw": ["01/05/2024"] * n_children,
            "RNE": ["S"] * n_children,
            "LS": ["C2"] * n_children,
            "_file": ["episodes.csv"] * n_children,
            "_line": range(2, n_children + 2),
            "_row": range(n_children),
        }
    )
    dataset = Dataset(
        load_schema("ssda903"),
        ctx,
        {"Header": Table("Header", header), "Episodes": Table("Episodes", episodes)},
    )
    severities = ["error", "query", "notice"]
    codes = [(f"{100 + k}", severities[k % 3]) for k in range(40)]
    findings = []
    for i in range(n_findings):
        code, severity = codes[i % len(codes)]
        child = i % n_children
        findings.append(
            Finding(
                code=code,
                severity=severity,  # type: ignore[arg-type]
                level="record",
                message=f"Rule {code} says the start of the episode is not right.",
                table="Episodes",
                row=child,
                child=children[child],
                fields=("DECOM", "RNE"),
                values=("01/05/2024", "S"),
                file="episodes.csv",
                line=child + 2,
            )
        )
    rules = [RuleStatus(code, "run", count=n_findings // len(codes), severity=sev) for code, sev in codes]
    rules.append(RuleStatus("503B", "not_run", "needs the previous year's Episodes table", severity="error"))
    rules.append(RuleStatus("999", "crashed", "ValueError: boom", severity="error"))
    return Result("ssda903", ctx, [], rules, findings, dataset=dataset)


def embedded_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert match, "the report's data block is missing"
    return json.loads(match.group(1))


# ---------------------------------------------------------------------------------------------- content


def test_the_page_holds_the_summary_and_the_data(ssda903_sample: Result) -> None:
    page = render_html(ssda903_sample)
    assert page.startswith("<!DOCTYPE html>")
    for text in (
        "2024_25",
        "E09000027",
        "SSDA903",
        ssda903_sample.tool["version"],
        "samples/ssda903/2023_24/header.csv",
    ):
        assert text in page
    for severity in ("error", "query", "notice"):
        assert f'data-count="{severity}">{ssda903_sample.count(severity):,}<' in page
    assert f'data-count="rules_run">{len(ssda903_sample.rules_run):,}<' in page
    data = embedded_data(page)
    assert len(data["findings"]) == len(ssda903_sample.findings)
    strings = data["strings"]
    assert sorted(strings[f[0]] for f in data["findings"]) == sorted(f.code for f in ssda903_sample.findings)
    assert sum(g["count"] for g in data["groups"]) == len(ssda903_sample.findings)
    # Groups lead with errors, then queries, then notices.
    order = [g["severity"] for g in data["groups"]]
    assert order == sorted(order, key=["error", "query", "notice"].index)
    # Every child with a finding has its records embedded (and, the return being small, every other child too).
    children = {f.child for f in ssda903_sample.findings if f.child}
    assert children <= set(data["records"])
    episodes = next(i for i, t in enumerate(data["tables"]) if t["name"] == "Episodes")
    flagged = next(f for f in ssda903_sample.findings if f.code == "142")
    rows = data["records"][flagged.child][str(episodes)]
    record = next(r for r in rows if r[0] == flagged.row)
    assert record[2] == flagged.line
    columns = data["tables"][episodes]["columns"]
    assert record[3 + columns.index("DEC")] == "31/05/2024"
    assert any(t["name"] == "Episodes@previous" and t["year"] == "previous" for t in data["tables"])


def test_the_page_shows_return_level_not_run_and_crashed_sections() -> None:
    result = synthetic_result(200, 50)
    extra = Finding("RETURN-INFERRED", "notice", "file", "the files were recognised as a ssda903 return")
    page = render_html(dataclasses.replace(result, findings=[*result.findings, extra]))
    assert 'id="return-level"' in page and "the files were recognised as a ssda903 return" in page
    assert 'id="not-run"' in page
    assert "503B" in page and "needs the previous year&#x27;s Episodes table" in page
    assert "ValueError: boom" in page


def test_the_page_is_self_contained(ssda903_sample: Result, cin_sample: Result) -> None:
    for result in (ssda903_sample, cin_sample):
        page = render_html(result)
        links = re.findall(r"""\b(?:src|href|action)\s*=\s*["']?([^"'\s>]*)""", page, re.I)
        assert links, "expected in-page links"
        assert all(link.startswith("#") for link in links), [x for x in links if not x.startswith("#")]
        assert not re.search(r"https?://", page), "no address may appear in the page"
        assert "<link" not in page and "@import" not in page and "url(" not in page
        assert "default-src &#x27;none&#x27;" in page  # the Content-Security-Policy forbids any load


def test_values_are_escaped(hostile_result: Result) -> None:
    assert any(SCRIPT in f.values for f in hostile_result.findings if f.code == "103")
    page = render_html(hostile_result)
    assert SCRIPT not in page
    assert "<img" not in page
    assert page.count("<script") == 2  # the data block and the report's own script
    data = embedded_data(page)
    assert any(f[6] == IMG for f in data["findings"])  # the hostile child id, intact as data
    assert any(SCRIPT in (f[8] or []) for f in data["findings"])


def test_to_dict_leaves_the_dataset_out(ssda903_sample: Result) -> None:
    assert ssda903_sample.dataset is not None
    assert "dataset" not in ssda903_sample.to_dict()
    json.dumps(ssda903_sample.to_dict())


def test_a_report_without_records_still_renders() -> None:
    result = dataclasses.replace(synthetic_result(100, 10), dataset=None)
    data = embedded_data(render_html(result))
    assert data["meta"]["records"] is False and data["records"] == {}


def test_fifty_thousand_findings_render_into_a_bounded_page() -> None:
    # How fast is measured in benchmarks, never in a timed test (it would fail on a busy machine).
    result = synthetic_result()
    page = render_html(result)
    assert len(page) < 20_000_000
    assert len(embedded_data(page)["findings"]) == 50_000


def test_the_wheel_carries_the_report_assets(tmp_path: Path) -> None:
    builder_module = pytest.importorskip("hatchling.builders.wheel")
    import zipfile

    (wheel,) = list(builder_module.WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"validator/outputs/html_report.js", "validator/outputs/html_report.css"} <= names


# ---------------------------------------------------------------------------------------------- browser


class Opened:
    """A report opened from a file: the page, and what it asked for, printed to the console or raised."""

    def __init__(self, browser: Any, path: Path, fragment: str = "") -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("dialog", self._dialog)
        self.page.goto(path.as_uri() + fragment)
        self.page.wait_for_selector("html[data-ready=true]", timeout=60_000)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def check_clean(self) -> None:
        assert not self.errors, self.errors
        assert not self.dialogs, self.dialogs
        assert all(url.startswith(("file:", "data:", "about:")) for url in self.requests), self.requests


def _finding_rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#f-body tr:not(.group)",
        "rows => rows.map(r => ({code: r.cells[1] ? r.cells[1].textContent : '',"
        " child: r.cells[2] ? r.cells[2].textContent : ''}))",
    )


def _cell_column(page: Any, cell: Any) -> str:
    """The header text of a record table cell's column."""
    return cell.evaluate(
        "td => td.closest('table').tHead.rows[0].cells[td.cellIndex].textContent",
    )


def test_browser_shows_the_counts_and_filters_to_one_rule(browser: Any, ssda903_sample: Result, tmp_path: Path) -> None:
    opened = Opened(browser, write(tmp_path, "ssda903.html", render_html(ssda903_sample)))
    page = opened.page
    for severity in ("error", "query", "notice"):
        assert page.inner_text(f'[data-count="{severity}"]') == f"{ssda903_sample.count(severity):,}"
    total = len(ssda903_sample.findings)
    assert f"of {total:,} findings" in page.inner_text("#f-status")
    assert len(_finding_rows(page)) == total

    page.select_option("#f-rule", "142")
    expected = sum(1 for f in ssda903_sample.findings if f.code == "142")
    assert f"of {expected:,} findings (filtered from {total:,})" in page.inner_text("#f-status")
    rows = _finding_rows(page)
    assert len(rows) == expected and {r["code"] for r in rows} == {"142"}

    # Clear, then filter by child through the search box, using the keyboard only.
    page.click("#f-clear")
    expect(page.locator("#f-status")).to_contain_text(f"of {total:,} findings")
    child = next(f.child for f in ssda903_sample.findings if f.code == "302")
    page.focus("#f-child")
    page.keyboard.type(child)
    expect(page.locator("#f-status")).to_contain_text("filtered")
    rows = _finding_rows(page)
    assert rows and {r["child"] for r in rows} == {child}

    # The severity boxes filter too.
    page.click("#f-clear")
    page.uncheck("input[name=severity][value=error]")
    assert {r["code"] for r in _finding_rows(page)} <= {
        f.code for f in ssda903_sample.findings if f.severity != "error"
    }

    # "Show" beside a rule filters to it.
    page.click("button.show-rule[data-code='388']")
    assert {r["code"] for r in _finding_rows(page)} == {"388"}
    opened.check_clean()
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_browser_child_view_highlights_the_offending_cell(browser: Any, ssda903_sample: Result, tmp_path: Path) -> None:
    opened = Opened(browser, write(tmp_path, "ssda903.html", render_html(ssda903_sample)))
    page = opened.page
    page.select_option("#f-rule", "142")
    flagged = next(f for f in ssda903_sample.findings if f.code == "142")
    link = page.locator("#f-body a.child-link").first
    assert link.inner_text() == flagged.child
    link.focus()
    page.keyboard.press("Enter")  # keyboard-usable: the child link opens the child view
    page.wait_for_selector("#child:not([hidden])")
    assert page.inner_text("#child-h") == f"Child {flagged.child}"
    assert page.evaluate("document.activeElement.id") == "child-h"

    row = page.locator(f"#child tr.flagged:has(td.line:text-is('{flagged.line}'))")
    assert row.count() == 1
    assert "142" in row.locator("th.flags").inner_text()
    cells = row.locator("td.hl")
    highlighted = {_cell_column(page, cells.nth(i)): cells.nth(i).inner_text() for i in range(cells.count())}
    assert set(highlighted) == set(flagged.fields)
    assert highlighted["DEC"].startswith("31/05/2024")
    # Only the flagged record is highlighted in the Episodes table.
    others = page.locator("#child .records:has(h4:text-matches('^Episodes \\\\(')) tr:not(.flagged) td.hl")
    assert others.count() == 0

    # A cross-table field (302 compares DECOM with Header.DOB) marks the other table's column as related.
    child_302 = next(f for f in ssda903_sample.findings if f.code == "302")
    page.evaluate(f"location.hash = '#child={child_302.child}'")
    expect(page.locator("#child-h")).to_have_text(f"Child {child_302.child}")
    related = page.locator("#child .records:has(h4:text-matches('^Header \\\\(')) td.rel")
    assert related.count() == 1 and _cell_column(page, related.first) == "DOB"

    # Back to the findings hides the child view.
    page.click("#child-back")
    page.wait_for_selector("#child", state="hidden")
    opened.check_clean()
    if os.environ.get("HTML_REPORT_SCREENSHOTS") == "1":
        _docs_screenshots(page, flagged.child)


def _docs_screenshots(page: Any, child: str) -> None:
    """docs/img/html-report.png (the top of the report) and html-report-child.png (a child view)."""
    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1200, "height": 1500})
    page.click("#f-clear")
    page.evaluate("history.replaceState(null, '', location.pathname); document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "html-report.png"))
    page.evaluate(f"location.hash = '#child={child}'")
    page.wait_for_selector("#child:not([hidden])")
    page.evaluate("document.activeElement.blur()")
    page.locator("#child").screenshot(path=str(out / "html-report-child.png"))


def test_browser_cin_child_view(browser: Any, cin_sample: Result, tmp_path: Path) -> None:
    flagged = next(f for f in cin_sample.findings if f.code == "8866")
    opened = Opened(browser, write(tmp_path, "cin.html", render_html(cin_sample)), f"#child={flagged.child}")
    page = opened.page
    page.wait_for_selector("#child:not([hidden])")
    row = page.locator("#child tr.flagged:has(th.flags:text-is('8866'))")
    assert row.count() == 1
    cells = row.locator("td.hl")
    assert {_cell_column(page, cells.nth(i)) for i in range(cells.count())} == set(flagged.fields)
    assert f"of {len(cin_sample.findings):,} findings" in page.inner_text("#f-status")
    opened.check_clean()


def test_browser_never_runs_markup_from_the_data(browser: Any, hostile_result: Result, tmp_path: Path) -> None:
    child = next(f.child for f in hostile_result.findings if f.code == "103" and SCRIPT in f.values)
    opened = Opened(browser, write(tmp_path, "hostile.html", render_html(hostile_result)))
    page = opened.page
    page.fill("#f-child", child)
    expect(page.locator("#f-status")).to_contain_text("filtered")
    assert SCRIPT in page.inner_text("#f-body")
    page.locator("#f-body a.child-link").first.click()
    page.wait_for_selector("#child:not([hidden])")
    cell = page.locator("#child td.hl").first
    assert cell.inner_text().startswith(SCRIPT)
    assert _cell_column(page, cell) == "ETHNIC"
    assert IMG in page.inner_text("#child")  # the UPN, shown as text

    # The finding whose child id, file and message are markup.
    page.fill("#f-child", "img")
    expect(page.locator("#f-body a.child-link")).to_have_text([IMG])
    page.locator("#f-body a.child-link").first.click()
    expect(page.locator("#child-h")).to_contain_text("img")
    assert page.inner_text("#child-h") == f"Child {IMG}"
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.wait_for_timeout(200)
    opened.check_clean()


def test_browser_fifty_thousand_findings(browser: Any, tmp_path: Path) -> None:
    result = synthetic_result()
    path = write(tmp_path, "big.html", render_html(result))
    opened = Opened(browser, path)  # waits (bounded) for the page to say it is ready
    page = opened.page
    assert "of 50,000 findings" in page.inner_text("#f-status")
    # Only one page of findings is in the DOM.
    assert page.evaluate("document.querySelectorAll('#f-body tr').length") <= 200

    page.select_option("#f-rule", "105")
    assert "of 1,250 findings (filtered from 50,000)" in page.inner_text("#f-status")
    page.select_option("#f-rule", "")
    page.fill("#f-child", "C00012")
    expect(page.locator("#f-status")).to_contain_text("filtered")
    rows = _finding_rows(page)
    assert rows and all(r["child"].startswith("C00012") for r in rows)
    page.fill("#f-child", "")
    expect(page.locator("#f-status")).not_to_contain_text("filtered")
    page.click("#f-pager-top button[aria-label='Last page']")
    assert "page 500 of 500" in page.inner_text("#f-status")
    page.locator("#f-body a.child-link").first.click()
    page.wait_for_selector("#child:not([hidden]) td.hl")
    opened.check_clean()


def test_every_child_of_the_return_has_a_child_view(ssda903_sample: Result) -> None:
    data = embedded_data(render_html(ssda903_sample))
    assert ssda903_sample.dataset is not None
    with_findings = {f.child for f in ssda903_sample.findings if f.child}
    header = ssda903_sample.dataset.tables["Header"].df
    without = sorted(set(header["CHILD"].dropna().astype(str)) - with_findings)
    assert without, "the samples should have children without findings"
    assert data["meta"]["every_child"] is True
    for child in without:
        assert child in data["records"], child


def test_a_pseudonymised_report_holds_the_records_of_children_with_findings_only(ssda903_sample: Result) -> None:
    from validator.redact import redact_result

    redacted = redact_result(ssda903_sample, b"test key")
    data = embedded_data(render_html(redacted))
    assert data["meta"]["every_child"] is False
    assert set(data["records"]) == {f.child for f in redacted.findings if f.child}
