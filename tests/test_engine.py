"""The rule language and engine: load-time checks, missing values, quantifiers, sequences, isolation."""

from __future__ import annotations

import pytest
from helpers import flagged_rows, run_on

from validator.engine.examples import example_dataset
from validator.engine.rule import Example, RuleLoadError
from validator.engine.runner import TableStore, run_rule

HEAD = """
code: "T1"
message: test rule
severity: error
level: record
years: all
"""


def rule_yaml(**parts: str) -> str:
    return HEAD + "\n".join(f"{k}: {v}" for k, v in parts.items())


# ------------------------------------------------------------------------------------------ load-time errors


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"table": "Episodes", "fields": "[DECOM]", "condition": '"DECOMM < DEC"'}, "'DECOMM'"),
        ({"table": "Episode", "fields": "[DECOM]", "condition": '"DEC < DECOM"'}, "unknown table 'Episode'"),
        ({"table": "Episodes", "fields": "[DECOM]", "condition": '"frobnicate(DEC)"'}, "unknown function frobnicate()"),
        (
            {"table": "Episodes", "fields": "[DECOM]", "condition": "\"PLACE in codes('PLACES')\""},
            "no code list named PLACES",
        ),
        (
            {"table": "Episodes", "fields": "[DECOMX]", "condition": '"DEC < DECOM"'},
            "fields: Episodes has no field DECOMX",
        ),
        (
            {"table": "Episodes", "fields": "[DECOM]", "condition": '"hd.DOB < DECOM"'},
            "no join or related table is called 'hd'",
        ),
        ({"table": "Episodes", "fields": "[DECOM]", "condition": '"prev(DEC) < DECOM"'}, "needs a `sequence:`"),
        ({"table": "Episodes", "fields": "[DECOM]", "condition": '"count(DEC < DECOM) > 1"'}, "only for level: return"),
        ({"table": "Episodes", "fields": "[DECOM]", "condition": '"__import__(1)"'}, "unknown function __import__()"),
        (
            {"table": "Episodes", "fields": "[DECOM]", "condition": '"DEC.year < 3"'},
            "no join or related table is called 'DEC'",
        ),
        ({"table": "Episodes", "fields": "[DECOM]", "condition": '"DEC < DECOM"', "colour": "red"}, "unknown key"),
    ],
)
def test_mistakes_are_named_at_load(make_rule, parts: dict[str, str], message: str) -> None:
    with pytest.raises(RuleLoadError) as info:
        make_rule(rule_yaml(**parts))
    text = str(info.value)
    assert "rule.yaml" in text and "T1" in text
    assert message in text


def test_a_rule_needs_both_kinds_of_example(make_rule) -> None:
    body = rule_yaml(table="Episodes", fields="[DECOM]", condition='"DEC < DECOM"')
    body += "\nexamples:\n  - {expect: fail, tables: {}}\n  - {expect: fail, tables: {}}"
    with pytest.raises(RuleLoadError, match="at least one failing and one passing"):
        make_rule(body)


def test_a_code_list_must_cover_every_year_of_the_rule(make_rule, tmp_path) -> None:
    # SEX has versions for every year, so this loads; an invented year range would not.
    make_rule(rule_yaml(table="Header", fields="[SEX]", condition="\"SEX not in codes('SEX')\""))
    with pytest.raises(RuleLoadError, match="not supported"):
        make_rule(
            rule_yaml(table="Header", fields="[SEX]", condition='"blank(SEX)"').replace("years: all", "years: 2030_31")
        )


# ---------------------------------------------------------------------------------------------- semantics


def test_comparisons_with_missing_values_are_false(make_rule) -> None:
    rule = make_rule(rule_yaml(table="Episodes", fields="[REC]", condition="\"REC != 'X1'\""))
    rows = [{"CHILD": "1", "REC": "X1"}, {"CHILD": "2", "REC": ""}, {"CHILD": "3", "REC": "E2"}]
    assert flagged_rows(run_on(rule, {"Episodes": rows})) == [2]
    negated = make_rule(rule_yaml(table="Episodes", fields="[REC]", condition="\"not REC == 'X1'\""))
    assert flagged_rows(run_on(negated, {"Episodes": rows})) == [1, 2]


def test_not_in_code_list_skips_blanks_and_uses_the_year(make_rule) -> None:
    rule = make_rule(rule_yaml(table="Header", fields="[SEX]", condition="\"SEX not in codes('SEX')\""))
    rows = [{"CHILD": "1", "SEX": "1"}, {"CHILD": "2", "SEX": "M"}, {"CHILD": "3", "SEX": ""}]
    assert flagged_rows(run_on(rule, {"Header": rows}, year="2023_24")) == [1]
    assert flagged_rows(run_on(rule, {"Header": rows}, year="2024_25")) == [0]


def test_invalid_and_raw_see_unreadable_dates(make_rule) -> None:
    rule = make_rule(rule_yaml(table="Header", fields="[DOB]", condition='"invalid(DOB)"'))
    rows = [{"CHILD": "1", "DOB": "31/02/2015"}, {"CHILD": "2", "DOB": ""}, {"CHILD": "3", "DOB": "01/02/2015"}]
    outcome = run_on(rule, {"Header": rows})
    assert flagged_rows(outcome) == [0]
    assert outcome.findings[0].values == ("31/02/2015",)


def test_filled_counts_unreadable_values_as_filled(make_rule) -> None:
    rule = make_rule(rule_yaml(table="Header", fields="[DOB]", condition='"filled(DOB)"'))
    rows = [{"CHILD": "1", "DOB": "1st June 2015"}, {"CHILD": "2", "DOB": ""}, {"CHILD": "3", "DOB": "01/02/2015"}]
    assert flagged_rows(run_on(rule, {"Header": rows})) == [0, 2]
    text = make_rule(rule_yaml(table="Header", fields="[SEX]", condition='"filled(SEX)"'))
    assert flagged_rows(run_on(text, {"Header": [{"CHILD": "1", "SEX": "M"}, {"CHILD": "2", "SEX": ""}]})) == [0]


def test_exists_none_and_let_over_related_records(make_rule) -> None:
    rule = make_rule(
        rule_yaml(
            table="Header",
            fields="[CHILD]",
            let="\n  n: {count: {table: Episodes, as: ep, where: \"ep.RNE == 'S'\"}}",
            condition='\n  all:\n    - exists: {table: Episodes, as: ep}\n    - "n != 1"',
        )
    )
    header = [{"CHILD": c} for c in ("A", "B", "C")]
    episodes = [
        {"CHILD": "A", "RNE": "S"},
        {"CHILD": "B", "RNE": "S"},
        {"CHILD": "B", "RNE": "S"},
    ]
    assert flagged_rows(run_on(rule, {"Header": header, "Episodes": episodes})) == [1]


def test_overlaps_with_exclude_self(make_rule) -> None:
    rule = make_rule(
        rule_yaml(
            table="Missing",
            fields="[MIS_START]",
            condition=(
                "\n  exists:\n    table: Missing\n    as: o\n    exclude_self: true\n"
                '    where: "MIS_START >= o.MIS_START and MIS_START <= o.MIS_END"'
            ),
        )
    )
    rows = [
        {"CHILD": "A", "MIS_START": "01/05/2024", "MIS_END": "10/05/2024"},
        {"CHILD": "A", "MIS_START": "05/05/2024", "MIS_END": "06/05/2024"},
        {"CHILD": "B", "MIS_START": "05/05/2024", "MIS_END": "06/05/2024"},
    ]
    assert flagged_rows(run_on(rule, {"Missing": rows})) == [1]


def test_sequence_neighbours_sort_blanks_last_and_keep_file_order_on_ties(make_rule) -> None:
    rule = make_rule(
        rule_yaml(
            table="Episodes",
            fields="[DECOM]",
            sequence="{by: CHILD, order: [DECOM]}",
            condition='"not is_first() and DECOM != prev(DEC)"',
        )
    )
    rows = [
        {"CHILD": "A", "DECOM": "10/05/2024", "DEC": ""},  # second in order; previous ended 09/05 -> flagged
        {"CHILD": "A", "DECOM": "01/04/2024", "DEC": "09/05/2024"},
        {"CHILD": "B", "DECOM": "01/04/2024", "DEC": "02/04/2024"},
        {"CHILD": "B", "DECOM": "02/04/2024", "DEC": ""},  # continues the day the previous ended -> passes
    ]
    assert flagged_rows(run_on(rule, {"Episodes": rows})) == [0]


def test_periods_of_care_are_derived_once_for_all_rules(make_rule) -> None:
    rule = make_rule(rule_yaml(table="Episodes", fields="[DECOM]", condition='"POC_ID == 2"'))
    rows = [
        {"CHILD": "A", "DECOM": "01/04/2024", "DEC": "10/04/2024"},
        {"CHILD": "A", "DECOM": "10/04/2024", "DEC": "20/04/2024"},  # same period: starts the day the last ended
        {"CHILD": "A", "DECOM": "01/06/2024", "DEC": ""},  # a gap: a second period
        {"CHILD": "B", "DECOM": "", "DEC": ""},  # no valid DECOM: in no period
    ]
    outcome = run_on(rule, {"Episodes": rows})
    assert flagged_rows(outcome) == [2]


def test_return_level_rules_give_one_finding_without_a_child(make_rule) -> None:
    rule = make_rule(
        HEAD.replace("level: record", "level: return")
        + "table: Episodes\nfields: [REC]\ncondition: \"count(REC == 'E2') / rows() > 0.5\""
    )
    outcome = run_on(rule, {"Episodes": [{"CHILD": "A", "REC": "E2"}, {"CHILD": "B", "REC": "E2"}]})
    assert [(f.level, f.child, f.row) for f in outcome.findings] == [("return", None, None)]
    assert run_on(rule, {"Episodes": []}).findings == []


def test_missing_tables_and_previous_years_are_not_run_with_a_reason(make_rule) -> None:
    rule = make_rule(
        rule_yaml(
            table="Episodes",
            fields="[DECOM]",
            condition='\n  exists: {table: Episodes@previous, as: p, where: "p.DECOM == DECOM"}',
        )
    )
    outcome = run_on(rule, {"Episodes": [{"CHILD": "A"}]}, absent=["Episodes@previous"])
    assert outcome.status == "not_run"
    assert "previous year's Episodes" in outcome.reason and "--previous" in outcome.reason


def test_a_crashing_rule_is_reported_and_does_not_touch_the_tables(make_rule, monkeypatch) -> None:
    from validator.engine.functions import FUNCTIONS, Function

    def boom(scope, child):
        with pytest.raises(TypeError):  # a rule's records are shared and read-only: a change cannot leak
            scope.frame["CHILD"] = "changed"
        raise ValueError("broken check")

    monkeypatch.setitem(FUNCTIONS, "boom", Function("boom", boom, "row", "boom(x)", "Raises."))
    crashing = make_rule(rule_yaml(table="Header", fields="[CHILD]", condition='"boom(CHILD)"'))
    normal = make_rule(rule_yaml(table="Header", fields="[CHILD]", condition="\"CHILD == 'A'\""))
    example = Example(name="t", expect="fail", tables={"Header": [{"CHILD": "A"}, {"CHILD": "B"}]})
    dataset = example_dataset(normal, example)
    store = TableStore(dataset)
    first = run_rule(crashing, store)
    assert first.status == "crashed" and "broken check" in first.reason
    second = run_rule(normal, store)
    assert flagged_rows(second) == [0]
    assert list(dataset.tables["Header"].df["CHILD"]) == ["A", "B"]


def test_results_do_not_depend_on_rule_order(make_rule) -> None:
    a = make_rule(rule_yaml(table="Episodes", fields="[DECOM]", condition='"DEC < DECOM"'))
    b = make_rule(rule_yaml(table="Episodes", fields="[DECOM]", condition='"POC_ID > 1"').replace('"T1"', '"T2"'))
    rows = [
        {"CHILD": "A", "DECOM": "01/04/2024", "DEC": "01/03/2024"},
        {"CHILD": "A", "DECOM": "01/06/2024", "DEC": ""},
    ]
    example = Example(name="t", expect="fail", tables={"Episodes": rows})
    forward = TableStore(example_dataset(a, example))
    backward = TableStore(example_dataset(a, example))
    one = [run_rule(a, forward).findings, run_rule(b, forward).findings]
    two = [run_rule(a, backward).findings, run_rule(b, backward).findings][::-1][::-1]
    assert one == [run_rule(a, backward).findings, run_rule(b, backward).findings] == two


def test_group_first_and_last_follow_the_sequence_order(make_rule) -> None:
    rule = make_rule(
        rule_yaml(
            table="Episodes",
            fields="[DECOM]",
            sequence="{by: CHILD, order: [DECOM]}",
            condition="\"group_first(RNE) != 'S' or group_last(REC) == 'E2'\"",
        )
    )
    rows = [
        {"CHILD": "A", "DECOM": "10/05/2024", "RNE": "P", "REC": "E2"},
        {"CHILD": "A", "DECOM": "01/04/2024", "RNE": "S", "REC": "X1"},
        {"CHILD": "B", "DECOM": "01/04/2024", "RNE": "P", "REC": ""},
        {"CHILD": "C", "DECOM": "01/04/2024", "RNE": "S", "REC": ""},
    ]
    assert flagged_rows(run_on(rule, {"Episodes": rows})) == [0, 1, 2]


def test_same_counts_two_blanks_as_equal(make_rule) -> None:
    rule = make_rule(rule_yaml(table="Episodes", fields="[LS]", condition='"same(LS, CIN)"'))
    rows = [
        {"CHILD": "A", "LS": "", "CIN": ""},
        {"CHILD": "B", "LS": "C2", "CIN": ""},
        {"CHILD": "C", "LS": "N1", "CIN": "N1"},
    ]
    assert flagged_rows(run_on(rule, {"Episodes": rows})) == [0, 2]


def test_optional_related_tables_count_as_empty_when_absent(make_rule) -> None:
    rule = make_rule(
        rule_yaml(
            table="Episodes",
            fields="[DECOM]",
            condition="\n  none: {table: Episodes@previous, as: p, optional: true, where: 'p.DECOM == DECOM'}",
        )
    )
    outcome = run_on(rule, {"Episodes": [{"CHILD": "A", "DECOM": "01/04/2024"}]}, absent=["Episodes@previous"])
    assert flagged_rows(outcome) == [0]
    outcome = run_on(
        rule,
        {
            "Episodes": [{"CHILD": "A", "DECOM": "01/04/2024"}],
            "Episodes@previous": [{"CHILD": "A", "DECOM": "01/04/2024"}],
        },
    )
    assert flagged_rows(outcome) == []


def test_a_column_only_xml_carries_is_not_run_for_csv(make_rule, tmp_path) -> None:
    from validator.api import run_rules
    from validator.ingest.loader import load_return

    (tmp_path / "h.csv").write_text("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nC1,1,01/02/2015,WBRI,UN1,,\n")
    rule = make_rule(rule_yaml(table="Header", fields="[UASC]", condition="\"UASC not in ['0', '1']\""))
    dataset = load_return([tmp_path], year="2023_24")
    assert not [f for f in dataset.findings if f.code == "COLUMN-MISSING"]
    (status,) = run_rules(dataset, [rule]).rules
    assert status.status == "not_run" and "UASC" in status.reason


def test_runs_of_consecutive_records(make_rule) -> None:
    rule = make_rule(
        rule_yaml(
            table="Episodes",
            fields="[LS]",
            sequence=(
                "\n  by: CHILD\n  order: [DECOM]\n  run: \"LS == 'L1' and prev(LS) == 'L1' and DECOM == prev(DEC)\""
            ),
            condition="\"LS == 'L1' and run_sum(days(DECOM, DEC)) > 3 and run_count() > 1\"",
        )
    )
    rows = [
        {"CHILD": "A", "LS": "L1", "DECOM": "01/05/2024", "DEC": "03/05/2024"},
        {"CHILD": "A", "LS": "L1", "DECOM": "03/05/2024", "DEC": "05/05/2024"},  # continues: 2 + 2 days
        {"CHILD": "A", "LS": "L1", "DECOM": "10/05/2024", "DEC": "12/05/2024"},  # a gap: a new run of 2 days
        {"CHILD": "B", "LS": "L1", "DECOM": "01/05/2024", "DEC": "03/05/2024"},
        {"CHILD": "B", "LS": "C2", "DECOM": "03/05/2024", "DEC": "09/05/2024"},
    ]
    assert flagged_rows(run_on(rule, {"Episodes": rows})) == [0, 1]


def test_run_functions_need_a_run(make_rule) -> None:
    with pytest.raises(RuleLoadError, match="needs `run:`"):
        make_rule(
            rule_yaml(table="Episodes", fields="[LS]", sequence="{order: [DECOM]}", condition='"run_count() > 1"')
        )


def test_return_level_lets_total_other_tables(make_rule) -> None:
    rule = make_rule(
        HEAD.replace("level: record", "level: return")
        + "table: ChildProtectionPlans\nfields: [CPPstartDate]\n"
        + "let:\n"
        + "  plans: {count: {table: ChildProtectionPlans, as: p, where: 'present(p.CPPstartDate)'}}\n"
        + "  icpcs: {count: {table: Section47, as: s, where: 'present(s.DateOfInitialCPC)'}}\n"
        + 'condition: "plans > icpcs"',
        return_type="cin",
    )
    plans = [{"LAchildID": "A", "CINdetailsID": "1", "CPPID": "1", "CPPstartDate": "2024-06-01"}]
    one = [{"LAchildID": "A", "CINdetailsID": "1", "DateOfInitialCPC": "2024-05-20"}]
    assert len(run_on(rule, {"ChildProtectionPlans": plans, "Section47": []}).findings) == 1
    assert run_on(rule, {"ChildProtectionPlans": plans, "Section47": one}).findings == []
    assert run_on(rule, {"ChildProtectionPlans": [], "Section47": []}).findings == []


def test_postcode_derived_columns_and_not_run_without_postcode_data(make_rule) -> None:
    from validator.reference.postcodes import PostcodeLookup, StaticPostcodes

    rule = make_rule(
        rule_yaml(table="Episodes", fields="[PL_POST]", condition="\"PL_LOCATION == 'OUT' and PL_DISTANCE > 15\"")
    )
    rows = [
        {"CHILD": "A", "HOME_POST": "ZZ1 1AA", "PL_POST": "ZZ9 9AA"},  # 30 km (18.6 miles) apart, another LA: flagged
        {"CHILD": "B", "HOME_POST": "ZZ1 1AA", "PL_POST": "ZZ1 2AA"},  # same LA
        {"CHILD": "C", "HOME_POST": "ZZ1 1AA", "PL_POST": "ZZ7 7ZZ"},  # unknown postcode: no location
    ]
    places = [
        {"postcode": "ZZ1 1AA", "ltla": "E09000027", "easting": 500000, "northing": 170000},
        {"postcode": "ZZ1 2AA", "ltla": "E09000027", "easting": 501000, "northing": 170000},
        {"postcode": "ZZ9 9AA", "ltla": "E09000001", "easting": 530000, "northing": 170000},
    ]
    outcome = run_on(rule, {"Episodes": rows}, context={"la": "E09000027"}, postcodes=places)
    assert flagged_rows(outcome) == [0]
    assert run_on(rule, {"Episodes": rows}, context={"la": "E09000027"}).status == "not_run"
    no_la = run_on(rule, {"Episodes": rows}, postcodes=places)
    assert no_la.status == "not_run" and "--la" in no_la.reason
    assert PostcodeLookup(StaticPostcodes(places)).lookup(__import__("pandas").Series(["zz11aa"]))[
        "exists"
    ].tolist() == [True]


def test_a_derived_column_replaces_a_same_named_extra_column(make_rule) -> None:
    from validator.engine.examples import example_dataset

    rule = make_rule(rule_yaml(table="Episodes", fields="[DECOM]", condition='"POC_ID == 1"'))
    dataset = example_dataset(
        rule, Example(name="t", expect="fail", tables={"Episodes": [{"CHILD": "A", "DECOM": "01/04/2024"}]})
    )
    dataset.tables["Episodes"].df["POC_ID"] = "from the file"
    assert flagged_rows(run_rule(rule, TableStore(dataset))) == [0]


def test_continuously_looked_after_is_one_fact_per_child_on_every_table(make_rule) -> None:
    rule = make_rule(rule_yaml(table="OC2", fields="[CHILD]", condition='"CONTINUOUSLY_LOOKED_AFTER"'))
    episodes = [  # the 2024_25 collection year: 1 April 2024 to 31 March 2025
        {"CHILD": "A", "DECOM": "01/04/2024", "RNE": "S", "LS": "C2", "DEC": "", "REC": ""},  # in from 1 April
        {"CHILD": "B", "DECOM": "01/01/2020", "RNE": "S", "LS": "C2", "DEC": "01/06/2024", "REC": "X1"},
        {"CHILD": "B", "DECOM": "01/06/2024", "RNE": "P", "LS": "C2", "DEC": "31/03/2025", "REC": "E11"},
        {"CHILD": "C", "DECOM": "02/05/2024", "RNE": "P", "LS": "C2", "DEC": "", "REC": ""},  # not in on 1 April
        {"CHILD": "D", "DECOM": "01/01/2020", "RNE": "S", "LS": "C2", "DEC": "30/03/2025", "REC": "E11"},  # left
        {"CHILD": "E", "DECOM": "01/01/2020", "RNE": "S", "LS": "V3", "DEC": "", "REC": ""},  # short breaks
        {"CHILD": "F", "DECOM": "01/01/2020", "RNE": "S", "LS": "C2", "DEC": "", "REC": ""},
        {"CHILD": "F", "DECOM": "01/02/2025", "RNE": "S", "LS": "C2", "DEC": "", "REC": ""},  # a new start
    ]
    oc2 = [{"CHILD": c} for c in ["A", "B", "C", "D", "E", "F", "G", "B"]]  # G has no episodes
    assert flagged_rows(run_on(rule, {"Episodes": episodes, "OC2": oc2}, year="2024_25")) == [0, 1, 7]


def test_per_child_facts_of_a_previous_year_use_that_year(make_rule) -> None:
    rule = make_rule(
        rule_yaml(
            table="Header",
            fields="[CHILD]",
            let="{last: {exists: {table: OC2@previous, as: o, where: 'o.CONTINUOUSLY_LOOKED_AFTER'}}}",
            condition='"last and not CONTINUOUSLY_LOOKED_AFTER"',
        )
    )
    episodes = [{"CHILD": "A", "DECOM": "01/01/2020", "RNE": "S", "LS": "C2", "DEC": "01/06/2024", "REC": "E11"}]
    tables = {
        "Header": [{"CHILD": "A"}],
        "Episodes": episodes,
        "Episodes@previous": episodes,  # in care all of 2023_24, left during 2024_25
        "OC2@previous": [{"CHILD": "A"}],
    }
    assert flagged_rows(run_on(rule, tables, year="2024_25")) == [0]


def test_uasc_status_comes_from_the_flag_or_a_record_over_three_years(make_rule) -> None:
    now = make_rule(rule_yaml(table="Header", fields="[UASC]", condition='"UASC_THIS_YEAR"'))
    header = [{"CHILD": c, "UASC": flag} for c, flag in [("A", "1"), ("B", ""), ("C", "0"), ("D", ""), ("E", "0")]]
    records = [{"CHILD": "B"}, {"CHILD": "C"}]  # B: flag blank, a record -> UASC; C: flagged 0 -> not
    assert flagged_rows(run_on(now, {"Header": header, "UASC": records})) == [0, 1]
    recent = make_rule(rule_yaml(table="Header", fields="[UASC]", condition='"UASC_THIS_OR_LAST_2_YEARS"'))
    tables = {
        "Header": header,
        "UASC": records,
        "Header@previous": [{"CHILD": "D", "UASC": "1"}],
        "UASC@previous2": [{"CHILD": "E"}],  # no Header that year: the record decides
    }
    assert flagged_rows(run_on(recent, tables)) == [0, 1, 3, 4]


def test_uasc_facts_ask_only_for_the_tables_given() -> None:
    """A year whose Header and UASC tables were not given has no UASC children, and is not made up as empty tables."""
    import pandas as pd

    from validator.engine.derived import DerivationContext, uasc_recent_years

    frames = {
        "Header": pd.DataFrame({"CHILD": ["A", "B"], "UASC": ["1", "0"]}),
        "UASC": pd.DataFrame({"CHILD": ["B", "C"]}),
    }
    asked: list[str] = []

    def tables(name: str) -> pd.DataFrame:
        asked.append(name)
        return frames[name]

    start, end = pd.Timestamp("2024-04-01"), pd.Timestamp("2025-03-31")
    ctx = DerivationContext("CHILD", None, None, start, end, given=frozenset(frames))
    facts = uasc_recent_years(tables, ctx, 0)
    assert sorted(facts.index) == ["A", "C"] and facts["UASC_THIS_OR_LAST_2_YEARS"].all()  # B: flagged 0
    assert sorted(asked) == ["Header", "UASC"]


def test_in_area_placements_need_the_las_ons_code(make_rule) -> None:
    rule = make_rule(rule_yaml(table="Episodes", fields="[PL_POST]", condition="\"PL_LOCATION == 'OUT'\""))
    rows = [{"CHILD": "A", "HOME_POST": "ZZ1 1AA", "PL_POST": "ZZ1 1AA"}]
    places = [{"postcode": "ZZ1 1AA", "ltla": "E09000027", "easting": 500000, "northing": 170000}]
    old_number = run_on(rule, {"Episodes": rows}, context={"la": "318"}, postcodes=places)
    assert old_number.status == "not_run" and "'318' is not one" in old_number.reason
    assert flagged_rows(run_on(rule, {"Episodes": rows}, context={"la": "E09000027"}, postcodes=places)) == []


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # `all`: the `exists` is worked out only for the records still true; `any`: only for those still false
        (
            "\n  all:\n    - \"CHILD != 'C'\"\n    - exists: {table: Reviews, as: r, where: \"r.REVIEW_CODE == 'PN1'\"}",
            [0],
        ),
        (
            "\n  any:\n    - \"CHILD == 'C'\"\n    - exists: {table: Reviews, as: r, where: \"r.REVIEW_CODE == 'PN1'\"}",
            [0, 2],
        ),
        (
            "\n  all:\n    - \"CHILD != 'A'\"\n    - not:\n        exists: {table: Reviews, as: r, where: \"r.REVIEW_CODE == 'PN1'\"}",
            [1],
        ),
        (
            "\n  any:\n    - \"CHILD == 'A'\"\n    - none: {table: Reviews, as: r, where: \"r.REVIEW_CODE == 'PN1'\"}",
            [0, 1],
        ),
        (
            "\n  all:\n    - \"CHILD == 'X'\"\n    - exists: {table: Reviews, as: r, where: \"r.REVIEW_CODE == 'PN1'\"}",
            [],
        ),
    ],
)
def test_related_records_are_paired_only_for_records_still_undecided(make_rule, condition, expected) -> None:
    """Each child's answer is what the whole condition gives, whichever records the `exists` is worked out for."""
    rule = make_rule(rule_yaml(table="Header", fields="[CHILD]", condition=condition))
    tables = {
        "Header": [{"CHILD": "A"}, {"CHILD": "B"}, {"CHILD": "C"}],
        "Reviews": [{"CHILD": "A", "REVIEW_CODE": "PN1"}, {"CHILD": "B", "REVIEW_CODE": "PN2"},
                    {"CHILD": "C", "REVIEW_CODE": "PN1"}],
    }  # fmt: skip
    assert flagged_rows(run_on(rule, tables)) == expected
