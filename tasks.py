#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+: `python3 tasks.py demo` or `python3 tasks.py test`.

Creates .venv (once; again when pyproject.toml changes), installs the project into it, then runs the task.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py runs before the project is installed
        sys.exit("Python 3.11 or newer is needed")
    if not PY.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("installing the project and its dependencies into .venv ...", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", target], cwd=ROOT, check=True
    )
    stamp.write_text(digest)


def run(*args: str) -> int:
    print("$ " + " ".join(args), flush=True)
    return subprocess.run([str(PY), *args], cwd=ROOT).returncode


def demo() -> int:
    ensure_venv("")
    status = run("-m", "validator", "validate", "samples/ssda903/2024_25", "--previous", "samples/ssda903/2023_24",
                 "--year", "2024_25", "--la", "E09000027")  # fmt: skip
    run("-m", "validator", "validate", "samples/cin/cin_2024_25.xml")
    print("\nExit status 1 above means errors were found: the samples carry deliberate mistakes.")
    return 0 if status in (0, 1) else status


def test() -> int:
    ensure_venv("test")
    lint = run("-m", "ruff", "check", "validator", "tests", "tasks.py")
    fmt = run("-m", "ruff", "format", "--check", "validator", "tests", "tasks.py")
    tests = run("-m", "pytest", *sys.argv[2:])
    return lint or fmt or tests


def bench() -> int:
    """Speed and memory benchmarks (docs/performance.md); options go to benchmarks/run.py."""
    ensure_venv("")
    return run("benchmarks/run.py", *sys.argv[2:])


if __name__ == "__main__":
    task = sys.argv[1] if len(sys.argv) > 1 else ""
    tasks = {"demo": demo, "test": test, "bench": bench}
    if task not in tasks:
        sys.exit("usage: python3 tasks.py demo | test [pytest options] | bench [benchmark options]")
    sys.exit(tasks[task]())
