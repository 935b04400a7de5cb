"""The command line (``python -m validator``, ``cscvalidate``): a thin layer over the library, one module per
command. Each command module has ``add_parser(sub)`` and ``run(args, out, err) -> exit status``, and may name the
``TITLE`` its input problems are shown under; :func:`main` is the one place a command's problem is caught, shown and
turned into an exit status (validator.errors)."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import importlib
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


def main(argv: Sequence[str] | None = None, *, paused_collector: bool = False) -> int:
    """Run the command of ``argv`` (default: the process's arguments) and return its exit status.

    ``paused_collector``: the caller has paused the cycle collector (:func:`run`); it is started again, with what
    was imported so far frozen, once the command's library is imported (:func:`_load_library`)."""
    out = Screen()  # rich's Console (emoji=False) when needed: see validator.cli.screen
    err = Screen(stderr=True)
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command]
    try:
        _load_library(command, paused_collector)
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


def _load_library(command: ModuleType, paused_collector: bool) -> None:
    """Import the modules the command runs on (its ``LIBRARY``; it would import them itself when it runs), then,
    where the cycle collector was paused for the start-up, freeze what is loaded and start the collector again.

    Importing pandas, numpy and the validator makes some 300,000 objects (functions, classes, tables of
    constants) that live as long as the process, and nothing for the cycle collector to free; yet its passes over
    them as they pile up take 40-60 ms of a run's start. So :func:`run` pauses it until the library is in, and
    ``gc.freeze`` then keeps those objects out of every later pass. Objects made after that, the run's own, are
    collected as usual."""
    try:
        for name in getattr(command, "LIBRARY", ()):
            importlib.import_module(name)
    finally:
        if paused_collector:
            gc.freeze()
            gc.enable()


def run() -> NoReturn:
    """The command line (``cscvalidate``, ``python -m validator``): :func:`main`, then the exit.

    The cycle collector is paused while the command's library is imported (:func:`_load_library`).

    A run is over once its reports are written and its output flushed; the interpreter's own tear-down (freeing
    every table and module one object at a time) would add 0.1 to 0.2 s to a typical run. So the process ends there,
    after the exit handlers the run registered (``atexit``: logging's flush, finalizers) have run, as at a normal
    exit. Where another thread is still running, the exit is the normal one, which waits for it."""
    gc.disable()
    status = main(paused_collector=True)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # e.g. a closed pipe: nothing more can be said on it
            stream.flush()
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    os._exit(status)


__all__ = ["COMMANDS", "build_parser", "main", "run"]
