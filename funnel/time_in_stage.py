"""Time in stage (metrics.md §2): visits, censoring, Kaplan–Meier, SLA breaches, stuck items."""
from __future__ import annotations

import pandas as pd

from . import access, audit, fmt, store
from .errors import ConfigError
from .i18n import N_, msg
from .query import Resolved, Scope, cohort_rows, opportunity_scope_cte, resolve, run, sql

FUNNELS = ("lead", "opportunity")
GRAIN_INTERVALS = {"week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH"}


def visits_cte(r: Resolved, funnel: str, owner: bool = False) -> str:
    """``visits(item_id, stage, entered_at, next_at[, owner])`` for the scope's items of ``funnel``.

    ``owner`` adds who is responsible for the item in that stage (only the stuck list needs it).
    """
    if funnel == "lead":
        if not owner:
            return ("visits AS (SELECT v.lead_id AS item_id, v.stage, v.entered_at, v.next_at "
                    f"FROM {cohort_rows(r, 'lead_visits', 'v')})")
        # The owner of a lead in a stage is the person of the team that owns the stage: the AE
        # for sales stages (SQL, Opportunity, Rejected), else the SDR.
        return ("visits AS (SELECT v.lead_id AS item_id, v.stage, v.entered_at, v.next_at, "
                "CASE WHEN sc.team = 'sales' THEN coalesce(v.ae, v.sdr) ELSE coalesce(v.sdr, v.ae) END AS owner "
                "FROM " + cohort_rows(r, "lead_visits", "v", "LEFT JOIN stage_config sc "
                                      "ON sc.funnel = 'lead' AND sc.stage = v.stage") + ")")
    if funnel == "opportunity":
        # entered_at is NULL on a deal's opening span (before its first event): not a visit
        if not owner and not r.has_dimension_filter:   # every deal is in scope: no join needed
            return ("visits AS (SELECT h.opportunity_id AS item_id, h.stage, h.entered_at, h.next_at "
                    "FROM deal_history h WHERE h.entered_at IS NOT NULL AND h.created_at < $as_end)")
        return (f"{opportunity_scope_cte(r)}, visits AS ("
                "SELECT h.opportunity_id AS item_id, h.stage, h.entered_at, h.next_at"
                + (", o.owner AS owner " if owner else " ") +
                "FROM deal_history h JOIN opps o ON o.opportunity_id = h.opportunity_id "
                "WHERE h.entered_at IS NOT NULL)")
    raise ConfigError(f"Unknown funnel '{funnel}'.", hint="Use 'lead' or 'opportunity'.")


# Kaplan–Meier without grouping by duration, in one sort. Rank each stage's visits shortest first
# and, at equal durations, finished before still-open ones. A finished visit's at-risk count is
# then the number of visits not ranked before it, and the KM factor (1 - d/n) of a duration with d
# exits splits into d factors (1 - 1/at_risk), one per finished visit — so the log-survival is a
# running sum over finished visits in rank order. That running sum is taken per block of ranks
# (cheap aggregates), and exactly inside the one block where survival crosses one half. A factor
# with at_risk = 1 (everyone left) drops survival to zero: its log is -1e300.
# Needs a ``visits`` CTE before it; parameters $funnel, $as_end and $km_points (blocks per stage).
KM_CTES = """
st AS (
    SELECT stage, position, kind, row_number() OVER (ORDER BY stage) AS sid FROM stage_config
    WHERE funnel = $funnel AND kind IN ('open', 'rejected', 'recycled')
),
v AS (
    -- dur is clamped to [0, 2^55 - 1] µs (1,141 years) so that it stays inside its bits of the
    -- sort key below: a longer visit (only a database from before the import's date bounds can
    -- hold one) would spill into the stage bits and be counted in another stage. Clamping keeps
    -- the order; such visits tie at the cap.
    SELECT st.sid, coalesce(v.next_at < $as_end, FALSE) AS done,
           least(greatest(epoch_us(CASE WHEN v.next_at < $as_end THEN v.next_at ELSE $as_end END)
                          - epoch_us(v.entered_at), 0), 36028797018963967) AS dur
    FROM visits v JOIN st ON st.stage = v.stage
    WHERE v.entered_at < $as_end
),
n AS (
    SELECT sid, count(*) AS visits, count(*) FILTER (WHERE done) AS completed,
           greatest(1, count(*) // $km_points) AS block_rows,
           CAST(coalesce(sum(count(*)) OVER (ORDER BY sid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                AS BIGINT) AS before_rows
    FROM v GROUP BY sid
),
ranked AS (
    -- One sort of every visit on a single integer key (stage, duration, finished first) — faster
    -- than a window partitioned by stage. Exact while a funnel has under 128 stages; durations
    -- fit their 55 bits by the clamp above.
    -- Only the key goes through the sort (a quarter faster than carrying sid, dur and done
    -- beside it); they are read back from the key's bits.
    SELECT k >> 56 AS sid, (k & 72057594037927935) >> 1 AS dur, (k & 1) = 0 AS done, rn
    FROM (SELECT k, row_number() OVER (ORDER BY k) AS rn
          FROM (SELECT sid * 72057594037927936 + dur * 2 + CASE WHEN done THEN 0 ELSE 1 END AS k FROM v))
),
terms AS (
    SELECT r.sid, r.dur, n.visits + 1 - (r.rn - n.before_rows) AS at_risk, (r.rn - n.before_rows - 1) // n.block_rows AS b,
           CASE WHEN n.visits - (r.rn - n.before_rows) > 0 THEN ln(1.0 - 1.0 / (n.visits + 1 - (r.rn - n.before_rows)))
                ELSE -1e300 END AS term
    FROM ranked r JOIN n ON n.sid = r.sid
    WHERE r.done
),
blocks AS (SELECT sid, b, sum(term) AS log_sum, max(dur) AS last_dur, count(*) AS done_in_block
           FROM terms GROUP BY sid, b),
cum AS (
    SELECT sid, b, log_sum, last_dur, done_in_block,
           coalesce(sum(log_sum) OVER (PARTITION BY sid ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0.0)
               AS log_before,
           -- finished visits in the stage's earlier blocks: a block holds a run of consecutive
           -- finished ranks, so the percentiles below need to order one block each, not the stage
           CAST(coalesce(sum(done_in_block) OVER (PARTITION BY sid ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING
                                                  AND 1 PRECEDING), 0) AS BIGINT) AS done_before
    FROM blocks
)"""

#: Blocks per stage for the median: small enough to aggregate, small enough to walk one exactly.
KM_MEDIAN_BLOCKS = 512

# The Kaplan–Meier median: the first duration at which survival is at or below one half, with a
# 1e-9 tolerance so an exact 0.5 does not read as 0.5000000001 (metrics.md §2; lifelines' rule).
KM_MEDIAN_CTES = """
hit AS (SELECT sid, min(b) AS b FROM cum WHERE log_before + log_sum <= ln(0.5 + 1e-9) GROUP BY sid),
inside AS (
    SELECT t.sid, t.dur,
           c.log_before + sum(t.term) OVER (PARTITION BY t.sid ORDER BY t.at_risk DESC
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS log_s
    FROM terms t JOIN hit h ON h.sid = t.sid AND h.b = t.b JOIN cum c ON c.sid = t.sid AND c.b = t.b
),
km AS (
    -- the block's last duration when rounding kept every partial sum a hair above the line
    SELECT h.sid, coalesce(min(i.dur) FILTER (WHERE i.log_s <= ln(0.5 + 1e-9)), any_value(c.last_dur)) / 3.6e9
               AS km_median_hours
    FROM hit h JOIN cum c ON c.sid = h.sid AND c.b = h.b LEFT JOIN inside i ON i.sid = h.sid
    GROUP BY h.sid
)"""


def time_in_stage(con, scope: Scope = Scope(), funnel: str = "lead") -> pd.DataFrame:
    """Per stage: visits, completed, censored, median_hours, p90_hours, km_median_hours."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = (sql("time_in_stage").replace("{visits}", visits_cte(r, funnel)).replace("{km}", KM_CTES)
         .replace("{km_median}", KM_MEDIAN_CTES).replace("{curve_columns}", ""))
    return run(con, q, {**r.params, "funnel": funnel, "km_points": KM_MEDIAN_BLOCKS})


# A block's last exit time is a point of the curve; a tie spanning blocks is one point, taken
# from its first block. Exits at that time ranked into later blocks still belong to it; the first
# exit ranked at a time carries its at-risk count (finished visits rank before open ones).
KM_CURVE_CTES = """
ends AS (SELECT sid, last_dur, min(b) AS b FROM cum GROUP BY sid, last_dur),
tie AS (
    SELECT e.sid, e.b, coalesce(sum(t.term) FILTER (WHERE t.b > e.b), 0.0) AS spill, max(t.at_risk) AS at_risk
    FROM ends e JOIN terms t ON t.sid = e.sid AND t.dur = e.last_dur
    GROUP BY e.sid, e.b
),
curve AS (
    SELECT st.stage, e.last_dur / 3.6e9 AS hours,
           CASE WHEN c.log_before + c.log_sum + t.spill < -700 THEN 0.0
                ELSE exp(c.log_before + c.log_sum + t.spill) END AS survival,
           t.at_risk
    FROM ends e JOIN cum c ON c.sid = e.sid AND c.b = e.b JOIN tie t ON t.sid = e.sid AND t.b = e.b
    JOIN st ON st.sid = e.sid
)"""

#: Points per stage of a survival curve (about; every exit time on small data).
CURVE_POINTS = 150


def survival_curves(con, scope: Scope = Scope(), funnel: str = "lead", max_points: int = CURVE_POINTS) -> pd.DataFrame:
    """Kaplan–Meier survival per stage: stage, hours, survival, at_risk — at about ``max_points``
    exit times per stage (every exit time on small data), survival exact at each."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = f"WITH {visits_cte(r, funnel)}, {KM_CTES}, {KM_CURVE_CTES}\nSELECT * FROM curve ORDER BY stage, hours"
    return run(con, q, {**r.params, "funnel": funnel, "km_points": max_points})


def time_in_stage_and_curves(con, scope: Scope = Scope(), funnel: str = "lead",
                             max_points: int = CURVE_POINTS) -> dict[str, pd.DataFrame]:
    """``{"stages": time_in_stage(...), "curves": survival_curves(...)}`` from one ranking of the
    visits — what the Time in stage page draws, at the cost of one of the two."""
    r = resolve(con, scope)
    store.ensure_derived(con)
    stage_part = (sql("time_in_stage").replace("{visits}", visits_cte(r, funnel)).replace("{km}", KM_CTES)
                  .replace("{km_median}", KM_MEDIAN_CTES + ", " + KM_CURVE_CTES)
                  .replace("{curve_columns}", ", NULL AS hours, NULL AS survival, NULL AS at_risk"))
    # The stage table's final SELECT (its ORDER BY dropped), then the curve's rows in the same columns.
    head, _, _ = stage_part.rpartition("ORDER BY")
    q = (f"{head}\nUNION ALL\nSELECT stage, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, hours, survival, at_risk "
         "FROM curve")
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
    stage_filter = "TRUE"
    if stages:
        names = []
        for i, name in enumerate(stages):
            params[f"s{i}"] = str(name)
            names.append(f"$s{i}")
        stage_filter = f"v.stage IN ({', '.join(names)})"
    q = f"""
    WITH {visits_cte(r, funnel, owner=True)},
    st AS (SELECT stage, sla_hours FROM stage_config WHERE funnel = $funnel AND kind = 'open'),
    cur AS (
        SELECT v.item_id, v.stage, v.owner, v.entered_at,
               (epoch($as_end) - epoch(v.entered_at)) / 86400.0 AS days_in_stage, st.sla_hours / 24.0 AS sla_days
        FROM visits v JOIN st ON st.stage = v.stage
        WHERE v.entered_at < $as_end AND (v.next_at IS NULL OR v.next_at >= $as_end) AND {stage_filter}
    ),
    hit AS (SELECT * FROM cur WHERE days_in_stage > coalesce(CAST($min_days AS DOUBLE), sla_days))
    SELECT *, count(*) OVER () AS total FROM hit
    ORDER BY days_in_stage DESC, item_id
    LIMIT $limit
    """
    return run(con, q, params)


def sla_summary(con, scope: Scope = Scope(), funnel: str = "lead") -> pd.DataFrame:
    """Per stage with an SLA target: visits, breaches (completed or still-open visits longer than the
    target), breach_rate, and how many items are over it right now (``over_now``).

    Columns: stage, position, sla_hours, visits, breaches, breach_rate, over_now.
    """
    if funnel not in FUNNELS:
        raise ConfigError(f"Unknown funnel '{funnel}'.", hint="Use 'lead' or 'opportunity'.")
    r = resolve(con, scope)
    store.ensure_derived(con)
    q = f"""
    WITH {visits_cte(r, funnel)},
    st AS (SELECT stage, position, sla_hours FROM stage_config
           WHERE funnel = $funnel AND kind IN ('open', 'rejected', 'recycled') AND sla_hours IS NOT NULL),
    v AS (
        SELECT v.stage, CASE WHEN v.next_at < $as_end THEN 0 ELSE 1 END AS still_open,
               (epoch(CASE WHEN v.next_at < $as_end THEN v.next_at ELSE $as_end END) - epoch(v.entered_at)) / 3600.0 AS hours
        FROM visits v JOIN st ON st.stage = v.stage WHERE v.entered_at < $as_end
    ),
    agg AS (
        SELECT stage, count(*) AS visits,
               count(*) FILTER (WHERE hours > sla_hours) AS breaches,
               count(*) FILTER (WHERE hours > sla_hours AND still_open = 1) AS over_now
        FROM v JOIN st USING (stage) GROUP BY stage
    )
    SELECT st.stage, st.position, st.sla_hours,
           CAST(coalesce(a.visits, 0) AS BIGINT) AS visits, CAST(coalesce(a.breaches, 0) AS BIGINT) AS breaches,
           a.breaches / NULLIF(a.visits, 0)::DOUBLE AS breach_rate,
           CAST(coalesce(a.over_now, 0) AS BIGINT) AS over_now
    FROM st LEFT JOIN agg a ON a.stage = st.stage
    ORDER BY st.position IS NULL, st.position, st.stage
    """
    return run(con, q, {**r.params, "funnel": funnel})


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
            raise ConfigError(f"There is no {funnel} stage called '{stage}'.",
                              hint="Rename or add stages on the Stage settings page.")
        if hours is not None:
            try:
                hours = float(hours)
            except (TypeError, ValueError):
                raise ConfigError(f"The target for '{stage}' is not a number.", hint="Type a number of days.") from None
            if hours != hours:  # NaN: an emptied cell means "no target"
                hours = None
            elif hours < 0:
                raise ConfigError(f"The target for '{stage}' is negative.",
                                  hint="Type zero or more days, or leave the cell empty for no target.")
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
                     summary=f"Changed {funnel} SLA targets (hours): "
                             + (", ".join(f"{s} {before_all.get(s)} → {h}" for h, s in changed) or "no change"),
                     data_version_before=version_before)


def sla_breaches(con, scope: Scope = Scope(), funnel: str = "lead", grain: str = "month") -> pd.DataFrame:
    """Per stage and period of entry: visits, visits over the stage's SLA (completed or still open).

    A censored visit already longer than its SLA is a breach; a shorter censored one is not (yet).
    Columns: stage, position, period, sla_hours, visits, breaches, breach_rate, complete.
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
           count(*) FILTER (WHERE hours > sla_hours) / count(*)::DOUBLE AS breach_rate,
           -- complete: every visit of the period has had its full target time by the end of D, so
           -- the rate can no longer rise (a younger period's open visits may still cross the target)
           CAST(period AS TIMESTAMP) + {GRAIN_INTERVALS[grain]} + max(sla_hours) * INTERVAL 1 HOUR <= $as_end AS complete
    FROM v GROUP BY 1, 2, 3 ORDER BY position IS NULL, position, stage, period
    """
    return run(con, q, {**r.params, "funnel": funnel})


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
