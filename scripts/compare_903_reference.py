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

A fourth return per seed (--inject, a share of the children; 0 for none) is a copy of the clean one with the edits
that find faults at the edges: a duplicated row in one of the child's tables, the child's Header row repeated,
two episodes (or social worker episodes) starting on the same day, and a missing period (or social worker
episode) nested inside another.

Differences that come from how the reference reads the files or shares data between its rules are recorded once,
as file-level divergences (rules/ssda903/file_divergences.yaml), each naming the rules it changes. A difference on
one of those rules is put down to the divergence (the "file" column, verdict `file-divergence`) only in a run
where its cause is present (TRIGGERS below): a child with two rows in this year's or last year's UASC table for
`uasc-flag-row-shift`; --shared-store for `rule-365-fills-blank-dec`.

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
import datetime as dt
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
from validator.engine.divergences import file_divergences  # noqa: E402
from validator.engine.model import load_rules  # noqa: E402
from validator.engine.rule import divergence_blocks  # noqa: E402

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
    file_level: set[tuple[str, str]] = field(
        default_factory=set
    )  # differences a triggered file-level divergence explains
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


INJECTIONS = ("duplicate_row", "repeated_child", "same_day_tie", "nested_period")
# This year's tables a row may be duplicated in (the Header is repeated_child).
DUPLICABLE = (
    "episodes.csv", "uasc.csv", "reviews.csv", "missing.csv", "oc2.csv", "oc3.csv", "ad1.csv",
    "placed_for_adoption.csv", "previous_permanence.csv", "sw_episodes.csv",
)  # fmt: skip


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _shift_date(text: str, days: int) -> str | None:
    try:
        day = dt.datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None
    return (day + dt.timedelta(days=days)).strftime("%d/%m/%Y")


def inject_return(clean: Path, year: str, seed: int, rate: float) -> tuple[Path, dict[str, str]]:
    """A copy of a clean generated return in which a share `rate` of the children get one edit at an edge the
    rules must get right (INJECTIONS): a row of one of their tables duplicated, their Header row repeated, two of
    their episodes (or social worker episodes) starting on the same day, or a missing period (or social worker
    episode) nested inside another. Last year's return is left as it was. Returns the folder and, per child, the
    edit made (written to injected_edges.csv beside the return)."""
    out = clean.parent.parent / f"{year}_s{seed}_i{rate:g}" / "ssda903"
    log = out / "injected_edges.csv"
    if (out / year).is_dir() and log.exists():
        with log.open(newline="", encoding="utf-8") as fh:
            return out, {row["child"]: row["edit"] for row in csv.DictReader(fh)}
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(clean / previous_year(year), out / previous_year(year))
    tables = {path.name: _read_csv(path) for path in sorted((clean / year).glob("*.csv"))}
    rng = random.Random(f"{year}/{seed}/{rate}/inject")
    children = [row[0] for row in tables["header.csv"][1]]
    edits: dict[str, str] = {}
    for child in children:
        if rng.random() >= rate:
            continue
        for kind in rng.sample(INJECTIONS, len(INJECTIONS)):  # the first kind that applies to the child
            if _inject(kind, child, tables, rng):
                edits[child] = kind
                break
    (out / year).mkdir(parents=True)
    for name, (columns, rows) in tables.items():
        with (out / year / name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows([columns, *rows])
    with log.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([["child", "edit"], *sorted(edits.items())])
    return out, edits


def _inject(kind: str, child: str, tables: dict[str, tuple[list[str], list[list[str]]]], rng: random.Random) -> bool:
    """One edit of `kind` to `child`'s rows, in place; False when the child has nothing it applies to."""

    def rows_of(name: str) -> list[int]:
        return [i for i, row in enumerate(tables[name][1]) if row[0] == child] if name in tables else []

    if kind == "repeated_child":
        kind, names = "duplicate_row", ["header.csv"]
    else:
        names = [n for n in DUPLICABLE if rows_of(n)]
    if kind == "duplicate_row":
        if not names:
            return False
        # A UASC child's UASC row half the time: few children have one, and a repeated one is what shifts the
        # reference's Header UASC flag (the file-level divergence uasc-flag-row-shift).
        name = "uasc.csv" if "uasc.csv" in names and rng.random() < 0.5 else rng.choice(names)
        rows = tables[name][1]
        at = rng.choice(rows_of(name))
        rows.insert(at + 1, list(rows[at]))
        return True
    if kind == "same_day_tie":
        for name, start in (("episodes.csv", "DECOM"), ("sw_episodes.csv", "SW_DECOM")):
            columns, rows = tables.get(name, ([], []))
            mine = rows_of(name)
            if len(mine) >= 2:
                col = columns.index(start)
                first, second = sorted(mine[:2])
                rows[second][col] = rows[first][col]
                return True
        return False
    # nested_period: a copy of a period that starts a day later and ends a day earlier than it
    for name, start, end in (("missing.csv", "MIS_START", "MIS_END"), ("sw_episodes.csv", "SW_DECOM", "SW_DEC")):
        columns, rows = tables.get(name, ([], []))
        for at in rows_of(name):
            begin = _shift_date(rows[at][columns.index(start)], 1)
            finish = _shift_date(rows[at][columns.index(end)], -1)
            if begin and finish and _dmy(begin) <= _dmy(finish):
                inner = list(rows[at])
                inner[columns.index(start)], inner[columns.index(end)] = begin, finish
                rows.insert(at + 1, inner)
                return True
    return False


def _dmy(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d/%m/%Y").date()


def _duplicated_uasc(folder: Path, year: str) -> bool:
    """A child with two rows in this year's or last year's UASC table (the cause of uasc-flag-row-shift)."""
    for path in (folder / year / "uasc.csv", folder / previous_year(year) / "uasc.csv"):
        if path.exists():
            children = [row[0] for row in _read_csv(path)[1]]
            if len(children) != len(set(children)):
                return True
    return False


# File-level divergence id -> whether its cause is present in a run (folder, year, --shared-store).
TRIGGERS = {
    "uasc-flag-row-shift": lambda folder, year, shared: _duplicated_uasc(folder, year),
    "rule-365-fills-blank-dec": lambda folder, year, shared: shared,
}


def triggered_codes(folder: Path, year: str, shared: bool) -> dict[str, str]:
    """Rule code -> the id of a file-level divergence whose cause is present in this run."""
    found: dict[str, str] = {}
    for entry in file_divergences("ssda903"):
        trigger = TRIGGERS.get(entry["id"])
        if trigger is None:
            raise SystemExit(f"file-level divergence {entry['id']} has no trigger in TRIGGERS: add one")
        if trigger(folder, year, shared):
            found.update(dict.fromkeys(entry["codes"], entry["id"]))
    return found


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
    return {r.code for r in load_rules("ssda903") if year in r.years and divergence_blocks(r.spec)}


def compare_run(
    run: str,
    tallies: dict[str, CodeTally],
    ours: dict[str, set[str]],
    our_status: dict[str, str],
    ref: dict,
    presentation: dict[str, str],
    words: dict[str, set[str]],
    triggered: dict[str, str] | None = None,
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
        if triggered and code in triggered and mine != theirs:
            t.notes.add(f"file:{triggered[code]}")
            t.file_level |= {(run, c) for c in mine ^ theirs}
            t.both |= {(run, c) for c in mine & theirs}
            continue
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
    if t.file_level:
        return "file-divergence", False
    if t.reader:
        return "reader", False
    for note in ("ref-crashed", "ref-skipped", "ours-not-run", "ref-lacks", "ours-lacks"):
        if note in t.notes:
            return note, False
    return "same", False


def sample(pairs: set[tuple[str, str]], n: int, edges: dict[str, dict[str, str]] | None = None) -> str:
    """Up to n (run, child) pairs, each with the edge edit --inject made to the child, if any."""

    def edit(run: str, child: str) -> str:
        made = (edges or {}).get(run, {}).get(child)
        return f", {made}" if made else ""

    return ", ".join(f"{child} ({run}{edit(run, child)})" for run, child in sorted(pairs)[:n])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference-python", required=True, help="python of the scratch venv with csc-validator-be-903")
    ap.add_argument("--years", default=",".join(YEARS), help="comma-separated collection years")
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated generator seeds")
    ap.add_argument("--children", type=int, default=500)
    ap.add_argument("--errors", type=float, default=0.3, help="error rate of the second return of each seed")
    ap.add_argument("--shuffle", type=float, default=0.05, help="share of cells shuffled in the third return (0: none)")
    ap.add_argument(
        "--inject",
        type=float,
        default=0.3,
        help="share of children given an edge edit (duplicated row, repeated child, same-day tie, nested period) "
        "in the fourth return (0: none)",
    )
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
            edges: dict[str, dict[str, str]] = {}  # run -> child -> the edge edit --inject made
            words = rule_words(year)
            for seed in seeds:
                variants = [(f"s{seed}e{e:g}", e, 0.0, 0.0) for e in sorted({0.0, args.errors})]
                if args.shuffle:
                    variants.append((f"s{seed}m{args.shuffle:g}", 0.0, args.shuffle, 0.0))
                if args.inject:
                    variants.append((f"s{seed}i{args.inject:g}", 0.0, 0.0, args.inject))
                for run, errors, shuffle, inject in variants:
                    runs.append(run)
                    folder = generate(workdir, year, seed, errors, args.children)
                    if shuffle:
                        folder = shuffle_return(folder, year, seed, shuffle)
                    if inject:
                        folder, edges[run] = inject_return(folder, year, seed, inject)
                    current, previous = folder / year, folder / previous_year(year)
                    proc = start_reference(args.reference_python, year, args.la, current, previous, args.shared_store)
                    ours, statuses = run_ours(year, args.la, current, previous)  # meanwhile the reference runs
                    presentation = presentation_children(folder, year)
                    triggered = triggered_codes(folder, year, args.shared_store)
                    ref = finish_reference(proc)
                    compare_run(run, tallies, ours, statuses, ref, presentation, words, triggered)
            divergent = divergent_codes(year)
            print(f"\n== {year}: runs {', '.join(runs)} ({args.children} children each) ==")
            print(
                f"{'code':<8} {'ours only':>9} {'ref only':>9} {'both':>6} {'reader':>6} {'file':>5}  "
                f"{'divergence':<10}  verdict"
            )
            counts: dict[str, int] = defaultdict(int)
            for code in sorted(tallies, key=code_key):
                if only and code not in only:
                    continue
                t = tallies[code]
                word, fails = verdict(t, code in divergent)
                counts[word] += 1
                failed |= fails
                flagged = t.ours_only or t.ref_only or t.both or t.reader or t.file_level
                if not (args.all or flagged or fails or word in ("ref-crashed", "OURS-CRASHED")):
                    continue
                div = "yes" if code in divergent else "-"
                row = f"{code:<8} {len(t.ours_only):>9} {len(t.ref_only):>9} {len(t.both):>6} {len(t.reader):>6}"
                ids = sorted(n.removeprefix("file:") for n in t.notes if n.startswith("file:"))
                print(f"{row} {len(t.file_level):>5}  {div:<10}  {word}" + (f" ({', '.join(ids)})" if ids else ""))
                if args.show and (t.ours_only or t.ref_only):
                    if t.ours_only:
                        print(f"          ours only: {sample(t.ours_only, args.show, edges)}")
                    if t.ref_only:
                        print(f"          ref only:  {sample(t.ref_only, args.show, edges)}")
                if args.show and t.errors:
                    print(f"          {t.errors[0][:200]}")
                if t.ours_only or t.ref_only or t.reader or t.errors:
                    dump[f"{year}/{code}"] = {
                        "verdict": word,
                        "ours_only": sorted(t.ours_only),
                        "ref_only": sorted(t.ref_only),
                        "reader": sorted(t.reader),
                        "file_level": sorted(t.file_level),
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
