"""The front doors' shared pieces: the run request and report plan, the error hierarchy, report file names and
checks, and the command line's one place for problems."""

from __future__ import annotations

import argparse
import errno
import os
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import SAMPLES, write

from validator import cli
from validator.batch import BatchJob, jobs_for, validate_one
from validator.engine.model import RuleLoadError
from validator.errors import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    FileProblem,
    Interrupted,
    RulesError,
    Unexpected,
    UsageError,
    ValidatorError,
    problem_of,
)
from validator.ingest.loader import InputError
from validator.regional import LAReturn
from validator.reports import (
    check_targets,
    la_report_stem,
    plan_problem,
    preview_file,
    protected_files,
    report_file,
    summary_file,
)
from validator.request import ReportPlan, RunRequest
from validator.split import SplitError
from validator.web.session import Cancelled, FormError, _options, failure
from validator.years import YearError, previous_year

CIN = str(SAMPLES / "cin" / "cin_2024_25.xml")


# ------------------------------------------------------------------------------------------- run request


def test_a_request_takes_a_year_in_any_written_form_and_refuses_a_wrong_one() -> None:
    assert RunRequest(inputs=("x",), year="2024-25").year == "2024_25"
    assert RunRequest(inputs=("x",)).year is None
    with pytest.raises(YearError, match="write it like 2024_25"):
        RunRequest(inputs=("x",), year="2024_26")


def test_a_request_names_every_file_it_reads() -> None:
    request = RunRequest(
        inputs=("a.csv",), previous=(("p1.csv", "p1b.csv"), ("p2.csv",)), postcodes="pc.zip", providers=("o.xlsx",)
    )
    assert request.given_files == ("a.csv", "p1.csv", "p1b.csv", "p2.csv", "pc.zip", "o.xlsx")
    assert RunRequest(inputs=("a",), population="pop.csv").reference_files == ("pop.csv",)


def test_a_batch_job_is_a_request_and_a_plan() -> None:
    """Each return of a batch: the batch's request with its own inputs, LA and previous years; the batch's formats
    and fail-on, written into the batch's folder (never split, redacted or to one file)."""
    batch = RunRequest(inputs=("all",), year="2024_25", rules=("101",), postcodes="pc.zip", la="E09000001")
    asked = ReportPlan(formats=("json", "csv"), output=Path("x.json"), split_by="Worker", redact=True, fail_on="query")
    returns = [LAReturn("E09000027", ("a",), (("p",),)), Path("b")]
    (job, other) = jobs_for(returns, Path("out"), request=batch, plan=asked)
    own = RunRequest(inputs=("a",), previous=(("p",),), la="E09000027", year="2024_25", rules=("101",))
    assert job.request == replace(own, postcodes="pc.zip") and job.stem == "E09000027-validation"
    assert other.request == RunRequest(inputs=("b",), year="2024_25", rules=("101",), postcodes="pc.zip")
    assert job.plan == other.plan == ReportPlan(formats=("json", "csv"), output_dir=Path("out"), fail_on="query")
    assert jobs_for(["c"], Path("out"))[0] == BatchJob(
        RunRequest(inputs=("c",)), ReportPlan(formats=("json",), output_dir=Path("out")), "c-validation"
    )
    with pytest.raises(ValueError, match="output_dir"):
        BatchJob(RunRequest(inputs=("a",)), ReportPlan(formats=("json",)), "s")


def test_the_web_form_is_a_request_without_files() -> None:
    request = _options({"year": "2024-25", "la": "E09000027", "rules": "101, 102"})
    # the result page offers the DfE-ready files: their change log is asked for
    assert request == RunRequest(
        inputs=(), year="2024_25", la="E09000027", rules=("101", "102"), change_log=True, processes=1
    )
    with pytest.raises(FormError, match="not a collection year"):
        _options({"year": "next year", "la": "not an la at all!"})  # the year is checked first, as before


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("raised", "kind", "title"),
    [
        (InputError("no such file"), UsageError, "cannot validate"),
        (YearError("'x' is not a collection year"), UsageError, "cannot validate"),
        (SplitError("no column"), UsageError, "cannot validate"),
        (RuleLoadError("bad rule"), RulesError, "a rule file is wrong"),
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "r.json"), FileProblem, "cannot read or write a file"),
        (RuntimeError("boom"), Unexpected, "unexpected problem"),
    ],
)
def test_each_exception_maps_to_one_kind_with_a_title_and_status(
    raised: Exception, kind: type[ValidatorError], title: str
) -> None:
    problem = problem_of(raised)
    assert type(problem) is kind and problem.title == title and problem.exit_status == EXIT_USAGE
    assert problem.original is raised


def test_the_messages_of_mapped_problems() -> None:
    assert (
        str(problem_of(OSError(errno.ENOSPC, "No space left on device", "r.json"))) == "r.json: No space left on device"
    )
    assert str(problem_of(RuntimeError("boom"))) == "RuntimeError: boom"
    assert problem_of(InputError("x"), usage_title="cannot preview").title == "cannot preview"
    assert problem_of(KeyboardInterrupt()).exit_status == EXIT_INTERRUPTED
    assert isinstance(problem_of(KeyboardInterrupt()), Interrupted)
    own = UsageError("given", title="cannot compare")
    assert problem_of(own, usage_title="cannot preview") is own


def test_the_command_line_shows_a_problem_under_its_title(monkeypatch, capsys) -> None:
    def refuse(args: argparse.Namespace, out: object, err: object) -> int:
        raise UsageError("the [bold]reason[/bold]", title="cannot do it")

    monkeypatch.setattr(cli.convert, "run", refuse)
    assert cli.main(["convert", "x.xml", "--output", "out"]) == EXIT_USAGE
    assert capsys.readouterr().err.split() == ["cannot", "do", "it:", "the", "[bold]reason[/bold]"]

    def interrupted(args: argparse.Namespace, out: object, err: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.convert, "run", interrupted)
    assert cli.main(["convert", "x.xml", "--output", "out"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == ""


def test_every_command_module_has_a_parser_and_a_run() -> None:
    for name, module in cli.COMMANDS.items():
        assert callable(module.add_parser) and callable(module.run), name
    assert list(cli.COMMANDS) == ["validate", "rules", "convert", "preview", "samples", "serve"]


def test_the_web_app_words_each_kind_of_problem() -> None:
    assert failure(InputError("no table")) == "The files could not be validated: no table"
    assert failure(RuleLoadError("bad")) == "A rule file is wrong: bad"
    assert failure(OSError("disk")) == "Unexpected problem: OSError: disk. Please report it."
    assert failure(Cancelled()) == "The session was cleared: the validation was stopped."


def test_a_batch_return_that_cannot_be_read_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    request = RunRequest(inputs=(str(tmp_path / "missing"),), la="E09000027")
    job = BatchJob(request, ReportPlan(formats=("json",), output_dir=tmp_path), "s")
    outcome = validate_one(job)
    assert outcome.status == 2 and "no such file or folder" in outcome.problem and outcome.la == "E09000027"


# ------------------------------------------------------------------------------------------ report files


def test_report_names() -> None:
    assert la_report_stem("E09000027", ["x/y.csv"]) == "E09000027-validation"
    assert la_report_stem(None, ["x/y.csv"]) == "y-validation"
    assert report_file("E09000027-validation", "xlsx") == "E09000027-validation.xlsx"
    assert report_file("r", "console") == "r.txt"
    assert summary_file("csv", "rules") == "summary-rules.csv" and summary_file("json") == "summary.json"
    assert preview_file("cin", "measures") == "cin-preview-measures.csv"
    assert preview_file("cin", extension="xlsx") == "cin-preview.xlsx"
    assert previous_year("2024_25") == "2023_24" and previous_year("2000_01", 2) == "1998_99"


def test_a_report_never_overwrites_a_file_of_the_request(tmp_path: Path) -> None:
    current = write(tmp_path / "now", "header.csv", "CHILD\n1\n")
    last = write(tmp_path / "last", "header.csv", "CHILD\n1\n")
    population = write(tmp_path, "pop.csv", "x\n")
    request = RunRequest(inputs=(str(current.parent),), previous=((str(last),),), population=str(population))
    protected = protected_files(request)
    assert set(protected) == {current, last, population}
    with pytest.raises(InputError, match="is one of the inputs or reference files; a report never overwrites one"):
        check_targets([last], protected)
    with pytest.raises(InputError, match="is one of the inputs; the preview never overwrites one"):
        check_targets([population], protected, kinds="inputs", writer="the preview")
    with pytest.raises(InputError, match="is a folder"):
        check_targets([tmp_path], [])


def test_a_plan_that_cannot_work_is_refused_before_the_run(tmp_path: Path) -> None:
    request = RunRequest(inputs=(CIN,))
    both = ReportPlan(formats=("json",), output=tmp_path / "r.json", output_dir=tmp_path)
    assert plan_problem(both, request) == "give either --output FILE (one format) or --output-dir DIR, not both"
    several = ReportPlan(formats=("json", "csv"))
    assert "need --output-dir DIR" in (plan_problem(several, request) or "")
    split = ReportPlan(formats=("json",), split_by="Worker")
    assert plan_problem(split, request) == "--split-by writes one report per value: give --output-dir DIR"
    onto_input = ReportPlan(formats=("json",), output=Path(CIN))
    assert "is one of the inputs or reference files" in (plan_problem(onto_input, request) or "")
    assert plan_problem(ReportPlan(formats=("json",), output_dir=tmp_path / "new"), request) is None
