#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+: `python3 tasks.py demo` or `python3 tasks.py test`.

Creates .venv (once), installs the exact dependency versions of the lock (locks/app.txt, or locks/test.txt with
the test tools) and the project into it, again whenever the lock or pyproject.toml changes, then runs the task.
`python3 tasks.py test --latest` runs the suite in .venv-latest with the newest versions pyproject.toml allows.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOCKS = ROOT / "locks"
PIP = ["-m", "pip", "install", "-q", "--disable-pip-version-check"]


def python_of(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


VENV = ROOT / ".venv"
PY = python_of(VENV)


def _create(env: Path) -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py runs before the project is installed
        sys.exit("Python 3.11 or newer is needed")
    if not python_of(env).exists():
        print(f"creating {env.name} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(env)
    return python_of(env)


def _install(py: Path, *args: str) -> None:
    subprocess.run([str(py), *PIP, *args], cwd=ROOT, check=True)


def ensure_venv(lock: str) -> None:
    """.venv with exactly the versions of locks/<lock>.txt (hash-checked) and the project, installed editable."""
    _create(VENV)
    lock_file = LOCKS / f"{lock}.txt"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + lock_file.read_bytes()).hexdigest()
    stamp = VENV / f".installed-{lock}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing the locked dependencies ({lock_file.relative_to(ROOT)}) and the project into .venv ...")
    _install(PY, "--require-hashes", "-r", str(lock_file))
    # The build backend comes from the lock too, so nothing unlocked is fetched to build the project.
    _install(PY, "--no-deps", "--no-build-isolation", "-e", ".")
    for other in VENV.glob(".installed-*"):
        other.unlink()  # another lock's stamp no longer describes what is installed
    stamp.write_text(digest)


def ensure_latest_venv() -> Path:
    """.venv-latest: the project with the newest versions of everything pyproject.toml allows, upgraded each run."""
    env = ROOT / ".venv-latest"
    py = _create(env)
    print("installing the newest allowed versions into .venv-latest ...", flush=True)
    _install(py, "--upgrade", "--upgrade-strategy", "eager", "-e", ".[test]")
    return py


def run(*args: str, py: Path = PY) -> int:
    print("$ " + " ".join(args), flush=True)
    return subprocess.run([str(py), *args], cwd=ROOT).returncode


def demo() -> int:
    ensure_venv("app")
    status = run("-m", "validator", "validate", "samples/ssda903/2024_25", "--previous", "samples/ssda903/2023_24",
                 "--year", "2024_25", "--la", "E09000027")  # fmt: skip
    run("-m", "validator", "validate", "samples/cin/cin_2024_25.xml")
    print("\nExit status 1 above means errors were found: the samples carry deliberate mistakes.")
    return 0 if status in (0, 1) else status


def test() -> int:
    """Lint, then the whole suite (pytest options pass through, e.g. `-m "not slow"` for the quick loop).

    With --latest: the suite (no lint) in .venv-latest, on the newest versions pyproject.toml allows."""
    args = sys.argv[2:]
    if "--latest" in args:
        args.remove("--latest")
        py = ensure_latest_venv()
        versions = (
            "import lxml.etree as e, pandas, xmlschema; print('lxml', e.__version__, 'libxml2', e.LIBXML_VERSION,"
            " 'pandas', pandas.__version__, 'xmlschema', xmlschema.__version__)"
        )
        run("-c", versions, py=py)
        return run("-m", "pytest", *args, py=py)
    ensure_venv("test")
    lint = run("-m", "ruff", "check", "validator", "tests", "tasks.py")
    fmt = run("-m", "ruff", "format", "--check", "validator", "tests", "tasks.py")
    # lint-imports: the layering contracts and no import cycles ([tool.importlinter] in pyproject.toml)
    layers = run("-c", "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())")
    tests = run("-m", "pytest", *args)
    return lint or fmt or layers or tests


def lock() -> int:
    """Refresh locks/*.txt from pyproject.toml with uv (installed into .venv-tools when missing)."""
    uv = shutil.which("uv")
    if uv is None:
        py = _create(ROOT / ".venv-tools")
        _install(py, "uv")
        uv = str(py.parent / ("uv.exe" if os.name == "nt" else "uv"))
    common = ["pip", "compile", "pyproject.toml", "locks/build.in", "--universal", "--python-version", "3.11",
              "--generate-hashes", "--no-header", *sys.argv[2:]]  # fmt: skip
    for name, extra in (("app", []), ("test", ["--extra", "test"])):
        print(f"$ uv {' '.join(common)} {' '.join(extra)} -o locks/{name}.txt", flush=True)
        status = subprocess.run([uv, *common, *extra, "-o", f"locks/{name}.txt"], cwd=ROOT).returncode
        if status:
            return status
    return 0


def bench() -> int:
    """Speed and memory benchmarks (docs/performance.md); options go to benchmarks/run.py."""
    ensure_venv("app")
    return run("benchmarks/run.py", *sys.argv[2:])


if __name__ == "__main__":
    task = sys.argv[1] if len(sys.argv) > 1 else ""
    tasks = {"demo": demo, "test": test, "bench": bench, "lock": lock}
    if task not in tasks:
        sys.exit(
            "usage: python3 tasks.py demo | test [--latest] [pytest options] | bench [benchmark options]"
            " | lock [uv options, e.g. --upgrade-package lxml]"
        )
    sys.exit(tasks[task]())
