"""Named Python checks for the few rules the YAML language cannot say. Each is registered and tested.

A check takes the rule's evaluation scope and returns a boolean Series over the rule table's records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

CustomCheck = Callable[[Any], pd.Series]
CUSTOM_CHECKS: dict[str, CustomCheck] = {}


def custom_check(name: str) -> Callable[[CustomCheck], CustomCheck]:
    def register(fn: CustomCheck) -> CustomCheck:
        CUSTOM_CHECKS[name] = fn
        return fn

    return register
