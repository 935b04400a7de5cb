#!/usr/bin/env python3
"""Speed and memory benchmarks (run by hand, not by the test suite). See docs/performance.md.

    python3 tasks.py bench                                   # typical and large sizes, both returns
    .venv/bin/python benchmarks/run.py --sizes national --returns ssda903 --repeats 1
    .venv/bin/python benchmarks/run.py --json results.json   # also write the figures as JSON
    .venv/bin/python benchmarks/run.py --reference           # beside the community validators (reference.py)

Each case generates a synthetic return with the project's sample generator at a fixed seed (cached under
benchmarks/.data/, which git ignores), then validates it in a fresh process several times, keeping the best wall
time (process start to JSON report written). It prints the time split into start-up (imports and loading the
rules), ingest, derive (derived columns), rules (the rest of the rule run), report, the peak memory (max RSS)
of the validating process and of the largest process it forked (earlier years read and rules run on a second
process, validator/processes.py; the two share the tables' pages, so their sum overstates the memory used), and
the CPU time of both. With two or more sizes of a return it also prints the scaling exponent: how the
rule run's time grows with the number of children (1.0 = linear).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import reference  # benchmarks/reference.py: --reference

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
SIZES = {  # children per return
    "typical": {"ssda903": 1_000, "cin": 5_000},
    "large": {"ssda903": 5_000, "cin": 25_000},
    "big": {"cin": 100_000},  # between large and national: a CIN return of 100,000 children (memory in pieces)
    "national": {"ssda903": 130_000, "cin": 650_000},
    # error-heavy: an SSDA903 return whose coded fields of this year are all invalid (about 500,000 findings)
    "heavy": {"ssda903": 20_000},
}
HEAVY_CODES = {"SEX", "ETHNIC", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "REC", "REASON_PLACE_CHANGE",
               "REVIEW_CODE", "MOTHER"}  # fmt: skip
YEAR = {"ssda903": "2024_25", "cin": "2024_25"}
SEED = 20240401

CHILD_RUN = r"""
import gc, json, resource, sys, tempfile, time
t0 = time.perf_counter()
gc.disable()  # as the command line starts (validator.cli.run): the collector paused while the library is imported
import validator.api as api
from validator.ingest.loader import load_return
from validator.engine.model import rules_for
from validator.outputs import write_atomic
from validator.outputs.json_out import render_json
try:
    from validator.outputs.formats import write_report
except ImportError:  # an older checkout (--source): the report as one string
    write_report = None
from validator.reference.postcodes import open_postcode_lookup
gc.freeze()  # then what is loaded frozen out of its passes, and the collector started again (cli._load_library)
gc.enable()
derived = [0.0]
class Store(api.TableStore):  # to read the time spent on derived columns (of each store: one per piece of a return)
    def __del__(self):
        derived[0] += getattr(self, "derive_seconds", 0.0)
api.TableStore = Store
inputs, previous, year, ret, out = json.loads(sys.argv[1])
t1 = time.perf_counter()
rules = rules_for(ret, year)
t2 = time.perf_counter()
try:  # a large CIN XML file is validated in pieces of children, as validate() does (validator/chunked.py)
    from validator.chunked import validate_in_pieces
except ImportError:  # an older checkout (--source)
    validate_in_pieces = None
result = None
if validate_in_pieces is not None and not previous:
    result = validate_in_pieces(inputs, return_type=None, year=year, la="E09000027", rules=None, today=None,
                                postcodes=None, run=api.run_rules, choose=api.choose_rules,
                                figures=api.report_figures)  # fmt: skip
t3 = time.perf_counter()  # in pieces, reading the file is counted with the rules
if result is None:
    dataset = load_return(inputs, year=year, la="E09000027", previous=[[previous]] if previous else [])
    dataset.postcodes = open_postcode_lookup(None)  # as validate() does: the postcode packages when installed
    t3 = time.perf_counter()
    result = api.run_rules(dataset, rules)
t4 = time.perf_counter()
if write_report is not None:
    write_report(__import__("pathlib").Path(out), result, "json")
else:
    write_atomic(__import__("pathlib").Path(out), render_json(result).encode("utf-8"))
t5 = time.perf_counter()
import gc; gc.collect()
while True:  # the forked processes, which the run does not wait for once their outcomes are in: counted below
    try:
        __import__("os").wait()
    except ChildProcessError:
        break
derive = derived[0]
usage, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
peak_kb = usage.ru_maxrss
print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime,
                  "child_peak_mb": children.ru_maxrss / 1024,"import": t1 - t0, "load_rules": t2 - t1, "ingest": t3 - t2, "derive": derive,
                  "rules": t4 - t3 - derive, "report": t5 - t4, "total": t5 - t0, "peak_mb": peak_kb / 1024,
                  "findings": len(result.findings), "rules_run": len(rules),
                  "crashed": sum(1 for r in result.rules if r.status == "crashed")}))
sys.stdout.flush()
__import__("os")._exit(0)  # as the command line ends (validator.cli.run): no object-by-object tear-down
"""


def generate(ret: str, children: int, heavy: bool = False) -> tuple[list[str], str | None]:
    folder = DATA / f"{ret}_{children}{'_heavy' if heavy else ''}"
    if heavy and not folder.exists():
        make_heavy(ret, children, folder)
    if not folder.exists():
        print(f"generating {ret} with {children} children (cached in {folder}) ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "validator", "samples", "--return", ret, "--year", YEAR[ret],
                        "--children", str(children), "--seed", str(SEED), "--errors", "0.05",
                        "--output", str(folder)], cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    if ret == "cin":
        return [str(folder / "cin" / f"cin_{YEAR[ret]}.xml")], None
    previous = f"{int(YEAR[ret][:4]) - 1}_{YEAR[ret][2:4]}"
    return [str(folder / "ssda903" / YEAR[ret])], str(folder / "ssda903" / previous)


def make_heavy(ret: str, children: int, folder: Path) -> None:
    """The error-heavy return: a generated one (half its children with an injected error) whose coded fields of
    this year are all made invalid."""
    import csv

    print(f"generating an error-heavy {ret} with {children} children (cached in {folder}) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "validator", "samples", "--return", ret, "--year", YEAR[ret],
                    "--children", str(children), "--seed", str(SEED), "--errors", "0.5", "--output", str(folder)],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    for path in (folder / ret / YEAR[ret]).glob("*.csv"):
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
        coded = [i for i, name in enumerate(rows[0]) if name in HEAVY_CODES]
        for row in rows[1:]:
            for i in coded:
                row[i] = "ZZ"
        with path.open("w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)


def measure(ret: str, children: int, repeats: int, source: Path = ROOT, heavy: bool = False) -> dict[str, float]:
    inputs, previous = generate(ret, children, heavy)
    report = DATA / f"report-{ret}-{children}.json"
    runs = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(source), os.environ.get("PYTHONPATH")]))}
    env = reference.installed_env(env)  # with the modules' .pyc files, as an installed package runs
    for _ in range(repeats):
        start = time.perf_counter()
        args = json.dumps([inputs, previous, YEAR[ret], ret, str(report)])
        proc = subprocess.run([sys.executable, "-c", CHILD_RUN, args], cwd=source, env=env, check=True,
                              capture_output=True, text=True)  # fmt: skip
        figures = json.loads(proc.stdout)
        figures["wall"] = time.perf_counter() - start
        runs.append(figures)
    best = min(runs, key=lambda r: r["wall"])
    best["peak_mb"] = max(r["peak_mb"] for r in runs)
    best["child_peak_mb"] = max(r.get("child_peak_mb", 0.0) for r in runs)
    return best


def exponents(results: list[dict]) -> list[dict]:
    """Per return, between its smallest and largest size measured: log(time ratio) / log(size ratio)."""
    out = []
    for ret in dict.fromkeys(r["return"] for r in results):
        cases = sorted((r for r in results if r["return"] == ret and r["size"] != "heavy"), key=lambda r: r["children"])
        if len(cases) < 2:
            continue
        small, big = cases[0], cases[-1]
        size = math.log(big["children"] / small["children"])
        engine_small = small["ingest"] + small["derive"] + small["rules"] + small["report"]
        engine_big = big["ingest"] + big["derive"] + big["rules"] + big["report"]
        out.append(
            {
                "return": ret,
                "from": small["size"],
                "to": big["size"],
                "wall": math.log(big["wall"] / small["wall"]) / size,
                "ingest_to_report": math.log(engine_big / engine_small) / size,
            }
        )
    return out


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default="typical,large", help="typical, large, big, national, heavy (error-heavy; comma-separated)"
    )
    parser.add_argument("--returns", default="ssda903,cin")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case; the best wall time is kept")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        help="validate with the validator package of this checkout (e.g. an older commit, to compare)",
    )
    reference.add_arguments(parser)
    args = parser.parse_args()
    if args.reference:
        return reference.main(args, sys.modules[__name__])
    results = []
    info = machine()
    print(f"machine: {info['platform']}, {info['cpus']} CPUs, Python {info['python']}, load {info['load_average']}")
    print(f"{'case':<18}{'children':>9}{'wall s':>8}{'start':>7}{'ingest':>8}{'derive':>8}{'rules':>8}"
          f"{'report':>8}{'peak MB':>9}{'child MB':>9}{'CPU s':>7}{'findings':>9}")  # fmt: skip
    for size in args.sizes.split(","):
        for ret in args.returns.split(","):
            if ret not in SIZES[size]:
                continue
            children = SIZES[size][ret]
            f = measure(ret, children, args.repeats, args.source.resolve(), heavy=size == "heavy")
            start = f["import"] + f["load_rules"]
            print(f"{size + ' ' + ret:<18}{children:>9}{f['wall']:>8.2f}{start:>7.2f}{f['ingest']:>8.2f}"
                  f"{f['derive']:>8.2f}{f['rules']:>8.2f}{f['report']:>8.2f}{f['peak_mb']:>9.0f}"
                  f"{f.get('child_peak_mb', 0.0):>9.0f}{f.get('cpu', 0.0):>7.2f}{f['findings']:>9}", flush=True)  # fmt: skip
            results.append({"size": size, "return": ret, "children": children, **f})
    slopes = exponents(results)
    for s in slopes:
        print(f"scaling {s['return']} {s['from']}->{s['to']}: wall time ~ children^{s['wall']:.2f}, "
              f"ingest to report ~ children^{s['ingest_to_report']:.2f}")  # fmt: skip
    if args.json:
        document = {"machine": info, "repeats": args.repeats, "source": str(args.source), "results": results,
                    "scaling": slopes}  # fmt: skip
        args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
