"""The command line (``python -m validator``, ``cscvalidate``): a thin layer over the library, one module per
command. Each command module has ``add_parser(sub)`` and ``run(args, out, err) -> exit status``, and may name the
``TITLE`` its input problems are shown under; :func:`main` is the one place a command's problem is caught, shown and
turned into an exit status (validator.errors)."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from .._version import __version__
from ..errors import Interrupted, Unexpected, problem_of
from ..outputs.terminal import term
from . import convert, preview, rules, samples, serve, validate
from .screen import Screen

# In the order `--help` lists them.
COMMANDS: dict[str, ModuleType] = {
    "validate": validate,
    "rules": rules,
    "convert": convert,
    "preview": preview,
    "samples": samples,
    "serve": serve,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cscvalidate",
        description="Check SSDA903 and CIN census returns against DfE's validation rules, on your own machine.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    out = Screen()  # rich's Console (emoji=False) when needed: see validator.cli.screen
    err = Screen(stderr=True)
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command]
    try:
        return int(command.run(args, out, err))
    except (Exception, KeyboardInterrupt) as exc:  # the one place: a plain message and a status, never a traceback
        problem = problem_of(exc, usage_title=getattr(command, "TITLE", None))
        if isinstance(problem, Interrupted):
            return problem.exit_status
        message = (
            f"{problem}. Please report it with the command you ran." if isinstance(problem, Unexpected) else problem
        )
        err.print(f"[bold red]{term(problem.title)}:[/] {term(message)}")
        return problem.exit_status


def run() -> NoReturn:
    """The command line (``cscvalidate``, ``python -m validator``): :func:`main`, then the exit.

    A run is over once its reports are written and its output flushed; the interpreter's own tear-down (freeing
    every table and module one object at a time) would add 0.1 to 0.2 s to a typical run. So the process ends there,
    after the exit handlers the run registered (``atexit``: logging's flush, finalizers) have run, as at a normal
    exit. Where another thread is still running, the exit is the normal one, which waits for it."""
    status = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # e.g. a closed pipe: nothing more can be said on it
            stream.flush()
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    os._exit(status)


__all__ = ["COMMANDS", "build_parser", "main", "run"]
