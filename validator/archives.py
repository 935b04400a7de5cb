"""Zip archives (the ONS postcode zip, xlsx workbooks) are checked whole before any member is read.

A zip names, for each member, its compression method, whether it is encrypted, and its sizes; ``zipfile`` then
decompresses no more than the size a member declares (and checks its CRC). So a member is refused, before a byte
of it is decompressed, when it:

- uses a method Python cannot read or that is not plain (only stored, deflate, bzip2 and lzma; Deflate64 and the
  like are refused, as they otherwise fail half way with an error of their own);
- is encrypted;
- declares more than ``max_size`` bytes uncompressed, or more than ``max_ratio`` times its compressed size (a
  "zip bomb": a few MB that would expand to GBs);
and an archive is refused when its members together declare more than ``max_total`` bytes, or it has more than
``max_members`` of them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

READABLE_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
MAX_RATIO = 200  # a CSV of postcodes compresses about 6 times, an xlsx sheet's XML 10 to 50 times


class UnsafeArchive(ValueError):
    """A zip that is not read: why, in words for the user."""


def check_archive(
    path: Path,
    *,
    max_size: int,
    max_total: int | None = None,
    max_ratio: int = MAX_RATIO,
    max_members: int = 10_000,
) -> None:
    """Raise UnsafeArchive naming the first member that cannot be read safely (see the module's docstring)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    if len(members) > max_members:
        raise UnsafeArchive(f"{path.name} holds {len(members):,} files (at most {max_members:,} are read)")
    total = 0
    for info in members:
        if info.is_dir():
            continue
        where = f"{path.name}: {info.filename}"
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"{where} is encrypted: give the file unencrypted")
        if info.compress_type not in READABLE_METHODS:
            raise UnsafeArchive(
                f"{where} is compressed with method {info.compress_type}, which is not read (only "
                f"{', '.join(READABLE_METHODS.values())}): unzip and zip it again, or give the CSV itself"
            )
        if info.file_size > max_size:
            raise UnsafeArchive(
                f"{where} would expand to {info.file_size / 2**20:,.0f} MB (at most {max_size / 2**20:,.0f} MB)"
            )
        if info.file_size > max_ratio * max(info.compress_size, 1) and info.file_size > 2**20:
            raise UnsafeArchive(
                f"{where} would expand {info.file_size / max(info.compress_size, 1):,.0f} times (at most "
                f"{max_ratio}): a file that small cannot hold that much real data"
            )
        total += info.file_size
    if max_total is not None and total > max_total:
        raise UnsafeArchive(
            f"{path.name} would expand to {total / 2**20:,.0f} MB (at most {max_total / 2**20:,.0f} MB)"
        )
