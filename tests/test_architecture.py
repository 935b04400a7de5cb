"""Size limits that keep the code readable (issue #15): no module in validator/ over 700 lines, no function
over 80. A module or function that grows past them is split by job (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "validator"
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80


def long_functions(path: Path, limit: int = MAX_FUNCTION_LINES) -> dict[str, int]:
    """Functions and methods of one file longer than ``limit`` lines (decorators not counted), by name."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                found[node.name] = lines
    return found


def test_no_module_over_the_limit() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_over_the_limit() -> None:
    long = {
        f"{p.relative_to(ROOT)}:{name}": n
        for p in sorted(PACKAGE.rglob("*.py"))
        for name, n in long_functions(p).items()
    }
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_long_functions_counts_nested_and_methods(tmp_path: Path) -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(80))
    source = tmp_path / "m.py"
    source.write_text(f"class C:\n    def long(self):\n{body}\n\n    def short(self):\n        return 1\n")
    assert long_functions(source) == {"long": 81}
    assert long_functions(source, limit=81) == {}
