"""Preview the DfE output of a return before submission: the tables DfE will hold, the headline measures it will
publish, and, given last year's return, the change in each measure (docs/preview.md).

    from validator.ingest.loader import load_return
    from validator.preview import build_preview, previous_dataset

    dataset = load_return(["extract/"], previous=[["last-year/"]])
    preview = build_preview(dataset, previous_dataset(dataset))
    preview.measures_frame()            # one row per measure
    preview.tables["Episodes"]          # the episodes with the derived columns
"""

from __future__ import annotations

from ..dataset import PREVIOUS, Context, Dataset
from ..result import Result
from ..years import collection_end, previous_year
from .compare import compare
from .measures_903 import measures_903
from .measures_cin import measures_cin
from .model import Convention, Measure, Preview, rate
from .population import Population, load_population
from .tables import transformed_tables


def measures(dataset: Dataset) -> list[Measure]:
    """The headline measures of one return (its own year)."""
    return measures_903(dataset) if dataset.return_type == "ssda903" else measures_cin(dataset)


# The counts DfE also publishes as a rate per 10,000 children aged 0 to 17, and the places it gives them to.
RATED = {
    "ssda903": (("cla_31_march", "cla_started", "cla_ceased"), 0),
    "cin": (
        (
            "referrals",
            "assessments",
            "cin_31_march",
            "cin_during_year",
            "s47_enquiries",
            "icpc",
            "cpp_started",
            "cpp_31_march",
        ),
        1,
    ),
}


def rates(found: list[Measure], population: Population, dataset: Dataset) -> list[Measure]:
    """Each rated count of ``found`` per 10,000 children of ``population`` in the dataset's year (none when the
    file has no estimate for that year), placed after its count."""
    children = population.for_year(dataset.context.year)
    ids, decimals = RATED[dataset.return_type]
    out: list[Measure] = []
    for m in found:
        out.append(m)
        if m.id in ids and children is not None and m.numerator is not None:
            label = f"{m.label}: rate per 10,000 children aged under 18"
            out.append(rate(f"{m.id}_rate", label, m.group, int(m.numerator), children, decimals))
    return out


def build_preview(
    dataset: Dataset, previous_dataset: Dataset | None = None, population: Population | None = None
) -> Preview:
    """The preview of ``dataset``; with ``previous_dataset`` (last year's return) each measure gets last year's
    figure, the change and a flag (validator.preview.compare); with ``population`` (--population) the rates per
    10,000 children."""
    notes: list[str] = []
    tables = transformed_tables(dataset, notes)
    found = measures(dataset)
    if population is not None:
        found = rates(found, population, dataset)
        notes.append(f"rates per 10,000 children from {population.describe()}")
        if population.for_year(dataset.context.year) is None:
            notes.append(f"no rates: {population.describe()} has no estimate for mid-{dataset.context.year[:4]}")
    ctx = dataset.context
    if not any(name.startswith(f"Episodes{PREVIOUS}") for name in dataset.tables) and dataset.return_type == "ssda903":
        notes.append(
            "without last year's return (--previous) a period of care is known only from the episodes of this "
            "return: start dates of care and placements before 1 April may be too late (stability, adoption times)"
        )
    preview = Preview(dataset.return_type, ctx.year, ctx.la, tables, found, notes)
    if previous_dataset is not None:
        before = measures(previous_dataset)
        if population is not None:
            before = rates(before, population, previous_dataset)
            if population.for_year(previous_dataset.context.year) is None and any(m.kind == "rate" for m in found):
                notes.append(
                    f"last year's rates are not shown: {population.describe()} has no estimate for "
                    f"mid-{previous_dataset.context.year[:4]} (give population_YYYY columns for both years)"
                )
        compare(found, before)
        preview.previous_year = previous_dataset.context.year
    return preview


def previous_dataset(dataset: Dataset, n: int = 1) -> Dataset | None:
    """The ``n``-th previous year's return loaded with ``dataset`` (--previous), as a dataset of its own year whose
    own previous years are the ones after it; None when it was not given."""
    label = PREVIOUS if n == 1 else f"{PREVIOUS}{n}"
    if not any(name.endswith(label) for name in dataset.tables):
        return None
    year = previous_year(dataset.context.year, n)
    tables = {}
    for name, found in dataset.tables.items():
        base, sep, tail = name.partition(PREVIOUS)
        if not sep:
            continue
        later = int(tail or 1) - n  # this table's place relative to the previous year
        if later < 0:
            continue
        key = base if later == 0 else f"{base}{PREVIOUS}{'' if later == 1 else later}"
        tables[key] = found
    ctx = dataset.context
    reference = collection_end(year)
    header = tables.get("Header")
    if dataset.return_type == "cin" and header is not None and "ReferenceDate" in header.df and len(header.df):
        value = header.df["ReferenceDate"].iloc[0]
        if value == value and value is not None:  # not NaT
            reference = value.date()
    context = Context.of_year(ctx.return_type, year, ctx.la, reference)
    return Dataset(schema=dataset.schema, context=context, tables=tables, postcodes=dataset.postcodes)


def figures_of(result: Result) -> Preview | None:
    """The headline measures of a validation result's return (and last year's, when it was given), for the
    Figures part of the Excel and HTML reports; None when the result carries no dataset."""
    return None if result.dataset is None else report_figures(result.dataset)


def report_figures(dataset: Dataset) -> Preview:
    """The headline measures of ``dataset``'s return, beside last year's when it was given: what a Result's
    ``figures`` are (validator.api gives this function to the Result it makes)."""
    preview = Preview(dataset.return_type, dataset.context.year, dataset.context.la, {}, measures(dataset))
    last_year = previous_dataset(dataset)
    if last_year is not None:
        compare(preview.measures, measures(last_year))
        preview.previous_year = last_year.context.year
    return preview


__all__ = [
    "Convention",
    "Measure",
    "Population",
    "Preview",
    "build_preview",
    "figures_of",
    "load_population",
    "measures",
    "previous_dataset",
    "report_figures",
]
