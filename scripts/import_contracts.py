"""An import-linter contract type: no import cycles among a package's modules (run by `lint-imports`).

import-linter's own `acyclic_siblings` compares packages squashed to siblings; this one looks at every module,
counting the imports made inside functions too (grimp reads every import statement), so a loop hidden in a
function body fails the test command as surely as one at the top of a module.
"""

from __future__ import annotations

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def cycles(graph: grimp.ImportGraph, root: str) -> list[list[str]]:
    """The strongly connected groups of more than one module under root (Tarjan's algorithm, iterative)."""
    modules = sorted(graph.find_descendants(root) | {root})
    inside = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in modules:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


class NoCyclesContract(Contract):
    type_name = "no_cycles"

    root = fields.StringField()

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        found = []
        for group in cycles(graph, str(self.root)):
            members = set(group)
            lines = []
            for importer in group:
                for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
                    for detail in graph.get_import_details(importer=importer, imported=imported):
                        lines.append(f"{importer} -> {imported} (l. {detail['line_number']})")
            found.append({"modules": group, "imports": lines})
        return ContractCheck(kept=not found, warnings=[], metadata={"cycles": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for group in check.metadata["cycles"]:
            output.print_error(f"Import cycle among {', '.join(group['modules'])}:")
            for line in group["imports"]:
                output.print_error(f"  {line}", bold=False)
            output.new_line()
