"""multipart/form-data, read without the ``cgi`` module (gone from Python 3.13): small, strict, with limits.

The whole body is in memory (the server refuses a body over its size limit before reading it), split on the
boundary; each part's headers are read with :mod:`email.parser`. Anything malformed is a
:class:`MultipartError` with a message fit to show the user.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

MAX_PARTS = 500
MAX_HEADER_BYTES = 16_384
MAX_FIELD_BYTES = 65_536  # a form field that is not a file


class MultipartError(ValueError):
    """An upload that cannot be read; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None  # None for a plain form field; as sent by the browser (unsafe: see safe_filename)
    content_type: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def boundary_of(content_type: str) -> bytes:
    """The boundary of a multipart/form-data Content-Type header."""
    msg = Message()
    msg["content-type"] = content_type
    if msg.get_content_type() != "multipart/form-data":
        raise MultipartError(f"expected a multipart/form-data upload, not {msg.get_content_type()}", 415)
    boundary = msg.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise MultipartError("the upload has no valid multipart boundary")
    return boundary.encode("latin-1", errors="strict")


def parse_multipart(
    body: bytes,
    content_type: str,
    *,
    max_parts: int = MAX_PARTS,
    max_header_bytes: int = MAX_HEADER_BYTES,
    max_field_bytes: int = MAX_FIELD_BYTES,
) -> list[Part]:
    """The parts of a multipart/form-data body, in order."""
    delimiter = b"--" + boundary_of(content_type)
    start = body.find(delimiter)
    if start < 0 or (start > 0 and body[start - 2 : start] != b"\r\n"):
        raise MultipartError("the upload is not a complete multipart body (no opening boundary)")
    pos = start + len(delimiter)
    parts: list[Part] = []
    while True:
        if body[pos : pos + 2] == b"--":
            return parts  # the closing delimiter; what follows is the epilogue
        if body[pos : pos + 2] != b"\r\n":
            raise MultipartError("the upload is malformed (a boundary is not followed by a line break)")
        pos += 2
        head_end = body.find(b"\r\n\r\n", pos, pos + max_header_bytes + 4)
        if head_end < 0:
            raise MultipartError("the upload is malformed (a part's headers are missing or too long)")
        headers = _headers(body[pos:head_end])
        content_start = head_end + 4
        end = body.find(b"\r\n" + delimiter, content_start)
        if end < 0:
            raise MultipartError("the upload was cut short (no closing boundary); try again")
        if len(parts) >= max_parts:
            raise MultipartError(f"too many files and fields in one upload (more than {max_parts})", 413)
        disposition = headers.get("content-disposition", "")
        if not disposition.lower().startswith("form-data"):
            raise MultipartError("the upload is malformed (a part is not form-data)")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise MultipartError("the upload is malformed (a part has no field name)")
        filename = headers.get_param("filename", header="content-disposition")
        data = body[content_start:end]
        if filename is None and len(data) > max_field_bytes:
            raise MultipartError(f"the form field {name!r} is too long", 413)
        parts.append(
            Part(
                name=name,
                filename=filename if isinstance(filename, str) else None,
                content_type=headers.get_content_type(),
                data=data,
            )
        )
        pos = end + 2 + len(delimiter)


def _headers(raw: bytes) -> Message:
    try:
        text = raw.decode("utf-8")  # browsers send non-ASCII file names as raw UTF-8
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return HeaderParser().parsestr(text + "\r\n\r\n", headersonly=True)


_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; room is left for "-2" and the like


def safe_filename(name: str, default: str = "upload") -> str:
    """A file name safe to create inside a folder: the last path component only, letters (any script), digits,
    space, dot, dash, underscore and brackets; no leading dot, no device names; at most 120 characters and
    200 bytes in UTF-8 (a name of 120 letters of another script can be 480 bytes; file systems take 255)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    cleaned = re.sub(r"[^\w .()-]+", "_", base, flags=re.UNICODE)
    cleaned = re.sub(r"_+", "_", cleaned).strip(" ._")
    stem, dot, ext = cleaned.rpartition(".")
    if not (dot and len(ext) <= 10 and ext.isascii()):
        stem, dot, ext = cleaned, "", ""
    if len(cleaned) > 120 or len(cleaned.encode()) > MAX_NAME_BYTES:
        while stem and (len(stem) + len(dot + ext) > 120 or len((stem + dot + ext).encode()) > MAX_NAME_BYTES):
            stem = stem[:-1]
        cleaned = (stem + dot + ext).strip(" ._")
    if not cleaned or cleaned.split(".")[0].lower() in _WINDOWS_RESERVED:
        cleaned = f"{default}-{cleaned}" if cleaned else default
    return cleaned
