"""What the data in the database cannot show, and why: the notes every page prints under its title.

Two sources: the notes a preset stored with its import (setting ``data_notes``: plain sentences of
what its source cannot support), and checks that look at the data itself (no lead events, no lost
deals, one creation date, owners known only for won leads, …). A finding a stored note already
states (its ``covers``) is not repeated. Pages read these through :func:`limitation_findings` /
:func:`notes_for_page`; nothing here imports the importer.
"""
from __future__ import annotations

import json

import duckdb

from . import store
from .errors import ConfigError
from .query import DIMENSIONS

NOTES_KEY = "data_notes"

def data_notes(con) -> list[dict]:
    """The stored notes of the preset behind the current data, or [] when they no longer apply.

    They apply while the preset's import is the latest committed one: sample generation or
    another import logs a newer run, and the notes are ignored from then on.
    """
    raw = store.get_setting(con, NOTES_KEY)
    if not raw:
        return []
    try:
        payload = json.loads(raw)
    except ValueError:
        return []
    row = con.execute("SELECT max(run_id) FROM import_runs WHERE status = 'committed'").fetchone()
    latest = row[0] if row else None
    if latest is None or payload.get("run_id") != latest:
        return []
    return [n for n in payload.get("notes", []) if isinstance(n, dict) and n.get("text")]


def clear_data_notes(con) -> None:
    con.execute("DELETE FROM settings WHERE key = ?", [NOTES_KEY])


#: Topics of the limitation notes (the Data page lists them under these headings, in this order).
TOPICS = {"leads": "Leads", "conversion": "Conversion", "time_in_stage": "Time in stage (leads)",
          "deal_time_in_stage": "Time in stage (deals)", "rejections": "Rejections",
          "forecast": "Pipeline & forecast", "scoring": "Scoring", "trends": "Trends",
          "filters": "Filters & breakdowns", "source": "About the source"}


def limitations(con) -> list[dict]:
    """What cannot be computed on this data, and why: [{"topic", "text", "code"}], source notes first.

    Topics: see :data:`TOPICS`. Found by looking at the data itself (no lead events, no lost deals,
    one creation date, owners known only for won leads, …) plus the notes stored by the preset that
    imported it; a finding a stored note already states (its ``covers``) is not repeated.
    """
    return _limitations(con)[0]


def _limitations(con) -> tuple[list[dict], set[str]]:
    """(the notes of :func:`limitations`, every finding's code — also those a stored note covers)."""
    out: list[dict] = []
    found: set[str] = set()
    stored = data_notes(con)
    covered = {c for n in stored for c in n.get("covers", [])}
    for n in stored:
        out.append({"topic": n.get("topic", "source"), "text": n["text"], "code": None})

    def add(code: str, topic: str, text: str) -> None:
        found.add(code)
        if code not in covered and not any(o["text"] == text for o in out):
            out.append({"topic": topic, "text": text, "code": code})

    one = lambda q, p=None: con.execute(q, p or []).fetchone()  # noqa: E731
    n_leads = one("SELECT count(*) FROM leads")[0]
    n_lev = one("SELECT count(*) FROM lead_events")[0]
    n_opp = one("SELECT count(*) FROM opportunities")[0]
    n_oev = one("SELECT count(*) FROM opportunity_events")[0]
    kinds = """(SELECT e.*, s.kind, s.position FROM {t} e JOIN stage_config s
                ON s.funnel = '{f}' AND s.stage = e.stage)"""
    if n_leads == 0:
        add("no_leads", "leads", "There are no leads: the lead funnel, conversion rates, lead time in stage, "
                                 "rejections and the scoring what-if cannot be computed.")
    else:
        if n_lev == 0:
            add("no_lead_events", "conversion", "No lead has any stage history: conversion beyond the first stage "
                                                "and time in stage cannot be computed.")
        else:
            first_pos = one("SELECT min(position) FROM stage_config WHERE funnel = 'lead' AND position IS NOT NULL "
                            "AND kind IN ('open', 'won')")[0] or 0
            # One scan of the events for every stage-kind question.
            moved, rejected, recycled, won = one(
                f"""SELECT count(*) FILTER (WHERE x.kind IN ('open', 'won') AND x.position > ?),
                           count(*) FILTER (WHERE x.kind = 'rejected'), count(*) FILTER (WHERE x.kind = 'recycled'),
                           count(*) FILTER (WHERE x.kind = 'won')
                    FROM {kinds.format(t="lead_events", f="lead")} x""", [first_pos])
            if moved == 0:
                add("no_progress", "conversion", "No lead has moved past the first stage: conversion rates cannot "
                                                 "be computed.")
            if rejected == 0 and recycled == 0:
                add("no_rejections", "rejections", "No rejection or recycling is recorded: rejection rates, reasons "
                                                   "and resubmission loops cannot be computed.")
            elif rejected == 0:
                add("no_rejections", "rejections", "No rejection is recorded: rejection rates and reasons cannot be "
                                                   "computed.")
            if won == 0:
                add("no_won_leads", "conversion", "No lead ever reached the won stage: conversion to customer is 0% "
                                                  "by definition.")
            timed = one("""SELECT count(*) FROM (SELECT 1 FROM lead_events e JOIN leads l USING (lead_id)
                                                 WHERE e.entered_at <> l.created_at LIMIT 1)""")[0]
            if timed == 0:
                add("no_durations", "time_in_stage", "Every stage event carries its lead's creation time: time in "
                                                     "stage and time to convert cannot be measured.")
        days = one("SELECT count(DISTINCT CAST(created_at AS DATE)), min(created_at) FROM leads")
        if days[0] == 1:
            add("one_date", "trends", f"All leads share one creation date ({days[1]:%d %b %Y}): there are no "
                                      "cohorts, trends or week-on-week changes.")
        cols = store.lead_attribute_columns(con)
        dims = [d for d in DIMENSIONS if d in cols]
        if dims:
            won_leads = ("(SELECT DISTINCT e.lead_id FROM lead_events e JOIN stage_config s ON s.funnel = 'lead' "
                         "AND s.stage = e.stage AND s.kind = 'won')")
            aggs = ", ".join(f"count(l.{store.quote_ident(d)}), "
                             f"count(l.{store.quote_ident(d)}) FILTER (WHERE w.lead_id IS NULL)" for d in dims)
            row = one(f"SELECT count(*) FILTER (WHERE w.lead_id IS NULL), {aggs} "
                      f"FROM leads l LEFT JOIN {won_leads} w USING (lead_id)")
            not_won = row[0]
            labels = {"channel": "Channel", "segment": "Segment", "region": "Region", "sdr": "SDR", "ae": "AE"}
            for i, d in enumerate(dims):
                filled, filled_not_won = row[1 + 2 * i], row[2 + 2 * i]
                if filled and filled_not_won == 0 and not_won > 0:
                    add(f"won_only_{d}", "filters", f"{labels[d]} is known only for won leads: conversion rates by "
                                                    f"{labels[d]} would be 100% and mean nothing.")
    if n_opp == 0:
        add("no_opportunities", "forecast", "There are no opportunities: the pipeline, the forecast, win rates and "
                                            "the backtest cannot be computed.")
    else:
        ok = kinds.format(t="opportunity_events", f="opportunity")
        won, lost = one(f"SELECT count(*) FILTER (WHERE kind = 'won'), count(*) FILTER (WHERE kind = 'lost') "
                        f"FROM {ok} x") if n_oev else (0, 0)
        if lost == 0:
            add("no_lost", "forecast", "No deal was ever lost: historical win rates would be 100% and mean nothing "
                                       "— use the configured probabilities.")
        if won == 0:
            add("no_won", "forecast", "No deal was ever won: historical win rates are 0% and the backtest has no "
                                      "actuals.")
        open_now = one("""WITH last AS (SELECT opportunity_id, arg_max(stage, (entered_at, event_seq)) AS stage
                                        FROM opportunity_events GROUP BY 1)
                          SELECT count(*) FROM opportunities o LEFT JOIN last USING (opportunity_id)
                          LEFT JOIN stage_config s ON s.funnel = 'opportunity' AND s.stage = last.stage
                          WHERE last.stage IS NULL OR s.kind = 'open'""")[0]
        if open_now == 0:
            add("no_open", "forecast", "Every deal is closed: there is no open pipeline to forecast.")
        linked = one("SELECT count(*) FROM opportunities o JOIN leads l USING (lead_id)")[0]
        if linked == 0 and n_leads > 0:
            add("unlinked", "filters", "No deal is linked to a lead: the channel, segment, region, SDR and AE "
                                       "filters leave no deal in the pipeline and forecast.")
        open_visits = one(f"SELECT count(*) FROM {ok} x WHERE x.kind = 'open'")[0] if n_oev else 0
        if open_visits == 0:
            add("no_deal_stages", "deal_time_in_stage", "No deal has an event in an open stage (each recorded event "
                                                        "closes a deal): time in the deal stages cannot be measured.")
    return out, found


def data_limitations(con, topic: str | tuple[str, ...] | list[str] | None = None) -> list[str]:
    """Plain sentences of what cannot be computed on the current data (optionally for one topic
    or several: ``topic=("leads", "conversion")``)."""
    topics = None if topic is None else {topic} if isinstance(topic, str) else set(topic)
    return [x["text"] for x in limitations(con) if topics is None or x["topic"] in topics]


# Which notes each page shows (a page lists only what bears on its own figures).
PAGE_TOPICS: dict[str, tuple[str, ...]] = {
    "overview": ("leads", "conversion", "trends", "rejections", "forecast"),
    "review_history": ("forecast",),
    "conversion": ("leads", "conversion", "trends", "filters"),
    "time_in_stage:lead": ("leads", "time_in_stage"),
    "time_in_stage:opportunity": ("deal_time_in_stage",),
    "rejections": ("leads", "rejections"),
    "forecast": ("forecast",),
    "scoring": ("leads", "scoring", "trends", "filters"),
}

# (page, finding code) → what the page says instead of its figures when the data rules them out.
_BLOCKING: dict[str, list[tuple[str, str, str]]] = {
    "conversion": [
        ("no_leads", "This data has no leads, so there is no lead funnel to measure.",
         "Import leads and their stage history on the Data page (the deals of this data are on the Forecast and "
         "Time in stage pages)."),
    ],
    "time_in_stage:lead": [
        ("no_leads", "This data has no leads, so lead time in stage cannot be measured.",
         "Switch to Opportunities above for the deals, or import leads with their stage history on the Data page."),
        ("no_lead_events", "No lead has a stage history, so lead time in stage cannot be measured.",
         "Import the leads' stage history (lead events) on the Data page."),
        ("no_durations", "Lead time in stage cannot be measured: every stage event sits on its lead's creation "
                         "time, so no stay in a stage has a length.",
         "Time in stage needs the date each lead entered each stage: import a stage history with dates on the "
         "Data page."),
    ],
    "time_in_stage:opportunity": [
        ("no_opportunities", "This data has no deals, so deal time in stage cannot be measured.",
         "Switch to Leads above, or import opportunities with their stage history on the Data page."),
        ("no_deal_stages", "No deal has a recorded stay in an open stage, so deal time in stage cannot be measured.",
         "Switch to Leads above, or import a deal stage history that records each stage change."),
    ],
    "scoring": [
        ("no_leads", "This data has no leads, so there is nothing to score.",
         "The scoring what-if judges rules on leads whose outcome is known: import leads with their attributes "
         "and stage history on the Data page."),
    ],
}


def limitation_findings(con) -> dict:
    """``{"notes": limitations(con), "codes": [every finding's code]}``: the one look at the data
    every page's notes come from (pages pass it to :func:`notes_for_page`).

    The look depends only on the data and the stage configuration, and takes 0.5 s at 1M leads
    and 1.7 s at 5M: it is kept in the settings table until the derived tables are rebuilt (on
    every import and stage edit, which set a new ``derived_stamp``).
    """
    stamp = store.get_setting(con, "derived_stamp")
    kept = store.get_setting(con, "limitation_findings")
    if stamp and kept:
        try:
            saved = json.loads(kept)
            if saved.get("stamp") == stamp:
                return saved["findings"]
        except (ValueError, KeyError, TypeError):
            pass
    notes, found = _limitations(con)
    findings = {"notes": notes, "codes": sorted(found)}
    if stamp:
        try:
            store.set_setting(con, "limitation_findings", json.dumps({"stamp": stamp, "findings": findings}))
        except duckdb.Error:  # a read-only database or a concurrent writer: the next call looks again
            pass
    return findings


def page_limitations(con, page: str, funnel: str | None = None) -> dict:
    """What one page must say about the current data: :func:`notes_for_page` of
    :func:`limitation_findings`."""
    return notes_for_page(limitation_findings(con), page, funnel)


def notes_for_page(findings: dict, page: str, funnel: str | None = None) -> dict:
    """What one page must say, from :func:`limitation_findings` (pure: no database).

    ``page``: a key of :data:`PAGE_TOPICS` without the funnel (``"time_in_stage"`` takes
    ``funnel="lead"`` or ``"opportunity"``). Returns ``{"notes": [sentences], "blocked": None or
    {"finding", "todo"}, "codes": [finding codes]}``: ``blocked`` is set when the data rules out
    every figure of the page (e.g. no leads on the Conversion page) — the page then says the
    finding and what to do instead of drawing empty charts; ``codes`` lets a page skip single
    sections (e.g. ``"one_date"``: no cohorts or trends).
    """
    key = f"{page}:{funnel or 'lead'}" if page == "time_in_stage" else page
    if key not in PAGE_TOPICS:
        raise ConfigError(f"No data notes are defined for the page '{page}'.",
                          hint=f"Use one of: {', '.join(sorted({k.split(':')[0] for k in PAGE_TOPICS}))}.")
    notes, found = findings["notes"], set(findings["codes"])
    blocked = None
    for code, finding, todo in _BLOCKING.get(key, []):
        if code in found:
            blocked = {"finding": finding, "todo": todo}
            break
    # A blocked page draws no breakdown, so notes about filters and breakdowns would only distract.
    topics = set(PAGE_TOPICS[key]) - ({"filters"} if blocked else set())
    texts = list(dict.fromkeys(x["text"] for x in notes if x["topic"] in topics))
    return {"notes": texts, "blocked": blocked, "codes": sorted(found)}


