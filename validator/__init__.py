"""Validator for the DfE children's social care returns (SSDA903 and CIN census), run locally.

>>> import validator
>>> result = validator.validate(["samples/ssda903/2024_25"], year="2024_25", la="E09000027")
>>> result.findings_frame.head()
"""

from ._version import __version__
from .api import validate

__all__ = ["__version__", "validate"]
