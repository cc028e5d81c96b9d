"""Stage conversion (metrics.md §1): the cohort funnel, its breakdowns, trend and time to convert."""
from __future__ import annotations

import pandas as pd

from . import fmt, i18n, labels, store
from .errors import ConfigError
from .i18n import N_, msg
from .query import Resolved, Scope, group_expr, resolve, run, sql

GRAINS = {"week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH"}

#: Without a conversion window, a cohort counts as complete this many days after its last lead.
DEFAULT_MATURITY_DAYS = 90


def _cohort_with(r: Resolved, extra: str) -> str:
    return f"cohort AS (SELECT l.lead_id, l.created_at, {extra} FROM leads l WHERE {r.cohort_where})"


def _reach(r: Resolved, label: str, columns: tuple[str, ...], cohort_column: str = "grp") -> str:
    """``(grp, position, first_reached_at, created_at)`` rows of lead_reach for the cohort's leads.

    ``label`` is the group expression over alias ``{a}``, using only ``columns`` of the lead. When
    the filters and those columns are all copied into lead_reach it is read alone; otherwise it is
    joined to the cohort (whose ``cohort_column`` is the same expression over leads).
    """
    if r.filters_on_copied_columns and set(columns) <= set(store.DERIVED_LEAD_COLUMNS):
        return (f"(SELECT {label.replace('{a}', 'r')} AS grp, r.position, r.first_reached_at, r.created_at "
                f"FROM lead_reach r WHERE {r.cohort_where_on('r')})")
    return (f"(SELECT c.{cohort_column} AS grp, r.position, r.first_reached_at, c.created_at "
            "FROM lead_reach r JOIN cohort c ON c.lead_id = r.lead_id)")


def stage_conversion(con, scope: Scope = Scope(), breakdown: str | None = None) -> pd.DataFrame:
    """Reached, step rate and overall rate per funnel stage, optionally per value of ``breakdown``.

    Columns: grp, stage, position, reached, step_rate, overall_rate, median_days_to_reach, leads.
    """
    r = resolve(con, scope)
    store.ensure_derived(con)
    label = group_expr(con, breakdown, "{a}")
    q = (sql("stage_conversion").replace("{cohort}", _cohort_with(r, f"{label.replace('{a}', 'l')} AS grp"))
         .replace("{reach}", _reach(r, label, (breakdown,) if breakdown else ())))
    return run(con, q, r.params)


def conversion_trend(con, scope: Scope = Scope(), grain: str = "month",
                     maturity_days: int | None = None) -> pd.DataFrame:
    """The funnel per cohort period; ``complete`` is False while the cohort is still maturing.

    A cohort is complete when its period end plus the conversion window (or ``maturity_days``,
    default 90, when no window is set) lies on or before the as-of date.
    """
    if grain not in GRAINS:
        raise ConfigError(f"Unknown trend grain '{grain}'.", hint="Use 'week' or 'month'.")
    r = resolve(con, scope)
    store.ensure_derived(con)
    maturity = r.window_days if r.window_days is not None else (maturity_days or DEFAULT_MATURITY_DAYS)
    q = (sql("conversion_trend")
         .replace("{cohort}", _cohort_with(r, f"date_trunc('{grain}', l.created_at) AS period"))
         .replace("{reach}", _reach(r, f"date_trunc('{grain}', {{a}}.created_at)", ("created_at",), "period"))
         .replace("{period_interval}", GRAINS[grain]))
    return run(con, q, {**r.params, "maturity_days": maturity})


def time_to_convert(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Median days from lead creation to first reaching each stage (or a later one)."""
    df = stage_conversion(con, scope)
    return df[["stage", "position", "reached", "median_days_to_reach"]].iloc[1:].reset_index(drop=True)


def time_to_convert_histogram(con, scope: Scope = Scope(), bins_days: tuple[int, ...] = (0, 1, 3, 7, 14, 30, 60, 90, 180, 365)) -> pd.DataFrame:
    """How many cohort leads first reached each stage within each band of days since creation."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    edges = list(bins_days)
    case = " ".join(
        f"WHEN days < {edges[i + 1]} THEN '{edges[i]}–{edges[i + 1]} d'" for i in range(len(edges) - 1)
    )
    q = f"""
    WITH {_cohort_with(r, "1 AS grp")},
    fs AS (SELECT stage, position FROM stage_config
           WHERE funnel = 'lead' AND position IS NOT NULL AND kind IN ('open', 'won')),
    d AS (
        SELECT fs.stage, fs.position,
               (epoch(r.first_reached_at) - epoch(r.created_at)) / 86400.0 AS days
        FROM {_reach(r, "1", ())} r JOIN fs ON fs.position = r.position
        WHERE r.first_reached_at < $as_end AND fs.position > (SELECT min(position) FROM fs)
          AND ($window_days IS NULL
               OR r.first_reached_at <= r.created_at + CAST($window_days AS INTEGER) * INTERVAL 1 DAY)
    )
    SELECT stage, position,
           CASE WHEN days < 0 THEN 'before creation' {case} ELSE '{edges[-1]}+ d' END AS band,
           min(days) AS band_order, count(*) AS leads
    FROM d GROUP BY 1, 2, 3 ORDER BY position, band_order
    """
    return run(con, q, r.params)


#: Breakdown groups with fewer leads entering a step than this are too small to call "worst".
MIN_GROUP_LEADS = 30

#: The breakdown's name inside a sentence (lower case except acronyms), marked for translation.
_BREAKDOWN_LABELS = {"channel": N_("channel"), "segment": N_("segment"), "region": N_("region"), "sdr": N_("SDR"),
                     "ae": N_("AE")}


def drop_off_finding(con, scope: Scope = Scope(), breakdown: str | None = None,
                     min_leads: int = MIN_GROUP_LEADS) -> dict:
    """The funnel step that loses the largest share of leads, and the breakdown value where it is worst.

    The biggest drop-off is the step with the lowest step rate (ties: the earlier step). The worst
    group is the ``breakdown`` value with the lowest step rate at that same step, among values
    with at least ``min_leads`` leads entering the step (smaller groups swing too much to name).
    Returns from_stage, to_stage, entering, reached, lost_share, worst_group, worst_entering,
    worst_reached, worst_lost_share, breakdown, ``messages`` (the finding as
    :class:`funnel.i18n.Message` objects, for a page to render in its reader's language) and
    ``sentence`` (the same in English).
    """
    out = {"from_stage": None, "to_stage": None, "entering": None, "reached": None, "lost_share": None,
           "worst_group": None, "worst_entering": None, "worst_reached": None, "worst_lost_share": None,
           "breakdown": breakdown, "sentence": "", "messages": []}

    def done(*messages):
        out["messages"] = list(messages)
        out["sentence"] = i18n.render(out["messages"], "en")
        return out

    funnel = stage_conversion(con, scope).sort_values("position").reset_index(drop=True)
    if funnel.empty:
        return done(msg("No leads in this cohort — widen the date range or clear a filter."))
    funnel["entering"] = funnel["reached"].shift(1)
    steps = funnel[funnel["step_rate"].notna()]
    if steps.empty:
        return done(msg("No lead in this cohort has moved past the first stage yet."))
    i = steps["step_rate"].idxmin()          # first occurrence: ties go to the earlier step
    row, prev = funnel.loc[i], funnel.loc[i - 1]
    out.update(from_stage=str(prev["stage"]), to_stage=str(row["stage"]), entering=int(prev["reached"]),
               reached=int(row["reached"]), lost_share=1.0 - float(row["step_rate"]))
    messages = [msg("Biggest drop-off: {from_stage} → {to_stage} — {lost_share} of the {entering} leads that reached "
                    "{from_stage} never reached {to_stage}.", from_stage=out["from_stage"], to_stage=out["to_stage"],
                    lost_share=fmt.Pct(out["lost_share"]), entering=fmt.Count(out["entering"]))]
    if breakdown is not None:
        by = stage_conversion(con, scope, breakdown=breakdown)
        by = by.sort_values(["grp", "position"])
        by["entering"] = by.groupby("grp")["reached"].shift(1)
        at = by[(by["position"] == row["position"]) & by["step_rate"].notna() & (by["entering"] >= min_leads)]
        label = msg(_BREAKDOWN_LABELS[breakdown]) if breakdown in _BREAKDOWN_LABELS else breakdown.replace("_", " ")
        if len(at) >= 2:
            w = at.sort_values(["step_rate", "entering", "grp"], ascending=[True, False, True]).iloc[0]
            out.update(worst_group=str(w["grp"]), worst_entering=int(w["entering"]), worst_reached=int(w["reached"]),
                       worst_lost_share=1.0 - float(w["step_rate"]))
            messages.append(msg("It is worst for {breakdown} {group}: {lost_share} lost ({lost} of {entering}).",
                                breakdown=label, group=labels.readable(out["worst_group"]),
                                lost_share=fmt.Pct(out["worst_lost_share"]),
                                lost=fmt.Count(out["worst_entering"] - out["worst_reached"]),
                                entering=fmt.Count(out["worst_entering"])))
        else:
            messages.append(msg("No two {breakdown} values have {min_leads} or more leads at this step, so none is "
                                "singled out.", breakdown=label, min_leads=fmt.Count(min_leads)))
    return done(*messages)
