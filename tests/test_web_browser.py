"""The local web app in a real headless Chromium (Playwright): upload the bundled samples, wait for the result,
filter the report to one rule, open a child, download the workbook; the rules page; a visit without the key.

Like the HTML report's browser tests (test_html_report.py), these skip only when no browser or no Playwright is
found and CI is not set; in CI they must run. UPDATE_SCREENSHOTS=1 also writes docs/img/web-app.png (the
README's picture of the app); otherwise nothing in the working tree is written.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import ROOT, SAMPLES, expect, serving

from validator.web.server import WebServer


@pytest.fixture
def app() -> Iterator[WebServer]:
    """The app on a free port, served from a thread."""
    with serving(WebServer("127.0.0.1", 0)) as server:
        yield server


class Visit:
    """A browser tab on the app, recording every request and every error the page reports."""

    def __init__(self, browser: Any, app: WebServer) -> None:
        self.base = f"http://127.0.0.1:{app.port}"
        self.context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.visited: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("framenavigated", lambda f: self.visited.append(f.url) if f.parent_frame is None else None)
        self.page.goto(app.url)

    def check_clean(self) -> None:
        """No script error, no CSP violation (Chromium reports them as console errors), nothing from elsewhere."""
        assert not self.errors, self.errors
        assert all(url.startswith((self.base + "/", "blob:", "data:", "about:")) for url in self.requests), [
            u for u in self.requests if not u.startswith(self.base)
        ]


def _report_rows(frame: Any) -> list[dict[str, str]]:
    rows = frame.locator("#f-body tr:not(.group)")
    return [
        {"code": rows.nth(i).locator("td").nth(1).inner_text(), "child": rows.nth(i).locator("td").nth(2).inner_text()}
        for i in range(rows.count())
    ]


def test_browser_validates_the_ssda903_sample_and_downloads_the_workbook(
    browser: Any, app: WebServer, tmp_path: Path
) -> None:
    visit = Visit(browser, app)
    page = visit.page
    assert page.url == f"{visit.base}/"  # the key has left the address bar
    expect(page.locator("h1")).to_have_text("Validate a return")

    page.set_input_files("#current", sorted((SAMPLES / "ssda903" / "2024_25").glob("*.csv")))
    expect(page.locator(".drop[data-for=current] .chosen li")).to_have_count(11)
    page.click("details.more summary")
    page.set_input_files("#previous1", sorted((SAMPLES / "ssda903" / "2023_24").glob("*.csv")))
    page.select_option("#year", "2024_25")
    page.fill("#la", "Richmond upon Thames (E09000027)")  # as picked from the list of LAs by name
    page.click("button.primary")
    page.wait_for_url(f"{visit.base}/result", timeout=180_000)
    assert f"{visit.base}/progress" in visit.visited  # the progress page came first

    result = app.session.job.result  # type: ignore[union-attr]
    assert result is not None and result.context.la == "E09000027"
    expect(page.locator("h1")).to_have_text(
        "SSDA903 (children looked after) 2024_25, LA E09000027 (Richmond upon Thames)"
    )
    assert f"{result.count('error'):,} errors" in page.inner_text(".counts")
    report = page.frame_locator("#report")
    expect(report.locator("html[data-ready=true]")).to_have_count(1, timeout=60_000)
    total = len(result.findings)
    expect(report.locator("#f-status")).to_contain_text(f"of {total:,} findings")

    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        out = ROOT / "docs" / "img"
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / "web-app.png"))

    # Filter the report to one rule.
    report.locator("#f-rule").select_option("142")
    expected = [f for f in result.findings if f.code == "142"]
    expect(report.locator("#f-status")).to_contain_text(f"of {len(expected):,} findings (filtered from {total:,})")
    rows = _report_rows(report)
    assert len(rows) == len(expected) and {r["code"] for r in rows} == {"142"}

    # Open a child.
    link = report.locator("#f-body a.child-link").first
    child = link.inner_text()
    assert child == expected[0].child
    link.click()
    expect(report.locator("#child-h")).to_have_text(f"Child {child}")
    assert report.locator("#child tr.flagged").count() >= 1

    # Download the workbook: a real xlsx with the report's sheets.
    with page.expect_download() as caught:
        page.click("a[data-download=xlsx]")
    download = caught.value
    assert download.suggested_filename == "ssda903_2024_25_E09000027-validation.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()))
    assert {"Summary", "Rules"} <= set(workbook.sheetnames)
    visit.check_clean()

    # Clear the session: the uploads are deleted and the app is back at the start.
    folder = app.session.folder
    assert any(folder.rglob("episodes.csv"))
    page.click(".downloads form button")
    page.wait_for_url(f"{visit.base}/")
    assert not folder.exists()
    visit.context.close()


def test_browser_validates_the_cin_sample_with_the_year_from_the_file(browser: Any, app: WebServer) -> None:
    visit = Visit(browser, app)
    page = visit.page
    page.set_input_files("#current", [SAMPLES / "cin" / "cin_2024_25.xml"])
    page.click("button.primary")
    page.wait_for_url(f"{visit.base}/result", timeout=180_000)
    expect(page.locator("h1")).to_have_text("CIN census (children in need) 2024_25")
    report = page.frame_locator("#report")
    expect(report.locator("html[data-ready=true]")).to_have_count(1, timeout=60_000)
    rules_link = page.locator(".counts a")
    rules_link.click()
    page.wait_for_url(f"{visit.base}/rules?return=cin&year=2024_25")
    visit.check_clean()
    visit.context.close()


def test_browser_rules_page_searches_the_rules_and_shows_their_yaml(browser: Any, app: WebServer) -> None:
    visit = Visit(browser, app)
    page = visit.page
    page.goto(f"{visit.base}/rules?return=cin&year=2024_25")
    count = page.locator("#rules-count")
    total = int(count.get_attribute("data-total") or 0)
    assert total > 100
    expect(count).to_have_text(f"{total:,} of {total:,} rules")
    page.fill("#q", "8675Q")
    expect(count).to_have_text(f"1 of {total:,} rules")
    row = page.locator("#rules-table tbody tr:visible")
    expect(row).to_have_count(1)
    row.locator("summary").first.click()  # the rule, rendered as `rules show` and the reference pages show it
    rendered = row.locator(".rd-rule")
    expect(rendered.locator("h3").first).to_contain_text("8675Q")
    expect(rendered.locator(".rd-example")).not_to_have_count(0)
    rendered.locator("details summary").click()  # and its YAML as written
    assert "code: 8675Q" in rendered.locator("details pre").inner_text()
    # Changing the year reloads the page with that year's rules.
    page.select_option("#year", "2023_24")
    page.wait_for_url("**/rules?return=cin&year=2023_24&q=8675Q")
    expect(page.locator("#year")).to_have_value("2023_24")
    visit.check_clean()
    visit.context.close()


def test_browser_without_the_key_is_refused(browser: Any, app: WebServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    base = f"http://127.0.0.1:{app.port}"
    for path in ("/", "/rules", "/?code=wrong"):
        response = page.goto(base + path)
        assert response is not None and response.status == 403, path
        assert "Not allowed" in page.inner_text("h1")
    context.close()
