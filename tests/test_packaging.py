"""The built wheel carries the rules and schemas, so an installed tool works outside the source tree."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from helpers import ROOT


def test_wheel_contains_rules_and_schemas(tmp_path: Path) -> None:
    builder_module = pytest.importorskip("hatchling.builders.wheel")
    builder = builder_module.WheelBuilder(str(ROOT))
    (wheel,) = list(builder.build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(wheel).namelist())
    rule_files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "rules").rglob("*.yaml"))
    schema_files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "schemas").rglob("*.*"))
    assert rule_files and schema_files
    for rel in rule_files + schema_files:
        assert f"validator/_data/{rel}" in names, rel
    assert "validator/cli/__init__.py" in names
