"""Time in stage (metrics.md §2): visits, censoring, Kaplan–Meier, SLA breaches, stuck items."""
from __future__ import annotations

from functools import lru_cache

import pandas as pd
from sqlglot import exp

from . import access, audit, fmt, i18n, sqlcompose, store
from .errors import ConfigError
from .i18n import N_, msg
from .query import PERIOD_GRAINS, Resolved, Scope, cohort_condition, opportunity_scope, resolve, run

FUNNELS = ("lead", "opportunity")
#: Periods of entry of sla_breaches.
GRAINS = PERIOD_GRAINS


def _visits(filter_params: tuple, direct: bool, funnel: str, owner: bool = False) -> dict[str, exp.Query]:
    """The CTEs giving ``visits(item_id, stage, entered_at, next_at[, owner])`` for the scope's
    items of ``funnel``: ``{"visits": …}``, with ``opps`` ahead of it when deals are filtered
    through their lead. ``direct``: every filter is on a column lead_visits carries.

    ``owner`` adds who is responsible for the item in that stage (only the stuck list needs it).
    """
    if funnel == "lead":
        q = exp.select("v.lead_id AS item_id", "v.stage", "v.entered_at", "v.next_at").from_("lead_visits AS v")
        if direct:
            q = q.where(cohort_condition(filter_params, "v"))
        else:
            q = q.join("leads AS l", on="l.lead_id = v.lead_id").where(cohort_condition(filter_params, "l"))
        if owner:
            # The owner of a lead in a stage is the person of the team that owns the stage: the AE
            # for sales stages (SQL, Opportunity, Rejected), else the SDR.
            q = q.select(sqlcompose.parse("CASE WHEN sc.team = 'sales' THEN coalesce(v.ae, v.sdr) "
                                          "ELSE coalesce(v.sdr, v.ae) END AS owner"))
            q = q.join("stage_config AS sc", on="sc.funnel = 'lead' AND sc.stage = v.stage", join_type="left")
        return {"visits": q}
    if funnel == "opportunity":
        # entered_at is NULL on a deal's opening span (before its first event): not a visit
        if not owner and not filter_params:   # every deal is in scope: no join needed
            return {"visits": exp.select("h.opportunity_id AS item_id", "h.stage", "h.entered_at", "h.next_at")
                    .from_("deal_history AS h").where("h.entered_at IS NOT NULL AND h.created_at < $as_end")}
        q = (exp.select("h.opportunity_id AS item_id", "h.stage", "h.entered_at", "h.next_at")
             .from_("deal_history AS h").join("opps AS o", on="o.opportunity_id = h.opportunity_id")
             .where("h.entered_at IS NOT NULL"))
        if owner:
            q = q.select("o.owner AS owner")
        return {"visits": q, "opps": opportunity_scope(filter_params, created_by_as_of=True)}
    raise ConfigError(f"Unknown funnel '{funnel}'.", hint="Use 'lead' or 'opportunity'.")


def _for_scope(name: str, filter_params: tuple, direct: bool, funnel: str, owner: bool = False) -> exp.Query:
    """The named query with its visits (and the deals in scope) set for the scope and funnel."""
    q = sqlcompose.query(name)
    for cte_name, body in _visits(filter_params, direct, funnel, owner).items():   # visits, then opps ahead
        q = sqlcompose.with_cte(q, cte_name, body)
    return q


#: Queries that read the Kaplan–Meier ranking of time_in_stage (its ``ranked`` CTE).
_RANKING = ("time_in_stage", "survival_curves", "time_in_stage_and_curves")


@lru_cache(maxsize=256)
def _scoped_sql(name: str, filter_params: tuple, direct: bool, funnel: str, by_stage: bool = False) -> str:
    """The text of a time-in-stage query (time_in_stage, survival_curves, time_in_stage_and_curves,
    sla_summary) for one query shape; parsed once per shape. ``by_stage``: the visits are ranked
    by stage and duration bin (time_in_stage_ranked_by_stage), for an engine that scales out."""
    q = _for_scope(name, filter_params, direct, funnel)
    if by_stage and name in _RANKING:
        ranking = sqlcompose.query("time_in_stage_ranked_by_stage")
        ranking.set("with_", None)          # it reads the CTEs q already has (v, n)
        q = sqlcompose.with_cte(q, "ranked", ranking)
    return sqlcompose.to_sql(q, name)


def _ranks_by_stage(con) -> bool:
    """Whether ``con`` runs on an engine that spreads rows over tasks (Spark), where one global
    ranking would funnel every visit through one task; DuckDB's connections do not say so."""
    return bool(getattr(con, "scales_out", False))


def _shape(r: Resolved, funnel: str) -> tuple:
    if funnel not in FUNNELS:
        raise ConfigError(f"Unknown funnel '{funnel}'.", hint="Use 'lead' or 'opportunity'.")
    return r.filter_params, r.filters_on_copied_columns, funnel


#: Blocks per stage for the median: small enough to aggregate, small enough to walk one exactly.
KM_MEDIAN_BLOCKS = 512


def time_in_stage(con, scope: Scope = Scope(), funnel: str = "lead") -> pd.DataFrame:
    """Per stage: visits, completed, censored, median_hours, p90_hours, km_median_hours."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = _scoped_sql("time_in_stage", *_shape(r, funnel), _ranks_by_stage(con))
    return run(con, q, {**r.params, "funnel": funnel, "km_points": KM_MEDIAN_BLOCKS})


#: Points per stage of a survival curve (about; every exit time on small data).
CURVE_POINTS = 150


def survival_curves(con, scope: Scope = Scope(), funnel: str = "lead", max_points: int = CURVE_POINTS) -> pd.DataFrame:
    """Kaplan–Meier survival per stage: stage, hours, survival, at_risk — at about ``max_points``
    exit times per stage (every exit time on small data), survival exact at each."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = _scoped_sql("survival_curves", *_shape(r, funnel), _ranks_by_stage(con))
    return run(con, q, {**r.params, "funnel": funnel, "km_points": max_points})


def time_in_stage_and_curves(con, scope: Scope = Scope(), funnel: str = "lead",
                             max_points: int = CURVE_POINTS) -> dict[str, pd.DataFrame]:
    """``{"stages": time_in_stage(...), "curves": survival_curves(...)}`` from one ranking of the
    visits — what the Time in stage page draws, at the cost of one of the two."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = _scoped_sql("time_in_stage_and_curves", *_shape(r, funnel), _ranks_by_stage(con))
    both = run(con, q, {**r.params, "funnel": funnel, "km_points": max_points})
    is_curve = both["hours"].notna()
    stages = (both[~is_curve].drop(columns=["hours", "survival", "at_risk"])
              .sort_values(["position", "stage"], na_position="last").reset_index(drop=True))
    curves = (both.loc[is_curve, ["stage", "hours", "survival", "at_risk"]]
              .sort_values(["stage", "hours"]).reset_index(drop=True))
    # the types a query of the stage rows alone returns (the curve rows' NULLs made them nullable)
    types = {c: "int64" for c in ("visits", "completed", "censored")}
    if stages["position"].notna().all():
        types["position"] = "int32"
    return {"stages": stages.astype(types), "curves": curves.astype({"at_risk": "int64"})}


def stuck_items(con, scope: Scope = Scope(), funnel: str = "lead", min_days: float | None = None,
                stages: tuple[str, ...] | None = None, limit: int = 5000) -> pd.DataFrame:
    """Items still in an open stage at the end of D for longer than ``min_days`` (default: the stage's SLA).

    Columns: item_id, stage, owner, entered_at, days_in_stage, sla_days, total (all matching items,
    before the ``limit`` longest are kept). ``stages`` narrows to those stage names.
    """
    r = resolve(con, scope)
    store.ensure_derived(con)
    params = {**r.params, "funnel": funnel, "min_days": min_days, "limit": int(limit)}
    params.update({f"s{i}": str(name) for i, name in enumerate(stages or ())})
    q = _stuck_sql(*_shape(r, funnel), len(stages or ()))
    return run(con, q, params)


@lru_cache(maxsize=256)
def _stuck_sql(filter_params: tuple, direct: bool, funnel: str, n_stages: int) -> str:
    """stuck_items' text for one shape; ``n_stages`` chosen stages ($s0, …) narrow ``cur``."""
    q = _for_scope("stuck_items", filter_params, direct, funnel, owner=True)
    if n_stages:
        sqlcompose.ctes(q)["cur"].where(
            exp.In(this=exp.column("stage", table="v"), expressions=[sqlcompose.param(f"s{i}") for i in range(n_stages)]),
            copy=False)
    return sqlcompose.to_sql(q, "stuck_items")


def sla_summary(con, scope: Scope = Scope(), funnel: str = "lead") -> pd.DataFrame:
    """Per stage with an SLA target: visits, breaches (completed or still-open visits longer than the
    target), breach_rate, and how many items are over it right now (``over_now``).

    Columns: stage, position, sla_hours, visits, breaches, breach_rate, over_now.
    """
    if funnel not in FUNNELS:
        raise ConfigError(f"Unknown funnel '{funnel}'.", hint="Use 'lead' or 'opportunity'.")
    r = resolve(con, scope)
    store.ensure_derived(con)
    return run(con, _scoped_sql("sla_summary", *_shape(r, funnel)), {**r.params, "funnel": funnel})


def save_sla_targets(con, funnel: str, targets: dict[str, float | None], *,
                     actor: access.Actor | None = None) -> None:
    """Set the time-in-stage target (hours; ``None`` = no target) of the named stages of ``funnel``.

    Validated first (known stage, a number of hours zero or more), written in one transaction, and
    the data version is bumped so every cached figure that uses the targets is recomputed.
    Editors and admins only; the audit trail keeps each changed target before and after.
    """
    who = access.require(actor, "edit")
    if funnel not in FUNNELS:
        raise ConfigError(f"Unknown funnel '{funnel}'.", hint="Use 'lead' or 'opportunity'.")
    known = {s.stage for s in store.stages(con, funnel)}
    clean: list[tuple[float | None, str]] = []
    for stage, hours in targets.items():
        if stage not in known:
            raise ConfigError(msg("There is no opportunity stage called '{stage}'.", stage=stage)
                              if funnel == "opportunity" else msg("There is no lead stage called '{stage}'.", stage=stage),
                              hint=msg("Rename or add stages on the Stage settings page."))
        if hours is not None:
            try:
                hours = float(hours)
            except (TypeError, ValueError):
                raise ConfigError(msg("The target for '{stage}' is not a number.", stage=stage),
                                  hint=msg("Type a number of days.")) from None
            if hours != hours:  # NaN: an emptied cell means "no target"
                hours = None
            elif hours < 0:
                raise ConfigError(msg("The target for '{stage}' is negative.", stage=stage),
                                  hint=msg("Type zero or more days, or leave the cell empty for no target."))
        clean.append((hours, stage))
    before_all = {s.stage: s.sla_hours for s in store.stages(con, funnel)}
    changed = [(h, s) for h, s in clean if before_all.get(s) != h]
    version_before = store.data_version(con)
    with store.transaction(con):
        con.executemany("UPDATE stage_config SET sla_hours = ? WHERE funnel = ? AND stage = ?",
                        [(h, funnel, s) for h, s in clean])
        store.bump_data_version(con)
        audit.record(con, who, "sla_targets", {"funnel": funnel, "stages": [s for _, s in changed]},
                     {s: before_all.get(s) for _, s in changed}, {s: h for h, s in changed},
                     summary=_sla_change_summary(funnel, [(s, before_all.get(s), h) for h, s in changed]),
                     data_version_before=version_before)


def _sla_change_summary(funnel: str, changed: list[tuple[str, float | None, float | None]]):
    """The audit trail's sentence for an SLA edit: each changed stage's target before → after (hours)."""
    def hours(h):
        return msg("no target") if h is None else f"{h:g}"
    changes = (i18n.list_of([msg("{stage} {before} → {after}", stage=s, before=hours(b), after=hours(a))
                             for s, b, a in changed]) if changed else msg("no change"))
    if funnel == "opportunity":
        return msg("Changed opportunity SLA targets (hours): {changes}", changes=changes)
    return msg("Changed lead SLA targets (hours): {changes}", changes=changes)


def sla_breaches(con, scope: Scope = Scope(), funnel: str = "lead", grain: str = "month") -> pd.DataFrame:
    """Per stage and period of entry: visits, visits over the stage's SLA (completed or still open).

    A censored visit already longer than its SLA is a breach; a shorter censored one is not (yet).
    Columns: stage, position, period, sla_hours, visits, breaches, breach_rate, complete.
    """
    if grain not in GRAINS:
        raise ConfigError(f"Unknown grain '{grain}'.", hint="Use 'week' or 'month'.")
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = _breaches_sql(*_shape(r, funnel), grain)
    return run(con, q, {**r.params, "funnel": funnel})


@lru_cache(maxsize=64)
def _breaches_sql(filter_params: tuple, direct: bool, funnel: str, grain: str) -> str:
    """sla_breaches' text for one shape: visits for the scope, the period column and the grain's length."""
    q = _for_scope("sla_breaches", filter_params, direct, funnel)
    unit, length = GRAINS[grain]
    q = sqlcompose.with_cte(q, "grain", exp.select(exp.alias_(sqlcompose.parse(length), "period_length")))
    sqlcompose.replace_projection(sqlcompose.ctes(q)["v"], "period",
                                  exp.func("date_trunc", exp.Literal.string(unit), exp.column("entered_at", table="v")))
    return sqlcompose.to_sql(q, "sla_breaches")


def _target_text(hours: float):
    d = float(hours) / 24.0
    return msg("{n}-day", n=f"{d:g}") if d >= 1 else msg("{n}-hour", n=f"{float(hours):g}")


def time_in_stage_finding(tis: pd.DataFrame, sla: pd.DataFrame, funnel: str = "lead", min_visits: int = 30) -> dict:
    """One plain sentence for the page header: where items wait longest, and which target is missed most.

    Words only: ``tis`` is :func:`time_in_stage` and ``sla`` is :func:`sla_summary` for the same
    scope, which the page has already computed. "Longest" uses the Kaplan–Meier median (it counts
    items still waiting), falling back to the median of finished stays when more than half are
    still there. Stages with fewer than ``min_visits`` visits are left out of both comparisons.
    ``message`` is the sentence as a :class:`funnel.i18n.Message` (a page renders it in its
    reader's language); ``sentence`` is the same in English.
    """
    big = tis[tis["visits"] >= min_visits].copy()
    out = {"longest_stage": None, "longest_hours": None, "worst_sla_stage": None, "worst_breach_rate": None,
           "over_now": 0, "sentence": "", "message": None}

    def done(message):
        out["message"] = message
        out["sentence"] = message.render("en")
        return out

    if big.empty:
        return done(msg("Too few stage visits in this cohort to compare stages (fewer than {n} each).",
                        n=fmt.Count(min_visits)))
    big["typical"] = big["km_median_hours"].fillna(big["median_hours"])
    big = big.dropna(subset=["typical"])
    parts = []
    if not big.empty:
        top = big.loc[big["typical"].idxmax()]
        out.update(longest_stage=str(top["stage"]), longest_hours=float(top["typical"]))
        template = (N_("Leads wait longest in {stage}: half have moved on after {wait}") if funnel == "lead" else
                    N_("Deals wait longest in {stage}: half have moved on after {wait}"))
        parts.append(msg(template, stage=str(top["stage"]), wait=fmt.Duration(top["typical"] / 24.0)))
    out["over_now"] = int(sla["over_now"].sum()) if not sla.empty else 0
    sla = sla[sla["visits"] >= min_visits]
    if not sla.empty and sla["breach_rate"].notna().any():
        w = sla.loc[sla["breach_rate"].idxmax()]
        out.update(worst_sla_stage=str(w["stage"]), worst_breach_rate=float(w["breach_rate"]))
        parts.append(msg("{stage} misses its {target} target most often ({share} of visits)", stage=str(w["stage"]),
                         target=_target_text(w["sla_hours"]), share=fmt.Pct(w["breach_rate"])))
    if len(parts) == 2:
        return done(msg("{first}; {second}.", first=parts[0], second=parts[1]))
    if parts:
        return done(msg("{sentence}.", sentence=parts[0]))
    return done(msg("No stage has enough finished visits to compare yet."))
