"""The preview's measures: one figure with its numerator and denominator, shown by DfE's publication conventions.

Kinds of measure:
- ``count``: a number of children, episodes or events; ``value`` and ``numerator`` are the count.
- ``percent``: 100 * numerator / denominator (blank when the denominator is 0).
- ``mean_days``: numerator (total days) / denominator (children); blank when there are no children.
- ``mean``: an average score (the SDQ): numerator (total) / denominator (children).
- ``rate``: per 10,000 children: 10,000 * numerator (children) / denominator (the population aged 0 to 17).

``decimals``: the places DfE publishes the figure to (percentages, days and most rates: whole numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

KINDS = ("count", "percent", "mean_days", "mean", "rate")
MEANS = ("mean_days", "mean")  # the numerator is a total, not a number of children
PER = 10_000  # rates are per 10,000 children
SUPPRESSED = "c"  # DfE's symbol for a figure withheld to protect confidentiality
SMALL = 5  # counts from 1 to SMALL are suppressed


@dataclass
class Measure:
    id: str
    label: str
    group: str
    kind: str
    numerator: float | None = None
    denominator: float | None = None
    note: str = ""  # why the measure could not be worked out, or a caveat
    # children whose place in the figure rests on history the return does not hold (see HISTORY_NOTE)
    history_unknown: int | None = None
    history_note: str = ""  # the returns that would settle it, in the words of unconfirmed findings
    decimals: int = 0
    # filled in by compare.compare() when a previous year is given
    previous: float | None = None
    previous_numerator: float | None = None
    previous_denominator: float | None = None
    change: float | None = None
    change_percent: float | None = None
    flag: str = ""

    @property
    def value(self) -> float | None:
        return measure_value(self.kind, self.numerator, self.denominator)


def measure_value(kind: str, numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None:
        return None
    if kind == "count":
        return float(numerator)
    if denominator is None or denominator == 0:
        return None
    if kind == "percent":
        return 100.0 * numerator / denominator
    if kind == "rate":
        return PER * numerator / denominator
    return numerator / denominator


def count(id: str, label: str, group: str, n: int | None, note: str = "") -> Measure:
    return Measure(id, label, group, "count", None if n is None else float(n), None, note)


def percent(id: str, label: str, group: str, num: int | None, den: int | None, note: str = "") -> Measure:
    return Measure(
        id, label, group, "percent", None if num is None else float(num), None if den is None else float(den), note
    )


def mean_days(id: str, label: str, group: str, days: pd.Series | None, note: str = "") -> Measure:
    """The mean of ``days`` (one value per child; blanks left out)."""
    if days is None:
        return Measure(id, label, group, "mean_days", None, None, note)
    known = days.dropna().astype("float64")
    return Measure(id, label, group, "mean_days", float(known.sum()), float(len(known)), note)


HISTORY_NOTE = (
    "children whose care history starts before the data supplied (first episode not RNE S): "
    "earlier years' returns would settle whether and how they count"
)


def mean(id: str, label: str, group: str, values: pd.Series, decimals: int = 1) -> Measure:
    """The mean of ``values`` (one per child; blanks left out), e.g. an average score."""
    known = values.dropna().astype("float64")
    return Measure(id, label, group, "mean", float(known.sum()), float(len(known)), decimals=decimals)


def rate(id: str, label: str, group: str, n: int | None, population: float | None, decimals: int = 0) -> Measure:
    """``n`` children per 10,000 of ``population`` (children aged 0 to 17)."""
    num = None if n is None else float(n)
    return Measure(id, label, group, "rate", num, population, decimals=decimals)


def unavailable(id: str, label: str, group: str, kind: str, why: str) -> Measure:
    return Measure(id, label, group, kind, None, None, why)


@dataclass(frozen=True)
class Convention:
    """How figures are shown. ``raw``: exact figures (internal use). Otherwise DfE's conventions: counts of 1 to 5
    shown as c, percentages and averages whose numerator or denominator is 1 to 5 shown as c, percentages and
    averages to whole numbers, and counts rounded to the nearest ``round_to`` (1: not rounded)."""

    raw: bool = False
    round_to: int = 1

    def count(self, n: float | None) -> float | str | None:
        if n is None or (isinstance(n, float) and math.isnan(n)):
            return None
        if self.raw:
            return int(n) if float(n).is_integer() else n
        if 0 < n <= SMALL:
            return SUPPRESSED
        return int(_round_half_up(n / self.round_to) * self.round_to)

    def value(self, m: Measure) -> float | str | None:
        v = m.value
        if m.kind == "count":
            return self.count(v)
        if v is None:
            return None
        if self.raw:
            return round(v, max(1, m.decimals + 1))
        if _suppressed(m, m.numerator, m.denominator):
            return SUPPRESSED
        return _round_half_up(v, m.decimals)

    def numerator(self, m: Measure) -> float | str | None:
        if m.kind in MEANS:  # a total (days, scores): a sum, not a count of children
            return None if m.numerator is None else (m.numerator if self.raw else self._total(m))
        return self.count(m.numerator)

    def denominator(self, m: Measure, previous: bool = False) -> float | str | None:
        """The denominator as shown: a population (rates) is not a count of children and is not suppressed."""
        n = m.previous_denominator if previous else m.denominator
        if m.kind == "rate":
            return None if n is None else int(n)
        return self.count(n)

    def _total(self, m: Measure) -> float | str | None:
        return SUPPRESSED if _small(m.denominator) else _round_half_up(m.numerator or 0, 0)

    def change(self, m: Measure, percent: bool = False) -> float | str | None:
        """The change from last year (percent: as a share of last year's figure); c where either year's figure
        is suppressed."""
        value = m.change_percent if percent else m.change
        if value is None:
            return None
        if self.raw:
            return round(value, max(1, m.decimals + 1))
        if SUPPRESSED in (self.value(m), self.previous(m)):
            return SUPPRESSED
        return _round_half_up(value, 0 if percent else m.decimals)

    def previous(self, m: Measure) -> float | str | None:
        return self.value(_shadow(m))


def _shadow(m: Measure) -> Measure:
    """Last year's figures of ``m`` as a measure of their own."""
    return Measure(m.id, m.label, m.group, m.kind, m.previous_numerator, m.previous_denominator, decimals=m.decimals)


def _suppressed(m: Measure, numerator: float | None, denominator: float | None) -> bool:
    """DfE's rule for a derived figure: withheld when the children it is built on number 1 to 5 (for an average,
    the children averaged; for a rate, the children counted, the population being public)."""
    if m.kind in MEANS:
        return _small(denominator)
    if m.kind == "rate":
        return _small(numerator)
    return _small(numerator) or _small(denominator)


def _small(n: float | None) -> bool:
    return n is not None and 0 < n <= SMALL


def _round_half_up(x: float, decimals: int = 0) -> float:
    """Rounded half up (DfE's convention, not Python's round half to even); whole numbers as int."""
    scale = 10**decimals
    rounded = math.floor(x * scale + 0.5) / scale
    return int(rounded) if decimals == 0 else rounded


@dataclass
class Preview:
    """A return as DfE will hold it (``tables``), the headline measures, and notes about what could not be done."""

    return_type: str
    year: str
    la: str | None
    tables: dict[str, pd.DataFrame]
    measures: list[Measure]
    notes: list[str] = field(default_factory=list)
    previous_year: str | None = None

    def measure(self, id: str) -> Measure:
        for m in self.measures:
            if m.id == id:
                return m
        raise KeyError(id)

    def measures_frame(self, convention: Convention | None = None) -> pd.DataFrame:
        """One row per measure (the tidy CSV): exact figures, or shown by ``convention``."""
        conv = convention or Convention(raw=True)
        rows = []
        for m in self.measures:
            rows.append(
                {
                    "measure": m.id,
                    "value": conv.value(m),
                    "numerator": conv.numerator(m),
                    "denominator": conv.denominator(m),
                    "previous": conv.previous(m) if self.previous_year else None,
                    "change": conv.change(m),
                    "flag": m.flag,
                    "label": m.label,
                    "group": m.group,
                    "kind": m.kind,
                    "previous_numerator": _prev_num(conv, m) if self.previous_year else None,
                    "previous_denominator": conv.denominator(m, previous=True) if self.previous_year else None,
                    "change_percent": conv.change(m, percent=True),
                    "history_unknown": conv.count(m.history_unknown) if m.history_unknown else None,
                    "note": _note(m),
                }
            )
        return pd.DataFrame(rows, columns=MEASURE_COLUMNS)


def _note(m: Measure) -> str:
    """The measure's note, with the caveat about unknown history when some children's inclusion rests on it."""
    caveat = f"history_unknown: {history_text(m)}" if m.history_unknown else ""
    return "; ".join(text for text in (m.note, caveat) if text)


def history_text(m: Measure) -> str:
    """The caveat about children whose history is unknown (their number is shown apart, by the convention)."""
    return f"{HISTORY_NOTE}. {m.history_note}" if m.history_note else HISTORY_NOTE


def _prev_num(conv: Convention, m: Measure) -> float | str | None:
    return conv.numerator(_shadow(m))


MEASURE_COLUMNS = [
    "measure",
    "value",
    "numerator",
    "denominator",
    "previous",
    "change",
    "flag",
    "label",
    "group",
    "kind",
    "previous_numerator",
    "previous_denominator",
    "change_percent",
    "history_unknown",
    "note",
]
