"""Shared helpers: rules written inline as YAML, loaded through the real loader and run on example tables."""

from __future__ import annotations

import os
import shutil
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

from validator.engine.model import Rule, load_rule_file
from validator.result import Result

PASS_FAIL = """
    examples:
      - {expect: fail, tables: {}}
      - {expect: pass, tables: {}}
"""


@pytest.fixture
def make_rule(tmp_path: Path):
    """Load one rule from a YAML snippet (the `examples` block may be left out)."""

    def make(body: str, return_type: str = "ssda903") -> Rule:
        text = textwrap.dedent(body).strip("\n")
        if "examples:" not in text:
            text += textwrap.dedent(PASS_FAIL).rstrip()
        indented = textwrap.indent(text, "    ")
        path = tmp_path / "rule.yaml"
        path.write_text("rules:\n  -" + indented[3:] + "\n", encoding="utf-8")
        (rule,) = load_rule_file(path, return_type)
        return rule

    return make


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way to open a connection raises, so a code path that tries one fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a network connection was attempted: {args!r}")

    class NoSocket(socket.socket):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            refuse(*args)

    monkeypatch.setattr(socket, "socket", NoSocket)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "socketpair", "create_server"):
        monkeypatch.setattr(socket, name, refuse)


@pytest.fixture(scope="session")
def ssda903_sample() -> Result:
    """The bundled SSDA903 sample (2024_25 with 2023_24 before it) validated once per session, its inputs named from
    the project folder as the README runs it. Shared: a test must not change it."""
    import validator

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return validator.validate(
            ["samples/ssda903/2024_25"], year="2024_25", la="E09000027", previous=["samples/ssda903/2023_24"]
        )


@pytest.fixture(scope="session")
def cin_sample() -> Result:
    """The bundled CIN census sample validated once per session (named as ssda903_sample's inputs are)."""
    import validator

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return validator.validate(["samples/cin/cin_2024_25.xml"])


# The everyday loop is `python3 tasks.py test -m "not slow"`; CI runs everything. Slow are whole modules that run
# the hostile-input corpus, property tests, generated whole returns or a browser, and any test using the browser.
SLOW_MODULES = {
    "test_corpus.py",
    "test_hostile.py",
    "test_generated_returns.py",
    "test_preview_independent.py",
    "test_web_browser.py",
    "test_batch.py",
    "test_regional.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SLOW_MODULES or "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def private_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The compiled-rules and prepared-postcode cache in a folder of this test session's own, so no test depends on
    (or changes) what earlier runs, other checkouts or other versions left in the user's cache folder. Processes
    the tests start inherit it."""
    from validator.resources import CACHE_ENV

    folder = tmp_path_factory.mktemp("cache")
    folder.chmod(0o700)
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    yield folder
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


# Hypothesis budgets: "ci" (the default) keeps the property tests to seconds; "dev" runs far more examples
# locally. Choose with HYPOTHESIS_PROFILE=dev.
try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
    )
    settings.register_profile("dev", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # hypothesis is a test extra; the tests that need it skip without it
    pass


# --------------------------------------------------------------------------------- headless browser (shared)
# The HTML report's and the web app's browser tests drive Debian's Chromium through Playwright. Outside CI they
# are skipped when no browser is found; in CI (CI=true, set by .ci/run) they fail instead.

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _find_chromium() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; in CI the browser tests must run (.ci/run installs Debian's chromium)")
    pytest.skip(f"{reason} (install Debian's chromium and the test extra; CI runs these tests)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed")
    executable = _find_chromium()
    if executable is None:
        _unavailable("no Chromium found (looked for $CHROMIUM, /usr/bin/chromium, chromium, google-chrome)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
