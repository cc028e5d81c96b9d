"""What the data in the database cannot show, and why: the notes every page prints under its title.

Two sources: the notes a preset stored with its import (setting ``data_notes``: plain sentences of
what its source cannot support), and checks that look at the data itself (no lead events, no lost
deals, one creation date, owners known only for won leads, …). A finding a stored note already
states (its ``covers``) is not repeated. Pages read these through :func:`limitation_findings` /
:func:`notes_for_page`; nothing here imports the importer.

Languages (issue #14): each check's sentence is a message id, and each note of a check carries its
``message`` (id and parameters, JSON like the rest of the kept findings) beside its English
``text``; :func:`note_text` renders a note in a reader's language, and :func:`notes_for_page` /
:func:`data_limitations` take ``lang`` (English by default, so existing callers read what they
read before). A preset's stored note carries its message too (funnel.presets.importer): a sentence
of the presets' prose (funnel/presets/prose.toml, in the catalogs) as its own message id, a note a
preset's builder worded from the data as its message id and parameters (counts and dates as
:mod:`funnel.fmt` figures, data values as they are). A note stored by an older version, without
its message, is shown as its English text.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from . import i18n, query, store, stored_messages
from .errors import ConfigError
from .i18n import N_

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
#: (Marked for translation: a page shows ``_(TOPICS[topic])``.)
TOPICS = {"leads": N_("Leads"), "conversion": N_("Conversion"), "time_in_stage": N_("Time in stage (leads)"),
          "deal_time_in_stage": N_("Time in stage (deals)"), "rejections": N_("Rejections"),
          "forecast": N_("Pipeline & forecast"), "scoring": N_("Scoring"), "trends": N_("Trends"),
          "filters": N_("Filters & breakdowns"), "source": N_("About the source")}


@dataclass(frozen=True)
class Check:
    """One thing the data may be unable to show: when the probe's boolean column ``when`` is true,
    the page notes say ``sentence`` (a message id; its ``{name}`` parameters come from the probe's
    row, see :func:`_check_message`) under ``topic``."""

    code: str
    topic: str
    probe: str      # a query in funnel/sql/ returning one row of booleans (and values for sentences)
    when: str
    sentence: str


_DIMENSION_LABELS = {"channel": N_("Channel"), "segment": N_("Segment"), "region": N_("Region"), "sdr": N_("SDR"),
                     "ae": N_("AE")}

#: The checks, in the order their notes are listed (after the notes the importing preset stored).
CHECKS: tuple[Check, ...] = (
    Check("no_leads", "leads", "limits_leads", "no_leads",
          N_("There are no leads: the lead funnel, conversion rates, lead time in stage, rejections and the scoring "
             "what-if cannot be computed.")),
    Check("no_lead_events", "conversion", "limits_leads", "no_lead_events",
          N_("No lead has any stage history: conversion beyond the first stage and time in stage cannot be computed.")),
    Check("no_progress", "conversion", "limits_leads", "no_progress",
          N_("No lead has moved past the first stage: conversion rates cannot be computed.")),
    Check("no_rejections", "rejections", "limits_leads", "no_rejections_or_recycling",
          N_("No rejection or recycling is recorded: rejection rates, reasons and resubmission loops cannot be "
             "computed.")),
    Check("no_rejections", "rejections", "limits_leads", "no_rejections_but_recycling",
          N_("No rejection is recorded: rejection rates and reasons cannot be computed.")),
    Check("no_won_leads", "conversion", "limits_leads", "no_won_leads",
          N_("No lead ever reached the won stage: conversion to customer is 0% by definition.")),
    Check("no_durations", "time_in_stage", "limits_leads", "no_durations",
          N_("Every stage event carries its lead's creation time: time in stage and time to convert cannot be "
             "measured.")),
    Check("one_date", "trends", "limits_leads", "one_date",
          N_("All leads share one creation date ({first_created}): there are no cohorts, trends or "
             "week-on-week changes.")),
    *(Check(f"won_only_{d}", "filters", "limits_lead_owners", f"won_only_{d}",
            N_("{dimension} is known only for won leads: conversion rates by {dimension} would be 100% and mean "
               "nothing."))
      for d in _DIMENSION_LABELS),
    Check("no_opportunities", "forecast", "limits_deals", "no_opportunities",
          N_("There are no opportunities: the pipeline, the forecast, win rates and the backtest cannot be computed.")),
    Check("no_lost", "forecast", "limits_deals", "no_lost",
          N_("No deal was ever lost: historical win rates would be 100% and mean nothing — use the configured "
             "probabilities.")),
    Check("no_won", "forecast", "limits_deals", "no_won",
          N_("No deal was ever won: historical win rates are 0% and the backtest has no actuals.")),
    Check("no_open", "forecast", "limits_deals", "no_open", N_("Every deal is closed: there is no open pipeline to forecast.")),
    Check("unlinked", "filters", "limits_deals", "unlinked",
          N_("No deal is linked to a lead: the channel, segment, region, SDR and AE filters leave no deal in the "
             "pipeline and forecast.")),
    Check("no_deal_stages", "deal_time_in_stage", "limits_deals", "no_deal_stages",
          N_("No deal has an event in an open stage (each recorded event closes a deal): time in the deal stages "
             "cannot be measured.")),
)


def limitations(con) -> list[dict]:
    """What cannot be computed on this data, and why: [{"topic", "text", "code"}], source notes first.

    Topics: see :data:`TOPICS`. The stored notes of the preset that imported the data, then every
    :data:`CHECKS` entry whose probe finds it; a finding a stored note already states (its
    ``covers``) is not repeated.
    """
    return _limitations(con)[0]


def _limitations(con) -> tuple[list[dict], set[str]]:
    """(the notes of :func:`limitations`, every finding's code — also those a stored note covers)."""
    stored = data_notes(con)
    covered = {c for n in stored for c in n.get("covers", [])}
    out = [{"topic": n.get("topic", "source"), "text": n["text"], "code": None,
            **({"message": n["message"]} if n.get("message") else {})} for n in stored]
    rows: dict[str, dict] = {}
    found: set[str] = set()
    for check in CHECKS:
        if check.probe not in rows:   # each probe runs once, however many checks read it
            cur = con.execute(query.sql(check.probe))
            names = [d[0] for d in cur.description]
            rows[check.probe] = dict(zip(names, cur.fetchone()))
        row = rows[check.probe]
        if not row[check.when]:
            continue
        found.add(check.code)
        message = _check_message(check, row)
        text = _message(message).render("en")
        if check.code not in covered and not any(o["text"] == text for o in out):
            out.append({"topic": check.topic, "text": text, "code": check.code, "message": message})
    return out, found


def _check_message(check: Check, row: dict) -> dict:
    """A check's sentence with its parameters, as JSON (the findings are kept in the settings
    table): ``{"msgid", "params"}``, a date as ``{"date": iso}``, a dimension as ``{"msg": label}``."""
    params: dict = {}
    if check.code == "one_date":
        first = row["first_created"]
        params["first_created"] = {"date": first.isoformat() if hasattr(first, "isoformat") else str(first)}
    if check.code.startswith("won_only_"):
        params["dimension"] = {"msg": _DIMENSION_LABELS[check.code.removeprefix("won_only_")]}
    return {"msgid": check.sentence, "params": params}


def _message(message: dict) -> i18n.Message:
    return stored_messages.decode(message)


def note_text(note: dict, lang: str = "en") -> str:
    """One note of :func:`limitations` in ``lang``: a check's sentence or a preset's stored note
    rendered from its message (a note kept by an older version, without its message, as its text)."""
    message = note.get("message")
    if not message or lang == "en":
        return note["text"]
    try:
        return _message(message).render(lang)
    except (KeyError, TypeError, ValueError):   # a parameter a later release renamed: the note as stored
        return note["text"]


def data_limitations(con, topic: str | tuple[str, ...] | list[str] | None = None, lang: str = "en") -> list[str]:
    """Plain sentences of what cannot be computed on the current data (optionally for one topic
    or several: ``topic=("leads", "conversion")``), in ``lang``."""
    topics = None if topic is None else {topic} if isinstance(topic, str) else set(topic)
    return [note_text(x, lang) for x in limitations(con) if topics is None or x["topic"] in topics]


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
        ("no_leads", N_("This data has no leads, so there is no lead funnel to measure."),
         N_("Import leads and their stage history on the Data page (the deals of this data are on the Forecast and "
            "Time in stage pages).")),
    ],
    "time_in_stage:lead": [
        ("no_leads", N_("This data has no leads, so lead time in stage cannot be measured."),
         N_("Switch to Opportunities above for the deals, or import leads with their stage history on the Data page.")),
        ("no_lead_events", N_("No lead has a stage history, so lead time in stage cannot be measured."),
         N_("Import the leads' stage history (lead events) on the Data page.")),
        ("no_durations", N_("Lead time in stage cannot be measured: every stage event sits on its lead's creation "
                            "time, so no stay in a stage has a length."),
         N_("Time in stage needs the date each lead entered each stage: import a stage history with dates on the "
            "Data page.")),
    ],
    "time_in_stage:opportunity": [
        ("no_opportunities", N_("This data has no deals, so deal time in stage cannot be measured."),
         N_("Switch to Leads above, or import opportunities with their stage history on the Data page.")),
        ("no_deal_stages", N_("No deal has a recorded stay in an open stage, so deal time in stage cannot be measured."),
         N_("Switch to Leads above, or import a deal stage history that records each stage change.")),
    ],
    "scoring": [
        ("no_leads", N_("This data has no leads, so there is nothing to score."),
         N_("The scoring what-if judges rules on leads whose outcome is known: import leads with their attributes "
            "and stage history on the Data page.")),
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


def page_limitations(con, page: str, funnel: str | None = None, lang: str = "en") -> dict:
    """What one page must say about the current data: :func:`notes_for_page` of
    :func:`limitation_findings`."""
    return notes_for_page(limitation_findings(con), page, funnel, lang)


def notes_for_page(findings: dict, page: str, funnel: str | None = None, lang: str = "en") -> dict:
    """What one page must say, from :func:`limitation_findings` (pure: no database).

    ``page``: a key of :data:`PAGE_TOPICS` without the funnel (``"time_in_stage"`` takes
    ``funnel="lead"`` or ``"opportunity"``). Returns ``{"notes": [sentences], "blocked": None or
    {"finding", "todo"}, "codes": [finding codes]}``: ``blocked`` is set when the data rules out
    every figure of the page (e.g. no leads on the Conversion page) — the page then says the
    finding and what to do instead of drawing empty charts; ``codes`` lets a page skip single
    sections (e.g. ``"one_date"``: no cohorts or trends). The sentences are in ``lang``.
    """
    key = f"{page}:{funnel or 'lead'}" if page == "time_in_stage" else page
    if key not in PAGE_TOPICS:
        raise ConfigError(f"No data notes are defined for the page '{page}'.",
                          hint=f"Use one of: {', '.join(sorted({k.split(':')[0] for k in PAGE_TOPICS}))}.")
    notes, found = findings["notes"], set(findings["codes"])
    blocked = None
    for code, finding, todo in _BLOCKING.get(key, []):
        if code in found:
            blocked = {"finding": i18n.translate(lang, finding), "todo": i18n.translate(lang, todo)}
            break
    # A blocked page draws no breakdown, so notes about filters and breakdowns would only distract.
    topics = set(PAGE_TOPICS[key]) - ({"filters"} if blocked else set())
    texts = list(dict.fromkeys(note_text(x, lang) for x in notes if x["topic"] in topics))
    return {"notes": texts, "blocked": blocked, "codes": sorted(found)}


