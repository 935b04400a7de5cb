"""Relations found as segments of integer key codes (engine/joins.py) give what pandas merges gave, and
sub-expressions shared between rules (engine/shared.py) change no result."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from helpers import SAMPLES

from validator.dataset import ROW
from validator.engine import evaluate, shared
from validator.engine.joins import Matches, key_codes, take_or_missing
from validator.engine.rule import Related


@pytest.mark.parametrize("seed", range(5))
def test_pairs_come_in_the_order_of_a_pandas_inner_merge(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        nl, nr = (int(n) for n in rng.integers(0, 25, 2))
        left = pd.DataFrame({"a": pd.Series(rng.choice(list("abcd"), nl), dtype="string"), "b": rng.integers(0, 3, nl)})
        right = pd.DataFrame(
            {"a": pd.Series(rng.choice(list("abce"), nr), dtype="string"), "b": rng.integers(0, 3, nr), "v": range(nr)}
        )
        _pairs_as_pandas_merges(left, right)


def _pairs_as_pandas_merges(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """The pairs of records key_codes and Matches give on columns a and b are those of an inner pandas merge."""
    merged = left.assign(pos=np.arange(len(left))).merge(right, on=["a", "b"], how="inner")
    codes = key_codes([left["a"], left["b"]], [right["a"], right["b"]])
    assert codes is not None
    lpos, rpos = Matches.of(*codes).pairs()
    assert lpos.tolist() == merged["pos"].tolist()
    assert rpos.tolist() == merged["v"].tolist()


@pytest.mark.parametrize("dtype", ["int64", "int32", "Int64", "uint8", "float64"])
@pytest.mark.parametrize("scale", [1, -1, 2**40])
def test_whole_number_keys_pair_the_records_a_pandas_merge_pairs(dtype: str, scale: int) -> None:
    rng = np.random.default_rng(abs(scale) % 7)
    if scale != 1 and dtype in ("int32", "uint8"):
        scale = 1  # the type cannot hold them
    for _ in range(30):
        nl, nr = (int(n) for n in rng.integers(0, 25, 2))
        left = pd.DataFrame({"a": rng.integers(0, 3, nl), "b": pd.Series(rng.integers(0, 4, nl) * scale, dtype=dtype)})
        right = pd.DataFrame(
            {"a": rng.integers(0, 3, nr), "b": pd.Series(rng.integers(0, 4, nr) * scale, dtype=dtype), "v": range(nr)}
        )
        _pairs_as_pandas_merges(left, right)


def test_keys_of_different_types_are_left_to_pandas() -> None:
    assert key_codes([pd.Series([1, 2])], [pd.Series(["1", "2"], dtype="string")]) is None


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([3, 4, 5], dtype="int64"),
        pd.Series([True, False, True]),
        pd.Series(pd.to_datetime(["2024-01-02", None, "2024-03-04"])),
        pd.Series(["x", None, "z"], dtype="string"),
        pd.Series(["x", None, "z"], dtype="object"),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([1.5, None, 3.0]),
    ],
)
@pytest.mark.parametrize("positions", [[2, -1, 0, -1], [0, 1, 2], [-1, -1]])
def test_first_related_values_are_typed_as_a_pandas_left_merge_types_them(
    column: pd.Series, positions: list[int]
) -> None:
    where = np.array(positions, dtype="int64")
    right = pd.DataFrame({"k": range(len(column)), "c": column})
    left = pd.DataFrame({"k": where})
    expected = left.merge(right, on="k", how="left")["c"]
    pd.testing.assert_series_equal(take_or_missing(column, where), expected, check_names=False)


def test_a_shared_value_is_computed_once_and_dropped_after_its_last_use(monkeypatch: pytest.MonkeyPatch) -> None:
    node = ast.parse("present(DEC)", mode="eval").body
    prefix = ("Episodes", ("CHILD",), (), None)
    monkeypatch.setattr(shared, "repeated", lambda return_type, year: {(prefix, ast.dump(node)): 2})
    values = shared.SharedValues("ssda903", "2024_25")
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert values.value(prefix, node, compute) == 1
    assert values.value(prefix, node, compute) == 1  # the second rule reuses the first one's value
    assert values.value(prefix, node, compute) == 2  # its expected uses are over: computed afresh
    other = ("Header", ("CHILD",), (), None)
    assert values.value(other, node, compute) == 3  # another table: never shared


def test_findings_are_the_same_without_shared_sub_expressions(monkeypatch: pytest.MonkeyPatch) -> None:
    from validator.api import validate

    def run() -> list[tuple[object, ...]]:
        result = validate([SAMPLES / "ssda903" / "2024_25"], previous=[SAMPLES / "ssda903" / "2023_24"], la="E09000027")
        return [(f.code, f.row, f.child, f.values) for f in result.findings]

    with_sharing = run()
    monkeypatch.setattr(evaluate, "rule_prefix", lambda rule: None)
    assert run() == with_sharing
    assert with_sharing


def _sample_relations() -> Iterator[tuple[evaluate.RuleRun, pd.DataFrame, Related]]:
    """(rule run, its base frame, relation) for every relation on keys of the bundled SSDA903 sample's rules."""
    from validator.api import validate
    from validator.engine.model import rules_for
    from validator.engine.runner import TableStore, missing_requirement

    samples = SAMPLES / "ssda903"
    dataset = validate([samples / "2024_25"], previous=[samples / "2023_24"], la="E09000027").dataset
    assert dataset is not None
    store = TableStore(dataset)
    for rule in rules_for("ssda903", "2024_25"):
        if missing_requirement(rule, dataset) or "PL_LA" in rule.derived_used:
            continue
        run = evaluate.RuleRun(rule, store)
        base = run.base_frame()
        for rel in rule.related:
            if rel.on and not rel.whole_table:
                yield run, base, rel


def test_pairs_of_every_relation_equal_a_pandas_merge() -> None:
    checked = 0
    for run, base, related in _sample_relations():
        rel = replace(related, where=None)
        lk, rk = run.merge_keys(base, rel)
        wanted = evaluate.referenced_columns(rel.value, rel.start, rel.end) | set(lk) | set(rk)
        if rel.exclude_self:
            wanted |= {ROW, f"{rel.alias}.{ROW}"}
        by_merge = run._pairs_by_merge(base, rel, wanted, lk, rk)
        pd.testing.assert_frame_equal(run.pairs(base, rel).to_frame(), by_merge)
        checked += 1
    assert checked > 50


def test_pairs_tested_side_by_side_equal_the_whole_where_on_every_pair() -> None:
    """The parts of a `where` tested on one side before pairing (engine/pushdown.py) keep exactly the pairs that
    the whole `where` keeps, in the same order, for every relation with a `where` of the year's rules."""
    from validator.engine.expr import as_bool
    from validator.engine.pushdown import split_where

    checked = moved = 0
    for run, base, rel in _sample_relations():
        if rel.where is None:
            continue
        ids = frozenset({f"{rel.alias}.{ROW}"})
        pushed = run.pairs(base, rel, ids)
        every = run.pairs(base, replace(rel, where=None), ids | evaluate.referenced_columns(rel.where))
        keep = as_bool(run.evaluate(rel.where, evaluate.Scope(every, run, False)), every.index).to_numpy()
        whole = every.where(keep)
        assert pushed["__pos"].tolist() == whole["__pos"].tolist(), run.rule.code
        assert pushed[f"{rel.alias}.{ROW}"].tolist() == whole[f"{rel.alias}.{ROW}"].tolist(), run.rule.code
        split = split_where(rel.where, rel.alias, frozenset(run.constants))
        moved += bool(split.record or split.related)
        checked += 1
    assert checked > 50 and moved > 20


def test_a_subsets_order_from_the_whole_columns_order_equals_sorting_the_subset() -> None:
    from validator.engine.joins import subset_order

    rng = np.random.default_rng(3)
    for _ in range(50):
        codes = rng.integers(0, 6, int(rng.integers(0, 40)))
        positions = np.flatnonzero(rng.random(len(codes)) < 0.6)
        full = np.argsort(codes, kind="stable")
        expected = np.argsort(codes[positions], kind="stable")
        np.testing.assert_array_equal(subset_order(full, positions, len(codes)), expected)
        left = rng.integers(-1, 8, 10)  # codes with no related record, or none at all (-1), find nothing
        counted = Matches.of(left, codes[positions], order=subset_order(full, positions, len(codes)))
        plain = Matches.of(left, codes[positions])
        assert [a.tolist() for a in counted.pairs()] == [a.tolist() for a in plain.pairs()]
        assert counted.count.tolist() == [int((codes[positions] == c).sum()) for c in left]


@pytest.mark.parametrize(
    "reduced",
    [
        pd.Series([3, 4], dtype="int64"),
        pd.Series([True, False]),
        pd.Series(pd.to_datetime(["2024-01-02", None])),
        pd.Series(["x", None], dtype="string"),
        pd.Series(["x", "y"]),
        pd.Series(["x", None], dtype="object"),
        pd.Series([1, None], dtype="Int64"),
        pd.Series([1.5, None]),
        pd.Series([], dtype="int64"),
        pd.Series([], dtype="object"),
    ],
)
@pytest.mark.parametrize("records", [[0, 1], [4, 1], [2, 0]])
def test_per_record_values_are_typed_as_a_pandas_reindex_types_them(reduced: pd.Series, records: list[int]) -> None:
    from validator.engine.evaluate import per_record

    reduced = reduced.set_axis(records[: len(reduced)])
    expected = pd.Series(reduced, index=range(5)).reindex(range(5))
    values = per_record(reduced, 5)
    got = pd.Series(values, dtype=values.dtype)
    pd.testing.assert_series_equal(got, expected.reset_index(drop=True), check_names=False)
