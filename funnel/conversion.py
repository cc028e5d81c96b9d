"""Stage conversion (metrics.md §1): the cohort funnel, its breakdowns, trend and time to convert."""
from __future__ import annotations

from functools import lru_cache

import pandas as pd
from sqlglot import exp

from . import fmt, i18n, labels, sqlcompose, store
from .errors import ConfigError
from .i18n import N_, msg
from .query import PERIOD_GRAINS, Resolved, Scope, check_breakdown, cohort_condition, group_expression, resolve, run

#: Cohort periods of the trend.
GRAINS = PERIOD_GRAINS

#: Without a conversion window, a cohort counts as complete this many days after its last lead.
DEFAULT_MATURITY_DAYS = 90

#: How a cohort lead is grouped: a breakdown column of leads (None: one group), or a cohort
#: period ("week"/"month"). With the filters, the whole shape of a conversion query.
_Group = tuple[str, str | None]


def _group_expression(group: _Group, alias: str) -> exp.Expression:
    kind, value = group
    if kind == "period":
        return exp.func("date_trunc", exp.Literal.string(GRAINS[value][0]), exp.column("created_at", table=alias))
    return group_expression(value, alias)


def _group_columns(group: _Group) -> tuple[str, ...]:
    kind, value = group
    return ("created_at",) if kind == "period" else ((value,) if value is not None else ())


def _cohort_and_reach(q: exp.Query, group: _Group, group_name: str,
                      filter_params: tuple, direct: bool) -> exp.Query:
    """``q`` with its cohort (lead_id, created_at, ``group_name``) and reach (grp, position,
    first_reached_at, created_at) CTEs set for the scope's filters and the group.

    When the filters and the group's columns are all copied into lead_reach (``direct``), reach
    reads lead_reach alone; otherwise it is the file's default, lead_reach joined to the cohort.
    """
    cohort = (exp.select("l.lead_id", "l.created_at", exp.alias_(_group_expression(group, "l"), group_name))
              .from_("leads AS l").where(cohort_condition(filter_params, "l")))
    q = sqlcompose.with_cte(q, "cohort", cohort)
    if direct:
        reach = (exp.select(exp.alias_(_group_expression(group, "r"), "grp"), "r.position", "r.first_reached_at",
                            "r.created_at")
                 .from_("lead_reach AS r").where(cohort_condition(filter_params, "r")))
        q = sqlcompose.with_cte(q, "reach", reach)
    return q


@lru_cache(maxsize=256)
def _conversion_sql(name: str, group: _Group, filter_params: tuple, direct: bool) -> str:
    """The text of ``stage_conversion`` / ``time_to_convert_histogram`` (grouped by a breakdown) or
    ``conversion_trend`` (by a period) for one query shape; parsed once per shape."""
    q = sqlcompose.query(name)
    if group[0] == "period":
        q = sqlcompose.with_cte(q, "grain", exp.select(exp.alias_(sqlcompose.parse(GRAINS[group[1]][1]),
                                                                   "period_length")))
    q = _cohort_and_reach(q, group, "period" if group[0] == "period" else "grp", filter_params, direct)
    return sqlcompose.to_sql(q, name)


def _shape(con, r: Resolved, group: _Group) -> tuple:
    """(group, filter_params, direct): the hashable key of a conversion query's text."""
    kind, column = group
    if kind == "breakdown":
        check_breakdown(con, column)
    direct = r.filters_on_copied_columns and set(_group_columns(group)) <= set(store.DERIVED_LEAD_COLUMNS)
    return group, r.filter_params, direct


def stage_conversion(con, scope: Scope = Scope(), breakdown: str | None = None) -> pd.DataFrame:
    """Reached, step rate and overall rate per funnel stage, optionally per value of ``breakdown``.

    Columns: grp, stage, position, reached, step_rate, overall_rate, median_days_to_reach, leads.
    """
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = _conversion_sql("stage_conversion", *_shape(con, r, ("breakdown", breakdown)))
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
    q = _conversion_sql("conversion_trend", *_shape(con, r, ("period", grain)))
    return run(con, q, {**r.params, "maturity_days": maturity})


def time_to_convert(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Median days from lead creation to first reaching each stage (or a later one)."""
    df = stage_conversion(con, scope)
    return df[["stage", "position", "reached", "median_days_to_reach"]].iloc[1:].reset_index(drop=True)


@lru_cache(maxsize=64)
def _histogram_sql(edges: tuple[int, ...], filter_params: tuple, direct: bool) -> str:
    """time_to_convert_histogram's text: its band column's CASE built for ``edges``."""
    q = sqlcompose.query("time_to_convert_histogram")
    q = _cohort_and_reach(q, ("breakdown", None), "grp", filter_params, direct)
    days = exp.column("days")
    band = exp.Case().when(days < 0, exp.Literal.string("before creation"))
    for lo, hi in zip(edges, edges[1:]):
        band = band.when(days < hi, exp.Literal.string(f"{lo}–{hi} d"))
    band = band.else_(exp.Literal.string(f"{edges[-1]}+ d"))
    return sqlcompose.to_sql(sqlcompose.replace_projection(q, "band", band), "time_to_convert_histogram")


def time_to_convert_histogram(con, scope: Scope = Scope(), bins_days: tuple[int, ...] = (0, 1, 3, 7, 14, 30, 60, 90, 180, 365)) -> pd.DataFrame:
    """How many cohort leads first reached each stage within each band of days since creation."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    _, filter_params, direct = _shape(con, r, ("breakdown", None))
    q = _histogram_sql(tuple(int(e) for e in bins_days), filter_params, direct)
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
