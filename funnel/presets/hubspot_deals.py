"""HubSpot deals export: one wide row per deal, one "Date entered" column per pipeline stage.

The UI export labels them ``Date entered "Contract Sent (Sales Pipeline)"``; the API and warehouse
syncs name them ``hs_date_entered_<stage id>`` (older: ``date_entered_<stage id>``). Each filled-in
date becomes one stage event, in time order; a skipped stage has no event. A deal that entered
both the won and the lost stage is taken at the later of the two. With the contacts export beside
it (the hubspot_contacts builder reads it), contacts and their deals arrive in one import, each
deal linked to its first associated contact.
"""
from __future__ import annotations

import re

import pandas as pd

from .. import fmt
from ..dates import clean_amounts, order_from_option, parse_dates, to_time
from ..i18n import N_, list_of, msg, msg_n
from . import hubspot_contacts
from .base import Built, Cols, FileRole, Note, Preset, blank_to_none, problem, refuse
from .prose import preset_prose
from .quality import history_notes, row_stage_notes, without_amount

#: HubSpot's default sales pipeline (internal id, label) → default opportunity stages, by meaning.
HUBSPOT_DEAL_STAGES = {
    ("appointmentscheduled", "Appointment Scheduled"): "Qualify",
    ("qualifiedtobuy", "Qualified To Buy"): "Discovery",
    ("presentationscheduled", "Presentation Scheduled"): "Discovery",
    ("decisionmakerboughtin", "Decision Maker Bought-In"): "Proposal",
    ("contractsent", "Contract Sent"): "Negotiation",
    ("closedwon", "Closed Won"): "Closed Won",
    ("closedlost", "Closed Lost"): "Closed Lost",
}
STAGE_ROLES = {name: role for names, role in HUBSPOT_DEAL_STAGES.items() for name in names}
_ORDER = [label for (_, label) in HUBSPOT_DEAL_STAGES]
_LABEL = {sid: label for (sid, label) in HUBSPOT_DEAL_STAGES}

_UI_COLUMN = re.compile(r'^date entered\s*["“]?(?P<stage>.+?)(?:\s*\((?P<pipeline>[^()]*)\))?["”]?\s*$', re.I)
_API_COLUMN = re.compile(r"^(?:hs_v2_|hs_)?date_entered_(?P<stage>[0-9a-z_]+)$", re.I)


def stage_columns(headers) -> list[tuple[str, str, str | None]]:
    """(header, stage, pipeline or None) for every "date entered" column, in either spelling."""
    out = []
    for h in headers:
        s = str(h).replace("\ufeff", "").strip()
        if "current" in s.lower():   # "Date entered current stage": a summary, not a stage
            continue
        m = _API_COLUMN.match(s)
        if m:
            sid = m.group("stage")
            out.append((h, _LABEL.get(sid, sid), None))
            continue
        m = _UI_COLUMN.match(s)
        if m:
            out.append((h, m.group("stage").strip(), (m.group("pipeline") or "").strip() or None))
    return out


def _first_known(ids: pd.Series, known: set[str]) -> pd.Series:
    """The first id of a "1;2;3" association list that is a contact of this import."""
    def one(v: str) -> str | None:
        return next((x.strip() for x in re.split(r"[;,]", v) if x.strip() in known), None)
    return ids.map(one)


def _wide_to_events(dc: Cols, ids: pd.Series, cols, when, file: str) -> pd.DataFrame:
    """One event per filled-in date column, in time order; won and lost both: keep the later."""
    rows = pd.Series(range(1, len(ids) + 1), index=ids.index)
    parts = [pd.DataFrame({"opportunity_id": ids, "stage": stage, "entered_at": when(dc.get(h)), "source_file": file,
                           "source_row": rows, "source_column": h}) for h, stage, _ in cols]
    ev = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["opportunity_id", "stage", "entered_at", "source_file", "source_row", "source_column"])
    ev = ev[(ev["entered_at"] != "") & (ev["opportunity_id"] != "")]
    role = ev["stage"].map(STAGE_ROLES)
    closing = ev[role.isin(["Closed Won", "Closed Lost"])].assign(_t=to_time(ev["entered_at"]))
    # Reopened and closed the other way: only the latest closing stands.
    latest = closing.sort_values("_t", kind="stable").groupby("opportunity_id").tail(1).index
    dropped = closing.index.difference(latest)
    ev = ev.drop(index=dropped)
    ev = ev.assign(_t=to_time(ev["entered_at"])).sort_values(["opportunity_id", "_t"], kind="stable")
    return ev.drop(columns="_t").reset_index(drop=True), len(dropped)


PRESET = Preset(
    name="hubspot_deals",
    roles=(FileRole("deals", N_("Deals export"), ("*deals*.csv", "*deals*.xlsx", "*deal*.csv"),
                    help=N_("Deals → Export, with the \"Date entered …\" properties."),
                    signature=(("Deal Stage", "dealstage"), ("Close Date", "closedate"),
                               ("Pipeline", "Deal Name", "dealname", "Amount"))),
           FileRole("contacts", N_("Contacts export (optional)"), ("*contacts*.csv", "*contacts*.xlsx"), required=False,
                    help=N_("Contacts → Export, with the lifecycle stage date properties."),
                    signature=hubspot_contacts.PRESET.roles[0].signature)),
    options=("date_format", "decimal", "stage_map", "missing_amount"),
)


def build(src: dict, options: dict) -> Built:
    df_file, deals = src["deals"]
    dc = Cols(deals, df_file, "opportunities")
    d_id = dc.need("Record ID", "hs_object_id", "Deal ID", "dealId", "id")
    d_created = dc.need("Create Date", "createdate", "Created Date", "hs_createdate")
    d_close = dc.need("Close Date", "closedate")
    d_stage = dc.find("Deal Stage", "dealstage")
    d_pipeline = dc.find("Pipeline")
    d_amount = dc.find("Amount", "amount_in_home_currency", "Amount in company currency")
    d_owner = dc.find("Deal owner", "Deal Owner", "hubspot_owner_id", "Owner")
    d_company = dc.find("Associated Company", "Associated Companies", "Associated Company IDs",
                        "associatedcompanyids", "associatedcompanyid", "Company name", "company")
    d_contacts = dc.find("Associated Contact IDs", "associatedvids", "Associated Contact ID", "contact_id")
    cols = stage_columns(deals.columns)
    if dc.problems:
        refuse(dc.problems)
    if not cols and d_stage is None:
        refuse([problem(df_file, "opportunity_events", msg(
            'has neither "{entered}" stage columns nor a {stage} column, so no deal can be placed in a stage. Export '
            'the deals again with the "{entered} …" properties (or {property}).', entered="Date entered",
            stage="Deal Stage", property="hs_date_entered_<stage>"), column="Deal Stage")])
    values = pd.concat([dc.get(h) for h in [d_created, d_close] + [h for h, _, _ in cols]])
    order, formats = order_from_option(options.get("date_format"), pd.unique(values), what=msg("The dates in {file}", file=df_file))

    def when(s: pd.Series) -> pd.Series:
        return parse_dates(s, order, formats)

    ids = dc.get(d_id)
    created = when(dc.get(d_created))
    notes: list[Note] = []
    built_contacts = hubspot_contacts.build({"contacts": src["contacts"]}, options) if "contacts" in src else None
    known = set(built_contacts.tables["leads"]["lead_id"]) if built_contacts else set()
    opportunities = pd.DataFrame({
        "opportunity_id": ids, "lead_id": _first_known(dc.get(d_contacts), known) if known else None,
        "account": blank_to_none(dc.get(d_company)), "created_at": created,
        "amount": clean_amounts(dc.get(d_amount), options.get("decimal", ".")), "close_date": when(dc.get(d_close)),
        "owner": blank_to_none(dc.get(d_owner)), "product": None, "source_file": df_file,
        "source_row": range(1, len(ids) + 1)})
    events, reopened = _wide_to_events(dc, ids, cols, when, df_file)
    current = dc.get(d_stage).map(lambda v: _LABEL.get(v, v))
    # A deal without any "date entered" value sits in its current stage since it was created.
    bare = ~ids.isin(set(events["opportunity_id"])) & (current != "")
    if int(bare.sum()):
        events = pd.concat([events, pd.DataFrame({
            "opportunity_id": ids[bare], "stage": current[bare], "entered_at": created[bare], "source_file": df_file,
            "source_row": pd.Series(range(1, len(ids) + 1), index=ids.index)[bare], "source_column": d_created})],
            ignore_index=True)
        n_bare = int(bare.sum())
        notes.append(Note("deal_time_in_stage", msg_n(
            '{n} deal has no "{column}" value: each sits in its current stage since it was created.',
            '{n} deals have no "{column}" value: each sits in its current stage since it was created.',
            n_bare, n=fmt.Count(n_bare), column="Date entered")))
    if reopened:
        notes.append(Note("forecast", msg_n(
            "{n} deal entered both the won and the lost stage: each is taken at the later of the two.",
            "{n} deals entered both the won and the lost stage: each is taken at the later of the two.",
            reopened, n=fmt.Count(reopened))))
    timed = events.assign(_t=to_time(events["entered_at"])).sort_values("_t", kind="stable")
    row_stage_notes(ids, current, timed, notes)
    pipelines = {p for _, _, p in cols if p} | set(dc.get(d_pipeline)[dc.get(d_pipeline) != ""])
    if len(pipelines) > 1:
        # more than one pipeline, so always the plural; the names are the data's own
        notes.append(Note("forecast", msg(
            "The deals come from {n} pipelines ({pipelines}): their stages are mapped onto one funnel by name.",
            n=fmt.Count(len(pipelines)), pipelines=list_of(sorted(pipelines)))))
    opportunities, events = without_amount(opportunities, events, options, notes)
    history_notes(opportunities, events, _ORDER, notes)
    notes.append(Note("forecast", msg("HubSpot's deal stage probabilities are not imported: the probabilities on the "
                                      "Stage settings page apply.")))
    stage_map = {s: STAGE_ROLES.get(s, s) for s in set(events["stage"])}
    stage_map.update({str(k): str(v) for k, v in (options.get("stage_map") or {}).items()})
    tables = {"opportunities": opportunities, "opportunity_events": events}
    names = {"opportunities": df_file, "opportunity_events": df_file}
    stages = {"opportunity": stage_map}
    columns = {"opportunities": {"opportunity_id": d_id, "created_at": d_created, "close_date": d_close,
                                 "amount": d_amount, "owner": d_owner, "account": d_company},
               "opportunity_events": {"opportunity_id": d_id}}
    if built_contacts is not None:
        tables.update(built_contacts.tables)
        names.update(built_contacts.names)
        stages.update(built_contacts.stages)
        columns.update(built_contacts.columns)
        notes = [*(n for n in preset_prose("hubspot_contacts")["notes"] if n.topic != "forecast"),
                 *built_contacts.notes, *notes]
        linked = int(opportunities["lead_id"].notna().sum())
        notes.append(Note("filters", msg(
            "{linked} of {total} deals are linked to a contact of the contacts export (their first associated "
            "contact), so the lead filters reach them; the others have no lead.",
            linked=fmt.Count(linked), total=fmt.Count(len(opportunities)))))
    else:
        notes.append(Note("leads", msg("A deals export has no contacts: the lead funnel, conversion, rejections and "
                                       "the scoring what-if need the contacts export imported with it."),
                          ("no_leads",)))
    return Built(tables=tables, names=names, stages=stages, notes=notes, columns=columns)
