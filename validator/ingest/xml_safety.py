"""Safe XML reading: no DTDs, no entity expansion, no network, bounded tree depth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
PROLOGUE_BYTES = 64 * 1024


def unsafe_xml_reason(path: Path) -> str | None:
    """Why a file is refused before parsing (a DTD or entity declaration), or None when it may be read."""
    with open(path, "rb") as fh:
        head = fh.read(PROLOGUE_BYTES)
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 1 and head[1:2] == b"\x00"):
            try:
                head = head.decode(encoding, errors="ignore").encode("utf-8")
                break
            except UnicodeError:
                continue
    match = _DECLARATION.search(head)
    if match:
        return f"it declares a {match.group(1).decode().upper()}, which is refused for safety"
    return None


def declared_doctype(element: Any) -> bool:
    """Whether the document an element belongs to declares a DOCTYPE (with or without an internal subset).

    The readers ask this at the first element they meet, so a declaration placed beyond the prologue bytes that
    :func:`unsafe_xml_reason` scans (or in an encoding it does not decode) is still refused before any entity in
    the records is met. libxml2's own limits (entity amplification, depth 256) stay in force underneath."""
    info = element.getroottree().docinfo
    return bool(info.doctype) or info.internalDTD is not None or info.externalDTD is not None


# libxml2's fixed nesting limit without XML_PARSE_HUGE: 2.13 and older refuse the 257th level, 2.14 the 256th.
# Nothing deeper than 255 levels is therefore ever read, whatever the version; DfE's files are under 10 deep.
MAX_DEPTH = 255
FEED_BYTES = 64 * 1024

# Our own words for the parse errors a broken return usually has, keyed by libxml2's error code (stable across
# versions, unlike its message text). Anything else keeps libxml2's message without its position.
_OWN_WORDS = {
    etree.ErrorTypes.ERR_DOCUMENT_END: "there is more content after the end of the root element",
    etree.ErrorTypes.ERR_INVALID_ENCODING: "bytes that are not valid in the file's character encoding",
}
_RESOURCE_LIMIT = 114  # XML_ERR_RESOURCE_LIMIT (named only in lxml 6's table)
_POSITION = re.compile(r",? line \d+, column \d+\s*$")


def malformed_reason(exc: etree.XMLSyntaxError) -> str:
    """What is wrong, in words that do not depend on libxml2's version."""
    message = _POSITION.sub("", exc.msg or "").strip()
    if exc.code in _OWN_WORDS:
        return _OWN_WORDS[exc.code]
    if exc.code == _RESOURCE_LIMIT and "depth" in message.lower():
        return f"elements are nested more than {MAX_DEPTH} levels deep"
    if exc.code == _RESOURCE_LIMIT and "amplification" in message.lower():
        return "entity expansion beyond the safety limit"
    return message or "the parser gave no reason"


def syntax_error(exc: etree.XMLSyntaxError) -> tuple[int | None, str]:
    """The line and the version-independent description of a parse error. When the error itself has no line
    (e.g. "no element found" after an undefined entity), the first error logged while this document was parsed
    says what and where (SafeXmlStream clears lxml's log before it starts, so no other document's errors show)."""
    if not exc.lineno:
        for entry in exc.error_log:
            if entry.line and entry.domain == etree.ErrorDomains.PARSER:
                return entry.line, _POSITION.sub("", entry.message).strip()
    return exc.lineno or None, malformed_reason(exc)


class SafeXmlStream:
    """The (event, element) pairs of a file, parsed safely, the same on every lxml and libxml2 version.

    The file is fed to a pull parser in fixed-size pieces and the events read after each piece. When the document
    turns out not to be well formed, the events of every element that ended before the error are still delivered,
    then :class:`lxml.etree.XMLSyntaxError` is raised; elements the parser closes only because the file ended
    (newer libxml2 closes them at end of data) are not delivered, so a record cut short is never read as complete.
    ``root`` is the document's root element once known."""

    def __init__(self, path: Path, events: tuple[str, ...], tag: Any = None) -> None:
        self.path = path
        self.root: Any = None
        self._parser = etree.XMLPullParser(
            events=events,
            tag=tag,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        parser = self._parser
        etree.clear_error_log()  # this thread's log: only this document's errors are left in it
        with open(self.path, "rb") as fh:
            while piece := fh.read(FEED_BYTES):
                try:
                    parser.feed(piece)
                except etree.XMLSyntaxError:
                    yield from self._drain()  # what ended before the error is sound
                    raise
                yield from self._drain()
        try:
            self.root = parser.close()
        except etree.XMLSyntaxError:
            self._remember_root()
            raise  # the events close() produced are elements cut short by the end of the file: not delivered
        yield from self._drain()

    def _drain(self) -> Iterator[tuple[str, Any]]:
        for event, element in self._parser.read_events():
            if self.root is None:
                self.root = element.getroottree().getroot()
            yield event, element

    def _remember_root(self) -> None:
        for _event, element in self._parser.read_events():
            if self.root is None:
                self.root = element.getroottree().getroot()


def open_safe_iterparse(path: Path, events: tuple[str, ...] = ("end",), tag: Any = None) -> SafeXmlStream:
    """The file's parse events, read with no network, no DTD and no entity expansion (see SafeXmlStream)."""
    return SafeXmlStream(path, events, tag)
