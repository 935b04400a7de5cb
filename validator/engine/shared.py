"""Sub-expressions evaluated once for all the rules of a run that share them.

Many rules test the same thing on the same records (``present(DECOM)``, ``LS in ['V3', 'V4']``, ``is_first()``,
``to_date(SW_DECOM)``...). A rule without joins or `let` values evaluates its condition on its table's records as
they are, so two such rules on one table (and with the same sequence) get the same value from the same
expression: the first computes it, the others reuse it. Which sub-expressions repeat is worked out once from the
rules of the return and year; a value is kept only until its last expected use, so memory stays small.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any

from .expr import node_text, parts_below
from .model import rules_for
from .rule import Prefix, RuleLoadError, condition_expressions, rule_prefix

__all__ = ["Prefix", "SharedValues", "condition_expressions", "repeated", "rule_prefix"]


@cache
def repeated(return_type: str, year: str) -> dict[tuple[Prefix, str], int]:
    """How many times each shared sub-expression is evaluated by the return's rules of the year, where more than
    once."""
    try:
        rules = rules_for(return_type, year)
    except RuleLoadError:  # sharing only saves time: without the shipped rules, nothing is shared
        return {}
    uses: Counter[tuple[Prefix, str]] = Counter()
    for rule in rules:
        uses.update(rule.shared_uses())
    return {key: n for key, n in uses.items() if n > 1}


class SharedValues:
    """The values of repeated sub-expressions during one run, each kept until its last expected use."""

    def __init__(self, return_type: str, year: str) -> None:
        self._remaining = dict(repeated(return_type, year))
        self._values: dict[tuple[Prefix, str], Any] = {}

    def _key(self, prefix: Prefix, node: ast.AST) -> tuple[Prefix, str]:
        return (prefix, node_text(node))

    def value(self, prefix: Prefix, node: ast.AST, compute: Callable[[], Any]) -> Any:
        key = self._key(prefix, node)
        if key not in self._remaining:
            return compute()
        if key in self._values:
            value = self._values[key]
            for below in parts_below(node):  # the parts it would have evaluated: one use fewer each
                self._used((prefix, below))
        else:
            value = compute()
            self._values[key] = value
        self._used(key)
        return value

    def _used(self, key: tuple[Prefix, str]) -> None:
        left = self._remaining.get(key)
        if left is None:
            return
        if left <= 1:
            del self._remaining[key]
            self._values.pop(key, None)
        else:
            self._remaining[key] = left - 1
