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
    days, ok = _epoch_days(dob.to_numpy())
    if isinstance(years, pd.Series):
        n = pd.to_numeric(years).to_numpy(dtype="float64", na_value=np.nan)
    else:
        n = np.full(len(days), float(years))
    ok &= ~np.isnan(n)
    year, month, day = _civil(days)
    target = year + np.where(ok, n, 0).astype("int64")
    ok &= (target > 1677) & (target < 2262)  # the dates a timestamp can hold
    moved = (month == 2) & (day == 29) & ~_leap(target)  # 29 February in a year without one: 1 March
    out = _from_civil(np.where(ok, target, 1970), np.where(moved, 3, month), np.where(moved, 1, day))
    return pd.Series(_as_dates(out, ok), index=dob.index)


def age(dob: pd.Series, at: pd.Series) -> pd.Series:
    """Whole years completed on ``at`` (see the 29 February convention above); missing where either date is."""
    dob_year, dob_month, dob_day, dob_ok = _year_month_day(pd.to_datetime(dob).to_numpy())
    at_year, at_month, at_day, at_ok = _year_month_day(pd.to_datetime(at).to_numpy())
    moved = (dob_month == 2) & (dob_day == 29) & ~_leap(at_year)  # a 29 February birthday is 1 March in other years
    dob_month = np.where(moved, 3, dob_month)
    dob_day = np.where(moved, 1, dob_day)
    before = (at_month < dob_month) | ((at_month == dob_month) & (at_day < dob_day))
    years = at_year - dob_year - before
    ok = dob_ok & at_ok
    return pd.Series(pd.arrays.IntegerArray(np.where(ok, years, 0), ~ok), index=dob.index)


def _year_month_day(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The year, month (1-12) and day (1-31) of each date (meaningless where it is missing), and where it is not."""
    days, ok = _epoch_days(values)
    year, month, day = _civil(days)
    return year, month, day, ok


# Dates as whole numbers: days since 1 January 1970 and the proleptic Gregorian calendar's year, month and day,
# converted by integer arithmetic on whole arrays (H. Hinnant's days_from_civil and civil_from_days), a few
# nanoseconds a date, where numpy's casts between datetime64 units cost tens.
def _epoch_days(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of datetime64 values (the day they fall on), and where they are not NaT."""
    days = values.astype("datetime64[D]")
    return days.view("int64"), ~np.isnat(days)


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The year, month (1-12) and day (1-31) of each day number (anything, where it is NaT's)."""
    z = np.where(days == np.iinfo("int64").min, 0, days) + 719_468
    era = z // 146_097
    doe = z - era * 146_097  # day of the 400-year era, 0-146096
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365  # year of the era, 0-399
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)  # day of the year from 1 March, 0-365
    mp = (5 * doy + 2) // 153  # month from March, 0-11
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The day number of each (year, month 1-12, day) given."""
    year = year - (month <= 2)
    era = year // 400
    yoe = year - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def _leap(year: np.ndarray) -> np.ndarray:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def _as_dates(days: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Day numbers as datetime64[ns] dates, NaT where not ``ok``."""
    out = np.where(ok, days, 0).astype("datetime64[D]").astype("datetime64[ns]")
    out[~ok] = np.datetime64("NaT")
    return out


# The dates a timestamp can hold, a day inside each end: a shifted date beyond them is left to pandas (which raises).
_FIRST_DAY = np.datetime64("1677-09-22", "D").astype("int64")
_LAST_DAY = np.datetime64("2262-04-10", "D").astype("int64")
_NS_PER_DAY = 86_400 * 10**9


def add_months(values: np.ndarray, months: np.ndarray) -> np.ndarray | None:
    """Each date (datetime64[ns], NaT where missing) ``months`` calendar months later (earlier if negative; int64,
    one per date), the day kept or, past the end of the month, its last day, and the time of day kept: what pandas'
    ``DateOffset(months=n)`` gives. None when a date would be beyond what a timestamp can hold."""
    days, ok = _epoch_days(values)
    year, month, day = _civil(days)
    total = year * 12 + month - 1 + months
    year, month = total // 12, total % 12 + 1
    length = _from_civil(year + (month == 12), month % 12 + 1, np.ones_like(month)) - _from_civil(year, month, 1)
    shifted = _from_civil(year, month, np.minimum(day, length))
    if ((shifted[ok] < _FIRST_DAY) | (shifted[ok] > _LAST_DAY)).any():
        return None
    time_of_day = values.view("int64") - days * _NS_PER_DAY
    out = np.where(ok, shifted * _NS_PER_DAY + time_of_day, 0).view("datetime64[ns]")
    out[~ok] = np.datetime64("NaT")
    return out


def days_between(start: np.ndarray, end: np.ndarray) -> pd.api.extensions.ExtensionArray | None:
    """Whole days from each ``start`` to its ``end`` (datetime64[ns]; a part of a day rounded down, as a
    Timedelta's ``days``), missing where either is NaT; None when a difference is beyond what a timedelta holds."""
    first, last = start.view("int64"), end.view("int64")
    missing = np.isnat(start) | np.isnat(end)
    difference = last - first  # wraps around where it overflows: found below, and left to pandas
    if (((first ^ last) & (last ^ difference)) < 0)[~missing].any():
        return None
    return pd.arrays.IntegerArray(np.where(missing, 0, difference // _NS_PER_DAY), missing)
