"""The one way text from outside the program (data, file names, arguments, exception messages) reaches a terminal.

rich reads ``[...]`` in printed strings as markup, so a child id such as ``[/x]`` would crash the print or restyle
the output; and a terminal runs escape sequences (ESC, CSI, OSC ...) it is sent, so a value holding them could
rewrite the screen, set the window title or hide text. :func:`term` makes any such text inert: control characters
are shown as visible ``\\xNN`` escapes and markup brackets are escaped. Every value interpolated into text printed
by a rich Console (including table cells) goes through it; only the program's own literal markup does not.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, the C1 controls, and the Unicode bidirectional overrides and isolates
# (which reorder what the terminal shows).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# rich.markup.escape's pattern: optional backslashes, then what rich would read as a tag.
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def escape(markup: str) -> str:
    """``markup`` with its square brackets escaped as ``rich.markup.escape`` does (the same text; tested against
    it), without importing rich: a run that prints nothing to a terminal does not need it."""
    markup = _TAG.sub(lambda m: f"{m[1]}{m[1]}\\{m[2]}", markup)
    if markup.endswith("\\") and not markup.endswith("\\\\"):
        return markup + "\\"
    return markup


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def term(value: object) -> str:
    """``value`` as text safe to print through rich: control characters made visible, markup escaped."""
    text = _CONTROL.sub(_visible, "" if value is None else str(value))
    return escape(text)
