"""The expression language of rule conditions: a small, safe subset of Python syntax, evaluated on pandas.

An expression such as ``present(DEC) and DEC < DECOM`` is parsed once with :mod:`ast`, checked against a
whitelist of node types and functions, and evaluated column-wise (never row by row) on a DataFrame.

Names are columns of the rule's table (``DECOM``), columns of a joined or related table through its alias
(``header.DOB``), values the rule defines under ``let``, or run constants (``collection_start``,
``collection_end``, ``reference_date``, ``census_start``, ``la``, ``year``).

Missing values: every comparison with a missing value is false (``DEC != DECOM`` is false when DEC is blank),
so rules say what they mean about blanks with ``present()`` and ``blank()``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from . import vectors

CONSTANTS = frozenset({"collection_start", "collection_end", "reference_date", "census_start", "la", "year"})

_COMPARE = vectors.COMPARE


def _divide(a: Any, b: Any) -> Any:
    """Division where dividing by zero gives a missing value, not an error (e.g. a share of no records)."""
    if isinstance(b, pd.Series):
        return a / b.where(b != 0)
    if b == 0:
        return float("nan")
    return a / b


_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _divide,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.Compare,
    ast.BinOp,
    ast.Call,
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Load,
    ast.In,
    ast.NotIn,
    *_COMPARE,
    *_ARITH,
)


class ExpressionError(ValueError):
    """An expression that cannot be accepted; the message says which part and why."""


@dataclass(frozen=True)
class Reference:
    alias: str | None
    name: str


@dataclass
class Compiled:
    """A parsed expression and what it refers to, for load-time checks."""

    source: str
    tree: ast.Expression
    references: set[Reference] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)


def compile_expression(source: str, known_functions: set[str]) -> Compiled:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot read expression '{source}': {exc.msg}") from None
    compiled = Compiled(source=source, tree=tree)
    callee_or_owner: set[int] = set()  # Name nodes that name a function or an alias, not a field
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            callee_or_owner.add(id(node.func))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            callee_or_owner.add(id(node.value))
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"'{source}': {type(node).__name__} is not part of the rule language")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ExpressionError(f"'{source}': only named functions can be called")
            if node.keywords:
                raise ExpressionError(f"'{source}': functions take positional arguments only")
            if node.func.id not in known_functions:
                raise ExpressionError(f"'{source}': unknown function {node.func.id}()")
            compiled.functions.add(node.func.id)
        elif isinstance(node, ast.Attribute):
            if not isinstance(node.value, ast.Name):
                raise ExpressionError(f"'{source}': write alias.FIELD, one level deep")
            compiled.references.add(Reference(node.value.id, node.attr))
        elif isinstance(node, ast.Name) and id(node) not in callee_or_owner:
            compiled.references.add(Reference(None, node.id))
    return compiled


def column_name(alias: str | None, name: str) -> str:
    return name if alias is None else f"{alias}.{name}"


SHARED_NODES = (ast.Call, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp)  # sub-expressions rules may share


def node_text(node: ast.AST) -> str:
    """The node's ``ast.dump``, worked out once per node: the rules' trees are loaded once and never change."""
    text = getattr(node, "_shared_dump", None)
    if text is None:
        text = ast.dump(node)
        node._shared_dump = text  # type: ignore[attr-defined]
    return text


def parts_below(node: ast.AST) -> list[str]:
    """The texts of the shared sub-expressions inside ``node`` (not itself), worked out once per node."""
    parts = getattr(node, "_shared_below", None)
    if parts is None:
        parts = [node_text(b) for b in ast.walk(node) if b is not node and isinstance(b, SHARED_NODES)]
        node._shared_below = parts  # type: ignore[attr-defined]
    return parts


def key_shared_parts(compiled: Compiled) -> None:
    """Works out the texts of the sub-expressions that rules may share (engine/shared.py) when an expression is
    compiled, so that they are kept with the compiled rules (in the rules cache) rather than worked out on each
    run."""
    for node in ast.walk(compiled.tree.body):
        if isinstance(node, SHARED_NODES):
            node_text(node)
            parts_below(node)


# ---------------------------------------------------------------------------------------------- evaluation


def as_bool(value: Any, index: pd.Index) -> pd.Series:
    """Any evaluated value as a plain boolean Series on ``index`` (missing -> False)."""
    if isinstance(value, np.ndarray):
        flags = vectors.truth(value)
        if flags is not None:
            return pd.Series(flags, index=index, copy=False)
        value = vectors.to_series(value, index)
    if isinstance(value, pd.Series):
        if value.dtype == bool:
            return value
        return value.fillna(False).astype(bool)
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return pd.Series(False, index=index)
    return pd.Series(bool(value), index=index)


def bool_array(value: Any, n: int, index: pd.Index) -> np.ndarray:
    """Any evaluated value as a plain boolean array of ``n`` values (missing -> False)."""
    if isinstance(value, np.ndarray):
        flags = vectors.truth(value)
        if flags is not None:
            return flags
    if isinstance(value, (np.ndarray, pd.Series)):
        return as_bool(value, index).to_numpy(dtype=bool)
    if isinstance(value, ExtensionArray):
        return as_bool(pd.Series(value, index=index, copy=False), index).to_numpy(dtype=bool)
    return np.full(n, _scalar_known(value) and bool(value), dtype=bool)


def _known(value: Any) -> Any:
    if isinstance(value, pd.Series):
        return value.notna()
    return vectors.scalar_known(value)


def _scalar_known(value: Any) -> bool:
    return not isinstance(value, (pd.Series, np.ndarray)) and vectors.scalar_known(value)


def compare(op: type, left: Any, right: Any, index: pd.Index) -> Any:
    """Compare element-wise; two single values (e.g. return-level totals) give a single answer."""
    if op in (ast.In, ast.NotIn):
        if not isinstance(right, (set, frozenset, list, tuple)):
            raise ExpressionError("the right of 'in' must be a list or codes('NAME')")
        if isinstance(left, np.ndarray):
            hit = vectors.is_in(left, right)
            if hit is not None:
                return hit if op is ast.In else (~hit & vectors.known(left))
            left = vectors.to_series(left, index)
        if isinstance(left, pd.Series):
            hit = left.isin(list(right)) & left.notna()
            return hit if op is ast.In else (~hit & left.notna())
        if not _scalar_known(left):
            return False
        return (left in right) if op is ast.In else (left not in right)
    fast = vectors.compare(op, left, right)
    if fast is not None:
        return fast
    left, right = vectors.to_series(left, index), vectors.to_series(right, index)
    if not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
        return bool(_COMPARE[op](left, right)) if _scalar_known(left) and _scalar_known(right) else False
    result = as_bool(_COMPARE[op](left, right), index)
    known = _known(left) & _known(right)
    if isinstance(known, pd.Series):
        return result & known.to_numpy()
    return result if known else pd.Series(False, index=index)


# share(node, compute): the node's value, computed by compute() or taken from an earlier rule's evaluation.
Share = Callable[[ast.AST, Callable[[], Any]], Any]
_LEAVES = frozenset({ast.Name, ast.Constant, ast.Attribute, ast.List, ast.Tuple})


_METHODS: dict[type, Callable[..., Any]] = {}  # each node type's method of the Evaluator, looked up once


class Evaluator:
    """Evaluates compiled expressions against a scope (frame, constants, functions).

    Inside, a column is its numpy array where it has a numpy type (engine/vectors.py), else a Series; the value
    handed back is a Series on the scope's index, as before."""

    def __init__(self, scope: Any, functions: dict[str, Any], share: Share | None = None) -> None:
        self.scope = scope
        self.functions = functions
        self.share = share  # values shared between rules (engine/shared.py), when the scope allows it

    @property
    def index(self) -> pd.Index:
        return self.scope.frame.index

    def run(self, compiled: Compiled) -> Any:
        return vectors.to_series(self.eval(compiled.tree.body), self.index)

    def eval(self, node: ast.AST) -> Any:
        kind = type(node)
        method = _METHODS.get(kind)
        if method is None:
            method = _METHODS[kind] = getattr(Evaluator, "_" + kind.__name__)
        if self.share is not None and kind not in _LEAVES:
            return self.share(node, lambda: method(self, node))
        return method(self, node)

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _List(self, node: ast.List) -> list[Any]:
        return [self.eval(e) for e in node.elts]

    _Tuple = _List

    def _Name(self, node: ast.Name) -> Any:
        return vectors.from_series(self.scope.lookup(None, node.id))

    def _Attribute(self, node: ast.Attribute) -> Any:
        assert isinstance(node.value, ast.Name)
        return vectors.from_series(self.scope.lookup(node.value.id, node.attr))

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        values = [self.eval(v) for v in node.values]
        if not any(isinstance(v, (pd.Series, np.ndarray)) for v in values):  # single values: a single answer
            flags = [bool(v) if _scalar_known(v) else False for v in values]
            return all(flags) if isinstance(node.op, ast.And) else any(flags)
        n = len(self.index)
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = bool_array(values[0], n, self.index)
        for v in values[1:]:
            out = combine(out, bool_array(v, n, self.index))
        return out

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            if not isinstance(value, (pd.Series, np.ndarray)):
                return not (bool(value) if _scalar_known(value) else False)
            return ~bool_array(value, len(self.index), self.index)
        if isinstance(value, np.ndarray) and value.dtype.kind not in vectors.NUMBER_KINDS:
            value = vectors.to_series(value, self.index)
        return -value

    def _Compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        out: Any = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node)
            part = compare(type(op), left, right, self.index)
            if out is None:
                out = part
            elif isinstance(out, (pd.Series, np.ndarray)) or isinstance(part, (pd.Series, np.ndarray)):
                n = len(self.index)
                out = bool_array(out, n, self.index) & bool_array(part, n, self.index)
            else:
                out = out and part
            left = right
        return out

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        fast = vectors.arithmetic(type(node.op), left, right)
        if fast is not None:
            return fast
        index = self.index
        return _ARITH[type(node.op)](vectors.to_series(left, index), vectors.to_series(right, index))

    def _Call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        fn = self.functions[node.func.id]
        if fn.raw_args:
            return vectors.from_series(fn.impl(self.scope, *node.args))
        args = [self.eval(a) for a in node.args]

        def call() -> Any:
            if fn.per_distinct and vectors.has_text(args[0]) and not any(vectors.is_column(a) for a in args[1:]):
                found = vectors.per_distinct(args[0], lambda text: fn.impl(self.scope, text, *args[1:]), self.index)
                if found is not None:
                    return found
            given = args if fn.arrays else [vectors.to_series(a, self.index) for a in args]
            return vectors.from_series(fn.impl(self.scope, *given))

        memo = vectors.RUN_MEMO.get()
        if fn.pure and memo is not None and any(isinstance(a, np.ndarray) for a in args):
            return memo.get(fn.name, args, call)
        return call()
