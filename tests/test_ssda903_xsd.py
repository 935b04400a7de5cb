"""The project's SSDA903 XML schemas (schemas/ssda903/ssda903_<year>.xsd and sw_<year>.xsd) on their own.

Every document here is synthetic: invented ids and dates, no real child. The reader's use of the schemas while
streaming is tested in tests/test_xml903_schema.py.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import xmlschema
from helpers import ROOT
from lxml import etree

from validator.codelists import codes_for
from validator.ingest.xml903 import EPISODES, FLAT_BLOCKS, NESTED_BLOCKS, OC2, SW_EPISODES
from validator.samples import generate_samples
from validator.schema import load_schema

SCHEMA_DIR = ROOT / "schemas" / "ssda903"
YEARS = ["2022_23", "2023_24", "2024_25", "2025_26", "2026_27"]
SW_YEARS = YEARS[1:]

# Elements whose column has no codelist in tables.yaml, and the list that applies.
EXTRA_LISTS = {
    ("HEADER", "UASC"): "YES_NO",
    ("HEADER", "MOTHER"): "MOTHER",
    ("HEADER", "FOSTER_CARE"): "YES_NO",
    ("HEADER", "NB_ADOPTR"): "NB_ADOPTR",
    ("PERMANENCE", "LA_PERM"): "LA_PERM",
    **{("OC2", flag): "YES_NO" for flag in OC2.fields if flag not in ("SDQ_SCORE", "SDQ_REASON")},
}


@cache
def schema(year: str, stem: str = "ssda903") -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_DIR / f"{stem}_{year}.xsd"))


def element_lists() -> dict[tuple[str, str], str]:
    """(parent element, element) -> code list name, from the data model and the reader's element names."""
    model = load_schema("ssda903")
    found: dict[tuple[str, str], str] = {}
    parents = [
        (EPISODES.element, EPISODES),
        *((b.element, b) for b in NESTED_BLOCKS),
        (SW_EPISODES.element, SW_EPISODES),
    ]
    parents += [("HEADER", b) for b in FLAT_BLOCKS]
    for parent, block in parents:
        for element, column in block.fields.items():
            codelist = model.tables[block.table].columns[column].codelist
            if codelist:
                found[(str(parent), element)] = codelist
    for element, column in (("SEX", "SEX"), ("ETHNIC", "ETHNIC")):
        found[("HEADER", element)] = model.tables["Header"].columns[column].codelist or ""
    return {**found, **EXTRA_LISTS}


def document(year: str, episode: str = "", child: str = "") -> str:
    sex = "M" if year >= "2024_25" else "1"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EXPSSDA903>
  <CHILD>
    <HEADER>
      <CHILDID>ZZ0001</CHILDID>
      <UPN>A12345678901B</UPN>
      <SEX>{sex}</SEX>
      <DOB>29/02/2012</DOB>
      <ETHNIC>WBRI</ETHNIC>
      <UASC>0</UASC>
      <MOTHER/>
      <MC_DOB></MC_DOB>
      <PERMANENCE><PREV_PERM>Z1</PREV_PERM><DATE_PERM>ZZ/05/2019</DATE_PERM></PERMANENCE>
    </HEADER>
    <EPISODE>
      <DECOM>01/04/{year[:4]}</DECOM><RNE>S</RNE><LS>C2</LS><CIN>N1</CIN><PL>U1</PL>
      <PL_POST>ZZ1 1ZZ</PL_POST><HOME_POST>ZZ2 2ZZ</HOME_POST><URN>SC999999</URN><PLACE_PROVIDER>PR1</PLACE_PROVIDER>
      <DEC/><REC/><REASON_PLACE_CHANGE/>{episode}
    </EPISODE>
    {child}
  </CHILD>
</EXPSSDA903>
"""


def errors(year: str, text: str, stem: str = "ssda903") -> list[xmlschema.XMLSchemaValidationError]:
    return list(schema(year, stem).iter_errors(etree.fromstring(text.encode())))


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.xsd")), ids=lambda p: p.name)
def test_each_schema_stands_alone_without_a_namespace(path: Path) -> None:
    tree = etree.parse(str(path))
    xs = "{http://www.w3.org/2001/XMLSchema}"
    assert not [el for el in tree.iter(f"{xs}import", f"{xs}include", f"{xs}redefine")]
    assert not [el for el in tree.iter() if el.get("schemaLocation")]
    assert tree.getroot().get("targetNamespace") is None
    etree.XMLSchema(tree)  # libxml2 compiles it too


def test_one_main_schema_per_year_and_a_social_worker_schema_from_2023_24() -> None:
    assert sorted(p.name for p in SCHEMA_DIR.glob("ssda903_*.xsd")) == [f"ssda903_{y}.xsd" for y in YEARS]
    assert sorted(p.name for p in SCHEMA_DIR.glob("sw_*.xsd")) == [f"sw_{y}.xsd" for y in SW_YEARS]


@pytest.mark.parametrize("year", YEARS)
def test_code_lists_are_the_years_lists_in_codelists_yaml(year: str) -> None:
    schemas = [schema(year)] + ([schema(year, "sw")] if year in SW_YEARS else [])
    checked = 0
    for (parent, element), codelist in element_lists().items():
        decls = [d for d in (_declared(xsd, parent, element) for xsd in schemas) if d is not None]
        if parent in ("DOLO", "SW_EPISODE") and not decls:
            continue  # not part of this year's files
        assert decls, (year, parent, element)
        for decl in decls:
            allowed = {str(v) for v in decl.type.enumeration or []}
            assert allowed == {"", *codes_for("ssda903", codelist, year)}, (year, parent, element)
            checked += 1
    assert checked == len(element_lists()) - (0 if year in SW_YEARS else 1)  # SW_REASON from 2023_24


def _declared(xsd: xmlschema.XMLSchema, parent: str, element: str) -> xmlschema.XsdElement | None:
    """The declaration of ``element`` inside the element named ``parent``, if the schema has one."""
    for decl in xsd.iter_components(xmlschema.XsdElement):
        if decl.local_name == parent and decl.type.is_complex():
            for child in decl.type.content.iter_elements():
                if child.local_name == element:
                    return child
    return None


@pytest.mark.parametrize("year", YEARS)
def test_a_full_document_is_valid_and_blank_or_left_out_values_are_allowed(year: str) -> None:
    assert errors(year, document(year)) == []
    bare = "<EXPSSDA903><CHILD><HEADER><CHILDID>ZZ0002</CHILDID></HEADER><EPISODE/></CHILD></EXPSSDA903>"
    assert errors(year, bare) == []


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("29/02/2024", True),
        ("29/02/2000", True),
        ("29/02/2023", False),
        ("29/02/1900", False),
        ("30/04/2024", True),
        ("31/04/2024", False),
        ("31/12/2024", True),
        ("00/01/2024", False),
        ("1/1/2024", False),
        ("2024-01-01", False),
        (" 01/01/2024 ", True),
    ],
)
def test_dates_are_real_calendar_dates_written_dd_mm_yyyy(text: str, valid: bool) -> None:
    doc = document("2024_25").replace("<DOB>29/02/2012</DOB>", f"<DOB>{text}</DOB>")
    assert (errors("2024_25", doc) == []) is valid


def test_years_differ_in_sex_placement_codes_and_dolo() -> None:
    assert errors("2023_24", document("2023_24").replace("<SEX>1</SEX>", "<SEX>M</SEX>"))
    assert errors("2024_25", document("2024_25").replace("<SEX>M</SEX>", "<SEX>1</SEX>"))
    place = {
        year: {
            code: not errors(year, document(year).replace("<PL>U1</PL>", f"<PL>{code}</PL>"))
            for code in ("H5", "P2", "Z1", "K3", "Z11")
        }
        for year in YEARS
    }
    assert place["2023_24"] == {"H5": True, "P2": True, "Z1": True, "K3": False, "Z11": False}
    assert place["2024_25"] == {"H5": True, "P2": True, "Z1": True, "K3": True, "Z11": False}
    assert place["2025_26"] == place["2026_27"] == {"H5": False, "P2": False, "Z1": False, "K3": True, "Z11": True}
    dolo = "<DOLO><DOLO_START>01/05/2026</DOLO_START><DOLO_END/></DOLO>"
    doc = document("2026_27").replace("</PERMANENCE>", "</PERMANENCE>" + dolo)
    assert errors("2026_27", doc) == []
    assert errors("2025_26", doc)  # DOLO is new in 2026_27


@pytest.mark.parametrize("year", YEARS)
def test_structure_is_checked(year: str) -> None:
    def reasons(text: str) -> str:
        return " | ".join(e.reason or "" for e in errors(year, text))

    assert "CHILDID" in reasons(document(year).replace("<CHILDID>ZZ0001</CHILDID>", ""))
    assert reasons(document(year).replace("<CHILDID>ZZ0001</CHILDID>", "<CHILDID> </CHILDID>"))
    swapped = document(year).replace("<RNE>S</RNE><LS>C2</LS>", "<LS>C2</LS><RNE>S</RNE>")
    assert "RNE" in reasons(swapped)
    twice = document(year).replace("<ETHNIC>WBRI</ETHNIC>", "<ETHNIC>WBRI</ETHNIC><ETHNIC>WBRI</ETHNIC>")
    assert reasons(twice)
    assert reasons(document(year, child="<HEADER><CHILDID>ZZ0001</CHILDID></HEADER>"))  # HEADER once per CHILD
    assert reasons(document(year, episode="<PL_LA>E09000027</PL_LA>"))  # derived columns are not sent
    assert reasons("<EXPSSDA903/>")  # at least one CHILD
    two_oc2 = document(year).replace("</PERMANENCE>", "</PERMANENCE><OC2/><OC2/>")
    assert reasons(two_oc2)  # at most one OC2 per child


@pytest.mark.parametrize("year", SW_YEARS)
def test_social_worker_schema(year: str) -> None:
    doc = """<EXPSSDA903SW>
  <CHILD>
    <HEADER><CHILDID>ZZ0001</CHILDID><DOB>01/01/2012</DOB></HEADER>
    <SW_EPISODE><SW_ID>SW001</SW_ID><SW_DECOM>ZZ/ZZ/2022</SW_DECOM><SW_DEC>01/06/2024</SW_DEC>
      <SW_REASON>MANAGE</SW_REASON></SW_EPISODE>
    <SW_EPISODE><SW_ID>XX002</SW_ID><SW_DECOM>01/06/2024</SW_DECOM><SW_DEC/><SW_REASON/></SW_EPISODE>
  </CHILD>
</EXPSSDA903SW>"""
    assert errors(year, doc, "sw") == []
    assert errors(year, doc.replace("MANAGE", "BOSS"), "sw")
    assert errors(year, doc.replace("ZZ/ZZ/2022", "2022-01-01"), "sw")
    assert errors(
        year,
        doc.replace(
            "<SW_ID>SW001</SW_ID><SW_DECOM>ZZ/ZZ/2022</SW_DECOM>", "<SW_DECOM>ZZ/ZZ/2022</SW_DECOM><SW_ID>SW001</SW_ID>"
        ),
        "sw",
    )
    assert errors(year, doc.replace("<CHILDID>ZZ0001</CHILDID>", ""), "sw")


@pytest.mark.parametrize("year", YEARS)
def test_generated_clean_samples_are_valid(tmp_path: Path, year: str) -> None:
    written = generate_samples("ssda903", year, 30, 1, 0.0, tmp_path, previous=False)
    main = tmp_path / "ssda903" / f"{year}.xml"
    sw = tmp_path / "ssda903" / f"{year}_sw.xml"
    assert main in written and (sw in written) is (year in SW_YEARS)
    found = list(schema(year).iter_errors(str(main)))
    assert found == [], found[0].reason if found else ""
    if year in SW_YEARS:
        found = list(schema(year, "sw").iter_errors(str(sw)))
        assert found == [], found[0].reason if found else ""
        assert re.search(r"<SW_EPISODE>", sw.read_text(encoding="utf-8"))
