"""Many returns at once: validate --each and --jobs, and the per-return function other engines can run."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from helpers import SAMPLES

from validator.api import validate
from validator.batch import BatchJob, batch_status, jobs_for, returns_in, validate_many, validate_one
from validator.cli import main
from validator.request import ReportPlan, RunRequest


@pytest.fixture
def returns(tmp_path: Path) -> Path:
    """A folder of three LAs' returns (a CSV folder, two XML files) and one file that is not a return."""
    folder = tmp_path / "returns"
    folder.mkdir()
    shutil.copytree(SAMPLES / "ssda903" / "2024_25", folder / "la_a")
    shutil.copy(SAMPLES / "cin" / "cin_2024_25.xml", folder / "la_b.xml")
    shutil.copy(SAMPLES / "clean" / "cin" / "cin_2024_25.xml", folder / "la_c.xml")
    (folder / "la_d.csv").write_text("not,a,return\n1,2,3\n", encoding="utf-8")
    (folder / ".hidden").write_text("ignored", encoding="utf-8")
    return folder


def test_each_return_in_processes_gives_what_one_run_gives(returns: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    jobs = jobs_for(returns_in([returns]), out, plan=ReportPlan(formats=("json",)))
    assert [Path(j.request.inputs[0]).name for j in jobs] == ["la_a", "la_b.xml", "la_c.xml", "la_d.csv"]
    outcomes = validate_many(jobs, workers=2)
    assert [o.name for o in outcomes] == [j.request.inputs[0] for j in jobs]
    for job, outcome in zip(jobs[:3], outcomes[:3], strict=True):
        alone = validate(list(job.request.inputs))
        assert (outcome.errors, outcome.queries, outcome.notices) == (
            alone.count("error"),
            alone.count("query"),
            alone.count("notice"),
        )
        assert outcome.status == alone.exit_status()
        report = json.loads(Path(outcome.reports[0]).read_text(encoding="utf-8"))
        assert len(report["findings"]) == len(alone.findings)
    assert outcomes[3].status == 2 and "recognised" in outcomes[3].problem and not outcomes[3].reports
    assert batch_status(outcomes) == 2
    assert batch_status(outcomes[:3]) == max(o.status for o in outcomes[:3])


def test_validate_one_is_plain_data_in_and_out(tmp_path: Path) -> None:
    """What Dask or any other engine needs: a picklable job in, a picklable summary out."""
    import pickle

    request = RunRequest(inputs=(str(SAMPLES / "cin" / "cin_2024_25.xml"),))
    job = BatchJob(request, ReportPlan(formats=("json",), output_dir=tmp_path), "la")
    outcome = validate_one(pickle.loads(pickle.dumps(job)))
    assert pickle.loads(pickle.dumps(outcome)) == outcome
    assert outcome.reports == [str(tmp_path / "la.json")]


def test_report_names_are_unique(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x.xml").write_text("<a/>", encoding="utf-8")
    stems = [j.stem for j in jobs_for(returns_in([tmp_path]), tmp_path / "out")]
    assert stems == ["x-validation", "x-validation-2"]


def test_cli_each_with_jobs_writes_reports_and_summary(returns: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    status = main(["validate", str(returns), "--each", "--jobs", "2", "--output-dir", str(out), "--format", "json"])
    assert status == 2  # la_d.csv is not a return
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [Path(r["return"]).name for r in rows] == ["la_a", "la_b.xml", "la_c.xml", "la_d.csv"]
    assert [r["status"] for r in rows][3] == "2"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in summary["returns"]] == [int(r["status"]) for r in rows]
    assert sorted(p.name for p in out.glob("*-validation.json")) == [
        "la_a-validation.json",
        "la_b-validation.json",
        "la_c-validation.json",
    ]
    assert "4 returns, 2 at a time" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--scheduler", "dask"], "add --each"),
        (["--each"], "--output-dir"),
        (["--each", "--output-dir", "OUT", "--previous", "x"], "--previous"),
        (["--each", "--output-dir", "OUT", "--la", "E09000027"], "--la"),
    ],
)
def test_cli_each_usage_errors(returns: Path, tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    args = [a.replace("OUT", str(tmp_path / "out")) for a in extra]
    assert main(["validate", str(returns), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_each_needs_a_folder(tmp_path: Path, capsys) -> None:
    file = tmp_path / "one.xml"
    file.write_text("<a/>", encoding="utf-8")
    assert main(["validate", str(file), "--each", "--output-dir", str(tmp_path / "out")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_reports_written_into_the_batch_folder_are_not_taken_for_returns(returns: Path) -> None:
    """--output-dir inside the folder of returns: the next run takes neither the folder nor the summary for a
    return (issue 14: reports are never read back as inputs)."""
    out = returns / "reports"
    out.mkdir()
    (returns / "summary.csv").write_text("name,status\n", encoding="utf-8")
    (returns / "la_b-validation.json").write_text("{}", encoding="utf-8")
    assert sorted(p.name for p in returns_in([returns], out)) == ["la_a", "la_b.xml", "la_c.xml", "la_d.csv"]
