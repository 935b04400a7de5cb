"""`benchmarks/run.py --reference`: this project beside the community reference, on the same returns in one run.

    .venv/bin/python benchmarks/run.py --reference --repeats 2 --json reference.json

The community validators (data-to-insight's csc-validator-be-903, module `lac_validator`, and csc-validator-be-cin,
module `cin_validator`, from PyPI) are installed on first use into scratch virtualenvs under
benchmarks/.reference/ (ignored by git), at the versions pinned in PINS, and run by
benchmarks/reference_runner.py (our code) with those venvs' Python: nothing of theirs is imported into the
project's process or copied into the repository. The versions installed (`pip freeze`) are printed and written
with the figures.

Each case is timed end to end in a fresh process for both tools, alternately (ours, theirs, ours, theirs ...), so
that both see the same load on the machine: wall time from process start to exit (for ours the command line,
`cscvalidate validate ... --format json --output FILE`; for the reference its own end-to-end call, the one its web
front end makes, `rpc_main.lac_validate` / `rpc_main.cin_validate`, which reads the files, runs every rule of the
year and builds its JSON reports), and the peak memory (max RSS) of that process. The best wall time of the
repeats is kept, and the largest peak memory. Speed-up = reference's time / ours; memory ratio = ours / reference.

Cases (all rules of the collection year 2024_25 on both sides):

- ssda903: the generated SSDA903 return of 5,000 children (run.py's `large` return, 5% of the children with a
  mistake) with last year's return, real postcodes (both tools look them up in the ONS postcode package), and an
  Ofsted provider list made from the return's own URNs (benchmarks/.data/.../providers.xlsx; one combined list,
  which both tools read), so that the provider rules run too;
- cin: the generated CIN return of 5,000 children (run.py's `typical` CIN return);
- error-heavy: run.py's error-heavy SSDA903 return (its `heavy` size) when it has one; else a return of
  ERROR_HEAVY children, every child with a generated mistake and a share
  (ERROR_HEAVY_SHUFFLE) of this year's cells given the value of the same column in another row: about 465,000
  findings of ours (at 25,000 children and 0.5), 390,000 flagged rows of the reference's.

After each run the findings are counted (ours: the report's findings; the reference: distinct flagged
(rule, table, row) locations, plus CIN's return-level issues), with the rules run, crashed and skipped on each
side, so that a tool that read or checked nothing cannot pass for a fast one.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import inspect
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".reference"
RUNNER = HERE / "reference_runner.py"
LA = "E09000027"
YEAR = "2024_25"
LAST_YEAR = "2023_24"
# The reference's pandas 1.5 needs numpy 1.x; csc-validator-be-903 pins its own numpy, the CIN package does not.
PINS = {
    "ssda903": ["csc-validator-be-903==0.1.17"],
    "cin": ["csc-validator-be-cin==0.1.13", "numpy==1.26.4"],
}
ERROR_HEAVY = 25_000  # children
ERROR_HEAVY_SHUFFLE = 0.5  # share of this year's cells given another row's value
SEED = 20240401


@dataclass
class Case:
    name: str
    ret: str
    children: int
    current: Path  # ours: the folder of CSV files or the XML file
    previous: Path | None
    providers: Path | None

    def files(self, folder: Path | None) -> list[str]:
        if folder is None:
            return []
        return [str(folder)] if folder.is_file() else sorted(str(p) for p in folder.glob("*.csv"))


# ---------------------------------------------------------------- the scratch environments


def reference_python(ret: str) -> tuple[Path, list[str]]:
    """The Python of the scratch venv for this return's reference package (made on first use), and its freeze."""
    env = VENVS / ret
    python = env / "bin" / "python"
    stamp = env / ".pins"
    wanted = "\n".join(PINS[ret])
    if not (python.exists() and stamp.exists() and stamp.read_text() == wanted):
        print(f"installing {' '.join(PINS[ret])} into {env} ...", file=sys.stderr, flush=True)
        shutil.rmtree(env, ignore_errors=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
        pip = [str(python), "-m", "pip", "install", "-qq", "--disable-pip-version-check"]
        subprocess.run([*pip, *PINS[ret]], check=True)
        stamp.write_text(wanted)
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True)
    return python, freeze.stdout.split()


# ---------------------------------------------------------------- the returns


def provider_list(folder: Path) -> Path:
    """One combined Ofsted provider list (xlsx, one sheet) with every URN the episodes of both years name, its
    placement and provider codes and a postcode: the columns both tools read from Ofsted's combined list."""
    target = folder / "providers.xlsx"
    if target.exists():
        return target
    import openpyxl

    listing: dict[str, dict[str, set[str]]] = {}
    for year in (YEAR, LAST_YEAR):
        with (folder / year / "episodes.csv").open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                urn = row.get("URN") or ""
                if urn and urn != "XXXXXXX":
                    entry = listing.setdefault(urn, {"place": set(), "provider": set(), "post": set()})
                    entry["place"].add(row["PLACE"])
                    entry["provider"].add(row["PLACE_PROVIDER"])
                    if row["PL_POST"]:
                        entry["post"].add(row["PL_POST"])
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Providers"
    sheet.append(["URN", "Provider type", "Local authority", "Placement code", "Placement provider code",
                  "Deregistration date", "Setting address postcode"])  # fmt: skip
    for urn, entry in sorted(listing.items()):
        codes = [",".join(sorted(filter(None, entry[k]))) for k in ("place", "provider")]
        kind = "Children's Home" if "K2" in entry["place"] else "Independent Fostering Agency"
        sheet.append([urn, kind, "Richmond upon Thames", *codes, None, min(entry["post"], default="")])
    # Like Ofsted's lists, one home with an SC-prefixed URN, closed: without a text URN the reference's pandas reads
    # the URN column as numbers, and without a date the deregistration column as floats, and its provider rules
    # crash (merging numbers with the episodes' text URNs; comparing dates with floats).
    closed = datetime.datetime(2015, 3, 31)
    sheet.append(["SC000001", "Children's Home", "Richmond upon Thames", "K2", "PR4", closed, "TW9 1DN"])
    book.save(target)
    return target


def shuffle_cells(clean: Path, out: Path, rate: float) -> None:
    """Copy a generated SSDA903 return; in this year's tables a share `rate` of the cells (all but CHILD) take the
    value of the same column in another row: valid-looking values in inconsistent places, many rules fire."""
    shutil.copytree(clean / LAST_YEAR, out / LAST_YEAR)
    (out / YEAR).mkdir(parents=True)
    for path in sorted((clean / YEAR).glob("*.csv")):
        rng = random.Random(f"{SEED}/{rate}/{path.name}")
        with path.open(newline="", encoding="utf-8") as fh:
            header, *body = list(csv.reader(fh))
        for column, name in enumerate(header):
            if name != "CHILD" and len(body) > 1:
                for row in body:
                    if rng.random() < rate:
                        row[column] = rng.choice(body)[column]
        with (out / YEAR / path.name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows([header, *body])


def error_heavy(data: Path, root: Path) -> Path:
    """The error-heavy SSDA903 return (cached): generated with a mistake in every child, then cells shuffled."""
    folder = data / f"ssda903_errorheavy_{ERROR_HEAVY}_{ERROR_HEAVY_SHUFFLE:g}" / "ssda903"
    if not (folder / YEAR).is_dir():
        raw = data / f"ssda903_{ERROR_HEAVY}_errors1"
        if not raw.exists():
            print(f"generating an SSDA903 return of {ERROR_HEAVY} children ...", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-m", "validator", "samples", "--return", "ssda903", "--year", YEAR,
                            "--children", str(ERROR_HEAVY), "--seed", str(SEED), "--errors", "1",
                            "--output", str(raw)], cwd=root, check=True, capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
        shuffle_cells(raw / "ssda903", folder, ERROR_HEAVY_SHUFFLE)
    return folder


def error_heavy_case(run: ModuleType) -> Case:
    """run.py's own error-heavy return (its `heavy` size) when it has one, so that both benchmarks time the same
    return; else this module's (error_heavy above)."""
    children = getattr(run, "SIZES", {}).get("heavy", {}).get("ssda903")
    if children and "heavy" in inspect.signature(run.generate).parameters:
        inputs, last = run.generate("ssda903", children, heavy=True)
        return Case("error-heavy", "ssda903", children, Path(inputs[0]), Path(last), None)
    folder = error_heavy(run.DATA, run.ROOT)
    return Case("error-heavy", "ssda903", ERROR_HEAVY, folder / YEAR, folder / LAST_YEAR, None)


def cases(run: ModuleType, names: list[str]) -> list[Case]:
    found = []
    for name in names:
        if name == "ssda903":
            inputs, last = run.generate("ssda903", 5_000)
            current, previous = Path(inputs[0]), Path(last)
            found.append(Case(name, "ssda903", 5_000, current, previous, provider_list(current.parent)))
        elif name == "cin":
            current = Path(run.generate("cin", 5_000)[0][0])
            found.append(Case(name, "cin", 5_000, current, None, None))
        elif name == "error-heavy":
            found.append(error_heavy_case(run))
        else:
            raise SystemExit(f"--cases: {name!r} is not one of ssda903, cin, error-heavy")
    for case in found:
        if case.providers is None and case.ret == "ssda903":
            case.providers = provider_list(case.current.parent)
    return found


# ---------------------------------------------------------------- running and timing


def installed_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a measured run gets: as an installed tool would run, with its modules' compiled bytecode
    (.pyc) kept and used. A shell with PYTHONDONTWRITEBYTECODE set would otherwise make every run compile the
    project's modules from source (about 0.05 s), which an installed package never does; both tools get the same."""
    found = dict(os.environ if env is None else env)
    found.pop("PYTHONDONTWRITEBYTECODE", None)
    return found


# Starts the measured command from a small process and reports its wall time and peak memory. On Linux a process's
# peak (ru_maxrss) starts from the memory of the process that spawned it (the kernel keeps the pre-exec high-water
# mark): spawned straight from this benchmark, after it has parsed a large JSON report, a run would be charged with
# this process's memory. The launcher is small, so its child's peak is the child's own.
LAUNCHER = """
import json, os, subprocess, sys, time
figures, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
proc = subprocess.Popen(command)
_pid, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(figures, "w", encoding="utf-8") as fh:
    json.dump({"wall": wall, "peak_kb": usage.ru_maxrss, "status": os.waitstatus_to_exitcode(status)}, fh)
"""


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, str, str, int]:
    """Run a command; wall seconds from start to exit, its peak RSS in MB (from wait4, in a small launcher process:
    LAUNCHER), stdout, stderr, status. The first of a case's repeats may write the tools' .pyc files
    (:func:`installed_env`); the best is kept."""
    env = installed_env(env)
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        figures = Path(scratch) / "figures.json"
        launcher = [sys.executable, "-c", LAUNCHER, str(figures), *cmd]
        subprocess.run(launcher, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, check=True)
        found = json.loads(figures.read_text(encoding="utf-8"))
        out.seek(0)
        err.seek(0)
        text, problems = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    return found["wall"], found["peak_kb"] / 1024, text, problems, found["status"]


def run_ours(case: Case, source: Path, workdir: Path) -> dict[str, object]:
    report = workdir / f"ours-{case.name}.json"
    cmd = [sys.executable, "-m", "validator", "validate", str(case.current), "--year", YEAR, "--la", LA,
           "--format", "json", "--output", str(report)]  # fmt: skip
    if case.previous:
        cmd += ["--previous", str(case.previous)]
    if case.providers:
        cmd += ["--providers", str(case.providers)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(source), os.environ.get("PYTHONPATH")]))}
    wall, peak, _out, err, status = timed(cmd, source, env)
    if status not in (0, 1):
        raise SystemExit(f"our validator failed on {case.name} (exit {status}):\n{err[-3000:]}")
    document = json.loads(report.read_text(encoding="utf-8"))
    report.unlink()
    summary = document["summary"]
    by_severity: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    for finding in document["findings"]:
        by_severity[finding["severity"]] = by_severity.get(finding["severity"], 0) + 1
        by_rule[finding["code"]] = by_rule.get(finding["code"], 0) + 1
    return {"wall": wall, "peak_mb": peak, "findings": len(document["findings"]), "by_severity": by_severity,
            "by_rule": by_rule, "rules_run": summary["rules_run"], "rules_not_run": summary["rules_not_run"],
            "crashed": [r["code"] if isinstance(r, dict) else r for r in document["rules"]["crashed"]],
            "not_run": document["rules"]["not_run"]}  # fmt: skip


def run_reference(case: Case, python: Path, workdir: Path) -> dict[str, object]:
    request = {"return": case.ret, "year": YEAR, "la": LA, "current": case.files(case.current),
               "previous": case.files(case.previous), "providers": str(case.providers) if case.providers else None,
               "workdir": str(workdir)}  # fmt: skip
    wall, peak, out, err, status = timed([str(python), str(RUNNER), json.dumps(request)], workdir)
    if status != 0:
        raise SystemExit(f"the reference failed on {case.name} (exit {status}):\n{err[-3000:]}")
    figures = json.loads(out)
    figures.update(wall=wall, peak_mb=peak)
    return figures


def best(runs: list[dict[str, object]]) -> dict[str, object]:
    kept = dict(min(runs, key=lambda r: r["wall"]))  # type: ignore[arg-type, return-value]
    kept["peak_mb"] = max(float(r["peak_mb"]) for r in runs)  # type: ignore[arg-type]
    kept["walls"] = [round(float(r["wall"]), 2) for r in runs]  # type: ignore[arg-type]
    return kept


# ---------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference", action="store_true",
                        help="time the community validators beside this project (benchmarks/reference.py)")  # fmt: skip
    parser.add_argument("--cases", default="ssda903,cin,error-heavy",
                        help="with --reference: ssda903, cin, error-heavy (comma-separated)")  # fmt: skip


def main(args: argparse.Namespace, run: ModuleType) -> int:
    chosen = cases(run, args.cases.split(","))
    pythons = {ret: reference_python(ret) for ret in dict.fromkeys(c.ret for c in chosen)}
    info = run.machine()
    print(f"machine: {info['platform']}, {info['cpus']} CPUs, Python {info['python']}, load {info['load_average']}")
    for ret, (_python, freeze) in pythons.items():
        print(
            f"reference for {ret}: " + ", ".join(p for p in freeze if p.lower().startswith(("csc-", "pandas", "numpy")))
        )
    print(f"{'case':<13}{'children':>9}{'ours s':>8}{'ref s':>8}{'speed-up':>9}{'ours MB':>9}{'ref MB':>8}"
          f"{'mem ratio':>10}{'findings':>10}{'ref flags':>10}")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ref-") as tmp:
        workdir = Path(tmp)
        for case in chosen:
            ours, theirs = [], []
            for _ in range(args.repeats):
                ours.append(run_ours(case, args.source.resolve(), workdir))
                theirs.append(run_reference(case, pythons[case.ret][0], workdir))
            o, r = best(ours), best(theirs)
            speed, memory = float(r["wall"]) / float(o["wall"]), float(o["peak_mb"]) / float(r["peak_mb"])  # type: ignore[arg-type]
            print(f"{case.name:<13}{case.children:>9}{o['wall']:>8.1f}{r['wall']:>8.1f}{speed:>8.1f}x"
                  f"{o['peak_mb']:>9.0f}{r['peak_mb']:>8.0f}{memory:>10.2f}{o['findings']:>10}{r['flagged']:>10}",
                  flush=True)  # fmt: skip
            results.append({"case": case.name, "return": case.ret, "children": case.children, "speed_up": speed,
                            "memory_ratio": memory, "ours": o, "reference": r})  # fmt: skip
    for res in results:
        o, r = res["ours"], res["reference"]
        print(f"{res['case']}: ours ran {o['rules_run']} rules ({len(o['crashed'])} crashed, {o['rules_not_run']} "
              f"not run); the reference has {r['rules_in_year']} for the year, {len(r['crashed'])} crashed "
              f"({' '.join(r['crashed'])}), {len(r['skipped'])} skipped for want of tables "
              f"({' '.join(r['skipped'])}), {r['rules_flagging']} flagged something; it read "
              f"{sum(r['rows_read'].values())} rows")  # fmt: skip
    if args.json:
        document = {"machine": info, "repeats": args.repeats, "source": str(args.source), "la": LA, "year": YEAR,
                    "reference_packages": {ret: freeze for ret, (_p, freeze) in pythons.items()},
                    "command": " ".join(sys.argv), "results": results}  # fmt: skip
        args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return 0
