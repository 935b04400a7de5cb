"""Year-on-year: each measure beside last year's, with a flag where it moved more than the thresholds below.

The thresholds (also in docs/preview.md) follow the spirit of DfE's plausibility queries, which ask an LA to
explain large changes from its previous return; they are the tool's, not DfE's published figures:
- counts: flagged when the change is at least 20% of last year's figure and at least 5 in absolute terms;
- percentages: flagged when the change is at least 10 percentage points, if both years' denominators are 10 or more;
- average days: flagged when the change is at least 20% and at least 30 days, if both years have 5 or more children;
- average scores: flagged when the change is at least 10% of last year's, if both years have 10 or more children;
- rates per 10,000: flagged when the change is at least 20% of last year's rate, if both years count 10 or more.
Flags are worked out on exact figures, whatever convention the figures are shown by.
"""

from __future__ import annotations

from .model import Measure, measure_value

COUNT_SHARE, COUNT_MIN = 0.20, 5
PERCENT_POINTS, PERCENT_MIN_BASE = 10.0, 10
DAYS_SHARE, DAYS_MIN, DAYS_MIN_BASE = 0.20, 30.0, 5
MEAN_SHARE, MEAN_MIN_BASE = 0.10, 10
RATE_SHARE, RATE_MIN_COUNT = 0.20, 10


def compare(current: list[Measure], previous: list[Measure]) -> None:
    """Fill each current measure's previous figures, change and flag from the same measure last year."""
    earlier = {m.id: m for m in previous}
    for m in current:
        before = earlier.get(m.id)
        if before is None:
            continue
        m.previous_numerator, m.previous_denominator = before.numerator, before.denominator
        m.previous = measure_value(m.kind, before.numerator, before.denominator)
        now = m.value
        if now is None or m.previous is None:
            continue
        m.change = now - m.previous
        m.change_percent = 100.0 * m.change / m.previous if m.previous else None
        m.flag = flag_for(m)


def flag_for(m: Measure) -> str:
    if m.change is None or m.previous is None:
        return ""
    big = False
    if m.kind == "count":
        big = abs(m.change) >= COUNT_MIN and (m.previous == 0 or abs(m.change) >= COUNT_SHARE * abs(m.previous))
    elif m.kind == "percent":
        bases = (m.denominator or 0, m.previous_denominator or 0)
        big = min(bases) >= PERCENT_MIN_BASE and abs(m.change) >= PERCENT_POINTS
    elif m.kind == "mean_days":
        bases = (m.denominator or 0, m.previous_denominator or 0)
        big = (
            min(bases) >= DAYS_MIN_BASE
            and abs(m.change) >= DAYS_MIN
            and (m.previous == 0 or abs(m.change) >= DAYS_SHARE * abs(m.previous))
        )
    elif m.kind == "mean":
        bases = (m.denominator or 0, m.previous_denominator or 0)
        big = min(bases) >= MEAN_MIN_BASE and abs(m.change) >= MEAN_SHARE * abs(m.previous) and m.change != 0
    elif m.kind == "rate":
        counts = (m.numerator or 0, m.previous_numerator or 0)
        big = min(counts) >= RATE_MIN_COUNT and abs(m.change) >= RATE_SHARE * abs(m.previous)
    if not big:
        return ""
    return "large increase" if m.change > 0 else "large decrease"
