"""Working days (England and Wales bank holidays) and ages, at the boundaries that matter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from validator.engine import calendar


def d(text: str) -> pd.Series:
    return pd.Series(pd.to_datetime([text], format="%d/%m/%Y"))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("20/12/2024", "27/12/2024", 3),  # 23, 24, 27 December: Christmas Day and Boxing Day are holidays
        ("24/12/2024", "24/12/2024", 0),  # the start day is not counted
        ("24/12/2024", "25/12/2024", 0),  # Christmas Day is not a working day
        ("17/04/2025", "22/04/2025", 1),  # Good Friday 18/04 and Easter Monday 21/04 are holidays: only 22/04
        ("28/03/2025", "31/03/2025", 1),  # Friday to Monday 31 March: only the Monday
        ("31/03/2025", "01/04/2025", 1),  # across the end of the collection year
        ("01/04/2025", "31/03/2025", -1),  # backwards gives a negative count
    ],
)
def test_working_days(start: str, end: str, expected: int) -> None:
    assert calendar.working_days(d(start), d(end)).iloc[0] == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        ("31/03/2025", -14, "11/03/2025"),  # 31 March 2025 is a Monday: day 1; the 15th working day back
        ("31/03/2024", -14, "08/03/2024"),  # Sunday 31/03/2024 rolls back past Good Friday 29/03 to Thursday 28/03
        ("24/12/2024", 1, "27/12/2024"),  # over Christmas
        ("25/12/2024", 0, "27/12/2024"),  # a holiday moves forward to the next working day
    ],
)
def test_add_working_days(day: str, n: int, expected: str) -> None:
    result = calendar.add_working_days(d(day), n).iloc[0]
    assert result.strftime("%d/%m/%Y") == expected


def test_bank_holidays_come_from_the_holidays_package_for_any_year() -> None:
    calendar.bank_holidays.cache_clear()
    first = calendar.bank_holidays()  # from the package, or from the cache an earlier test filled
    calendar.bank_holidays.cache_clear()
    np.testing.assert_array_equal(calendar.bank_holidays(), first)
    np.testing.assert_array_equal(first, calendar._package_bank_holidays())
    days = set(calendar.bank_holidays().astype("datetime64[D]").astype(str))
    assert "2026-12-25" in days and "2035-12-25" in days
    assert "2024-03-29" in days  # Good Friday 2024
    assert "2024-07-12" not in days  # Northern Ireland only: not an England and Wales holiday


@pytest.mark.parametrize(
    ("dob", "at", "years"),
    [
        ("29/02/2008", "28/02/2026", 17),
        ("29/02/2008", "01/03/2026", 18),  # leap-day birthdays fall on 1 March in other years
        ("29/02/2008", "29/02/2024", 16),
        ("01/04/2010", "31/03/2025", 14),
        ("01/04/2010", "01/04/2025", 15),
    ],
)
def test_age(dob: str, at: str, years: int) -> None:
    assert calendar.age(d(dob), d(at)).iloc[0] == years


def test_birthday_of_a_leap_day_child() -> None:
    assert calendar.birthday(d("29/02/2008"), 18).iloc[0].strftime("%d/%m/%Y") == "01/03/2026"
    assert calendar.birthday(d("29/02/2008"), 16).iloc[0].strftime("%d/%m/%Y") == "29/02/2024"
    assert calendar.birthday(d("15/06/2008"), 18).iloc[0].strftime("%d/%m/%Y") == "15/06/2026"


def test_add_months_is_what_pandas_date_offset_gives() -> None:
    """Month ends clipped (31/01 + 1 month = 28 or 29/02; 29/02 + 12 months = 28/02), times of day kept, NaT kept,
    back and forth, against DateOffset on every step from -30 to 30 months of dates around month ends."""
    days = pd.date_range("1999-01-25", "2001-03-05", freq="D")
    values = np.concatenate([days.to_numpy(), [np.datetime64("NaT"), np.datetime64("2024-01-31T13:45:00", "ns")]])
    for months in range(-30, 31):
        got = calendar.add_months(values, np.full(len(values), months))
        expected = (pd.Series(values) + pd.DateOffset(months=months)).to_numpy()
        assert got is not None
        np.testing.assert_array_equal(got, expected)
    leap = np.array(["2024-02-29", "2024-01-31"], dtype="datetime64[ns]")
    assert calendar.add_months(leap, np.array([12, 1])).astype(str).tolist() == [
        "2025-02-28T00:00:00.000000000",
        "2024-02-29T00:00:00.000000000",
    ]


def test_add_months_beyond_a_timestamp_is_left_to_pandas() -> None:
    assert calendar.add_months(np.array(["2262-03-01"], dtype="datetime64[ns]"), np.array([2])) is None
    assert calendar.add_months(np.array(["1677-10-01"], dtype="datetime64[ns]"), np.array([-1])) is None


def test_birthdays_ages_and_day_counts_are_what_numpy_and_pandas_casts_give() -> None:
    """The whole-number calendar (days since 1970 to year, month, day and back) against numpy's datetime64 casts
    and pandas' day counts, on random dates and times across the range a timestamp holds, missing ones included."""
    rng = np.random.default_rng(16)
    first, last = np.datetime64("1678-01-01", "D").astype("int64"), np.datetime64("2261-12-31", "D").astype("int64")
    values = rng.integers(first, last, 20_000).astype("datetime64[D]").astype("datetime64[ns]")
    values += (rng.integers(0, 86_400, len(values)) * 10**9 * (rng.random(len(values)) < 0.3)).astype("m8[s]")
    values[rng.random(len(values)) < 0.05] = np.datetime64("NaT")
    days = values.astype("datetime64[D]")
    year, month, day, known = calendar._year_month_day(values)
    np.testing.assert_array_equal(year[known], days[known].astype("datetime64[Y]").astype("int64") + 1970)
    np.testing.assert_array_equal(month[known], days[known].astype("datetime64[M]").astype("int64") % 12 + 1)
    np.testing.assert_array_equal(day[known], (days[known] - days[known].astype("datetime64[M]")).astype("int64") + 1)
    np.testing.assert_array_equal(calendar._from_civil(year, month, day)[known], days[known].astype("int64"))
    recent = values[(values > np.datetime64("1850-01-01")) & (values < np.datetime64("2100-01-01")) | np.isnat(values)]
    later = recent[rng.permutation(len(recent))]  # differences a timedelta holds (under 292 years)
    expected = (pd.Series(later) - pd.Series(recent)).dt.days.astype("Int64")
    pd.testing.assert_series_equal(pd.Series(calendar.days_between(recent, later)), expected)
    far_apart = np.array(["1678-01-01", "2261-01-01"], dtype="datetime64[ns]")
    assert calendar.days_between(far_apart[:1], far_apart[1:]) is None  # left to pandas, which says it overflows
