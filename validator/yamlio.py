"""YAML reading for rule, code list and schema files.

PyYAML follows YAML 1.1, where 2024_25 is the integer 202425, 0123 is octal and `on`, `no` and `yes` are
booleans, and 2024-05-01 is a date (2021-09-31 an error). Our files are full of such codes, years, keys and
dates (some deliberately impossible), so this loader reads only plain decimal integers and floats as numbers
and only true/false as booleans, as YAML 1.2 does; everything else unquoted is text.

PyYAML is imported when a file is first parsed, not with this module: a run whose table definitions and code lists
come from the cache (:func:`load_data_file`) and whose rules are compiled already never parses YAML.
"""

from __future__ import annotations

import hashlib
import pickle
import re
from functools import cache
from pathlib import Path
from typing import Any

from .cache import checks_hold, code_stamp, content_checks, read_signed, write_signed
from .resources import user_cache_dir

_REPLACED = (
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:timestamp",
)


@cache
def rule_yaml_loader() -> Any:
    """The loader class: libyaml's parser when PyYAML has it (ten times faster), with YAML 1.2's plain scalars."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class RuleYamlLoader(base):  # type: ignore[misc,valid-type]
        pass

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
    return RuleYamlLoader


def load_yaml(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=rule_yaml_loader())


def load_yaml_file(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8"))


def load_yaml_with_nodes(text: str) -> tuple[Any, Any]:
    """The document and its node tree (for line numbers), parsed once."""
    loader = rule_yaml_loader()(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def load_data_file(path: Path) -> Any:
    """A YAML data file parsed (a return's table definitions, its code lists): as :func:`load_yaml_file`, but kept in
    the user's cache (signed, validator.cache) under the file's content and the validator's code
    (:func:`validator.cache.code_stamp`), so that a run reads it without PyYAML. The file is read every time
    (a few kB): a changed file, or changed code, is parsed again."""
    if user_cache_dir() is None:
        return load_yaml_file(path)
    body = path.read_bytes()
    code = code_stamp()
    key = hashlib.sha256(code.digest.encode() + b"\0" + str(path).encode() + b"\0" + body).hexdigest()
    prefix = f"yaml-{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}-"
    name = f"{prefix}{key[:40]}.pickle"
    cached = read_signed(name)  # never unpickled unless signed with the user's key
    if cached is not None:
        try:
            stored, checks, data = pickle.loads(cached)
        except Exception:  # another version's file: parsed again
            stored = None
        if stored == key and checks_hold(checks):
            return data
    data = load_yaml(body.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))  # as read_text reads it
    entry = (key, content_checks(code.recent), data)
    write_signed(name, pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL), replaces=f"{prefix}*.pickle")
    return data
