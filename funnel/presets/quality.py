"""Data-quality notes every CRM's deal history needs: said, counted, never a silent drop.

Real exports have deals without an amount, stage histories dated before the deal was created,
stages moved backwards or re-entered, and a current stage on the deal row that disagrees with the
latest history row. These helpers count each and add a note; what they change is only what the
note says (deals without an amount: the named choice ``missing_amount``).
"""
from __future__ import annotations

import pandas as pd

from .. import fmt
from ..dates import to_time
from ..i18n import msg, msg_n
from .base import Note, problem, refuse


def row_stage_notes(ids: pd.Series, row_stage: pd.Series, timed_events: pd.DataFrame, notes: list[Note]) -> None:
    """Count deals whose row shows another stage than their latest history event (by time): the
    history wins (its events are what the import stores)."""
    latest = timed_events.groupby("opportunity_id")["stage"].last()
    differ = int(((ids.map(latest).fillna(row_stage) != row_stage) & (row_stage != "")).sum())
    if differ:
        notes.append(Note("source", msg_n(
            "{n} deal shows another stage on its row than in its latest history entry; the history wins (the row's "
            "stage may have changed after the history was exported, or the reverse).",
            "{n} deals show another stage on its row than in its latest history entry; the history wins (the row's "
            "stage may have changed after the history was exported, or the reverse).", differ, n=fmt.Count(differ))))


def without_amount(opportunities, events, options: dict, notes: list[Note]):
    """Deals with no amount anywhere: the named choice ``missing_amount`` — "zero" (default) counts
    them with 0, "skip" leaves them (and their events) out. Either way the note says how many."""
    none = opportunities["amount"].fillna("") == ""
    n = int(none.sum())
    choice = str(options.get("missing_amount") or "zero")
    if choice not in ("zero", "skip"):
        refuse([problem("options", "", msg('missing_amount is "{choice}"; use "zero" (count deals without an amount '
                                           'as 0) or "skip" (leave them out).', choice=choice), code="bad_option")])
    if not n:
        return opportunities, events
    if choice == "skip":
        gone = set(opportunities.loc[none, "opportunity_id"])
        notes.append(Note("forecast", msg_n(
            "{n} deal has no amount anywhere in the export and was left out (the choice 'skip deals without an "
            "amount').",
            "{n} deals have no amount anywhere in the export and were left out (the choice 'skip deals without an "
            "amount').", n, n=fmt.Count(n))))
        return opportunities[~none], events[~events["opportunity_id"].isin(gone)]
    notes.append(Note("forecast", msg_n(
        "{n} deal has no amount anywhere in the export and counts as 0 (the choice 'count deals without an amount as "
        "0'): the pipeline value understates them.",
        "{n} deals have no amount anywhere in the export and count as 0 (the choice 'count deals without an amount "
        "as 0'): the pipeline value understates them.", n, n=fmt.Count(n))))
    return opportunities.assign(amount=opportunities["amount"].where(~none, "0")), events


def history_notes(opportunities, events, stage_order: list[str], notes: list[Note]) -> None:
    """Data-quality notes on a stage history: rows before the deal's creation, moves backwards."""
    if events.empty:
        return
    t = to_time(events["entered_at"])
    created = to_time(events["opportunity_id"].map(dict(zip(opportunities["opportunity_id"],
                                                             opportunities["created_at"]))).fillna(""))
    early = int((t < created).sum())
    if early:
        notes.append(Note("source", msg_n(
            "{n} history row is dated before its deal was created; kept as in the source (the deal's time in its "
            "first stage is then measured from that row).",
            "{n} history rows are dated before its deal was created; kept as in the source (the deal's time in its "
            "first stage is then measured from that row).", early, n=fmt.Count(early))))
    rank = events["stage"].map({s: i for i, s in enumerate(stage_order)})
    ordered = events.assign(_t=t, _r=rank).sort_values(["opportunity_id", "_t"], kind="stable")
    back = ordered.groupby("opportunity_id")["_r"].apply(lambda r: bool((r.dropna().diff() < 0).any()))
    # Re-entered: a stage seen again after another one (rows in the same stage are amount or
    # close-date changes, not a new visit).
    again = ordered.groupby("opportunity_id")["stage"].apply(lambda s: s[s != s.shift()].duplicated().any())
    n_back, n_again = int(back.sum()), int(again.sum())
    if n_back or n_again:
        # two counts, each with its own singular or plural
        notes.append(Note("deal_time_in_stage", msg(
            "{moved_back} back to an earlier stage and {reentered} a stage: each stay counts as its own visit, and "
            "a deal counts as having reached its furthest stage.",
            moved_back=msg_n("{n} deal moved", "{n} deals moved", n_back, n=fmt.Count(n_back)),
            reentered=msg_n("{n} deal re-entered", "{n} deals re-entered", n_again, n=fmt.Count(n_again)))))
