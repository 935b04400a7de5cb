"""Validator for the DfE children's social care returns (SSDA903 and CIN census), run locally.

>>> import validator
>>> result = validator.validate(["samples/ssda903/2024_25"], year="2024_25", la="E09000027")
>>> result.findings_frame.head()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import validate

__all__ = ["__version__", "validate"]


def __getattr__(name: str) -> Any:
    """``validate`` from :mod:`validator.api`, imported when first asked: ``python -m validator --help`` and the
    modules of the command line start without the library."""
    if name == "validate":
        from .api import validate

        return validate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
