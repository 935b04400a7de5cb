"""Small helpers the preview's measures and tables share: the collection year's window, ages, table access."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..dataset import PREVIOUS, ROW, Dataset
from ..engine.calendar import age
from ..ingest.typed import empty_frame


@dataclass(frozen=True)
class Window:
    """The collection year: ``start`` (1 April) to ``end`` (31 March), both days included; ``reference`` the census
    date (31 March, or the CIN header's ReferenceDate)."""

    start: pd.Timestamp
    end: pd.Timestamp
    reference: pd.Timestamp

    def contains(self, dates: pd.Series) -> pd.Series:
        return (dates >= self.start) & (dates <= self.end)


def window(dataset: Dataset) -> Window:
    ctx = dataset.context
    return Window(
        pd.Timestamp(ctx.collection_start), pd.Timestamp(ctx.collection_end), pd.Timestamp(ctx.reference_date)
    )


def table(dataset: Dataset, name: str) -> pd.DataFrame | None:
    """The typed frame of a table of the current year, or None when the return has no such table."""
    found = dataset.tables.get(name)
    return None if found is None else _complete(dataset, name, found.df)


def history(dataset: Dataset, name: str) -> list[pd.DataFrame]:
    """The frames of ``name`` in the previous years' returns given with the dataset, most recent first."""
    frames = []
    for key, found in dataset.tables.items():
        if key.startswith(f"{name}{PREVIOUS}"):
            frames.append((key, _complete(dataset, name, found.df)))
    return [df for _, df in sorted(frames)]


def _complete(dataset: Dataset, name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The frame with every column of the data model: a column the files lacked is there, blank and typed."""
    model = empty_frame(dataset.schema.tables[name])
    missing = [c for c in model.columns if c not in df.columns]
    if not missing:
        return df
    blank = {c: pd.Series(pd.NA, index=df.index).astype(model[c].dtype) for c in missing}
    return df.assign(**blank)


def age_at(dob: pd.Series, day: pd.Timestamp) -> pd.Series:
    """Whole years completed on ``day`` (29 February birthdays fall on 1 March in other years)."""
    return age(dob, pd.Series(day, index=dob.index))


def days_between(a: pd.Series, b: pd.Series) -> pd.Series:
    """Calendar days from ``a`` to ``b`` (b - a), blank when either is blank."""
    return (b - a).dt.days.astype("Int64")


def ages_of(children: pd.Series, header: pd.DataFrame | None, key: str, dob: str, day: pd.Timestamp) -> pd.Series:
    """The age on ``day`` of each child in ``children`` (one value per row), from the DOB in ``header``."""
    if header is None or dob not in header:
        return pd.Series(pd.NA, index=children.index, dtype="Int64")
    return age_at(lookup(children, header, dob, key), day)


def lookup(keys: pd.Series, frame: pd.DataFrame, column: str, key: str = "CHILD") -> pd.Series:
    """``frame[column]`` of the row whose ``key`` is each of ``keys`` (the first such row), aligned to ``keys``."""
    values = frame.dropna(subset=[key]).drop_duplicates(key).set_index(key)[column]
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


def flag(condition: pd.Series) -> pd.Series:
    """Y / N text for a derived yes-no column (blank where unknown)."""
    values = condition.astype("boolean")
    return values.map({True: "Y", False: "N"}).astype("string")


__all__ = [
    "ROW",
    "Window",
    "age_at",
    "ages_of",
    "days_between",
    "flag",
    "history",
    "lookup",
    "table",
    "window",
]
