"""rules/<return>/divergences.yaml is generated from the rules' own `divergence:` blocks and kept in step."""

from __future__ import annotations

import pytest

from validator.engine.divergences import divergences_path, render_divergences


@pytest.mark.parametrize("return_type", ["ssda903", "cin"])
def test_divergence_register_matches_the_rules(return_type: str) -> None:
    path = divergences_path(return_type)
    expected = render_divergences(return_type)
    assert path.exists(), f"run: python -m validator rules divergences --return {return_type} --write"
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path} is out of date: python -m validator rules divergences --return {return_type} --write"
    )
