"""Time in stage (metrics.md §2): visits, censoring, Kaplan–Meier, SLA breaches, stuck items."""
from __future__ import annotations

import pandas as pd

from . import store
from .errors import ConfigError
from .query import Resolved, Scope, cohort_cte, opportunity_scope_cte, resolve, run, sql

FUNNELS = ("lead", "opportunity")


def visits_cte(r: Resolved, funnel: str) -> str:
    """``visits(item_id, stage, entered_at, next_at, owner)`` for the scope's items of ``funnel``."""
    if funnel == "lead":
        return (f"{cohort_cte(r)}, visits AS ("
                "SELECT v.lead_id AS item_id, v.stage, v.entered_at, v.next_at, l.sdr AS owner "
                "FROM lead_visits v JOIN cohort c ON c.lead_id = v.lead_id JOIN leads l ON l.lead_id = v.lead_id)")
    if funnel == "opportunity":
        return (f"{opportunity_scope_cte(r)}, visits AS ("
                "SELECT e.opportunity_id AS item_id, e.stage, e.entered_at, "
                "LEAD(e.entered_at) OVER (PARTITION BY e.opportunity_id ORDER BY e.entered_at, e.event_seq) AS next_at, "
                "o.owner AS owner "
                "FROM opportunity_events e JOIN opps o ON o.opportunity_id = e.opportunity_id)")
    raise ConfigError(f"Unknown funnel '{funnel}'.", hint="Use 'lead' or 'opportunity'.")


def time_in_stage(con, scope: Scope = Scope(), funnel: str = "lead") -> pd.DataFrame:
    """Per stage: visits, completed, censored, median_hours, p90_hours, km_median_hours."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = sql("time_in_stage").replace("{visits}", visits_cte(r, funnel))
    return run(con, q, {**r.params, "funnel": funnel})


def survival_curves(con, scope: Scope = Scope(), funnel: str = "lead", max_points: int = 150) -> pd.DataFrame:
    """Kaplan–Meier survival per stage: stage, hours, survival, at_risk (thinned for drawing)."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = f"""
    WITH {visits_cte(r, funnel)},
    st AS (SELECT stage FROM stage_config WHERE funnel = $funnel AND kind IN ('open', 'rejected', 'recycled')),
    v AS (
        SELECT v.stage,
               CASE WHEN v.next_at < $as_end THEN 1 ELSE 0 END AS completed,
               (epoch(CASE WHEN v.next_at < $as_end THEN v.next_at ELSE $as_end END) - epoch(v.entered_at)) / 3600.0 AS hours
        FROM visits v JOIN st ON st.stage = v.stage WHERE v.entered_at < $as_end
    ),
    t AS (SELECT stage, hours, sum(completed) AS d, count(*) AS n_t FROM v GROUP BY 1, 2),
    r AS (SELECT stage, hours, d, sum(n_t) OVER (PARTITION BY stage ORDER BY hours DESC
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS at_risk FROM t),
    s AS (
        SELECT stage, hours, at_risk,
               CASE WHEN sum(CASE WHEN d = at_risk THEN 1 ELSE 0 END) OVER w > 0 THEN 0.0
                    ELSE exp(sum(CASE WHEN d < at_risk THEN ln(1.0 - d / at_risk::DOUBLE) ELSE 0.0 END) OVER w) END AS survival,
               row_number() OVER (PARTITION BY stage ORDER BY hours) AS rn,
               count(*) OVER (PARTITION BY stage) AS n
        FROM r WHERE d > 0
        WINDOW w AS (PARTITION BY stage ORDER BY hours ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT stage, hours, survival, at_risk FROM s
    WHERE rn = 1 OR rn = n OR rn % greatest(1, CAST(n / $max_points AS INTEGER)) = 0
    ORDER BY stage, hours
    """
    return run(con, q, {**r.params, "funnel": funnel, "max_points": max_points})


def stuck_items(con, scope: Scope = Scope(), funnel: str = "lead", min_days: float | None = None) -> pd.DataFrame:
    """Items still in an open stage at the end of D for longer than ``min_days`` (default: the stage's SLA).

    Columns: item_id, stage, owner, entered_at, days_in_stage, sla_days.
    """
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = f"""
    WITH {visits_cte(r, funnel)},
    st AS (SELECT stage, sla_hours FROM stage_config WHERE funnel = $funnel AND kind = 'open'),
    cur AS (
        SELECT v.item_id, v.stage, v.owner, v.entered_at,
               (epoch($as_end) - epoch(v.entered_at)) / 86400.0 AS days_in_stage, st.sla_hours / 24.0 AS sla_days
        FROM visits v JOIN st ON st.stage = v.stage
        WHERE v.entered_at < $as_end AND (v.next_at IS NULL OR v.next_at >= $as_end)
    )
    SELECT * FROM cur
    WHERE days_in_stage > coalesce(CAST($min_days AS DOUBLE), sla_days)
    ORDER BY days_in_stage DESC
    LIMIT 5000
    """
    return run(con, q, {**r.params, "funnel": funnel, "min_days": min_days})


def sla_breaches(con, scope: Scope = Scope(), funnel: str = "lead", grain: str = "month") -> pd.DataFrame:
    """Per stage and period of entry: visits, visits over the stage's SLA (completed or still open).

    A censored visit already longer than its SLA is a breach; a shorter censored one is not (yet).
    """
    if grain not in ("week", "month"):
        raise ConfigError(f"Unknown grain '{grain}'.", hint="Use 'week' or 'month'.")
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = f"""
    WITH {visits_cte(r, funnel)},
    st AS (SELECT stage, position, sla_hours FROM stage_config
           WHERE funnel = $funnel AND kind IN ('open', 'rejected', 'recycled') AND sla_hours IS NOT NULL),
    v AS (
        SELECT v.stage, st.position, st.sla_hours, date_trunc('{grain}', v.entered_at) AS period,
               (epoch(CASE WHEN v.next_at < $as_end THEN v.next_at ELSE $as_end END) - epoch(v.entered_at)) / 3600.0 AS hours
        FROM visits v JOIN st ON st.stage = v.stage WHERE v.entered_at < $as_end
    )
    SELECT stage, position, period, max(sla_hours) AS sla_hours, count(*) AS visits,
           count(*) FILTER (WHERE hours > sla_hours) AS breaches,
           count(*) FILTER (WHERE hours > sla_hours) / count(*)::DOUBLE AS breach_rate
    FROM v GROUP BY 1, 2, 3 ORDER BY position IS NULL, position, stage, period
    """
    return run(con, q, {**r.params, "funnel": funnel})
