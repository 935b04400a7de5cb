"""Differential comparison of our SSDA903 rules with the community reference validator.

What it does
------------
For each collection year (2022_23 .. 2026_27 by default) and each seed, it generates synthetic returns with the
project's own generator (`python -m validator samples`): one clean (--errors 0), one with injected mistakes
(--errors 0.3 by default), each with the previous year's return, and a copy of the clean one in which a share
of this year's cells (--shuffle 0.05) take the value of the same column in another row of their table: plausible
values in inconsistent places, which reach many more rules than the generator's mistakes. It validates each return

- with our validator, in this process (`validator.validate(..., previous=[last year])`), and
- with the reference package csc-validator-be-903 (module `lac_validator`), in a SEPARATE interpreter given by
  --reference-python: a scratch virtualenv outside the project in which the package was installed from PyPI.
  That interpreter runs scripts/ref903_runner.py (our code), so nothing of the reference is imported here.

and compares, per rule code, the set of CHILD ids each one flags. A finding of ours with no child (a
return-level rule) counts as the child "<return>".

It prints one table per year with the codes that flagged anything on either side, summed over the runs:
code, children flagged by ours only, by the reference only, by both, whether our rule has a `divergence:`
block for that year, and a verdict:

    same          both flagged the same children in every run
    divergence    they differ, and our rule records a deliberate divergence for the year
    DIFFERENT     they differ and no divergence is recorded: this fails the run
    ref-crashed   the reference rule raised an error in some run (those runs are not compared)
    ref-skipped   the reference said its tables were missing (not compared)
    ours-not-run  our rule was not run (e.g. it needs a column only the XML format carries; not compared)
    OURS-CRASHED  our rule raised an error: this fails the run
    ref-lacks     the reference has no rule of that code for the year
    ours-lacks    we do not implement the code for the year, and the reference flagged nobody
    OURS-LACKS    the reference flagged children for a code we do not implement for the year: this fails
    reader        they differ only on children whose one injected mistake is a matter of how the data is
                  presented and read, not of the rule (see PRESENTATION), in a field our rule looks at; counted in the "reader" column

Presentation differences, attributed from the generator's <year>_injected.csv (each child gets at most one
mistake): the reference upper-cases every value it reads, so a code typed in lower case passes its code-list
rules, while ours compares codes exactly (the reader adds a CODE-CASE notice); and our reader reads a date
written yyyy-mm-dd (with a DATE-FORMAT notice), which the reference treats as no date at all.

Rules needing postcode or Ofsted provider reference data, which the project does not have yet, are excluded
(EXCLUDED below). Exit status: 0 when every difference is on a rule with a divergence block, an excluded rule,
or a code the reference lacks; 1 otherwise; 2 for a usage problem.

This is a development tool, not part of the test suite. See scripts/README.md for how to set it up and run it:

    python3 -m venv /tmp/ref903-venv && /tmp/ref903-venv/bin/pip install csc-validator-be-903
    .venv/bin/python scripts/compare_903_reference.py --reference-python /tmp/ref903-venv/bin/python
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import validator  # noqa: E402
from validator.engine.model import load_rules  # noqa: E402

YEARS = ["2022_23", "2023_24", "2024_25", "2025_26", "2026_27"]
# Rules that need postcode look-ups or Ofsted provider lists (children's homes, social care providers).
EXCLUDED = {
    "164", "169", "179", "218", "219", "221", "224", "227", "228", "229", "230", "241", "243", "392a", "392c",
    "406", "411", "420", "452", "453", "454", "503G", "503H", "503J", "1008", "1015",
}  # fmt: skip
RUNNER = Path(__file__).resolve().parent / "ref903_runner.py"
RETURN_CHILD = "<return>"
PRESENTATION = {
    "lower_case_code": "the reference upper-cases every value; ours compares codes exactly",
    "iso_date": "our reader reads a yyyy-mm-dd date; the reference sees no date",
}


@dataclass
class CodeTally:
    """One rule code's comparison, added up over the runs of a year."""

    ours_only: set[tuple[str, str]] = field(default_factory=set)  # (run, child)
    ref_only: set[tuple[str, str]] = field(default_factory=set)
    both: set[tuple[str, str]] = field(default_factory=set)
    reader: set[tuple[str, str]] = field(default_factory=set)  # differences on children with a PRESENTATION mistake
    notes: set[str] = field(default_factory=set)  # ref-crashed, ref-skipped, ours-not-run, OURS-CRASHED, ...
    errors: list[str] = field(default_factory=list)


def generate(workdir: Path, year: str, seed: int, errors: float, children: int) -> Path:
    out = workdir / f"{year}_s{seed}_e{errors:g}"
    if not (out / "ssda903" / year).is_dir():
        cmd = [sys.executable, "-m", "validator", "samples", "--return", "ssda903", "--year", year]
        cmd += ["--children", str(children), "--seed", str(seed), "--errors", f"{errors:g}", "--output", str(out)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return out / "ssda903"


def shuffle_return(clean: Path, year: str, seed: int, rate: float) -> Path:
    """A copy of a clean generated return in which a share `rate` of this year's cells (all but CHILD) take the
    value of the same column in another row of the table, blank or not: valid-looking values in inconsistent
    places, which reach many more rules than the generator's mistakes. Last year's return is left as it was."""
    out = clean.parent.parent / f"{year}_s{seed}_m{rate:g}" / "ssda903"
    if (out / year).is_dir():
        return out
    shutil.copytree(clean / previous_year(year), out / previous_year(year))
    (out / year).mkdir(parents=True)
    for path in sorted((clean / year).glob("*.csv")):
        rng = random.Random(f"{year}/{seed}/{rate}/{path.name}")
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        for column, name in enumerate(header):
            if name == "CHILD" or len(body) < 2:
                continue
            for row in body:
                if rng.random() < rate:
                    row[column] = rng.choice(body)[column]
        with (out / year / path.name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows([header, *body])
    return out


def presentation_children(folder: Path, year: str) -> dict[str, str]:
    """Children whose injected mistake is one of the PRESENTATION kinds, with the field it is in."""
    path = folder / f"{year}_injected.csv"
    found: dict[str, str] = {}
    if not path.exists():
        return found
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            iso = row["error"] == "bad_date_text" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["injected"])
            if row["error"] == "lower_case_code" or iso:
                found[row["child"]] = row["field"]
    return found


def rule_words(year: str) -> dict[str, set[str]]:
    """Per code, the words of our rule for the year (its fields, condition, lets...): a presentation mistake
    explains a difference only when the rule looks at the field the mistake is in."""
    words: dict[str, set[str]] = defaultdict(set)
    for rule in load_rules("ssda903"):
        if year in rule.years:
            spec = {k: v for k, v in rule.spec.items() if k not in ("examples", "divergence", "notes", "message")}
            words[rule.code] |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", json.dumps(spec, default=str)))
    return words


def previous_year(year: str) -> str:
    start = int(year[:4]) - 1
    return f"{start}_{(start + 1) % 100:02d}"


def start_reference(
    python: str, year: str, la: str, current: Path, previous: Path, shared_store: bool
) -> subprocess.Popen[str]:
    request = {
        "shared_store": shared_store,
        "year": year,
        "la": la,
        "current": [str(p) for p in sorted(current.glob("*.csv"))],
        "previous": [str(p) for p in sorted(previous.glob("*.csv"))],
        "exclude": sorted(EXCLUDED),
    }
    proc = subprocess.Popen(
        [python, str(RUNNER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(request))
    proc.stdin.close()
    return proc


def finish_reference(proc: subprocess.Popen[str]) -> dict[str, dict[str, object]]:
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise RuntimeError(f"the reference run failed:\n{err[-3000:]}")
    return json.loads(out)["rules"]


def run_ours(year: str, la: str, current: Path, previous: Path) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Children flagged per code by our rules, and the status of every rule that did not simply run."""
    result = validator.validate([current], year=year, la=la, previous=[previous])
    codes = {r.code for r in result.rules}
    flagged: dict[str, set[str]] = {code: set() for code in codes}
    # Unconfirmed findings (resting on years of care history not given, docs/output.md) count as flagged: the
    # reference reports the same young people as plain errors.
    for f in (*result.findings, *result.unconfirmed):
        if f.code in codes:
            flagged[f.code].add(RETURN_CHILD if f.child in (None, "") else str(f.child).strip())
    statuses = {r.code: f"{r.status}: {r.reason}" for r in result.rules if r.status != "run"}
    return flagged, statuses


def divergent_codes(year: str) -> set[str]:
    return {r.code for r in load_rules("ssda903") if year in r.years and r.spec.get("divergence")}


def compare_run(
    run: str,
    tallies: dict[str, CodeTally],
    ours: dict[str, set[str]],
    our_status: dict[str, str],
    ref: dict,
    presentation: dict[str, str],
    words: dict[str, set[str]],
) -> None:
    for code in sorted(set(ours) | set(ref)):
        if code in EXCLUDED:
            continue
        t = tallies[code]
        if code not in ref:
            t.notes.add("ref-lacks")
            continue
        r = ref[code]
        if r["status"] == "crashed":
            t.notes.add("ref-crashed")
            t.errors.append(f"{run}: reference {r.get('error')}")
            continue
        if r["status"] == "skipped":
            t.notes.add("ref-skipped")
            continue
        theirs = set(r["children"])
        if code not in ours:
            if theirs:
                t.notes.add("OURS-LACKS")
                t.ref_only |= {(run, c) for c in theirs}
            else:
                t.notes.add("ours-lacks")
            continue
        status = our_status.get(code, "")
        if status.startswith("crashed"):
            t.notes.add("OURS-CRASHED")
            t.errors.append(f"{run}: ours {status}")
            continue
        if status.startswith("not_run"):
            t.notes.add("ours-not-run")
            continue
        mine = ours[code]
        explained = {c for c in mine ^ theirs if presentation.get(c) in words.get(code, ())}
        t.reader |= {(run, c) for c in explained}
        t.ours_only |= {(run, c) for c in mine - theirs - explained}
        t.ref_only |= {(run, c) for c in theirs - mine - explained}
        t.both |= {(run, c) for c in mine & theirs}


def verdict(t: CodeTally, has_divergence: bool) -> tuple[str, bool]:
    """The verdict shown in the table, and whether it fails the comparison."""
    if "OURS-CRASHED" in t.notes:
        return "OURS-CRASHED", True
    if "OURS-LACKS" in t.notes:
        return "OURS-LACKS", True
    differs = bool(t.ours_only or t.ref_only)
    if differs:
        return ("divergence", False) if has_divergence else ("DIFFERENT", True)
    if t.reader:
        return "reader", False
    for note in ("ref-crashed", "ref-skipped", "ours-not-run", "ref-lacks", "ours-lacks"):
        if note in t.notes:
            return note, False
    return "same", False


def sample(pairs: set[tuple[str, str]], n: int) -> str:
    return ", ".join(f"{child} ({run})" for run, child in sorted(pairs)[:n])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference-python", required=True, help="python of the scratch venv with csc-validator-be-903")
    ap.add_argument("--years", default=",".join(YEARS), help="comma-separated collection years")
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated generator seeds")
    ap.add_argument("--children", type=int, default=500)
    ap.add_argument("--errors", type=float, default=0.3, help="error rate of the second return of each seed")
    ap.add_argument("--shuffle", type=float, default=0.05, help="share of cells shuffled in the third return (0: none)")
    ap.add_argument(
        "--shared-store",
        action="store_true",
        help="run the reference's rules on one shared store, as its own tool does (see ref903_runner.py)",
    )
    ap.add_argument("--la", default="E09000027", help="the generator's postcodes are in and around this LA")
    ap.add_argument("--workdir", help="keep generated returns here (default: a temporary folder, removed)")
    ap.add_argument("--rules", help="only report these codes (comma-separated)")
    ap.add_argument("--all", action="store_true", help="list every code, also those nobody flagged")
    ap.add_argument("--show", type=int, default=0, help="name up to N differing children per code")
    ap.add_argument("--json", help="write every code's differing (run, child) pairs to this file")
    args = ap.parse_args(argv)

    years = [y.strip() for y in args.years.split(",") if y.strip()]
    unknown = [y for y in years if y not in YEARS]
    if unknown or not Path(args.reference_python).exists():
        print(f"unsupported years {unknown} or no interpreter at {args.reference_python}", file=sys.stderr)
        return 2
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    only = {c.strip() for c in args.rules.split(",")} if args.rules else None

    tmp = None
    if args.workdir:
        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="compare903-")
        workdir = Path(tmp.name)

    failed = False
    dump: dict[str, dict[str, object]] = {}
    try:
        for year in years:
            tallies: dict[str, CodeTally] = defaultdict(CodeTally)
            runs = []
            words = rule_words(year)
            for seed in seeds:
                variants = [(f"s{seed}e{e:g}", e, 0.0) for e in sorted({0.0, args.errors})]
                if args.shuffle:
                    variants.append((f"s{seed}m{args.shuffle:g}", 0.0, args.shuffle))
                for run, errors, shuffle in variants:
                    runs.append(run)
                    folder = generate(workdir, year, seed, errors, args.children)
                    if shuffle:
                        folder = shuffle_return(folder, year, seed, shuffle)
                    current, previous = folder / year, folder / previous_year(year)
                    proc = start_reference(args.reference_python, year, args.la, current, previous, args.shared_store)
                    ours, statuses = run_ours(year, args.la, current, previous)  # meanwhile the reference runs
                    presentation = presentation_children(folder, year)
                    compare_run(run, tallies, ours, statuses, finish_reference(proc), presentation, words)
            divergent = divergent_codes(year)
            print(f"\n== {year}: runs {', '.join(runs)} ({args.children} children each) ==")
            print(
                f"{'code':<8} {'ours only':>9} {'ref only':>9} {'both':>6} {'reader':>6}  {'divergence':<10}  verdict"
            )
            counts: dict[str, int] = defaultdict(int)
            for code in sorted(tallies, key=code_key):
                if only and code not in only:
                    continue
                t = tallies[code]
                word, fails = verdict(t, code in divergent)
                counts[word] += 1
                failed |= fails
                flagged = t.ours_only or t.ref_only or t.both or t.reader
                if not (args.all or flagged or fails or word in ("ref-crashed", "OURS-CRASHED")):
                    continue
                div = "yes" if code in divergent else "-"
                row = f"{code:<8} {len(t.ours_only):>9} {len(t.ref_only):>9} {len(t.both):>6} {len(t.reader):>6}"
                print(f"{row}  {div:<10}  {word}")
                if args.show and (t.ours_only or t.ref_only):
                    if t.ours_only:
                        print(f"          ours only: {sample(t.ours_only, args.show)}")
                    if t.ref_only:
                        print(f"          ref only:  {sample(t.ref_only, args.show)}")
                if args.show and t.errors:
                    print(f"          {t.errors[0][:200]}")
                if t.ours_only or t.ref_only or t.reader or t.errors:
                    dump[f"{year}/{code}"] = {
                        "verdict": word,
                        "ours_only": sorted(t.ours_only),
                        "ref_only": sorted(t.ref_only),
                        "reader": sorted(t.reader),
                        "errors": t.errors,
                    }
            print("summary: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    finally:
        if tmp is not None:
            tmp.cleanup()
    if args.json:
        Path(args.json).write_text(json.dumps(dump, indent=1))
    print("\nresult: " + ("DIFFERENCES without a divergence block (exit 1)" if failed else "clean (exit 0)"))
    return 1 if failed else 0


def code_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 10**9, code)


if __name__ == "__main__":
    sys.exit(main())
