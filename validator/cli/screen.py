"""Standard output and standard error as the commands print to them: rich's Console, imported only when it is needed.

Importing ``rich.console`` takes 25-40 ms, a tenth of a whole run, and most runs print only a line or two of plain
text (``report written to ...``) to a file or a pipe. There rich writes exactly that text and a newline: no colours
or styles (it is not a terminal), the markup tags dropped, and a line narrower than the console left as it is. A
:class:`Screen` writes such text itself, the same bytes, and hands everything else to a real ``Console`` (made
when first needed, with the settings the command line always used: ``emoji=False``): a terminal, tables and
progress bars, print options other than ``markup`` and ``highlight``, and any text rich could treat differently
(a tab, a control or non-ASCII character, a line it might wrap, markup it would reject). Settings that change
rich's own decisions (``FORCE_COLOR``, ``TTY_COMPATIBLE``, an odd ``COLUMNS``, Jupyter, IDLE, Windows) also go
to rich. ``tests/test_screen.py`` checks the bytes against rich's.
"""

from __future__ import annotations

import builtins
import itertools
import os
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

# rich.markup's tag pattern: optional backslashes, then [tag] where a tag starts with a letter, #, / or @.
_TAG = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
_WORD = re.compile(r"\s*\S+\s*")  # rich's word for wrapping: the spaces before and after it included
_PLAIN_OPTIONS = frozenset({"markup", "highlight"})  # options that never change the text of a plain line
_STD_FDS = (0, 1, 2)  # rich asks each standard stream in turn for the terminal's size


class Screen:
    """stdout (or stderr) for a command: :meth:`print` and :attr:`is_terminal` as rich's Console has them, and
    :attr:`rich`, the Console itself, for what only rich can do (tables, progress bars, the console report)."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        """The rich Console of this stream (``emoji=False``: ``:smile:`` in a file name is printed as written)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self.stderr, emoji=False)
        return self._console

    @property
    def file(self) -> TextIO | None:
        if self._console is not None:
            return self._console.file
        return sys.stderr if self.stderr else sys.stdout

    @property
    def is_terminal(self) -> bool:
        if self._console is not None or _rich_decides():
            return self.rich.is_terminal
        return _isatty(self.file)

    def print(self, *objects: Any, **options: Any) -> None:
        """Print as ``Console.print`` does: plain text here when rich would write it unchanged, else through rich."""
        text = self._plain_line(objects, options)
        if text is None:
            self.rich.print(*objects, **options)
            return
        file = self.file
        assert file is not None  # _plain_line said so
        file.write(text + "\n")
        file.flush()

    def _plain_line(self, objects: tuple[Any, ...], options: dict[str, Any]) -> str | None:
        """The text rich would write for ``objects`` (without the newline), or None where rich must decide."""
        if self._console is not None or len(objects) != 1 or not isinstance(objects[0], str):
            return None
        file = self.file
        if file is None or not options.keys() <= _PLAIN_OPTIONS or _rich_decides() or _isatty(file):
            return None  # no stream at all (pythonw): rich writes nowhere
        text = objects[0] if options.get("markup") is False else plain_markup(objects[0])
        width = _width()
        if text is None or width is None:
            return None
        lines = text.split("\n")
        if not all(line.isascii() and line.isprintable() for line in lines):
            return None
        return "\n".join(piece for line in lines for piece in wrap(line, width))


def plain_markup(markup: str) -> str | None:
    """The text of rich console markup, its tags dropped and its escapes undone as ``rich.markup.render`` does;
    None for markup rich might reject or read differently (a closing tag that matches no open one, a ``[@...]``
    handler)."""
    if "[" not in markup:
        return markup
    out: list[str] = []
    opened: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        whole, escapes, tag = match.groups()
        start, end = match.span()
        if start > position:
            out.append(markup[position:start].replace("\\[", "["))
        position = end
        if escapes:
            backslashes, escaped = divmod(len(escapes), 2)
            out.append("\\" * backslashes)
            if escaped:  # \[tag] is the text [tag]
                out.append(whole[len(escapes) :])
                continue
        name = tag.partition("=")[0]
        if name.startswith("@"):
            return None
        if not name.startswith("/"):
            opened.append(name.strip())
        elif name[1:].strip():  # [/bold]: must close an open [bold]
            closing = name[1:].strip()
            if closing not in opened:
                return None
            del opened[len(opened) - 1 - opened[::-1].index(closing)]
        elif opened:  # [/]: closes the last one opened
            opened.pop()
        else:
            return None
    if position < len(markup):
        out.append(markup[position:].replace("\\[", "["))
    return "".join(out)


def wrap(line: str, width: int) -> list[str]:
    """A line of printable ASCII (one cell a character) cut into lines of at most ``width`` as rich's ``Text.wrap``
    cuts it (overflow "fold"): at the start of the word that does not fit, a word longer than a line folded, the
    spaces after a word kept with it (at most to the width)."""
    if len(line) <= width:
        return [line]
    breaks: list[int] = []
    offset = 0  # the length of the line being filled
    for match in _WORD.finditer(line):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:  # folded across lines
            chunks = [word[i : i + width] for i in range(0, len(word), width)]
            for chunk in chunks[:-1]:
                if start:
                    breaks.append(start)
                start += len(chunk)
            if start:
                breaks.append(start)
            offset = len(chunks[-1])
        elif offset and start:  # on to the next line
            breaks.append(start)
            offset = len(word)
    bounds = [0, *breaks, len(line)]
    pieces = [line[a:b] for a, b in itertools.pairwise(bounds)]
    return [_fit(piece, width) for piece in pieces]


def _fit(piece: str, width: int) -> str:
    """rich's ``rstrip_end`` then ``truncate``: spaces past the width dropped, then anything past it."""
    excess = len(piece) - width
    if excess > 0:
        spaces = len(piece) - len(piece.rstrip())
        piece = piece[: len(piece) - min(spaces, excess)]
    return piece[:width]


def _rich_decides() -> bool:
    """Whether something rich reads could change what it writes: then rich writes it."""
    environ = os.environ
    return (
        os.name == "nt"  # a legacy Windows console is one column narrower
        or "FORCE_COLOR" in environ
        or "TTY_COMPATIBLE" in environ
        or hasattr(builtins, "get_ipython")  # Jupyter
        or getattr(sys.stdin, "__module__", "").startswith("idlelib")
    )


def _isatty(file: TextIO | None) -> bool:
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed file
        return False


def _width() -> int | None:
    """The width rich gives a console that is not a terminal: $COLUMNS, else the first standard stream's terminal
    width, else 80; None for a $COLUMNS rich might read differently."""
    columns = os.environ.get("COLUMNS")
    if columns is not None:
        return int(columns) if columns.isdigit() and int(columns) > 0 else None
    for fd in _STD_FDS:
        try:
            width = os.get_terminal_size(fd).columns
        except (AttributeError, ValueError, OSError):  # not a terminal
            continue
        return width or 80
    return 80
