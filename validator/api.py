"""The library entry point: the CLI is a thin layer over :func:`validate`."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .dataset import Dataset
from .engine.model import Rule, load_rules, rules_for
from .engine.runner import TableStore, run_rule
from .findings import STOPPING_CODES, FindingTable
from .ingest.loader import InputError, load_return
from .processes import auto_processes, run_tasks
from .reference.postcodes import open_postcode_lookup
from .request import RunRequest
from .result import Result, RuleStatus

# Called as progress(stage, done, total): ("read", 0, 0) before the files are read, then ("rules", n, total)
# after each rule. The command line draws a progress bar from it on a terminal.
Progress = Callable[[str, int, int], None]


def report_figures(dataset: Dataset) -> Any:
    """The headline figures of the reports (:func:`validator.preview.report_figures`), which a Result works out when
    a report first asks: the preview package is imported only then, not to validate."""
    from .preview import report_figures as figures

    return figures(dataset)


def run_rules(
    dataset: Dataset,
    rules: Sequence[Rule] | None = None,
    *,
    progress: Progress | None = None,
    processes: int | None = None,
) -> Result:
    """Run the rules of the dataset's return and year (or the ones given) and collect the result.

    ``processes``: how many processes run the rules (forked children of this one, Linux only; see
    :mod:`validator.processes`). None: two for a large return on a machine with two or more CPUs, else one.
    """
    chosen = list(rules) if rules is not None else rules_for(dataset.return_type, dataset.context.year)
    store = TableStore(dataset)
    stopped = sorted({f.code for f in dataset.findings if f.code in STOPPING_CODES})
    if processes is None:
        processes = auto_processes(sum(len(t.df) for t in dataset.tables.values()))
    count = 0

    def done() -> None:
        nonlocal count
        count += 1
        if progress is not None:  # at most all: a rule a failed child had finished is run again, and counted twice
            progress("rules", min(count, len(chosen)), len(chosen))

    # On two processes, each takes rules from one end of this order: rules on the same tables next to each other, so
    # that what they share (a column's distinct values, a table's orders) is mostly worked out in one process.
    order = sorted(range(len(chosen)), key=lambda i: (chosen[i].table, sorted(chosen[i].tables_used)))

    def outcome(i: int) -> tuple[str, str, FindingTable]:
        found = run_rule(chosen[order[i]], store)
        return found.status, found.reason, found.findings

    if stopped:  # the data is not the return the options describe: its findings would be noise
        reason = f"the run was stopped before the rules: {', '.join(stopped)}"
        outcomes = [("not_run", reason, FindingTable())] * len(chosen)
        for _ in chosen:
            done()
    else:
        by_rule = dict(zip(order, run_tasks(len(chosen), outcome, processes, done), strict=True))
        outcomes = [by_rule[i] for i in range(len(chosen))]
    statuses = [
        RuleStatus(
            rule.code,
            status,
            reason,
            len(findings) - int(findings.unconfirmed_mask.sum()),
            rule.severity,
            rule.message,
            tuple(rule.fields),
        )
        for rule, (status, reason, findings) in zip(chosen, outcomes, strict=True)
    ]
    return Result(
        dataset.return_type,
        dataset.context,
        dataset.inputs,
        statuses,
        FindingTable.concat([FindingTable.of(dataset.findings), *(findings for _, _, findings in outcomes)]),
        dataset=dataset,
        figures_source=report_figures,
    )


def validate(
    paths: Sequence[str | Path],
    *,
    return_type: str | None = None,
    year: str | None = None,
    la: str | None = None,
    previous: Sequence[str | Path | Sequence[str | Path]] = (),
    rules: Sequence[str] | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    postcodes: str | Path | None = None,
    providers: Sequence[str | Path] = (),
    no_data: Sequence[str] | None = None,
    change_log: bool = False,
    processes: int | None = None,
) -> Result:
    """Validate one return.

    ``paths``: files or folders of the current year's return. ``previous``: one entry per earlier year
    (most recent first), each a file, a folder, or a list of files. ``rules``: only these codes.
    ``postcodes``: an ONS Postcode Directory (or NSPL) file, CSV or zip, for the rules about placement
    postcodes; without it the postcode packages are used when installed (see docs/postcodes.md).
    ``providers``: Ofsted provider lists (children's homes, social care providers, or the combined list; xlsx
    or CSV) for the rules about URNs (SSDA903 219, 221, 224, 227, 228, 229, 1008); see docs/providers.md.
    ``no_data``: the cell texts that mean "no data" in Excel workbooks, read as blank (default:
    ``validator.ingest.xlsx_reader.NO_DATA_TOKENS``; see docs/excel.md). ``change_log``: the dataset lists every
    value and header reading changed, for the change log of its DfE-ready files (``convert.dfe_zip``).
    ``processes``: how many processes run the rules (see :func:`run_rules`; None: decided by the return's size).
    Raises :class:`validator.ingest.loader.InputError` when the inputs cannot be used at all.
    """
    if progress is not None:
        progress("read", 0, 0)
    if not previous and not providers and not change_log:  # one large CIN XML file: validated in pieces
        from .chunked import validate_in_pieces

        found = validate_in_pieces(
            paths, return_type=return_type, year=year, la=la, rules=rules, today=today, postcodes=postcodes,
            run=run_rules, choose=choose_rules, figures=report_figures, progress=progress, processes=processes,
        )  # fmt: skip
        if found is not None:
            return found
    prev = [[p] if isinstance(p, (str, Path)) else list(p) for p in previous]
    dataset = load_return(
        list(paths),
        return_type=return_type,
        year=year,
        la=la,
        previous=prev,
        today=today,
        no_data=no_data,
        log_changes=change_log,
        processes=processes,
        while_reading=_load_rules_quietly,
    )
    dataset.postcodes = open_postcode_lookup(postcodes)
    if providers:
        add_providers(dataset, providers)
    chosen = choose_rules(dataset.return_type, dataset.context.year, rules)
    return run_rules(dataset, chosen, progress=progress, processes=processes)


def _load_rules_quietly(return_type: str) -> None:
    """The return's compiled rules loaded (and kept: load_rules is cached) while the second process may still be
    reading last year's return, a wait otherwise. A problem with them is said where the rules are chosen."""
    with contextlib.suppress(Exception):
        load_rules(return_type)


def validate_request(request: RunRequest, *, progress: Progress | None = None, today: dt.date | None = None) -> Result:
    """Validate the return a front door's :class:`validator.request.RunRequest` describes (see :func:`validate`)."""
    return validate(
        request.inputs,
        return_type=request.return_type,
        year=request.year,
        la=request.la,
        previous=request.previous,
        rules=list(request.rules) if request.rules is not None else None,
        today=today,
        progress=progress,
        postcodes=request.postcodes,
        providers=list(request.providers),
        no_data=list(request.no_data) if request.no_data is not None else None,
        change_log=request.change_log,
        processes=request.processes,
    )


def choose_rules(return_type: str, year: str, codes: Sequence[str] | None) -> list[Rule]:
    """The return's rules for the year; only those of ``codes`` when given. A code that no rule of the return
    and year has is an InputError naming it: a typo must not give a run that checked nothing."""
    chosen = rules_for(return_type, year)
    if codes is None:
        return chosen
    wanted = {c.strip().upper(): c.strip() for c in codes if c.strip()}
    unknown = [given for code, given in wanted.items() if code not in {r.code.upper() for r in chosen}]
    if unknown or not wanted:
        named = ", ".join(unknown) if unknown else "none"
        raise InputError(
            f"--rules: no {return_type} rule for {year} has the code(s) {named} "
            f"(see: python -m validator rules list --return {return_type} --year {year})"
        )
    return [r for r in chosen if r.code.upper() in wanted]


def add_providers(dataset: Dataset, paths: Sequence[str | Path]) -> None:
    """Read the Ofsted provider lists into the dataset's ProviderInfo table (SSDA903 only)."""
    from .reference.providers import TABLE as PROVIDERS_TABLE
    from .reference.providers import read_providers

    if PROVIDERS_TABLE not in dataset.schema.tables:
        raise InputError(f"--providers is for SSDA903 returns; this is a {dataset.return_type} return")
    read = read_providers(list(paths), dataset.context.year)
    dataset.findings.extend(read.findings)
    dataset.inputs.extend(read.inputs)
    if read.table is not None:
        dataset.tables[PROVIDERS_TABLE] = read.table
