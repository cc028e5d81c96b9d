"""Salesforce exports through auto-detection: field API names (Data Export / Data Loader shape) and
report labels (a UK org's day-first report export), Opportunity, OpportunityHistory,
OpportunityFieldHistory, Lead, LeadHistory and User.

Every expected figure is read by hand off the fixture files in tests/fixtures/crm/ (the comments
say which rows give it).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from funnel import conversion, forecast, presets, rejections, store
from funnel.errors import ImportValidationError

CRM = Path(__file__).resolve().parent / "fixtures" / "crm"
API = CRM / "salesforce_api"
UK = CRM / "salesforce_uk_report"


def _import_folder(tmp_path, folder, db: str = "sf.duckdb", **options):
    con = store.connect(tmp_path / db)
    det = presets.detect_folder(folder)
    result = presets.import_detected(con, det, options=options or None)
    return con, det, result


def _states(con) -> dict:
    s = forecast.deal_states(con).set_index("opportunity_id")
    return s["stage"].to_dict()


def _weighted(con) -> dict:
    wf = forecast.weighted_forecast(con)
    out: dict = {}
    for period, w in zip(wf["period"], wf["weighted_amount"]):
        key = f"{period:%Y-%m}"
        out[key] = out.get(key, 0) + w
    return out


def test_api_export_is_recognised_file_by_file():
    det = presets.detect_folder(API)
    assert det.preset == "salesforce"
    assert {k: Path(str(v)).name for k, v in det.files.items()} == {
        "leads": "Lead.csv", "lead_history": "LeadHistory.csv", "opportunities": "Opportunity.csv",
        "history": "OpportunityHistory.csv", "users": "User.csv"}
    assert det.left_out == []
    assert "OpportunityHistory.csv: Opportunity history — Salesforce export." in det.sentences()
    # The history file is UTF-8 with a BOM and CRLF line ends, as Excel and the Data Export write it.
    raw = (API / "OpportunityHistory.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw


def test_api_export_gives_the_lead_funnel_rejections_and_deals(tmp_path):
    con, _, result = _import_folder(tmp_path, API)
    # 6 leads; events: L1 Lead, MQL, SAL, Opportunity (Closed - Converted), Customer (006O1 won) = 5;
    # L2 Lead, SAL, Opportunity = 3; L3 Lead, MQL, SAL = 3; L4 Lead, MQL, Rejected, Disqualified = 4;
    # L5 Lead (no history) = 1; L6 Lead, MQL, Rejected, Recycled (Nurture), MQL = 5. 21 in all.
    # LeadHistory's 'created', 'leadConverted' and Rating rows are not status changes.
    assert result.rows["leads"]["loaded"] == 6 and result.rows["lead_events"]["loaded"] == 21
    assert result.rows["opportunities"]["loaded"] == 5 and result.rows["opportunity_events"]["loaded"] == 15
    reached = dict(zip(*conversion.stage_conversion(con)[["stage", "reached"]].T.values))
    # MQL or later: L1 L2 (SAL, Opportunity) L3 L4 L6; SAL or later: L1 L2 L3; SQL and Opportunity:
    # L1 L2 (converted); Customer: L1 (its deal 006O1 is Closed Won).
    assert reached == {"Lead": 6, "MQL": 5, "SAL": 3, "SQL": 2, "Opportunity": 2, "Customer": 1}
    rej = rejections.rejection_summary(con)
    # MQL hand-offs: L1, L3, L4, L6 twice = 5; rejected: L4 and L6; L6 back to MQL 10 days 1 hour
    # after its rejection (10 Jan 09:00 → 20 Jan 10:00).
    assert (rej["handoffs"], rej["rejected"], rej["resubmissions"]) == (5, 2, 1)
    assert rej["median_resubmit_days"] == pytest.approx(10 + 1 / 24)
    # Owner ids became names through User.csv; the AE of a converted lead is its deal's owner.
    leads = {r[0]: r[1:] for r in con.execute("SELECT lead_id, sdr, ae, channel FROM leads").fetchall()}
    assert leads["00QL1"] == ("Ana Silva", "Maria Lopez", "Web")
    assert leads["00QL2"] == ("Ana Silva", "Tom Baker", "Partner Referral")
    actor = con.execute("SELECT actor FROM lead_events WHERE lead_id = '00QL4' AND stage = 'Rejected'").fetchone()[0]
    assert actor == "Maria Lopez"
    # Deals: 006O2's row says Negotiation/Review but its latest history row (12 Feb) is Proposal/Price
    # Quote — the history wins. 006O4 went Proposal → Value Proposition → Proposal (backwards, re-entered).
    assert _states(con) == {"006O1": "Closed Won", "006O2": "Proposal", "006O3": "Closed Lost", "006O4": "Proposal",
                            "006O5": "Qualify"}
    links = dict(con.execute("SELECT opportunity_id, lead_id FROM opportunities WHERE lead_id IS NOT NULL").fetchall())
    assert links == {"006O1": "00QL1", "006O2": "00QL2"}            # ConvertedOpportunityId
    amounts = dict(con.execute("SELECT opportunity_id, amount FROM opportunities").fetchall())
    assert amounts["006O4"] == 0                                    # no amount anywhere: counted as 0
    # Open pipeline as of 1 Mar 2025: 006O2 15,000 × 0.50 (Proposal, closes 31 Mar), 006O4 0 × 0.50
    # (April), 006O5 5,000 × 0.10 (Qualify, May). Won: 006O1, 20,000.
    assert _weighted(con) == {"2025-03": 7500.0, "2025-04": 0.0, "2025-05": 500.0}
    won = con.execute("SELECT sum(o.amount) FROM opportunities o JOIN opportunity_events e USING (opportunity_id) "
                      "WHERE e.stage = 'Closed Won'").fetchone()[0]
    assert won == 20000
    # ISO timestamps with +0000 offsets, read as UTC.
    assert con.execute("SELECT created_at FROM leads WHERE lead_id = '00QL5'").fetchone()[0] == datetime(2025, 2, 1, 14)
    notes = " ".join(presets.data_limitations(con))
    assert "1 deal shows another stage on its row than in its latest history entry; the history wins" in notes
    assert "1 history row is dated before its deal was created; kept" in notes          # 006O5, 3 Feb < 5 Feb
    assert "1 deal moved back to an earlier stage and 1 deal re-entered a stage" in notes  # 006O4
    assert "1 deal has no amount anywhere in the export and counts as 0" in notes        # 006O4
    assert "no leads" not in notes


def test_deals_without_an_amount_can_be_left_out_by_name(tmp_path):
    con, _, _ = _import_folder(tmp_path, API, missing_amount="skip")
    assert sorted(_states(con)) == ["006O1", "006O2", "006O3", "006O5"]   # 006O4 has no amount at all
    assert any("1 deal has no amount anywhere in the export and was left out" in n
               for n in presets.data_limitations(con))
    with pytest.raises(ImportValidationError, match="missing_amount"):
        _import_folder(tmp_path, API, db="other.duckdb", missing_amount="guess")


def test_uk_report_with_field_history_reads_day_first_dates(tmp_path):
    con, det, result = _import_folder(tmp_path, UK)
    assert det.preset == "salesforce" and set(det.files) == {"opportunities", "field_history"}
    # Events: 0061 opening + 3 stage changes + Amount (5 Feb) + Close Date (10 Feb) = 6; 0062 opening +
    # 1 stage + 1 Amount = 3; 0063 opening + 2 stages = 3; 0064 no history row: 1 at creation. 13.
    assert result.rows["opportunity_events"]["loaded"] == 13
    assert _states(con) == {"0061": "Closed Won", "0062": "Discovery", "0063": "Closed Lost", "0064": "Qualify"}
    # "06/01/2025 09:15" is 6 January in a UK org; 27/02/2025 16:30 tells the order.
    assert con.execute("SELECT created_at FROM opportunities WHERE opportunity_id = '0061'").fetchone()[0] \
        == datetime(2025, 1, 6, 9, 15)
    rows = con.execute("""SELECT stage, amount FROM opportunity_events WHERE opportunity_id = '0061'
                          ORDER BY entered_at, event_seq""").fetchall()
    # Prospecting with the amount before its first change (8,000) until the change on 5 Feb.
    assert rows == [("Qualify", 8000), ("Discovery", 8000), ("Proposal", 8000), ("Proposal", 10000),
                    ("Proposal", 10000), ("Closed Won", 10000)]
    # Open as of 13 Mar: 0062 4,000 (its Amount change of 25 Jan) × 0.25 in April; 0064 2,000 × 0.10 in May.
    assert _weighted(con) == {"2025-04": 1000.0, "2025-05": 200.0}
    assert any("OpportunityFieldHistory" in n for n in presets.data_limitations(con))


def test_ambiguous_day_month_dates_are_refused_until_the_order_is_named(tmp_path):
    # Every day ≤ 12: 06/01/2025 could be 6 January or 1 June.
    text = "Opportunity ID,Stage,Close Date,Created Date,Amount,Opportunity Name\n" \
           "A1,Prospecting,06/03/2025,06/01/2025,100,Alpha\nA2,Closed Won,05/02/2025,02/01/2025,200,Beta\n"
    files = {"opportunities": ("opportunities.csv", text.encode())}
    con = store.connect(tmp_path / "a.duckdb")
    with pytest.raises(ImportValidationError, match="day-first or month-first"):
        presets.import_preset(con, "salesforce", files=files)
    presets.import_preset(con, "salesforce", files=files, options={"date_format": "day-first"})
    assert con.execute("SELECT created_at FROM opportunities WHERE opportunity_id = 'A1'").fetchone()[0] \
        == datetime(2025, 1, 6)


def test_lead_export_alone_places_each_lead_in_its_current_status(tmp_path):
    con = store.connect(tmp_path / "l.duckdb")
    presets.import_preset(con, "salesforce", files={"leads": API / "Lead.csv"})
    stages = dict(con.execute("SELECT lead_id, list(stage ORDER BY entered_at) FROM lead_events GROUP BY 1").fetchall())
    # Each lead's current status at its creation: Closed - Converted is Opportunity already (no second
    # event on its ConvertedDate); no deals are given, so none is won.
    assert stages == {"00QL1": ["Opportunity"], "00QL2": ["Opportunity"], "00QL3": ["SAL"], "00QL4": ["Disqualified"],
                      "00QL5": ["Lead"], "00QL6": ["MQL"]}
    assert any("Without LeadHistory" in n for n in presets.data_limitations(con))


def test_former_preset_name_still_imports(tmp_path):
    con = store.connect(tmp_path / "f.duckdb")
    presets.import_preset(con, "salesforce_opportunity_history",
                          files={"opportunities": UK / "opportunities_report.csv",
                                 "field_history": UK / "opportunity_field_history_report.csv"})
    assert len(_states(con)) == 4


def test_preset_warning_names_the_users_file_and_row_not_the_assembled_one(tmp_path):
    """Regression: a history row dated before its deal's creation was reported as
    'OpportunityHistory (opportunity_events).csv', at a row of the preset's assembled table."""
    con, _, result = _import_folder(tmp_path, API)
    # OpportunityHistory.csv line 16 (row 15): 006O5 enters Prospecting on 3 Feb, the deal was created 5 Feb.
    [w] = result.warnings
    assert (w.file, w.row, w.source_column) == ("OpportunityHistory.csv", 15, "CreatedDate")
    assert "OpportunityHistory.csv, row 15 (line 16)" in result.message
    assert "(opportunity_events).csv" not in result.message
    stored = con.execute("SELECT message FROM import_runs WHERE run_id = ?", [result.run_id]).fetchone()[0]
    assert stored == result.message
