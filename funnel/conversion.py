"""Stage conversion (metrics.md §1): the cohort funnel, its breakdowns, trend and time to convert."""
from __future__ import annotations

import pandas as pd

from . import labels, store
from .errors import ConfigError
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

_BREAKDOWN_LABELS = {"channel": "channel", "segment": "segment", "region": "region", "sdr": "SDR", "ae": "AE"}


def drop_off_finding(con, scope: Scope = Scope(), breakdown: str | None = None,
                     min_leads: int = MIN_GROUP_LEADS) -> dict:
    """The funnel step that loses the largest share of leads, and the breakdown value where it is worst.

    The biggest drop-off is the step with the lowest step rate (ties: the earlier step). The worst
    group is the ``breakdown`` value with the lowest step rate at that same step, among values
    with at least ``min_leads`` leads entering the step (smaller groups swing too much to name).
    Returns from_stage, to_stage, entering, reached, lost_share, worst_group, worst_entering,
    worst_reached, worst_lost_share, breakdown and a plain ``sentence``.
    """
    out = {"from_stage": None, "to_stage": None, "entering": None, "reached": None, "lost_share": None,
           "worst_group": None, "worst_entering": None, "worst_reached": None, "worst_lost_share": None,
           "breakdown": breakdown, "sentence": ""}
    funnel = stage_conversion(con, scope).sort_values("position").reset_index(drop=True)
    if funnel.empty:
        out["sentence"] = "No leads in this cohort — widen the date range or clear a filter."
        return out
    funnel["entering"] = funnel["reached"].shift(1)
    steps = funnel[funnel["step_rate"].notna()]
    if steps.empty:
        out["sentence"] = "No lead in this cohort has moved past the first stage yet."
        return out
    i = steps["step_rate"].idxmin()          # first occurrence: ties go to the earlier step
    row, prev = funnel.loc[i], funnel.loc[i - 1]
    out.update(from_stage=str(prev["stage"]), to_stage=str(row["stage"]), entering=int(prev["reached"]),
               reached=int(row["reached"]), lost_share=1.0 - float(row["step_rate"]))
    sentence = (f"Biggest drop-off: {out['from_stage']} → {out['to_stage']} — {out['lost_share']:.0%} of the "
                f"{out['entering']:,} leads that reached {out['from_stage']} never reached {out['to_stage']}.")
    if breakdown is not None:
        by = stage_conversion(con, scope, breakdown=breakdown)
        by = by.sort_values(["grp", "position"])
        by["entering"] = by.groupby("grp")["reached"].shift(1)
        at = by[(by["position"] == row["position"]) & by["step_rate"].notna() & (by["entering"] >= min_leads)]
        label = _BREAKDOWN_LABELS.get(breakdown, breakdown.replace("_", " "))
        if len(at) >= 2:
            w = at.sort_values(["step_rate", "entering", "grp"], ascending=[True, False, True]).iloc[0]
            out.update(worst_group=str(w["grp"]), worst_entering=int(w["entering"]), worst_reached=int(w["reached"]),
                       worst_lost_share=1.0 - float(w["step_rate"]))
            sentence += (f" It is worst for {label} {labels.readable(out['worst_group'])}: {out['worst_lost_share']:.0%} lost "
                         f"({out['worst_entering'] - out['worst_reached']:,} of {out['worst_entering']:,}).")
        else:
            sentence += (f" No two {label} values have {min_leads} or more leads at this step, "
                         "so none is singled out.")
    out["sentence"] = sentence
    return out
