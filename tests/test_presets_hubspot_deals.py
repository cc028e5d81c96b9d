"""HubSpot deals exports through auto-detection: the UI export (Date entered "Stage (Pipeline)"
columns, day-first dates) with the contacts export in the same import, and the API / warehouse
spelling (hs_date_entered_<stage id>, date_entered_<stage id>).

Expected figures are read by hand off tests/fixtures/crm/hubspot_ui and hubspot_api (comments say
which rows give them).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from funnel import conversion, forecast, presets, store

CRM = Path(__file__).resolve().parent / "fixtures" / "crm"
UI = CRM / "hubspot_ui"
API = CRM / "hubspot_api"
DEALS_UI = UI / "hubspot-crm-exports-all-deals-2025-03-10.csv"


def _import(tmp_path, folder, name="h.duckdb"):
    con = store.connect(tmp_path / name)
    det = presets.detect_folder(folder)
    return con, det, presets.import_detected(con, det)


def _events(con) -> list[tuple]:
    return [(o, s, t.strftime("%Y-%m-%d %H:%M")) for o, s, t in con.execute(
        "SELECT opportunity_id, stage, entered_at FROM opportunity_events ORDER BY opportunity_id, entered_at, "
        "event_seq").fetchall()]


# By hand from the deals file: one event per filled-in "Date entered" column, in time order.
DEAL_EVENTS = [
    ("9001", "Qualify", "2025-01-06 09:15"), ("9001", "Discovery", "2025-01-13 10:00"),    # Presentation skipped
    ("9001", "Proposal", "2025-01-27 11:00"), ("9001", "Negotiation", "2025-02-10 12:00"),
    ("9001", "Closed Won", "2025-02-20 16:00"),
    ("9002", "Qualify", "2025-01-08 14:00"), ("9002", "Discovery", "2025-01-15 09:00"),    # Qualified To Buy
    ("9002", "Discovery", "2025-01-22 09:00"), ("9002", "Negotiation", "2025-02-05 10:00"),  # Presentation, Contract
    ("9003", "Qualify", "2025-01-10 11:00"), ("9003", "Closed Lost", "2025-02-25 09:00"),  # won 14 Feb, lost later
    ("9004", "Qualify", "2025-02-03 08:00"), ("9004", "Discovery", "2025-02-12 15:00"),
    ("9005", "Qualify", "2025-03-03 13:00"),                                               # no date: at creation
]


def test_deals_and_contacts_arrive_together_through_auto_detection(tmp_path):
    con, det, result = _import(tmp_path, UI)
    assert det.preset == "hubspot_deals" and set(det.files) == {"deals", "contacts"}
    # The contacts file is the hubspot_contacts fixture: 6 contacts, 14 lifecycle events.
    assert result.rows["leads"]["loaded"] == 6 and result.rows["lead_events"]["loaded"] == 14
    assert result.rows["opportunities"]["loaded"] == 5 and result.rows["opportunity_events"]["loaded"] == 14
    assert _events(con) == DEAL_EVENTS
    states = forecast.deal_states(con).set_index("opportunity_id")["stage"].to_dict()
    # 9004's row says Decision Maker Bought-In, its latest "Date entered" is Presentation Scheduled
    # (12 Feb): the history wins.
    assert states == {"9001": "Closed Won", "9002": "Negotiation", "9003": "Closed Lost", "9004": "Discovery",
                      "9005": "Qualify"}
    # Deals linked to their first associated contact of this import (9003: 999 is unknown, 103 is not).
    links = dict(con.execute("SELECT opportunity_id, lead_id FROM opportunities").fetchall())
    assert links == {"9001": "101", "9002": "102", "9003": "103", "9004": "104", "9005": None}
    # Day-first: 06/01/2025 09:15 is 6 January.
    assert con.execute("SELECT created_at FROM opportunities WHERE opportunity_id = '9001'").fetchone()[0] \
        == datetime(2025, 1, 6, 9, 15)
    # Open as of 3 Mar 2025: 9002 30,000 × 0.75 (Negotiation, closes 31 Mar); 9004 no amount → 0 ×
    # 0.25 and 9005 4,000 × 0.10 in April.
    wf = forecast.weighted_forecast(con)
    by_month: dict = {}
    for p, w, a in zip(wf["period"], wf["weighted_amount"], wf["open_amount"]):
        m = by_month.setdefault(f"{p:%Y-%m}", [0.0, 0.0])
        m[0] += w
        m[1] += a
    assert by_month == {"2025-03": [22500.0, 30000.0], "2025-04": [400.0, 4000.0]}
    # The lead funnel is the contacts' (as in the hubspot_contacts tests).
    reached = dict(zip(*conversion.stage_conversion(con)[["stage", "reached"]].T.values))
    assert reached == {"Lead": 6, "MQL": 4, "SAL": 3, "SQL": 3, "Opportunity": 2, "Customer": 2}
    notes = " ".join(presets.data_limitations(con))
    assert "1 deal entered both the won and the lost stage: each is taken at the later of the two" in notes
    assert "1 deal has no amount anywhere in the export and counts as 0" in notes      # 9004
    assert "1 deal shows another stage on its row than in its latest history entry" in notes  # 9004
    assert "1 deal has no \"Date entered\" value" in notes                             # 9005
    assert "4 of 5 deals are linked to a contact" in notes


def test_api_spelling_gives_the_same_deals(tmp_path):
    ui, _, _ = _import(tmp_path, UI, "ui.duckdb")
    api, det, result = _import(tmp_path, API, "api.duckdb")
    assert det.preset == "hubspot_deals" and set(det.files) == {"deals"}
    assert "leads" not in result.rows or result.rows["leads"]["loaded"] == 0
    assert _events(api) == _events(ui) == DEAL_EVENTS
    q = "SELECT opportunity_id, created_at, amount, close_date, owner, account FROM opportunities ORDER BY 1"
    assert api.execute(q).fetchall() == ui.execute(q).fetchall()
    assert any("A deals export has no contacts" in n for n in presets.data_limitations(api))


def test_a_deal_lost_then_won_is_taken_as_won(tmp_path):
    # 9003 entered Closed Lost on 14 Feb and Closed Won on 25 Feb: the later one stands.
    text = (API / "deals.csv").read_text().replace(
        "2025-02-14T09:00:00Z,2025-02-25T09:00:00Z", "2025-02-25T09:00:00Z,2025-02-14T09:00:00Z")
    con = store.connect(tmp_path / "w.duckdb")
    presets.import_preset(con, "hubspot_deals", files={"deals": ("deals.csv", text.encode())})
    rows = con.execute("SELECT stage FROM opportunity_events WHERE opportunity_id = '9003' ORDER BY entered_at").fetchall()
    assert rows == [("Qualify",), ("Closed Won",)]
