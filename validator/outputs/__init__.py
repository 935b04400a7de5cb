"""Views of a Result: console summary, JSON, CSV. Files are written atomically (temp file, then rename).

Also what every command checks about where it writes, before it reads anything: :func:`output_problem`.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

# A report's temporary file: ".<report name>.<pid of the writing process>.<random>.cscvalidate-tmp", so a later
# run can tell the leftovers of a run that was killed (its process is gone) from a run still writing.
TEMP_SUFFIX = ".cscvalidate-tmp"
_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]+" + re.escape(TEMP_SUFFIX) + "$")

# The names the tool gives its reports (validate: <stem>-validation.<ext>, also per --split-by value; preview:
# <stem>-preview.xlsx, <stem>-preview-<table>.csv; validate --each: summary.csv and summary.json). A folder given
# as input never yields them, so a report written into an input folder is never read back as part of the return.
_REPORT_NAME = re.compile(
    r"-validation(-.+)?\.[a-z.]+$|-preview(-[A-Za-z0-9_]+)?\.(csv|xlsx)$|^summary(-rules)?\.(csv|json|html)$"
)


def is_report_name(name: str) -> bool:
    """Whether a file name is one the tool gives its own reports."""
    return bool(_REPORT_NAME.search(name))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename over it."""
    write_atomic_with(path, lambda fh: fh.write(data))


def write_atomic_with(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Let ``write`` write ``path``'s content, in pieces, into a temporary file in the same folder (seekable, so a
    zip is written as it is in memory); then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w+b") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def text_writer(out: BinaryIO) -> Iterator[TextIO]:
    """Text written to ``out`` as UTF-8, newlines as they are, in buffered pieces (``out`` stays open)."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")  # type: ignore[type-var]
    try:
        yield text
    finally:
        text.flush()
        text.detach()


def process_running(pid: int) -> bool:
    """Whether process ``pid`` still runs (True when that cannot be told)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process, or a system that cannot tell: leave its file alone
    return True


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the temporary report files a killed run left in ``folder`` (their writing process is gone)."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        m = _TEMP.match(path.name)
        if m and not process_running(int(m.group(1))):
            try:
                path.unlink()
            except OSError:
                continue
            removed.append(path)
    return removed


def _writable_folder(folder: Path) -> str | None:
    """Why reports cannot be written into ``folder`` (made when missing, as the reports would make it), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return f"{folder} is not a folder"
    except NotADirectoryError:
        return f"{folder} is not a folder: a part of the path is a file"
    except OSError as exc:
        return f"the folder {folder} cannot be made ({exc.strerror or exc})"
    try:  # a real try, not os.access: it also tells a read-only file system, an ACL, a full quota, root
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"the folder {folder} cannot be written to ({exc.strerror or exc})"
    return None


def output_problem(
    *, file: Path | None = None, folder: Path | None = None, protected: Iterable[Path] = ()
) -> str | None:
    """Why a report cannot go to ``file`` (--output) or into ``folder`` (--output-dir), found before the run:
    a folder where a file is wanted or the other way round, a place that cannot be written to, or a file that is
    an input or a reference file of the run (``protected``); None when it can."""
    guarded = {p.resolve() for p in protected}
    if file is not None:
        if file.is_dir():
            return f"--output {file} is a folder: give a file name (or use --output-dir)"
        if file.resolve() in guarded:
            return f"--output {file} is one of the inputs or reference files; a report never overwrites one"
        return _writable_folder(file.parent)
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            return f"--output-dir {folder} is a file, not a folder"
        if folder.resolve() in guarded:
            return f"--output-dir {folder} is one of the inputs or reference files"
        return _writable_folder(folder)
    return None
