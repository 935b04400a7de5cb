"""Periods of care (derived POC_ID, POC_START, POC_END) against a plain Python reading of their definition."""

from __future__ import annotations

import numpy as np
import pandas as pd

from validator.engine.derived import periods_of_care


def _reference(episodes: pd.DataFrame) -> dict[int, tuple[int, pd.Timestamp, pd.Timestamp | None]]:
    """Episode position -> (period number, its first DECOM, the last episode's DEC), child by child."""
    out: dict[int, tuple[int, pd.Timestamp, pd.Timestamp | None]] = {}
    rows = [(i, r.CHILD, r.DECOM, r.DEC) for i, r in enumerate(episodes.itertuples()) if r.CHILD and pd.notna(r.DECOM)]
    for child in sorted({r[1] for r in rows}):
        mine = sorted(
            (r for r in rows if r[1] == child), key=lambda r: (r[2], pd.isna(r[3]), r[3] if pd.notna(r[3]) else 0)
        )
        periods: list[list[tuple]] = []
        for r in mine:
            if periods and (pd.isna(periods[-1][-1][3]) or r[2] <= periods[-1][-1][3]):
                periods[-1].append(r)
            else:
                periods.append([r])
        for number, period in enumerate(periods, start=1):
            end = period[-1][3]
            for r in period:
                out[r[0]] = (number, period[0][2], None if pd.isna(end) else end)
    return out


def test_periods_of_care_follow_their_definition_on_random_episodes() -> None:
    rng = np.random.default_rng(20241)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        decom = pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 30, n), unit="D"))
        dec = decom + pd.to_timedelta(rng.integers(-3, 10, n), unit="D")
        decom[rng.random(n) < 0.1] = pd.NaT
        dec[rng.random(n) < 0.3] = pd.NaT
        child = pd.Series(rng.choice(["A", "B", "C10", "C2"], n), dtype=object)
        child[rng.random(n) < 0.1] = None
        episodes = pd.DataFrame({"CHILD": child, "DECOM": decom.astype("datetime64[ns]"), "DEC": dec})
        got = periods_of_care(episodes, "CHILD")
        expected = _reference(episodes)
        for i in range(n):
            row = got.iloc[i]
            if i not in expected:
                assert pd.isna(row["POC_ID"]) and pd.isna(row["POC_START"]) and pd.isna(row["POC_END"])
                continue
            number, start, end = expected[i]
            assert (row["POC_ID"], row["POC_START"]) == (number, start)
            assert (pd.isna(row["POC_END"]) and end is None) or row["POC_END"] == end
        assert str(got["POC_ID"].dtype) == "Int64" and str(got["POC_START"].dtype) == "datetime64[ns]"
