"""Rules on two or more processes (validator/processes.py): the same findings and statuses as in one process,
in the same order; a child that dies or fails loses nothing; one process wherever fork is not safe or does not pay."""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT

import validator
from validator import processes as parallel
from validator.cli import main
from validator.dataset import Dataset
from validator.ingest import loader
from validator.ingest.loader import load_return
from validator.result import Result
from validator.samples import generate_samples

linux_only = pytest.mark.skipif(not parallel.can_fork(), reason="rules run on forked processes on Linux only")


def _square(i: int) -> int:
    return i * i


@linux_only
@pytest.mark.parametrize("processes", [2, 3])
def test_tasks_on_processes_come_back_in_order(processes: int) -> None:
    calls: list[int] = []
    assert parallel.run_tasks(50, _square, processes, lambda: calls.append(1)) == [i * i for i in range(50)]
    assert len(calls) == 50  # every task reported done once, in the parent


@linux_only
@pytest.mark.parametrize("how", ["exits", "raises", "unpicklable"])
def test_a_child_that_fails_loses_no_task(how: str) -> None:
    parent = os.getpid()

    def work(i: int) -> object:
        if os.getpid() != parent:
            if how == "exits":
                os._exit(7)
            if how == "raises":
                raise RuntimeError("a child's mistake")
            return lambda: i  # a result that cannot be sent back
        return i + 1

    assert parallel.run_tasks(30, work, 2) == [i + 1 for i in range(30)]


def _zombie_children() -> list[int]:
    """This process's children that have ended but were not reaped."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if stat[0] == "Z" and int(stat[1]) == os.getpid():
                found.append(int(entry.name))
    return found


@linux_only
def test_children_that_sent_their_outcomes_are_reaped_later() -> None:
    """The parent goes on once a child's outcomes are in, without waiting for the child to end; a child that had
    not ended by then is reaped by the next call, and none is left a zombie."""
    for _ in range(3):
        assert parallel.run_tasks(20, _square, 2) == [i * i for i in range(20)]
    time.sleep(0.5)  # the children have ended by now
    assert parallel.run_tasks(1, _square, 1) == [0]
    assert not parallel._NOT_REAPED
    assert _zombie_children() == []


@linux_only
def test_what_is_frozen_for_the_fork_is_given_back_unless_the_process_froze_it_already() -> None:
    import gc

    assert gc.get_freeze_count() == 0
    parallel.run_tasks(10, _square, 2)
    assert gc.get_freeze_count() == 0  # a library caller's objects go back to the collector
    gc.freeze()  # as the command line does at the end of its start-up
    try:
        parallel.run_tasks(10, _square, 2)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@linux_only
def test_the_first_task_runs_in_this_process_however_late_this_process_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first task is taken before the fork: a parent held up right after forking (a busy machine) still runs it,
    while the child, done with the last, finds nothing more to take."""
    forked = parallel._fork_child

    def slow_parent(*args: object) -> object:
        child = forked(*args)  # type: ignore[arg-type]
        time.sleep(0.5)  # the child has long finished its task by now
        return child

    monkeypatch.setattr(parallel, "_fork_child", slow_parent)
    assert parallel.run_tasks(2, lambda i: os.getpid(), 2)[0] == os.getpid()


def test_one_process_where_fork_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    here = os.getpid()

    def pid(_: int) -> int:
        return os.getpid()

    assert parallel.run_tasks(10, pid, 1) == [here] * 10
    monkeypatch.setattr(sys, "platform", "win32")
    assert parallel.run_tasks(10, pid, 2) == [here] * 10
    assert parallel.auto_processes(10**9) == 1


@linux_only
def test_tasks_do_run_on_two_processes() -> None:
    def pid(_: int) -> int:
        time.sleep(0.02)  # so that the child takes some tasks before the parent has taken them all
        return os.getpid()

    assert len(set(parallel.run_tasks(40, pid, 2))) == 2


@linux_only
def test_the_parent_takes_tasks_from_the_front_and_the_child_from_the_back() -> None:
    def pid(_: int) -> int:
        time.sleep(0.02)
        return os.getpid()

    owners = parallel.run_tasks(40, pid, 2)
    parent = os.getpid()
    split = owners.index(next(p for p in owners if p != parent))
    assert owners == [parent] * split + [owners[-1]] * (40 - split)  # each took one end: neighbours stay together
    assert 0 < split < 40


def test_small_returns_run_in_one_process() -> None:
    assert parallel.auto_processes(parallel.MIN_RECORDS - 1) == 1
    expected = min(2, parallel.usable_cpus()) if parallel.can_fork() else 1
    assert parallel.auto_processes(parallel.MIN_RECORDS) == expected


def test_one_process_when_called_from_another_thread() -> None:
    found: list[int] = []
    worker = threading.Thread(target=lambda: found.append(parallel.auto_processes(10**9)))
    worker.start()
    worker.join()
    assert found == [1]


def _same_result(one: Result, two: Result) -> None:
    pd.testing.assert_frame_equal(one.findings.frame, two.findings.frame)
    assert one.rules == two.rules
    assert len(one.findings) > 0


@linux_only
@pytest.mark.parametrize("return_type", ["ssda903", "cin"])
def test_rules_on_two_processes_find_what_one_finds(tmp_path: Path, return_type: str) -> None:
    year = "2024_25"
    generate_samples(return_type, year, 120, 3, 0.5, tmp_path)
    if return_type == "cin":
        args: dict[str, object] = {"paths": [tmp_path / "cin" / f"cin_{year}.xml"]}
    else:
        base = tmp_path / "ssda903"
        args = {"paths": [base / year], "year": year, "la": "E09000027", "previous": [base / "2023_24"]}
    one = validator.validate(**args, processes=1)  # type: ignore[arg-type]
    two = validator.validate(**args, processes=2)  # type: ignore[arg-type]
    _same_result(one, two)


@linux_only
def test_jobs_for_one_return_on_the_command_line(tmp_path: Path) -> None:
    sample = ROOT / "samples" / "ssda903"
    reports = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.json"
        argv = ["validate", str(sample / "2024_25"), "--previous", str(sample / "2023_24"), "--year", "2024_25"]
        status = main([*argv, "--la", "E09000027", "--jobs", jobs, "--format", "json", "--output", str(out)])
        assert status == 1  # the sample has errors
        reports.append(out.read_text(encoding="utf-8"))
    one, two = (r.split('"findings"', 1)[1] for r in reports)  # the head carries the run's time
    assert one == two


def _generated_with_history(tmp_path: Path) -> tuple[Path, list[list[Path]]]:
    """A generated SSDA903 return with three earlier years: last year's with a bad date and a stray file, the year
    before a copy of last year's, the one before that with no files at all."""
    generate_samples("ssda903", "2024_25", 80, 4, 0.5, tmp_path)
    base = tmp_path / "ssda903"
    (base / "2023_24" / "notes.txt").write_text("not a table\n", encoding="utf-8")
    episodes = base / "2023_24" / "episodes.csv"
    episodes.write_text(re.sub(r"\d\d/\d\d/(\d{4})", r"31/02/\1", episodes.read_text(), count=1))
    shutil.copytree(base / "2023_24", base / "2022_23")
    (base / "2021_22").mkdir()
    return base, [[base / "2023_24"], [base / "2022_23"], [base / "2021_22"]]


def _same_dataset(one: Dataset, two: Dataset) -> None:
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in two.findings]
    assert [(i.path, i.kind, i.tables, i.year) for i in one.inputs] == [
        (i.path, i.kind, i.tables, i.year) for i in two.inputs
    ]
    assert list(one.tables) == list(two.tables)
    for name, table in one.tables.items():
        pd.testing.assert_frame_equal(table.df, two.tables[name].df)
        assert table.missing_columns == two.tables[name].missing_columns
    assert one.context == two.context


@linux_only
@pytest.mark.parametrize("year", ["2024_25", None])  # with the year given, last year's is read from the start
def test_earlier_years_read_on_a_second_process_give_the_same_dataset(tmp_path: Path, year: str | None) -> None:
    base, previous = _generated_with_history(tmp_path)
    one, two = (
        load_return([base / "2024_25"], year=year, la="E09000027", previous=previous, processes=n)  # type: ignore[arg-type]
        for n in (1, 2)
    )
    _same_dataset(one, two)
    assert ("DATE-INVALID", "Episodes@previous") in {(f.code, f.table) for f in one.findings}
    assert "Episodes@previous2" in one.tables


@linux_only
def test_last_year_read_ahead_as_the_wrong_return_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, previous = _generated_with_history(tmp_path)
    one = load_return([base / "2024_25"], year="2024_25", la="E09000027", previous=previous, processes=1)  # type: ignore[arg-type]
    monkeypatch.setattr(loader, "_return_guessed", lambda files, return_type: "cin")  # a wrong guess
    two = load_return([base / "2024_25"], year="2024_25", la="E09000027", previous=previous, processes=2)  # type: ignore[arg-type]
    _same_dataset(one, two)


def test_the_return_guessed_from_the_files_first_bytes(tmp_path: Path) -> None:
    sample = ROOT / "samples"
    ssda903 = sorted((sample / "ssda903" / "2024_25").glob("*.csv"))
    cin = sorted((sample / "cin").glob("*.xml"))[:1]
    assert loader._return_guessed(ssda903, None) == "ssda903"
    assert loader._return_guessed(cin, None) == "cin"
    assert loader._return_guessed(ssda903 + cin, None) is None  # mixed: no guess
    assert loader._return_guessed(cin, "ssda903") == "ssda903"  # the return given is the guess
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    assert loader._return_guessed([notes], None) is None


def test_no_guess_from_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "gone.xml"  # e.g. removed, or not readable, after the folder was listed
    assert loader._return_guessed([missing], None) is None


@linux_only
@pytest.mark.parametrize("year", ["2024_25", None])  # read ahead from the start, or beside this year's typing
def test_the_callers_work_is_done_in_this_process_while_last_year_is_read(tmp_path: Path, year: str | None) -> None:
    """load_return's while_reading is called once, in this process, with the return type, when this year's part is
    done; the dataset is the same as without it."""
    base, previous = _generated_with_history(tmp_path)
    calls: list[tuple[int, str]] = []
    args = {"year": year, "la": "E09000027", "previous": previous, "processes": 2}
    two = load_return([base / "2024_25"], **args, while_reading=lambda kind: calls.append((os.getpid(), kind)))  # type: ignore[arg-type]
    assert calls == [(os.getpid(), "ssda903")]
    _same_dataset(load_return([base / "2024_25"], **args), two)  # type: ignore[arg-type]


def test_a_rules_problem_met_while_reading_is_said_where_the_rules_are_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    import validator.api as api

    def broken(return_type: str) -> None:
        raise RuntimeError("a broken rules cache")

    monkeypatch.setattr(api, "load_rules", broken)
    api._load_rules_quietly("ssda903")  # nothing raised here
