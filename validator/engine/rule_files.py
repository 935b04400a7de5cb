"""Reading one rule file: YAML checked against the rule-file schema, each rule compiled, its text kept."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema
import yaml

from ..schema import load_schema
from ..yamlio import load_yaml_with_nodes
from .compiler import Builder
from .expr import CONSTANTS
from .pushdown import split_where
from .rule import Rule, RuleLoadError
from .rule_schema import RULE_FILE
from .rule_text import written_out

if TYPE_CHECKING:  # jsonschema is imported only to explain a rule file that fails the fast check
    import jsonschema

NOT_RULE_FILES = {"codelists.yaml", "divergences.yaml", "file_divergences.yaml"}  # data files beside the rules


def _rule_texts(text: str, root: Any) -> list[tuple[int, str]]:
    """(first line, YAML text) of each entry of the file's `rules:` list, as written (comments and all)."""
    lines = text.splitlines()
    out: list[tuple[int, str]] = []
    if root is None or not isinstance(root, yaml.MappingNode):
        return out
    for key, value in root.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            items = value.value
            for i, item in enumerate(items):
                start = item.start_mark.line
                end = items[i + 1].start_mark.line - 1 if i + 1 < len(items) else item.end_mark.line
                block = lines[start : end + 1]
                indent = len(block[0]) - len(block[0].lstrip())  # the "- " of the entry
                out.append((start + 1, "\n".join(x[indent:] for x in block).rstrip()))
    return out


@cache
def _rule_file_validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(RULE_FILE)


@cache
def _fast_rule_file_check() -> Any:
    """The rule-file schema compiled to Python: a fast yes/no. jsonschema then explains any no in detail."""
    return fastjsonschema.compile(RULE_FILE)


def _valid_fast(data: Any) -> bool:
    try:
        _fast_rule_file_check()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def load_rule_file(path: Path, return_type: str) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
        data, root = load_yaml_with_nodes(text)
        texts = _rule_texts(text, root)
    except yaml.YAMLError as exc:
        raise RuleLoadError(f"{path}: not valid YAML: {exc}") from None
    errors = (
        []
        if _valid_fast(data)
        else sorted(_rule_file_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    )
    if errors:
        err = errors[0]
        where = list(err.absolute_path)
        code = "?"
        if len(where) >= 2 and where[0] == "rules" and isinstance(where[1], int):
            code = str((data["rules"][where[1]] or {}).get("code", f"#{where[1] + 1}"))
            where = where[2:]
        key = ".".join(str(p) for p in where) or "(rule)"
        raise RuleLoadError(f"{path}: rule {code}: {key}: {_short(err)}")
    schema = load_schema(return_type)
    shown = written_out(text, texts, data["rules"])  # shared (anchored) parts written out where they are used
    rules = []
    for i, spec in enumerate(data["rules"]):
        line, source_text = (texts[i][0], shown[i]) if i < len(texts) else (0, "")
        rule = Builder(schema, f"{path}:{line}" if line else str(path), spec).build(return_type)
        rule = replace(rule, source=str(path), line=line, text=source_text)
        _work_out_once(rule)
        rules.append(rule)
    return rules


def _short(err: jsonschema.ValidationError) -> str:
    if err.validator == "additionalProperties":
        return err.message.replace("Additional properties are not allowed", "unknown key")
    if err.validator == "oneOf" and err.context:
        return min((e.message for e in err.context), key=len)
    return err.message


def _work_out_once(rule: Rule) -> None:
    """What a run would work out from the rule alone, worked out now to be kept with the compiled rule (the rules
    cache): the columns it reads, the sub-expressions it may share, how each relation's ``where`` splits between
    its two sides (engine/pushdown.py) with the run's constants and its return-level `let` values as constants."""
    rule.columns_used()
    rule.shared_uses()
    constants = frozenset(CONSTANTS | {name for name, (_, rel) in rule.lets.items() if rel.whole_table})
    for rel in rule.related:
        if rel.where is not None:
            split_where(rel.where, rel.alias, constants)
