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

What a cached file was built from (rule files, table definitions, the validator's own code) is named by a
:func:`source_stamp`: the files' identities from ``stat``, not their contents, with a content check kept for any
file changed moments before (see there why that is safe).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mmap
import os
import pickle
import secrets
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from ._version import __version__
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


# A file changed less than this long before a stamp is taken is checked by its content (see source_stamp).
SETTLE_NS = 2_000_000_000

Checks = tuple[tuple[str, str], ...]  # (path, SHA-256 of its content) of the files whose stat cannot vouch for them


class SourceStamp(NamedTuple):
    """What a cached file was built from: ``digest`` names the files and their identities; ``recent`` are those
    changed too recently for their identity to vouch for their content (:func:`source_stamp`)."""

    digest: str
    recent: tuple[Path, ...]


def source_stamp(paths: Iterable[Path], salt: str = "") -> SourceStamp:
    """A stamp of ``paths`` (and ``salt``) as cheap as Python's own check of its .pyc files, and safer.

    Each file counts by its path and its identity from ``stat``: size, modification and change times (ns), inode
    and device. Writing to a file sets its modification and change times to the current time, and replacing it
    (an editor's save, ``git checkout``) gives it a new inode; the change time cannot be set back by any program
    (``touch -d`` and ``utime`` set it to now too). So a file with the same identity has not been written since,
    but for one case: file systems keep times to a tick (a few ms on Linux, 1 s on HFS+ and some network file
    systems, 2 s on FAT), and a second write within the tick of the first, of the same size, leaves the identity
    as it was. Hence a file whose modification or change time is less than :data:`SETTLE_NS` (2 s) before now,
    or after it, is *recent*: the caller keeps its content hash with what it caches (:func:`content_checks`) and
    checks it on every read (:func:`checks_hold`). Any later write happens after now, more than 2 s after the
    file's last change, so in a later tick, and changes the identity. (A clock set back by more than 2 s between
    two writes, or a file server's clock that far behind this machine's, could defeat this, as it defeats
    ``make``.) On Windows, where the change time is the creation time, every file is recent: checked by content,
    as before. A missing file counts as missing.

    Stat-ing the validator's ~130 modules takes about 1 ms; reading and hashing them and the rule files took 8-10.
    """
    digest = hashlib.sha256(salt.encode())
    recent: list[Path] = []
    now = time.time_ns()
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            digest.update(f"{path}\0(absent)\0".encode())
            continue
        digest.update(f"{path}\0{st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino} {st.st_dev}\0".encode())
        if os.name == "nt" or now - max(st.st_mtime_ns, st.st_ctime_ns) < SETTLE_NS:
            recent.append(path)
    return SourceStamp(digest.hexdigest(), tuple(recent))


def content_checks(paths: Iterable[Path]) -> Checks:
    """The content hash of each of ``paths`` (a missing file as empty), to keep with a cached file."""
    return tuple((str(path), _content_hash(path)) for path in paths)


def checks_hold(checks: Checks) -> bool:
    """Whether every file of ``checks`` still has the content it had."""
    return all(_content_hash(Path(path)) == digest for path, digest in checks)


def _content_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "(absent)"


@cache
def code_stamp() -> SourceStamp:
    """The validator's own code, every module of the package, with the Python, validator and pickle versions: what
    anything cached depends on besides its sources. Stamped once per process (the code a process runs does not
    change under it)."""
    package = Path(__file__).resolve().parent
    return source_stamp(python_files(package), salt=f"{sys.version}|{__version__}|{pickle.HIGHEST_PROTOCOL}")


def python_files(folder: Path) -> list[Path]:
    """Every ``.py`` file under ``folder`` (not following links to folders), sorted."""
    return sorted(_python_files(str(folder)))


def _python_files(folder: str) -> Iterator[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.endswith(".py") and entry.is_file():
            yield Path(entry.path)
        elif entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
            yield from _python_files(entry.path)
