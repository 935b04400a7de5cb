"""Dates arithmetic the rules use: ages, birthdays, working days with England and Wales bank holidays.

Conventions (also in docs/rules.md):
- age(dob, at): whole years completed on ``at``. A 29 February birthday falls on 1 March in other years
  (the UK legal convention), so someone born 29/02/2008 turns 18 on 01/03/2026.
- birthday(dob, n): the date of the n-th birthday under the same convention.
- working days are Monday to Friday except England and Wales bank holidays (``holidays`` package, subdivision ENG).
- working_days(a, b): the working days after ``a`` up to and including ``b`` (the start day is not counted);
  negative when ``b`` is before ``a``.
- add_working_days(d, n): when ``d`` is not a working day it first moves to the nearest working day in the
  direction of travel (that day is day 0), then moves ``n`` working days. So "the 15th working day before
  31 March, counting 31 March as day 1 when it is a working day" is add_working_days(reference_date, -14).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

HOLIDAY_YEARS = range(1985, 2051)


@cache
def bank_holidays() -> np.ndarray:
    """England and Wales bank holidays of HOLIDAY_YEARS, from the ``holidays`` package; kept in the user's cache
    (signed, per version of the package), since importing the package takes longer than the checks that use it."""
    from importlib.metadata import PackageNotFoundError, version

    from ..cache import read_signed, write_signed

    try:
        name = f"bank-holidays-{version('holidays')}-{HOLIDAY_YEARS.start}-{HOLIDAY_YEARS.stop}.days"
    except PackageNotFoundError:  # run from a source tree without the package's metadata: no cache
        return _package_bank_holidays()
    cached = read_signed(name)
    if cached is not None and len(cached) % 8 == 0:
        return np.frombuffer(cached, dtype="datetime64[D]").copy()
    days = _package_bank_holidays()
    write_signed(name, days.tobytes(), replaces="bank-holidays-*.days")
    return days


def _package_bank_holidays() -> np.ndarray:
    import holidays  # only when a working-days function runs and the cache has not got them

    days = holidays.country_holidays("GB", subdiv="ENG", years=HOLIDAY_YEARS)
    return np.array(sorted(days.keys()), dtype="datetime64[D]")


def _days(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    values = pd.to_datetime(series).to_numpy(dtype="datetime64[D]")
    return values, ~np.isnat(values)


def working_days(start: pd.Series, end: pd.Series) -> pd.Series:
    a, ok_a = _days(start)
    b, ok_b = _days(end)
    ok = ok_a & ok_b
    out = np.zeros(len(a), dtype="int64")
    one = np.timedelta64(1, "D")
    out[ok] = np.busday_count(a[ok] + one, b[ok] + one, holidays=bank_holidays())
    return pd.Series(out, index=start.index, dtype="Int64").where(ok)


def add_working_days(day: pd.Series, n: int | pd.Series) -> pd.Series:
    values, ok = _days(day)
    steps = np.broadcast_to(np.asarray(n.to_numpy() if isinstance(n, pd.Series) else n, dtype="int64"), values.shape)
    out = np.full(values.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    forward = ok & (steps >= 0)
    backward = ok & (steps < 0)
    hols = bank_holidays()
    if forward.any():
        out[forward] = np.busday_offset(values[forward], steps[forward], roll="forward", holidays=hols)
    if backward.any():
        out[backward] = np.busday_offset(values[backward], steps[backward], roll="backward", holidays=hols)
    return pd.Series(out.astype("datetime64[ns]"), index=day.index)


def is_working_day(day: pd.Series) -> pd.Series:
    values, ok = _days(day)
    out = np.zeros(len(values), dtype=bool)
    out[ok] = np.is_busday(values[ok], holidays=bank_holidays())
    return pd.Series(out, index=day.index)


def birthday(dob: pd.Series, years: int | pd.Series) -> pd.Series:
    """Date of the n-th birthday; 29 February birthdays fall on 1 March in non-leap years."""
    dob = pd.to_datetime(dob)
    days = dob.to_numpy(dtype="datetime64[D]")
    if isinstance(years, pd.Series):
        n = pd.to_numeric(years).to_numpy(dtype="float64", na_value=np.nan)
    else:
        n = np.full(len(days), float(years))
    ok = ~np.isnat(days) & ~np.isnan(n)
    month_start = days.astype("datetime64[M]")
    year = days.astype("datetime64[Y]").astype("int64") + 1970
    month = month_start.astype("int64") % 12  # 0 for January
    day = (days - month_start).astype("int64")  # 0 for the 1st
    target = year + np.where(ok, n, 0).astype("int64")
    ok &= (target > 1677) & (target < 2262)  # the dates a timestamp can hold
    target_leap = (target % 4 == 0) & ((target % 100 != 0) | (target % 400 == 0))
    moved = (month == 1) & (day == 28) & ~target_leap  # 29 February in a year without one: 1 March
    month = np.where(moved, 2, month)
    day = np.where(moved, 0, day)
    start = (np.where(ok, target, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + month
    out = start.astype("datetime64[D]") + day
    out = np.where(ok, out, np.datetime64("NaT")).astype("datetime64[ns]")
    return pd.Series(out, index=dob.index)


def age(dob: pd.Series, at: pd.Series) -> pd.Series:
    """Whole years completed on ``at`` (see the 29 February convention above); missing where either date is."""
    dob_year, dob_month, dob_day, dob_ok = _year_month_day(pd.to_datetime(dob).to_numpy())
    at_year, at_month, at_day, at_ok = _year_month_day(pd.to_datetime(at).to_numpy())
    at_leap = (at_year % 4 == 0) & ((at_year % 100 != 0) | (at_year % 400 == 0))
    moved = (dob_month == 2) & (dob_day == 29) & ~at_leap  # a 29 February birthday is 1 March in other years
    dob_month = np.where(moved, 3, dob_month)
    dob_day = np.where(moved, 1, dob_day)
    before = (at_month < dob_month) | ((at_month == dob_month) & (at_day < dob_day))
    years = at_year - dob_year - before
    ok = dob_ok & at_ok
    return pd.Series(pd.arrays.IntegerArray(np.where(ok, years, 0), ~ok), index=dob.index)


def _year_month_day(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The year, month (1-12) and day (1-31) of each date (meaningless where it is missing), and where it is not."""
    days = values.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = days.astype("datetime64[Y]").astype("int64") + 1970
    month = months.astype("int64") % 12 + 1
    day = (days - months).astype("int64") + 1
    return year, month, day, ~np.isnat(days)


# The dates a timestamp can hold, a day inside each end: a shifted date beyond them is left to pandas (which raises).
_FIRST_DAY = np.datetime64("1677-09-22", "D")
_LAST_DAY = np.datetime64("2262-04-10", "D")


def add_months(values: np.ndarray, months: np.ndarray) -> np.ndarray | None:
    """Each date (datetime64[ns], NaT where missing) ``months`` calendar months later (earlier if negative; int64,
    one per date), the day kept or, past the end of the month, its last day, and the time of day kept: what pandas'
    ``DateOffset(months=n)`` gives. None when a date would be beyond what a timestamp can hold."""
    days = values.astype("datetime64[D]")
    month = days.astype("datetime64[M]")
    day = (days - month.astype("datetime64[D]")).astype("int64")  # 0 for the 1st
    target = month + months
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype("int64")
    shifted = first + np.minimum(day, length - 1)
    known = ~np.isnat(shifted)
    if ((shifted[known] < _FIRST_DAY) | (shifted[known] > _LAST_DAY)).any():
        return None
    return shifted.astype("datetime64[ns]") + (values - days.astype("datetime64[ns]"))
