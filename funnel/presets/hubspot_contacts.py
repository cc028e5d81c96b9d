"""HubSpot contacts export: one wide row per contact, one "Became a … Date" column per lifecycle stage."""
from __future__ import annotations

import pandas as pd

from .. import fmt
from ..dates import order_from_option, parse_dates
from ..i18n import N_, msg, msg_n
from ..mapping import normalise_name
from .base import (PERSONAL_COLUMNS, Built, Cols, FileRole, Note, Preset, add_lead_attributes, blank_to_none,
                   problem, refuse)

HUBSPOT_STAGE_COLUMNS = (
    ("Lead", ("Became a Lead Date", "hs_lifecyclestage_lead_date")),
    ("MQL", ("Became a Marketing Qualified Lead Date", "hs_lifecyclestage_marketingqualifiedlead_date")),
    ("SQL", ("Became a Sales Qualified Lead Date", "hs_lifecyclestage_salesqualifiedlead_date")),
    ("Opportunity", ("Became an Opportunity Date", "hs_lifecyclestage_opportunity_date")),
    ("Customer", ("Became a Customer Date", "hs_lifecyclestage_customer_date")),
)
HUBSPOT_IGNORED_STAGES = ("Became a Subscriber Date", "Became an Evangelist Date", "Became a Other Lifecycle Date",
                          "Became an Other Lifecycle Date", "hs_lifecyclestage_subscriber_date",
                          "hs_lifecyclestage_evangelist_date", "hs_lifecyclestage_other_date")


PRESET = Preset(
    name="hubspot_contacts",
    roles=(FileRole("contacts", N_("Contacts export"), ("*contacts*.csv", "*contacts*.xlsx", "hubspot*.csv",
                                                    "hubspot*.xlsx"),
                    help=N_("Contacts → Export, with the lifecycle stage date properties."),
                    signature=(("Record ID", "Contact ID", "hs_object_id", "vid"), ("Create Date", "createdate"),
                               tuple(n for _, names in HUBSPOT_STAGE_COLUMNS for n in names))),),
    options=("date_format",),
)


def build(src: dict, options: dict) -> Built:
    f, df = src["contacts"]
    c = Cols(df, f, "leads")
    c_id = c.need("Record ID", "record_id", "contact_id", "record_id_contact", "hs_object_id", "vid", "contact_vid")
    c_created = c.need("Create Date", "create_date", "created_date", "createdate", "created_at")
    if c.problems:
        refuse(c.problems)
    stage_cols = [(role, c.find(*names)) for role, names in HUBSPOT_STAGE_COLUMNS]
    stage_cols = [(role, h) for role, h in stage_cols if h is not None]
    if not stage_cols:
        refuse([problem(f, "lead_events", msg(
            "has none of HubSpot's lifecycle date columns ({columns}, …), so no stage history can be built. Add "
            "them to the export ({menu} → include all properties).",
            columns='"Became a Lead Date", "Became a Marketing Qualified Lead Date"', menu="Contacts → Export"),
            column="Became a Lead Date")])
    ignored = [h for h in (c.find(n) for n in HUBSPOT_IGNORED_STAGES) if h]
    c_source = c.find("Original Source", "original_source", "original_source_type", "hs_analytics_source",
                      "lead_source")
    c_owner = c.find("Contact owner", "contact_owner", "hubspot_owner", "hubspot_owner_id", "owner")
    for n in ("Lifecycle Stage", "Lead Status", "HubSpot Score"):
        c.find(n)  # kept as attributes under their own names

    date_cols = [c_created] + [h for _, h in stage_cols]
    values = pd.unique(pd.concat([df[h].astype(str).str.strip() for h in date_cols]))
    order, formats = order_from_option(options.get("date_format"), values, what=msg("The dates in {file}", file=f))

    lead_id = c.get(c_id)
    leads = pd.DataFrame({"lead_id": lead_id, "created_at": parse_dates(c.get(c_created), order, formats),
                          "channel": blank_to_none(c.get(c_source)), "sdr": blank_to_none(c.get(c_owner))})
    used = set(c.used) | set(ignored) | {h for _, h in stage_cols}
    personal = [h for h in df.columns if normalise_name(h) in PERSONAL_COLUMNS]
    rest = [h for h in df.columns if h not in used and h not in personal
            and normalise_name(h) not in ("lifecycle_stage", "lead_status", "hubspot_score")]
    guess = add_lead_attributes(leads, df, rest, first=[h for h in df.columns if normalise_name(h) in
                                                       ("lifecycle_stage", "lead_status", "hubspot_score")])

    rows = pd.Series(range(1, len(df) + 1), index=df.index)
    parts = []
    for k, (role, h) in enumerate(stage_cols):
        when = parse_dates(c.get(h), order, formats)
        sel = when != ""
        parts.append(pd.DataFrame({"lead_id": lead_id[sel], "stage": role, "entered_at": when[sel], "actor": None,
                                   "reason": None, "source_file": f, "source_row": rows[sel], "source_column": h,
                                   "_k": k}))
    ev = pd.concat(parts).sort_values(["source_row", "_k"], kind="stable").drop(columns="_k").reset_index(drop=True)

    notes: list[Note] = []
    stamps = pd.to_datetime(ev["entered_at"], errors="coerce")
    ev_sorted = ev.assign(_t=stamps, _k=ev["stage"].map({r: i for i, (r, _) in enumerate(HUBSPOT_STAGE_COLUMNS)}))
    out_of_order = ev_sorted.groupby("lead_id", sort=False)["_t"].apply(
        lambda t: bool((t.diff().dropna() < pd.Timedelta(0)).any())).sum()
    if out_of_order:
        n = int(out_of_order)
        notes.append(Note("conversion", msg_n(
            "{n} contact has lifecycle dates out of stage order (e.g. became a customer before becoming an MQL); "
            "they are kept as written and ordered by time.",
            "{n} contacts have lifecycle dates out of stage order (e.g. became a customer before becoming an MQL); "
            "they are kept as written and ordered by time.", n, n=fmt.Count(n))))
    blank = int((lead_id != "").sum() - ev["lead_id"].nunique())
    if blank > 0:
        notes.append(Note("conversion", msg_n(
            "{n} contact has no lifecycle date at all: they sit in the first stage since their create date.",
            "{n} contacts have no lifecycle date at all: they sit in the first stage since their create date.",
            blank, n=fmt.Count(blank))))
    if ignored:
        notes.append(Note("source", msg("Subscriber, evangelist and 'other' lifecycle dates have no stage in the "
                                        "funnel and are not imported.")))
    if personal:
        notes.append(Note("source", msg("Names, e-mail addresses and phone numbers in the export are not imported.")))
    return Built(tables={"leads": leads, "lead_events": ev}, names={"leads": f, "lead_events": f},
                 stages={"lead": {r: r for r, _ in HUBSPOT_STAGE_COLUMNS}}, notes=notes,
                 columns={"leads": {"lead_id": c_id, "created_at": c_created, "channel": c_source, "sdr": c_owner,
                                    **guess},
                          "lead_events": {"lead_id": c_id}})
