"""The compiled rules and parsed data files in the user's cache: named by a stamp of their sources' identities
(validator.cache.source_stamp), with a content check for files changed moments before; the rules' cold fields
(spec, examples) read from the same signed file when first asked; a file not signed with the user's key never
used."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import shutil
from pathlib import Path

import pytest

from validator import cache, yamlio
from validator.engine import model
from validator.resources import CACHE_ENV, schemas_dir


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache in a temporary folder; load_rules' in-process memo cleared before and after."""
    path = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(path))
    model.load_rules.cache_clear()
    yield path
    model.load_rules.cache_clear()


def _rewrite_keeping_stat(path: Path, old: str, new: str) -> None:
    """Change the file's content, same size, and set its modification time back: only its change time (and, for
    a recent file, its content) tells."""
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_a_stamp_names_each_files_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("x: 1\n", encoding="utf-8")
    b.write_text("y: 2\n", encoding="utf-8")
    first = cache.source_stamp([a, b])
    assert first.recent == (a, b)  # just written: checked by content
    assert cache.source_stamp([a, b]) == first
    assert cache.source_stamp([a, b], salt="other code").digest != first.digest
    assert cache.source_stamp([a]).digest != first.digest
    monkeypatch.setattr(cache, "SETTLE_NS", 0)  # as if written long ago
    settled = cache.source_stamp([a, b])
    assert settled.recent == () and settled.digest == first.digest
    _rewrite_keeping_stat(a, "1", "3")  # same size and modification time: the change time still moves
    assert cache.source_stamp([a, b]).digest != settled.digest
    a.unlink()
    assert cache.source_stamp([a, b]).digest != settled.digest


def test_content_checks_catch_a_change_the_stat_cannot_show(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("code: 101\n", encoding="utf-8")
    checks = cache.content_checks([path])
    assert cache.checks_hold(checks)
    path.write_text("code: 102\n", encoding="utf-8")
    assert not cache.checks_hold(checks)
    path.unlink()
    assert not cache.checks_hold(checks)


def _copy_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "rules" / "cin"
    shutil.copytree(model.rules_dir("cin"), copy)
    monkeypatch.setattr(model, "rules_dir", lambda return_type: copy)
    return copy


def test_a_rule_file_changed_within_the_same_tick_is_still_read_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule file written twice within one tick of the file system's clock, same size, may keep its identity: the
    stamp does not move. The file was recent when the rules were cached, so its content hash was kept, and the
    changed content is compiled again."""
    _copy_rules(tmp_path, monkeypatch)
    stamp = model._rules_stamp("cin")
    assert stamp.recent  # just copied
    before = model.load_rules("cin")
    monkeypatch.setattr(model, "_rules_stamp", lambda return_type: stamp)  # the clock did not tick
    target = before[0]
    path = Path(target.source)
    text = path.read_text(encoding="utf-8")
    word = target.message.split()[0]
    at = text.index(word, sum(len(line) for line in text.splitlines(keepends=True)[: target.line - 1]))
    path.write_text(text[:at] + "X" * len(word) + text[at + len(word) :], encoding="utf-8")
    model.load_rules.cache_clear()
    after = model.load_rules("cin")
    assert "X" * len(word) in after[0].text and type(after[0]) is model.Rule  # compiled again


def test_cached_rules_read_their_cold_fields_when_first_asked(folder: Path) -> None:
    compiled = model.load_rules("cin")
    assert type(compiled[0]) is model.Rule  # compiled: the cache was empty
    model.load_rules.cache_clear()
    cached = model.load_rules("cin")
    assert all(type(rule) is model.CachedRule for rule in cached)
    assert not any("spec" in rule.__dict__ or "examples" in rule.__dict__ for rule in cached)
    for mine, theirs in zip(cached, compiled, strict=True):
        assert (mine.code, mine.years, mine.source, mine.line) == (
            theirs.code,
            theirs.years,
            theirs.source,
            theirs.line,
        )
        assert mine.spec == theirs.spec and mine.examples == theirs.examples and mine.text == theirs.text
        assert mine.shared_uses() == theirs.shared_uses() and mine.columns_used() == theirs.columns_used()
    assert all("spec" in rule.__dict__ for rule in cached)  # kept on the rule once read


def test_a_rules_file_signed_with_another_key_is_not_used(folder: Path) -> None:
    first = model.load_rules("cin")
    (written,) = folder.glob("rules-cin-*.pickle")
    body = written.read_bytes()[32:]
    stored, checks, hot, cold = pickle.loads(body)
    forged = pickle.dumps((stored, checks, hot[:1], cold))  # one rule left: it would show if it were used
    written.write_bytes(hmac.new(b"another user's key of 32 bytes!!", forged, hashlib.sha256).digest() + forged)
    model.load_rules.cache_clear()
    assert [r.code for r in model.load_rules("cin")] == [r.code for r in first]


def test_a_stale_rules_file_is_not_used(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose stored stamp is not the current one (here: renamed to the current stamp's name) is not used."""
    model.load_rules("cin")
    (written,) = folder.glob("rules-cin-*.pickle")
    recent = model._rules_stamp("cin").recent
    monkeypatch.setattr(model, "_rules_stamp", lambda return_type: cache.SourceStamp("0" * 64, recent))
    os.replace(written, written.with_name(f"{written.name[: -len('.pickle') - 40]}{'0' * 40}.pickle"))
    model.load_rules.cache_clear()
    rules = model.load_rules("cin")
    assert rules and type(rules[0]) is model.Rule  # compiled again


def test_parsed_data_files_come_from_the_cache_until_the_file_changes(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tables.yaml"
    shutil.copy(schemas_dir("cin") / "tables.yaml", path)
    first = yamlio.load_data_file(path)
    assert first == yamlio.load_yaml_file(path)
    parsed: list[str] = []
    monkeypatch.setattr(yamlio, "load_yaml", lambda text: parsed.append(text) or {"parsed": True})
    assert yamlio.load_data_file(path) == first and parsed == []  # from the cache, not parsed
    path.write_text(path.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    assert yamlio.load_data_file(path) == {"parsed": True} and len(parsed) == 1


def test_a_parsed_data_file_not_signed_with_the_users_key_is_not_used(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "codelists.yaml"
    path.write_text("a:\n  codes: ['1']\n", encoding="utf-8")
    real = yamlio.load_data_file(path)
    (written,) = folder.glob("yaml-*.pickle")
    stored, checks, _ = pickle.loads(written.read_bytes()[32:])
    planted = pickle.dumps((stored, checks, {"planted": True}))
    written.write_bytes(planted)  # unsigned
    assert yamlio.load_data_file(path) == real
    written.write_bytes(hmac.new(b"another user's key of 32 bytes!!", planted, hashlib.sha256).digest() + planted)
    assert yamlio.load_data_file(path) == real
