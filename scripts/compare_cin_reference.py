"""Differential comparison of our CIN census rules with the community reference tool.

The reference is data-to-insight's ``csc-validator-be-cin`` (PyPI). It is installed in a scratch venv OUTSIDE
the project and run in a subprocess of that venv's python (``--reference-python``): nothing of it is imported
into this process and none of its code or files belong to the project. This script itself uses only the
standard library and our own ``validator`` package (run it with the project's venv).

For every collection year (default 2022_23..2025_26) and every seed, it generates synthetic returns with our
generator (``validator.samples``): a clean one, one with the generator's injected mistakes, and a copy of the
clean one with random edits in a share of the children (``--mutate``, default 0.7, 0 for none; see ``Mutator``:
the edits reach some 65 rules the generator's mistakes do not). Each return is validated with ``validator.validate``
and with the reference's rule set for the same year (``cin<year>``), and, per rule code, the sets of LAchildIDs
flagged are compared. Return-level findings (ours with no child; the reference's LA-level and Header issues)
count as one pseudo-child, ``(return)``.

It prints one table per year, with only the codes where the tools disagree unless ``--all`` is given:

    code | ours only | ref only | both | input | file | divergence

The counts are children summed over the year's returns. ``input`` counts differences that come from how the
input presents the data rather than from a rule, and are not held against the rule:
- a date the generator wrote as dd/mm/yyyy (its ``bad_date_text`` mistake) on a rule using that field: our
  reader reports the schema error and reads it day first; the reference's pandas reads it month first;
- a child whose LAchildID another child of the return shares (rule 8510), on a rule that no file-level divergence
  names: both tools report such children under the one LAchildID, so a comparison by LAchildID cannot tell
  which child a finding is about.
``file`` counts differences explained by a file-level divergence (rules/cin/file_divergences.yaml) whose cause is
present for that child (``TRIGGERS``): ``repeated-child-merged``, a child whose LAchildID another <Child> block
carries, on one of the rules it names (1103, 2889, 2990, 4015): the reference merges the two blocks' records,
ours keeps each block's episodes apart.
``divergence`` is ``yes`` when our rule for that year has a ``divergence:`` block (a deliberate, documented
difference), ``no ref`` when the reference has no such rule, ``no ours`` when we have none. Below each table
come the codes no tool flagged in any return (not exercised), then, for each unexplained code (and each code
given to ``--show``), a few of the differing children with the edits ``--mutate`` made to them and the return
they come from (the returns are kept under ``--workdir``), then the rules that did not run or crashed (the
reference reports a crashed rule as passed, so its crashes are listed here).

Exit status: 0 when every difference is on a rule with a divergence block, on a rule the reference lacks, or
comes from the input; 1 otherwise (including a difference on a rule we lack, or one of our rules crashing);
2 on a usage problem or when the reference cannot be run.

Setting up the reference (once):

    python3 -m venv /tmp/refcin-venv
    /tmp/refcin-venv/bin/pip install csc-validator-be-cin "numpy<2"   # its pandas 1.5 needs numpy 1.x

Running (from the repository root):

    .venv/bin/python scripts/compare_cin_reference.py --reference-python /tmp/refcin-venv/bin/python
    .venv/bin/python scripts/compare_cin_reference.py --reference-python /tmp/refcin-venv/bin/python \
        --years 2024_25 --seeds 21 22 23 --children 400 --show 8832 --workdir /tmp/cin-compare

This is a development tool, not part of the test suite.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import validator  # noqa: E402
from validator.engine.divergences import file_divergences  # noqa: E402
from validator.engine.model import rules_for  # noqa: E402
from validator.engine.rule import divergence_blocks  # noqa: E402
from validator.samples import generate_samples  # noqa: E402

YEARS = ["2022_23", "2023_24", "2024_25", "2025_26"]
RETURN_LEVEL = "(return)"

# Run by the reference venv's python, never imported here. It prints one JSON object on its real stdout:
#   {"rules": [codes in the rule set], "flagged": {code: [child ids]}, "crashed": {code: message}}
# The reference prints a line "Error with rule CODE: ..." when one of its rules raises (and then treats the rule
# as passed); those lines are collected as crashes. Everything else it prints goes to stderr.
REFERENCE_DRIVER = r"""
import contextlib, importlib, io, json, math, re, sys, warnings
import xml.etree.ElementTree as ET

warnings.simplefilter("ignore")
from cin_validator import cin_validator

xml_path, ruleset = sys.argv[1], sys.argv[2]
captured = io.StringIO()
with contextlib.redirect_stdout(captured):
    registry = importlib.import_module("cin_validator.rules." + ruleset).registry
    data = cin_validator.process_data(cin_validator.convert_data(ET.parse(xml_path).getroot()))
    run = cin_validator.CinValidator(data, registry)

flagged = {}
for code, child in zip(run.full_issue_df["rule_code"], run.full_issue_df["child_id"]):
    if child is None or (isinstance(child, float) and math.isnan(child)):
        child = "(unknown child)"
    flagged.setdefault(str(code), set()).add(str(child))
for code in run.multichild_issues["rule_code"]:
    flagged.setdefault(str(code), set()).add("(return)")
crashed = {}
for line in captured.getvalue().splitlines():
    m = re.match(r"Error with rule (\S+?): (.*)", line)
    if m:
        crashed[m.group(1)] = m.group(2)
    elif line.strip():
        print(line, file=sys.stderr)
json.dump(
    {
        "rules": sorted(str(c) for c in registry),
        "flagged": {c: sorted(v) for c, v in flagged.items()},
        "crashed": crashed,
    },
    sys.stdout,
)
"""


@dataclass
class Run:
    year: str
    seed: int
    errors: float
    xml: Path
    mutated: float = 0.0
    ours: dict[str, set[str]] = field(default_factory=dict)
    ours_problems: dict[str, str] = field(default_factory=dict)  # code -> "not_run: ..." / "crashed: ..."
    ref: dict[str, set[str]] = field(default_factory=dict)
    ref_rules: set[str] = field(default_factory=set)
    ref_crashed: dict[str, str] = field(default_factory=dict)
    # child -> fields ("Table.FIELD") where the generator wrote a date in a form other than yyyy-mm-dd
    odd_dates: dict[str, set[str]] = field(default_factory=dict)
    # LAchildIDs that more than one <Child> of the return carries
    shared_ids: set[str] = field(default_factory=set)
    # child -> the edits --mutate made to it
    mutations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.mutated:
            return f"seed {self.seed}, mutated {self.mutated:g}"
        return f"seed {self.seed}, errors {self.errors:g}"


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def odd_dates(injected_csv: Path) -> dict[str, set[str]]:
    """Children given a date in a non-ISO form (e.g. 07/03/2025) by the generator, with the fields concerned.

    Our reader reports the schema error and reads such a date day first, as written in England; the
    reference's pandas reads it month first when the day is 12 or less. Differences on rules using that field,
    for that child, come from how the date was presented, not from a rule.
    """
    found: dict[str, set[str]] = defaultdict(set)
    with injected_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["error"] == "bad_date_text" and not ISO_DATE.fullmatch(row["injected"]):
                found[row["child"]].add(f"{row['table']}.{row['field']}")
    return dict(found)


def shared_ids(xml: Path) -> set[str]:
    """LAchildIDs carried by more than one child of the return (rule 8510's finding).

    The reference keys a child's episodes, assessments and plans by LAchildID and position, so it pairs one
    block's records with the other's (the file-level divergence repeated-child-merged); ours numbers the second
    block's episodes on after the first's and keeps them apart. Findings of both tools about two such children
    are reported under the one LAchildID, so a comparison by LAchildID cannot tell them apart.
    """
    ids = [el.text for el in ET.parse(xml).getroot().iterfind("Children/Child/ChildIdentifiers/LAchildID")]
    return {i for i in ids if i is not None and ids.count(i) > 1}


def uses_field(rule: object, table_field: str) -> bool:
    """True when one of the rule's fields is this field (written FIELD on its own table, else Table.FIELD)."""
    table, name = table_field.split(".")
    fields = getattr(rule, "fields", ())
    return table_field in fields or (getattr(rule, "table", None) == table and name in fields)


# --- --mutate: random edits that reach rules the generator's own mistakes do not ------------------------------

# Blocks the schema allows several of (copied or dropped), and blocks it allows at most one of (only dropped: the
# reference reads only the first of these, so a copy would test its reader, not its rules).
REPEATABLE = ["CINdetails", "Assessments", "Section47", "ChildProtectionPlans", "CINPlanDates"]
SINGLE = ["Disabilities", "Reviews", "FactorsIdentifiedAtAssessment"]
# Elements that are lists in the schema (copied to make a duplicate code or date).
LIST_ITEMS = ["Disability", "AssessmentFactors", "CPPreviewDate"]
# Blocks that may gain an element another child's block of the same kind has.
GRAFT_INTO = ["ChildIdentifiers", "CINdetails", "Assessments", "Section47", "ChildProtectionPlans", "CINPlanDates"]
UPN_TAGS = ["UPN", "FormerUPN"]
BIRTH_TAGS = {"PersonBirthDate", "ExpectedPersonBirthDate"}
FLAGS = {"true": "false", "false": "true", "1": "0", "0": "1"}
DATE_STEPS = [-400, -365, -40, -30, -10, -3, -1, 1, 3, 10, 30, 40, 365, 400]
KINDS = ["shift", "shift", "same_date", "boundary", "drop", "drop_block", "copy_block", "copy_item", "graft", "code"]
KINDS += ["birth", "copy_child", "repeat_child"]


class Mutator:
    """Random edits to one child of a return, each described in words.

    The edits keep DfE's date form (yyyy-mm-dd): shift a date; set it to another date of the same child or to a
    census boundary; drop an element or a whole block; copy a block or a list item (a disability, a factor, a
    review date); add an element that another child's block of the same kind has; flip a yes/no flag; swap a code
    for one another child has in the same element, for a made-up code or for lower case; spoil a UPN; move the
    date of birth near an age boundary (25th birthday, unborn, born on the reference date); copy the whole child
    (a duplicate LAchildID), as it is or with its other dates moved (a repeated child with different episodes). The child's LAchildID is never changed, so both tools' findings stay attached to
    the same child.
    """

    def __init__(self, root: ET.Element, rng: random.Random) -> None:
        self.rng = rng
        self.parents = {c: p for p in root.iter() for c in p}
        reference = dt.date.fromisoformat(root.findtext("Header/CollectionDetails/ReferenceDate") or "")
        start = reference.replace(year=reference.year - 1) + dt.timedelta(days=1)
        self.boundaries = [reference, reference + dt.timedelta(days=1), start, start - dt.timedelta(days=1)]
        self.values: dict[str, list[str]] = defaultdict(list)  # tag -> values seen (not dates)
        self.grafts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # block -> tag -> values
        for el in root.iter():
            if len(el) == 0 and el.text and el.tag != "LAchildID" and not ISO_DATE.fullmatch(el.text):
                self.values[el.tag].append(el.text)
            if el.tag in GRAFT_INTO:
                for leaf in el:
                    if len(leaf) == 0 and leaf.tag != "LAchildID" and leaf.text:
                        self.grafts[el.tag][leaf.tag].append(leaf.text)

    def edit(self, child: ET.Element) -> str:
        rng = self.rng
        parents = {c: p for p in child.iter() for c in p}
        leaves = [el for el in child.iter() if len(el) == 0 and el.tag != "LAchildID" and el is not child]
        dates = [el for el in leaves if el.text and ISO_DATE.fullmatch(el.text)]
        kind = rng.choice(KINDS)
        if kind == "birth":
            ids = child.find("ChildIdentifiers")
            born = ids.find("PersonBirthDate") if ids is not None else None
            if born is not None:
                reference = self.boundaries[0]
                old = born.text or ""
                day = rng.choice([reference.replace(year=reference.year - 25), reference, self.boundaries[1]])
                new = (day + dt.timedelta(days=rng.choice([-1, 0, 1]))).isoformat()
                born.text = new
                return f"ChildIdentifiers/PersonBirthDate {old} -> {new}"
        if kind == "copy_child" and child in self.parents:
            parent = self.parents[child]
            parent.insert(list(parent).index(child) + 1, ET.fromstring(ET.tostring(child)))
            return "whole child copied"
        if kind == "repeat_child" and child in self.parents:
            # The child again in a second <Child> block with the same LAchildID, its episode dates moved: the
            # blocks now describe different episodes, which the reference pairs up (repeated-child-merged).
            parent = self.parents[child]
            again = ET.fromstring(ET.tostring(child))
            step = rng.choice([-90, -45, 45, 90])
            for el in again.iter():
                if el.tag not in BIRTH_TAGS and len(el) == 0 and el.text and ISO_DATE.fullmatch(el.text):
                    el.text = (dt.date.fromisoformat(el.text) + dt.timedelta(days=step)).isoformat()
            parent.insert(list(parent).index(child) + 1, again)
            return f"child repeated with its other dates moved {step:+d} days"
        if kind in ("shift", "same_date", "boundary") and dates:
            el = rng.choice(dates)
            old = el.text or ""
            if kind == "shift":
                new = self._shift(old)
            elif kind == "same_date":
                new = rng.choice(dates).text or old
            else:
                new = rng.choice(self.boundaries).isoformat()
            el.text = new
            return f"{_path(child, el)} {old} -> {new}"
        if kind == "drop" and leaves:
            el = rng.choice(leaves)
            where = _path(child, el)
            parents[el].remove(el)
            return f"{where} ({el.text}) dropped"
        repeatable = [el for el in child.iter() if el.tag in REPEATABLE]
        droppable = repeatable + [el for el in child.iter() if el.tag in SINGLE]
        if kind == "drop_block" and droppable:
            el = rng.choice(droppable)
            where = _path(child, el)
            parents[el].remove(el)
            return f"{where} dropped"
        items = [el for el in leaves if el.tag in LIST_ITEMS]
        if kind in ("copy_block", "copy_item") and (repeatable if kind == "copy_block" else items):
            el = rng.choice(repeatable if kind == "copy_block" else items)
            parent = parents[el]
            parent.insert(list(parent).index(el) + 1, ET.fromstring(ET.tostring(el)))
            return f"{_path(child, el)} copied"
        if kind == "graft":
            options = [
                (block, tag)
                for block in child.iter()
                if block.tag in GRAFT_INTO
                for tag in self.grafts[block.tag]
                if block.find(tag) is None
            ]
            if options:
                block, tag = rng.choice(options)
                value = rng.choice(self.grafts[block.tag][tag])
                if ISO_DATE.fullmatch(value) and dates:
                    value = self._shift(rng.choice(dates).text or value)
                ET.SubElement(block, tag).text = value
                return f"{_path(child, block)}/{tag} {value} added"
        codes = [el for el in leaves if el.tag in self.values]
        if codes:
            el = rng.choice(codes)
            old = el.text or ""
            roll = rng.random()
            if el.tag in UPN_TAGS and roll < 0.5:
                at = rng.randrange(len(old) or 1)
                new = rng.choice([old[:at] + rng.choice("AZ7") + old[at + 1 :], old[:-1], old + "0"])
            elif old in FLAGS and roll < 0.5:
                new = FLAGS[old]
            elif roll < 0.1:
                new = "XX"
            elif roll < 0.15:
                new = old.lower()
            else:
                new = rng.choice(self.values[el.tag])
            el.text = new
            return f"{_path(child, el)} {old} -> {new}"
        return ""

    def _shift(self, day: str) -> str:
        return (dt.date.fromisoformat(day) + dt.timedelta(days=self.rng.choice(DATE_STEPS))).isoformat()


def mutate_return(source: Path, target: Path, share: float, rng: random.Random) -> dict[str, list[str]]:
    """Copy a generated return with one to three random edits (see Mutator) in a share of its children.

    They make returns that break many more rules than the generator's catalogue of mistakes, for both tools to
    judge. Returns child -> description of its edits.
    """
    tree = ET.parse(source)
    root = tree.getroot()
    mutator = Mutator(root, rng)
    edits: dict[str, list[str]] = {}
    children = root.findall("Children/Child")
    for child in rng.sample(children, round(share * len(children))):
        child_id = child.findtext("ChildIdentifiers/LAchildID") or "?"
        done = [edit for _ in range(rng.randint(1, 3)) if (edit := mutator.edit(child))]
        if done:
            edits[child_id] = done
    tree.write(target, encoding="UTF-8", xml_declaration=True)
    return edits


def _path(child: ET.Element, target: ET.Element) -> str:
    parents = {c: p for p in child.iter() for c in p}
    names = []
    node = target
    while node is not child:
        parent = parents[node]
        same = [c for c in parent if c.tag == node.tag]
        names.append(node.tag + (f"[{same.index(node) + 1}]" if len(same) > 1 else ""))
        node = parent
    return "/".join(reversed(names))


def run_ours(run: Run) -> None:
    result = validator.validate([run.xml], return_type="cin", year=run.year)
    codes = {r.code for r in result.rules}
    flagged: dict[str, set[str]] = defaultdict(set)
    for f in result.findings:
        if f.code in codes:
            flagged[f.code].add(RETURN_LEVEL if f.child is None else str(f.child))
    run.ours = dict(flagged)
    for status in result.rules:
        if status.status != "run":
            run.ours_problems[status.code] = f"{status.status}: {status.reason}"


def run_reference(run: Run, python: str) -> None:
    proc = subprocess.run(
        [python, "-c", REFERENCE_DRIVER, str(run.xml), f"cin{run.year}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the reference failed on {run.xml} ({run.label}):\n{proc.stderr.strip()}")
    out = json.loads(proc.stdout)
    run.ref = {code: set(children) for code, children in out["flagged"].items()}
    run.ref_rules = set(out["rules"])
    run.ref_crashed = dict(out["crashed"])


# File-level divergence id -> whether its cause is present for a child of a run.
TRIGGERS: dict[str, Callable[[Run, str], bool]] = {
    "repeated-child-merged": lambda run, child: child in run.shared_ids,
}


def file_level_codes() -> dict[str, list[tuple[str, Callable[[Run, str], bool]]]]:
    """Rule code -> the file-level divergences (id, trigger) that name it."""
    found: dict[str, list[tuple[str, Callable[[Run, str], bool]]]] = defaultdict(list)
    for entry in file_divergences("cin"):
        if entry["id"] not in TRIGGERS:
            raise SystemExit(f"file-level divergence {entry['id']} has no trigger in TRIGGERS: add one")
        for code in entry["codes"]:
            found[code].append((entry["id"], TRIGGERS[entry["id"]]))
    return found


def code_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 10**9, code)


def report_year(year: str, runs: list[Run], show_all: bool, examples: int, show: set[str]) -> bool:
    """Print the year's table; return True when every difference is allowed."""
    our_rules = {r.code: r for r in rules_for("cin", year)}
    ref_rules = set().union(*(r.ref_rules for r in runs))
    codes = sorted(set(our_rules) | ref_rules, key=code_key)
    file_level = file_level_codes()
    rows = []
    samples: dict[str, list[str]] = {}
    clean = True
    for code in codes:
        rule = our_rules.get(code)
        ours_only = ref_only = both = explained = by_file = 0
        ids: set[str] = set()
        shown: list[str] = []
        for run in runs:
            mine, theirs = run.ours.get(code, set()), run.ref.get(code, set())
            both += len(mine & theirs)
            for side, children in (("ours only", mine - theirs), ("ref only", theirs - mine)):
                for child in sorted(children):
                    causes = [name for name, present in file_level.get(code, []) if present(run, child)]
                    if causes:
                        by_file += 1
                        ids.update(causes)
                        continue
                    if child in run.shared_ids or any(uses_field(rule, f) for f in run.odd_dates.get(child, ())):
                        explained += 1
                        continue
                    if side == "ours only":
                        ours_only += 1
                    else:
                        ref_only += 1
                    if sum(1 for line in shown if line.endswith(run.label)) < examples:
                        edits = "; ".join(run.mutations.get(child, []))
                        shown.append(f"{side:<10} {child:<16} {edits + ' | ' if edits else ''}{run.label}")
        if code not in ref_rules:
            status = "no ref"
        elif rule is None:
            status = "no ours"
        elif divergence_blocks(rule.spec):
            status = "yes"
        else:
            status = "no"
        unexplained = bool(ours_only or ref_only) and status in ("no", "no ours")
        if unexplained:
            clean = False
        if (unexplained or code in show) and shown:
            samples[code] = shown
        if ids:
            status += f" ({', '.join(sorted(ids))})"
        if ours_only or ref_only or explained or by_file or show_all:
            rows.append((code, ours_only, ref_only, both, explained, by_file, status, unexplained))

    print(f"\n=== {year}: {len(runs)} returns ({'; '.join(r.label for r in runs)})")
    print(f"{'code':<8} {'ours only':>9} {'ref only':>9} {'both':>6} {'input':>6} {'file':>5}  divergence")
    for code, o, r, b, d, f, status, unexplained in rows:
        line = f"{code:<8} {o:>9} {r:>9} {b:>6} {d:>6} {f:>5}  {status}"
        print(line + ("  <-- unexplained" if unexplained else ""))
    if not rows:
        print("(no differences)")
    silent = [c for c in codes if not any(run.ours.get(c) or run.ref.get(c) for run in runs)]
    if silent:
        print(f"  not exercised (flagged by neither tool in any return): {', '.join(silent)}")
    for code, shown in samples.items():
        print(f"  {code}:")
        for line in shown:
            print(f"    {line}")
    for run in runs:
        for code, problem in sorted(run.ours_problems.items()):
            print(f"  ours {code} {problem} ({run.label})")
            if problem.startswith("crashed"):
                clean = False
        for code, message in sorted(run.ref_crashed.items()):
            print(f"  reference {code} crashed ({run.label}): {message}")
    return clean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-python", required=True, help="python of the venv with csc-validator-be-cin")
    parser.add_argument("--years", nargs="+", default=YEARS, choices=YEARS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--children", type=int, default=300)
    parser.add_argument("--errors", type=float, default=0.3, help="share of children given a mistake")
    parser.add_argument(
        "--mutate",
        type=float,
        default=0.7,
        help="also compare, per seed, the clean return with random edits in this share of children (0: none)",
    )
    parser.add_argument("--workdir", type=Path, help="where the returns are written (default: a temporary folder)")
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="reference runs at once")
    parser.add_argument("--all", action="store_true", help="list every code, not only those that differ")
    parser.add_argument("--examples", type=int, default=3, help="differing children shown per code and run")
    parser.add_argument("--show", nargs="+", default=[], help="also list differing children for these codes")
    args = parser.parse_args(argv)

    if not Path(args.reference_python).exists():
        parser.error(f"{args.reference_python} does not exist")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cin-compare-"))
    runs: list[Run] = []
    for year in args.years:
        for seed in args.seeds:
            for errors in sorted({0.0, args.errors}):
                out = workdir / year / f"seed{seed}_errors{errors:g}"
                xml, injected = generate_samples("cin", year, args.children, seed, errors, out)
                runs.append(Run(year, seed, errors, xml, odd_dates=odd_dates(injected), shared_ids=shared_ids(xml)))
                if errors == 0 and args.mutate > 0:
                    target = xml.with_name(f"cin_{year}_mutated.xml")
                    rng = random.Random(f"{year}:{seed}:{args.mutate}")
                    edits = mutate_return(xml, target, args.mutate, rng)
                    run = Run(year, seed, 0.0, target, mutated=args.mutate, mutations=edits)
                    run.shared_ids = shared_ids(target)
                    runs.append(run)
    print(f"returns under {workdir}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        pending = [pool.submit(run_reference, run, args.reference_python) for run in runs]
        for run in runs:
            run_ours(run)
        try:
            for job in pending:
                job.result()
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 2

    clean = True
    for year in args.years:
        clean &= report_year(year, [r for r in runs if r.year == year], args.all, args.examples, set(args.show))
    print(
        "\nevery difference is a documented divergence or comes from the input"
        if clean
        else "\nUNEXPLAINED DIFFERENCES (exit 1)"
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
