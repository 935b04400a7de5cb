"""YAML reading for rule, code list and schema files.

PyYAML follows YAML 1.1, where 2024_25 is the integer 202425 and 0123 is octal. Our files are full of such
codes and years, so this loader only reads plain decimal integers and floats as numbers; everything else
unquoted stays text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class RuleYamlLoader(yaml.SafeLoader):
    pass


RuleYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
RuleYamlLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9]*)$"), list("-+0123456789"))
RuleYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(0|[1-9][0-9]*)\.[0-9]+$"), list("-+0123456789")
)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=RuleYamlLoader)  # noqa: S506 - a SafeLoader subclass


def load_yaml_file(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8"))
