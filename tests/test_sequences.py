"""validator/engine/sequences.py against straightforward pandas (sort_values, groupby) on random frames.

The module works on numpy segments; these property tests check that every sequence function and group_reduce
give exactly what the pandas versions give (values, dtype, index, missing-value kind) for groups of one record,
ties in the order keys, missing keys and values, empty frames, text (str and object), dates and numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pytest

from validator.engine.sequences import Sequence, group_reduce

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------ the pandas reference (plain)
class Reference:
    """The sequence functions written with pandas sort_values and groupby, as the engine had them."""

    def __init__(self, frame: pd.DataFrame, by: tuple[str, ...], order: tuple[str, ...]) -> None:
        self.order, self.groups_sorted = self.ordering(frame, by, order)
        self.index = frame.index
        self.runs_sorted: np.ndarray | None = None

    @staticmethod
    def ordering(frame: pd.DataFrame, by: tuple[str, ...], order: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        keys = list(by) + list(order)
        ordered = frame.sort_values(keys, na_position="last", kind="stable") if keys and len(frame) else frame
        if by:
            groups = ordered.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
        else:
            groups = np.zeros(len(ordered), dtype="int64")
        return ordered.index.to_numpy(), groups

    def _back(self, values: np.ndarray | pd.Series, dtype: Any = None) -> pd.Series:
        out = pd.Series(values.to_numpy() if isinstance(values, pd.Series) else values, index=self.order, dtype=dtype)
        return out.reindex(self.index)

    def set_runs(self, continues: pd.Series) -> None:
        flags = continues.reindex(self.order).fillna(False).to_numpy(dtype=bool)
        first_in_group = np.ones(len(flags), dtype=bool)
        first_in_group[1:] = self.groups_sorted[1:] != self.groups_sorted[:-1]
        self.runs_sorted = np.cumsum(~flags | first_in_group)

    def run_transform(self, x: pd.Series, how: str) -> pd.Series:
        ordered = x.reindex(self.order).reset_index(drop=True)
        keep = x.dtype if how in ("min", "max", "first", "last") else None
        return self._back(ordered.groupby(self.runs_sorted).transform(how), dtype=keep)

    def shift(self, x: pd.Series, n: int) -> pd.Series:
        ordered = x.reindex(self.order).reset_index(drop=True)
        shifted = ordered.groupby(self.groups_sorted, sort=False).shift(n)
        kept = object if x.dtype == object else None  # text stays objects, as the column was
        return self._back(shifted, dtype=x.dtype if x.dtype.kind in "Mb" else kept)

    def position(self) -> pd.Series:
        pos = pd.Series(np.ones(len(self.order), dtype="int64")).groupby(self.groups_sorted, sort=False).cumsum() - 1
        return self._back(pos)

    def group_size(self) -> pd.Series:
        ones = pd.Series(np.ones(len(self.order), dtype="int64"))
        return self._back(ones.groupby(self.groups_sorted, sort=False).transform("sum"))

    def transform(self, x: pd.Series, how: str) -> pd.Series:
        ordered = x.reindex(self.order).reset_index(drop=True)
        reduced = ordered.groupby(self.groups_sorted).transform(how)
        return self._back(reduced, dtype=x.dtype if how in ("min", "max") else None)

    def at_position(self, x: pd.Series, first: bool) -> pd.Series:
        ordered = x.reindex(self.order).to_numpy()
        positions = pd.Series(np.arange(len(self.order))).groupby(self.groups_sorted, sort=False)
        picked = positions.transform("first" if first else "last").to_numpy()
        return self._back(ordered[picked], dtype=x.dtype)


# ------------------------------------------------------------------------------------------- random frames
DAYS = [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02"), pd.Timestamp("2021-06-30"), pd.Timestamp("1999-12-31")]
TEXT = ["A", "B", "a", "b1", "", "Ä", "z", "A\x00", "10", "9"]
MISSING = [None, np.nan]


def _column(draw: Any, kind: str, n: int) -> pd.Series:
    """A column of ``n`` values of one kind, drawn from a small pool (ties) with missing values."""
    pools: dict[str, tuple[list[Any], Any]] = {
        "object": (TEXT + MISSING, object),
        "str": (TEXT + MISSING, "str"),
        "date": ([*DAYS, pd.NaT], "datetime64[ns]"),
        "int": ([0, 1, 2, -3, 40], "int64"),
        "float": ([0.5, 0.1, -2.0, 1e17, np.nan, np.inf, -np.inf], "float64"),
        "whole": ([0.0, 1.0, -2.0, 7.0, np.nan], "float64"),
        "Int64": ([0, 1, 2, -3, None], "Int64"),
        "bool": ([True, False], bool),
        "boolean": ([True, False, None], "boolean"),
        "Float64": ([0.5, 0.1, 1e17, -1e17, None], "Float64"),
    }
    pool, dtype = pools[kind]
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=n, max_size=n))
    return pd.Series([pool[i] for i in picks], dtype=dtype)


VALUE_KINDS = ["object", "str", "date", "int", "float", "whole", "Int64", "bool", "boolean", "Float64"]
KEY_KINDS = ["object", "str", "date", "int", "float", "Int64", "bool"]


@st.composite
def frames(draw: Any) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """A frame with group keys, order keys and value columns; index a range, shuffled numbers or text labels."""
    n = draw(st.integers(0, 24))
    children = draw(st.integers(1, 6))
    child = pd.Series(
        [f"C{i}" if i < children else None for i in draw(st.lists(st.integers(0, children), min_size=n, max_size=n))],
        dtype=draw(st.sampled_from([object, "str"])),
    )
    columns: dict[str, pd.Series] = {"CHILD": child}
    for kind in VALUE_KINDS:
        columns[f"v_{kind}"] = _column(draw, kind, n)
    for i, kind in enumerate(draw(st.lists(st.sampled_from(KEY_KINDS), min_size=0, max_size=2))):
        columns[f"k{i}_{kind}"] = _column(draw, kind, n)
    frame = pd.DataFrame(columns)
    index_kind = draw(st.sampled_from(["range", "shuffled", "text"]))
    if index_kind == "shuffled":
        frame.index = pd.Index(draw(st.permutations(list(range(100, 100 + n)))), dtype="int64")
    elif index_kind == "text":
        frame.index = pd.Index([f"r{i}" for i in range(n)], dtype=object)
    keys = [c for c in frame.columns if c.startswith("k")]
    by = draw(st.sampled_from([("CHILD",), (), ("CHILD", *keys[:1])]))
    order = tuple(keys) if keys else draw(st.sampled_from([(), ("v_date",), ("v_date", "v_str")]))
    return frame, by, order


def _same(got: Callable[[], pd.Series], expected: Callable[[], pd.Series]) -> None:
    """The two give equal series (dtype, index, and the kind of each missing value), or fail alike."""
    try:
        want = expected()
    except (TypeError, ValueError, IndexError, NotImplementedError) as error:
        with pytest.raises(type(error)):
            got()
        return
    have = got()
    pd.testing.assert_series_equal(have, want, check_index_type=True, check_exact=True)
    if want.dtype == object:
        assert [type(v) for v in have] == [type(v) for v in want]


# -------------------------------------------------------------------------------------------------- tests
@given(frames())
def test_ordering_matches_sort_values_and_ngroup(case: tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]) -> None:
    frame, by, order = case
    labels, groups = Sequence.ordering(frame, by, order)
    ref_labels, ref_groups = Reference.ordering(frame, by, order)
    assert labels.tolist() == ref_labels.tolist()
    assert groups.tolist() == ref_groups.tolist()
    assert groups.dtype == ref_groups.dtype


@pytest.mark.parametrize("kind", VALUE_KINDS)
@given(frames())
def test_sequence_functions_match_pandas(
    kind: str, case: tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]
) -> None:
    frame, by, order = case
    seq, ref = Sequence(frame, by, order), Reference(frame, by, order)
    x = frame[f"v_{kind}"]
    _same(seq.position, ref.position)
    _same(seq.group_size, ref.group_size)
    for n in (1, -1, 2):
        _same(partial(seq.shift, x, n), partial(ref.shift, x, n))
    for first in (True, False):
        _same(partial(seq.at_position, x, first), partial(ref.at_position, x, first))
    for how in ("min", "max", "sum"):
        _same(partial(seq.transform, x, how), partial(ref.transform, x, how))


@pytest.mark.parametrize("kind", VALUE_KINDS)
@given(frames(), st.sampled_from(["v_bool", "v_boolean"]))
def test_runs_match_pandas(
    kind: str, case: tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]], continues: str
) -> None:
    frame, by, order = case
    seq, ref = Sequence(frame, by, order), Reference(frame, by, order)
    seq.set_runs(frame[continues])
    ref.set_runs(frame[continues])
    assert seq.runs_sorted is not None and ref.runs_sorted is not None
    assert seq.runs_sorted.tolist() == ref.runs_sorted.tolist()
    x = frame[f"v_{kind}"]
    for how in ("min", "max", "sum", "first", "last"):
        _same(partial(seq.run_transform, x, how), partial(ref.run_transform, x, how))


@given(frames())
def test_a_known_ordering_gives_the_same_results(case: tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]) -> None:
    frame, by, order = case
    known = Sequence(frame, by, order, known=Reference.ordering(frame.copy(), by, order))
    ref = Reference(frame, by, order)
    _same(known.position, ref.position)
    _same(lambda: known.shift(frame["v_date"], 1), lambda: ref.shift(frame["v_date"], 1))


@pytest.mark.parametrize("kind", VALUE_KINDS)
@pytest.mark.parametrize("how", ["min", "max", "sum"])
@given(st.data(), st.booleans())
def test_group_reduce_matches_groupby(kind: str, how: str, data: Any, in_order: bool) -> None:
    n = data.draw(st.integers(0, 30))
    values = _column(data.draw, kind, n)
    values.index = pd.RangeIndex(5, 5 + n)
    values.name = data.draw(st.sampled_from([None, "x"]))
    groups = np.array(data.draw(st.lists(st.integers(0, 7), min_size=n, max_size=n)), dtype="int64")
    if in_order:
        groups = np.sort(groups)
    _same(lambda: group_reduce(values, groups, how), lambda: values.groupby(groups).agg(how))
    _same(lambda: group_reduce(values, groups, how, transform=True), lambda: values.groupby(groups).transform(how))


def test_ties_keep_the_records_order_and_missing_keys_sort_last() -> None:
    frame = pd.DataFrame(
        {
            "CHILD": ["B", "A", None, "A", "B", "A"],
            "DECOM": pd.to_datetime(["2020-01-02", None, "2020-01-01", "2020-01-01", "2020-01-02", "2020-01-01"]),
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    labels, groups = Sequence.ordering(frame, ("CHILD",), ("DECOM",))
    assert labels.tolist() == [13, 15, 11, 10, 14, 12]
    assert groups.tolist() == [0, 0, 0, 1, 1, 2]


def test_text_minimum_and_maximum_are_by_codepoint() -> None:
    values = pd.Series(["b", "B", "Ä", None, "A\x00", "A"], dtype="str")
    groups = np.array([0, 0, 0, 1, 2, 2])
    assert group_reduce(values, groups, "min").tolist() == ["B", np.nan, "A"]
    assert group_reduce(values, groups, "max").tolist() == ["Ä", np.nan, "A\x00"]
