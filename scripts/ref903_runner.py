"""Run the community SSDA903 validator on one return and print, per rule, the CHILD ids it flags (JSON).

This file is ours. It is NOT run by the project's Python: scripts/compare_903_reference.py starts it with the
interpreter of a scratch virtualenv that has the reference package installed from PyPI
(`pip install csc-validator-be-903`, which provides the `lac_validator` module), so nothing of the reference is
ever imported into the project's process, and nothing of it is copied into the repository.

Input: one JSON object on standard input:
    {"year": "2024_25", "la": "E09000027",
     "current": ["path/to/header.csv", ...], "previous": ["path/to/last-year/header.csv", ...],
     "exclude": ["164", ...], "shared_store": false}
Output: one JSON object on standard output:
    {"rules": {"101": {"status": "ok" | "skipped" | "crashed", "children": ["123", ...], "error": "..."}}}
    "skipped" is the reference's own empty-dict answer for "required tables not supplied"; a flagged row
    index that is not in its table is reported as "?<table>:<index>" so it shows up in the comparison.

It does what the reference's `LacValidator` does (read the files, build the data store with collection
start/end from the collection year, run each rule of the year's registry in turn), but keeps each rule's answer
apart instead of folding it into ERR_ columns, and by default gives each rule a DEEP copy of the store. The
reference's own shallow copies let a rule write through to the shared store: rule 365 fills every blank DEC with
31 March, so every rule after it in the registry sees open episodes as closed (quirks.csv, 365), and a rule's
answer depends on its place in the registry. With "shared_store": true the runner copies the store shallowly,
as the reference does, to reproduce what its users see.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
import traceback
import warnings
from pathlib import Path


def main() -> int:
    request = json.load(sys.stdin)
    logging.disable(logging.CRITICAL)  # the reference logs every rule at INFO level
    warnings.simplefilter("ignore")  # and pandas warns about its chained assignments
    out = sys.stdout
    sys.stdout = sys.stderr  # some reference rules print; only our JSON goes to standard output

    from lac_validator.datastore import copy_datastore, create_datastore
    from lac_validator.ingress import read_from_text
    from lac_validator.rules.ruleset_utils import get_year_ruleset

    year = request["year"]  # "2024_25"
    collection_year = str(int(year[:4]) + 1)  # the reference names a collection by its end year: "2025"
    files = [
        {"name": path, "description": description, "file_content": Path(path).read_bytes()}
        for description, paths in (("This year", request["current"]), ("Prev year", request.get("previous", [])))
        for path in paths
    ]
    tables, extras = read_from_text(files)
    metadata = {"collectionYear": collection_year, "localAuthority": request["la"], **extras}
    store = create_datastore(tables, metadata)
    registry = get_year_ruleset(collection_year)
    excluded = set(request.get("exclude", []))
    shared = bool(request.get("shared_store", False))

    rules: dict[str, dict[str, object]] = {}
    for code, rule in registry.items():
        code = str(code)
        if code in excluded:
            continue
        try:
            answer = rule.func(copy_datastore(store) if shared else copy.deepcopy(store))
        except Exception as exc:  # the reference's own crash: reported, never counted as passed
            rules[code] = {
                "status": "crashed",
                "children": [],
                "error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(limit=-3),
            }
            continue
        if answer == {}:
            rules[code] = {"status": "skipped", "children": []}
            continue
        children: set[str] = set()
        for table, rows in answer.items():
            frame = store.get(table)
            for row in rows:
                try:
                    if frame is None or row != row:  # unknown table, or NaN (which the reference drops)
                        raise KeyError(row)
                    child = frame.loc[row, "CHILD"]
                except (KeyError, TypeError):
                    children.add(f"?{table}:{row}")
                    continue
                children.add(str(child).strip())
        rules[code] = {"status": "ok", "children": sorted(children)}

    json.dump({"rules": rules}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
