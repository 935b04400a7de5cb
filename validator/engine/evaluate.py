"""Evaluating one rule: its base frame (joins, `let` values), its condition, related tables (`exists`, `none`,
`count`, `min`, `max`, `sum`, `covered`) and the scope its expressions see."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from ..codelists import codes_for
from ..dataset import ROW
from ..ingest.coerce import RAW_SUFFIX
from .columns import Array, Columns, array_of, column_array
from .expr import Compiled, Evaluator, ExpressionError, as_bool, bool_array, column_name
from .functions import FUNCTIONS
from .joins import (
    CHILD_CODE,
    Matches,
    key_codes,
    keys_present,
    subset_order,
    take_array,
    take_or_missing_array,
)
from .pushdown import SplitWhere, split_where
from .rule import Condition, Related, Rule
from .sequences import Sequence, group_reduce
from .shared import rule_prefix
from .store import TableStore
from .vectors import RUN_MEMO


def referenced_columns(*exprs: Compiled | None) -> set[str]:
    """The frame columns that expressions can read: each name they use, and its ``@raw`` text column."""
    names: set[str] = set()
    for compiled in exprs:
        if compiled is None:
            continue
        for ref in compiled.references:
            col = column_name(ref.alias, ref.name)
            names |= {col, col + RAW_SUFFIX}
    return names


def rule_expressions(rule: Rule) -> Iterator[Compiled]:
    """Every expression of a rule: its condition's, its related tables' and `let` values', its sequence run's and
    its history's."""

    def of_related(rel: Related) -> Iterator[Compiled | None]:
        yield from (rel.where, rel.value, rel.start, rel.end)

    def of_condition(cond: Condition) -> Iterator[Compiled | None]:
        yield cond.expr
        if cond.related is not None:
            yield from of_related(cond.related)
        for part in cond.parts:
            yield from of_condition(part)

    found: list[Compiled | None] = [*of_condition(rule.condition), rule.sequence_run]
    for _, rel in rule.lets.values():
        found.extend(of_related(rel))
    if rule.history is not None:
        found.extend((rule.history.start, rule.history.when))
    return (c for c in found if c is not None)


def joined_columns(rule: Rule, rel: Related) -> set[str] | None:
    """The columns of a joined table the rule reads (its expressions, the fields its findings show, the join's
    keys), each as ``alias.COLUMN`` with its ``@raw`` text; None for all of them (a sequence ordered by one)."""
    alias = rel.alias
    if any(k.startswith(alias + ".") for k in (*rule.sequence_by, *rule.sequence_order)):
        return None
    names = {ref.name for c in rule_expressions(rule) for ref in c.references if ref.alias == alias}
    names |= {t for _, t in rel.on} | {CHILD_CODE}
    for shown in rule.fields:
        owner, _, col = shown.partition(".")
        if col and owner in (alias, rel.table, rel.table.split("@")[0]):
            names.add(col)
    return {f"{alias}.{n}{suffix}" for n in names for suffix in ("", RAW_SUFFIX)}


def _taken(column: Any, positions: np.ndarray) -> Any:
    """A column's values at ``positions`` (all valid), noted with the run's memo as taken from the column (so that
    which of them are missing is the column's, worked out once: engine/vectors.py)."""
    values = column.take(positions)
    memo = RUN_MEMO.get()
    if memo is not None and isinstance(column, np.ndarray) and column.dtype.kind == "O":
        memo.taken(values, column, positions)
    return values


class Scope:
    """What an expression sees: the frame of records, run constants, code lists, the rule's sequence."""

    def __init__(self, frame: pd.DataFrame | Columns, run: RuleRun, sequence_allowed: bool = True) -> None:
        self.frame = frame
        self.run = run
        self._sequence: Sequence | None = None
        self.sequence_allowed = sequence_allowed

    def lookup(self, alias: str | None, name: str) -> Any:
        col = column_name(alias, name)
        if col in self.frame:
            if isinstance(self.frame, Columns):
                return self.frame.values(col)
            return self.frame[col]
        if alias is None and name in self.run.constants:
            return self.run.constants[name]
        raise ExpressionError(f"'{col}' is not available here")

    def codes(self, name: str) -> frozenset[str]:
        return codes_for(self.run.rule.return_type, name, self.run.year)

    @property
    def sequence(self) -> Sequence:
        if not self.sequence_allowed:
            raise ExpressionError("sequence functions cannot be used inside a related table's `where`")
        if self._sequence is None:
            rule = self.run.rule
            known = self.run.store.ordering(rule, self.frame)
            self._sequence = Sequence(self.frame, rule.sequence_by, rule.sequence_order, known)
            if rule.sequence_run is not None:
                continues = self.run.evaluate(rule.sequence_run, self)
                self._sequence.set_runs(as_bool(continues, self.frame.index))
        return self._sequence


class RuleRun:
    """One rule applied to one dataset."""

    def __init__(self, rule: Rule, store: TableStore) -> None:
        self.rule = rule
        self.store = store
        self.dataset = store.dataset
        self.year = self.dataset.context.year
        self.constants = dict(store.constants)  # a rule's return-level `let` values are added to its own copy
        self.prefix = rule_prefix(rule)
        self.base: Columns | None = None

    def evaluate(self, compiled: Compiled, scope: Scope, raw: bool = False) -> Any:
        """The expression's value on the scope's records: a Series on its index (or one value); ``raw``: as the
        evaluator has it, a numpy array where it can be (engine/vectors.py), for callers that take arrays."""
        share = None
        if self.prefix is not None and scope.frame is self.base and scope.sequence_allowed:
            share = partial(self.store.shared.value, self.prefix)  # the table's own records: values are shared
        evaluator = Evaluator(scope, FUNCTIONS, share)
        return evaluator.eval(compiled.tree.body) if raw else evaluator.run(compiled)

    # -- related tables -------------------------------------------------------------------------------------

    def related_frame(self, rel: Related, wanted: set[str] | None = None) -> pd.DataFrame:
        """The related table with its columns named ``alias.COLUMN``; only those in ``wanted`` when given."""
        other = self.store.frame(rel.table, self.rule.derived_used)
        if wanted is not None:
            other = other[[c for c in other.columns if f"{rel.alias}.{c}" in wanted]]
        return other.rename(columns={c: f"{rel.alias}.{c}" for c in other.columns})

    def pairs(
        self,
        base: pd.DataFrame | Columns,
        rel: Related,
        extra: frozenset[str] = frozenset(),
        only: np.ndarray | None = None,
    ) -> Columns:
        """Every (record, related record) pair that satisfies the relation and its ``where``; __pos is the record.

        Only the columns the relation's keys and expressions name (and ``extra``) are carried into the pairs, so
        the cost does not grow with the width of either table; the parts of the ``where`` that read one side only
        are tested on that side before pairing (engine/pushdown.py). ``only``: the records to pair (all if None).
        """
        lk, rk = self.merge_keys(base, rel)
        wanted = referenced_columns(rel.where, rel.value, rel.start, rel.end) | set(lk) | set(rk) | extra
        if rel.exclude_self:
            wanted |= {ROW, f"{rel.alias}.{ROW}"}
        other = self.store.columns(rel.table, self.rule.derived_used, f"{rel.alias}.")
        split = self._split(base, other, rel)
        keep_base = keep_other = None
        if split is not None:
            keep_base = self._passes(split.record, Scope(base, self, sequence_allowed=False))
            keep_other = self._passes(split.related, Scope(other, self, False))
        if only is not None:
            keep_base = only if keep_base is None else keep_base & only
        matched = self._matches(base, rel, lk, rk, keep_base, keep_other)
        if matched is None:
            merged = Columns.of_frame(self._pairs_by_merge(base, rel, wanted, lk, rk))
            split = None  # the whole `where` is tested on the pairs
        else:
            lpos, rpos, matches = matched
            left, right = matches.pairs()
            left, right = lpos[left], rpos[right]
            if rel.exclude_self:
                differ = (
                    np.asarray(column_array(base, ROW))[left] != np.asarray(other.array(f"{rel.alias}.{ROW}"))[right]
                )
                left, right = left[differ], right[differ]
            data: dict[str, Any] = {c: _taken(column_array(base, c), left) for c in base.columns if c in wanted}
            data["__pos"] = left
            for name in other.columns:
                if name in wanted:
                    data[name + "__r" if name in data else name] = _taken(other.array(name), right)
            merged = Columns(data, len(left))
        if rel.where is not None and len(merged):
            scope = Scope(merged, self, sequence_allowed=False)
            if split is None:
                keep = _flags(self.evaluate(rel.where, scope, raw=True), len(merged), merged.index)
            else:
                keep = self._passes(split.pairs, scope)
            if keep is not None:
                merged = merged.where(keep)
        return merged

    def _split(self, base: pd.DataFrame | Columns, other: Columns, rel: Related) -> SplitWhere | None:
        """How the relation's ``where`` splits between the two sides and the pairs; None to test it whole (no
        ``where``, or a related column whose name a column of the record already has). ``other``: the related
        table's columns, named ``alias.COLUMN``."""
        if rel.where is None or any(c in base for c in other.columns):
            return None
        constants = frozenset(name for name in self.constants if name not in base)
        return split_where(rel.where, rel.alias, constants)

    def _passes(self, parts: tuple[ast.expr, ...], scope: Scope) -> np.ndarray | None:
        """Where every part is true (missing counts as false); None when there are no parts."""
        if not parts:
            return None
        evaluator = Evaluator(scope, FUNCTIONS)
        n, index = len(scope.frame), scope.frame.index
        keep = bool_array(evaluator.eval(parts[0]), n, index)
        for part in parts[1:]:
            keep = keep & bool_array(evaluator.eval(part), n, index)
        return keep

    def _matches(
        self,
        base: pd.DataFrame | Columns,
        rel: Related,
        lk: list[str],
        rk: list[str],
        keep_base: np.ndarray | None = None,
        keep_other: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, Matches] | None:
        """Positions of the records with all their keys (each side; only those kept, when given), and each one's
        related records (``rk``: the related table's keys, named ``alias.COLUMN``)."""
        other = self.store.columns(rel.table, self.rule.derived_used, f"{rel.alias}.")
        present_base, present_other = keys_present(base, lk), keys_present(other, rk)
        lpos = np.flatnonzero(present_base if keep_base is None else present_base & keep_base)
        rpos = np.flatnonzero(present_other if keep_other is None else present_other & keep_other)
        codes = key_codes([_at(column_array(base, k), lpos) for k in lk], [_at(other.array(k), rpos) for k in rk])
        if codes is None:
            return None
        order = None
        if lk == [CHILD_CODE] and rk == [f"{rel.alias}.{CHILD_CODE}"]:  # the related side sorted once per table
            frame = self.store.frame(rel.table, self.rule.derived_used)
            order = subset_order(self.store.child_order(frame), rpos, len(frame))
        return lpos, rpos, Matches.of(*codes, order=order)

    def _pairs_by_merge(
        self, base: pd.DataFrame | Columns, rel: Related, wanted: set[str], lk: list[str], rk: list[str]
    ) -> pd.DataFrame:
        """The pairs by a pandas merge: for keys whose two columns differ in type."""
        kept = [c for c in base.columns if c in wanted]
        left = pd.DataFrame({c: base[c] for c in kept}, index=pd.RangeIndex(len(base))).assign(
            __pos=np.arange(len(base))
        )
        right = self.related_frame(rel, wanted)
        left = left[keys_present(left, lk)]
        right = right[keys_present(right, rk)]
        merged = left.merge(right, left_on=lk, right_on=rk, how="inner", suffixes=("", "__r"))
        if rel.exclude_self:
            merged = merged[merged[f"{rel.alias}.{ROW}"] != merged[ROW]]
        return merged.reset_index(drop=True)

    def quantify(self, base: pd.DataFrame | Columns, rel: Related, how: str, only: np.ndarray | None = None) -> Array:
        """The related records of each record, quantified (``how``), as an array on the records (a count as pandas'
        ``Int64``); ``only``: the records whose value is wanted (the others get the value of a record with no
        related records)."""
        if how in ("exists", "none", "count") and rel.where is None and not rel.exclude_self:
            counted = self._count(base, rel)
            if counted is not None:
                if how == "count":
                    return _counts(counted)
                return counted > 0 if how == "exists" else counted == 0
        merged = self.pairs(base, rel, only=only)
        positions = merged.array("__pos")
        if how in ("exists", "none"):
            hit = np.zeros(len(base), dtype=bool)
            hit[positions] = True
            return hit if how == "exists" else ~hit
        if how == "count":
            return _counts(
                np.bincount(positions, minlength=len(base)) if len(positions) else np.zeros(len(base), "int64")
            )
        if how == "covered":
            return self.covered(base, merged, rel)
        assert rel.value is not None
        values = self.evaluate(rel.value, Scope(merged, self, sequence_allowed=False))
        values = values if isinstance(values, pd.Series) else pd.Series(values, index=merged.index)
        out = per_record(group_reduce(values, positions, how), len(base))
        return out if how != "sum" else array_of(pd.Series(out, dtype=out.dtype, copy=False).fillna(0))

    def _count(self, base: pd.DataFrame | Columns, rel: Related) -> np.ndarray | None:
        """How many related records each record has (a relation without `where`): segment lengths, no pairs."""
        lk, rk = self.merge_keys(base, rel)
        matched = self._matches(base, rel, lk, rk)
        if matched is None:
            return None
        lpos, _, matches = matched
        counts = np.zeros(len(base), dtype="int64")
        counts[lpos] = matches.count
        return counts

    def covered(self, base: pd.DataFrame | Columns, merged: Columns, rel: Related) -> Array:
        """Days covered by the related records' periods [start, end), a day covered twice counted once.

        Periods whose start or end is missing, or that end on or before they start, cover nothing.
        """
        assert rel.start is not None and rel.end is not None
        scope = Scope(merged, self, sequence_allowed=False)
        periods = pd.DataFrame(
            {
                "pos": merged.array("__pos"),
                "start": pd.to_datetime(pd.Series(self.evaluate(rel.start, scope), index=merged.index)),
                "end": pd.to_datetime(pd.Series(self.evaluate(rel.end, scope), index=merged.index)),
            }
        )
        periods = periods[periods["start"].notna() & periods["end"].notna() & (periods["end"] > periods["start"])]
        periods = periods.sort_values(["pos", "start", "end"], kind="stable")
        # Each period counts only the part after the latest end of the periods before it (same record).
        periods["reached"] = periods.groupby("pos", sort=False)["end"].cummax()
        reached = periods.groupby("pos", sort=False)["reached"].shift()
        begin = periods["start"].where(reached.isna() | (reached < periods["start"]), reached)
        days = (periods["end"] - begin).dt.days.clip(lower=0)
        total = days.groupby(periods["pos"]).sum()
        out = np.zeros(len(base), dtype="int64")
        out[total.index.to_numpy(dtype="int64")] = total.to_numpy(dtype="int64")
        return _counts(out)

    def merge_keys(self, base: pd.DataFrame | Columns, rel: Related) -> tuple[list[str], list[str]]:
        """The columns a relation merges on: its ``on`` pairs, with the child's id as its number (CHILD_CODE) where
        both sides name the child's id."""
        key = self.store.dataset.schema.child_key
        by_code = CHILD_CODE in base
        pairs = [(CHILD_CODE, CHILD_CODE) if by_code and m == t == key else (m, t) for m, t in rel.on]
        return [m for m, _ in pairs], [f"{rel.alias}.{t}" for _, t in pairs]

    def join(self, base: Columns, alias: str, rel: Related) -> Columns:
        """``base`` with the columns of each record's first related record (missing where it has none): those the
        rule reads."""
        table = self.store.columns(rel.table, self.rule.derived_used, f"{rel.alias}.")
        wanted = joined_columns(self.rule, rel)
        joined = [name for name in table.columns if wanted is None or name in wanted]
        lk, rk = self.merge_keys(base, rel)
        matched = self._matches(base, rel, lk, rk)
        if matched is None:
            right = self.related_frame(rel)
            right = right[keys_present(right, rk)].drop_duplicates(subset=rk, keep="first")
            merged = base.to_frame().merge(right, left_on=lk, right_on=rk, how="left", suffixes=("", "__r"))
            return Columns.of_frame(merged)
        lpos, rpos, matches = matched
        first = np.full(len(base), -1, dtype="int64")
        found = matches.first()
        if len(rpos):
            first[lpos] = np.where(found >= 0, rpos[np.maximum(found, 0)], -1)
        added: dict[str, Any] = {}
        for name in joined:
            added[name + "__r" if name in base or name in added else name] = _first_values(table.array(name), first)
        return base.with_columns(added)

    # -- conditions ----------------------------------------------------------------------------------------

    def condition(self, cond: Condition, scope: Scope, undecided: np.ndarray | None = None) -> Any:
        """The condition's value on each record of the scope. ``undecided``: the records whose answer still
        depends on it (the others' values are not used), so that a related table's records are paired with those
        only: in ``all: [UPN == 'UN4', exists: ...]`` the `exists` pairs only the records with UPN UN4."""
        frame = scope.frame
        n = len(frame)
        if cond.op == "expr":
            assert cond.expr is not None
            return self.evaluate(cond.expr, scope, raw=True)
        if cond.op in ("all", "any"):
            out: np.ndarray | None = None
            for part in cond.parts:
                todo = undecided
                if out is not None:
                    open_ = out if cond.op == "all" else ~out  # an `and` is settled where false, an `or` where true
                    todo = open_ if todo is None else todo & open_
                value = bool_array(self.condition(part, scope, todo), n, frame.index)
                out = value if out is None else (out & value if cond.op == "all" else out | value)
            assert out is not None
            return out
        if cond.op == "not":
            return ~bool_array(self.condition(cond.parts[0], scope, undecided), n, frame.index)
        assert cond.related is not None
        return self.quantify(frame, cond.related, cond.op, undecided)

    def base_frame(self) -> Columns:
        """The rule's records: its table's columns (shared with the other rules, never changed), with the columns
        of its joins and its `let` values added to a table of its own."""
        rule = self.rule
        frame = self.store.columns(rule.table, rule.derived_used)
        for alias, rel in rule.joins.items():
            frame = self.join(frame, alias, rel)
        for name, (how, rel) in rule.lets.items():
            if rel.whole_table:
                self.constants[name] = self.whole_table(rel, how)
            else:
                frame = frame.with_columns({name: self.quantify(frame, rel, how)})
        self.base = frame
        return frame

    def whole_table(self, rel: Related, how: str) -> Any:
        """A return-level `let` without `on`: one value over all the related table's records."""
        records = self.related_frame(rel, referenced_columns(rel.where, rel.value)).reset_index(drop=True)
        if rel.where is not None and len(records):
            records = records[as_bool(self.evaluate(rel.where, Scope(records, self, False)), records.index).to_numpy()]
        if how == "count":
            return len(records)
        if how == "exists":
            return len(records) > 0
        assert rel.value is not None
        values = self.evaluate(rel.value, Scope(records, self, False)) if len(records) else pd.Series([], dtype=float)
        values = values if isinstance(values, pd.Series) else pd.Series(values, index=records.index)
        result = getattr(values, how)()
        return 0 if how == "sum" and pd.isna(result) else result

    def flagged(self) -> tuple[Columns, np.ndarray | bool]:
        """The rule's records and which of them it flags (a record-level rule), or whether it flags the return."""
        rule = self.rule
        frame = self.base_frame()
        scope = Scope(frame, self)
        value = self.condition(rule.condition, scope)
        if rule.level == "return":
            if isinstance(value, (np.ndarray, pd.Series, ExtensionArray)):
                return frame, bool(bool_array(value, len(frame), frame.index).any())
            return frame, bool(value) if value is not None and value == value else False
        return frame, _flags(value, len(frame), frame.index)


def per_record(reduced: pd.Series, n: int) -> Array:
    """Per-record values of ``n`` records from ``reduced``, indexed by record position (those it lacks missing),
    typed as pandas' reindex types them (``pd.Series(reduced, index=range(n))``)."""
    if not len(reduced):
        return array_of(pd.Series(reduced, index=range(n)))
    where = np.full(n, -1, dtype="int64")
    where[np.asarray(reduced.index, dtype="int64")] = np.arange(len(reduced))
    return take_or_missing_array(reduced, where)


def _first_values(column: Array, first: np.ndarray) -> Array:
    """Each record's first related record's value of ``column`` (missing at -1: :func:`take_or_missing_array`), noted
    with the run's memo as taken from the column (engine/vectors.py)."""
    values = take_or_missing_array(column, first)
    memo = RUN_MEMO.get()
    if memo is not None and isinstance(values, np.ndarray) and isinstance(column, np.ndarray):
        memo.taken(values, column, first)
    return values


def _flags(value: Any, n: int, index: pd.Index) -> np.ndarray:
    """A condition's value on ``n`` records as plain booleans (missing: false); one value is each record's."""
    if isinstance(value, (np.ndarray, pd.Series, ExtensionArray)):
        return bool_array(value, n, index)
    return as_bool(value, index).to_numpy(dtype=bool)


def _at(column: Array, positions: np.ndarray) -> Array:
    """A column's values at ``positions`` (ascending, all valid): the column itself where they are all its records."""
    return column if len(positions) == len(column) else take_array(column, positions)


def _counts(counts: np.ndarray) -> Array:
    """Counts of related records as pandas' ``Int64`` (none missing), as a count has always been typed."""
    return pd.arrays.IntegerArray(counts.astype("int64", copy=False), np.zeros(len(counts), dtype=bool))
