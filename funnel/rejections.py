"""SDR rejection and recycle loops (metrics.md §3).

The hand-off stage is MQL (see ``store.handoff_stage``); a rejection is an event into a stage of
kind ``rejected``; a resubmission is a rejection followed later by a hand-off of the same lead.
Every query starts from the CTEs of ``sql/rejection_events.sql`` (cohort → its events known at D
→ rejections paired with their resubmission) and adds its own aggregation.
"""
from __future__ import annotations

import math
from functools import lru_cache

import pandas as pd
from sqlglot import exp

from . import fmt, i18n, sqlcompose, store
from .errors import ConfigError
from .i18n import N_, msg
from .query import Resolved, Scope, cohort_condition, group_expr, resolve, run

#: Breakdowns below this many hand-offs are flagged, so nobody is judged on three leads.
SMALL_SAMPLE = 30

#: A resubmission this quick (days) is a "bounce-back": the lead was sent straight back.
QUICK_RESUBMIT_DAYS = 2

#: The stage that counts as "converted" after a resubmission (falls back to the won stage).
DEFAULT_OUTCOME_STAGE = "SQL"

#: A group "stands out" at this many times the team rate (the Overview page uses the same ratio) …
STANDOUT_RATIO = 1.3
#: … and only when chance is an unlikely explanation: z ≥ 1.96 (two-sided 5%) against everyone else.
STANDOUT_Z = 1.96

RECYCLED_GROUP = "Rejected at least once"
FIRST_PASS_GROUP = "Never rejected"

GRAINS = ("week", "month")


def _base(con, scope: Scope, *, from_position: int | None = None,
          carry: tuple[str, ...] = ()) -> tuple[Resolved, dict, str]:
    """(resolved scope, parameters, the shared CTEs ``WITH cohort, ev, handoffs, rej, nxt, rj``).

    ``carry`` names lead columns copied into lead_visits (store.DERIVED_LEAD_COLUMNS) that ride
    along from the events to ``handoffs``, ``rej`` and ``rj``: a breakdown by them needs no join.
    A breakdown by any other column joins ``leads l`` to its per-lead (or per-rejection) rows."""
    r, params, shape = _resolved_shape(con, scope, from_position=from_position, carry=carry)
    return r, params, _rejection_sql(*shape)[0]


def _query(con, scope: Scope, *, from_position: int | None = None,
           carry: tuple[str, ...] = ()) -> tuple[Resolved, dict, str]:
    """The whole rejection_events query composed for the scope."""
    r, params, shape = _resolved_shape(con, scope, from_position=from_position, carry=carry)
    return r, params, _rejection_sql(*shape)[1]


def _resolved_shape(con, scope: Scope, *, from_position: int | None, carry: tuple[str, ...]):
    """(resolved scope, parameters, the query's shape for :func:`_rejection_sql`).

    ``ev`` holds the hand-off and rejection events, plus, with ``from_position``, the events into
    funnel stages (open or won) at that position or later.
    """
    r = resolve(con, scope)
    store.ensure_derived(con)
    handoff = store.handoff_stage(con)
    params = {**r.params, "handoff": handoff}
    wanted = [handoff]
    for s in store.stages(con, "lead"):
        if s.kind == "rejected" or (from_position is not None and s.kind in ("open", "won")
                                    and s.position is not None and s.position >= from_position):
            wanted.append(s.stage)
    stage_params = {f"stage{i}": s for i, s in enumerate(dict.fromkeys(wanted))}
    params.update(stage_params)
    unknown = [c for c in carry if c not in store.DERIVED_LEAD_COLUMNS]
    if unknown:
        raise ConfigError(f"Lead columns {unknown} are not carried by lead_visits.")
    return r, params, (r.filter_params, _cohort_is_every_lead(con, r), len(stage_params), tuple(carry))


@lru_cache(maxsize=256)
def _rejection_sql(filter_params: tuple, every_lead: bool, n_stages: int, carry: tuple[str, ...]) -> tuple[str, str]:
    """(the CTEs as a WITH clause, the whole query) of rejection_events for one query shape."""
    q = sqlcompose.query("rejection_events")
    q = sqlcompose.with_cte(q, "cohort", exp.select("l.lead_id", "l.created_at").from_("leads AS l")
                            .where(cohort_condition(filter_params, "l")))
    ctes = sqlcompose.ctes(q)
    ev = ctes["ev"]
    if every_lead:
        ev.set("joins", [j for j in ev.args["joins"] if j.this.alias_or_name != "c"])
    stage_in = next(i for i in ev.args["where"].find_all(exp.In) if i.this.sql() == "v.stage")
    stage_in.replace(exp.In(this=exp.column("stage", table="v"),
                            expressions=[sqlcompose.param(f"stage{i}") for i in range(n_stages)]))
    for cte, alias in (("ev", "v"), ("handoffs", None), ("rej", None), ("rj", "r")):
        for c in carry:
            ctes[cte].select(exp.column(c, table=alias), copy=False)
    return sqlcompose.to_sql(q.args["with_"]), sqlcompose.to_sql(q, "rejection_events")


def _cohort_is_every_lead(con, r: Resolved) -> bool:
    """True when no dimension filter is set and every lead lies in the cohort's dates (a cheap scan)."""
    if r.has_dimension_filter:
        return False
    q = f"SELECT count(*) AS outside FROM leads l WHERE NOT ({r.cohort_where})"
    return int(run(con, q, r.params).iloc[0]["outside"]) == 0


def _outcome_position(con, outcome_stage: str | None) -> tuple[str, int]:
    fs = store.funnel_stages(con, "lead")
    by_name = {s.stage: s.position for s in fs}
    if outcome_stage in by_name:
        return outcome_stage, by_name[outcome_stage]
    won = [s for s in fs if s.kind == "won"] or fs[-1:]
    if not won:
        raise ConfigError("The lead funnel has no stages.", hint="Add stages on the Stage settings page.")
    return won[0].stage, won[0].position


def rejection_events(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Every rejection of a cohort lead known at D: lead_id, rejected_at, actor, reason,
    resubmitted_at and resubmit_days (null when the lead was not handed off again by D)."""
    _, params, q = _query(con, scope)
    return run(con, q, params)


def rejection_summary(con, scope: Scope = Scope()) -> dict:
    """Hand-offs, rejections, rate, resubmissions (within 7 days, median delay), leads with loops."""
    _, params, base = _base(con, scope)
    q = f"""
    {base},
    per_lead AS (SELECT lead_id, count(*) AS n_handoffs FROM handoffs GROUP BY lead_id),
    h AS (SELECT coalesce(sum(n_handoffs), 0) AS handoffs, count(*) FILTER (WHERE n_handoffs > 1) AS leads_with_loops,
                 count(*) AS leads_handed_off FROM per_lead),
    x AS (SELECT count(*) AS rejected, count(resubmitted_at) AS resubmissions,
                 count(*) FILTER (WHERE resubmit_days <= 7) AS resubmitted_within_7d,
                 median(resubmit_days) AS median_resubmit_days FROM rj)
    SELECT h.handoffs, x.rejected, x.resubmissions, x.resubmitted_within_7d, x.median_resubmit_days,
           h.leads_with_loops, h.leads_handed_off
    FROM h CROSS JOIN x
    """
    row = run(con, q, params).iloc[0].to_dict()
    return _summary_dict({k: (None if pd.isna(v) else (int(v) if k != "median_resubmit_days" else float(v)))
                          for k, v in row.items()})


def _summary_dict(out: dict) -> dict:
    """The counts of :func:`rejection_summary` with its two shares added."""
    out["rejection_rate"] = out["rejected"] / out["handoffs"] if out["handoffs"] else None
    out["resubmitted_within_7d_share"] = (out["resubmitted_within_7d"] / out["resubmissions"]
                                          if out["resubmissions"] else None)
    return out


def rejections_by_reason(con, scope: Scope = Scope()) -> pd.DataFrame:
    """reason (None when the event gave none), rejected, share."""
    _, params, base = _base(con, scope)
    q = f"""{base}
    SELECT reason, count(*) AS rejected, count(*) / sum(count(*)) OVER ()::DOUBLE AS share
    FROM rj GROUP BY reason ORDER BY rejected DESC, reason NULLS LAST"""
    return run(con, q, params)


def rejection_breakdown(con, scope: Scope = Scope(), by: str = "ae",
                        outcome_stage: str = DEFAULT_OUTCOME_STAGE) -> pd.DataFrame:
    """Rejection rate per value of a lead column (ae, sdr, channel, segment, …) or per ``actor``.

    Per lead column: hand-offs and rejections of the leads with that value, rate,
    resubmissions (within 2 and 7 days, median delay), ``small_sample`` when there are fewer than
    30 hand-offs, and how many resubmissions "converted": the lead later (after the resubmission,
    by D) reached ``outcome_stage`` or a later funnel stage — all of them, and those that came
    back within 2 days. ``stands_out``: at least 30 hand-offs, a rate at least 1.3× the team's, and
    a two-proportion z of at least 1.96 against all other hand-offs (so not likely chance). Per actor (who rejected): rejections, share of all rejections, and
    resubmissions of the leads they rejected.
    """
    if by == "actor":
        _, params, base = _base(con, scope)
        q = f"""{base}
        SELECT coalesce(actor, '(unknown)') AS grp, count(*) AS rejected,
               count(*) / sum(count(*)) OVER ()::DOUBLE AS share,
               count(resubmitted_at) AS resubmissions
        FROM rj GROUP BY 1 ORDER BY rejected DESC, grp"""
        return run(con, q, params)
    return _breakdowns(con, scope, (by,), outcome_stage)[by]


def rejection_rates(con, scope: Scope = Scope(), by: str = "ae") -> pd.DataFrame:
    """Hand-offs, rejections and rate per value of a lead column — the first columns of
    :func:`rejection_breakdown` (same definitions, same ``stands_out`` rule) without pairing
    rejections with resubmissions, for a quick look such as the Overview's highlight.

    Columns: grp, handoffs, rejected, rejection_rate, small_sample, stands_out.
    """
    copied = by in store.DERIVED_LEAD_COLUMNS
    _, params, base = _base(con, scope, carry=(by,) if copied else ())
    if copied:
        g = group_expr(con, by, "e")
        h_source, x_source = "handoffs e", "rej e"
    else:
        g = group_expr(con, by)
        h_source, x_source = ("handoffs e JOIN leads l ON l.lead_id = e.lead_id",
                              "rej e JOIN leads l ON l.lead_id = e.lead_id")
    q = f"""{base},
    h AS (SELECT {g} AS grp, count(*) AS handoffs FROM {h_source} GROUP BY 1),
    x AS (SELECT {g} AS grp, count(*) AS rejected FROM {x_source} GROUP BY 1)
    SELECT coalesce(h.grp, x.grp) AS grp, coalesce(h.handoffs, 0) AS handoffs, coalesce(x.rejected, 0) AS rejected
    FROM h FULL OUTER JOIN x ON x.grp = h.grp"""
    df = run(con, q, params)
    df["rejection_rate"] = df["rejected"] / df["handoffs"].where(df["handoffs"] > 0)
    df["small_sample"] = df["handoffs"] < SMALL_SAMPLE
    tot_h, tot_r = int(df["handoffs"].sum()), int(df["rejected"].sum())
    team = tot_r / tot_h if tot_h else None

    def stands_out(row) -> bool:
        if row.small_sample or team is None or pd.isna(row.rejection_rate) or row.rejection_rate < STANDOUT_RATIO * team:
            return False
        z = _two_proportion_z(int(row.rejected), int(row.handoffs), tot_r - int(row.rejected), tot_h - int(row.handoffs))
        return z is not None and z >= STANDOUT_Z
    df["stands_out"] = [stands_out(row) for row in df.itertuples()]
    return df.sort_values(["rejection_rate", "grp"], ascending=[False, True], na_position="last").reset_index(drop=True)


def _breakdowns(con, scope: Scope, bys: tuple[str, ...], outcome_stage: str = DEFAULT_OUTCOME_STAGE,
                with_totals: bool = False) -> dict:
    """:func:`rejection_breakdown` by each lead column of ``bys`` from one query (GROUPING SETS:
    the rejections are paired once, whatever the number of breakdowns). With ``with_totals`` the
    result also holds ``"_totals"``: the :func:`rejection_summary` row of the same scope."""
    stage, pos = _outcome_position(con, outcome_stage)
    # Columns copied into lead_visits ride along with the events; any other needs the join to leads.
    copied = all(by in store.DERIVED_LEAD_COLUMNS for by in bys)
    carry = tuple(dict.fromkeys(bys)) if copied else ()
    _, params, base = _base(con, scope, carry=carry)
    # hand-offs per lead (p.n), with the group columns carried or joined
    if copied:
        h_source = ("(SELECT lead_id, count(*) AS n" + "".join(f", any_value({c}) AS {c}" for c in carry) +
                    " FROM handoffs GROUP BY lead_id) p")
        x_source = "rj r LEFT JOIN reach rc ON rc.lead_id = r.lead_id"
        h_groups, x_groups = [group_expr(con, by, "p") for by in bys], [group_expr(con, by, "r") for by in bys]
    else:
        h_source = "(SELECT lead_id, count(*) AS n FROM handoffs GROUP BY lead_id) p JOIN leads l ON l.lead_id = p.lead_id"
        x_source = "rj r JOIN leads l ON l.lead_id = r.lead_id LEFT JOIN reach rc ON rc.lead_id = r.lead_id"
        h_groups = x_groups = [group_expr(con, by) for by in bys]
    h_cols = ", ".join(f"{g} AS g{i}" for i, g in enumerate(h_groups))
    x_cols = ", ".join(f"{g} AS g{i}" for i, g in enumerate(x_groups))
    sets = ", ".join(f"(g{i})" for i in range(len(bys))) + (", ()" if with_totals else "")
    # which grouping set a row belongs to: the breakdown's index, or -1 for the totals row
    dim = "CASE " + " ".join(f"WHEN grouping(g{i}) = 0 THEN {i}" for i in range(len(bys))) + " ELSE -1 END"
    grp = f"coalesce({', '.join(f'g{i}' for i in range(len(bys)))}, '')"
    # Where the resubmitted leads got to: their last event into the outcome stage or a later one (by D)
    q = f"""{base},
    back AS (SELECT DISTINCT lead_id FROM rj WHERE resubmitted_at IS NOT NULL),
    reach AS (SELECT v.lead_id, max(v.event_no) AS last_outcome_no
              FROM lead_visits v JOIN back b ON b.lead_id = v.lead_id
              JOIN stage_config s ON s.funnel = 'lead' AND s.stage = v.stage
              WHERE v.entered_at < $as_end AND s.kind IN ('open', 'won') AND s.position >= $outcome_pos
              GROUP BY v.lead_id),
    hl AS (SELECT p.n, {h_cols} FROM {h_source}),
    xl AS (SELECT r.resubmitted_at, r.resubmit_days, r.resubmit_event_no, rc.last_outcome_no, {x_cols}
           FROM {x_source}),
    h AS (SELECT {dim} AS dim, {grp} AS grp, sum(n) AS handoffs,
                 count(*) FILTER (WHERE n > 1) AS leads_with_loops, count(*) AS leads_handed_off
          FROM hl GROUP BY GROUPING SETS ({sets})),
    x AS (SELECT {dim} AS dim, {grp} AS grp, count(*) AS rejected, count(resubmitted_at) AS resubmissions,
                 count(*) FILTER (WHERE resubmit_days <= $quick) AS resubmitted_within_2d,
                 count(*) FILTER (WHERE resubmit_days <= 7) AS resubmitted_within_7d,
                 median(resubmit_days) AS median_resubmit_days,
                 count(*) FILTER (WHERE last_outcome_no > resubmit_event_no) AS resubmissions_converted,
                 count(*) FILTER (WHERE resubmit_days <= $quick
                                    AND last_outcome_no > resubmit_event_no) AS quick_resubmissions_converted
          FROM xl GROUP BY GROUPING SETS ({sets})),
    b AS (
    SELECT coalesce(h.dim, x.dim) AS dim, coalesce(h.grp, x.grp) AS grp, coalesce(h.handoffs, 0) AS handoffs,
           coalesce(x.rejected, 0) AS rejected,
           coalesce(x.rejected, 0) / NULLIF(h.handoffs, 0)::DOUBLE AS rejection_rate,
           coalesce(x.resubmissions, 0) AS resubmissions,
           coalesce(x.resubmitted_within_2d, 0) AS resubmitted_within_2d,
           coalesce(x.resubmitted_within_7d, 0) AS resubmitted_within_7d,
           x.median_resubmit_days,
           coalesce(x.resubmissions_converted, 0) AS resubmissions_converted,
           coalesce(x.quick_resubmissions_converted, 0) AS quick_resubmissions_converted,
           $outcome_stage AS outcome_stage,
           coalesce(h.handoffs, 0) < {SMALL_SAMPLE} AS small_sample,
           coalesce(h.leads_with_loops, 0) AS leads_with_loops, coalesce(h.leads_handed_off, 0) AS leads_handed_off
    FROM h FULL OUTER JOIN x ON x.dim = h.dim AND x.grp = h.grp
    ),
    t AS (SELECT b.*, sum(rejected) OVER (PARTITION BY dim) AS tot_r, sum(handoffs) OVER (PARTITION BY dim) AS tot_h
          FROM b),
    z AS (
        -- two-proportion z statistic of the group against everyone else (pooled variance)
        SELECT t.*, CASE WHEN handoffs > 0 AND tot_h - handoffs > 0 AND tot_r > 0 AND tot_r < tot_h THEN
                   (rejected / handoffs::DOUBLE - (tot_r - rejected) / (tot_h - handoffs)::DOUBLE)
                   / sqrt((tot_r / tot_h::DOUBLE) * (1 - tot_r / tot_h::DOUBLE)
                          * (1.0 / handoffs + 1.0 / (tot_h - handoffs))) END AS z
        FROM t
    )
    SELECT dim, grp, handoffs, rejected, rejection_rate, resubmissions, resubmitted_within_2d, resubmitted_within_7d,
           median_resubmit_days, resubmissions_converted, quick_resubmissions_converted, outcome_stage,
           small_sample,
           coalesce(NOT small_sample AND rejection_rate >= $ratio * tot_r / tot_h::DOUBLE AND z >= $z_min, FALSE)
               AS stands_out,
           leads_with_loops, leads_handed_off
    FROM z
    ORDER BY dim, rejection_rate DESC NULLS LAST, grp
    """
    df = run(con, q, {**params, "outcome_pos": pos, "outcome_stage": stage, "quick": QUICK_RESUBMIT_DAYS,
                      "ratio": STANDOUT_RATIO, "z_min": STANDOUT_Z})
    out: dict = {}
    for i, by in enumerate(bys):
        out[by] = (df[df["dim"] == i].drop(columns=["dim", "leads_with_loops", "leads_handed_off"])
                   .reset_index(drop=True))
    if with_totals:
        tot = df[df["dim"] == -1]
        row = tot.iloc[0] if len(tot) else None
        def val(c):
            return 0 if row is None or pd.isna(row[c]) else int(row[c])
        out["_totals"] = _summary_dict({
            "handoffs": val("handoffs"), "rejected": val("rejected"), "resubmissions": val("resubmissions"),
            "resubmitted_within_7d": val("resubmitted_within_7d"),
            "median_resubmit_days": None if row is None or pd.isna(row["median_resubmit_days"])
            else float(row["median_resubmit_days"]),
            "leads_with_loops": val("leads_with_loops"), "leads_handed_off": val("leads_handed_off")})
    return out


def rejection_trend(con, scope: Scope = Scope(), grain: str = "week") -> pd.DataFrame:
    """Per period (of the event): hand-offs, rejections and their ratio."""
    if grain not in GRAINS:
        raise ConfigError(f"Unknown grain '{grain}'.", hint="Use 'week' or 'month'.")
    _, params, base = _base(con, scope)
    q = f"""{base},
    h AS (SELECT date_trunc('{grain}', entered_at) AS period, count(*) AS handoffs FROM handoffs GROUP BY 1),
    x AS (SELECT date_trunc('{grain}', rejected_at) AS period, count(*) AS rejected FROM rj GROUP BY 1)
    SELECT coalesce(h.period, x.period) AS period, coalesce(h.handoffs, 0) AS handoffs, coalesce(x.rejected, 0) AS rejected,
           coalesce(x.rejected, 0) / NULLIF(h.handoffs, 0)::DOUBLE AS rejection_rate
    FROM h FULL OUTER JOIN x ON x.period = h.period ORDER BY period
    """
    return run(con, q, params)


def reasons_over_time(con, scope: Scope = Scope(), grain: str = "month") -> pd.DataFrame:
    """period (start of the rejection's week/month), reason ('(no reason given)' when missing), rejected."""
    if grain not in GRAINS:
        raise ConfigError(f"Unknown grain '{grain}'.", hint="Use 'week' or 'month'.")
    _, params, base = _base(con, scope)
    q = f"""{base}
    SELECT date_trunc('{grain}', rejected_at) AS period, coalesce(reason, '(no reason given)') AS reason,
           count(*) AS rejected
    FROM rj GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"""
    return run(con, q, params)


def resubmit_delays(con, scope: Scope = Scope(), by: str | None = "sdr") -> pd.DataFrame:
    """Resubmissions per whole day of delay (0, 1, …; 90 means 90 or more), per value of a lead
    column (``by=None``: one group, 'All leads'). Columns: grp, delay_days, resubmissions."""
    _, params, base = _base(con, scope)
    q = f"""{base}
    SELECT {group_expr(con, by)} AS grp, CAST(least(floor(rj.resubmit_days), 90) AS INTEGER) AS delay_days,
           count(*) AS resubmissions
    FROM rj JOIN leads l ON l.lead_id = rj.lead_id
    WHERE rj.resubmitted_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"""
    return run(con, q, params)


def loop_distribution(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Handed-off leads by number of loops (hand-offs after the first): loops, leads, share."""
    _, params, base = _base(con, scope)
    q = f"""{base},
    per_lead AS (SELECT lead_id, count(*) - 1 AS loops FROM handoffs GROUP BY lead_id)
    SELECT loops, count(*) AS leads, count(*) / sum(count(*)) OVER ()::DOUBLE AS share
    FROM per_lead GROUP BY loops ORDER BY loops"""
    return run(con, q, params)


def recycled_outcomes(con, scope: Scope = Scope(), stages: tuple[str, ...] = ("SQL", "Customer")) -> pd.DataFrame:
    """Share of leads reaching each stage: rejected at least once vs handed off and never rejected.

    "Rejected at least once" (recycled) leads count as reaching S only when they reach it *after*
    their first rejection ("later", metrics.md §3) — a lead rejected at SQL that never came back is
    not a recycling success. Reaching follows §1: an event into S or a later funnel stage, by D.
    Columns: grp, leads, stage, position, reached, share.
    """
    fs = {s.stage: s.position for s in store.funnel_stages(con, "lead")}
    stages = tuple(s for s in stages if s in fs)
    if not stages:
        return pd.DataFrame({"grp": pd.Series(dtype=object), "leads": pd.Series(dtype="int64"),
                             "stage": pd.Series(dtype=object), "position": pd.Series(dtype="int64"),
                             "reached": pd.Series(dtype="int64"), "share": pd.Series(dtype="float64")})
    min_pos = min(fs[s] for s in stages)
    _, params, base = _base(con, scope, from_position=min_pos)
    targets = " UNION ALL ".join(f"SELECT $st{i} AS stage, $pos{i} AS position" for i in range(len(stages)))
    names = {f"st{i}": s for i, s in enumerate(stages)} | {f"pos{i}": fs[s] for i, s in enumerate(stages)}
    q = f"""{base},
    per_lead AS (
        SELECT lead_id,
               min(event_no) FILTER (WHERE kind = 'rejected') AS first_rejection_no,
               count(*) FILTER (WHERE stage = $handoff) AS n_handoffs
        FROM ev GROUP BY lead_id
    ),
    grouped AS (
        SELECT lead_id, first_rejection_no,
               CASE WHEN first_rejection_no IS NOT NULL THEN '{RECYCLED_GROUP}' ELSE '{FIRST_PASS_GROUP}' END AS grp
        FROM per_lead WHERE first_rejection_no IS NOT NULL OR n_handoffs > 0
    ),
    targets AS ({targets}),
    sizes AS (SELECT grp, count(*) AS leads FROM grouped GROUP BY grp),
    hit AS (
        SELECT g.grp, t.stage, count(DISTINCT g.lead_id) AS reached
        FROM grouped g
        JOIN ev e ON e.lead_id = g.lead_id AND e.kind IN ('open', 'won')
             AND e.event_no > coalesce(g.first_rejection_no, 0)
        JOIN targets t ON e.position >= t.position
        GROUP BY 1, 2
    )
    SELECT s.grp, s.leads, t.stage, t.position, coalesce(h.reached, 0) AS reached,
           coalesce(h.reached, 0) / s.leads::DOUBLE AS share
    FROM sizes s CROSS JOIN targets t
    LEFT JOIN hit h ON h.grp = s.grp AND h.stage = t.stage
    ORDER BY s.grp DESC, t.position"""
    return run(con, q, {**params, **names, "min_pos": min_pos})


def transition_flows(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Counts of every stage-to-stage transition known at D, backward ones included (for a Sankey).

    Columns: from_stage, to_stage, transitions (both events of a transition lie on or before D).
    """
    r = resolve(con, scope)
    store.ensure_derived(con)
    join = "" if _cohort_is_every_lead(con, r) else "JOIN cohort c ON c.lead_id = v.lead_id"
    q = f"""WITH cohort AS (SELECT l.lead_id FROM leads l WHERE {r.cohort_where})
    SELECT v.stage AS from_stage, v.next_stage AS to_stage, count(*) AS transitions
    FROM lead_visits v {join}
    WHERE v.next_at < $as_end
    GROUP BY 1, 2 ORDER BY transitions DESC, from_stage, to_stage"""
    return run(con, q, r.params)


def ping_pong_leads(con, scope: Scope = Scope(), min_rejections: int = 2, limit: int = 2000) -> pd.DataFrame:
    """Leads rejected ``min_rejections`` times or more by D, with their path and owners, most rejections first.

    Columns: lead_id, channel, segment, sdr, ae, rejections, handoffs, current_stage,
    last_event_at, path (every stage the lead entered by D, in event order).
    """
    _, params, base = _base(con, scope)
    q = f"""{base},
    pp AS (SELECT lead_id, count(*) AS rejections FROM rj GROUP BY lead_id HAVING count(*) >= $min_rejections),
    walk AS (
        SELECT v.lead_id, string_agg(v.stage, ' → ' ORDER BY v.event_no) AS path,
               count(*) FILTER (WHERE v.stage = $handoff) AS handoffs,
               max(v.entered_at) AS last_event_at, arg_max(v.stage, v.event_no) AS current_stage
        FROM lead_visits v JOIN pp ON pp.lead_id = v.lead_id
        WHERE v.entered_at < $as_end
        GROUP BY v.lead_id
    )
    SELECT p.lead_id, l.channel, l.segment, l.sdr, l.ae, p.rejections, w.handoffs, w.current_stage,
           w.last_event_at, w.path
    FROM pp p JOIN walk w ON w.lead_id = p.lead_id JOIN leads l ON l.lead_id = p.lead_id
    ORDER BY p.rejections DESC, w.last_event_at DESC, p.lead_id LIMIT {int(limit)}"""
    return run(con, q, {**params, "min_rejections": int(min_rejections)})


# ---------------------------------------------------------------------------------------------
# The page's verdict: a few plain sentences computed from the figures above (no names hard-coded).


def _pct(x: float) -> fmt.Pct:
    """A rate for the verdict: whole percent, one decimal under 9.5% (so 5.0%, not 5%)."""
    return fmt.Pct(x, 0 if x >= 0.095 or x == 0 else 1)


def _data_presence(con, handoff: str) -> dict:
    """Whether the whole database (any date, any lead) holds hand-offs and rejections at all (1/0)."""
    q = """SELECT CAST(EXISTS (SELECT 1 FROM lead_events) AS INTEGER) AS events,
                  CAST(EXISTS (SELECT 1 FROM lead_events WHERE stage = $handoff) AS INTEGER) AS handoffs,
                  CAST(EXISTS (SELECT 1 FROM lead_events WHERE stage IN (
                      SELECT stage FROM stage_config WHERE funnel = 'lead' AND kind = 'rejected')) AS INTEGER) AS rejections,
                  (SELECT count(*) FROM stage_config WHERE funnel = 'lead' AND kind = 'rejected') AS rejected_stages"""
    return {k: int(v) for k, v in run(con, q, {"handoff": handoff}).iloc[0].to_dict().items()}


def _two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """z statistic of k1/n1 against k2/n2 with a pooled variance; None when it is undefined."""
    if n1 <= 0 or n2 <= 0:
        return None
    p = (k1 + k2) / (n1 + n2)
    if p <= 0 or p >= 1:
        return None
    return (k1 / n1 - k2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


def rejection_verdict(con, scope: Scope = Scope()) -> dict:
    """A short plain-language verdict for the top of the page, and the state it rests on.

    ``state``: ``no_rejection_stage`` (the stage settings have no stage of kind rejected),
    ``no_data`` (the database holds no rejection or no hand-off event at all, e.g. a CRM export that
    keeps only the current status), ``none_in_cohort`` (there are some, but none for this
    cohort/filters), or ``ok``. With ``ok``, the sentence names the AE (and SDR) whose leads
    ``stands_out`` in :func:`rejection_breakdown` (≥ 1.3× the team rate, not likely chance), the SDR
    whose resubmissions bounce back unusually fast (within 2 days; same two tests against the other
    SDRs) and how many of those reach the outcome stage — or says that nobody stands out. Groups
    with fewer than 30 hand-offs (or resubmissions) are never named.

    With ``ok`` the figures it rests on come along — ``summary`` (:func:`rejection_summary`) and
    ``breakdowns`` (:func:`rejection_breakdown` by ``ae`` and ``sdr``) — so a page that shows them
    too does not compute them twice. ``messages`` holds the sentences as
    :class:`funnel.i18n.Message` objects (a page renders them in its reader's language);
    ``sentence`` is the same in English.
    """
    handoff = store.handoff_stage(con)
    presence = _data_presence(con, handoff)
    out = {"state": "ok", "sentence": "", "sentences": [], "messages": [], "standout_ae": None,
           "standout_sdr": None, "quick_sdr": None, "handoff_stage": handoff}

    def done(state: str, *messages):
        out.update(state=state, messages=list(messages), sentence=i18n.render(list(messages), "en"))
        return out

    if presence["rejected_stages"] == 0:
        return done("no_rejection_stage", msg(
            "Rejections cannot be computed: no lead stage is of kind 'rejected' in the stage settings, "
            "so no event can count as a rejected hand-off."))
    if presence["events"] == 0:
        return done("no_data", msg(
            "Rejections cannot be computed for this data: it holds no lead stage history at all, so there is no "
            "hand-off ({handoff}) and no rejection to count.", handoff=handoff))
    if presence["rejections"] == 0 or presence["handoffs"] == 0:
        if presence["rejections"] == 0:
            return done("no_data", msg(
                "Rejections cannot be computed for this data: it holds no rejection events at all. "
                "A CRM export that keeps only each lead's current status loses the moments when sales turned a "
                "lead down; import the lead status history with its Rejected and {handoff} entries to see them.",
                handoff=handoff))
        return done("no_data", msg(
            "Rejections cannot be computed for this data: it holds no hand-off ({handoff}) events at all. "
            "A CRM export that keeps only each lead's current status loses the moments when sales turned a "
            "lead down; import the lead status history with its Rejected and {handoff} entries to see them.",
            handoff=handoff))
    columns = store.lead_attribute_columns(con)
    bys = tuple(by for by in ("ae", "sdr") if by in columns)
    if bys:   # the summary and both breakdowns from one pairing of the rejections
        frames = _breakdowns(con, scope, bys, with_totals=True)
        summary = frames.pop("_totals")
    else:
        frames, summary = {}, rejection_summary(con, scope)
    if not summary["handoffs"] or not summary["rejected"]:
        return done("none_in_cohort", msg(
            "No rejections among these leads ({handoffs} hand-offs, none rejected by the as-of "
            "date) — widen the date range or clear a filter to compare.", handoffs=fmt.Count(summary["handoffs"])))
    team = summary["rejection_rate"]
    sentences = []
    out.update(summary=summary, breakdowns=frames)

    def standout_rate(by: str, label: str):
        if by not in frames:
            return None
        df = frames[by]
        if (df["handoffs"] > 0).sum() < 2:
            return None  # one AE (or none) in scope: nothing to compare
        ok = df[~df["small_sample"] & df["rejection_rate"].notna()]
        if len(ok) < 2:
            return None, msg("Too few hand-offs per {role} to compare them fairly (fewer than {n} each).", role=label,
                             n=fmt.Count(SMALL_SAMPLE))
        out_ = df[df["stands_out"]].sort_values(["rejection_rate", "handoffs", "grp"], ascending=[False, False, True])
        if len(out_):
            top = out_.iloc[0]
            template = (N_("AE {name}'s leads are rejected {ratio} the team rate ({rate} of {handoffs} hand-offs vs "
                           "{team}).") if by == "ae" else
                        N_("SDR {name}'s hand-offs are rejected {ratio} the team rate ({rate} of {handoffs} hand-offs "
                           "vs {team})."))
            return str(top["grp"]), msg(template, name=str(top["grp"]), ratio=fmt.Times(top["rejection_rate"] / team),
                                        rate=_pct(top["rejection_rate"]), handoffs=fmt.Count(int(top["handoffs"])),
                                        team=_pct(team))
        return None, msg("No {role} stands out: rejection rates run from {low} to {high} (team {team}).", role=label,
                         low=_pct(ok["rejection_rate"].min()), high=_pct(ok["rejection_rate"].max()), team=_pct(team))

    ae = standout_rate("ae", "AE")
    if ae:
        out["standout_ae"] = ae[0]
        sentences.append(ae[1])
    sdr = standout_rate("sdr", "SDR")
    if sdr and sdr[0]:
        out["standout_sdr"] = sdr[0]
        sentences.append(sdr[1])
    if "sdr" in frames and summary["resubmissions"]:
        df = frames["sdr"]
        total, quick_all = int(df["resubmissions"].sum()), int(df["resubmitted_within_2d"].sum())
        team_quick = quick_all / total if total else 0.0
        ok = df[df["resubmissions"] >= SMALL_SAMPLE].copy()
        if len(ok) and (df["resubmissions"] > 0).sum() >= 2:
            ok["quick_share"] = ok["resubmitted_within_2d"] / ok["resubmissions"]
            top = ok.sort_values(["quick_share", "resubmissions", "grp"], ascending=[False, False, True]).iloc[0]
            n, k = int(top["resubmissions"]), int(top["resubmitted_within_2d"])
            z = _two_proportion_z(k, n, quick_all - k, total - n)
            if top["quick_share"] >= 0.25 and top["quick_share"] >= STANDOUT_RATIO * team_quick \
                    and z is not None and z >= STANDOUT_Z:
                out["quick_sdr"] = str(top["grp"])
                quick = {"share": _pct(top["quick_share"]), "name": str(top["grp"]),
                         "days": fmt.Count(QUICK_RESUBMIT_DAYS), "team": _pct(team_quick)}
                if k:
                    conv = top["quick_resubmissions_converted"] / k
                    all_conv = df["resubmissions_converted"].sum() / total
                    sentences.append(msg(
                        "{share} of SDR {name}'s resubmissions come back within {days} days of the rejection "
                        "(all SDRs: {team}), and {converted} of those reach {stage} (all resubmissions: {all}).",
                        **quick, converted=_pct(conv), stage=str(top["outcome_stage"]), all=_pct(all_conv)))
                else:
                    sentences.append(msg("{share} of SDR {name}'s resubmissions come back within {days} days of the "
                                         "rejection (all SDRs: {team}).", **quick))
    out["sentences"] = [m.render("en") for m in sentences]   # the figures' own sentences, in English
    return done("ok", *(sentences or [msg("{team} of {handoffs} hand-offs were rejected; no AE or SDR stands out.",
                                          team=_pct(team), handoffs=fmt.Count(summary["handoffs"]))]))
