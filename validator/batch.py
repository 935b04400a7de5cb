"""Many returns at once (``validate --each``): one LA's return per entry of a folder, validated in worker processes.

:func:`validate_one` is the whole job for one return: it validates, writes that return's reports and gives back a
small summary (plain data, so it crosses process boundaries). :func:`validate_many` runs it for every return on a
pool of processes; any other engine that can call a Python function on each item of a list (Dask, Ray, a job
queue) can run :func:`validate_one` the same way (docs/performance.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .api import validate
from .engine.model import RuleLoadError
from .ingest.loader import InputError
from .outputs import is_report_name, write_atomic
from .outputs.csv_out import csv_text
from .outputs.formats import FORMATS, render
from .years import YearError

SUMMARY_STEM = "summary"
SUMMARY_COLUMNS = ["return", "status", "errors", "queries", "notices", "rules_crashed", "problem", "reports"]


@dataclass(frozen=True)
class BatchJob:
    """One return to validate and where its reports go; every field is plain data."""

    inputs: tuple[str, ...]
    output_dir: str
    stem: str  # the reports' file name without extension
    formats: tuple[str, ...] = ("json",)
    return_type: str | None = None
    year: str | None = None
    rules: tuple[str, ...] | None = None
    fail_on: str = "error"
    postcodes: str | None = None
    providers: tuple[str, ...] = ()


@dataclass
class BatchOutcome:
    """What happened to one return: its exit status (0, 1 or 2, as for one return) and its counts."""

    name: str
    status: int
    errors: int = 0
    queries: int = 0
    notices: int = 0
    rules_crashed: int = 0
    problem: str = ""  # why the return could not be validated at all
    reports: list[str] = field(default_factory=list)


def validate_one(job: BatchJob) -> BatchOutcome:
    """Validate one return and write its reports; a return that cannot be read gives status 2 and the reason."""
    name = " ".join(job.inputs)
    try:
        result = validate(
            list(job.inputs),
            return_type=job.return_type,
            year=job.year,
            rules=list(job.rules) if job.rules is not None else None,
            postcodes=job.postcodes,
            providers=list(job.providers),
        )
    except (InputError, YearError, RuleLoadError) as exc:
        return BatchOutcome(name, 2, problem=str(exc))
    except Exception as exc:  # one return's failure never stops the others
        return BatchOutcome(name, 2, problem=f"unexpected problem: {type(exc).__name__}: {exc}")
    written = []
    for fmt in job.formats:
        path = Path(job.output_dir) / f"{job.stem}.{FORMATS[fmt].extension}"
        write_atomic(path, render(result, fmt, fail_on=job.fail_on))
        written.append(str(path))
    return BatchOutcome(
        name,
        result.exit_status(job.fail_on),
        errors=result.count("error"),
        queries=result.count("query"),
        notices=result.count("notice"),
        rules_crashed=sum(1 for r in result.rules if r.status == "crashed"),
        reports=written,
    )


def returns_in(folders: Iterable[str | Path], output_dir: Path | None = None) -> list[Path]:
    """Each entry of the folders is one return: a sub-folder (of CSV or XML files) or a single file.

    Hidden entries (a leading dot), the output folder and the tool's own reports (an earlier run's, written into
    an input folder) are passed over; the order is by name, so runs are repeatable.
    """
    found: list[Path] = []
    skip = output_dir.resolve() if output_dir is not None else None
    for folder in folders:
        path = Path(folder)
        if not path.is_dir():
            raise InputError(f"{path}: --each needs folders whose entries are returns; this is not a folder")
        found.extend(
            sorted(
                p
                for p in path.iterdir()
                if not p.name.startswith(".") and p.resolve() != skip and not (p.is_file() and is_report_name(p.name))
            )
        )
    if not found:
        raise InputError("--each: the folders given hold no returns")
    return found


def jobs_for(returns: Sequence[Path], output_dir: Path, **options: object) -> list[BatchJob]:
    """One job per return, with report names made from the return's name (made unique when two clash)."""
    from .cli import report_stem  # the same names as for one return

    jobs = []
    seen: set[str] = set()
    for path in returns:
        stem, n = report_stem([str(path)]), 2
        base = stem
        while stem.lower() in seen:
            stem, n = f"{base}-{n}", n + 1
        seen.add(stem.lower())
        jobs.append(BatchJob(inputs=(str(path),), output_dir=str(output_dir), stem=stem, **options))  # type: ignore[arg-type]
    return jobs


def validate_many(
    jobs: Sequence[BatchJob], workers: int = 1, done: Callable[[BatchOutcome], None] | None = None
) -> list[BatchOutcome]:
    """Run :func:`validate_one` for every job, on ``workers`` processes (1: in this process); results in job order."""
    if workers <= 1 or len(jobs) <= 1:
        outcomes = []
        for job in jobs:
            outcomes.append(validate_one(job))
            if done is not None:
                done(outcomes[-1])
        return outcomes
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = [pool.submit(validate_one, job) for job in jobs]
        outcomes = []
        for future in futures:
            outcomes.append(future.result())
            if done is not None:
                done(outcomes[-1])
        return outcomes


def write_summary(outcomes: Sequence[BatchOutcome], output_dir: Path) -> list[Path]:
    """summary.json and summary.csv in the output folder: one line per return."""
    rows = [asdict(o) for o in outcomes]
    json_path = output_dir / f"{SUMMARY_STEM}.json"
    write_atomic(json_path, (json.dumps({"returns": rows}, indent=1) + "\n").encode("utf-8"))
    lines = [
        [o.name, o.status, o.errors, o.queries, o.notices, o.rules_crashed, o.problem, ";".join(o.reports)]
        for o in outcomes
    ]
    csv_path = output_dir / f"{SUMMARY_STEM}.csv"
    write_atomic(csv_path, csv_text([SUMMARY_COLUMNS, *lines]).encode("utf-8"))
    return [json_path, csv_path]


def batch_status(outcomes: Sequence[BatchOutcome]) -> int:
    """2 when a return could not be read, else 1 when any return failed, else 0."""
    statuses = {o.status for o in outcomes}
    return 2 if 2 in statuses else 1 if 1 in statuses else 0
