#!/usr/bin/env python3
"""Findings snapshot, to prove an engine change leaves every result unchanged (run by hand, not by the tests).

    .venv/bin/python benchmarks/snapshot.py before.json     # on the old code
    .venv/bin/python benchmarks/snapshot.py after.json      # on the new code
    diff before.json after.json                             # must print nothing

Covers the bundled samples and generated returns at the benchmark seed (typical and large, 903 and CIN):
every finding and every rule's status, in a fixed order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import generate  # noqa: E402

from validator.api import validate  # noqa: E402


def cases() -> list[tuple[str, list[str], list[str], list[str]]]:
    s = ROOT / "samples"
    out = [
        ("903 sample", [str(s / "ssda903/2024_25")], [str(s / "ssda903/2023_24")], []),
        ("903 sample xml", [str(s / "ssda903/2024_25.xml")], [], []),
        (
            "903 clean",
            [str(s / "clean/ssda903/2024_25")],
            [str(s / "clean/ssda903/2023_24")],
            [str(s / "clean/ssda903/ofsted_providers_2024_25.csv")],
        ),
        ("cin sample", [str(s / "cin/cin_2024_25.xml")], [], []),
        ("cin clean", [str(s / "clean/cin/cin_2024_25.xml")], [], []),
    ]
    for ret, children in (("ssda903", 1_000), ("ssda903", 5_000), ("cin", 5_000), ("cin", 25_000)):
        inputs, previous = generate(ret, children)
        out.append((f"{ret} {children}", inputs, [previous] if previous else [], []))
    return out


def main() -> int:
    snapshot = {}
    for name, inputs, previous, providers in cases():
        result = validate(inputs, previous=previous, la="E09000027", providers=providers)
        snapshot[name] = {
            "rules": [[r.code, r.status, r.reason, r.count] for r in result.rules],
            "findings": [json.dumps(f.to_dict(), sort_keys=True, default=str) for f in result.findings],
        }
        print(f"{name}: {len(result.findings)} findings", file=sys.stderr)
    Path(sys.argv[1]).write_text(json.dumps(snapshot, indent=0, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
