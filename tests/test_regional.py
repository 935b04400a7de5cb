"""Regional batches: validate --each over LA folders named by ONS code (or a manifest), on processes or on Dask,
each LA's report equal to a single run with its --la and --previous; the summary across LAs."""

from __future__ import annotations

import csv
import html
import json
import shutil
from pathlib import Path

import pytest
from helpers import SAMPLES

from validator.api import validate
from validator.batch import jobs_for, parse_scheduler, validate_many
from validator.cli import main
from validator.ingest.loader import InputError
from validator.regional import read_manifest, region_returns
from validator.request import ReportPlan, RunRequest

SSDA = SAMPLES / "ssda903"


@pytest.fixture
def region(tmp_path: Path) -> Path:
    """Three LAs: two SSDA903 returns with last year's (one also with the year before), one CIN return alone."""
    folder = tmp_path / "region"
    shutil.copytree(SSDA / "2024_25", folder / "E09000027")
    shutil.copytree(SSDA / "2023_24", folder / "E09000027" / "previous")
    shutil.copytree(SAMPLES / "clean" / "ssda903" / "2024_25", folder / "E09000026")
    shutil.copytree(SAMPLES / "clean" / "ssda903" / "2023_24", folder / "E09000026" / "previous")
    shutil.copytree(SSDA / "2023_24", folder / "E09000026" / "previous-2")  # an older year: read, not used here
    (folder / "E06000001").mkdir()
    shutil.copy(SAMPLES / "cin" / "cin_2024_25.xml", folder / "E06000001")
    return folder


def _findings(report: Path) -> list[dict[str, object]]:
    return json.loads(report.read_text(encoding="utf-8"))["findings"]


def _single(tmp_path: Path, la: str, current: Path, previous: list[Path]) -> list[dict[str, object]]:
    """The findings of one run of the command line with the LA's --la and --previous."""
    out = tmp_path / f"single-{la}.json"
    argv = ["validate", str(current), "--la", la, "--format", "json", "--output", str(out)]
    for p in previous:
        argv += ["--previous", str(p)]
    assert main(argv) in (0, 1)
    return _findings(out)


def test_la_folders_give_each_return_its_code_and_previous_years(region: Path) -> None:
    found = region_returns([region], None)
    assert [r.la for r in found] == ["E06000001", "E09000026", "E09000027"]
    by_la = {r.la: r for r in found}
    assert by_la["E09000027"].current == (str(region / "E09000027"),)
    assert by_la["E09000027"].previous == ((str(region / "E09000027" / "previous"),),)
    assert by_la["E09000026"].previous == (
        (str(region / "E09000026" / "previous"),),
        (str(region / "E09000026" / "previous-2"),),
    )
    assert by_la["E06000001"].previous == ()


def test_a_small_batch_on_a_local_dask_cluster_equals_single_runs(region: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    jobs = jobs_for(region_returns([region], None), out, plan=ReportPlan(formats=("json",)))
    seen: list[str | None] = []
    outcomes = validate_many(
        jobs, 1, lambda o: seen.append(o.la), "dask", dask_processes=False, timeout=300
    )  # threads of this process: no worker start-up to wait for
    assert [o.la for o in outcomes] == seen == ["E06000001", "E09000026", "E09000027"]
    for job, outcome in zip(jobs, outcomes, strict=True):
        request = job.request
        assert outcome.problem == "" and outcome.reports == [str(out / f"{request.la}-validation.json")]
        previous = [Path(p[0]) for p in request.previous]
        single = _single(tmp_path, str(request.la), Path(request.inputs[0]), previous)
        assert _findings(Path(outcome.reports[0])) == single
        assert sum(int(r["count"]) for r in outcome.rules) == len(single)  # type: ignore[call-overload]
    assert outcomes[2].errors > 0  # the sample with errors: the comparison is not of empty lists
    # last year's return was read with this year's (the reports list every input)
    inputs = json.loads(Path(outcomes[2].reports[0]).read_text(encoding="utf-8"))["inputs"]
    assert any(f"{Path('E09000027') / 'previous'}" in json.dumps(i) for i in inputs)


def _single_report(tmp_path: Path, la: str, current: Path, previous: list[Path]) -> dict[str, object]:
    """The whole JSON report of one run of the command line with the LA's --la and --previous."""
    out = tmp_path / f"single-{la}.json"
    argv = ["validate", str(current), "--la", la, "--format", "json", "--output", str(out)]
    for p in previous:
        argv += ["--previous", str(p)]
    assert main(argv) in (0, 1)
    return json.loads(out.read_text(encoding="utf-8"))


def _as_manifest(region: Path) -> Path:
    """The same region moved to another layout (folders not named by ONS codes) with a manifest.csv listing it."""
    data = region.parent / "elsewhere"
    lines = ["la,current,previous"]
    for n, la_folder in enumerate(sorted(region.iterdir())):
        home = data / f"la{n}"
        home.mkdir(parents=True)
        years = sorted((p for p in la_folder.iterdir() if p.is_dir()), key=lambda p: (len(p.name), p.name))
        for year in years:
            shutil.move(year, home / year.name.replace("previous", "last"))
        shutil.move(la_folder, home / "current")
        previous = ";".join(f"la{n}/{y.name.replace('previous', 'last')}" for y in years)
        lines.append(f"{la_folder.name},la{n}/current,{previous}")
    (data / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


@pytest.mark.parametrize("layout", ["la-folders", "manifest"])
def test_cli_each_on_dask_local_cluster_matches_single_runs(region: Path, tmp_path: Path, capsys, layout: str) -> None:
    """The command of the issue: validate returns/ --each --scheduler dask, on a local cluster of processes; each
    LA's whole report equal to that of a single run with its --la and --previous (every year of previous/)."""
    returns = region if layout == "la-folders" else _as_manifest(region)
    expected = region_returns([returns], None)
    assert [r.la for r in expected] == ["E06000001", "E09000026", "E09000027"]
    assert [len(r.previous) for r in expected] == [0, 2, 1]
    out = tmp_path / "out"
    argv = ["validate", str(returns), "--each", "--scheduler", "dask", "--jobs", "2", "--output-dir", str(out)]
    assert main([*argv, "--format", "json"]) == 1
    assert "on a local Dask cluster" in capsys.readouterr().err
    for found in expected:
        assert found.la is not None
        current = Path(found.current[0])
        if layout == "la-folders":
            assert current == region / found.la
        single = _single_report(tmp_path, found.la, current, [Path(p[0]) for p in found.previous])
        batch = json.loads((out / f"{found.la}-validation.json").read_text(encoding="utf-8"))
        assert batch == single
        assert batch["la"] == found.la
        # last year's return was read with this year's: the report lists it among the inputs
        assert any(i["year"] != "current" for i in batch["inputs"]) == bool(found.previous)
    errors = {r["la"]: r["errors"] for r in json.loads((out / "summary.json").read_text(encoding="utf-8"))["returns"]}
    assert errors["E09000027"] > 0  # the sample with errors: the comparison is not of empty reports


def test_summary_across_las(region: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["validate", str(region), "--each", "--jobs", "2", "--output-dir", str(out), "--format", "json"]
    assert main(argv) == 1
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["returns"]
    assert [r["la"] for r in summary] == ["E06000001", "E09000026", "E09000027"]
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["la"] for r in rows] == ["E06000001", "E09000026", "E09000027"]
    assert rows[2]["return_type"] == "ssda903" and rows[0]["return_type"] == "cin"
    # the headline figures side by side: SSDA903's for the SSDA903 returns, blank for the CIN one
    assert rows[2]["figure:cla_31_march"] != "" and rows[0]["figure:cla_31_march"] == ""
    ssda = validate([region / "E09000027"], la="E09000027", previous=[region / "E09000027" / "previous"])
    figures = {f["id"]: f for f in summary[2]["figures"]}
    assert float(rows[2]["figure:cla_31_march"]) == figures["cla_31_march"]["value"]
    from validator.preview import figures_of

    assert figures["cla_31_march"]["value"] == figures_of(ssda).measure("cla_31_march").value  # type: ignore[union-attr]
    with (out / "summary-rules.csv").open(encoding="utf-8") as fh:
        by_rule = list(csv.DictReader(fh))
    for r in summary:
        mine = [b for b in by_rule if b["la"] == r["la"]]
        assert sum(int(b["count"]) for b in mine if b["severity"] == "error") == r["errors"]
        assert sum(int(b["count"]) for b in mine if b["severity"] == "query") == r["queries"]
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "E09000027-validation.json" in page and "Children looked after at 31 March" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "default-src 'none'" in html.unescape(page)


def test_summary_page_escapes_what_it_shows(tmp_path: Path) -> None:
    """Names and messages come from the user's files and folders: shown as text, never as markup."""
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / "<b>x&y<script>.csv").write_text("not,a,return\n1,2,3\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["validate", str(folder), "--each", "--output-dir", str(out), "--format", "json"]) == 2
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "<b>x" not in page and "<script" not in page and "&lt;b&gt;x&amp;y&lt;script&gt;" in page


def test_manifest_for_another_layout(tmp_path: Path) -> None:
    """la, current, previous (years separated by ;), paths relative to the manifest; a manifest.csv in the folder is
    read without --manifest."""
    data = tmp_path / "data"
    shutil.copytree(SSDA / "2024_25", data / "richmond" / "this-year")
    shutil.copytree(SSDA / "2023_24", data / "richmond" / "last-year")
    shutil.copytree(SSDA / "2023_24", data / "richmond" / "year-before")
    shutil.copy(SAMPLES / "cin" / "cin_2024_25.xml", data / "hartlepool.xml")
    (data / "manifest.csv").write_text(
        "LA,current,previous\n"
        "e09000027,richmond/this-year,richmond/last-year; richmond/year-before\n"
        ",,\n"
        "E06000001,hartlepool.xml,\n",
        encoding="utf-8",
    )
    found = region_returns([data], None)
    assert [(r.la, r.current) for r in found] == [
        ("E09000027", (str(data / "richmond" / "this-year"),)),
        ("E06000001", (str(data / "hartlepool.xml"),)),
    ]
    assert found[0].previous == ((str(data / "richmond" / "last-year"),), (str(data / "richmond" / "year-before"),))
    assert region_returns([tmp_path / "elsewhere"], data / "manifest.csv") == found  # --manifest: the folder unread
    out = tmp_path / "out"
    assert main(["validate", str(data), "--each", "--output-dir", str(out), "--format", "json"]) == 1
    single = _single(
        tmp_path,
        "E09000027",
        data / "richmond" / "this-year",
        [data / "richmond" / "last-year", data / "richmond" / "year-before"],
    )
    assert _findings(out / "E09000027-validation.json") == single


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("la,current\nRichmond,a\n", "line 2: 'Richmond' is not an ONS code"),
        ("la,previous\nE09000027,a\n", "current is missing"),
        ("la,current,previous\nE09000027,nowhere\n", "line 2: the current return 'nowhere' does not exist"),
        ("la,current,previous\nE09000027,a,a;gone\n", "line 2: the previous return 'gone' does not exist"),
        ("la,current,previous\nE09000027,,a\n", "line 2: no current return for E09000027"),
        ("la,current\nE09000027,a\nE09000027,a\n", "line 3: E09000027 is listed again (first on line 2)"),
        ("la,current\nE09000027,a,extra\n", "line 2: more cells than the header has columns"),
        ("la,current\n", "lists no returns"),
    ],
)
def test_a_bad_manifest_is_named_with_its_line(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "a").mkdir()
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"manifest\.csv") as caught:
        read_manifest(manifest)
    assert problem in str(caught.value)


def test_cli_bad_manifest_and_bad_folder_names_exit_2_with_the_name(region: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    each = ["--each", "--output-dir", str(out), "--format", "json"]
    assert main(["validate", str(region), *each, "--manifest", str(tmp_path / "none.csv")]) == 2
    assert "none.csv: the manifest does not exist" in capsys.readouterr().err.replace("\n", "")
    (region / "Richmond").mkdir()
    assert main(["validate", str(region), *each]) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "Richmond" in err and "is not an ONS code" in err and "Traceback" not in err
    (region / "Richmond").rmdir()
    (region / "notes.txt").write_text("x", encoding="utf-8")
    assert main(["validate", str(region), *each]) == 2
    assert "notes.txt" in capsys.readouterr().err.replace("\n", "")
    assert not out.exists() or not any(out.iterdir())  # nothing validated, nothing written


def test_a_gap_in_the_previous_years_is_named(region: Path) -> None:
    shutil.move(region / "E09000026" / "previous-2", region / "E09000026" / "previous-3")
    with pytest.raises(InputError, match=r"E09000026: has previous-3/ but no previous-2/"):
        region_returns([region], None)


def test_output_folder_inside_the_region_is_not_an_la(region: Path, capsys) -> None:
    out = region / "reports"
    argv = ["validate", str(region), "--each", "--output-dir", str(out), "--format", "json"]
    assert main(argv) == 1
    assert main(argv) == 1  # again, with the reports folder there: still not taken for an LA
    assert (out / "E09000027-validation.json").exists() and not (out / "reports-validation.json").exists()


@pytest.mark.parametrize("text", ["threads", "dask:", "processes:x", "ray"])
def test_scheduler_names(text: str, capsys) -> None:
    assert parse_scheduler("processes") == ("processes", None)
    assert parse_scheduler("dask") == ("dask", None)
    assert parse_scheduler("dask:tcp://10.0.0.5:8786") == ("dask", "tcp://10.0.0.5:8786")
    with pytest.raises(ValueError, match="is not a scheduler"):
        parse_scheduler(text)
    with pytest.raises(SystemExit) as exited:
        main(["validate", "x", "--each", "--scheduler", text])
    assert exited.value.code == 2 and "is not a scheduler" in capsys.readouterr().err


def test_scheduler_without_each_is_refused(capsys) -> None:
    assert main(["validate", "x", "--scheduler", "dask"]) == 2
    assert "add --each" in capsys.readouterr().err


def test_a_worker_that_fails_loses_only_its_return(tmp_path: Path) -> None:
    """A worker process or Dask worker that dies gives its return status 2 with the reason; the others carry on."""
    from concurrent.futures import Future

    from validator.batch import BatchJob, BatchOutcome, _collect

    plan = ReportPlan(formats=("json",), output_dir=tmp_path)
    jobs = [BatchJob(RunRequest(inputs=(f"r{n}",), la=f"E0900000{n}"), plan, f"r{n}") for n in (1, 2)]
    lost: Future[BatchOutcome] = Future()
    lost.set_exception(RuntimeError("worker killed"))
    fine: Future[BatchOutcome] = Future()
    fine.set_result(BatchOutcome("r2", 0, la="E09000002"))
    outcomes = _collect(jobs, [lost, fine], None, timeout=5)
    assert outcomes[0].status == 2 and outcomes[0].la == "E09000001"
    assert outcomes[0].problem == "the worker validating it failed: RuntimeError: worker killed"
    assert outcomes[1] == BatchOutcome("r2", 0, la="E09000002")


def test_dask_missing_is_a_clear_message(region: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the dask extra were not installed
    argv = ["validate", str(region), "--each", "--scheduler", "dask", "--output-dir", str(tmp_path / "out")]
    assert main(argv) == 2
    assert "pip install 'csc-validator[dask]'" in capsys.readouterr().err.replace("\n", "")


def test_a_figure_that_cannot_be_worked_out_is_none_never_nan() -> None:
    from validator.batch import _finite

    assert _finite(float("nan")) is None and _finite(None) is None and _finite(2.5) == 2.5


def test_a_message_with_brackets_is_shown_whole(tmp_path: Path, capsys) -> None:
    """Messages are text, not console markup: a folder named like [b] or [red] is named as it is."""
    folder = tmp_path / "[red]returns"
    assert main(["validate", str(folder), "--each", "--output-dir", str(tmp_path / "out")]) == 2
    assert "[red]returns:" in capsys.readouterr().err.replace("\n", "")


def test_reports_written_into_the_region_are_not_taken_for_las(region: Path) -> None:
    """--output-dir the region itself: a second run passes over the first run's reports and summaries."""
    argv = ["validate", str(region), "--each", "--output-dir", str(region), "--format", "json,html"]
    assert main(argv) == 1
    assert {"summary.html", "summary-rules.csv", "E09000027-validation.html"} <= {p.name for p in region.iterdir()}
    assert main(argv) == 1
    assert json.loads((region / "summary.json").read_text(encoding="utf-8"))["returns"][0]["la"] == "E06000001"
