"""The rule engine's edges without pandas frames (engine/columns.py, finding_rows.py, evaluate.base_frame): a
rule's records as light columns, findings taken from arrays, and what the rules cache keeps, each compared with
the pandas way it replaced."""

from __future__ import annotations

import ast
import pickle
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import SAMPLES

from validator.dataset import ROW
from validator.engine import calendar, evaluate
from validator.engine.columns import Columns, column_array
from validator.engine.expr import CONSTANTS, SHARED_NODES, as_bool, compare
from validator.engine.finding_rows import _display, _shown, _shown_objects, shown_values
from validator.engine.functions import FUNCTIONS
from validator.engine.joins import keys_present
from validator.engine.pushdown import _split
from validator.engine.rule import _columns_used
from validator.engine.shared import condition_expressions
from validator.findings import _DEFAULTS, COLUMNS, UNCONFIRMED, FindingTable, _objects
from validator.ingest.coerce import RAW_SUFFIX


def _random_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Columns of the types a table holds, with missing values, each with an ``@raw`` text column (the file's
    text, where it could not be read)."""
    missing = rng.random(n) < 0.3
    dates = pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), unit="D"))
    columns = {
        "int": pd.Series(rng.integers(-5, 5, n), dtype="int64"),
        "float": pd.Series(np.where(missing, np.nan, rng.random(n) * 10)),
        "date": dates.mask(missing),
        "date_s": dates.mask(missing).astype("datetime64[s]"),
        "text": pd.Series(np.where(missing, None, rng.choice(["a", "B", " c"], n).astype(object)), dtype=object),
        "text_nan": pd.Series(np.where(missing, np.nan, rng.choice(["x", "y"], n).astype(object)), dtype=object),
        "flag": pd.Series(rng.random(n) < 0.5),
        "nullable": pd.Series(np.where(missing, None, rng.integers(0, 9, n)), dtype="Int64"),
        "string": pd.Series(np.where(missing, None, rng.choice(["p", "q"], n)), dtype="string"),
    }
    frame = pd.DataFrame(columns)
    for name in list(columns):
        raw = np.where(missing & (rng.random(n) < 0.7), rng.choice(["31/02/2024", "abc", " "], n), None)
        frame[name + RAW_SUFFIX] = pd.Series(raw, dtype=object)
    frame["plain"] = frame["text"]  # no raw column
    return frame


@pytest.mark.parametrize("seed", range(6))
def test_shown_objects_from_arrays_equal_the_pandas_way(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = _random_frame(rng, int(rng.integers(1, 40)))
    for source in (frame, Columns.of_frame(frame)):
        for col in [c for c in frame.columns if not c.endswith(RAW_SUFFIX)]:
            expected = [(type(v), v) for v in _shown(frame, col).astype("object").tolist()]
            got = [(type(v), v) for v in _shown_objects(source, col).tolist()]
            assert [(t, None if v != v else v) for t, v in got] == [(t, None if v != v else v) for t, v in expected]


@pytest.mark.parametrize("seed", range(6))
def test_shown_values_from_arrays_equal_the_pandas_way(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = _random_frame(rng, int(rng.integers(1, 40)))
    positions = np.flatnonzero(rng.random(len(frame)) < 0.5)
    columns = Columns.of_frame(frame)
    for col in [c for c in frame.columns if not c.endswith(RAW_SUFFIX)]:
        hits = {c: frame[c].iloc[positions] for c in frame.columns}
        expected = [(type(v), v) for v in (_display(v) for v in _shown(hits, col).tolist())]
        assert [(type(v), v) for v in shown_values(frame, col, positions)] == expected, col
        assert [(type(v), v) for v in shown_values(columns, col, positions)] == expected, col


def test_light_columns_take_add_and_give_their_arrays() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": pd.Series(["x", None, "z"], dtype="string"), "c": ["p", None, "r"]})
    columns = Columns.of_frame(frame)
    for name in frame.columns:
        assert column_array(columns, name) is columns.array(name)
        pd.testing.assert_series_equal(columns[name], frame[name], check_names=False)
        assert type(column_array(frame, name)) is type(column_array(columns, name))
    taken = columns.take(np.array([2, 0]))
    pd.testing.assert_frame_equal(taken.to_frame(), frame.iloc[[2, 0]].reset_index(drop=True))
    assert columns.array("c") is columns.array("c")  # taken from the frame once, then kept
    added = columns.with_columns({"a": np.array([7, 8, 9]), "d": np.array([True, False, True])})
    assert added.array("c") is columns.array("c") and "d" in added and "d" not in columns
    again = added.with_columns({"e": np.array([1, 2, 3])})
    assert again.columns == ["a", "b", "c", "d", "e"] and again.array("a").tolist() == [7, 8, 9]
    pd.testing.assert_frame_equal(
        again.take(np.array([1])).to_frame(), again.to_frame().iloc[[1]].reset_index(drop=True)
    )
    assert added.columns == ["a", "b", "c", "d"] and added.array("a").tolist() == [7, 8, 9]
    assert columns.columns == ["a", "b", "c"] and columns.array("a").tolist() == [1, 2, 3]  # unchanged
    with pytest.raises(TypeError):
        columns["a"] = 1  # type: ignore[index]


@pytest.mark.parametrize("seed", range(4))
def test_keys_present_on_columns_equal_them_on_the_frame(seed: int) -> None:
    frame = _random_frame(np.random.default_rng(seed), 30)
    frame["x._child_code"] = np.random.default_rng(seed).integers(-1, 3, 30)
    keys = [c for c in frame.columns if not c.endswith(RAW_SUFFIX)]
    expected = np.ones(len(frame), dtype=bool)
    for key in keys:
        column = frame[key]
        expected &= (column.to_numpy() >= 0) if key.endswith("_child_code") else column.notna().to_numpy()
    assert keys_present(frame, keys).tolist() == expected.tolist()
    assert keys_present(Columns.of_frame(frame), keys).tolist() == expected.tolist()


def _sample_runs() -> list[evaluate.RuleRun]:
    from validator.api import validate
    from validator.engine.model import rules_for
    from validator.engine.runner import TableStore, missing_requirement

    samples = SAMPLES / "ssda903"
    dataset = validate([samples / "2024_25"], previous=[samples / "2023_24"], la="E09000027").dataset
    assert dataset is not None
    store = TableStore(dataset)
    return [
        evaluate.RuleRun(rule, store)
        for rule in rules_for("ssda903", "2024_25")
        if not missing_requirement(rule, dataset) and "PL_LA" not in rule.derived_used
    ]


def _base_by_pandas(run: evaluate.RuleRun) -> pd.DataFrame:
    """A rule's base frame as it was built before: its table's frame, each join a pandas left merge with the
    related table's first record, each `let` value set as a column."""
    rule = run.rule
    frame = run.store.frame(rule.table, rule.derived_used).reset_index(drop=True)
    for rel in rule.joins.values():
        lk, rk = run.merge_keys(frame, rel)
        right = run.related_frame(rel)
        right = right[keys_present(right, rk)].drop_duplicates(subset=rk, keep="first")
        frame = frame.merge(right, left_on=lk, right_on=rk, how="left", suffixes=("", "__r"))
    for name, (how, rel) in rule.lets.items():
        if not rel.whole_table:
            frame[name] = run.quantify(frame, rel, how)
    return frame


def test_a_rules_base_columns_equal_the_frame_built_by_pandas() -> None:
    checked = 0
    for run in _sample_runs():
        base = run.base_frame()
        expected = _base_by_pandas(run)
        assert len(base) == len(expected)
        for name in base.columns:
            pd.testing.assert_series_equal(base[name], expected[name], check_names=False, obj=f"{run.rule.code} {name}")
        checked += bool(run.rule.joins or run.rule.lets)
    assert checked > 30


def test_findings_built_as_one_block_equal_them_built_column_by_column() -> None:
    columns = {
        "code": "101",
        "severity": "error",
        "row": [3, 5],
        "child": ["A", None],
        "fields": ("SEX",),
        "values": [("1",), (None,)],
        "line": [4, 6],
    }
    table = FindingTable.build(2, **columns)
    by_column = pd.DataFrame(
        {name: _objects(columns.get(name, _DEFAULTS.get(name)), 2) for name in COLUMNS}, dtype=object, copy=False
    )
    pd.testing.assert_frame_equal(table.frame, by_column)
    assert table.frame.dtypes.tolist() == [np.dtype(object)] * len(COLUMNS)
    assert table.column("values") == [("1",), (None,)] and table.column("fields") == [("SEX",), ("SEX",)]
    assert table.column("child") == ["A", None] and table.column("note") == [None, None]
    assert table.unconfirmed_mask.tolist() == [False, False]
    marked = table.assign(confidence=[UNCONFIRMED, table.column("confidence")[1]])
    assert marked.unconfirmed_mask.tolist() == [True, False]
    assert FindingTable().unconfirmed_mask.dtype == bool and len(FindingTable().unconfirmed_mask) == 0
    assert len(FindingTable.build(0, code="x")) == 0
    with pytest.raises(TypeError):
        FindingTable.build(1, colour="red")


def test_the_rules_cache_keeps_each_rules_columns_used_and_shared_texts() -> None:
    from validator.engine.model import _load_rules_from_files

    rules = pickle.loads(pickle.dumps(_load_rules_from_files("ssda903"), protocol=pickle.HIGHEST_PROTOCOL))
    for rule in rules:
        assert "_columns_used" in rule.__dict__ and "_shared_uses" in rule.__dict__
        assert rule.columns_used() == _columns_used(rule)
        assert rule.shared_uses() == replace(rule).shared_uses()  # a copy works it out afresh
        for rel in rule.related:
            if rel.where is not None:
                ((alias, constants), split), *_ = rel.where.tree.__dict__["_pushdown"].items()
                assert alias == rel.alias and constants >= CONSTANTS
                assert [ast.dump(p) for p in split.pairs] == [
                    ast.dump(p) for p in _split(rel.where, alias, constants).pairs
                ]
        for compiled in condition_expressions(rule.condition):
            for node in ast.walk(compiled.tree.body):
                if isinstance(node, SHARED_NODES):
                    assert node.__dict__.get("_shared_dump") == ast.dump(node)


def test_a_rules_records_row_numbers_are_its_tables() -> None:
    run = _sample_runs()[0]
    base = run.base_frame()
    table = run.store.frame(run.rule.table, run.rule.derived_used)
    assert base.array(ROW).tolist() == table[ROW].tolist()


def _age_by_pandas(dob: pd.Series, at: pd.Series) -> pd.Series:
    """calendar.age as it was written with pandas' date accessors."""
    years = at.dt.year - dob.dt.year
    leap_day = (dob.dt.month == 2) & (dob.dt.day == 29)
    at_leap = at.dt.is_leap_year
    dob_month = dob.dt.month.where(~(leap_day & ~at_leap), 3)
    dob_day = dob.dt.day.where(~(leap_day & ~at_leap), 1)
    before = (at.dt.month < dob_month) | ((at.dt.month == dob_month) & (at.dt.day < dob_day))
    return (years - before.astype("Int64")).astype("Int64")


@pytest.mark.parametrize("seed", range(5))
def test_age_on_arrays_equals_age_by_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    start = pd.Timestamp("1950-01-01")
    leap_days = pd.to_datetime(["1952-02-29", "2000-02-29", "2004-02-29", "1968-02-29"])
    dob = pd.Series(start + pd.to_timedelta(rng.integers(0, 30000, n), unit="D"))
    born_on_leap_day = rng.random(n) < 0.2
    dob[born_on_leap_day] = leap_days[rng.integers(0, 4, int(born_on_leap_day.sum()))]
    dob = dob.mask(rng.random(n) < 0.1)
    at = pd.Series(start + pd.to_timedelta(rng.integers(0, 32000, n), unit="D")).mask(rng.random(n) < 0.1)
    at[rng.random(n) < 0.1] = pd.Timestamp("2023-02-28")
    for unit in ("ns", "s"):
        d, a = dob.astype(f"datetime64[{unit}]"), at.astype(f"datetime64[{unit}]")
        pd.testing.assert_series_equal(calendar.age(d, a), _age_by_pandas(d, a))


@pytest.mark.parametrize("seed", range(4))
def test_listed_on_distinct_pairs_equals_it_record_by_record(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    values = rng.choice(np.array(["K1", " K2", "P1", None, "k1", 3], dtype=object), n)
    lists = rng.choice(np.array(["K1,K2", " K2 , P1", "", None, np.nan, "K1"], dtype=object), n)
    scope = SimpleNamespace(frame=pd.DataFrame(index=pd.RangeIndex(n)))
    expected = [
        isinstance(v, str) and isinstance(c, str) and v.strip() in {p.strip() for p in c.split(",")}
        for v, c in zip(values, lists, strict=True)
    ]
    got = FUNCTIONS["listed"].impl(scope, pd.Series(values, dtype=object), pd.Series(lists, dtype=object))
    assert got.dtype == bool and got.tolist() == expected
    assert FUNCTIONS["listed"].impl(scope, "K1", pd.Series(lists, dtype=object)).tolist() == [
        isinstance(c, str) and "K1" in {p.strip() for p in c.split(",")} for c in lists
    ]


@pytest.mark.parametrize("op", [ast.Eq, ast.NotEq])
@pytest.mark.parametrize("dtype", ["string", "str"])
def test_equality_of_pandas_text_equals_pandas_own(op: type, dtype: str) -> None:
    rng = np.random.default_rng(3)
    n = 80
    texts = rng.choice(np.array(["a", "B", "", "a ", None], dtype=object), n)
    series = pd.Series(texts, dtype=dtype)
    others: list[object] = [
        pd.Series(rng.choice(np.array(["a", "B", None], dtype=object), n), dtype=dtype),
        rng.choice(np.array(["a", "B", None], dtype=object), n),
        "a",
        None,
        3,
    ]
    for other in others:
        for left, right in ((series, other), (other, series)):
            fast = as_bool(compare(op, left, right, pd.RangeIndex(n)), pd.RangeIndex(n)).to_numpy()
            as_series = [pd.Series(v, dtype=object) if isinstance(v, np.ndarray) else v for v in (left, right)]
            by_pandas = (as_series[0] == as_series[1]) if op is ast.Eq else (as_series[0] != as_series[1])
            known = np.ones(n, dtype=bool)
            for side in as_series:
                known &= side.notna().to_numpy() if isinstance(side, pd.Series) else side is not None
            expected = by_pandas.fillna(False).astype(bool).to_numpy() & known
            assert fast.tolist() == expected.tolist()


def test_per_child_facts_spread_by_codes_equal_them_looked_up_by_id() -> None:
    run = _sample_runs()[0]
    store = run.store
    key = store.dataset.schema.child_key
    frame = store.frame("Episodes")
    ids = frame[key].dropna().unique().tolist()
    rng = np.random.default_rng(5)
    chosen = [i for i in ids if rng.random() < 0.6] + ["NOT-A-CHILD"]
    facts = pd.DataFrame(
        {
            "flag": rng.random(len(chosen)) < 0.5,
            "mixed": pd.Series(rng.choice(np.array([True, False, None, 1], dtype=object), len(chosen)), dtype=object),
        },
        index=pd.Index(chosen, dtype=object),
    )
    expected = facts.reindex(frame[key].to_numpy()).eq(True).set_axis(frame.index)
    pd.testing.assert_frame_equal(store._spread(facts, frame, key), expected)


@pytest.mark.parametrize("seed", range(5))
def test_duplicated_by_codes_equals_pandas_duplicated(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    pool = {
        "text": np.array(["A", "B", "C", None, np.nan], dtype=object),
        "number": np.array([1.0, 2.0, np.nan]),
        "int": np.array([1, 2, 3]),
        "date": np.array(["2024-01-01", "2024-02-01", "NaT"], dtype="datetime64[ns]"),
    }
    scope = SimpleNamespace(frame=pd.DataFrame(index=pd.RangeIndex(n)))
    for count in (1, 2, 3):
        names = rng.choice(list(pool), count)
        keys = [rng.choice(pool[name], n) for name in names]
        frame = pd.DataFrame({i: pd.Series(k, dtype=k.dtype) for i, k in enumerate(keys)}, index=scope.frame.index)
        expected = (frame.duplicated(keep=False) & frame.notna().all(axis=1)).to_numpy()
        assert np.asarray(FUNCTIONS["duplicated"].impl(scope, *keys)).tolist() == expected.tolist()
