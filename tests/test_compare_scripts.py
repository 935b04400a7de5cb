"""The differential scripts' own logic (scripts/compare_*_reference.py): the edge edits and the file-level triggers.

The scripts run the community reference from a scratch venv and are not run here; these tests check only the
parts that decide which differences a file-level divergence explains, on small hand-made returns.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from helpers import ROOT, write_csv

SCRIPTS = ROOT / "scripts"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def c903() -> ModuleType:
    return load_script("compare_903_reference")


def clean_return(root: Path) -> Path:
    base = root / "2024_25_s1_e0" / "ssda903"
    for year in ("2024_25", "2023_24"):
        write_csv(
            base / year / "header.csv",
            [["CHILD", "SEX", "DOB"], ["1", "M", "01/01/2010"], ["2", "F", "01/01/2011"]],
            lineterminator="\n",
        )
        write_csv(
            base / year / "episodes.csv",
            [
                ["CHILD", "DECOM", "DEC"],
                ["1", "01/05/2024", "01/06/2024"],
                ["1", "01/06/2024", ""],
                ["2", "01/05/2024", ""],
            ],
            lineterminator="\n",
        )
        write_csv(
            base / year / "uasc.csv",
            [["CHILD", "SEX", "DOB", "DUC"], ["2", "F", "01/01/2011", "01/01/2029"]],
            lineterminator="\n",
        )
        write_csv(
            base / year / "missing.csv",
            [["CHILD", "MISSING", "MIS_START", "MIS_END"], ["1", "M", "01/05/2024", "10/05/2024"]],
            lineterminator="\n",
        )
    return base


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))[1:]


def test_every_edge_edit_is_made_and_logged(tmp_path: Path, c903: ModuleType) -> None:
    clean = clean_return(tmp_path)
    seen: set[str] = set()
    for seed in range(1, 25):
        out, edits = c903.inject_return(clean, "2024_25", seed, 1.0)
        assert set(edits) == {"1", "2"}  # every child edited, at a rate of 1
        year = out / "2024_25"
        for child, kind in edits.items():
            seen.add(kind)
            if kind == "same_day_tie":
                starts = [r[1] for r in rows_of(year / "episodes.csv") if r[0] == child]
                assert len(starts) != len(set(starts))
            elif kind == "nested_period":
                assert [r[2:] for r in rows_of(year / "missing.csv") if r[0] == child] == [
                    ["01/05/2024", "10/05/2024"],
                    ["02/05/2024", "09/05/2024"],
                ]
            elif kind == "repeated_child":
                assert [r[0] for r in rows_of(year / "header.csv")].count(child) == 2
        assert rows_of(out / "2023_24" / "episodes.csv") == rows_of(clean / "2023_24" / "episodes.csv")
        cached = c903.inject_return(clean, "2024_25", seed, 1.0)
        assert cached == (out, edits)  # read back from injected_edges.csv
    assert seen == set(c903.INJECTIONS)


def test_file_level_divergences_apply_only_where_their_cause_is(tmp_path: Path, c903: ModuleType) -> None:
    clean = clean_return(tmp_path)
    assert c903.triggered_codes(clean, "2024_25", False) == {}
    shared = c903.triggered_codes(clean, "2024_25", True)
    assert shared["359"] == "rule-365-fills-blank-dec" and "303" not in shared
    write_csv(
        clean / "2023_24" / "uasc.csv",
        [["CHILD", "SEX", "DOB", "DUC"], ["2", "F", "01/01/2011", ""], ["2", "F", "01/01/2011", ""]],
        lineterminator="\n",
    )
    assert c903.triggered_codes(clean, "2024_25", False) == dict.fromkeys(
        ["303", "205A", "205B", "205C", "205D"], "uasc-flag-row-shift"
    )


def test_a_triggered_difference_is_explained_and_others_are_not(c903: ModuleType) -> None:
    tallies = c903.defaultdict(c903.CodeTally)
    ours = {"303": {"1"}, "359": {"2"}}
    ref = {"303": {"status": "ok", "children": ["1", "3"]}, "359": {"status": "ok", "children": []}}
    c903.compare_run("r", tallies, ours, {}, ref, {}, {}, {"303": "uasc-flag-row-shift"})
    assert tallies["303"].file_level == {("r", "3")} and tallies["303"].both == {("r", "1")}
    assert c903.verdict(tallies["303"], False) == ("file-divergence", False)
    assert c903.verdict(tallies["359"], False) == ("DIFFERENT", True)


def test_cin_repeated_children_are_put_down_to_their_divergence() -> None:
    cin = load_script("compare_cin_reference")
    codes = cin.file_level_codes()
    assert {"1103", "2889", "2990", "4015"} <= set(codes)
    ((name, present),) = codes["1103"]
    run = cin.Run("2024_25", 1, 0.0, Path("x.xml"), shared_ids={"C1"})
    assert name == "repeated-child-merged" and present(run, "C1") and not present(run, "C2")
