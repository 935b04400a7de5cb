"""The cache folder's vouched files (validator/cache.py): large data read without pickle, memory-mapped, used only
when the signed manifest beside it names it; anything else is ignored, so the caller rebuilds it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

import pytest

from validator import cache
from validator.resources import CACHE_ENV


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path


def _replace(path: Path, body: bytes) -> None:
    """Put another file in its place (a new inode, as planting or copying one in makes)."""
    other = path.with_name("other")
    other.write_bytes(body)
    os.replace(other, path)


def test_a_vouched_file_is_read_back_with_its_meta(folder: Path) -> None:
    assert cache.write_vouched("data.bin", b"0123456789", {"rows": 10, "groups": [["a", None]]})
    meta, body = cache.read_vouched("data.bin") or ({}, b"")
    assert meta == {"rows": 10, "groups": [["a", None]]}
    assert bytes(body) == b"0123456789"
    assert cache.write_vouched("empty.bin", b"", {})
    assert cache.read_vouched("empty.bin") == ({}, b"")


def test_a_replaced_truncated_or_unnamed_file_is_not_used(folder: Path) -> None:
    cache.write_vouched("data.bin", b"0123456789", {})
    _replace(folder / "data.bin", b"9876543210")  # same size, other content
    assert cache.read_vouched("data.bin") is None
    cache.write_vouched("data.bin", b"0123456789", {})
    with open(folder / "data.bin", "r+b") as handle:
        handle.truncate(4)
    assert cache.read_vouched("data.bin") is None
    cache.write_vouched("data.bin", b"0123456789", {})
    (folder / "data.bin.signed").unlink()  # no manifest: nothing vouches for it
    assert cache.read_vouched("data.bin") is None
    assert cache.read_vouched("never-written.bin") is None


def test_a_manifest_not_signed_with_the_users_key_is_not_used(folder: Path) -> None:
    cache.write_vouched("data.bin", b"planted", {"rows": 1})
    st = (folder / "data.bin").stat()
    forged = json.dumps(
        {"file": "data.bin", "identity": [st.st_size, st.st_ino, st.st_dev, st.st_mtime_ns], "meta": {"rows": 2}}
    ).encode()
    for key in (None, b"another user's key of 32 bytes!!"):
        mac = hmac.new(key, forged, hashlib.sha256).digest() if key else b""
        (folder / "data.bin.signed").write_bytes(mac + forged)
        assert cache.read_vouched("data.bin") is None
    signed = hmac.new((folder / "key").read_bytes(), forged, hashlib.sha256).digest() + forged
    (folder / "data.bin.signed").write_bytes(signed)  # the same manifest signed with the user's key is used
    meta, body = cache.read_vouched("data.bin") or ({}, b"")
    assert meta == {"rows": 2} and bytes(body) == b"planted"


def test_a_manifest_of_another_file_is_not_used(folder: Path) -> None:
    cache.write_vouched("a.bin", b"aaaa", {"which": "a"})
    cache.write_vouched("b.bin", b"bbbb", {"which": "b"})
    os.replace(folder / "a.bin.signed", folder / "b.bin.signed")
    assert cache.read_vouched("b.bin") is None


@pytest.mark.skipif(os.name == "nt", reason="POSIX links and modes")
def test_a_link_or_a_folder_others_may_write_to_is_not_used(folder: Path, tmp_path: Path) -> None:
    cache.write_vouched("data.bin", b"0123456789", {})
    elsewhere = tmp_path / "elsewhere.bin"
    os.replace(folder / "data.bin", elsewhere)
    (folder / "data.bin").symlink_to(elsewhere)
    assert cache.read_vouched("data.bin") is None
    cache.write_vouched("data.bin", b"0123456789", {})
    folder.chmod(0o777)
    try:
        assert cache.read_vouched("data.bin") is None
        assert not cache.write_vouched("data.bin", b"0123456789", {})
    finally:
        folder.chmod(0o700)


def test_writing_replaces_the_older_files_it_is_told_to(folder: Path) -> None:
    cache.write_vouched("postcodes-old-B.index", b"old", {})
    (folder / "postcodes-older-B.pickle").write_bytes(b"an earlier format")
    (folder / "postcodes-old-K.index").write_bytes(b"another letter")
    cache.write_vouched("postcodes-new-B.index", b"new", {}, replaces="postcodes-*-B.*")
    names = sorted(p.name for p in folder.iterdir() if p.name != "key")
    assert names == ["postcodes-new-B.index", "postcodes-new-B.index.signed", "postcodes-old-K.index"]


def test_no_cache_folder_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    assert not cache.write_vouched("data.bin", b"x", {})
    assert cache.read_vouched("data.bin") is None
