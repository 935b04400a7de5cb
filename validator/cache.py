"""The user's cache folder, and files in it that cannot be planted: every cached file is signed or vouched for.

The compiled rules are kept as pickles, and unpickling runs code, so a file someone else could put in the cache
folder must never be unpickled. Two guards, both checked before a byte is unpickled:

- the folder (``validator.resources.user_cache_dir``) must be a real folder (not a link) that belongs to the user
  and that nobody else may write to (no group or other write permission); it is made with mode 0700. Otherwise no
  cache is used at all;
- every file starts with an HMAC-SHA256 of its content under a per-user key, 32 random bytes kept in the folder's
  ``key`` file (mode 0600, the user's own, never a link). A file whose signature does not match is ignored and
  rebuilt.

On Windows, where the folder is in the user's own profile, the ownership and mode checks are not made; the
signature still is.

Large data read without pickle (the prepared postcode index: plain arrays) is instead *vouched for*
(:func:`write_vouched`, :func:`read_vouched`): the data file itself is not signed, so that it can be memory-mapped
and only the pages a run needs are read, but a small signed manifest beside it names it by size, inode and
modification time (and holds whatever else the caller needs, also signed). A data file that is not the one the
manifest names (replaced, truncated, planted) is not used, and the caller rebuilds it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mmap
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Any

from .resources import user_cache_dir

KEY_FILE = "key"
KEY_BYTES = 32
_MAC = hashlib.sha256().digest_size


def _private(st: os.stat_result, *, group_other: int) -> bool:
    """Whether a file's stat says it is the user's own and not open to others (``group_other``: the bits refused)."""
    if os.name == "nt":
        return True
    return st.st_uid == os.getuid() and not (st.st_mode & group_other)


def cache_folder() -> Path | None:
    """The user's cache folder, made private if missing; None when there is none or it is not safe to use."""
    folder = user_cache_dir()
    if folder is None:
        return None
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
        st = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or not _private(st, group_other=0o022):
        return None
    return folder


def _key(folder: Path) -> bytes | None:
    path = folder / KEY_FILE
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    if not os.path.lexists(path):  # made once, never rewritten
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, 0o600)
        except FileExistsError:  # another run made it meanwhile
            pass
        except OSError:
            return None
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(KEY_BYTES))
    try:
        fd = os.open(path, os.O_RDONLY | nofollow)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        key = fh.read(KEY_BYTES + 1)
    if not stat.S_ISREG(st.st_mode) or not _private(st, group_other=0o077) or len(key) != KEY_BYTES:
        return None
    return key


def read_signed(name: str) -> bytes | None:
    """The content of cache file ``name``, or None: no cache, no such file, or not signed with the user's key."""
    folder = cache_folder()
    key = _key(folder) if folder is not None else None
    if folder is None or key is None:
        return None
    try:
        fd = os.open(folder / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not _private(os.fstat(fh.fileno()), group_other=0o022):
            return None
        data = fh.read()
    mac, body = data[:_MAC], data[_MAC:]
    if len(mac) != _MAC or not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        return None
    return body


def write_signed(name: str, body: bytes, *, replaces: str | None = None) -> bool:
    """Write cache file ``name`` (atomically, signed); delete older files matching the glob ``replaces``.
    False when there is no usable cache (the validator then works without it)."""
    folder = cache_folder()
    key = _key(folder) if folder is not None else None
    if folder is None or key is None:
        return False
    tmp: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".cache-", suffix=".tmp", delete=False) as handle:
            tmp = Path(handle.name)
            handle.write(hmac.new(key, body, hashlib.sha256).digest() + body)
        os.replace(tmp, folder / name)  # atomic: a run reading at the same time sees the old file or the new one
        tmp = None
        if replaces:
            for old in folder.glob(replaces):
                if old.name != name:
                    old.unlink(missing_ok=True)
    except OSError:  # a read-only home, a full disk: run without the cache
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        return False
    return True


_MANIFEST = ".signed"  # the manifest of a vouched file ``name`` is ``name + _MANIFEST``


def _identity(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_ino, st.st_dev, st.st_mtime_ns]


def write_vouched(name: str, body: bytes, meta: dict[str, Any], *, replaces: str | None = None) -> bool:
    """Write cache file ``name`` (atomically, unsigned) and its signed manifest holding ``meta`` (plain JSON) and the
    file's identity; delete older files matching the glob ``replaces``. False when there is no usable cache."""
    folder = cache_folder()
    if folder is None or _key(folder) is None:
        return False
    tmp: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".cache-", suffix=".tmp", delete=False) as handle:
            tmp = Path(handle.name)
            handle.write(body)
            handle.flush()
            identity = _identity(os.fstat(handle.fileno()))  # a rename keeps the inode and modification time
        os.replace(tmp, folder / name)
        tmp = None
    except OSError:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        return False
    manifest = json.dumps({"file": name, "identity": identity, "meta": meta}).encode()
    if not write_signed(name + _MANIFEST, manifest):
        return False
    if replaces:
        try:
            for old in folder.glob(replaces):
                if old.name not in (name, name + _MANIFEST):
                    old.unlink(missing_ok=True)
        except OSError:  # e.g. on Windows, a file another run has mapped: left for a later run to delete
            pass
    return True


def read_vouched(name: str) -> tuple[dict[str, Any], mmap.mmap | bytes] | None:
    """The ``meta`` and the content (memory-mapped, read-only) of cache file ``name``, or None: no cache, no such
    file, no manifest signed with the user's key, or a file that is not the one the manifest names."""
    signed = read_signed(name + _MANIFEST)
    if signed is None:
        return None
    try:
        manifest = json.loads(signed)
        identity, meta = manifest["identity"], manifest["meta"]
        if manifest["file"] != name or not isinstance(meta, dict):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    folder = cache_folder()
    if folder is None:
        return None
    try:
        fd = os.open(folder / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _private(st, group_other=0o022) or _identity(st) != identity:
            return None
        if st.st_size == 0:  # an empty file cannot be mapped
            return meta, b""
        return meta, mmap.mmap(fd, 0, access=mmap.ACCESS_READ)  # the map keeps the file open; the fd is not needed
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
