"""YAML reading for rule, code list and schema files.

PyYAML follows YAML 1.1, where 2024_25 is the integer 202425, 0123 is octal and `on`, `no` and `yes` are
booleans, and 2024-05-01 is a date (2021-09-31 an error). Our files are full of such codes, years, keys and
dates (some deliberately impossible), so this loader reads only plain decimal integers and floats as numbers
and only true/false as booleans, as YAML 1.2 does; everything else unquoted is text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it: ten times faster


class RuleYamlLoader(_BASE):  # type: ignore[misc,valid-type]
    pass


_REPLACED = (
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:timestamp",
)


RuleYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
RuleYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9]*)$"), list("-+0123456789")
)
RuleYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
RuleYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(0|[1-9][0-9]*)\.[0-9]+$"), list("-+0123456789")
)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=RuleYamlLoader)


def load_yaml_file(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8"))


def load_yaml_with_nodes(text: str) -> tuple[Any, Any]:
    """The document and its node tree (for line numbers), parsed once."""
    loader = RuleYamlLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node
