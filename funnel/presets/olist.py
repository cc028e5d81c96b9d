"""Olist's marketing funnel (public data set): MQLs with first contact, and the won deals."""
from __future__ import annotations

import pandas as pd

from .. import fmt
from ..i18n import N_, msg, msg_n
from .base import Built, Cols, FileRole, Note, Preset, blank_to_none, refuse


PRESET = Preset(
    name="olist",
    roles=(FileRole("mqls", N_("Marketing qualified leads"), ("olist_marketing_qualified_leads*.csv", "*qualified_leads*"),
                    help=N_("olist_marketing_qualified_leads_dataset.csv: mql_id, first_contact_date, landing_page_id, origin"),
                    signature=(("mql_id",), ("first_contact_date",), ("landing_page_id", "origin"))),
           FileRole("closed_deals", N_("Closed (won) deals"), ("olist_closed_deals*.csv", "*closed_deals*"),
                    help=N_("olist_closed_deals_dataset.csv: mql_id, seller_id, sdr_id, sr_id, won_date, …"),
                    signature=(("mql_id",), ("won_date",), ("seller_id", "sdr_id", "sr_id")))),
    public_folder="olist_marketing_funnel",
)


def build(src: dict, options: dict) -> Built:
    mql_file, mql = src["mqls"]
    deal_file, deals = src["closed_deals"]
    mc = Cols(mql, mql_file, "leads")
    c_id, c_first = mc.need("mql_id", "mql_id"), mc.need("first_contact_date", "first_contact_date")
    c_origin, c_page = mc.find("origin"), mc.find("landing_page_id")
    dc = Cols(deals, deal_file, "opportunities")
    d_id, d_won = dc.need("mql_id", "mql_id"), dc.need("won_date", "won_date")
    d_sdr, d_sr = dc.find("sdr_id"), dc.find("sr_id")
    d_seg, d_rev, d_seller = dc.find("business_segment"), dc.find("declared_monthly_revenue"), dc.find("seller_id")
    if mc.problems or dc.problems:
        refuse(mc.problems + dc.problems)

    lead_id = mc.get(c_id)
    first = mc.get(c_first)
    deal_id = dc.get(d_id)
    won = dc.get(d_won)
    sdr_by = dict(zip(deal_id, dc.get(d_sdr)))
    sr_by = dict(zip(deal_id, dc.get(d_sr)))
    leads = pd.DataFrame({
        "lead_id": lead_id,
        "created_at": first,
        "channel": blank_to_none(mc.get(c_origin)),
        "sdr": blank_to_none(lead_id.map(sdr_by).fillna("")),
        "ae": blank_to_none(lead_id.map(sr_by).fillna("")),
    })
    if c_page:
        leads["landing_page_id"] = blank_to_none(mc.get(c_page))

    # Every MQL row is an MQL at first contact; a closed deal is a Customer at won_date.
    mql_events = pd.DataFrame({"lead_id": lead_id, "stage": "MQL", "entered_at": first, "actor": None,
                               "reason": None, "source_file": mql_file, "source_row": range(1, len(mql) + 1),
                               "source_column": c_first})
    won_events = pd.DataFrame({"lead_id": deal_id, "stage": "Customer", "entered_at": won,
                               "actor": blank_to_none(dc.get(d_sr)), "reason": None,
                               "source_file": deal_file, "source_row": range(1, len(deals) + 1),
                               "source_column": d_won})
    lead_events = pd.concat([mql_events, won_events], ignore_index=True)

    first_by = dict(zip(lead_id, first))
    revenue = dc.get(d_rev)
    amount = revenue.where(revenue != "", "0")
    opportunities = pd.DataFrame({
        "opportunity_id": deal_id,
        "lead_id": deal_id,
        "account": blank_to_none(dc.get(d_seller)),
        "created_at": deal_id.map(first_by).fillna(""),
        "amount": amount,
        "close_date": won,
        "owner": blank_to_none(dc.get(d_sr)),
        "segment": blank_to_none(dc.get(d_seg)),
        "source_file": deal_file, "source_row": range(1, len(deals) + 1),
    })
    opp_events = pd.DataFrame({"opportunity_id": deal_id, "stage": "Closed Won", "entered_at": won, "amount": amount,
                               "close_date": won, "source_file": deal_file, "source_row": range(1, len(deals) + 1)})

    notes: list[Note] = []
    first_dt = pd.to_datetime(deal_id.map(first_by), errors="coerce")
    won_dt = pd.to_datetime(won, errors="coerce")
    early = int((won_dt.dt.normalize() < first_dt).sum())
    if early:
        notes.append(Note("source", msg_n(
            "{n} deal is won before the lead's first contact date; kept as in the source (its time to win is "
            "negative).",
            "{n} deals are won before the lead's first contact date; kept as in the source (its time to win is "
            "negative).", early, n=fmt.Count(early))))
    undeclared = int((pd.to_numeric(amount, errors="coerce").fillna(0) == 0).sum())
    if undeclared:
        notes.append(Note("forecast", msg(
            "{n} of {total} won deals declared no monthly revenue; their amount is 0, so won amounts understate the "
            "real value.", n=fmt.Count(undeclared), total=fmt.Count(len(deals)))))
    last_mql = pd.to_datetime(first, errors="coerce").max()
    late = int((won_dt.dt.normalize() > last_mql).sum()) if pd.notna(last_mql) else 0
    if late:
        notes.append(Note("conversion", msg(
            "MQLs stop on {last_day} but {n} wins come later: the latest cohorts are still maturing, so their "
            "conversion is understated.", last_day=fmt.Date(last_mql.date()), n=fmt.Count(late))))
    return Built(
        tables={"leads": leads, "lead_events": lead_events, "opportunities": opportunities,
                "opportunity_events": opp_events},
        names={"leads": mql_file, "lead_events": mql_file, "opportunities": deal_file, "opportunity_events": deal_file},
        stages={"lead": {"MQL": "MQL", "Customer": "Customer"}, "opportunity": {"Closed Won": "Closed Won"}},
        notes=notes,
        columns={"leads": {"lead_id": c_id, "created_at": c_first, "channel": c_origin, "sdr": d_sdr, "ae": d_sr},
                 "lead_events": {"lead_id": c_id},
                 "opportunities": {"opportunity_id": d_id, "created_at": c_first, "amount": d_rev, "close_date": d_won},
                 "opportunity_events": {"opportunity_id": d_id, "entered_at": d_won, "amount": d_rev,
                                        "close_date": d_won}})
