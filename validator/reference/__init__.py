"""Reference data that some rules need besides the return itself (postcodes, for now).

Each reference is loaded lazily, only when a rule asks for it, from data on this machine: nothing about a
child leaves it. A reference that cannot be had says why, so the rules that need it end as not run with that
reason instead of failing every row.
"""

from validator.reference.postcodes import (
    PostcodeDataUnavailable,
    PostcodeLookup,
    derive_placement_fields,
    normalise_postcodes,
    open_postcode_lookup,
)

__all__ = [
    "PostcodeDataUnavailable",
    "PostcodeLookup",
    "derive_placement_fields",
    "normalise_postcodes",
    "open_postcode_lookup",
]
