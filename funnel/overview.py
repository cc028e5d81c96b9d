"""The weekly review: KPI series by week, headline forecast with ranges, highlights, snapshots.

Weeks here are rolling 7-day windows ending at the end of the as-of day, so "this week" is the
seven days up to D and "last week" the seven before — the way a Monday review reads them.
Dimension filters apply; the cohort date range does not (activity is counted by when it happened).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import pandas as pd

from . import access, audit, conversion, fmt, forecast, i18n, rejections, review_targets, sqlcompose, store
from .i18n import N_, msg, msg_n
from .labels import readable
from .query import Scope, add_months, dimension_condition, month_start, opportunity_scope, resolve, run


@dataclass(frozen=True)
class Tile:
    """A KPI tile of the weekly review: the column of :func:`weekly_kpis` it shows, its label and
    help (messages, translated where shown), how its value is formatted (count / pct / money) and
    whether a rise is good (``normal``) or bad (``inverse``)."""
    column: str
    label: str
    help: str
    kind: str = "count"
    direction: str = "normal"


#: The Overview's tiles and the export's, in order: one list, so the page and the file agree.
TILES = (
    Tile("new_leads", N_("New leads"), N_("Leads created in the 7 days to the as-of date.")),
    Tile("mqls", N_("MQLs"), N_("Hand-offs to sales: entries into MQL in the week (a resubmitted lead counts again).")),
    Tile("sqls", N_("SQLs"), N_("Leads that first reached SQL (or a later stage) in the week.")),
    Tile("rejection_rate", N_("Rejection rate"),
         N_("Rejections this week ÷ hand-offs this week: what happened in these 7 days, whatever the lead's age. The "
            "Rejections page follows instead the cohort's leads through every hand-off."), "pct", "inverse"),
    Tile("pipeline_created", N_("Pipeline created"), N_("Amount of the deals created in the week."), "money"),
)


@lru_cache(maxsize=64)
def _overview_sql(name: str, filter_params: tuple = ()) -> str:
    """The text of a named query of the weekly review for one scope shape: the dimension filters
    (no cohort dates: activity counts by when it happened) set on the leads it counts
    (leads_in_scope) and on the deals (opportunity_scope, filtered through their lead)."""
    q = sqlcompose.query(name)
    if filter_params:
        ctes = sqlcompose.ctes(q)
        if "leads_in_scope" in ctes:
            ctes["leads_in_scope"].where(dimension_condition(filter_params, "l"), copy=False)
        if "opportunity_scope" in ctes:
            q = sqlcompose.with_cte(q, "opportunity_scope", opportunity_scope(filter_params))
    return sqlcompose.to_sql(q, name)


def _has_opportunities(con) -> bool:
    """Whether the database holds any opportunity: without one the review has no forecast to show."""
    return bool(con.execute(_overview_sql("opportunity_count")).fetchall()[0][0])


def weekly_kpis(con, scope: Scope = Scope(), weeks: int = 12) -> pd.DataFrame:
    """One row per week (oldest first), week_end = the last day of the window.

    Columns: week, week_end, new_leads, mqls (hand-off events), sqls (leads first reaching SQL or
    later), rejected, rejection_rate, pipeline_created (amount of deals created), won_amount,
    won_deals (first won event in the week; amount as on the deal row).
    """
    r = resolve(con, scope)
    store.ensure_derived(con)
    sql_pos = next((s.position for s in store.funnel_stages(con, "lead") if s.stage == "SQL"), None)
    df = run(con, _overview_sql("weekly_kpis", r.filter_params),
             {**r.params, "weeks": int(weeks), "handoff": store.handoff_stage(con), "sql_pos": sql_pos})
    df["rejection_rate"] = df["rejected"] / df["mqls"].where(df["mqls"] > 0)
    df["week_end"] = [r.as_of - timedelta(days=7 * int(k)) for k in df["k"]]
    df["week"] = [f"{(e - timedelta(days=6)):%d %b}–{e:%d %b}" for e in df["week_end"]]
    return df.drop(columns="k").reset_index(drop=True)


@dataclass(frozen=True)
class Range:
    weighted: float
    p10: float
    p50: float
    p90: float
    open_deals: int


def headline_forecast(con, scope: Scope = Scope(), method: str = "configured") -> dict:
    """Weighted forecast with P10–P90 for D's month and D's quarter (overdue deals count in D's
    month), plus won so far in each. Keys: month, quarter → Range; won_month, won_quarter.

    The ranges come from :func:`forecast.forecast_headline`, so they equal the Forecast page's.
    """
    r = resolve(con, scope)
    h = forecast.forecast_headline(con, scope, method)
    out: dict = {"as_of": r.as_of.isoformat(), "method": method,
                 "month_label": h["month_label"], "quarter_label": h["quarter_label"],
                 # the periods themselves, for labels in the reader's language (fmt.month / fmt.quarter)
                 "month_start": month_start(r.as_of), "quarter_start": forecast.quarter_start(r.as_of)}
    for name in ("month", "quarter"):
        d = h[name]
        out[name] = Range(d["weighted"], d["p10"], d["p50"], d["p90"], d["open_deals"])
    m0 = month_start(r.as_of)
    q0 = forecast.quarter_start(r.as_of)
    out["won_month"], out["won_quarter"] = won_between(con, scope, m0, r.as_of), won_between(con, scope, q0, r.as_of)
    return out


def won_between(con, scope: Scope, start: date, end: date) -> float:
    """Amount of deals whose first won event falls in [start, end] (whole days)."""
    r = resolve(con, scope)
    df = run(con, _overview_sql("won_between", r.filter_params), {**r.params, "start": datetime.combine(start, datetime.min.time()),
                      "end_excl": datetime.combine(end + timedelta(days=1), datetime.min.time())})
    return float(df["won"].iloc[0])


def highlights(con, scope: Scope = Scope(), kpis: pd.DataFrame | None = None, min_leads: int = 30) -> list[dict]:
    """Three to five plain-language findings, each with the page that explains it.

    Each item: message (an :class:`funnel.i18n.Message`, rendered in the reader's language by the
    page), text (the same sentence in English, for the CLI and other callers), page (pages/*.py
    path), kind (change / risk / best / worst / rejections).
    """
    resolve(con, scope)
    cur = fmt.currency(con)
    out: list[dict] = []

    def add(kind: str, page: str, message: i18n.Message) -> None:
        out.append({"kind": kind, "page": page, "message": message, "text": message.render("en")})

    kpis = kpis if kpis is not None else weekly_kpis(con, scope, weeks=2)
    if len(kpis) >= 2:
        last, prev = kpis.iloc[-1], kpis.iloc[-2]
        labels = {"new_leads": msg("New leads"), "mqls": msg("MQLs"), "sqls": msg("SQLs"),
                  "pipeline_created": msg("Pipeline created")}
        best = None
        for col, label in labels.items():
            a, b = float(last[col]), float(prev[col])
            if b >= 5 or (col == "pipeline_created" and b > 0):
                change = (a - b) / b
                if best is None or abs(change) > abs(best[2]):
                    best = (col, label, change, a, b)
        if best and abs(best[2]) >= 0.01:
            col, label, change, a, b = best
            figure = (lambda v: fmt.Money(v, cur)) if col == "pipeline_created" else (lambda v: fmt.Count(int(v)))
            params = {"label": label, "change": fmt.Pct(abs(change)), "now": figure(a), "before": figure(b)}
            add("change", "pages/conversion.py" if col != "pipeline_created" else "pages/forecast.py",
                msg("{label} rose {change} week over week ({now} vs {before}) — the largest change this week.", **params)
                if change > 0 else
                msg("{label} fell {change} week over week ({now} vs {before}) — the largest change this week.", **params))
    if _has_opportunities(con):
        overdue = forecast.overdue_pipeline(con, scope)
        if overdue["deals"]:
            add("risk", "pages/forecast.py", msg_n(
                "{amount} of open pipeline is overdue ({deals} deal past its close date) — the biggest risk to this "
                "month's number.",
                "{amount} of open pipeline is overdue ({deals} deals past their close date) — the biggest risk to "
                "this month's number.", overdue["deals"],
                amount=fmt.Money(overdue["amount"], cur), deals=fmt.Count(overdue["deals"])))
    by_channel = conversion.stage_conversion(con, scope, breakdown="channel") if "channel" in store.lead_attribute_columns(con) else None
    if by_channel is not None and len(by_channel):
        target = "SQL" if "SQL" in set(by_channel["stage"]) else by_channel["stage"].iloc[-1]
        t = by_channel[(by_channel["stage"] == target) & (by_channel["leads"] >= min_leads)]
        if len(t) >= 2:
            t = t.sort_values("overall_rate")
            lo, hi = t.iloc[0], t.iloc[-1]
            add("best", "pages/conversion.py",
                msg("Best channel: {channel} — {share} of its leads reach {stage} ({reached} of {leads}).",
                    channel=readable(hi["grp"]), share=fmt.Pct(hi["overall_rate"], 1), stage=target,
                    reached=fmt.Count(int(hi["reached"])), leads=fmt.Count(int(hi["leads"]))))
            add("worst", "pages/conversion.py",
                msg("Worst channel: {channel} — {share} reach {stage} ({reached} of {leads}).",
                    channel=readable(lo["grp"]), share=fmt.Pct(lo["overall_rate"], 1), stage=target,
                    reached=fmt.Count(int(lo["reached"])), leads=fmt.Count(int(lo["leads"]))))
    # the AE the Rejections page names too: same stand-out rule (≥ 1.3× the team rate, not likely chance)
    by_ae = rejections.rejection_rates(con, scope, by="ae") if "ae" in store.lead_attribute_columns(con) else None
    if by_ae is not None and by_ae["stands_out"].any():
        tot_h, tot_r = by_ae["handoffs"].sum(), by_ae["rejected"].sum()
        team = tot_r / tot_h
        top = by_ae[by_ae["stands_out"]].iloc[0]
        add("rejections", "pages/rejections.py",
            # Named as what it is: the cohort's rate (the Rejections page's), not this week's tile.
            msg("AE {ae}'s leads are rejected {ratio} the team rate ({rate} vs {team} of the cohort's hand-offs).",
                ae=readable(top["grp"]), ratio=fmt.Times(top["rejection_rate"] / team),
                rate=fmt.Pct(top["rejection_rate"]), team=fmt.Pct(team)))
    return out[:5]


# ---------------------------------------------------------------------------------------------
# Snapshots of the weekly review


def review_figures(con, scope: Scope = Scope(), method: str = "configured") -> dict:
    """The headline figures a snapshot stores (JSON-safe)."""
    k = weekly_kpis(con, scope, weeks=1)
    hf = headline_forecast(con, scope, method) if _has_opportunities(con) else None
    wf = forecast.by_period(forecast.weighted_forecast(con, scope, method)) if hf else pd.DataFrame()
    row = k.iloc[-1] if len(k) else None
    figs = {
        "method": method,
        "new_leads": int(row["new_leads"]) if row is not None else None,
        "mqls": int(row["mqls"]) if row is not None else None,
        "sqls": int(row["sqls"]) if row is not None else None,
        "rejection_rate": None if row is None or pd.isna(row["rejection_rate"]) else float(row["rejection_rate"]),
        "pipeline_created": float(row["pipeline_created"]) if row is not None else None,
    }
    if hf:
        figs.update({
            "forecast_month": hf["month"].weighted, "forecast_month_p10": hf["month"].p10, "forecast_month_p90": hf["month"].p90,
            "forecast_quarter": hf["quarter"].weighted, "forecast_quarter_p10": hf["quarter"].p10,
            "forecast_quarter_p90": hf["quarter"].p90, "won_month": hf["won_month"], "won_quarter": hf["won_quarter"],
            "forecast_by_month": {pd.Timestamp(p).strftime("%Y-%m"): float(w) for p, w in zip(wf["period"], wf["weighted_amount"])},
        })
    # Everyone's month and quarter targets (§7), so Review history plots attainment and the chance
    # of hitting week by week and the next review says what moved.
    figs["targets"] = review_targets.snapshot_figures(con, scope, method) if hf else {}
    return figs


def save_snapshot(con, scope: Scope, figures: dict, *, saved_by: str | None = None,
                  actor: access.Actor | None = None) -> str:
    """Store this review (as-of, filters, headline figures). One snapshot per as-of date and
    filter set: saving again replaces it. Editors and admins only; audited as ``review_saved``."""
    who = access.require(actor, "edit")
    r = resolve(con, scope)
    filters = {"from": r.date_from.isoformat(), "to": r.date_to.isoformat(), "filters": {k: list(v) for k, v in r.filters}}
    sid = f"{r.as_of.isoformat()}|{json.dumps(filters['filters'], sort_keys=True)}"
    with store.transaction(con):
        con.execute("DELETE FROM review_snapshots WHERE snapshot_id = ?", [sid])
        con.execute("INSERT INTO review_snapshots VALUES (?, ?, ?, ?, ?, ?)",
                    [sid, datetime.now().replace(microsecond=0), saved_by or who.label, r.as_of,
                     json.dumps(filters), json.dumps(figures)])
        audit.record(con, who, "review_saved", {"snapshot_id": sid, **filters}, None, None,
                     summary=msg("Saved the weekly review of {day}", day=r.as_of.isoformat()))
    return sid


def snapshots(con) -> pd.DataFrame:
    """The saved weekly reviews, oldest as-of date first (funnel/sql/saved_reviews.sql)."""
    return run(con, _overview_sql("saved_reviews"))


def previous_snapshot(con, scope: Scope) -> dict | None:
    """The latest snapshot saved for an earlier as-of date with the same dimension filters."""
    r = resolve(con, scope)
    want = json.dumps({k: list(v) for k, v in r.filters}, sort_keys=True)
    df = snapshots(con)
    best = None
    for row in df.itertuples():
        f = json.loads(row.filters_json)
        if json.dumps(f.get("filters", {}), sort_keys=True) != want:
            continue
        if pd.Timestamp(row.as_of).date() < r.as_of:
            best = {"as_of": pd.Timestamp(row.as_of).date(), "saved_by": row.saved_by,
                    "figures": json.loads(row.figures_json)}
    return best


def compare_with_snapshot(previous: dict | None, as_of: date, method: str | None = None) -> dict:
    """What a saved review forecast for ``as_of``'s month and quarter, to show beside today's.

    A snapshot from the same month gives its month forecast; one from an earlier month gives what
    it forecast for this month in its month-by-month figures (None if it had none). The quarter is
    compared only with a snapshot from the same quarter. ``previous`` is :func:`previous_snapshot`.
    With ``method``, a snapshot made with the other method is not compared (its forecast is another
    quantity). Keys: as_of (the snapshot's date), month, quarter (float or None).
    """
    out: dict = {"as_of": None, "month": None, "quarter": None}
    if not previous:
        return out
    figs = previous.get("figures") or {}
    if method is not None and figs.get("method", "configured") != method:
        return out
    then = previous["as_of"]
    out["as_of"] = then
    if month_start(then) == month_start(as_of):
        out["month"] = figs.get("forecast_month")
    else:
        out["month"] = (figs.get("forecast_by_month") or {}).get(as_of.strftime("%Y-%m"))
    if forecast.quarter_start(then) == forecast.quarter_start(as_of):
        out["quarter"] = figs.get("forecast_quarter")
    return out


def forecast_history(con, scope: Scope = Scope()) -> pd.DataFrame:
    """How each month's forecast moved across saved snapshots, and what was actually won.

    Columns: period ('YYYY-MM'), as_of (snapshot date), forecast, actual (won in that month as
    known now; None for months not yet over).
    """
    r = resolve(con, scope)
    df = snapshots(con)
    want = json.dumps({k: list(v) for k, v in r.filters}, sort_keys=True)
    rows = []
    for row in df.itertuples():
        f = json.loads(row.filters_json)
        if json.dumps(f.get("filters", {}), sort_keys=True) != want:
            continue
        figs = json.loads(row.figures_json)
        for period, value in (figs.get("forecast_by_month") or {}).items():
            rows.append({"period": period, "as_of": pd.Timestamp(row.as_of).date(), "forecast": value})
    out = pd.DataFrame(rows, columns=["period", "as_of", "forecast"])
    if out.empty:
        out["actual"] = []
        return out
    actual = {}
    for period in out["period"].unique():
        start = date.fromisoformat(period + "-01")
        end = add_months(start, 1) - timedelta(days=1)
        # Only a month that is over has landed: won so far in the current month is not its actual.
        actual[period] = won_between(con, scope, start, end) if end <= r.as_of else None
    out["actual"] = out["period"].map(actual)
    return out.sort_values(["period", "as_of"]).reset_index(drop=True)


def forecast_landing(history: pd.DataFrame) -> pd.DataFrame:
    """Per closed month: the last forecast saved before it closed, the actual, and the error.

    Columns: period, last_forecast, actual, error ((forecast − actual) / actual; None when 0 won).
    """
    done = history.dropna(subset=["actual"])
    if done.empty:
        return pd.DataFrame(columns=["period", "last_forecast", "actual", "error"])
    out = (done.sort_values("as_of").groupby("period")
               .agg(last_forecast=("forecast", "last"), actual=("actual", "last")).reset_index())
    out["error"] = [(f - a) / a if a else None for f, a in zip(out["last_forecast"], out["actual"])]
    return out
