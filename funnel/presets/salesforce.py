"""Salesforce opportunity exports: OpportunityHistory plus, ideally, the Opportunities themselves."""
from __future__ import annotations

import pandas as pd

from ..dates import clean_amounts, order_from_option, parse_dates
from .base import Built, Cols, FileRole, Note, Preset, blank_to_none, refuse

#: Salesforce's default probabilities: the four middle "selling" steps are discovery work.
SALESFORCE_STAGES = {
    "Prospecting": "Qualify",
    "Qualification": "Qualify",
    "Needs Analysis": "Discovery",
    "Value Proposition": "Discovery",
    "Id. Decision Makers": "Discovery",
    "Perception Analysis": "Discovery",
    "Proposal/Price Quote": "Proposal",
    "Negotiation/Review": "Negotiation",
    "Closed Won": "Closed Won",
    "Closed Lost": "Closed Lost",
}

def build(src: dict, options: dict) -> Built:
    hf, hist = src["history"]
    hc = Cols(hist, hf, "opportunity_events")
    h_id = hc.find("Opportunity ID", "opportunity_id", "opportunityid", "opportunity_id_18", "opportunity_id_15")
    if h_id is None:
        h_id = hc.need("Opportunity ID", "id")
    h_stage = hc.need("Stage", "stage", "stagename", "stage_name", "to_stage", "new_stage")
    h_when = hc.need("Created Date", "created_date", "createddate", "last_modified_date", "lastmodifieddate",
                     "last_modified", "edit_date", "date")
    h_amount, h_close = hc.find("Amount", "amount"), hc.find("Close Date", "close_date", "closedate")
    problems = list(hc.problems)
    oc = None
    if "opportunities" in src:
        of, opps = src["opportunities"]
        oc = Cols(opps, of, "opportunities")
        o_id = oc.find("Opportunity ID", "opportunity_id", "opportunityid", "opportunity_id_18", "id")
        if o_id is None:
            o_id = oc.need("Opportunity ID", "opportunity_id")
        o_created = oc.need("Created Date", "created_date", "createddate", "created")
        o_close = oc.need("Close Date", "close_date", "closedate")
        o_amount = oc.find("Amount", "amount")
        o_account = oc.find("Account Name", "account_name", "account")
        o_owner = oc.find("Opportunity Owner", "opportunity_owner", "owner", "owner_name", "owner_full_name")
        o_stage = oc.find("Stage", "stage", "stagename")
        o_segment = oc.find("Segment", "segment", "market_segment")
        o_product = oc.find("Product", "product", "product_name")
        o_source = oc.find("Lead Source", "lead_source")
        problems += oc.problems
    if problems:
        refuse(problems)

    decimal = options.get("decimal", ".")
    values = [hist[h].astype(str).str.strip() for h in (h_when, h_close) if h]
    if oc is not None:
        values += [oc.get(h) for h in (o_created, o_close)]
    order, formats = order_from_option(options.get("date_format"), pd.unique(pd.concat(values)),
                                        what="The dates in the Salesforce files")
    hid = hc.get(h_id)
    h_amounts = clean_amounts(hc.get(h_amount), decimal)
    h_closes = parse_dates(hc.get(h_close), order, formats)
    rows = pd.Series(range(1, len(hist) + 1), index=hist.index)
    events = pd.DataFrame({"opportunity_id": hid, "stage": hc.get(h_stage),
                           "entered_at": parse_dates(hc.get(h_when), order, formats),
                           "amount": h_amounts, "close_date": h_closes, "source_file": hf, "source_row": rows})
    notes: list[Note] = [
        Note("forecast", "Salesforce's own probability and forecast category per history row are not imported: the "
                     "probabilities and categories on the Stage settings page apply."),
    ]
    # The export's row order is arbitrary (often newest first): "latest" means latest in time.
    timed = events.assign(_t=pd.to_datetime(events["entered_at"], errors="coerce")).sort_values(
        ["_t"], kind="stable", na_position="first")
    last_amount = timed[timed["amount"] != ""].groupby("opportunity_id")["amount"].last()
    if oc is not None:
        oid = oc.get(o_id)
        amount = clean_amounts(oc.get(o_amount), decimal)
        missing_amount = amount == ""
        amount = amount.where(~missing_amount, oid.map(last_amount).fillna("0"))
        opportunities = pd.DataFrame({
            "opportunity_id": oid, "lead_id": None, "account": blank_to_none(oc.get(o_account)),
            "created_at": parse_dates(oc.get(o_created), order, formats), "amount": amount,
            "close_date": parse_dates(oc.get(o_close), order, formats), "owner": blank_to_none(oc.get(o_owner)),
            "segment": blank_to_none(oc.get(o_segment)), "product": blank_to_none(oc.get(o_product)),
            "source_file": of, "source_row": range(1, len(oid) + 1),
        })
        if int(missing_amount.sum()):
            notes.append(Note("forecast", "Opportunities without an amount in the export "
                                      f"({int(missing_amount.sum()):,}) take their latest amount from the history, "
                                      "else 0."))
        # Deals with no history row: one event in their current stage at their created date.
        no_hist = ~oid.isin(set(hid)) & (oc.get(o_stage) != "") if o_stage else pd.Series(False, index=oid.index)
        if int(no_hist.sum()):
            extra = pd.DataFrame({"opportunity_id": oid[no_hist], "stage": oc.get(o_stage)[no_hist],
                                  "entered_at": opportunities["created_at"][no_hist], "amount": amount[no_hist],
                                  "close_date": opportunities["close_date"][no_hist], "source_file": of,
                                  "source_row": pd.Series(range(1, len(oid) + 1), index=oid.index)[no_hist]})
            events = pd.concat([events, extra], ignore_index=True)
            notes.append(Note("deal_time_in_stage", "Opportunities without a history row "
                                           f"({int(no_hist.sum()):,}) get one event in their current stage at their "
                                           "created date, so their time in stage is measured from creation."))
        if o_source:
            notes.append(Note("filters", "The opportunities' Lead Source is not imported (opportunities have no channel): "
                                     "the channel filter does not apply to deals."))
    else:
        first_seen = timed.groupby("opportunity_id", sort=False)["entered_at"].first()
        close_last = timed[timed["close_date"] != ""].groupby("opportunity_id")["close_date"].last()
        ids = list(dict.fromkeys(hid[hid != ""]))
        opportunities = pd.DataFrame({"opportunity_id": ids, "lead_id": None,
                                      "created_at": [first_seen.get(o, "") for o in ids]})
        opportunities["amount"] = opportunities["opportunity_id"].map(last_amount).fillna("0")
        opportunities["close_date"] = opportunities["opportunity_id"].map(close_last).fillna("")
        notes.append(Note("forecast", "Without the Opportunities export, a deal's created date is its first history row "
                                  "and its amount and close date the latest in the history; owners and accounts "
                                  "are unknown."))
    stage_map = {k: v for k, v in SALESFORCE_STAGES.items()}
    for k, v in (options.get("stage_map") or {}).items():
        stage_map[str(k)] = str(v)
    names = {"opportunity_events": hf, "opportunities": src["opportunities"][0] if oc is not None else hf}
    columns = {"opportunity_events": {"opportunity_id": h_id, "stage": h_stage, "entered_at": h_when,
                                      "amount": h_amount, "close_date": h_close}}
    if oc is not None:
        columns["opportunities"] = {"opportunity_id": o_id, "created_at": o_created, "close_date": o_close,
                                    "amount": o_amount, "account": o_account, "owner": o_owner}
    return Built(tables={"opportunities": opportunities, "opportunity_events": events}, names=names,
                 stages={"opportunity": stage_map}, notes=notes, columns=columns)



PRESET = Preset(
    name="salesforce_opportunity_history",
    title="Salesforce opportunity history",
    description="A Salesforce OpportunityHistory report export (Opportunity ID, Stage, Amount, Probability (%), "
                "Close Date, Created Date or Last Modified Date, Forecast Category) plus, ideally, an "
                "Opportunities export (Opportunity ID, Account Name, Amount, Close Date, Stage, Created Date, "
                "Opportunity Owner). Standard stages map onto the configured ones.",
    roles=(FileRole("history", "Opportunity history", ("*opportunityhistory*.csv", "*opportunity_history*.csv",
                                                       "*history*.csv", "*history*.xlsx"),
                    help="OpportunityHistory export: one row per stage / amount / close date change."),
           FileRole("opportunities", "Opportunities", ("opportunities*.csv", "opportunity.csv", "*opportunities*.csv",
                                                       "*opportunities*.xlsx"),
                    required=False, help="Opportunities export: one row per opportunity.")),
    notes=(
        Note("leads", "A Salesforce opportunity export has no leads: the lead funnel, conversion, rejections and the "
                  "scoring what-if cannot be computed.", ("no_leads",)),
    ),
    build=build,
    options=("date_format", "decimal", "stage_map"),
)
