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


def syntax_error(exc: etree.XMLSyntaxError, path: Path) -> tuple[int | None, str]:
    """The line and message of a parse error in ``path``. When lxml's own summary has no line (e.g. "no element
    found" after an undefined entity), the first error libxml2 logged for this file says what and where (the log
    also holds earlier parses' errors: those of other files and documents are skipped)."""
    if not exc.lineno:
        for entry in exc.error_log:
            if entry.line and entry.filename == str(path) and entry.domain == etree.ErrorDomains.PARSER:
                return entry.line, entry.message
    return exc.lineno or None, exc.msg


def open_safe_iterparse(path: Path, **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """lxml iterparse configured so the document cannot reach the network or expand entities."""
    return etree.iterparse(
        str(path),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        **kwargs,
    )
