"""What a run is, as plain frozen data: which return to validate (:class:`RunRequest`) and which reports to make of
it (:class:`ReportPlan`).

Every front door builds these: the command line from its options, the web app from its form, a batch from each
LA's folder or manifest line. The library takes them from there (``api.validate_request`` runs a request,
``validator.reports`` plans, checks and writes the reports of a plan), so a new run option is one field here, one
place that fills it in each front door, and one place that uses it.

Plain data only (strings, tuples, paths): a request crosses process and machine boundaries in a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .years import check_year

RETURN_ALIASES = {"903": "ssda903", "ssda903": "ssda903", "cla": "ssda903", "cin": "cin"}
FAIL_ON = ("error", "query")
KEY_ENV = "CSCVALIDATE_REDACT_KEY"  # where a plan's redaction key comes from without redact_key (validator.redact)


@dataclass(frozen=True)
class RunRequest:
    """One return to validate, with everything that says how."""

    inputs: tuple[str, ...]  # this year's files or folders
    previous: tuple[tuple[str, ...], ...] = ()  # last year's return (its files or folders), then older years
    return_type: str | None = None  # ssda903 or cin (None: recognised from the files)
    year: str | None = None  # the collection year, e.g. 2024_25 (None: worked out from the data)
    la: str | None = None  # the submitting LA's ONS code
    rules: tuple[str, ...] | None = None  # only these rule codes
    postcodes: str | None = None  # an ONS Postcode Directory or NSPL file
    providers: tuple[str, ...] = ()  # Ofsted provider lists
    population: str | None = None  # ONS mid-year population estimates (the preview's rates)
    no_data: tuple[str, ...] | None = None  # the cell texts read as blank in Excel workbooks (None: the default)
    change_log: bool = False  # list every value and header reading changes (the DfE-ready files' changes.csv)
    processes: int | None = None  # processes that run the rules (None: two for a large return, on Linux)

    def __post_init__(self) -> None:
        if self.year is not None:
            object.__setattr__(self, "year", check_year(self.year))  # the one place a request's year is checked

    @property
    def reference_files(self) -> tuple[str, ...]:
        """The reference files given: postcodes, providers, population."""
        return tuple(str(p) for p in (self.postcodes, *self.providers, self.population) if p is not None)

    @property
    def given_files(self) -> tuple[str, ...]:
        """Every path the request names: this year's, previous years' and the reference files (never written to)."""
        return (*self.inputs, *(p for year in self.previous for p in year), *self.reference_files)


@dataclass(frozen=True)
class ReportPlan:
    """Which reports to make of a run, and where they go."""

    formats: tuple[str, ...] = ("console",)
    output: Path | None = None  # one report, to this file
    output_dir: Path | None = None  # one file per format (and per split value) into this folder
    split_by: str | None = None  # one report per value of this column
    redact: bool = False  # pseudonymised reports
    redact_key: str | None = None  # the hashing key (None: from $KEY_ENV, else a random one)
    fail_on: str = "error"  # what fails the run: errors, or queries too

    @property
    def redacted(self) -> bool:
        return self.redact or bool(self.redact_key)

    @property
    def to_files(self) -> bool:
        return self.output is not None or self.output_dir is not None
