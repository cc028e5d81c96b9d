"""SDR rejection and recycle loops (metrics.md §3).

The hand-off stage is MQL (see ``store.handoff_stage``); a rejection is an event into a stage of
kind ``rejected``; a resubmission is a rejection followed later by a hand-off of the same lead.
"""
from __future__ import annotations

import pandas as pd

from . import store
from .errors import ConfigError
from .query import Resolved, Scope, cohort_cte, resolve, run, sql

#: Breakdowns below this many hand-offs are flagged, so nobody is judged on three leads.
SMALL_SAMPLE = 30


def _prepare(con, scope: Scope) -> tuple[Resolved, dict, str]:
    r = resolve(con, scope)
    store.ensure_derived(con)
    params = {**r.params, "handoff": store.handoff_stage(con)}
    return r, params, sql("rejection_events").replace("{cohort}", cohort_cte(r))


def _events_cte(r: Resolved) -> str:
    return (f"{cohort_cte(r)}, ev AS (SELECT v.lead_id, v.stage, v.entered_at, v.actor, v.reason, v.event_no, s.kind "
            "FROM lead_visits v JOIN cohort c ON c.lead_id = v.lead_id "
            "JOIN stage_config s ON s.funnel = 'lead' AND s.stage = v.stage WHERE v.entered_at < $as_end)")


def rejection_summary(con, scope: Scope = Scope()) -> dict:
    """Hand-offs, rejections, rate, resubmissions (within 7 days, median delay), leads with loops."""
    r, params, rej = _prepare(con, scope)
    q = f"""
    WITH rj AS ({rej}),
    {_events_cte(r)},
    per_lead AS (SELECT lead_id, count(*) FILTER (WHERE stage = $handoff) AS n_handoffs FROM ev GROUP BY lead_id)
    SELECT
        (SELECT count(*) FROM ev WHERE stage = $handoff) AS handoffs,
        (SELECT count(*) FROM rj) AS rejected,
        (SELECT count(*) FROM rj WHERE resubmitted_at IS NOT NULL) AS resubmissions,
        (SELECT count(*) FROM rj WHERE resubmit_days <= 7) AS resubmitted_within_7d,
        (SELECT median(resubmit_days) FROM rj) AS median_resubmit_days,
        (SELECT count(*) FROM per_lead WHERE n_handoffs > 1) AS leads_with_loops,
        (SELECT count(*) FROM per_lead WHERE n_handoffs > 0) AS leads_handed_off
    """
    row = run(con, q, params).iloc[0].to_dict()
    out = {k: (None if pd.isna(v) else (int(v) if k != "median_resubmit_days" else float(v))) for k, v in row.items()}
    out["rejection_rate"] = out["rejected"] / out["handoffs"] if out["handoffs"] else None
    out["resubmitted_within_7d_share"] = (out["resubmitted_within_7d"] / out["resubmissions"]
                                          if out["resubmissions"] else None)
    return out


def rejections_by_reason(con, scope: Scope = Scope()) -> pd.DataFrame:
    """reason (None when the event gave none), rejected, share."""
    _, params, rej = _prepare(con, scope)
    q = f"""WITH rj AS ({rej})
    SELECT reason, count(*) AS rejected, count(*) / sum(count(*)) OVER ()::DOUBLE AS share
    FROM rj GROUP BY reason ORDER BY rejected DESC, reason NULLS LAST"""
    return run(con, q, params)


def rejection_breakdown(con, scope: Scope = Scope(), by: str = "ae") -> pd.DataFrame:
    """Rejection rate per value of a lead column (ae, sdr, channel, segment, …) or per ``actor``.

    Per lead column: handoffs and rejections of the leads with that value, rate, and
    ``small_sample`` when there are fewer than 30 hand-offs. Per actor (who rejected): rejections,
    share of all rejections, and resubmissions of the leads they rejected.
    """
    r, params, rej = _prepare(con, scope)
    if by == "actor":
        q = f"""WITH rj AS ({rej})
        SELECT coalesce(actor, '(unknown)') AS grp, count(*) AS rejected,
               count(*) / sum(count(*)) OVER ()::DOUBLE AS share,
               count(resubmitted_at) AS resubmissions
        FROM rj GROUP BY 1 ORDER BY rejected DESC, grp"""
        return run(con, q, params)
    columns = store.lead_attribute_columns(con)
    if by not in columns:
        raise ConfigError(f"There is no lead column called '{by}'.", hint=f"Choose one of: {', '.join(sorted(columns))}.")
    col = f"coalesce(CAST(l.{store.quote_ident(by)} AS VARCHAR), '(blank)')"
    q = f"""
    WITH rj AS ({rej}), {_events_cte(r)},
    h AS (SELECT {col} AS grp, count(*) AS handoffs FROM ev JOIN leads l ON l.lead_id = ev.lead_id
          WHERE ev.stage = $handoff GROUP BY 1),
    x AS (SELECT {col} AS grp, count(*) AS rejected, count(rj.resubmitted_at) AS resubmissions,
                 count(*) FILTER (WHERE rj.resubmit_days <= 2) AS resubmitted_within_2d,
                 count(*) FILTER (WHERE rj.resubmit_days <= 7) AS resubmitted_within_7d,
                 median(rj.resubmit_days) AS median_resubmit_days
          FROM rj JOIN leads l ON l.lead_id = rj.lead_id GROUP BY 1)
    SELECT coalesce(h.grp, x.grp) AS grp, coalesce(h.handoffs, 0) AS handoffs, coalesce(x.rejected, 0) AS rejected,
           coalesce(x.rejected, 0) / NULLIF(h.handoffs, 0)::DOUBLE AS rejection_rate,
           coalesce(x.resubmissions, 0) AS resubmissions,
           coalesce(x.resubmitted_within_2d, 0) AS resubmitted_within_2d,
           coalesce(x.resubmitted_within_7d, 0) AS resubmitted_within_7d,
           x.median_resubmit_days,
           coalesce(h.handoffs, 0) < {SMALL_SAMPLE} AS small_sample
    FROM h FULL OUTER JOIN x ON x.grp = h.grp
    ORDER BY rejection_rate DESC NULLS LAST, grp
    """
    return run(con, q, params)


def rejection_trend(con, scope: Scope = Scope(), grain: str = "week") -> pd.DataFrame:
    """Per period: hand-offs, rejections, rate, and rejections per reason (long form: period, reason, rejected)."""
    if grain not in ("week", "month"):
        raise ConfigError(f"Unknown grain '{grain}'.", hint="Use 'week' or 'month'.")
    r, params, rej = _prepare(con, scope)
    q = f"""
    WITH rj AS ({rej}), {_events_cte(r)},
    h AS (SELECT date_trunc('{grain}', entered_at) AS period, count(*) AS handoffs FROM ev WHERE stage = $handoff GROUP BY 1),
    x AS (SELECT date_trunc('{grain}', rejected_at) AS period, count(*) AS rejected FROM rj GROUP BY 1)
    SELECT coalesce(h.period, x.period) AS period, coalesce(h.handoffs, 0) AS handoffs, coalesce(x.rejected, 0) AS rejected,
           coalesce(x.rejected, 0) / NULLIF(h.handoffs, 0)::DOUBLE AS rejection_rate
    FROM h FULL OUTER JOIN x ON x.period = h.period ORDER BY period
    """
    return run(con, q, params)


def reasons_over_time(con, scope: Scope = Scope(), grain: str = "month") -> pd.DataFrame:
    if grain not in ("week", "month"):
        raise ConfigError(f"Unknown grain '{grain}'.", hint="Use 'week' or 'month'.")
    _, params, rej = _prepare(con, scope)
    q = f"""WITH rj AS ({rej})
    SELECT date_trunc('{grain}', rejected_at) AS period, coalesce(reason, '(no reason given)') AS reason, count(*) AS rejected
    FROM rj GROUP BY 1, 2 ORDER BY 1, 3 DESC"""
    return run(con, q, params)


def resubmit_delays(con, scope: Scope = Scope(), by: str = "sdr") -> pd.DataFrame:
    """Resubmission delays binned by whole day (0–90+), per value of a lead column."""
    r, params, rej = _prepare(con, scope)
    columns = store.lead_attribute_columns(con)
    if by not in columns:
        raise ConfigError(f"There is no lead column called '{by}'.")
    q = f"""WITH rj AS ({rej})
    SELECT coalesce(CAST(l.{store.quote_ident(by)} AS VARCHAR), '(blank)') AS grp,
           least(floor(rj.resubmit_days), 90) AS delay_days, count(*) AS resubmissions
    FROM rj JOIN leads l ON l.lead_id = rj.lead_id
    WHERE rj.resubmitted_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"""
    return run(con, q, params)


def loop_distribution(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Hand-off leads by number of loops (hand-offs after the first): loops, leads, share."""
    r, params, _ = _prepare(con, scope)
    q = f"""WITH {_events_cte(r)},
    per_lead AS (SELECT lead_id, count(*) - 1 AS loops FROM ev WHERE stage = $handoff GROUP BY lead_id)
    SELECT loops, count(*) AS leads, count(*) / sum(count(*)) OVER ()::DOUBLE AS share
    FROM per_lead GROUP BY loops ORDER BY loops"""
    return run(con, q, params)


def recycled_outcomes(con, scope: Scope = Scope(), stages: tuple[str, ...] = ("SQL", "Customer")) -> pd.DataFrame:
    """Share of handed-off leads reaching each stage: rejected at least once vs never rejected.

    Columns: group, leads, stage, reached, share. Reaching follows metrics.md §1 (a later stage counts).
    """
    r, params, _ = _prepare(con, scope)
    fs = {s.stage: s.position for s in store.funnel_stages(con, "lead")}
    stages = tuple(s for s in stages if s in fs)
    if not stages:
        return pd.DataFrame(columns=["grp", "leads", "stage", "reached", "share"])
    names = {f"st{i}": s for i, s in enumerate(stages)}
    q = f"""WITH {_events_cte(r)},
    per_lead AS (
        SELECT lead_id,
               CASE WHEN count(*) FILTER (WHERE kind = 'rejected') > 0 THEN 'Rejected at least once'
                    ELSE 'Never rejected' END AS grp
        FROM ev GROUP BY lead_id HAVING count(*) FILTER (WHERE stage = $handoff) > 0
    ),
    targets AS (SELECT stage, position FROM stage_config WHERE funnel = 'lead' AND stage IN ({', '.join('$' + k for k in names)})),
    sizes AS (SELECT grp, count(*) AS leads FROM per_lead GROUP BY grp)
    SELECT s.grp, s.leads, t.stage, t.position,
           count(rr.lead_id) AS reached, count(rr.lead_id) / s.leads::DOUBLE AS share
    FROM sizes s CROSS JOIN targets t
    LEFT JOIN (SELECT p.grp, r.lead_id, r.position FROM per_lead p JOIN lead_reach r ON r.lead_id = p.lead_id
               WHERE r.first_reached_at < $as_end) rr ON rr.grp = s.grp AND rr.position = t.position
    GROUP BY s.grp, s.leads, t.stage, t.position ORDER BY s.grp DESC, t.position"""
    return run(con, q, {**params, **names})


def transition_flows(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Counts of every stage-to-stage transition known at D, backward ones included (for a Sankey)."""
    r, params, _ = _prepare(con, scope)
    q = f"""WITH {cohort_cte(r)}
    SELECT v.stage AS from_stage, v.next_stage AS to_stage, count(*) AS transitions
    FROM lead_visits v JOIN cohort c ON c.lead_id = v.lead_id
    WHERE v.next_at < $as_end
    GROUP BY 1, 2 ORDER BY transitions DESC"""
    return run(con, q, params)


def ping_pong_leads(con, scope: Scope = Scope(), min_rejections: int = 2) -> pd.DataFrame:
    """Leads rejected two or more times, with their path and owners, most loops first."""
    r, params, _ = _prepare(con, scope)
    q = f"""WITH {_events_cte(r)},
    per_lead AS (
        SELECT lead_id, count(*) FILTER (WHERE kind = 'rejected') AS rejections,
               count(*) FILTER (WHERE stage = $handoff) AS handoffs,
               string_agg(stage, ' → ' ORDER BY event_no) AS path,
               max(entered_at) AS last_event_at,
               arg_max(stage, event_no) AS current_stage
        FROM ev GROUP BY lead_id
    )
    SELECT p.lead_id, l.channel, l.segment, l.sdr, l.ae, p.rejections, p.handoffs, p.current_stage,
           p.last_event_at, p.path
    FROM per_lead p JOIN leads l ON l.lead_id = p.lead_id
    WHERE p.rejections >= $min_rejections
    ORDER BY p.rejections DESC, p.last_event_at DESC LIMIT 2000"""
    return run(con, q, {**params, "min_rejections": min_rejections})
