"""Import presets: the three public data sets, HubSpot and Salesforce exports, limitations, the assistant.

Figures on the public data sets are derived independently from the raw files with the csv module
and compared with the funnel metrics on the imported database. Those tests skip, with the reason
shown, when ../shared/datasets is absent (as on a user's machine).
"""
from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from funnel import conversion, forecast, ingest, presets, scoring, store
from funnel.errors import ConfigError, ImportValidationError
from funnel.mapping import validate_mapping
from funnel.query import Scope

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
FIX = Path(__file__).resolve().parent / "fixtures" / "presets"
PUBLIC = {"olist": "olist_marketing_funnel", "maven_crm": "maven_crm", "x_education": "x_education_leads"}


def _need_datasets(name: str) -> Path:
    folder = DATASETS / PUBLIC[name]
    if not folder.is_dir():
        pytest.skip(f"../shared/datasets not present: {folder} is missing, so the {name} preset cannot be "
                    "tested on its public data set")
    return folder


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def public_db(tmp_path_factory):
    """``public_db(name)``: a database with that public data set imported through its preset (built once)."""
    built: dict[str, Path] = {}

    def _get(name: str) -> Path:
        _need_datasets(name)
        if name not in built:
            path = tmp_path_factory.mktemp(f"preset_{name}") / f"{name}.duckdb"
            con = store.connect(path)
            presets.import_preset(con, name, DATASETS)
            con.close()
            built[name] = path
        return built[name]
    return _get


def _con(path: Path):
    return store.connect(path)


def _reached(df: pd.DataFrame) -> dict:
    return dict(zip(df["stage"], df["reached"]))


# ---------------------------------------------------------------------------------------------
# Olist


def test_olist_counts_and_won_by_origin_match_the_raw_files(public_db):
    folder = _need_datasets("olist")
    mqls = _rows(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = _rows(folder / "olist_closed_deals_dataset.csv")
    origin = {r["mql_id"]: (r["origin"] or "(blank)") for r in mqls}
    mql_by_origin = Counter(origin.values())
    won_by_origin = Counter(origin[d["mql_id"]] for d in deals)

    con = _con(public_db("olist"))
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("leads", "lead_events", "opportunities", "opportunity_events")}
    # 8,000 MQL events + 842 Customer events; one won opportunity per closed deal.
    assert counts == {"leads": 8000, "lead_events": 8000 + 842, "opportunities": 842, "opportunity_events": 842}

    by = conversion.stage_conversion(con, Scope(), breakdown="channel")
    got_mql = dict(zip(by[by["stage"] == "MQL"]["grp"], by[by["stage"] == "MQL"]["reached"]))
    got_won = dict(zip(by[by["stage"] == "Customer"]["grp"], by[by["stage"] == "Customer"]["reached"]))
    assert got_mql == dict(mql_by_origin)
    assert {k: v for k, v in got_won.items() if v} == dict(won_by_origin)
    assert mql_by_origin["(blank)"] == 60  # blank origin → no channel, kept

    overall = _reached(conversion.stage_conversion(con))
    assert overall["MQL"] == 8000 and overall["Customer"] == 842
    # Amounts: declared monthly revenue, 0 when not declared.
    total = sum(float(d["declared_monthly_revenue"] or 0) for d in deals)
    assert con.execute("SELECT sum(amount) FROM opportunities").fetchone()[0] == pytest.approx(total)
    # SDR / AE come from the closed deals, so only won leads have them.
    assert con.execute("SELECT count(sdr), count(ae) FROM leads").fetchone() == (842, 842)


def test_olist_keeps_the_deal_won_before_first_contact(public_db):
    _need_datasets("olist")
    con = _con(public_db("olist"))
    ev = con.execute("""SELECT stage, entered_at FROM lead_events WHERE lead_id = 'b91cf8812365f50ff4bda4bcd6206b05'
                        ORDER BY entered_at, event_seq""").fetchall()
    assert [s for s, _ in ev] == ["Customer", "MQL"]
    assert ev[0][1].date() == date(2018, 3, 6) and ev[1][1].date() == date(2018, 3, 8)
    notes = presets.data_limitations(con)
    assert any("won before the lead's first contact" in n for n in notes)


def test_olist_limitations_say_what_cannot_be_computed(public_db):
    _need_datasets("olist")
    con = _con(public_db("olist"))
    text = " ".join(presets.data_limitations(con))
    assert "no lost deals" in text and "win rates are 100%" in text
    assert "no rejections" in text
    assert "known only for won deals" in text
    assert presets.data_limitations(con, topic="rejections")
    # The won-only profile is not a lead attribute (it would leak the outcome).
    cols = store.lead_attribute_columns(con)
    assert "lead_type" not in cols and "business_segment" not in cols and "segment" in cols
    assert con.execute("SELECT count(segment) FROM leads").fetchone()[0] == 0
    assert con.execute("SELECT count(segment) FROM opportunities").fetchone()[0] > 800


# ---------------------------------------------------------------------------------------------
# Maven CRM


def test_maven_deals_per_stage_and_amounts_match_the_raw_files(public_db):
    folder = _need_datasets("maven_crm")
    pipe = _rows(folder / "sales_pipeline.csv")
    price = {r["product"].replace(" ", "").lower(): float(r["sales_price"]) for r in _rows(folder / "products.csv")}
    per_stage = Counter(r["deal_stage"] for r in pipe)
    won_value = sum(float(r["close_value"]) for r in pipe if r["deal_stage"] == "Won")
    open_value = sum(price[r["product"].replace(" ", "").lower()] for r in pipe
                     if r["deal_stage"] in ("Prospecting", "Engaging"))

    con = _con(public_db("maven_crm"))
    states = forecast.deal_states(con)
    got = states["stage"].value_counts().to_dict()
    assert got == {"Qualify": per_stage["Prospecting"], "Discovery": per_stage["Engaging"],
                   "Closed Won": per_stage["Won"], "Closed Lost": per_stage["Lost"]}
    assert per_stage == {"Prospecting": 500, "Engaging": 1589, "Won": 4238, "Lost": 2473}
    assert states.loc[states["stage"] == "Closed Won", "amount"].sum() == pytest.approx(won_value)
    assert states.loc[states["kind"] == "open", "amount"].sum() == pytest.approx(open_value)
    # GTXPro is matched to products.csv's "GTX Pro".
    n_pro = sum(r["product"] in ("GTXPro", "GTX Pro") for r in pipe)
    assert con.execute("SELECT count(*) FROM opportunities WHERE product = 'GTX Pro'").fetchone()[0] == n_pro
    assert con.execute("SELECT count(*) FROM opportunities WHERE product = 'GTXPro'").fetchone()[0] == 0
    # No leads: the lead tables are empty and the notes say so.
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    assert any("has no leads" in n for n in presets.data_limitations(con))
    # Open deals get the documented placeholder close date: last date in the data + 30 days.
    assert con.execute("""SELECT DISTINCT close_date FROM opportunities o WHERE NOT EXISTS (
                              SELECT 1 FROM opportunity_events e WHERE e.opportunity_id = o.opportunity_id
                              AND e.stage IN ('Closed Won', 'Closed Lost'))""").fetchall() == [(date(2018, 1, 30),)]


def test_maven_over_existing_data_empties_the_lead_tables(sample_copy):
    folder = _need_datasets("maven_crm")
    con = store.connect(sample_copy)
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] > 0
    result = presets.import_preset(con, "maven_crm", folder)
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM lead_events").fetchone()[0] == 0
    assert set(store.lead_attribute_columns(con)) == set(store.LEAD_CORE_COLUMNS)  # sample attributes gone
    assert "emptied" in result.message
    msg = con.execute("SELECT message, source FROM import_runs WHERE run_id = ?", [result.run_id]).fetchone()
    assert "emptied" in msg[0] and msg[1] == "preset:maven_crm"
    assert presets.data_notes(con)
    # A later sample generation makes the stored notes stale: they are ignored from then on.
    from funnel.sample import generate_sample
    generate_sample(con, leads=200, seed=3)
    assert presets.data_notes(con) == []
    assert not any("Maven" in n for n in presets.data_limitations(con))


# ---------------------------------------------------------------------------------------------
# X Education


def test_x_education_converted_share_and_channels_match_the_raw_file(public_db):
    folder = _need_datasets("x_education")
    rows = _rows(folder / "Leads.csv")
    converted = sum(r["Converted"] == "1" for r in rows)
    share = converted / len(rows)
    google = sum(r["Lead Source"].lower() == "google" for r in rows)
    select_spec = sum(r["Specialization"] in ("Select", "") for r in rows)

    con = _con(public_db("x_education"))
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 9240
    assert con.execute("SELECT count(*) FROM lead_events").fetchone()[0] == 9240 + converted
    funnel = conversion.stage_conversion(con).set_index("stage")
    assert funnel.loc["Customer", "reached"] == converted == 3561
    assert funnel.loc["Customer", "overall_rate"] == pytest.approx(share)
    assert con.execute("SELECT count(*) FROM leads WHERE channel = 'Google'").fetchone()[0] == google == 2873
    assert con.execute("SELECT count(*) FROM leads WHERE channel = 'google'").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM leads WHERE specialization IS NULL").fetchone()[0] == select_spec
    assert con.execute("SELECT count(*) FROM leads WHERE city = 'Select'").fetchone()[0] == 0
    cols = store.lead_attribute_columns(con)
    assert cols["total_visits"] == "BIGINT" and cols["do_not_email"] == "BOOLEAN"
    text = " ".join(presets.data_limitations(con))
    assert "no dates" in text and "no opportunities" in text.lower()


def test_x_education_scoring_works_and_flags_the_leaking_columns(public_db):
    folder = _need_datasets("x_education")
    rows = _rows(folder / "Leads.csv")
    form = [r for r in rows if r["Lead Origin"] == "Lead Add Form"]
    precision = sum(r["Converted"] == "1" for r in form) / len(form)

    con = _con(public_db("x_education"))
    res = scoring.evaluate_scenario(con, [scoring.Rule("lead_origin", "=", "Lead Add Form", 10)], 10,
                                    outcome_stage="Customer")
    assert res["above"] == len(form)
    assert res["precision"] == pytest.approx(precision)
    leaks = scoring.leak_suspects(con, outcome_stage="Customer")
    assert {"tags", "lead_quality", "converted"} <= set(leaks)
    rules, warnings = scoring.suggest_rules(con, outcome_stage="Customer")
    assert rules and not {r.attribute for r in rules} & {"tags", "lead_quality", "converted"}
    assert any("tags" in w for w in warnings) and any("lead_quality" in w for w in warnings)


# ---------------------------------------------------------------------------------------------
# HubSpot contacts (fixtures written from the documented column names)

HUBSPOT_EVENTS = [  # (lead, stage, entered_at) in input order — by hand from hubspot_contacts.csv
    ("101", "Lead", "2025-01-06 09:15"), ("101", "MQL", "2025-01-08 10:00"), ("101", "SQL", "2025-01-15 16:30"),
    ("101", "Opportunity", "2025-01-20 11:00"), ("101", "Customer", "2025-02-14 12:00"),
    ("102", "Lead", "2025-01-07 14:00"), ("102", "MQL", "2025-01-09 08:30"),        # blank later dates skipped
    ("103", "Lead", "2025-01-10 11:00"),                                            # Unqualified: no event
    ("104", "Lead", "2025-01-12 08:00"), ("104", "MQL", "2025-03-01 09:00"),         # MQL after SQL/Customer
    ("104", "SQL", "2025-01-20 10:00"), ("104", "Customer", "2025-02-10 15:00"),
    ("106", "Lead", "2025-02-03 13:45"), ("106", "SQL", "2025-02-05 09:00"),         # skips MQL
]                                                                                    # 105: no dates at all


def _events(con) -> list[tuple]:
    return [(lid, st, ts.strftime("%Y-%m-%d %H:%M")) for lid, st, ts in
            con.execute("SELECT lead_id, stage, entered_at FROM lead_events ORDER BY event_seq").fetchall()]


@pytest.mark.parametrize("fname", ["hubspot_contacts.csv", "hubspot_contacts_de.csv"])
def test_hubspot_wide_dates_become_events(tmp_path, fname):
    con = store.connect(tmp_path / "h.duckdb")
    result = presets.import_preset(con, "hubspot_contacts", files={"contacts": FIX / fname})
    assert result.rows["leads"]["loaded"] == 6 and result.rows["lead_events"]["loaded"] == 14
    assert _events(con) == HUBSPOT_EVENTS
    # reached: Lead all 6; MQL or later 101,102,104,106; SAL/SQL or later 101,104,106;
    # Opportunity or later 101,104; Customer 101,104.
    assert _reached(conversion.stage_conversion(con)) == {"Lead": 6, "MQL": 4, "SAL": 3, "SQL": 3,
                                                          "Opportunity": 2, "Customer": 2}
    # Out-of-order dates are kept and ordered by time.
    order = [s for (s,) in con.execute("""SELECT stage FROM lead_events WHERE lead_id = '104'
                                          ORDER BY entered_at, event_seq""").fetchall()]
    assert order == ["Lead", "SQL", "Customer", "MQL"]
    notes = presets.data_limitations(con)
    assert any("1 contact has lifecycle dates out of stage order" in n for n in notes)
    assert any("1 contact has no lifecycle date" in n for n in notes)
    assert any("Lead Status" in n and "no date" in n for n in notes)
    cols = store.lead_attribute_columns(con)
    assert {"lifecycle_stage", "lead_status", "hubspot_score"} <= set(cols)
    assert "email" not in cols and "first_name" not in cols  # personal data is not imported
    leads = con.execute("SELECT lead_id, channel, sdr, job_title, industry, hubspot_score FROM leads "
                        "ORDER BY lead_id").fetchall()
    assert leads[0][1:4] == ("Organic Search", "Maria Lopez" if fname == "hubspot_contacts.csv" else "María López",
                             "VP Sales")
    assert leads[4][2] is None and leads[4][5] == 0
    assert "lead_status" in scoring.leak_suspects(con)


def test_hubspot_day_first_slashes_are_detected(tmp_path):
    con = store.connect(tmp_path / "h.duckdb")
    presets.import_preset(con, "hubspot_contacts", files={"contacts": FIX / "hubspot_contacts_uk.csv"})
    ev = _events(con)
    # Same history as the ISO file, except the Customer date of 101 written without a time.
    expected = [e if e[:2] != ("101", "Customer") else ("101", "Customer", "2025-02-14 00:00") for e in HUBSPOT_EVENTS]
    assert ev == expected


AMBIGUOUS = ("Record ID,Create Date,Became a Lead Date,Became a Marketing Qualified Lead Date\n"
             "1,01/02/2025 10:00,01/02/2025 10:00,03/02/2025 09:00\n"
             "2,02/02/2025 11:00,02/02/2025 11:00,\n")


def test_hubspot_ambiguous_dates_are_refused_until_the_order_is_named(tmp_path):
    con = store.connect(tmp_path / "h.duckdb")
    before = con.execute("SELECT count(*) FROM import_runs").fetchone()[0]
    with pytest.raises(ImportValidationError) as e:
        presets.import_preset(con, "hubspot_contacts", files={"contacts": ("contacts.csv", AMBIGUOUS.encode())})
    assert "day-first or month-first" in str(e.value) and "01/02/2025" in str(e.value)
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM import_runs").fetchone()[0] == before
    presets.import_preset(con, "hubspot_contacts", files={"contacts": ("contacts.csv", AMBIGUOUS.encode())},
                          options={"date_format": "month-first"})
    assert con.execute("SELECT min(created_at) FROM leads").fetchone()[0] == datetime(2025, 1, 2, 10, 0)
    presets.import_preset(con, "hubspot_contacts", files={"contacts": ("contacts.csv", AMBIGUOUS.encode())},
                          options={"date_format": "%d/%m/%Y %H:%M"})
    assert con.execute("SELECT min(created_at) FROM leads").fetchone()[0] == datetime(2025, 2, 1, 10, 0)


def test_hubspot_bad_date_names_row_and_value_and_can_be_skipped(tmp_path):
    text = (FIX / "hubspot_contacts.csv").read_text().replace("2025-01-09 08:30", "2025-13-45 08:30")
    con = store.connect(tmp_path / "h.duckdb")
    with pytest.raises(ImportValidationError) as e:
        presets.import_preset(con, "hubspot_contacts", files={"contacts": ("contacts.csv", text.encode())})
    p = e.value.problems[0]
    assert p.code == "bad_timestamp" and p.value == "2025-13-45 08:30" and p.table == "lead_events"
    # Told in terms of the user's file: its name, its row (contact 102 is data row 2) and its column.
    assert (p.file, p.row, p.source_column) == ("contacts.csv", 2, "Became a Marketing Qualified Lead Date")
    assert "mapping" not in p.reason and "date format" in p.reason
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    res = presets.import_preset(con, "hubspot_contacts", files={"contacts": ("contacts.csv", text.encode())},
                                skip_bad_rows=True)
    assert res.rows["lead_events"]["rejected"] == 1 and res.rows["lead_events"]["loaded"] == 13
    file, row, column, reason, raw = con.execute(
        "SELECT file, row_number, column_name, reason, raw_json FROM rejected_rows WHERE run_id = ?",
        [res.run_id]).fetchone()
    assert (file, row, column) == ("contacts.csv", 2, "Became a Marketing Qualified Lead Date")
    assert "mapping" not in reason
    raw = json.loads(raw)  # the whole row, with where it came from in the export
    assert raw["source_row"] == "2" and raw["source_column"] == "Became a Marketing Qualified Lead Date"


# ---------------------------------------------------------------------------------------------
# Salesforce opportunity history


def _sf(con, **kw):
    return presets.import_preset(con, "salesforce_opportunity_history", **kw)


SF_US = {"history": FIX / "sf_opportunity_history.csv", "opportunities": FIX / "sf_opportunities.csv"}
SF_EU = {"history": FIX / "sf_opportunity_history_eu.csv", "opportunities": FIX / "sf_opportunities_eu.csv"}


def test_salesforce_history_maps_standard_stages_and_forecasts(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    res = _sf(con, files=SF_US)
    assert res.rows["opportunities"]["loaded"] == 5
    assert res.rows["opportunity_events"]["loaded"] == 13  # 12 history rows + 006E (no history row)
    states = forecast.deal_states(con).set_index("opportunity_id")
    assert states["stage"].to_dict() == {"006A": "Closed Won", "006B": "Negotiation", "006C": "Closed Lost",
                                         "006D": "Discovery", "006E": "Qualify"}
    # Amount "USD 12,000.00" → 12000; 006D has no amount in the export → latest history amount 7,500.
    amounts = dict(con.execute("SELECT opportunity_id, amount FROM opportunities").fetchall())
    assert amounts == {"006A": 12000, "006B": 30000, "006C": 5000, "006D": 7500, "006E": 8000}
    wf = forecast.weighted_forecast(con)  # as of 3 Mar 2025, configured probabilities
    got = {p.strftime("%Y-%m"): w for p, w in zip(pd.to_datetime(wf["period"]), wf["weighted_amount"])}
    # 006B 30,000 × 0.75 (Negotiation); 006D 7,500 × 0.25 (Discovery); 006E 8,000 × 0.10 (Qualify)
    assert got == {"2025-03": 22500.0, "2025-04": 1875.0, "2025-05": 800.0}
    # US dates: "1/6/2025 9:15 AM" → 6 January; "2/27/2025 4:30 PM" → 16:30.
    assert con.execute("SELECT created_at FROM opportunities WHERE opportunity_id = '006A'").fetchone()[0] \
        == datetime(2025, 1, 6, 9, 15)
    assert con.execute("""SELECT entered_at FROM opportunity_events WHERE opportunity_id = '006A'
                          AND stage = 'Closed Won'""").fetchone()[0] == datetime(2025, 2, 27, 16, 30)
    assert any("no leads" in n for n in presets.data_limitations(con))


def test_salesforce_european_export_gives_the_same_tables(tmp_path):
    a = store.connect(tmp_path / "us.duckdb")
    _sf(a, files=SF_US)
    b = store.connect(tmp_path / "eu.duckdb")
    _sf(b, files=SF_EU, options={"decimal": ","})  # 12.000,00 €, 31.03.2025, cp1252 file
    for q in ("SELECT opportunity_id, created_at, amount, close_date FROM opportunities ORDER BY 1",
              "SELECT opportunity_id, stage, entered_at, amount, close_date FROM opportunity_events ORDER BY event_seq"):
        assert a.execute(q).fetchall() == b.execute(q).fetchall()
    assert b.execute("SELECT owner FROM opportunities WHERE opportunity_id = '006B'").fetchone()[0] == "Jürgen Müller"


def test_salesforce_history_alone_takes_first_and_latest_rows_by_time(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    _sf(con, files={"history": SF_US["history"]})
    row = con.execute("SELECT created_at, amount, close_date FROM opportunities WHERE opportunity_id = '006A'").fetchone()
    # 006A's rows are newest first in the export: created = its oldest row, amount / close = its newest.
    assert row == (datetime(2025, 1, 6, 9, 15), 12000.0, date(2025, 2, 28))


def test_salesforce_custom_stage_is_refused_then_mapped(tmp_path):
    text = SF_US["history"].read_text().replace("Negotiation/Review", "Verbal Commit")
    files = {"history": ("history.csv", text.encode()), "opportunities": SF_US["opportunities"]}
    con = store.connect(tmp_path / "s.duckdb")
    with pytest.raises(ImportValidationError) as e:
        _sf(con, files=files)
    p = e.value.problems[0]
    assert p.code == "unknown_stage" and p.value == "Verbal Commit"
    assert (p.file, p.row, p.source_column) == ("history.csv", 8, "Stage")  # 006B's 4th history row
    assert con.execute("SELECT count(*) FROM opportunities").fetchone()[0] == 0
    _sf(con, files=files, options={"stage_map": {"Verbal Commit": "Negotiation"}})
    assert forecast.deal_states(con).set_index("opportunity_id").loc["006B", "stage"] == "Negotiation"


def test_presets_follow_renamed_stages(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    store.rename_stage(con, "opportunity", "Discovery", "Discover")
    store.rename_stage(con, "lead", "Customer", "Won customer")
    _sf(con, files=SF_US)
    assert con.execute("SELECT count(*) FROM opportunity_events WHERE stage = 'Discover'").fetchone()[0] == 4
    presets.import_preset(con, "hubspot_contacts", files={"contacts": FIX / "hubspot_contacts.csv"})
    assert con.execute("SELECT count(*) FROM lead_events WHERE stage = 'Won customer'").fetchone()[0] == 2
    # A preset replaces all four tables: the Salesforce deals are gone after the HubSpot import.
    assert con.execute("SELECT count(*) FROM opportunities").fetchone()[0] == 0


# ---------------------------------------------------------------------------------------------
# Files, errors, CLI, dry run


def test_missing_file_and_missing_column_are_named(tmp_path):
    con = store.connect(tmp_path / "m.duckdb")
    with pytest.raises(ImportValidationError) as e:
        presets.import_preset(con, "olist", tmp_path)
    assert "marketing qualified leads file was not found" in str(e.value)
    bad = "Record ID,Lifecycle Stage\n1,lead\n"
    with pytest.raises(ImportValidationError) as e:
        presets.import_preset(con, "hubspot_contacts", files={"contacts": ("c.csv", bad.encode())})
    assert '"Create Date" is missing' in str(e.value) and e.value.problems[0].file == "c.csv"
    with pytest.raises(ConfigError):
        presets.import_preset(con, "pipedrive", tmp_path)


def test_cli_imports_a_preset_from_a_folder(tmp_path, capsys):
    from funnel.__main__ import main
    db = tmp_path / "cli.duckdb"
    assert main(["import", "--db", str(db), "--preset", "hubspot_contacts", "--dir", str(FIX)]) == 0
    assert "Imported 6 leads, 14 lead events" in capsys.readouterr().out


def test_dry_run_reports_without_writing(sample_copy):
    con = store.connect(sample_copy)
    before = con.execute("SELECT count(*), (SELECT count(*) FROM import_runs) FROM leads").fetchone()
    dry = presets.dry_run(con, preset="hubspot_contacts", preset_files={"contacts": FIX / "hubspot_contacts.csv"})
    assert dry.ok and dry.counts == {"leads": 6, "lead_events": 14, "opportunities": 0, "opportunity_events": 0}
    assert len(dry.preview["leads"]) == 6 and any("no deals" in t for t in dry.limitations)
    # Canonical lead events alone are checked against the leads already stored.
    events = "lead_id,stage,entered_at\nL0000001,MQL,2026-01-05\nNOPE,MQL,2026-01-05\n"
    dry = presets.dry_run(con, lead_events=("lead_events.csv", events.encode()))
    assert not dry.ok and [p.value for p in dry.error.problems] == ["NOPE"]
    assert con.execute("SELECT count(*), (SELECT count(*) FROM import_runs) FROM leads").fetchone() == before


# ---------------------------------------------------------------------------------------------
# Helpers: dates, amounts, assistant guesses, saved mappings


@pytest.mark.parametrize("values, expected", [
    (["2025-01-31", "2025-02-01 10:00"], None),
    (["31/12/2025 14:05", "01/02/2025"], "%d/%m/%Y %H:%M"),
    (["12/31/2025", "1/2/2025"], "%m/%d/%Y"),
    (["31.12.2025"], "%d.%m.%Y"),
    (["12/31/2025 2:05 PM"], "%m/%d/%Y %I:%M %p"),
    (["01/02/2025"], None),  # cannot tell: no suggestion rather than a guess
])
def test_suggest_timestamp_format(values, expected):
    assert presets.suggest_timestamp_format(values) == expected


def test_parse_dates_and_clean_amounts():
    s = pd.Series(["31.12.2025 14:05", "", "2025-01-02", "not a date", "1.2.2025"])
    assert presets.parse_dates(s, "dmy").tolist() == ["2025-12-31 14:05:00", "", "2025-01-02", "not a date",
                                                      "2025-02-01 00:00:00"]
    a = pd.Series(["USD 1,234.50", "$ 99", "", "1,5", "€12"])
    assert presets.clean_amounts(a).tolist() == ["1234.50", "99", "", "1,5", "12"]
    assert presets.clean_amounts(pd.Series(["1.234,50 €", "12,5"]), ",").tolist() == ["1234.50", "12.5"]


def test_guess_columns_uses_values_when_names_do_not_help():
    df = pd.DataFrame({"Kennung": ["a1", "a2", "a3"], "Datum": ["01.02.2025", "03.02.2025", "13.02.2025"],
                       "Quelle": ["web", "web", "event"]})
    assert presets.guess_columns(df, "leads") == {"lead_id": "Kennung", "created_at": "Datum"}
    ev = pd.DataFrame({"Contact ID": ["1", "1"], "Status": ["Marketing Qualified Lead", "Unqualified"],
                       "When": ["2025-01-01", "2025-01-03"]})
    g = presets.guess_columns(ev, "lead_events")
    assert g["lead_id"] == "Contact ID" and g["stage"] == "Status" and g["entered_at"] == "When"
    configured = [r[1] for r in store.DEFAULT_STAGES if r[0] == "lead"]
    assert presets.guess_stage_map(["Marketing Qualified Lead", "Unqualified", "sql", "Weird"], configured, "lead") \
        == {"Marketing Qualified Lead": "MQL", "Unqualified": "Disqualified", "sql": "SQL", "Weird": ""}


def test_save_and_reuse_a_mapping(tmp_path):
    src = tmp_path / "crm"
    src.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "import" / "crm_leads.csv", src / "crm_leads.csv")
    df = ingest.read_table_file(src / "crm_leads.csv")
    cols = presets.guess_columns(df, "leads")
    fmt = presets.suggest_timestamp_format(df[cols["created_at"]])
    mapping = presets.build_mapping({"leads": cols}, {}, {"leads": fmt})
    assert mapping["columns"]["leads"]["lead_id"] == "Prospect ID" and fmt == "%d/%m/%Y"
    db = tmp_path / "db" / "funnel.duckdb"
    con = store.connect(db)
    folder = presets.mappings_dir(con)
    assert folder == db.parent.resolve() / "mappings"
    path = presets.save_mapping(folder, "My CRM", mapping, files={"leads": "crm_leads.csv"})
    assert path.name == "my-crm.toml"
    saved = presets.saved_mappings(folder)
    assert [m["name"] for m in saved] == ["my-crm"] and saved[0]["tables"] == ["leads"]
    assert saved[0]["mapping"]["columns"] == mapping["columns"] and saved[0]["files"] == {"leads": "crm_leads.csv"}
    assert validate_mapping(path) == []  # the saved file is a plain mapping: --mapping FILE takes it too
    assert "my-crm" in presets.preset_names(con)
    res = presets.import_preset(con, "my-crm", src)
    assert res.rows["leads"]["loaded"] == 3
    assert con.execute("SELECT source FROM import_runs WHERE run_id = ?", [res.run_id]).fetchone()[0] == "mapping:my-crm"
    with pytest.raises(ConfigError):
        presets.save_mapping(folder, "olist", mapping)


def test_limitations_on_the_sample_data_are_few(sample_copy):
    con = store.connect(sample_copy)
    # The sample has rejections, won and lost deals and an open pipeline: nothing is missing.
    assert presets.data_limitations(con) == []


# ---------------------------------------------------------------------------------------------
# What each page says: page_limitations (notes under the title; "blocked" when nothing can be shown)


def _blocked(con, page, funnel=None):
    b = presets.page_limitations(con, page, funnel)["blocked"]
    return b["finding"] if b else None


def test_page_limitations_on_maven_block_every_lead_page_but_not_the_deals(public_db):
    _need_datasets("maven_crm")
    con = _con(public_db("maven_crm"))
    assert _blocked(con, "conversion") == "This data has no leads, so there is no lead funnel to measure."
    assert _blocked(con, "time_in_stage", "lead") == "This data has no leads, so lead time in stage cannot be measured."
    assert _blocked(con, "scoring") == "This data has no leads, so there is nothing to score."
    assert _blocked(con, "time_in_stage", "opportunity") is None      # Engaging stays are real
    deals = presets.page_limitations(con, "time_in_stage", "opportunity")["notes"]
    assert deals == ["The source holds only the current stage with an engage date and a close date: time in "
                     "Prospecting cannot be measured, and Engaging is the only stage with a duration."]
    conv = presets.page_limitations(con, "conversion")["notes"]
    assert any(n.startswith("Maven CRM has no leads") for n in conv)
    assert not any("regional office" in n for n in conv)             # a filters note: moot on a blocked page
    assert any("expected close date" in n for n in presets.page_limitations(con, "forecast")["notes"])


def test_page_limitations_on_x_education_rule_out_durations_and_deals(public_db):
    _need_datasets("x_education")
    con = _con(public_db("x_education"))
    lim = presets.page_limitations(con, "conversion")
    assert lim["blocked"] is None and {"one_date", "no_durations"} <= set(lim["codes"])
    assert any("X Education has no dates" in n for n in lim["notes"])
    tis = presets.page_limitations(con, "time_in_stage", "lead")
    assert tis["blocked"]["finding"].startswith("Lead time in stage cannot be measured")
    assert tis["notes"] == ["X Education records no dates, only whether a lead converted: how long leads wait in a "
                            "stage, time to convert, targets (SLA) and stuck leads cannot be computed."]
    assert _blocked(con, "time_in_stage", "opportunity") == "This data has no deals, so deal time in stage cannot be measured."
    assert any("leak the outcome" in n for n in presets.page_limitations(con, "scoring")["notes"])


def test_page_limitations_on_olist_block_only_deal_time_in_stage(public_db):
    _need_datasets("olist")
    con = _con(public_db("olist"))
    for page in ("overview", "review_history", "conversion", "rejections", "forecast", "scoring"):
        assert _blocked(con, page) is None, page
    assert _blocked(con, "time_in_stage", "lead") is None
    assert _blocked(con, "time_in_stage", "opportunity") == ("No deal has a recorded stay in an open stage, so deal "
                                                            "time in stage cannot be measured.")
    assert presets.page_limitations(con, "time_in_stage", "opportunity")["notes"] == [
        "Deals are recorded only when won (one Closed Won event each, no earlier stages): time in the deal stages "
        "cannot be measured."]
    assert presets.page_limitations(con, "time_in_stage", "lead")["notes"][0].startswith("Only MQL has a time in stage")
    assert any("known only for won deals" in n for n in presets.page_limitations(con, "scoring")["notes"])


def test_page_limitations_on_the_crm_fixtures(tmp_path):
    con = store.connect(tmp_path / "h.duckdb")
    presets.import_preset(con, "hubspot_contacts", files={"contacts": FIX / "hubspot_contacts.csv"})
    assert _blocked(con, "time_in_stage", "lead") is None and _blocked(con, "conversion") is None
    assert _blocked(con, "time_in_stage", "opportunity") == "This data has no deals, so deal time in stage cannot be measured."
    assert any("out of stage order" in n for n in presets.page_limitations(con, "conversion")["notes"])
    con = store.connect(tmp_path / "s.duckdb")
    presets.import_preset(con, "salesforce_opportunity_history",
                          files={"history": FIX / "sf_opportunity_history.csv",
                                 "opportunities": FIX / "sf_opportunities.csv"})
    assert _blocked(con, "conversion") and _blocked(con, "time_in_stage", "lead") and _blocked(con, "scoring")
    assert _blocked(con, "time_in_stage", "opportunity") is None
    assert any("without a history row" in n for n in presets.page_limitations(con, "time_in_stage", "opportunity")["notes"])


def test_page_limitations_on_the_sample_are_empty_and_unknown_pages_are_refused(sample_copy):
    con = store.connect(sample_copy)
    for page, funnel in (("overview", None), ("conversion", None), ("time_in_stage", "lead"),
                         ("time_in_stage", "opportunity"), ("scoring", None), ("forecast", None)):
        assert presets.page_limitations(con, page, funnel) == {"notes": [], "blocked": None, "codes": []}
    with pytest.raises(ConfigError):
        presets.page_limitations(con, "nowhere")
    assert presets.data_limitations(con, topic=("leads", "forecast")) == []


def test_limitation_findings_are_kept_until_the_data_changes(sample_copy):
    """The look at the data is kept between calls and looked at again after any import or stage
    edit (both rebuild the derived tables, which stamps them anew)."""
    con = store.connect(sample_copy)
    try:
        first = presets.limitation_findings(con)
        assert "no_opportunities" not in first["codes"]
        con.execute("DELETE FROM opportunity_events")
        con.execute("DELETE FROM opportunities")
        assert presets.limitation_findings(con) == first          # kept: nothing said the data changed
        store.refresh_derived(con)                                # what every import and stage edit does
        assert "no_opportunities" in presets.limitation_findings(con)["codes"]
    finally:
        con.close()
