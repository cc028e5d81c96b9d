"""Salesforce exports: Opportunity, OpportunityHistory, OpportunityFieldHistory, Lead, LeadHistory, User.

Both header styles are read: report labels ("Opportunity ID", "Stage", "Created Date") and the field
API names the weekly Data Export, Data Loader, Workbench and API tools write ("OpportunityId",
"StageName", "CreatedDate"); :func:`~funnel.presets.base.header_key` makes them one. Any subset of
the files imports; the stage history comes from OpportunityHistory, else from the StageName rows of
OpportunityFieldHistory (its Amount and CloseDate rows carried onto the stage events), and the lead
funnel from LeadHistory's Status rows. Owner ids become names when a User export is given.
"""
from __future__ import annotations

import pandas as pd

from .. import fmt
from ..dates import clean_amounts, order_from_option, parse_dates, to_time
from ..i18n import N_, msg
from ..mapping import normalise_name
from .quality import history_notes, row_stage_notes, without_amount
from .base import (PERSONAL_COLUMNS, Built, Cols, FileRole, Note, Preset, add_lead_attributes,
                   blank_to_none, header_key, problem, refuse)

#: Standard Salesforce opportunity stages → default opportunity stages. By meaning, not by
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

#: Standard Lead Status values, and common custom ones (by header_key), → default lead stages.
SALESFORCE_LEAD_STATUSES = {
    "Open - Not Contacted": "Lead", "Working - Contacted": "SAL", "Closed - Converted": "Opportunity",
    "Closed - Not Converted": "Disqualified",
}
_COMMON_STATUSES = {
    "new": "Lead", "open": "Lead", "mql": "MQL", "marketingqualified": "MQL", "marketingqualifiedlead": "MQL",
    "working": "SAL", "contacted": "SAL", "accepted": "SAL", "sal": "SAL", "sql": "SQL", "qualified": "SQL",
    "salesqualified": "SQL", "salesqualifiedlead": "SQL", "converted": "Opportunity", "rejected": "Rejected",
    "returned": "Rejected", "recycled": "Recycled", "nurture": "Recycled", "nurturing": "Recycled",
    "unqualified": "Disqualified", "disqualified": "Disqualified", "junk": "Disqualified",
}
#: Lead fields that are Salesforce's bookkeeping, not something about the lead.
_SYSTEM_FIELDS = {header_key(f) for f in (
    "IsDeleted", "MasterRecordId", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
    "LastActivityDate", "LastViewedDate", "LastReferencedDate", "Jigsaw", "JigsawContactId", "ConvertedAccountId",
    "ConvertedContactId", "IsUnreadByOwner", "EmailBouncedReason", "EmailBouncedDate", "IndividualId", "PhotoUrl",
    "Latitude", "Longitude", "GeocodeAccuracy", "Address", "Salutation", "MiddleName", "Suffix", "Street",
    "PostalCode", "Website", "Description")}
_PERSONAL = {header_key(c) for c in PERSONAL_COLUMNS} | {"firstname", "lastname", "mobilephone"}

OPP_ID = ("Opportunity ID", "Opportunity ID (18)", "opportunity_id_18", "opportunity_id_15")
CREATED = ("Created Date", "Create Date", "created")
STAGE = ("Stage", "Stage Name", "to_stage", "new_stage")
TRUE = {"1", "true", "yes", "y", "x"}
NO_LEADS_NOTE = Note("leads", msg("A Salesforce opportunity export has no leads: the lead funnel, conversion, "
                                  "rejections and the scoring what-if cannot be computed (add the Lead export, and "
                                  "LeadHistory for the status changes)."), ("no_leads",))


def _names(src: dict) -> dict[str, str]:
    """User Id → Name from the User export ({} without one)."""
    if "users" not in src:
        return {}
    f, df = src["users"]
    c = Cols(df, f, "opportunities")
    u_id = c.need("Id", "User ID", "user_id")
    u_name = c.find("Name", "Full Name")
    if c.problems:
        refuse(c.problems)
    if u_name:
        names = c.get(u_name)
    else:
        names = (c.get(c.find("First Name")) + " " + c.get(c.find("Last Name"))).str.strip()
    return {k: v for k, v in zip(c.get(u_id), names) if k and v}


def _person(values: pd.Series, names: dict[str, str]) -> pd.Series:
    """An owner column as names: ids the User export knows become its name, the rest stay as written."""
    return blank_to_none(values.map(lambda v: names.get(v, v)))


def _changes(src: dict, key: str, id_names: tuple[str, ...], table: str):
    """A field-history export (OpportunityFieldHistory, LeadHistory) as (file, Cols, id, field, old, new, when)."""
    f, df = src[key]
    c = Cols(df, f, table)
    cid = c.need(id_names[0], *id_names)
    field = c.need("Field", "Changed Field", "Field / Event")
    old, new = c.need("OldValue", "Old Value"), c.need("NewValue", "New Value")
    when = c.need("CreatedDate", "Created Date", "Edit Date", "Date")
    return f, c, cid, field, old, new, when


def _read(src: dict, options: dict) -> dict:
    """Find every file's columns (all problems at once), then read their dates in one order."""
    got: dict = {}
    problems = []
    if "history" in src:
        hf, hist = src["history"]
        hc = Cols(hist, hf, "opportunity_events")
        h_id = hc.find(*OPP_ID) or hc.need("Opportunity ID", "id")
        got["history"] = (hf, hc, h_id, hc.need("Stage", *STAGE),
                          hc.need("Created Date", *CREATED, "last_modified_date", "last_modified", "edit_date", "date"),
                          hc.find("Amount"), hc.find("Close Date"))
        problems += hc.problems
    if "field_history" in src:
        got["field_history"] = _changes(src, "field_history", OPP_ID, "opportunity_events")
        problems += got["field_history"][1].problems
    if "opportunities" in src:
        of, opps = src["opportunities"]
        oc = Cols(opps, of, "opportunities")
        o_id = oc.find(*OPP_ID, "id") or oc.need("Opportunity ID", "opportunity_id")
        got["opportunities"] = dict(
            file=of, c=oc, id=o_id, created=oc.need("Created Date", *CREATED), close=oc.need("Close Date"),
            amount=oc.find("Amount"), account=oc.find("Account Name", "Account", "Account.Name", "AccountId"),
            owner=oc.find("Opportunity Owner", "Owner Name", "Owner", "Owner Full Name", "OwnerId"),
            stage=oc.find(*STAGE), segment=oc.find("Segment", "Market Segment"),
            product=oc.find("Product", "Product Name"), source=oc.find("Lead Source"),
            won=oc.find("IsWon", "Won"))
        problems += oc.problems
    if "leads" in src:
        lf, lds = src["leads"]
        lc = Cols(lds, lf, "leads")
        got["leads"] = dict(
            file=lf, c=lc, id=lc.need("Lead ID", "Id"), created=lc.need("Created Date", *CREATED),
            status=lc.need("Lead Status", "Status"), source=lc.find("Lead Source"),
            owner=lc.find("Lead Owner", "Owner Name", "Owner", "OwnerId"), converted_at=lc.find("Converted Date"),
            converted_opp=lc.find("Converted Opportunity ID", "ConvertedOpportunityId"),
            converted=lc.find("IsConverted", "Converted"))
        problems += lc.problems
    if "lead_history" in src:
        got["lead_history"] = _changes(src, "lead_history", ("Lead ID", "LeadId"), "lead_events")
        problems += got["lead_history"][1].problems
    if problems:
        refuse(problems)
    if not any(k in got for k in ("history", "field_history", "opportunities", "leads")):
        refuse([problem("Salesforce files", "", msg(
            "none of the files is an {exports} export (a {others} export alone has nothing to attach to). Add one of "
            "them.", exports="Opportunity, OpportunityHistory, OpportunityFieldHistory or Lead",
            others="User or LeadHistory"), code="unreadable_file")])
    values = []
    if "history" in got:
        h = got["history"]
        values += [h[1].get(c) for c in (h[4], h[6]) if c]     # the dates: CreatedDate, CloseDate
    for k in ("field_history", "lead_history"):
        if k in got:
            values.append(got[k][1].get(got[k][6]))
    for k in ("opportunities", "leads"):
        if k in got:
            g = got[k]
            values += [g["c"].get(g[h]) for h in ("created", "close", "converted_at") if g.get(h)]
    order, formats = order_from_option(options.get("date_format"), pd.unique(pd.concat(values)),
                                       what=msg("The dates in the Salesforce files"))
    got["when"] = lambda s: parse_dates(s, order, formats)
    got["decimal"] = options.get("decimal", ".")
    return got


def _deal_events_from_history(got: dict) -> pd.DataFrame:
    hf, hc, h_id, h_stage, h_when, h_amount, h_close = got["history"]
    return pd.DataFrame({"opportunity_id": hc.get(h_id), "stage": hc.get(h_stage), "entered_at": got["when"](hc.get(h_when)),
                         "amount": clean_amounts(hc.get(h_amount), got["decimal"]),
                         "close_date": got["when"](hc.get(h_close)), "source_file": hf,
                         "source_row": range(1, len(hc.df) + 1), "source_column": h_when})


def _deal_events_from_field_history(got: dict, created: dict[str, str], row_stage: dict[str, str]) -> pd.DataFrame:
    """One event per StageName, Amount or CloseDate change (as OpportunityHistory writes a row per
    change), each carrying the stage, amount and close date as of then; and an opening event when
    the deal was created, in the values before their first change (the stage: the row's when it
    never changed)."""
    f, c, cid, field, old, new, when = got["field_history"]
    kind = c.get(field).map(header_key).map({"stagename": "stage", "stage": "stage", "amount": "amount",
                                             "closedate": "close_date"})
    rows = pd.DataFrame({"opportunity_id": c.get(cid), "kind": kind, "old": c.get(old), "new": c.get(new),
                         "entered_at": got["when"](c.get(when)), "source_row": range(1, len(c.df) + 1)})
    rows = rows[rows["kind"].notna() & (rows["opportunity_id"] != "")]
    rows = rows.assign(_t=to_time(rows["entered_at"])).sort_values(["_t", "source_row"], kind="stable")
    clean = {"amount": lambda s: clean_amounts(s, got["decimal"]), "close_date": got["when"], "stage": lambda s: s}
    for k, fn in clean.items():
        sel = rows["kind"] == k
        rows.loc[sel, "old"] = fn(rows.loc[sel, "old"])
        rows.loc[sel, "new"] = fn(rows.loc[sel, "new"])
    first = rows.groupby("opportunity_id", sort=False).head(1)
    opening = pd.DataFrame({"opportunity_id": first["opportunity_id"],
                            "entered_at": first["opportunity_id"].map(created).fillna(first["entered_at"]),
                            "source_row": first["source_row"]})
    before = {k: rows[rows["kind"] == k].groupby("opportunity_id")["old"].first() for k in clean}
    opening["stage"] = opening["opportunity_id"].map(before["stage"]).fillna(opening["opportunity_id"].map(row_stage))
    for k in ("amount", "close_date"):
        opening[k] = opening["opportunity_id"].map(before[k])
    changes = rows[["opportunity_id", "entered_at", "source_row"]].copy()
    for k in clean:
        changes[k] = rows["new"].where(rows["kind"] == k)
    timeline = pd.concat([opening.assign(_o=0), changes.assign(_o=1)], ignore_index=True)
    timeline = timeline.assign(_t=to_time(timeline["entered_at"])).sort_values(["opportunity_id", "_t", "_o"],
                                                                              kind="stable")
    for k in clean:   # each change keeps the other two values as they were
        timeline[k] = timeline.groupby("opportunity_id", sort=False)[k].ffill()
    timeline = timeline[timeline["stage"].fillna("") != ""].fillna({"amount": "", "close_date": ""})
    return timeline.drop(columns=["_t", "_o"]).assign(source_file=f, source_column=when)


def _deals(got: dict, names: dict[str, str], options: dict, notes: list[Note]):
    """(opportunities, opportunity_events, {opportunity_id: won moment}) with the deal-side notes."""
    created: dict[str, str] = {}
    g = got.get("opportunities")
    if g is not None:
        oc = g["c"]
        oid = oc.get(g["id"])
        created = dict(zip(oid, got["when"](oc.get(g["created"]))))
    if "history" in got:
        events = _deal_events_from_history(got)
        notes.append(Note("forecast", msg("Salesforce's own probability and forecast category per history row are "
                                          "not imported: the probabilities and categories on the Stage settings page "
                                          "apply.")))
    elif "field_history" in got:
        stage_now = dict(zip(oid, oc.get(g["stage"]))) if g is not None and g["stage"] else {}
        events = _deal_events_from_field_history(got, created, stage_now)
        notes.append(Note("forecast", msg("The stage history comes from OpportunityFieldHistory: each StageName, "
                                          "Amount or CloseDate change is one event carrying the stage, amount and "
                                          "close date as of then (as OpportunityHistory writes them).")))
    else:
        events = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at", "amount", "close_date", "source_file",
                                       "source_row", "source_column"])
    events = events[events["opportunity_id"] != ""]
    # The export's row order is arbitrary (often newest first): "latest" means latest in time.
    timed = events.assign(_t=to_time(events["entered_at"])).sort_values(["_t"], kind="stable", na_position="first")
    last_amount = timed[timed["amount"] != ""].groupby("opportunity_id")["amount"].last()
    if g is None:
        first_seen = timed.groupby("opportunity_id", sort=False)["entered_at"].first()
        close_last = timed[timed["close_date"] != ""].groupby("opportunity_id")["close_date"].last()
        ids = list(dict.fromkeys(events["opportunity_id"]))
        opportunities = pd.DataFrame({"opportunity_id": ids, "lead_id": None,
                                      "created_at": [first_seen.get(o, "") for o in ids]})
        opportunities["amount"] = opportunities["opportunity_id"].map(last_amount).fillna("")
        opportunities["close_date"] = opportunities["opportunity_id"].map(close_last).fillna("")
        notes.append(Note("forecast", msg("Without the Opportunities export, a deal's created date is its first "
                                          "history row and its amount and close date the latest in the history; "
                                          "owners and accounts are unknown.")))
    else:
        amount = clean_amounts(oc.get(g["amount"]), got["decimal"])
        missing = amount == ""
        amount = amount.where(~missing, oid.map(last_amount).fillna(""))
        filled = int((missing & (amount != "")).sum())
        opportunities = pd.DataFrame({
            "opportunity_id": oid, "lead_id": None, "account": blank_to_none(oc.get(g["account"])),
            "created_at": oid.map(created), "amount": amount, "close_date": got["when"](oc.get(g["close"])),
            "owner": _person(oc.get(g["owner"]), names), "segment": blank_to_none(oc.get(g["segment"])),
            "product": blank_to_none(oc.get(g["product"])), "source_file": g["file"],
            "source_row": range(1, len(oid) + 1)})
        if filled:
            notes.append(Note("forecast", msg("Opportunities without an amount in the export ({n}) take their latest "
                                              "amount from the history.", n=fmt.Count(filled))))
        row_stage = oc.get(g["stage"]) if g["stage"] else pd.Series("", index=oid.index)
        # Deals with no history row: one event in their current stage at their created date.
        no_hist = ~oid.isin(set(events["opportunity_id"])) & (row_stage != "")
        if int(no_hist.sum()):
            extra = pd.DataFrame({"opportunity_id": oid[no_hist], "stage": row_stage[no_hist],
                                  "entered_at": opportunities["created_at"][no_hist], "amount": amount[no_hist],
                                  "close_date": opportunities["close_date"][no_hist], "source_file": g["file"],
                                  "source_row": pd.Series(range(1, len(oid) + 1), index=oid.index)[no_hist],
                                  "source_column": g["created"]})
            events = pd.concat([events, extra], ignore_index=True)
            notes.append(Note("deal_time_in_stage", msg(
                "Opportunities without a history row ({n}) get one event in their current stage at their created "
                "date, so their time in stage is measured from creation.", n=fmt.Count(int(no_hist.sum())))))
        row_stage_notes(oid, row_stage, timed, notes)
        if g["source"]:
            notes.append(Note("filters", msg("The opportunities' Lead Source is not imported (opportunities have no "
                                             "channel): the channel filter does not apply to deals.")))
    opportunities, events = without_amount(opportunities, events, options, notes)
    history_notes(opportunities, events, list(SALESFORCE_STAGES), notes)
    return opportunities, events


def _leads(got: dict, names: dict[str, str], opportunities: pd.DataFrame, deal_events: pd.DataFrame, options: dict,
           notes: list[Note]):
    """(leads, lead_events, {opportunity_id: lead_id}) from the Lead export and LeadHistory."""
    g = got["leads"]
    lc, lf = g["c"], g["file"]
    lead_id = lc.get(g["id"])
    created = got["when"](lc.get(g["created"]))
    leads = pd.DataFrame({"lead_id": lead_id, "created_at": created, "channel": blank_to_none(lc.get(g["source"])),
                          "sdr": _person(lc.get(g["owner"]), names)})
    converted_opp = lc.get(g["converted_opp"])
    link = {o: lid for o, lid in zip(converted_opp, lead_id) if o and o in set(opportunities["opportunity_id"])}
    if "owner" in opportunities:
        ae_by = dict(zip(opportunities["opportunity_id"], opportunities["owner"].fillna("")))
        leads["ae"] = blank_to_none(converted_opp.map(ae_by).fillna(""))
    used = set(lc.used)
    rest = [h for h in lc.df.columns if h not in used and header_key(h) not in _PERSONAL
            and header_key(h) not in _SYSTEM_FIELDS]
    add_lead_attributes(leads, lc.df, rest)
    status = lc.get(g["status"])
    rows = pd.Series(range(1, len(lead_id) + 1), index=lead_id.index)
    base = pd.DataFrame({"lead_id": lead_id, "entered_at": created, "actor": None, "reason": None, "source_file": lf,
                         "source_row": rows, "source_column": g["created"]})
    if "lead_history" in got:
        f, c, cid, field, old, new, when = got["lead_history"]
        ch = pd.DataFrame({"lead_id": c.get(cid), "stage": c.get(new), "old": c.get(old),
                           "entered_at": got["when"](c.get(when)), "actor": _person(c.get(c.find("CreatedById",
                                                                                                  "Edited By")), names),
                           "reason": None, "source_file": f, "source_row": range(1, len(c.df) + 1),
                           "source_column": when, "_f": c.get(field).map(header_key)})
        ch = ch[(ch["_f"].isin(["status", "leadstatus"])) & (ch["lead_id"] != "")].drop(columns="_f")
        first_old = ch.assign(_t=to_time(ch["entered_at"])).sort_values("_t", kind="stable") \
            .groupby("lead_id")["old"].first()
        # The status a lead was created in: the value before its first change, else its status now.
        base["stage"] = lead_id.map(first_old).fillna(status).where(lambda s: s != "", status)
        events = pd.concat([base, ch.drop(columns="old")], ignore_index=True)
        notes.append(Note("conversion", msg("The lead funnel comes from LeadHistory's Status changes: a lead enters "
                                            "its first status when it was created.")))
    else:
        base["stage"] = status
        events = base
        notes.append(Note("conversion", msg("Without LeadHistory only each lead's current status is known: it is "
                                            "placed at the lead's created date, so time in the lead stages cannot be "
                                            "measured.")))
    # A converted lead enters Opportunity when it was converted (unless a status already says so),
    # and Customer when the deal it became was won.
    conv_at = got["when"](lc.get(g["converted_at"]))
    is_conv = lc.get(g["converted"]).str.lower().isin(TRUE) | (conv_at != "")
    roles = _status_map(set(events["stage"].dropna()), options)
    said = set(events.loc[events["stage"].map(roles).isin(["Opportunity", "Customer"]), "lead_id"])
    add = is_conv & (conv_at != "") & ~lead_id.isin(said)
    won_at = _won_moments(deal_events, opportunities)
    extra = [pd.DataFrame({"lead_id": lead_id[add], "stage": "Opportunity", "entered_at": conv_at[add],
                           "source_file": lf, "source_row": rows[add], "source_column": g["converted_at"]})]
    won = converted_opp.map(won_at).fillna("")
    extra.append(pd.DataFrame({"lead_id": lead_id[won != ""], "stage": "Customer", "entered_at": won[won != ""],
                               "source_file": lf, "source_row": rows[won != ""], "source_column": g["converted_opp"]}))
    events = pd.concat([events, *extra], ignore_index=True)
    events = events[events["stage"].fillna("") != ""]
    return leads, events, link


def _won_moments(events: pd.DataFrame, opportunities: pd.DataFrame) -> dict[str, str]:
    """opportunity_id → when it was won: its first history row in Closed Won, else (a won deal with
    no such row) nothing — a deal's close date is a plan, not a moment that happened."""
    won = events[events["stage"].map(SALESFORCE_STAGES.get) == "Closed Won"]
    won = won.assign(_t=to_time(won["entered_at"])).sort_values("_t", kind="stable")
    return won.groupby("opportunity_id")["entered_at"].first().to_dict()


def _status_map(values, options: dict) -> dict[str, str]:
    out = {}
    for v in values:
        role = SALESFORCE_LEAD_STATUSES.get(v) or _COMMON_STATUSES.get(header_key(v))
        if role is None:
            words = normalise_name(v).split("_")   # "Closed - Disqualified", "Working - Nurture"
            role = next((_COMMON_STATUSES[w] for w in reversed(words) if w in _COMMON_STATUSES), None)
        if role:
            out[v] = role
    out.update({"Opportunity": "Opportunity", "Customer": "Customer"})
    out.update({str(k): str(v) for k, v in (options.get("status_map") or {}).items()})
    return out


#: Columns only a field-history export has (so an Opportunity or Lead file is never taken for one).
_CHANGE_COLUMNS = ("Field", "Field / Event", "New Value", "Old Value")


def _sig(*groups: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(groups)


PRESET = Preset(
    name="salesforce",
    roles=(FileRole("field_history", N_("Opportunity field history"),
                    ("*opportunityfieldhistory*", "*opportunity_field_history*", "*opportunity field history*"),
                    required=False, help=N_("OpportunityFieldHistory: OpportunityId, Field, OldValue, NewValue, CreatedDate."),
                    signature=_sig(("Opportunity ID",), ("Field", "Changed Field", "Field / Event"), ("New Value",))),
           FileRole("lead_history", N_("Lead history"), ("*leadhistory*", "*lead_history*", "*lead history*"),
                    required=False, help=N_("LeadHistory: LeadId, Field (Status), OldValue, NewValue, CreatedDate."),
                    signature=_sig(("Lead ID",), ("Field", "Changed Field", "Field / Event"), ("New Value",))),
           FileRole("history", N_("Opportunity history"), ("*opportunityhistory*.csv", "*opportunity_history*.csv",
                                                       "*history*.csv", "*history*.xlsx"),
                    required=False, help=N_("OpportunityHistory: one row per stage / amount / close date change."),
                    signature=_sig(("Opportunity ID",), ("Stage", "Stage Name"), ("Created Date", "Last Modified Date"),
                                   ("Probability", "Probability (%)", "Forecast Category", "Expected Revenue")),
                    excludes=("Opportunity Name", "Name", "Account Name", "AccountId", *_CHANGE_COLUMNS)),
           FileRole("opportunities", N_("Opportunities"), ("opportunities*.csv", "opportunity.csv", "*opportunities*.csv",
                                                       "*opportunities*.xlsx"),
                    required=False, help=N_("Opportunity: one row per opportunity."),
                    signature=_sig(("Opportunity ID", "Id"), ("Stage", "Stage Name"), ("Close Date",),
                                   ("Opportunity Name", "Name", "Account Name", "AccountId", "IsWon", "IsClosed")),
                    excludes=("Lead ID", "Status", *_CHANGE_COLUMNS)),
           FileRole("leads", N_("Leads"), ("lead.csv", "leads*.csv", "lead_*.csv", "*leads*.csv"), required=False,
                    help=N_("Lead: Id, CreatedDate, Status, LeadSource, OwnerId, ConvertedDate, ConvertedOpportunityId, …"),
                    signature=_sig(("Lead ID", "Id"), ("Lead Status", "Status"), ("Created Date", "Create Date"),
                                   ("IsConverted", "Converted", "Converted Date", "Lead Source", "Company")),
                    excludes=("StageName", "Stage", *_CHANGE_COLUMNS)),
           FileRole("users", N_("Users (owner names)"), ("user.csv", "users*.csv"), required=False,
                    help=N_("User: Id, Name (to show owner names instead of ids)."),
                    signature=_sig(("Id", "User ID"), ("Name", "Full Name"), ("Username", "Email", "Alias", "IsActive")),
                    excludes=("StageName", "Stage", "Status", *_CHANGE_COLUMNS))),
    options=("date_format", "decimal", "stage_map", "status_map", "missing_amount"),
)


def build(src: dict, options: dict) -> Built:
    got = _read(src, options)
    names = _names(src)
    notes: list[Note] = []
    tables, table_names, columns = {}, {}, {}
    opportunities = pd.DataFrame(columns=["opportunity_id"])
    events = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"])
    has_deals = any(k in got for k in ("history", "field_history", "opportunities"))
    if has_deals:
        opportunities, events = _deals(got, names, options, notes)
    stages: dict[str, dict[str, str]] = {}
    if "leads" in got:
        leads, lead_events, link = _leads(got, names, opportunities, events, options, notes)
        opportunities = opportunities.assign(lead_id=opportunities["opportunity_id"].map(link))
        tables.update(leads=leads, lead_events=lead_events)
        table_names.update(leads=got["leads"]["file"], lead_events=got["leads"]["file"])
        stages["lead"] = _status_map(set(lead_events["stage"]), options)
        columns["leads"] = {"lead_id": got["leads"]["id"], "created_at": got["leads"]["created"]}
        columns["lead_events"] = {"lead_id": got["leads"]["id"], "stage": got["leads"]["status"]}
    else:
        notes.append(NO_LEADS_NOTE)
    if has_deals:
        tables.update(opportunities=opportunities, opportunity_events=events)
        deal_file = (got.get("opportunities") or {}).get("file") or next(
            got[k][0] for k in ("history", "field_history") if k in got)
        table_names.update(opportunities=deal_file, opportunity_events=next(
            (got[k][0] for k in ("history", "field_history") if k in got), deal_file))
        stage_map = dict(SALESFORCE_STAGES)
        stage_map.update({str(k): str(v) for k, v in (options.get("stage_map") or {}).items()})
        stages["opportunity"] = stage_map
        if "history" in got:
            _, _, h_id, h_stage, h_when, h_amount, h_close = got["history"]
            columns["opportunity_events"] = {"opportunity_id": h_id, "stage": h_stage, "entered_at": h_when,
                                             "amount": h_amount, "close_date": h_close}
        if "opportunities" in got:
            g = got["opportunities"]
            columns["opportunities"] = {"opportunity_id": g["id"], "created_at": g["created"], "close_date": g["close"],
                                        "amount": g["amount"], "account": g["account"], "owner": g["owner"]}
    return Built(tables=tables, names=table_names, stages=stages, notes=notes, columns=columns)
