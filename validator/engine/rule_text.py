"""A rule's text for people: its YAML with shared (anchored) parts written out, and the meaning of derived columns.

Rule files share parts between rules with YAML anchors (``let: &last_year_final_start``) and aliases (``let:
*last_year_final_start``). A reader checking one rule against DfE's text must see what that rule checks, not a
reference to another rule, so everything that shows a rule's YAML (`rules show`, `rules show --yaml`, the rule
pages and the web app's Rules pages) shows it through this module:

- :func:`written_out` gives each rule's YAML as written (comments and layout kept) with every alias replaced by the
  anchored text it stands for and the anchor marks dropped; the loader keeps it as ``Rule.text``;
- :func:`dump_yaml` writes loaded rule data as YAML with nothing shared (the logic shown on the pages, `rules diff`);
- :data:`DERIVED_MEANINGS` says in plain words what each column the engine works out (in Python) holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..yamlio import load_yaml

_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # events only: any loader's parser gives the same marks


# --------------------------------------------------------------------------------------------------- dumping


class _PlainDumper(yaml.SafeDumper):
    """Writes shared (anchored) parts of a rule out in full: a reader sees what runs, not `*id001`."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data.strip() else None  # a condition written over several lines stays so
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_PlainDumper.add_representer(str, _text)


def dump_yaml(data: Any) -> str:
    """YAML text of loaded rule data, anchors and aliases resolved, keys in the order written.

    Lines are not wrapped, so each expression stays on one line and a diff shows the expression that changed.
    """
    return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=10**6).rstrip()


# --------------------------------------------------------------------------------------------------- written out

# An alias (*name) or anchor (&name) as YAML writes them: after a space, a bracket, a comma or a line start.
ALIAS_MARK = re.compile(r"(?:^|(?<=[\s\[{,]))\*[^\s,\[\]{}]+")
ANCHOR_MARK = re.compile(r"(?:^|(?<=[\s\[{,]))&[^\s,\[\]{}]+")


@dataclass(frozen=True)
class _Anchored:
    start: int  # offset of the `&name` mark
    end: int  # offset just after the anchored node's text
    block: bool  # a block mapping or sequence: its text starts on the line after the mark


@dataclass(frozen=True)
class _Marks:
    anchors: dict[str, _Anchored]
    aliases: tuple[tuple[int, int, str], ...]  # (start, end, name) of each `*name`
    anchor_marks: tuple[tuple[int, int], ...]  # (start, end) of each `&name`


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _indent(text: str, offset: int) -> int:
    start = _line_start(text, offset)
    line = text[start : _line_end(text, start)]
    return len(line) - len(line.lstrip(" "))


def _marks(text: str) -> _Marks:
    """Where each anchor's node, each anchor mark and each alias is in the file text."""
    anchors: dict[str, _Anchored] = {}
    aliases: list[tuple[int, int, str]] = []
    marks: list[tuple[int, int]] = []
    open_: list[tuple[str | None, int, bool, int]] = []  # collections being read: anchor, start, block, last end
    last_end = 0
    for event in yaml.parse(text, Loader=_PARSER):
        start, end = event.start_mark.index, event.end_mark.index
        if isinstance(event, yaml.AliasEvent):
            aliases.append((start, end, event.anchor))
            last_end = end
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if event.anchor is not None:
                marks.append((start, start + 1 + len(event.anchor)))
            open_.append((event.anchor, start, not event.flow_style, last_end))
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            anchor, begun, block, _ = open_.pop()
            # A block collection ends where its last item ends (its end event points at the next token).
            last_end = _line_end(text, last_end) if block else end
            if anchor is not None:
                anchors[anchor] = _Anchored(begun, last_end, block)
        elif isinstance(event, yaml.ScalarEvent):
            last_end = start + len(text[start:end].rstrip())  # a block scalar's end includes its last line break
            if event.anchor is not None:
                marks.append((start, start + 1 + len(event.anchor)))
                anchors[event.anchor] = _Anchored(start, last_end, False)
    return _Marks(anchors, tuple(aliases), tuple(marks))


def _render(text: str, marks: _Marks, start: int, end: int, depth: int = 0) -> str:
    """text[start:end] with its aliases replaced by what they stand for and its anchor marks dropped."""
    if depth > 20:
        raise ValueError("aliases nested too deeply")
    edits: list[tuple[int, int, str]] = []
    for a_start, a_end in marks.anchor_marks:
        if start <= a_start < end:
            after = a_end + len(text[a_end:end]) - len(text[a_end:end].lstrip(" "))
            if after >= end or text[after] == "\n":  # `let: &name` then a line break: drop " &name"
                before = a_start - (len(text[start:a_start]) - len(text[start:a_start].rstrip(" ")))
                edits.append((before, after, ""))
            else:  # `x: &name {...}`: drop "&name "
                edits.append((a_start, after, ""))
    for a_start, a_end, name in marks.aliases:
        if start <= a_start < end:
            new = _stand_in(text, marks, name, a_start, depth)
            if new.startswith("\n"):  # `let: *name` for a block: the block goes on the lines after `let:`
                a_start -= len(text[start:a_start]) - len(text[start:a_start].rstrip(" "))
            edits.append((a_start, a_end, new))
    out = []
    at = start
    for e_start, e_end, new in sorted(edits):
        out.append(text[at:e_start] + new)
        at = e_end
    out.append(text[at:end])
    return "".join(out)


def _stand_in(text: str, marks: _Marks, name: str, alias_at: int, depth: int) -> str:
    """What `*name` at ``alias_at`` stands for, indented for where the alias is."""
    anchored = marks.anchors[name]
    shift = _indent(text, alias_at) - _indent(text, anchored.start)
    if anchored.block:  # from the line after the mark, as it is indented there
        body_start = _line_end(text, anchored.start) + 1
        lines = _render(text, marks, body_start, anchored.end, depth + 1).split("\n")
        return "\n" + "\n".join(_shifted(line, shift) for line in lines)
    mark_end = anchored.start + 1 + len(name)
    body_start = mark_end + len(text[mark_end : anchored.end]) - len(text[mark_end : anchored.end].lstrip(" "))
    first, *rest = _render(text, marks, body_start, anchored.end, depth + 1).split("\n")
    return "\n".join([first, *(_shifted(line, shift) for line in rest)])


def _shifted(line: str, shift: int) -> str:
    if not line.strip():
        return line.strip(" ")
    return " " * shift + line if shift >= 0 else line[min(-shift, len(line) - len(line.lstrip(" "))) :]


def written_out(text: str, entries: Sequence[tuple[int, str]], specs: Sequence[Any]) -> list[str]:
    """Each rule entry's YAML as written, with every alias replaced by what it stands for and anchor marks dropped.

    ``entries`` are the (first line, text) of each entry of the file's `rules:` list as written; ``specs`` the
    loaded entries. Comments and layout are kept. An entry whose text, written out, would not read back as the
    same rule (an alias in a place this cannot indent for) is written from the loaded data instead.
    """
    if not ALIAS_MARK.search(text) and not ANCHOR_MARK.search(text):
        return [entry for _, entry in entries]
    marks = _marks(text)
    offsets = [0]
    for line in text.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    shown = []
    for (line, entry), spec in zip(entries, specs, strict=False):
        if line <= 0:
            shown.append(entry)
            continue
        start = offsets[line - 1]
        end = min(offsets[min(line - 1 + entry.count("\n") + 1, len(offsets) - 1)] - 1, len(text))
        indent = _indent(text, start)
        try:
            rendered = _render(text, marks, start, end)
            out = "\n".join(x[indent:] if x[:indent].strip() == "" else x for x in rendered.split("\n")).rstrip()
            same = load_yaml(out) == [spec]
        except (KeyError, ValueError, yaml.YAMLError):
            same = False
        shown.append(out if same else dump_yaml([spec]))
    return shown


def parts_as_written(text: str, keys: Sequence[str], expected: dict[str, Any]) -> str | None:
    """The top-level ``keys`` of a rule entry's written-out YAML ``text`` (``- code: ...``), as written, comments
    included, in the order written; None when they would not read back as ``expected`` (then dump the data)."""
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    waiting: list[str] = []  # comment lines between two keys go with the key after them
    for line in text.split("\n")[1:]:
        top = re.match(r"  ([A-Za-z_][\w-]*):", line)
        if top:
            blocks.append((top.group(1), [*waiting, line]))
            waiting = []
        elif re.match(r" {0,2}#", line) or not line.strip():
            waiting.append(line)
        else:
            blocks[-1][1].extend([*waiting, line])
            waiting = []
    chosen = [line[2:] for key, lines in blocks if key in keys for line in lines]
    out = "\n".join(chosen).strip("\n")
    try:
        same = bool(out) and load_yaml(out) == expected
    except yaml.YAMLError:
        same = False
    return out if same else None


def unresolved_marks(text: str) -> list[str]:
    """The alias and anchor marks in a rule's YAML text (none, once it is written out)."""
    found: list[str] = []
    if "*" not in text and "&" not in text:
        return found
    for line in text.split("\n"):
        code = line.split(" #", 1)[0]
        if code.lstrip().startswith("#"):
            continue
        found += ALIAS_MARK.findall(_unquoted(code)) + ANCHOR_MARK.findall(_unquoted(code))
    return found


def _unquoted(line: str) -> str:
    """A line with its quoted strings blanked: `"a * b"` is an expression, not an alias."""
    return _QUOTED.sub('""', line)


_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'")


# --------------------------------------------------------------------------------------------------- derived columns

# What each column the engine works out in Python holds (validator/engine/derived.py, docs/rules.md), for the rules
# that name one: the rule pages show the meaning beside the rule, so a reader need not open the code.
DERIVED_MEANINGS: dict[str, str] = {
    "POC_ID": (
        "the number of the child's period of care: episodes with a readable DECOM in DECOM order (then DEC, blanks "
        "last); an episode starting later than the previous one ended starts a new period"
    ),
    "POC_START": "the DECOM of the first episode of the episode's period of care",
    "POC_END": "the DEC of the last episode of the episode's period of care; blank while the period is open",
    "HOME_POST_FOUND": "HOME_POST is in the ONS postcode data (blank when HOME_POST is blank)",
    "PL_POST_FOUND": "PL_POST is in the ONS postcode data (blank when PL_POST is blank)",
    "PL_LA": (
        "the upper-tier LA of PL_POST in the ONS postcode data (e.g. E09000027), or WAL, SCO, NIR elsewhere in the "
        "UK and NUK in the Channel Islands and the Isle of Man"
    ),
    "PL_LOCATION": "IN when PL_LA is the LA whose return it is (--la), else OUT",
    "PL_DISTANCE": "miles between the HOME_POST and PL_POST grid references in the ONS postcode data, to 0.1 mile",
    "PROVIDER_LA": "the upper-tier LA of the provider's postcode (or WAL, SCO, NIR); blank when it is not found",
    "PROVIDER_LOCATION": "IN when PROVIDER_LA is the LA whose return it is (--la), OUT when another, blank if unknown",
    "CONTINUOUSLY_LOOKED_AFTER": (
        "true when the child was looked after continuously for 12 months at 31 March (DfE's OC2 cohort): an episode "
        "covers 1 April (DECOM on or before it, DEC blank or on or after it), and during the year no episode starts "
        "care (RNE S, DECOM after 1 April and by 31 March), none ends care (REC other than X1, blank included, DEC "
        "from 1 April to 30 March) and none is a short break (LS V3 or V4) overlapping the year"
    ),
    "UASC_THIS_YEAR": (
        "true when the child is UASC in the year's return: Header UASC is 1, or it is blank (or the column absent) "
        "and the child has a UASC record"
    ),
    "UASC_THIS_OR_LAST_2_YEARS": (
        "true when the child is UASC (as UASC_THIS_YEAR) in this year's return or either of the two previous years' "
        "returns; a previous year's return not given counts as having no UASC children"
    ),
    "RETURN_START": "on a Table@all record: 1 April of the collection year of the return the record came from",
    "RETURN_END": "on a Table@all record: 31 March of the collection year of the return the record came from",
}


def derived_terms(logic: str) -> list[tuple[str, str]]:
    """(column, meaning) of each derived column a rule's logic text names, in order of first use."""
    names = re.findall(r"\b[A-Z][A-Z0-9_]+\b", logic)
    return [(name, DERIVED_MEANINGS[name]) for name in dict.fromkeys(names) if name in DERIVED_MEANINGS]
