"""The data model of each return (schemas/<return>/tables.yaml): tables, columns, types, keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from .resources import schemas_dir
from .yamlio import load_data_file

ColumnType = Literal["id", "code", "text", "date", "int", "flag", "postcode"]
RETURN_TYPES = ("ssda903", "cin")
RETURN_NAMES = {"ssda903": "SSDA903 (children looked after)", "cin": "CIN census (children in need)"}


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: ColumnType
    codelist: str | None = None
    optional: bool = False  # absent from the file without a finding (e.g. GenderCurrent vs Sex)


@dataclass(frozen=True)
class TableDef:
    name: str
    columns: dict[str, ColumnDef]
    signature: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    parent: str | None = None
    years: str | None = None
    in_xml: bool = True  # whether the return's XML format carries this table (in any of its XML files)
    # Which XML file carries it: "main" (the return's own file) or, for SSDA903, "social_worker"; None: CSV only.
    xml_file: str | None = "main"
    file: str | None = None  # the usual CSV file name (for writing; reading goes by the header row)
    # Reference data given by an option rather than found among the return's files (e.g. "providers": the
    # Ofsted provider lists, --providers). Such a table has no signature and is never read from a return.
    supplied_by: str | None = None

    @property
    def csv_columns(self) -> tuple[str, ...]:
        """The columns a CSV file of this table has (optional columns, such as XML-only ones, left out)."""
        return tuple(name for name, col in self.columns.items() if not col.optional)

    @property
    def in_return(self) -> bool:
        """Whether the return's own files carry this table (not reference data supplied by an option)."""
        return self.supplied_by is None

    @property
    def typed_columns(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.type in ("date", "int", "flag")]


@dataclass(frozen=True)
class ReturnSchema:
    return_type: str
    child_key: str
    tables: dict[str, TableDef]

    def parent_keys(self, table: str) -> tuple[str, ...]:
        """Columns that join ``table`` to its parent table (the parent's own keys)."""
        parent = self.tables[table].parent
        if parent is None:
            return (self.child_key,)
        return self.tables[parent].keys or (self.child_key,)


@cache
def load_schema(return_type: str) -> ReturnSchema:
    data = load_data_file(schemas_dir(return_type) / "tables.yaml")
    tables: dict[str, TableDef] = {}
    for name, spec in data["tables"].items():
        columns = {
            col: ColumnDef(
                name=col,
                type=cspec["type"],
                codelist=cspec.get("codelist"),
                optional=bool(cspec.get("optional", False)),
            )
            for col, cspec in spec["columns"].items()
        }
        tables[name] = TableDef(
            name=name,
            columns=columns,
            signature=tuple(spec.get("signature", ())),
            aliases=dict(spec.get("aliases", {})),
            keys=tuple(spec.get("keys", ())),
            parent=spec.get("parent"),
            years=spec.get("years"),
            in_xml=_xml_file(spec.get("in_xml", True)) is not None,
            xml_file=_xml_file(spec.get("in_xml", True)),
            file=spec.get("file"),
            supplied_by=spec.get("supplied_by"),
        )
    return ReturnSchema(return_type=data["return"], child_key=data["child_key"], tables=tables)


def _xml_file(value: object) -> str | None:
    """A table's ``in_xml``: true (the main XML file), false (CSV only) or the name of the XML file that has it."""
    if value is True:
        return "main"
    if value is False or value is None:
        return None
    return str(value)
