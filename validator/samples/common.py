"""What both returns' generators share: the invented borough, code weights, date and UPN helpers, the random stream.

Dates: ``add_years`` is the engine's ``add_years`` convention (29 February becomes 28 February); ages and UPN
check letters are worked out by the engine itself (``engine.calendar.age``, ``engine.functions.upn_check_letter``),
once per return over all children, so the random stream is untouched. ``add_weekdays`` differs from the engine's
working days on purpose: it skips weekends only, not bank holidays (the samples have always been made that way).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from types import SimpleNamespace

from ..years import collection_start, year_containing

DAY = dt.timedelta(days=1)

# The borough the samples pretend to come from (its ONS code, its old three-digit LA number).
LA_CODE = "E09000027"
LA_NUMBER = "318"

# Real postcodes (areas, not addresses): in the borough, in three neighbouring boroughs, and further away.
OWN_POSTCODES = (
    "SW13 0WA",
    "SW13 8QZ",
    "SW13 9NU",
    "SW13 9NZ",
    "SW13 9SE",
    "SW14 7JB",
    "TW1 1BN",
    "TW1 1FF",
    "TW1 1JT",
    "TW1 2WU",
    "TW1 3AN",
    "TW1 4BZ",
    "TW1 4HG",
    "TW1 4LA",
    "TW10 6DH",
    "TW10 6HB",
    "TW10 6UF",
    "TW10 6XB",
    "TW11 0AZ",
    "TW11 0RX",
    "TW11 8DZ",
    "TW11 9SR",
    "TW12 1EG",
    "TW12 2XZ",
    "TW12 3DQ",
    "TW12 3WZ",
    "TW2 6HZ",
    "TW2 6WE",
    "TW9 2UG",
    "TW9 4LQ",
)
NEAR_POSTCODES = (
    "TW13 5LH",
    "TW2 5WY",
    "TW3 4EL",
    "TW4 5EJ",
    "TW7 4AQ",
    "TW8 0BS",
    "TW8 8FJ",
    "TW8 9AP",
    "KT1 9NF",
    "KT2 5HW",
    "KT2 6EN",
    "KT3 6AH",
    "KT6 4DE",
    "KT6 4SF",
    "KT9 1AJ",
    "SW15 3PS",
    "SW11 9PZ",
    "SW15 1PW",
    "SW15 2RB",
    "SW16 6DR",
    "SW17 0HA",
    "SW17 9SL",
    "SW18 1FD",
    "SW19 5LP",
)
FAR_POSTCODES = ("B12 0PS", "B15 2AZ", "B28 8JJ", "B3 2PW", "B31 4EG", "B42 9GZ", "B5 4UG", "B5 7YN")

# Three-digit LA numbers used in UPNs (the borough, its neighbours, one further away).
UPN_LA_NUMBERS = (LA_NUMBER,) * 6 + ("313", "314", "212", "330")
# The letters a UPN may start with (DfE's check-letter alphabet), for injecting a wrong one.
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"

ETHNICITY = {
    "WBRI": 52,
    "WIRI": 1,
    "WOTH": 6,
    "WIRT": 1,
    "WROM": 1,
    "MWBC": 4,
    "MWBA": 2,
    "MWAS": 2,
    "MOTH": 4,
    "AIND": 2,
    "APKN": 2,
    "ABAN": 1,
    "AOTH": 3,
    "BCRB": 3,
    "BAFR": 6,
    "BOTH": 3,
    "CHNE": 1,
    "OOTH": 4,
    "REFU": 1,
    "NOBT": 1,
}
UASC_ETHNICITY = {"OOTH": 25, "AOTH": 20, "BAFR": 30, "BOTH": 10, "WOTH": 10, "MOTH": 5}

INJECTED_COLUMNS = ("child", "table", "field", "error", "original", "injected", "description")

Row = list[str]
Tables = dict[str, list[Row]]


_DMY: dict[dt.date, str] = {}


def dmy(day: dt.date | None) -> str:
    """dd/mm/yyyy, or '' for no date (cached: the same dates recur across millions of cells)."""
    if day is None:
        return ""
    text = _DMY.get(day)
    if text is None:
        text = _DMY[day] = f"{day.day:02d}/{day.month:02d}/{day.year}"
    return text


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year (as the engine's add_years)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_weekdays(day: dt.date, count: int) -> dt.date:
    """``count`` weekdays after ``day`` (bank holidays are not skipped, unlike the engine's working days)."""
    while count > 0:
        day += DAY
        if day.weekday() < 5:
            count -= 1
    return day


def weekday_on_or_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= DAY
    return day


def previous_year(year: str) -> str:
    """The collection year before ``year`` (2023_24 for 2024_25)."""
    return year_containing(collection_start(year) - DAY)


def ages(dobs: Sequence[dt.date], on: dt.date) -> list[int]:
    """Each child's age in whole years on ``on``, by the engine's ``calendar.age``."""
    import pandas as pd

    from ..engine.calendar import age

    born = pd.Series(pd.to_datetime(list(dobs)), dtype="datetime64[ns]")
    return [int(years) for years in age(born, pd.Series(pd.Timestamp(on), index=born.index))]


def with_check_letters(bodies: Sequence[str]) -> list[str]:
    """Each 12-digit UPN body with its check letter in front, by the engine's ``upn_check_letter``."""
    import pandas as pd

    from ..engine.functions import upn_check_letter

    upns = pd.Series([f"?{body}" for body in bodies], dtype="object")
    letters = upn_check_letter(SimpleNamespace(frame=pd.DataFrame(index=upns.index)), upns)
    return [f"{letter}{body}" for letter, body in zip(letters, bodies, strict=True)]


def upn_body(la: str, school: str, dob: dt.date, rng: random.Random) -> str:
    """The 12 digits after a UPN's check letter: LA number, school type, school, year of entry, serial."""
    return f"{la}{school}{rng.randint(0, 999):03d}{(dob.year + 5) % 100:02d}{rng.randint(0, 999):03d}"


class Rand(random.Random):
    """random.Random with the few draws the generators use."""

    def date(self, first: dt.date, last: dt.date) -> dt.date:
        """A day from ``first`` to ``last`` inclusive (``first`` when the range is empty)."""
        span = (last - first).days
        return first + dt.timedelta(days=self.randint(0, span)) if span > 0 else first

    def pick(self, weights: dict[str, float]) -> str:
        """A key of ``weights``, drawn in proportion to its value."""
        left = self.random() * sum(weights.values())
        for key, weight in weights.items():
            left -= weight
            if left < 0:
                return key
        return key

    def chance(self, p: float) -> bool:
        return self.random() < p


def error_children(count: int, errors: float, rng: random.Random) -> list[int]:
    """Positions of the children who get one injected mistake each (at least one when errors > 0)."""
    if errors <= 0 or count == 0:
        return []
    wanted = min(count, max(1, round(errors * count)))
    return sorted(rng.sample(range(count), wanted))
