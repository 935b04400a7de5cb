"""Seeded synthetic returns (SSDA903 and the CIN census) for demos, tests and benchmarks.

Everything is invented: child ids, UPNs, dates, social worker ids and Ofsted URNs. No record describes a real
person. Postcodes are drawn from a short fixed list of real postcodes (areas, not anyone's address) in and
around one London borough, so that the fields the validator derives from them (placement LA, location and
distance) can be worked out; validate the samples with ``--la E09000027`` (that borough's code).

The same arguments give byte-identical files: one ``random.Random`` per purpose, seeded from the seed and the
return, no clock, no set iteration. The clean data does not depend on ``errors`` or ``previous``: injected
mistakes are drawn from their own random stream after the clean tables are built, and the previous year is
simulated (as part of each child's history) whether or not it is written.

The steps, one module each: simulate the children (``simulate_903``, ``simulate_cin``), cut each year's SSDA903
tables out of their histories (``tables_903``), inject mistakes (``inject_903``, ``inject_cin``) and write the
files (``write``); ``common`` holds what both returns share.
"""

from __future__ import annotations

from pathlib import Path

from ..years import SUPPORTED_YEARS, check_year
from .common import INJECTED_COLUMNS, LA_CODE, LA_NUMBER, Rand, previous_year
from .inject_903 import inject_903
from .inject_cin import inject_cin
from .model_903 import Year
from .simulate_903 import Simulator903
from .simulate_cin import SimulatorCin
from .tables_903 import SSDA903_COLUMNS, SSDA903_FILES, cut_year
from .write import cin_xml, write_903_csv, write_903_xml, write_cin_xml, write_csv

__all__ = [
    "INJECTED_COLUMNS",
    "LA_CODE",
    "LA_NUMBER",
    "SSDA903_COLUMNS",
    "SSDA903_FILES",
    "generate_samples",
    "previous_year",
]


def generate_samples(
    return_type: str, year: str, children: int, seed: int, errors: float, output: Path, previous: bool = True
) -> list[Path]:
    """Write a synthetic return (and, for SSDA903, last year's) under ``output``; return the files written.

    SSDA903: ``output/ssda903/<year>/*.csv`` (one file per table), ``output/ssda903/<year>.xml`` (the same
    return as XML), from 2023_24 ``output/ssda903/<year>_sw.xml`` (its social worker episodes as XML) and,
    when ``previous`` is true, ``output/ssda903/<previous year>/*.csv`` for the same children. CIN:
    ``output/cin/cin_<year>.xml``. Both: ``output/<return>/<year>_injected.csv`` listing the mistakes injected
    into a share ``errors`` (0 to 1) of the children (only a header when ``errors`` is 0).
    """
    year = check_year(year)
    if return_type not in SUPPORTED_YEARS:
        raise ValueError(f"'{return_type}' is not a return: use ssda903 or cin")
    if year not in SUPPORTED_YEARS[return_type]:
        raise ValueError(f"{return_type} samples can be made for {', '.join(SUPPORTED_YEARS[return_type])}")
    if children < 0:
        raise ValueError("the number of children cannot be negative")
    if not 0 <= errors <= 1:
        raise ValueError("errors is a share of children, from 0 to 1")
    output = Path(output)
    if return_type == "ssda903":
        return _ssda903_samples(year, children, seed, errors, output, previous)
    return _cin_samples(year, children, seed, errors, output)


def _ssda903_samples(year: str, count: int, seed: int, errors: float, output: Path, previous: bool) -> list[Path]:
    current, last = Year.of(year), Year.of(previous_year(year))
    rng = Rand(f"ssda903:{seed}")
    simulator = Simulator903(rng, current, last)
    children = simulator.children(rng.sample(range(1_000_000, 10_000_000), count))
    folder = output / "ssda903"
    written: list[Path] = []
    if previous:
        last_tables = cut_year(last, Rand(f"ssda903:{seed}:{last.name}"), children, current=False)
        written += write_903_csv(last_tables.tables, last, folder / last.name)
    this = cut_year(current, Rand(f"ssda903:{seed}:{current.name}"), children, current=True)
    injected = inject_903(this.tables, children, errors, Rand(f"ssda903:{seed}:errors"), current)
    written += write_903_csv(this.tables, current, folder / current.name)
    written += write_903_xml(this.tables, this.uasc_flags, current, folder)
    written.append(write_csv(folder / f"{current.name}_injected.csv", INJECTED_COLUMNS, injected))
    return written


def _cin_samples(year: str, count: int, seed: int, errors: float, output: Path) -> list[Path]:
    rng = Rand(f"cin:{seed}")
    children = SimulatorCin(rng, year).children(rng.sample(range(10_000_000, 100_000_000), count))
    root = cin_xml(children, year)
    injected = inject_cin(root, children, errors, Rand(f"cin:{seed}:errors"))
    folder = output / "cin"
    path = write_cin_xml(root, folder / f"cin_{year}.xml")
    return [path, write_csv(folder / f"{year}_injected.csv", INJECTED_COLUMNS, injected)]
