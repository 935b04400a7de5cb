"""What a validation run imports: only what it needs (issue #16, start-up time); the help imports no library.

The preview package, the workbook and XML readers, bank holidays, batch runs and the rule compiler are imported
when a run needs them, not to start up. Each check runs in a fresh interpreter and looks at ``sys.modules``; no
timing is asserted (speed lives in benchmarks/).
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from validator.engine.calendar import bank_holidays
from validator.engine.model import rules_for
from validator.resources import rules_dir, schemas_dir
from validator.yamlio import load_data_file

ROOT = Path(__file__).resolve().parent.parent

# Never needed to start up, nor by a run of CSV files of an SSDA903 return to a JSON report.
NOT_FOR_A_CSV_RUN = [
    "validator.preview",  # the headline figures: HTML and Excel reports, the preview command
    "validator.batch",  # validate --each
    "validator.regional",
    "validator.web",
    "validator.engine.compiler",  # compiling rules: only when they are not in the cache
    "validator.ingest.xlsx_reader",  # workbooks
    "validator.ingest.xml_cin",  # CIN XML
    "validator.ingest.xml903",  # SSDA903 XML
    "validator.reference.providers",  # --providers
    "validator.outputs.console",  # the console report
    "validator.outputs.html",
    "validator.outputs.xlsx",
    "holidays",  # working days: CIN rules
    "openpyxl",
    "python_calamine",
    "lxml",
    "xmlschema",
    "rich.progress",  # the progress bar: on a terminal only
    "dask",
    "validator.redact",  # --redact
    "validator.split",  # --split-by
    "rich",  # the terminal: the progress bar, tables, the console report (validator/cli/screen.py)
    "yaml",  # parsing YAML: the rules, table definitions and code lists come from the cache
]

IMPORTS = (
    "import validator, validator.api, validator.cli; from validator.ingest.loader import load_return; "
    "from validator.engine.model import rules_for"
)


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code`` (from the project's root)."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}  # rich's settings
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True, env=env)
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def _imported(modules: set[str], names: list[str]) -> list[str]:
    return [name for name in names if name in modules or any(m.startswith(name + ".") for m in modules)]


def test_starting_up_imports_only_the_validation_path() -> None:
    modules = _modules_after(IMPORTS)
    assert "validator.engine.runner" in modules  # the check sees what was imported
    assert _imported(modules, NOT_FOR_A_CSV_RUN) == []


def test_a_csv_run_to_json_imports_only_what_it_needs(tmp_path: Path) -> None:
    rules_for("ssda903", "2024_25")  # the compiled rules in this session's cache, as after any first run
    for return_type in ("ssda903", "cin"):  # and the parsed table definitions and code lists
        load_data_file(schemas_dir(return_type) / "tables.yaml")
        load_data_file(rules_dir(return_type) / "codelists.yaml")
    report = tmp_path / "report.json"
    args = ["validate", "samples/ssda903/2024_25", "--year", "2024_25", "--la", "E09000027"]
    args += ["--format", "json", "--output", str(report)]
    code = f"import sys\nfrom validator.cli import main\nstatus = main({args!r})\nprint(status, file=sys.stderr)"
    modules = _modules_after(code)
    assert json.loads(report.read_text(encoding="utf-8"))["findings"]  # the run ran its rules
    assert "validator.engine.functions" in modules and "validator.outputs.json_out" in modules
    assert _imported(modules, NOT_FOR_A_CSV_RUN) == []


def test_what_a_run_leaves_out_is_imported_when_needed() -> None:
    """The lazy imports are where the work is: a CIN XML run reads XML and counts working days (the bank holidays
    from the cache once a run has put them there, else from the ``holidays`` package)."""
    rules_for("cin", "2024_25")
    bank_holidays.cache_clear()
    bank_holidays()  # the bank holidays in the cache
    code = (
        "from validator.api import validate\n"
        "result = validate(['samples/cin/cin_2024_25.xml'])\n"
        "assert result.figures is not None\n"
        "from validator.engine.calendar import bank_holidays\n"
        "assert bank_holidays.cache_info().currsize == 1"
    )
    modules = _modules_after(code)
    assert _imported(modules, ["validator.ingest.xml_cin", "lxml", "holidays", "validator.preview"]) == [
        "validator.ingest.xml_cin",
        "lxml",
        "validator.preview",
    ]


def test_the_command_lines_help_starts_without_the_library() -> None:
    """``--help``, ``--version`` and a mistyped option: argparse alone, no pandas, rules or readers."""
    code = (
        "import runpy, sys\n"
        "sys.argv = ['validator', 'validate', '--help']\n"
        "try:\n"
        "    runpy.run_module('validator', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code"
    )
    modules = _modules_after(code)
    assert "validator.cli.validate" in modules and "validator.cli.rules" in modules
    library = ["pandas", "numpy", "validator.api", "validator.engine", "validator.dataset", "validator.result"]
    assert _imported(modules, [*NOT_FOR_A_CSV_RUN, *library]) == []


def test_the_cycle_collector_is_paused_only_while_the_library_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """run() pauses the cycle collector for the start-up; once the command's library is imported it runs again,
    with what was loaded frozen out of its passes, even when the import fails."""
    from validator import cli
    from validator.cli import validate

    for command in cli.COMMANDS.values():  # what a command names is there
        assert all(importlib.util.find_spec(name) is not None for name in getattr(command, "LIBRARY", ()))
    assert "validator.api" in validate.LIBRARY
    gc.disable()
    try:
        cli._load_library(validate, paused_collector=True)
        assert gc.isenabled() and gc.get_freeze_count() > 0
        gc.unfreeze()
        broken = types.SimpleNamespace(LIBRARY=("validator.no_such_module",))
        gc.disable()
        with pytest.raises(ModuleNotFoundError):
            cli._load_library(broken, paused_collector=True)  # type: ignore[arg-type]
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
    cli._load_library(validate, paused_collector=False)  # main() called by a library user: the collector untouched
    assert gc.isenabled() and gc.get_freeze_count() == 0
