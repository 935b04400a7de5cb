"""The evaluator's numpy path (engine/vectors.py) gives what its pandas path gives, and the run memo."""

from __future__ import annotations

import ast
import weakref

import numpy as np
import pandas as pd
import pytest

from validator.engine import vectors
from validator.engine.expr import as_bool, compare

OPS = [ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE]


def _columns(rng: np.random.Generator, n: int) -> list[pd.Series]:
    dates = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 4, n), unit="D"))
    dates[rng.random(n) < 0.3] = pd.NaT
    text = pd.Series(rng.choice(["A1", "B2", "b2", None], n), dtype=object)
    floats = pd.Series(rng.choice([1.0, 2.0, np.nan], n))
    ints = pd.Series(rng.integers(0, 3, n))
    nullable = pd.Series(pd.array(rng.choice([0, 1, 2], n), dtype="Int64"))
    nullable[rng.random(n) < 0.3] = pd.NA
    return [dates.astype("datetime64[ns]"), text, floats, ints, nullable]


def _pandas(op: type, left: object, right: object, index: pd.Index) -> np.ndarray:
    """The pandas path: the same comparison with every column a Series."""
    as_series = [pd.Series(v, index=index, dtype=v.dtype) if isinstance(v, np.ndarray) else v for v in (left, right)]
    return as_bool(compare(op, *as_series, index), index).to_numpy(dtype=bool)


@pytest.mark.parametrize("op", OPS)
def test_comparisons_on_arrays_equal_those_on_series(op: type) -> None:
    rng = np.random.default_rng(7)
    n = 60
    index = pd.RangeIndex(n)
    scalars = {"M": [pd.Timestamp("2024-01-02"), None], "O": ["B2", 3, None], "f": [1, 2.0, None], "i": [1, 1.5]}
    for column in _columns(rng, n):
        left = vectors.from_series(column)
        for other in _columns(np.random.default_rng(8), n):
            right = vectors.from_series(other)
            if isinstance(left, np.ndarray) and isinstance(right, np.ndarray) and left.dtype.kind != right.dtype.kind:
                continue  # pandas' own rules for mixed types are kept: not taken by the numpy path
            fast = vectors.compare(op, left, right)
            if fast is not None:
                np.testing.assert_array_equal(fast, _pandas(op, left, right, index))
        for scalar in scalars.get(column.dtype.kind, []):
            for pair in ((left, scalar), (scalar, left)):
                _same_answer_or_error(op, pair, index)


def _same_answer_or_error(op: type, pair: tuple[object, object], index: pd.Index) -> None:
    """Both paths give the same flags, or both raise the same error (text ordered against a number)."""
    try:
        expected: np.ndarray | str = _pandas(op, *pair, index)
    except TypeError as exc:
        expected = str(exc)
    try:
        fast = vectors.compare(op, *pair)
    except TypeError as exc:
        assert str(exc) == expected
        return
    if fast is not None:
        np.testing.assert_array_equal(fast, expected)


def test_membership_on_arrays_equals_pandas_isin() -> None:
    values = np.array(["A1", None, "B2", np.nan, "C3", "A1"], dtype=object)
    got = vectors.is_in(values, frozenset({"A1", "C3"}))
    series = pd.Series(values, dtype=object)
    np.testing.assert_array_equal(got, (series.isin(["A1", "C3"]) & series.notna()).to_numpy())


def test_the_memo_computes_once_per_column_and_keeps_apart_different_data() -> None:
    memo = vectors.Memo()
    calls: list[int] = []
    a = np.arange(5)
    b = np.arange(5)  # equal values, other memory: its own entry

    def compute(x: np.ndarray) -> np.ndarray:
        calls.append(1)
        return x * 2

    first = memo.get("double", [a], lambda: compute(a))
    again = memo.get("double", [a[:]], lambda: compute(a))  # a view of the same memory: the same data
    memo.get("double", [b], lambda: compute(b))
    memo.get("double", [a[1:]], lambda: compute(a[1:]))  # a part of it is other data
    assert again is first and len(calls) == 3
    memo.get("double", [[1, 2]], lambda: compute(a))  # a list has no identity: computed every time
    memo.get("double", [[1, 2]], lambda: compute(a))
    assert len(calls) == 5


def test_the_memo_lets_go_of_what_it_holds_past_its_budget() -> None:
    memo = vectors.Memo(budget=1000)
    big = [np.zeros(100) for _ in range(3)]  # 800 bytes each, and as much again for each result
    for array in big:
        memo.get("copy", [array], lambda a=array: a.copy())
    assert len(memo._entries) == 1


def test_the_memo_lets_go_of_the_least_recently_used_first() -> None:
    memo = vectors.Memo(budget=2500)
    arrays = [np.zeros(100) for _ in range(4)]  # each result 800 bytes: three fit
    for array in arrays[:3]:
        memo.get("copy", [array], lambda a=array: a.copy())
    memo.get("copy", [arrays[0]], lambda: pytest.fail("kept: not computed again"))  # the first, used again
    memo.get("copy", [arrays[3]], lambda: arrays[3].copy())  # lets go of the second, the least recently used
    kept = [vectors.identity(a) for a in arrays if ("copy", vectors.identity(a)) in memo._entries]
    assert kept == [vectors.identity(arrays[i]) for i in (0, 2, 3)]


def test_a_memo_entry_goes_with_its_column_and_holds_no_column_alive() -> None:
    memo = vectors.Memo()
    column = np.arange(1000.0)
    alive = weakref.ref(column)
    memo.get("double", [column], lambda c=column: c * 2)
    memo.get("plus", [column, 1], lambda c=column: c + 1)
    assert len(memo._entries) == 2 and memo._held == 2 * 8000  # only the results are counted
    del column
    assert alive() is None and not memo._entries and memo._held == 0


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("upper", ()),
        ("lower", ()),
        ("length", ()),
        ("matches", (r"[A-Z]\d+",)),
        ("startswith", ("A",)),
        ("substr", (1, 2)),
        ("replace", (" ", "")),
        ("to_date", ()),
        ("upn_check_letter", ()),
    ],
)
def test_text_functions_on_distinct_values_equal_them_on_every_value(name: str, extra: tuple) -> None:
    """A text function worked out on a column's distinct values, then spread, gives what it gives on every
    value: the same values, the same type, a missing value's answer where the value is missing."""
    from validator.engine.functions import FUNCTIONS

    fn = FUNCTIONS[name]
    assert fn.per_distinct
    rng = np.random.default_rng(11)
    pool = ["A12", "a12 ", "B7", "01/02/2024", "2024-02-01", "31/02/2024", "A123456789012", "X", "", None, np.nan]
    for n in (0, 1, 40):
        values = np.array([pool[i] for i in rng.integers(0, len(pool), n)], dtype=object)
        index = pd.RangeIndex(n)

        class Scope:
            frame = pd.DataFrame(index=index)

        for dtype in ("object", "str", "string"):  # an object array, or a Series of pandas' text types
            column = pd.Series(values, index=index, dtype=dtype)
            given = column.to_numpy() if dtype == "object" else column
            assert vectors.has_text(given)
            direct = vectors.from_series(fn.impl(Scope, column, *extra))
            spread = vectors.per_distinct(given, lambda text: fn.impl(Scope, text, *extra), index)
            if isinstance(direct, np.ndarray):
                assert isinstance(spread, np.ndarray) and spread.dtype == direct.dtype
                np.testing.assert_array_equal(spread, direct)
            else:
                pd.testing.assert_series_equal(spread, direct, check_names=False)


def test_which_values_are_missing_of_a_taken_column_come_from_its_source() -> None:
    memo = vectors.Memo()
    rng = np.random.default_rng(2)
    source = rng.choice(np.array(["a", None, np.nan, "b"], dtype=object), 50)
    positions = rng.integers(0, 50, 80)
    taken = source.take(positions)
    memo.taken(taken, source, positions)
    assert memo.missing(taken).tolist() == pd.isna(taken).tolist()
    assert len(memo._entries) == 1  # the source's, worked out once; none for the copy
    del taken
    assert not memo._origins  # forgotten with the copy


@pytest.mark.parametrize("op", OPS)
def test_text_compared_on_its_distinct_values_equals_it_compared_on_every_value(op: type) -> None:
    rng = np.random.default_rng(5)
    source = rng.choice(np.array(["A1", "B2", "b2", None, np.nan], dtype=object), 70)
    positions = rng.integers(0, 70, 90)
    for scalar in ("B2", "b2", "C", 3):
        for values, origin in ((source, None), (source.take(positions), (source, positions))):
            for pair in ((values, scalar), (scalar, values)):
                try:
                    expected: np.ndarray | str = vectors.compare(op, *pair)  # no memo: on every value
                except TypeError as exc:
                    expected = str(exc)
                for factorized in (False, True):  # the distinct values not known yet, or known
                    memo = vectors.Memo()
                    if origin is not None:
                        memo.taken(values, *origin)
                    token = vectors.RUN_MEMO.set(memo)
                    try:
                        if factorized:
                            vectors.factorized(source)
                        got: np.ndarray | str = vectors.compare(op, *pair)
                    except TypeError as exc:
                        got = str(exc)
                    finally:
                        vectors.RUN_MEMO.reset(token)
                    if isinstance(expected, str):
                        assert got == expected
                    else:
                        np.testing.assert_array_equal(got, expected)
                    # a column is not factorized for a comparison alone (it costs several comparisons)
                    assert any(key[0] == "factorize" for key in memo._entries) == factorized


def test_a_column_of_first_related_values_takes_its_missing_and_distinct_values_from_its_source() -> None:
    from validator.engine.joins import take_or_missing_array

    memo = vectors.Memo()
    rng = np.random.default_rng(3)
    source = rng.choice(np.array(["a", None, np.nan, "b"], dtype=object), 50)
    first = rng.integers(-1, 50, 80)  # -1: no related record
    values = take_or_missing_array(source, first)
    memo.taken(values, source, first)
    token = vectors.RUN_MEMO.set(memo)
    try:
        assert memo.missing(values).tolist() == pd.isna(values).tolist()
        vectors.factorized(source)
        known = vectors.known_codes(values)
    finally:
        vectors.RUN_MEMO.reset(token)
    assert known is not None
    codes, uniques = known
    shown = [None if c < 0 else uniques[c] for c in codes.tolist()]
    assert shown == [None if pd.isna(v) else v for v in values.tolist()]
