"""The app's one session: a temporary folder for the uploads, and the validation run on them.

Everything uploaded lives in one ``tempfile.TemporaryDirectory``; clearing the session or stopping the server
deletes it. Nothing is written anywhere else.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..api import validate_request as validate  # a RunRequest in, a Result out
from ..errors import RulesError, UsageError, problem_of
from ..outputs import process_running
from ..outputs.formats import render
from ..reference.authorities import english_las
from ..request import RunRequest
from ..result import Result
from ..years import SUPPORTED_YEARS, YearError
from .downloads import Download
from .multipart import Part, safe_filename

# The file inputs of the upload form: field name -> sub-folder of the run's folder.
FILE_FIELDS = {"current": "current", "previous1": "previous-1", "previous2": "previous-2", "providers": "providers"}
STAGES = {
    "read": "Reading the files",
    "rules": "Running the rules",
    "report": "Drawing the report",
}


class FormError(ValueError):
    """A form that cannot start a run (shown on the upload page)."""


class Cancelled(Exception):
    """The session was cleared while its validation ran."""


FOLDER_PREFIX = "cscvalidate-"
_FOLDER = re.compile(re.escape(FOLDER_PREFIX) + r"(\d+)-")


def remove_stale_upload_folders() -> list[Path]:
    """Delete the upload folders an app that was killed left in the temporary folder (the user's own folders
    whose app process is gone), so a killed `serve` does not leave a return's files behind for good."""
    removed: list[Path] = []
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for path in entries:
        m = _FOLDER.match(path.name)
        if not m or process_running(int(m.group(1))):
            continue
        try:
            st = path.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


# The web app's words for the problems that stop a run (validator.errors); anything else is unexpected.
FAILURES = {UsageError: "The files could not be validated", RulesError: "A rule file is wrong"}


@dataclass
class Job:
    number: int
    folder: Path
    options: RunRequest  # the form's options; the files are the job's own (see request)
    files: dict[str, list[Path]]
    names: dict[str, str] = field(default_factory=dict)  # saved path -> the file's name as uploaded
    form: dict[str, str] = field(default_factory=dict)  # the options as given on the form, to offer them again
    state: str = "running"  # running | done | failed
    stage: str = "read"
    done: int = 0
    total: int = 0
    message: str = ""
    result: Result | None = None
    report: bytes | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _made: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)

    def progress(self, stage: str, done: int, total: int) -> None:
        """The validation reports its progress here (after each file and rule): where a cleared session stops it."""
        if self.cancelled.is_set():
            raise Cancelled
        self.stage, self.done, self.total = stage, done, total

    def status(self) -> dict[str, object]:
        label = STAGES.get(self.stage, self.stage)
        if self.stage == "rules" and self.total:
            label += f" ({self.done:,} of {self.total:,})"
        elapsed = (self.finished or time.monotonic()) - self.started
        return {
            "state": self.state,
            "stage": self.stage,
            "label": label,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "seconds": round(elapsed, 1),
        }

    def download(self, item: Download) -> bytes:
        """The file, made once and kept for the session."""
        assert self.result is not None
        with self._lock:
            if item.key not in self._made:
                self._made[item.key] = item.make(self.result)
            return self._made[item.key]

    @property
    def request(self) -> RunRequest:
        """The run: the form's options with the files saved for this job."""
        previous = [p for p in (self.files["previous1"], self.files["previous2"]) if p]
        return dataclasses.replace(
            self.options,
            inputs=tuple(str(p) for p in self.files["current"]),
            previous=tuple(tuple(str(p) for p in year) for year in previous),
            providers=tuple(str(p) for p in self.files["providers"]),
        )

    def run(self) -> None:
        try:
            result = validate(self.request, progress=self.progress)
            result.rename_files(self.names)  # the files as uploaded, not where they were saved
            _in_page_words(result)
            self.progress("report", 0, 0)
            report = render(result, "html")
            self.progress("report", 1, 1)
            self.report = report
            self.result = result
            self.state = "done"
        except Exception as exc:  # the one place a run's problem is caught: shown on the page, never a traceback
            self._fail(failure(exc))
        finally:
            self.finished = time.monotonic()
            self.ended.set()

    def _fail(self, message: str) -> None:
        self.message = message
        self.state = "failed"


def failure(exc: Exception) -> str:
    """What the page says when a run stops on ``exc``."""
    if isinstance(exc, Cancelled):
        return "The session was cleared: the validation was stopped."
    problem = problem_of(exc)
    for kind, title in FAILURES.items():
        if isinstance(problem, kind):
            return f"{title}: {problem}"
    return f"Unexpected problem: {type(exc).__name__}: {exc}. Please report it."


class Session:
    """The uploads' temporary folder and the latest run. Thread-safe."""

    def __init__(self, max_total: int | None = None) -> None:
        self.max_total = max_total  # bytes the session's temporary folder may hold, uploads included
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.job: Job | None = None
        self._count = 0

    @property
    def folder(self) -> Path:
        """The session's temporary folder (made on first use)."""
        with self._lock:
            return self._folder()

    def _folder(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
        return Path(self._tmp.name)

    def start(self, parts: list[Part]) -> Job:
        """Save the uploaded files and start validating them in the background."""
        fields = {p.name: p.text.strip() for p in parts if p.filename is None}
        options = _options(fields)
        with self._lock:
            if self.job is not None and self.job.state == "running":
                raise FormError("A validation is already running: wait for it to finish, then start another.")
            files = {name: [p for p in parts if p.name == name and p.filename] for name in FILE_FIELDS}
            kept = self.job if fields.get("reuse") == "1" and self.job is not None else None
            if kept is not None and not any(files.values()):
                # again with the files of the last run (e.g. after it failed), with the options now given
                self._count += 1
                self.job = Job(self._count, kept.folder, options, kept.files, kept.names, fields)
                threading.Thread(target=self.job.run, name=f"validate-{self._count}", daemon=True).start()
                return self.job
            if not files["current"]:
                raise FormError("Choose this year's files (the CSV tables or the XML file) first.")
            if files["previous2"] and not files["previous1"]:
                raise FormError("You gave the return of two years ago but not last year's: give last year's too.")
            if self.job is not None:
                shutil.rmtree(self.job.folder, ignore_errors=True)  # only the latest run's files are kept
            if self.max_total is not None:
                held = sum(p.stat().st_size for p in self._folder().rglob("*") if p.is_file())
                incoming = sum(len(p.data) for parts_ in files.values() for p in parts_)
                if held + incoming > self.max_total:
                    raise FormError(
                        f"The files are too big to keep ({(held + incoming) / 2**20:,.0f} MB with what the session "
                        f"holds; the limit is {self.max_total / 2**20:,.0f} MB): clear the session, or start the app "
                        "with a larger --max-upload-mb."
                    )
            self._count += 1
            folder = self._folder() / f"run-{self._count}"
            saved = {name: _save(files[name], folder / sub) for name, sub in FILE_FIELDS.items()}
            # saved as the uploaded name made safe (and unique within its year): reports show that name
            names = {str(path): path.name for paths in saved.values() for path in paths}
            self.job = Job(self._count, folder, options, saved, names, fields)
        threading.Thread(target=self.job.run, name=f"validate-{self._count}", daemon=True).start()
        return self.job

    def clear(self, wait: float = 60.0) -> None:
        """Stop a running validation (it stops at its next file or rule, waited for up to ``wait`` seconds),
        forget the run and delete every uploaded file (the folder is made again on the next upload)."""
        job = self.job
        if job is not None:
            job.cancelled.set()
            if job.state == "running":
                job.ended.wait(wait)
        with self._lock:
            self.job = None
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    close = clear


# What to do, in the upload page's words rather than the command line's.
PAGE_WORDS = {
    "(give --previous)": "(add last year's files under Previous years on the upload page)",
    "give --providers FILE": "choose the Ofsted provider lists on the upload page",
    ": give --la": ": choose your LA on the upload page",
    "; give --year to choose": "; choose the collection year on the upload page to change it",
    "give --year ": "choose the collection year ",
    "but --year ": "but the collection year ",
    "(last year's with --previous)": "(last year's under Previous years)",
    "with --previous to confirm": "under Previous years to confirm",
    "the return given with --previous": "the return given as last year's",
}


def _in_page_words(result: Result) -> None:
    """Reasons and messages that say what to do, reworded for the web app (PAGE_WORDS)."""

    def reword(text: str) -> str:
        for cli, page in PAGE_WORDS.items():
            text = text.replace(cli, page)
        return text

    result.rules = [dataclasses.replace(r, reason=reword(r.reason)) if "--" in r.reason else r for r in result.rules]
    for name in ("findings", "unconfirmed"):
        found = getattr(result, name)
        setattr(
            result,
            name,
            [
                dataclasses.replace(f, message=reword(f.message), note=reword(f.note) if f.note else f.note)
                for f in found
            ],
        )


def _options(fields: dict[str, str]) -> RunRequest:
    """The form's options as a run request without files (the job adds them)."""
    return_type = fields.get("return_type") or None
    if return_type not in (None, *SUPPORTED_YEARS):
        raise FormError(f"'{return_type}' is not a return: choose SSDA903 or CIN census.")
    try:
        # checks the year; the result page offers the DfE-ready files, whose changes.csv needs the change log. One
        # process: the app's server has threads of its own, and a run must not fork under them.
        request = RunRequest(
            inputs=(), return_type=return_type, year=fields.get("year") or None, change_log=True, processes=1
        )
    except YearError as exc:
        raise FormError(str(exc)) from None
    la = _la_code(fields.get("la") or "")
    codes = [c.strip() for c in (fields.get("rules") or "").replace(" ", ",").split(",") if c.strip()]
    if any(not (c.isascii() and c.isalnum() and len(c) <= 12) for c in codes):
        raise FormError("Write the rule codes separated by commas, e.g. 101, 8675Q (or leave it empty for all).")
    return dataclasses.replace(request, la=la, rules=tuple(codes) if codes else None)


def _la_code(text: str) -> str | None:
    """The LA's ONS code from the form: chosen from the list by name ("Richmond upon Thames (E09000027)"), a name
    alone, or the code itself."""
    text = text.strip()
    if not text:
        return None
    if text.endswith(")") and "(" in text:
        text = text.rsplit("(", 1)[1].rstrip(")").strip()
    by_name = {name.lower(): code for code, name in english_las().items()}
    code = by_name.get(text.lower(), text.upper())
    if not (code.isascii() and code.isalnum() and len(code) <= 12):
        raise FormError(f"'{text}' is not an LA: choose it from the list, or write its code like E09000027.")
    return code


def _save(parts: list[Part], folder: Path) -> list[Path]:
    """Write each uploaded file into ``folder`` under a safe, unique name; the paths written."""
    if not parts:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    written: list[Path] = []
    taken: set[str] = set()
    for part in parts:
        name = safe_filename(part.filename or "")
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        unique, n = name, 2
        while unique.lower() in taken:
            unique, n = f"{stem}-{n}{dot}{ext}", n + 1
        taken.add(unique.lower())
        path = (folder / unique).resolve()
        if path.parent != root:  # cannot happen after safe_filename; checked all the same
            raise FormError(f"the file name {part.filename!r} cannot be used")
        path.write_bytes(part.data)
        written.append(path)
    return written
