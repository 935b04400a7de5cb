"""JSON output: the public contract CI scripts parse (documented in docs/output.md)."""

from __future__ import annotations

import json

from ..result import Result


def render_json(result: Result) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
