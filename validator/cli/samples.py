"""``samples``: synthetic returns for demos and tests (the work is validator.samples')."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..outputs.terminal import term
from .options import return_type_arg, year_arg

if TYPE_CHECKING:
    from .screen import Screen


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("samples", help="generate synthetic returns for demos and tests")
    s.add_argument("--return", dest="return_type", type=return_type_arg, default="ssda903")
    s.add_argument("--year", type=year_arg, default="2024_25")
    s.add_argument("--children", type=int, default=50)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--errors", type=float, default=0.0, help="share of children given an injected error (0-1)")
    s.add_argument("--output", "-o", type=Path, required=True)
    s.add_argument("--no-previous", action="store_true", help="SSDA903: do not write last year's return")


def run(args: argparse.Namespace, out: Screen, err: Screen) -> int:
    from ..samples import generate_samples

    try:
        written = generate_samples(
            args.return_type, args.year, args.children, args.seed, args.errors, args.output, not args.no_previous
        )
    except ValueError as exc:  # the generator's word for options it cannot use
        raise UsageError(str(exc), title="cannot make samples") from None
    for path in written:
        err.print(f"wrote {term(path)}")
    return 0
