"""The problems a run can meet, each with a title (what could not be done) and an exit status.

Each front door catches once (the command line's ``main``, the web app's run and request handler, a batch's unit of
work) and passes what it caught to :func:`problem_of`, which gives back a :class:`ValidatorError`: the library's own
exceptions (``InputError``, ``YearError``, ``RuleLoadError``, ...) are mapped onto the classes below by kind, so a
front door words each kind once and never keeps its own ladder of ``except`` clauses.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # the rules found errors (or queries, with --fail-on query)
EXIT_USAGE = 2  # the input, the options or a file could not be used
EXIT_INTERRUPTED = 130  # Ctrl+C


class ValidatorError(Exception):
    """A problem that stops a run: ``title`` says what could not be done ("cannot validate"), the message why."""

    title = "cannot validate"
    exit_status = EXIT_USAGE

    def __init__(self, message: str = "", *, title: str | None = None, exit_status: int | None = None) -> None:
        super().__init__(message)
        if title is not None:
            self.title = title
        if exit_status is not None:
            self.exit_status = exit_status
        self.original: BaseException | None = None  # the exception this one stands for, when it was mapped

    @property
    def message(self) -> str:
        return str(self)


class UsageError(ValidatorError):
    """Options or input that cannot be used: the return, the year, output places that cannot work together."""


class RulesError(ValidatorError):
    """A rule file that cannot be read: the project's own files are wrong."""

    title = "a rule file is wrong"


class FileProblem(ValidatorError):
    """The machine's doing, not a bug: a full disk, a folder made read-only meanwhile, ..."""

    title = "cannot read or write a file"


class Interrupted(ValidatorError):
    """The person stopped the run (Ctrl+C)."""

    title = "interrupted"
    exit_status = EXIT_INTERRUPTED


class Unexpected(ValidatorError):
    """Anything else: a bug. Shown as a plain message, never a traceback."""

    title = "unexpected problem"


def usage_errors() -> tuple[type[BaseException], ...]:
    """The library's exceptions that mean "this input or these options cannot be used" (imported when a problem
    is mapped: the command line starts without the modules that raise them)."""
    from .ingest.loader import InputError
    from .outputs.formats import FormatUnavailable
    from .split import SplitError
    from .years import YearError

    return (InputError, YearError, SplitError, FormatUnavailable)


def problem_of(exc: BaseException, *, usage_title: str | None = None) -> ValidatorError:
    """``exc`` as one of the classes above (itself when it is one already); a library's input problem under
    ``usage_title`` when given (the front door's words: "cannot preview")."""
    from .engine.rule import RuleLoadError

    if isinstance(exc, ValidatorError):
        return exc
    found: ValidatorError
    if isinstance(exc, usage_errors()):
        found = UsageError(str(exc), title=usage_title)
    elif isinstance(exc, RuleLoadError):
        found = RulesError(str(exc))
    elif isinstance(exc, KeyboardInterrupt):
        found = Interrupted()
    elif isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        found = FileProblem(f"{where}{exc.strerror or exc}")
    else:
        found = Unexpected(f"{type(exc).__name__}: {exc}")
    found.original = exc
    return found
