"""Time the community validator on one return: run by the Python of a scratch venv, never by the project's.

This file is ours. benchmarks/reference.py starts it with the interpreter of a virtualenv under
benchmarks/.reference/ in which the community package was installed from PyPI (csc-validator-be-903, module
`lac_validator`; csc-validator-be-cin, module `cin_validator`). Nothing of the reference is imported into the
project's process and nothing of it is copied into the repository.

It calls the reference's own end-to-end entry point, the one its web front end calls (`rpc_main.lac_validate` /
`rpc_main.cin_validate`): read the files, run every rule of the collection year, build its reports as JSON. Then,
after the clock and the peak memory are read, it counts what the reference found, so that the figures can be
checked for plausibility (a tool that read nothing would be fast).

Input: one JSON argument {"return": "ssda903"|"cin", "year": "2024_25", "la": "E09000027", "current": [files],
"previous": [files], "providers": file or null}. Output: one JSON object on standard output.
"""

from __future__ import annotations

import time

START = time.perf_counter()

import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


class Tally(logging.Handler):
    """Collects the reference's own log lines that say a rule crashed or was skipped for want of tables."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.crashed: list[str] = []
        self.skipped: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text.startswith("Rule code ") and text.endswith(" failed to run!"):
            self.crashed.append(text[len("Rule code ") : -len(" failed to run!")])
        elif text.startswith("Error code ") and text.endswith(" skipped due to missing tables"):
            self.skipped.append(text[len("Error code ") : -len(" skipped due to missing tables")])


def run_903(request: dict, tally: Tally) -> tuple[dict, dict]:
    logging.getLogger("lac_validator").addHandler(tally)
    import rpc_main
    from lac_validator.rules.ruleset_utils import get_year_ruleset

    collection_year = str(int(request["year"][:4]) + 1)  # the reference names a collection by its end year
    files = {"This year": request["current"]}
    if request.get("previous"):
        files["Prev year"] = request["previous"]
    if request.get("providers"):
        files["CH lookup"] = [request["providers"]]  # one combined Ofsted list (children's homes and SCP)
    result = rpc_main.lac_validate(files, {"collectionYear": collection_year, "localAuthority": request["la"]})
    return result, get_year_ruleset(collection_year)


def run_cin(request: dict, tally: Tally) -> tuple[dict, dict]:
    import rpc_main
    from cin_validator.rules.ruleset_utils import get_year_ruleset

    collection_year = str(int(request["year"][:4]) + 1)
    printed = io.StringIO()  # the reference prints "Error with rule CODE: ..." for a rule that crashed
    with open(request["current"][0], "rb") as fh, contextlib.redirect_stdout(printed):
        result = rpc_main.cin_validate(
            {"This year": [fh]}, {"collectionYear": collection_year, "localAuthority": request["la"]}
        )
    for line in printed.getvalue().splitlines():
        if line.startswith("Error with rule "):
            tally.crashed.append(line[len("Error with rule ") :].split(":", 1)[0])
    return result, get_year_ruleset(collection_year)


def counts(ret: str, result: dict) -> dict[str, object]:
    """Flagged locations (rule, table, row), the rules that flagged any, and the rows read per table."""
    issues = json.loads(result["issue_locations"][0])
    located = {(str(i.get("rule_code")), str(i.get("tables_affected")), str(i.get("row_id"))) for i in issues}
    by_rule: dict[str, int] = {}
    for code, _table, _row in located:
        by_rule[code] = by_rule.get(code, 0) + 1
    out: dict[str, object] = {"flagged": len(located), "rules_flagging": len(by_rule), "by_rule": by_rule}
    if ret == "cin":
        multichild = json.loads(result["multichild_issues"][0])
        out["return_level_issues"] = len(multichild)
        out["flagged"] = len(located) + len(multichild)
    tables = result["data_tables"][0]
    out["rows_read"] = {name: len(json.loads(text)) for name, text in tables.items()}
    return out


def main() -> int:
    request = json.loads(sys.argv[1])
    tally = Tally()
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # only our JSON goes to standard output
    os.chdir(request["workdir"])  # rpc_main writes a log file into the working folder when imported
    runner = run_903 if request["return"] == "ssda903" else run_cin
    result, registry = runner(request, tally)
    seconds = time.perf_counter() - START
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "seconds_in_process": seconds,
        "peak_mb_self": peak_mb,
        "rules_in_year": len(registry),
        "crashed": sorted(set(tally.crashed)),
        "skipped": sorted(set(tally.skipped)),
        **counts(request["return"], result),
    }
    real_stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
