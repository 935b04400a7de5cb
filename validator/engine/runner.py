"""Runs compiled rules over a typed Dataset. Tables are never modified: every rule works on its own frames,
so no rule's result depends on which rules ran before it. A rule ends as run, not_run (with the reason) or
crashed (with the error); a crash never stops the other rules."""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..codelists import codes_for
from ..dataset import FILE, LINE, PREVIOUS, ROW, Dataset
from ..findings import NO_RECORD, SEVERAL_RECORDS, UNCONFIRMED, FindingTable
from ..ingest.coerce import RAW_SUFFIX
from ..ingest.typed import empty_frame
from ..years import year_containing
from .derived import (
    ChildDerivation,
    DerivationContext,
    DerivedDataUnavailable,
    child_derivations_for,
    derivations_for,
    year_table,
    years_back_of,
)
from .expr import CONSTANTS, Compiled, Evaluator, ExpressionError, as_bool, column_name
from .functions import FUNCTIONS
from .model import ALL_YEARS, Condition, Related, Rule, default_on

# Why a rule is not run when a table given by an option (tables.yaml `supplied_by`) was not given.
SUPPLIED_BY = {"providers": "needs the Ofsted provider list: give --providers FILE"}


@dataclass
class RuleOutcome:
    rule: Rule
    status: str  # "run" | "not_run" | "crashed"
    findings: FindingTable = field(default_factory=FindingTable)
    reason: str = ""


class TableStore:
    """Read-only access to the dataset's tables, with derived columns computed once and shared."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._frames: dict[str, pd.DataFrame] = {}
        self._derived: dict[tuple[str, str], pd.DataFrame] = {}
        self._per_child: dict[tuple[str, int], pd.DataFrame] = {}
        self._with_derived: dict[tuple[str, frozenset[str]], pd.DataFrame] = {}
        self.derive_seconds = 0.0  # time spent computing derived columns (reported by benchmarks/run.py)
        self._orderings: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[np.ndarray, np.ndarray]] = {}
        self._child_ids: pd.Index | None = None  # every child id of the run, in a fixed order (CHILD_CODE)
        ctx = dataset.context
        self._derivation_context = DerivationContext(
            dataset.schema.child_key,
            ctx.la,
            dataset.postcodes,
            pd.Timestamp(ctx.collection_start),
            pd.Timestamp(ctx.collection_end),
        )

    def frame(self, name: str, derived: frozenset[str] = frozenset()) -> pd.DataFrame:
        """The table with the ``derived`` columns it has; a table that was not supplied has no records.

        Raises DerivedDataUnavailable when a derived column needs data the run does not have.
        """
        if name not in self._frames:
            if name.endswith(ALL_YEARS):
                self._frames[name] = self._with_child_code(self._all_years(name.removesuffix(ALL_YEARS)))
                return self._frames[name].copy(deep=False)  # no derived columns: those are worked out per year
            if name in self.dataset.tables:
                found = self.dataset.tables[name].df
            else:
                found = empty_frame(self.dataset.schema.tables[name.split("@")[0]])
            self._frames[name] = self._with_child_code(found)
        df = self._frames[name]
        base = name.split("@")[0]
        derivations = derivations_for(self.dataset.return_type, base, set(derived))
        per_child = child_derivations_for(self.dataset.return_type, set(derived))
        if self.dataset.schema.child_key not in df.columns:
            per_child = []
        if not derivations and not per_child:
            return df.copy(deep=False)
        combined_key = (name, frozenset(d.name for d in [*derivations, *per_child]))
        if combined_key in self._with_derived:
            return self._with_derived[combined_key].copy(deep=False)
        parts = []
        for derivation in derivations:
            key = (name, derivation.name)
            if key not in self._derived:
                started = time.perf_counter()
                try:
                    self._derived[key] = derivation.compute(df, self._derivation_context)
                finally:
                    self.derive_seconds += time.perf_counter() - started
            parts.append(self._derived[key])
        parts.extend(self._child_facts(name, df, per_child))
        # A column the engine derives replaces a same-named extra column of the file (e.g. an extract's own
        # PL_LA): rules see one meaning of each name.
        derived_names = {c for part in parts for c in part.columns}
        combined = pd.concat([df.drop(columns=[c for c in df.columns if c in derived_names]), *parts], axis=1)
        self._with_derived[combined_key] = combined  # built once per table and set of derivations, then shared
        return combined.copy(deep=False)

    def years_given(self, base: str) -> int:
        """How many earlier years' ``base`` tables were given, without a gap (``--previous``, most recent first)."""
        n = 0
        while year_table(base, n + 1) in self.dataset.tables:
            n += 1
        return n

    def history_start(self, base: str) -> pd.Timestamp:
        """1 April of the oldest year whose ``base`` table was given: the care history before it is unseen."""
        return pd.Timestamp(self.dataset.context.collection_start) - pd.DateOffset(years=self.years_given(base))

    def _all_years(self, base: str) -> pd.DataFrame:
        """``base`` of this year and of each earlier year given, each record with its return's collection year."""
        start = pd.Timestamp(self.dataset.context.collection_start)
        end = pd.Timestamp(self.dataset.context.collection_end)
        parts = []
        for back in range(self.years_given(base) + 1):
            name = year_table(base, back)
            df = (
                self.dataset.tables[name].df
                if name in self.dataset.tables
                else empty_frame(self.dataset.schema.tables[base])
            )
            parts.append(
                df.assign(
                    RETURN_START=start - pd.DateOffset(years=back),
                    RETURN_END=end - pd.DateOffset(years=back),
                )
            )
        return pd.concat(parts, ignore_index=True)

    def _with_child_code(self, df: pd.DataFrame) -> pd.DataFrame:
        """The table with CHILD_CODE: the child's id as a number, the same in every table and year (-1 where the
        id is blank), so that relations on the child id merge on integers rather than text."""
        key = self.dataset.schema.child_key
        if key not in df.columns:
            return df
        if self._child_ids is None:
            ids = [t.df[key] for t in self.dataset.tables.values() if key in t.df.columns]
            self._child_ids = pd.Index(pd.concat(ids, ignore_index=True).dropna().unique() if ids else [])
        return df.assign(**{CHILD_CODE: self._child_ids.get_indexer(df[key])})

    def ordering(self, rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
        """The sequence order of a rule's base frame, sorted once per table and keys and shared between rules.

        Shared only when every key is a column of the rule's own table (not of a join or a `let`), so that the
        order depends on nothing but the table; the base frame holds the table's records in their order.
        """
        keys = (*rule.sequence_by, *rule.sequence_order)
        table = self.dataset.tables.get(rule.table)
        if table is None or len(frame) != len(table.df) or any("." in k or k in rule.lets for k in keys):
            return None
        cache_key = (rule.table, rule.sequence_by, rule.sequence_order)
        if cache_key not in self._orderings:
            self._orderings[cache_key] = Sequence.ordering(frame, rule.sequence_by, rule.sequence_order)
        return self._orderings[cache_key]

    def _child_facts(self, name: str, df: pd.DataFrame, chosen: list[ChildDerivation]) -> list[pd.DataFrame]:
        """The per-child derived columns of ``chosen``, each child's value on each of its records."""
        child_key = self.dataset.schema.child_key
        years_back = years_back_of(name)
        parts = []
        for derivation in chosen:
            key = (derivation.name, years_back)
            if key not in self._per_child:
                started = time.perf_counter()
                try:
                    self._per_child[key] = derivation.compute(self.frame, self._derivation_context, years_back)
                finally:
                    self.derive_seconds += time.perf_counter() - started
            facts = self._per_child[key].reindex(df[child_key].to_numpy())
            parts.append(facts.eq(True).set_axis(df.index))
        return parts


CHILD_CODE = "_child_code"


def _keys_present(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Rows whose merge keys are all there: not blank, and not -1 for a child code (a blank id)."""
    present = frame[keys].notna().all(axis=1).to_numpy().copy()
    for key in keys:
        if key.endswith(CHILD_CODE):
            present &= frame[key].to_numpy() >= 0
    return present


def group_reduce(values: pd.Series, groups: np.ndarray, how: str, transform: bool = False) -> pd.Series:
    """``values.groupby(groups).agg(how)`` (or ``.transform(how)``), fast for min and max of text too.

    pandas reduces text one group at a time in Python (seconds for a national return); here the text is turned
    into its rank among the distinct values, the ranks are reduced in compiled code, and the ranks turned back
    into text. The result is the same, dtype included.
    """
    if how not in ("min", "max") or not isinstance(values.dtype, pd.StringDtype):
        grouped = values.groupby(groups)
        return grouped.transform(how) if transform else grouped.agg(how)
    codes, uniques = pd.factorize(values, sort=True)  # codes follow the sorted order; a missing value is -1
    ranks = pd.Series(np.where(codes >= 0, codes, np.nan), index=values.index)
    grouped = ranks.groupby(groups)
    reduced = grouped.transform(how) if transform else grouped.agg(how)
    picked = reduced.to_numpy()
    positions = np.where(np.isnan(picked), -1, np.nan_to_num(picked, nan=-1)).astype("int64")
    text = uniques.take(positions, allow_fill=True, fill_value=None)
    return pd.Series(text.array, index=reduced.index, dtype=values.dtype)


class Sequence:
    """A rule's per-group order (e.g. each child's episodes by DECOM): neighbours, positions, group values."""

    def __init__(
        self,
        frame: pd.DataFrame,
        by: tuple[str, ...],
        order: tuple[str, ...],
        known: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.order, self.groups_sorted = known if known is not None else self.ordering(frame, by, order)
        self.index = frame.index
        self.runs_sorted: np.ndarray | None = None

    @staticmethod
    def ordering(frame: pd.DataFrame, by: tuple[str, ...], order: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The frame's index labels in sequence order, and each one's group number."""
        keys = list(by) + list(order)
        if keys:
            ordered = frame.sort_values(keys, na_position="last", kind="stable") if len(frame) else frame
        else:
            ordered = frame
        if by:
            groups = ordered.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
        else:
            groups = np.zeros(len(ordered), dtype="int64")
        return ordered.index.to_numpy(), groups

    def set_runs(self, continues: pd.Series) -> None:
        """Split each group into runs: a record starts a new run unless ``continues`` is true for it."""
        flags = continues.reindex(self.order).fillna(False).to_numpy(dtype=bool)
        first_in_group = np.ones(len(flags), dtype=bool)
        first_in_group[1:] = self.groups_sorted[1:] != self.groups_sorted[:-1]
        self.runs_sorted = np.cumsum(~flags | first_in_group)

    def run_transform(self, x: pd.Series, how: str) -> pd.Series:
        assert self.runs_sorted is not None
        ordered = x.reindex(self.order).reset_index(drop=True)
        keep = x.dtype if how in ("min", "max", "first", "last") else None
        return self._back(group_reduce(ordered, self.runs_sorted, how, transform=True), dtype=keep)

    def _back(self, values: np.ndarray | pd.Series, dtype: Any = None) -> pd.Series:
        out = pd.Series(values.to_numpy() if isinstance(values, pd.Series) else values, index=self.order, dtype=dtype)
        return out.reindex(self.index)

    def shift(self, x: pd.Series, n: int) -> pd.Series:
        ordered = x.reindex(self.order).reset_index(drop=True)
        shifted = ordered.groupby(self.groups_sorted, sort=False).shift(n)
        return self._back(shifted, dtype=x.dtype if x.dtype.kind in "Mb" else None)

    def position(self) -> pd.Series:
        pos = pd.Series(np.ones(len(self.order), dtype="int64")).groupby(self.groups_sorted, sort=False).cumsum() - 1
        return self._back(pos)

    def group_size(self) -> pd.Series:
        size = (
            pd.Series(np.ones(len(self.order), dtype="int64")).groupby(self.groups_sorted, sort=False).transform("sum")
        )
        return self._back(size)

    def transform(self, x: pd.Series, how: str) -> pd.Series:
        ordered = x.reindex(self.order).reset_index(drop=True)
        return self._back(
            group_reduce(ordered, self.groups_sorted, how, transform=True),
            dtype=x.dtype if how in ("min", "max") else None,
        )

    def at_position(self, x: pd.Series, first: bool) -> pd.Series:
        ordered = x.reindex(self.order).to_numpy()
        positions = pd.Series(np.arange(len(self.order))).groupby(self.groups_sorted, sort=False)
        picked = positions.transform("first" if first else "last").to_numpy()
        return self._back(ordered[picked], dtype=x.dtype)


class Scope:
    """What an expression sees: the frame of records, run constants, code lists, the rule's sequence."""

    def __init__(self, frame: pd.DataFrame, run: RuleRun, sequence_allowed: bool = True) -> None:
        self.frame = frame
        self.run = run
        self._sequence: Sequence | None = None
        self._sequence_allowed = sequence_allowed

    def lookup(self, alias: str | None, name: str) -> Any:
        col = column_name(alias, name)
        if col in self.frame:
            return self.frame[col]
        if alias is None and name in self.run.constants:
            return self.run.constants[name]
        raise ExpressionError(f"'{col}' is not available here")

    def codes(self, name: str) -> frozenset[str]:
        return codes_for(self.run.rule.return_type, name, self.run.year)

    @property
    def sequence(self) -> Sequence:
        if not self._sequence_allowed:
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
        self.constants = self.dataset.context.constants()

    def evaluate(self, compiled: Compiled, scope: Scope) -> Any:
        return Evaluator(scope, FUNCTIONS).run(compiled)

    # -- related tables -------------------------------------------------------------------------------------

    def related_frame(self, rel: Related, wanted: set[str] | None = None) -> pd.DataFrame:
        """The related table with its columns named ``alias.COLUMN``; only those in ``wanted`` when given."""
        other = self.store.frame(rel.table, self.rule.derived_used)
        if wanted is not None:
            other = other[[c for c in other.columns if f"{rel.alias}.{c}" in wanted]]
        return other.rename(columns={c: f"{rel.alias}.{c}" for c in other.columns})

    def pairs(self, base: pd.DataFrame, rel: Related, extra: frozenset[str] = frozenset()) -> pd.DataFrame:
        """Every (record, related record) pair that satisfies the relation and its ``where``; __pos is the record.

        Only the columns the relation's keys and expressions name (and ``extra``) are carried into the pairs, so
        the cost of the merge does not grow with the width of either table.
        """
        lk, rk = self.merge_keys(base, rel)
        wanted = referenced_columns(rel.where, rel.value, rel.start, rel.end) | set(lk) | set(rk) | extra
        if rel.exclude_self:
            wanted |= {ROW, f"{rel.alias}.{ROW}"}
        left = base[[c for c in base.columns if c in wanted]].assign(__pos=np.arange(len(base)))
        right = self.related_frame(rel, wanted)
        left = left[_keys_present(left, lk)]
        right = right[_keys_present(right, rk)]
        merged = left.merge(right, left_on=lk, right_on=rk, how="inner", suffixes=("", "__r"))
        if rel.exclude_self:
            merged = merged[merged[f"{rel.alias}.{ROW}"] != merged[ROW]]
        merged = merged.reset_index(drop=True)
        if rel.where is not None and len(merged):
            keep = as_bool(self.evaluate(rel.where, Scope(merged, self, sequence_allowed=False)), merged.index)
            merged = merged[keep.to_numpy()]
        return merged

    def quantify(self, base: pd.DataFrame, rel: Related, how: str) -> pd.Series:
        merged = self.pairs(base, rel)
        positions = merged["__pos"].to_numpy()
        if how in ("exists", "none"):
            hit = np.zeros(len(base), dtype=bool)
            hit[positions] = True
            return pd.Series(hit if how == "exists" else ~hit, index=base.index)
        if how == "count":
            counts = np.bincount(positions, minlength=len(base)) if len(positions) else np.zeros(len(base), "int64")
            return pd.Series(counts, index=base.index, dtype="Int64")
        if how == "covered":
            return self.covered(base, merged, rel)
        assert rel.value is not None
        values = self.evaluate(rel.value, Scope(merged, self, sequence_allowed=False))
        values = values if isinstance(values, pd.Series) else pd.Series(values, index=merged.index)
        agg = group_reduce(values, positions, how)
        out = pd.Series(agg, index=range(len(base))).reindex(range(len(base)))
        out.index = base.index
        return out if how != "sum" else out.fillna(0)

    def covered(self, base: pd.DataFrame, merged: pd.DataFrame, rel: Related) -> pd.Series:
        """Days covered by the related records' periods [start, end), a day covered twice counted once.

        Periods whose start or end is missing, or that end on or before they start, cover nothing.
        """
        assert rel.start is not None and rel.end is not None
        scope = Scope(merged, self, sequence_allowed=False)
        periods = pd.DataFrame(
            {
                "pos": merged["__pos"].to_numpy(),
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
        return pd.Series(out, index=base.index, dtype="Int64")

    def merge_keys(self, base: pd.DataFrame, rel: Related) -> tuple[list[str], list[str]]:
        """The columns a relation merges on: its ``on`` pairs, with the child's id as its number (CHILD_CODE) where
        both sides name the child's id."""
        key = self.store.dataset.schema.child_key
        by_code = CHILD_CODE in base.columns
        pairs = [(CHILD_CODE, CHILD_CODE) if by_code and m == t == key else (m, t) for m, t in rel.on]
        return [m for m, _ in pairs], [f"{rel.alias}.{t}" for _, t in pairs]

    def join(self, base: pd.DataFrame, alias: str, rel: Related) -> pd.DataFrame:
        right = self.related_frame(rel)
        lk, rk = self.merge_keys(base, rel)
        right = right[_keys_present(right, rk)].drop_duplicates(subset=rk, keep="first")
        merged = base.merge(right, left_on=lk, right_on=rk, how="left", suffixes=("", "__r"))
        merged.index = base.index
        return merged

    # -- conditions ----------------------------------------------------------------------------------------

    def condition(self, cond: Condition, scope: Scope) -> Any:
        frame = scope.frame
        if cond.op == "expr":
            assert cond.expr is not None
            return self.evaluate(cond.expr, scope)
        if cond.op in ("all", "any"):
            values = [as_bool(self.condition(p, scope), frame.index) for p in cond.parts]
            out = values[0]
            for v in values[1:]:
                out = (out & v) if cond.op == "all" else (out | v)
            return out
        if cond.op == "not":
            return ~as_bool(self.condition(cond.parts[0], scope), frame.index)
        assert cond.related is not None
        return self.quantify(frame, cond.related, cond.op)

    def base_frame(self) -> pd.DataFrame:
        rule = self.rule
        frame = self.store.frame(rule.table, rule.derived_used).reset_index(drop=True)
        for alias, rel in rule.joins.items():
            frame = self.join(frame, alias, rel)
        for name, (how, rel) in rule.lets.items():
            if rel.whole_table:
                self.constants[name] = self.whole_table(rel, how)
            else:
                frame[name] = self.quantify(frame, rel, how)
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

    def flagged(self) -> tuple[pd.DataFrame, pd.Series | bool]:
        rule = self.rule
        frame = self.base_frame()
        scope = Scope(frame, self)
        value = self.condition(rule.condition, scope)
        if rule.level == "return":
            if isinstance(value, pd.Series):
                return frame, bool(value.fillna(False).any())
            return frame, bool(value) if value is not None and value == value else False
        return frame, as_bool(value, frame.index)


# ------------------------------------------------------------------------------------------------- findings


def _display(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def _field_column(rule: Rule, frame: pd.DataFrame, name: str) -> str | None:
    if "." in name:
        owner, col = name.split(".", 1)
        if owner == rule.table.split("@")[0] and col in frame:
            return col
        for alias, rel in rule.joins.items():
            if owner in (alias, rel.table, rel.table.split("@")[0]) and f"{alias}.{col}" in frame:
                return f"{alias}.{col}"
        return None
    return name if name in frame else None


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


def _shown(frame: pd.DataFrame, col: str) -> pd.Series:
    """A column's values as a finding shows them: an unreadable value as the text the file had."""
    shown = frame[col]
    if col + RAW_SUFFIX in frame:
        shown = shown.astype("object").where(shown.notna(), frame[col + RAW_SUFFIX])
    return shown


def _join_of(rule: Rule, name: str) -> str | None:
    """The alias of the join a ``Table.FIELD`` (or ``alias.FIELD``) field of the rule comes from."""
    owner = name.split(".", 1)[0]
    for alias, rel in rule.joins.items():
        if owner in (alias, rel.table, rel.table.split("@")[0]):
            return alias
    return None


def _one_per_record(pairs: pd.DataFrame, col: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``count`` records (``__pos``): its related records' value of ``col`` where they agree, and
    how many related records it has; records whose related records disagree get SEVERAL_RECORDS."""
    found = np.zeros(count, dtype="int64")
    out = np.full(count, None, dtype=object)
    if not len(pairs):
        return out, found
    positions = pairs["__pos"].to_numpy()
    found = np.bincount(positions, minlength=count)
    shown = _shown(pairs, col).astype("object")
    text = shown.map(lambda v: None if v is None or v is pd.NA or v is pd.NaT or v != v else str(v))
    grouped = pd.DataFrame({"pos": positions, "text": text.to_numpy(), "value": shown.to_numpy()}).groupby("pos")
    distinct = grouped["text"].nunique(dropna=False)
    first = grouped["value"].first() if shown.notna().any() else grouped["text"].first()
    # `first` skips blanks: a record whose related records are all blank shows a blank.
    blank_only = grouped["text"].count() == 0
    for pos, n in distinct.items():
        if n > 1:
            out[pos] = SEVERAL_RECORDS
        elif not blank_only[pos]:
            out[pos] = _display(first[pos])
    return out, found


def related_values(run: RuleRun, hits: pd.DataFrame, name: str) -> list[Any]:
    """The value of ``Table.FIELD`` that each flagged record was compared with, from the record the rule related
    it to: a joined record; the records an `exists`/`none`/`let` relates it to (those its `where` matched, else
    all its related records); the value of a `min`/`max` of that field; otherwise the owner table's records
    related by default (the CIN header's one record). NO_RECORD where there is none, SEVERAL_RECORDS where
    several disagree; a blank only where the record's field is blank in the file."""
    rule = run.rule
    owner, col = name.split(".", 1)
    alias = _join_of(rule, name)
    if alias is not None:
        rel = rule.joins[alias]
        _, rk = run.merge_keys(hits, rel)
        values = [_display(v) for v in _shown(hits, f"{alias}.{col}").tolist()]
        matched = hits[rk].notna().all(axis=1).tolist()
        return [v if m else NO_RECORD for v, m in zip(values, matched, strict=True)]
    for let_name, (how, rel) in rule.lets.items():
        if (
            how in ("min", "max")
            and rel.table.split("@")[0] == owner
            and rel.value is not None
            and rel.value.source.strip() == f"{rel.alias}.{col}"
            and let_name in hits
        ):
            return [v if v is not None else NO_RECORD for v in (_display(x) for x in hits[let_name].tolist())]
    candidates = [r for r in rule.related if r.table.split("@")[0] == owner and not r.whole_table]
    candidates.sort(key=lambda r: r.table != owner)  # this year's table before an earlier year's
    base = hits.reset_index(drop=True)
    if not candidates:
        schema = run.dataset.schema
        if owner not in schema.tables:
            return [None] * len(hits)
        on = default_on(schema, rule.table, owner)
        keys = [on] if isinstance(on, str) else on
        if all(k in base.columns for k in keys) and all(k in schema.tables[owner].columns for k in keys):
            pairs_on = tuple((k, k) for k in keys)
        else:
            pairs_on = ()  # a table that does not relate to the record (the CIN header): its own records
        candidates = [Related(owner, owner.lower(), pairs_on, None, False, None)]
    count = len(base)
    chosen = np.full(count, None, dtype=object)
    decided = np.zeros(count, dtype=bool)
    for use_where in (True, False):
        for rel in candidates:
            if rel.table not in run.dataset.tables:
                continue
            rel = rel if use_where else replace(rel, where=None)
            column = f"{rel.alias}.{col}"
            if rel.on:
                pairs = run.pairs(base, rel, frozenset({column, column + RAW_SUFFIX}))
            else:
                records = run.related_frame(rel, {column, column + RAW_SUFFIX})
                pairs = pd.DataFrame(
                    {c: np.tile(records[c].to_numpy(), count) for c in records.columns}
                    | {"__pos": np.repeat(np.arange(count), len(records))}
                )
            if column not in pairs:
                continue
            values, found = _one_per_record(pairs, column, count)
            take = ~decided & (found > 0)
            chosen[take] = values[take]
            decided |= take
    chosen[~decided] = NO_RECORD
    return chosen.tolist()


def make_findings(
    rule: Rule, frame: pd.DataFrame, mask: pd.Series, dataset: Dataset, run: RuleRun | None = None
) -> FindingTable:
    if not mask.any():  # most rules flag nothing: skip building the columns
        return FindingTable()
    child_key = dataset.schema.child_key
    table = rule.table
    cols = [_field_column(rule, frame, f) for f in rule.fields]
    related = run is not None and any(
        "." in f and _field_column(rule, frame, f) != f.split(".", 1)[1] for f in rule.fields
    )
    if related:
        hits = frame.loc[mask.to_numpy()]
    else:
        shown_cols = {c for c in cols if c is not None} | {c + RAW_SUFFIX for c in cols if c is not None}
        shown_cols |= {child_key, ROW, FILE, LINE}
        hits = frame.loc[mask.to_numpy(), [c for c in frame.columns if c in shown_cols]]
    values: list[list[Any]] = []
    for name, col in zip(rule.fields, cols, strict=True):
        if run is not None and "." in name and col != name.split(".", 1)[1]:
            values.append(related_values(run, hits, name))
            continue
        if col is None:
            values.append([None] * len(hits))
            continue
        values.append([_display(v) for v in _shown(hits, col).tolist()])
    children = hits[child_key].tolist() if child_key in hits else [None] * len(hits)
    rows = hits[ROW].tolist()
    files = hits[FILE].tolist()
    lines = hits[LINE].tolist()
    n = len(hits)
    return FindingTable.build(
        n,
        code=rule.code,
        severity=rule.severity,
        level=rule.level,
        message=rule.message,
        table=table,
        row=[int(r) for r in rows],
        child=[None if c is None or c != c else str(c) for c in children],
        fields=tuple(rule.fields),
        values=list(zip(*values, strict=True)) if values else [()] * n,
        file=files,
        line=[int(x) for x in lines],
    )


def confirm_history(
    rule: Rule, frame: pd.DataFrame, flagged: pd.Series, findings: FindingTable, store: TableStore
) -> FindingTable:
    """Marks unconfirmed the findings that rest on history older than the returns given (the rule's `history:`).

    ``findings`` are those of ``frame``'s flagged records, in frame order (as :func:`make_findings` makes them).
    """
    history = rule.history
    assert history is not None
    run = RuleRun(rule, store)
    scope = Scope(frame, run)
    mask = flagged.to_numpy(dtype=bool)
    needed_from = pd.to_datetime(pd.Series(run.evaluate(history.start, scope), index=frame.index))[mask]
    applies = (
        as_bool(run.evaluate(history.when, scope), frame.index)[mask]
        if history.when is not None
        else pd.Series(True, index=needed_from.index)
    )
    first = store.history_start(history.table)
    confidence, notes = findings.column("confidence"), findings.column("note")
    for i, (since, rests) in enumerate(zip(needed_from.tolist(), applies.tolist(), strict=True)):
        if not rests or (not pd.isna(since) and since >= first):
            continue
        confidence[i] = UNCONFIRMED
        notes[i] = history_note(history.table, first, since, store.dataset.context.year)
    return findings.assign(confidence=confidence, note=notes)


def history_note(table: str, first: pd.Timestamp, since: pd.Timestamp | None, year: str) -> str:
    """Why an answer resting on ``table`` before ``first`` (1 April of the oldest year given with ``year``'s return)
    is not settled, and the returns that would settle it: back to the year of ``since`` (blank: every earlier one).
    Unconfirmed findings and the preview's figures say it in these same words."""
    oldest = year_containing(first.date())
    given = "only this year's return was given" if oldest == year else f"returns given back to {oldest}"
    need = "every earlier year's return"
    if since is not None and not pd.isna(since):
        need = f"the returns back to {year_containing(since.date())}"
    return f"Rests on {table} before {first:%d/%m/%Y} ({given}): give {need} with --previous to confirm."


def missing_requirement(rule: Rule, dataset: Dataset) -> str | None:
    """Why the rule cannot run on this dataset, or None."""
    for table in rule.tables_needed:
        if table not in dataset.tables:
            base, _, prev = table.partition("@")
            if prev:
                which = "previous year's" if table.endswith(PREVIOUS) else "earlier year's"
                return f"needs the {which} {base} table, which was not supplied (give --previous)"
            table_def = dataset.schema.tables.get(base)
            if table_def is not None and table_def.supplied_by in SUPPLIED_BY:
                return SUPPLIED_BY[table_def.supplied_by]
            return f"needs the {base} table, which was not supplied"
    for table, cols in _columns_used(rule).items():
        if table not in dataset.tables:
            continue
        t = dataset.tables[table]
        for col in sorted(cols):
            lacking = t.missing_columns.get(col)
            if lacking and len(lacking) == len(t.files):
                return f"needs column {col} of {table.split('@')[0]}, which {', '.join(lacking)} lacks"
    return None


def _columns_used(rule: Rule) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    aliases = {alias: rel.table for alias, rel in rule.joins.items()}

    def add(compiled: Compiled | None, local: dict[str, str]) -> None:
        if compiled is None:
            return
        for ref in compiled.references:
            if ref.alias is None:
                if ref.name not in CONSTANTS and ref.name not in rule.lets:
                    used.setdefault(rule.table, set()).add(ref.name)
            elif ref.alias in local:
                used.setdefault(local[ref.alias], set()).add(ref.name)
        for node in ast.walk(compiled.tree):
            if isinstance(node, ast.Call) and node.func.id in ("invalid", "raw", "filled") and node.args:  # type: ignore[union-attr]
                arg = node.args[0]
                if isinstance(arg, ast.Name):
                    used.setdefault(rule.table, set()).add(arg.id)

    def walk(cond: Condition | None) -> None:
        if cond is None:
            return
        add(cond.expr, aliases)
        if cond.related:
            local = {**aliases, cond.related.alias: cond.related.table}
            add(cond.related.where, local)
            add(cond.related.value, local)
        for part in cond.parts:
            walk(part)

    walk(rule.condition)
    add(rule.sequence_run, aliases)
    for _, rel in rule.lets.values():
        local = {**aliases, rel.alias: rel.table}
        for compiled in (rel.where, rel.value, rel.start, rel.end):
            add(compiled, local)
    return used


def run_rule(rule: Rule, store: TableStore) -> RuleOutcome:
    reason = missing_requirement(rule, store.dataset)
    if reason:
        return RuleOutcome(rule, "not_run", reason=reason)
    try:
        run = RuleRun(rule, store)
        frame, flagged = run.flagged()
        if rule.level == "return":
            findings = FindingTable.build(
                1 if flagged else 0,
                code=rule.code,
                severity=rule.severity,
                level="return",
                message=rule.message,
                table=rule.table,
                fields=tuple(rule.fields),
            )
            return RuleOutcome(rule, "run", findings)
        assert isinstance(flagged, pd.Series)
        findings = make_findings(rule, frame, flagged, store.dataset, run)
        if rule.history is not None and findings:
            findings = confirm_history(rule, frame, flagged, findings, store)
        return RuleOutcome(rule, "run", findings)
    except DerivedDataUnavailable as exc:
        return RuleOutcome(rule, "not_run", reason=exc.reason)
    except Exception as exc:  # a rule that raises is reported as crashed; the run carries on
        return RuleOutcome(rule, "crashed", reason=f"{type(exc).__name__}: {exc}")
