"""Many returns at once (``validate --each``): one LA's return per entry of a folder (validator.regional says which
is which), validated in worker processes or on a Dask cluster.

:func:`validate_one` is the whole job for one return: it validates (with the LA's code and last year's return when
the layout gives them), writes that return's reports and gives back a small summary (plain data, so it crosses
process and machine boundaries). :func:`validate_many` runs it for every return on a pool of processes or on Dask;
any other engine that can call a Python function on each item of a list can run :func:`validate_one` the same way
(docs/performance.md).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

from .api import validate_request
from .errors import RulesError, UsageError, problem_of
from .ingest.loader import InputError
from .outputs.csv_out import csv_text
from .regional import LAReturn
from .regional import returns_in as returns_in  # where --each found its returns before regional batches
from .reports import SUMMARY_STEM as SUMMARY_STEM  # the summary's names are validator.reports'
from .reports import batch_plan, la_report_stem, summary_file, write_files, write_result  # as for one return
from .request import ReportPlan, RunRequest
from .result import Result

SUMMARY_COLUMNS = [
    "return",
    "status",
    "errors",
    "queries",
    "notices",
    "rules_crashed",
    "problem",
    "reports",
    "la",
    "return_type",
    "year",
]
RULE_COLUMNS = ["return", "la", "rule", "severity", "count"]
SCHEDULERS = ("processes", "dask")


@dataclass(frozen=True)
class BatchJob:
    """One return to validate and where its reports go: plain data, as a front door describes a run (it crosses
    process and machine boundaries)."""

    request: RunRequest  # the return: its inputs, LA and previous years, with the batch's return, year, rules, ...
    plan: ReportPlan  # its reports: one file per format into plan.output_dir, as ``stem``.<extension>
    stem: str  # the reports' file name without extension

    def __post_init__(self) -> None:
        if self.plan.output_dir is None:
            raise ValueError("a batch job writes its reports into a folder: its plan needs an output_dir")

    @property
    def name(self) -> str:
        """The return, as the batch's summary names it: its inputs."""
        return " ".join(self.request.inputs)


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
    la: str | None = None
    return_type: str = ""
    year: str = ""
    # findings by rule and severity: {"rule", "severity", "count"}, by rule code
    rules: list[dict[str, object]] = field(default_factory=list)
    # the preview's headline figures: {"id", "label", "group", "value" (a number or None), "shown" (as reports show it)}
    figures: list[dict[str, object]] = field(default_factory=list)


def validate_one(job: BatchJob) -> BatchOutcome:
    """Validate one return and write its reports; a return that cannot be read gives status 2 and the reason."""
    request, plan = job.request, job.plan
    try:
        result = validate_request(request)
    except Exception as exc:  # the one place a return's problem is caught: it never stops the others
        problem = problem_of(exc)
        if isinstance(problem, (UsageError, RulesError)):
            return BatchOutcome(job.name, 2, problem=str(problem), la=request.la)
        return BatchOutcome(job.name, 2, problem=f"unexpected problem: {type(exc).__name__}: {exc}", la=request.la)
    assert plan.output_dir is not None  # every job has its folder (BatchJob checks)
    written = [str(p) for p in write_result(result, plan.output_dir, job.stem, plan)]
    return BatchOutcome(
        job.name,
        result.exit_status(plan.fail_on),
        errors=result.count("error"),
        queries=result.count("query"),
        notices=result.count("notice"),
        rules_crashed=sum(1 for r in result.rules if r.status == "crashed"),
        reports=written,
        la=request.la,
        return_type=result.return_type or "",
        year=result.context.year or "",
        rules=rule_counts(result),
        figures=headline_figures(result),
    )


def rule_counts(result: Result) -> list[dict[str, object]]:
    """The confirmed findings counted by rule and severity, by rule code."""
    counts = Counter(result.findings.rows("code", "severity"))
    return [{"rule": code, "severity": sev, "count": n} for (code, sev), n in sorted(counts.items())]


def headline_figures(result: Result) -> list[dict[str, object]]:
    """The preview's headline measures of the return, exact (as the Figures part of the reports shows them)."""
    from .preview import Convention, figures_of
    from .preview.render import figure_rows

    preview = result.figures if result.figures_source is not None else figures_of(result)  # worked out once
    if preview is None:
        return []
    rows = figure_rows(preview, Convention(raw=True))
    return [
        {"id": m.id, "label": m.label, "group": m.group, "value": _finite(m.value), "shown": row.value}
        for m, row in zip(preview.measures, rows, strict=True)
    ]


def _finite(value: float | None) -> float | None:
    """A figure for JSON and CSV: None for one that could not be worked out (never NaN, which JSON cannot hold)."""
    return value if value is not None and math.isfinite(value) else None


def jobs_for(
    returns: Sequence[Path | LAReturn],
    output_dir: Path,
    *,
    request: RunRequest | None = None,
    plan: ReportPlan | None = None,
) -> list[BatchJob]:
    """One job per return, with report names made from the LA's code, else the return's name (made unique when
    two clash). A path is a return without an LA code or last year's return.

    Every return's request is ``request`` (its return, year, rules and reference files) with the return's own inputs,
    LA and previous years; its plan is ``plan``'s formats and fail-on (default: JSON reports, failing on errors), the
    reports written into ``output_dir`` (a batch neither splits nor redacts: :func:`validator.reports.batch_plan`)."""
    shared = request if request is not None else RunRequest(inputs=())
    job_plan = replace(batch_plan(plan if plan is not None else ReportPlan(formats=("json",))), output_dir=output_dir)
    jobs = []
    seen: set[str] = set()
    for entry in returns:
        found = entry if isinstance(entry, LAReturn) else LAReturn(None, (str(entry),))
        stem, n = la_report_stem(found.la, found.current), 2
        base = stem
        while stem.lower() in seen:
            stem, n = f"{base}-{n}", n + 1
        seen.add(stem.lower())
        own = replace(shared, inputs=found.current, la=found.la, previous=found.previous)
        jobs.append(BatchJob(own, job_plan, stem))
    return jobs


def parse_scheduler(text: str) -> tuple[str, str | None]:
    """``processes``, ``dask`` (a local cluster) or ``dask:ADDRESS`` (a running scheduler) as (kind, address)."""
    kind, sep, address = text.strip().partition(":")
    kind = kind.lower()
    if kind not in SCHEDULERS or (sep and (kind != "dask" or not address.strip())):
        raise ValueError(
            f"'{text}' is not a scheduler: use processes, dask, or dask:ADDRESS (e.g. dask:tcp://host:8786)"
        )
    return kind, address.strip() or None


def validate_many(
    jobs: Sequence[BatchJob],
    workers: int = 1,
    done: Callable[[BatchOutcome], None] | None = None,
    scheduler: str = "processes",
    address: str | None = None,
    *,
    dask_processes: bool = True,
    timeout: float | None = None,
) -> list[BatchOutcome]:
    """Run :func:`validate_one` for every job; results in job order.

    ``scheduler`` "processes": on ``workers`` local processes (1: in this process). "dask": on the Dask scheduler at
    ``address``, or on a local cluster of ``workers`` workers (``dask_processes=False``: threads of this process, one
    each). ``timeout``: the longest wait for any one return, in seconds (None: no limit).
    """
    if workers > 1 or scheduler == "dask":  # the returns share the CPUs: each one's rules in one process
        jobs = [replace(job, request=replace(job.request, processes=1)) for job in jobs]
    if scheduler == "dask":
        return _on_dask(jobs, workers, done, address, dask_processes, timeout)
    if scheduler != "processes":
        raise ValueError(f"unknown scheduler {scheduler!r}")
    if workers <= 1 or len(jobs) <= 1:
        outcomes = []
        for job in jobs:
            outcomes.append(validate_one(job))
            if done is not None:
                done(outcomes[-1])
        return outcomes
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return _collect(jobs, [pool.submit(validate_one, job) for job in jobs], done, timeout)


class _Pending(Protocol):
    """A job's outcome to come: a concurrent.futures or a Dask future."""

    def result(self, timeout: float | None = None) -> BatchOutcome: ...


def _collect(
    jobs: Sequence[BatchJob],
    futures: Sequence[_Pending],
    done: Callable[[BatchOutcome], None] | None,
    timeout: float | None,
) -> list[BatchOutcome]:
    """The futures' outcomes in job order; a worker that died gives its return status 2, not the batch a crash."""
    outcomes = []
    for job, future in zip(jobs, futures, strict=True):
        try:
            outcome = future.result(timeout=timeout)
        except Exception as exc:
            problem = f"the worker validating it failed: {type(exc).__name__}: {exc}"
            outcome = BatchOutcome(job.name, 2, problem=problem, la=job.request.la)
        outcomes.append(outcome)
        if done is not None:
            done(outcome)
    return outcomes


def _on_dask(
    jobs: Sequence[BatchJob],
    workers: int,
    done: Callable[[BatchOutcome], None] | None,
    address: str | None,
    processes: bool,
    timeout: float | None,
) -> list[BatchOutcome]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--scheduler dask needs Dask: pip install 'csc-validator[dask]'") from None
    if address is not None:
        try:
            client = Client(address, timeout="30s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        with client:
            return _collect(jobs, client.map(validate_one, list(jobs), pure=False), done, timeout)
    # Loopback only, no dashboard: a local cluster is reachable from this computer alone.
    with (
        LocalCluster(
            n_workers=max(1, min(workers, len(jobs))),
            threads_per_worker=1,
            processes=processes,
            host="127.0.0.1" if processes else None,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        return _collect(jobs, client.map(validate_one, list(jobs), pure=False), done, timeout)


def write_summary(outcomes: Sequence[BatchOutcome], output_dir: Path) -> list[Path]:
    """The summary across returns, in the output folder: summary.json (everything), summary.csv (one line per
    return, its headline figures side by side as ``figure:ID`` columns), summary-rules.csv (findings by return, rule
    and severity) and summary.html (all of it on one page)."""
    from .outputs.batch_html import render_summary_html

    summary = (json.dumps({"returns": [asdict(o) for o in outcomes]}, indent=1) + "\n").encode("utf-8")
    figure_ids = list(dict.fromkeys(str(f["id"]) for o in outcomes for f in o.figures))
    lines: list[list[object]] = []
    for o in outcomes:
        values = {str(f["id"]): f["value"] for f in o.figures}
        cells = [o.name, o.status, o.errors, o.queries, o.notices, o.rules_crashed, o.problem, ";".join(o.reports)]
        lines.append([*cells, o.la or "", o.return_type, o.year, *(_number(values.get(i)) for i in figure_ids)])
    header = SUMMARY_COLUMNS + [f"figure:{i}" for i in figure_ids]
    by_rule = [[o.name, o.la or "", r["rule"], r["severity"], r["count"]] for o in outcomes for r in o.rules]
    return write_files(
        [
            (output_dir / summary_file("json"), summary),
            (output_dir / summary_file("csv"), csv_text([header, *lines]).encode("utf-8")),
            (output_dir / summary_file("csv", "rules"), csv_text([RULE_COLUMNS, *by_rule]).encode("utf-8")),
            (output_dir / summary_file("html"), render_summary_html(outcomes).encode("utf-8")),
        ]
    )


def _number(value: object) -> object:
    """A figure for the CSV: whole numbers without ".0", nothing for a figure that could not be worked out."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def batch_status(outcomes: Sequence[BatchOutcome]) -> int:
    """2 when a return could not be read, else 1 when any return failed, else 0."""
    statuses = {o.status for o in outcomes}
    return 2 if 2 in statuses else 1 if 1 in statuses else 0
