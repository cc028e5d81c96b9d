"""SDR rejection and recycle loops (metrics.md §3).

The hand-off stage is MQL (see ``store.handoff_stage``); a rejection is an event into a stage of
kind ``rejected``; a resubmission is a rejection followed later by a hand-off of the same lead.
Every figure is a named query in ``funnel/sql/`` (rejection_summary.sql, rejection_breakdown.sql,
…) that reads the CTEs of ``rejection_events.sql`` (cohort → its events known at D → rejections
paired with their resubmission) and adds its own aggregation. :func:`_scoped` sets those CTEs
for a scope; each query's text is generated once per query shape and cached.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache, reduce

import pandas as pd
from sqlglot import exp

from . import fmt, i18n, sqlcompose, store
from .errors import ConfigError
from .i18n import N_, msg
from .query import Resolved, Scope, check_breakdown, cohort_condition, group_expression, resolve, run

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

#: The shape of a rejection query for a scope — (filter_params, every_lead, n_stages, carry), see
#: :func:`_resolved_shape` — hashable, so generated text is cached per shape.
_Shape = tuple[tuple, bool, int, tuple[str, ...]]


def _resolved_shape(con, scope: Scope, *, from_position: int | None = None,
                    carry: tuple[str, ...] = ()) -> tuple[Resolved, dict, _Shape]:
    """(resolved scope, parameters, the query's shape for :func:`_scoped`).

    ``ev`` holds the hand-off and rejection events, plus, with ``from_position``, the events into
    funnel stages (open or won) at that position or later. ``carry`` names lead columns copied
    into lead_visits (store.DERIVED_LEAD_COLUMNS) that ride along from the events to ``handoffs``,
    ``rej`` and ``rj``: a breakdown by them needs no join to leads.
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


def _without_join(select: exp.Select, alias: str) -> exp.Select:
    """``select`` without its join to the table aliased ``alias``. Changes ``select``."""
    select.set("joins", [j for j in select.args.get("joins") or [] if j.this.alias_or_name != alias])
    return select


def _scoped(name: str, shape: _Shape) -> exp.Query:
    """The named query with the rejection_events CTEs it reads set for the scope's shape: the
    cohort for the filters, ev without its join to the cohort when the cohort is every lead, ev's
    stages as bound names ($stage0, …), and the carried lead columns added to the CTEs that carry
    them (ev, handoffs, rej, rj — those the query reads)."""
    filter_params, every_lead, n_stages, carry = shape
    q = sqlcompose.query(name)
    q = sqlcompose.with_cte(q, "cohort", exp.select("l.lead_id", "l.created_at").from_("leads AS l")
                            .where(cohort_condition(filter_params, "l")))
    ctes = sqlcompose.ctes(q)
    ev = ctes["ev"]
    if every_lead:
        _without_join(ev, "c")
    stage_in = next(i for i in ev.args["where"].find_all(exp.In) if i.this.sql() == "v.stage")
    stage_in.replace(exp.In(this=exp.column("stage", table="v"),
                            expressions=[sqlcompose.param(f"stage{i}") for i in range(n_stages)]))
    for cte, alias in (("ev", "v"), ("handoffs", None), ("rej", None), ("rj", "r")):
        if cte in ctes:
            for c in carry:
                ctes[cte].select(sqlcompose.col(c, alias), copy=False)
    return q


@lru_cache(maxsize=256)
def _scoped_sql(name: str, shape: _Shape) -> str:
    """The text of a rejection query that needs nothing but the scope (rejection_events,
    rejection_summary, rejection_reasons, rejection_actors, loop_distribution, ping_pong_leads)."""
    return sqlcompose.to_sql(_scoped(name, shape), name)


@lru_cache(maxsize=None)
def _named_sql(name: str) -> str:
    """The text of a named query run as it stands (no scope to set)."""
    return sqlcompose.to_sql(sqlcompose.query(name), name)


def _cohort_is_every_lead(con, r: Resolved) -> bool:
    """True when no dimension filter is set and every lead lies in the cohort's dates (a cheap scan)."""
    if r.has_dimension_filter:
        return False
    return int(run(con, _named_sql("leads_outside_cohort"), r.params).iloc[0]["outside"]) == 0


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
    _, params, shape = _resolved_shape(con, scope)
    return run(con, _scoped_sql("rejection_events", shape), params)


def rejection_summary(con, scope: Scope = Scope()) -> dict:
    """Hand-offs, rejections, rate, resubmissions (within 7 days, median delay), leads with loops."""
    _, params, shape = _resolved_shape(con, scope)
    row = run(con, _scoped_sql("rejection_summary", shape), params).iloc[0].to_dict()
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
    _, params, shape = _resolved_shape(con, scope)
    return run(con, _scoped_sql("rejection_reasons", shape), params)


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
        _, params, shape = _resolved_shape(con, scope)
        return run(con, _scoped_sql("rejection_actors", shape), params)
    return _breakdowns(con, scope, (by,), outcome_stage)[by]


@lru_cache(maxsize=256)
def _rates_sql(shape: _Shape, by: str | None, copied: bool) -> str:
    """rejection_rates' text for one shape: grp of h and x is ``by`` — read from the carried
    column of the events when ``copied``, else from leads (the file's join)."""
    q = _scoped("rejection_rates", shape)
    ctes = sqlcompose.ctes(q)
    for cte in ("h", "x"):
        if copied:
            _without_join(ctes[cte], "l")
        sqlcompose.replace_projection(ctes[cte], "grp", group_expression(by, "e" if copied else "l"))
    return sqlcompose.to_sql(q, "rejection_rates")


def rejection_rates(con, scope: Scope = Scope(), by: str = "ae") -> pd.DataFrame:
    """Hand-offs, rejections and rate per value of a lead column — the first columns of
    :func:`rejection_breakdown` (same definitions, same ``stands_out`` rule) without pairing
    rejections with resubmissions, for a quick look such as the Overview's highlight.

    Columns: grp, handoffs, rejected, rejection_rate, small_sample, stands_out.
    """
    copied = by in store.DERIVED_LEAD_COLUMNS
    _, params, shape = _resolved_shape(con, scope, carry=(by,) if copied else ())
    check_breakdown(con, by)
    df = run(con, _rates_sql(shape, by, copied), params)
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


#: The group columns of rejection_breakdown's hl and xl: g0, g1, … (one per breakdown).
_GROUP_COLUMN = re.compile(r"g\d+")


@lru_cache(maxsize=128)
def _breakdown_sql(shape: _Shape, bys: tuple[str, ...], copied: bool, with_totals: bool) -> str:
    """rejection_breakdown's text for one shape: the group columns g0, g1, … of hl and xl for
    ``bys`` (carried by the events when ``copied``, else read from leads), one grouping set per
    breakdown (and the empty set of the totals with ``with_totals``), and dim and grp to match."""
    q = _scoped("rejection_breakdown", shape)
    ctes = sqlcompose.ctes(q)
    hl, xl = ctes["hl"], ctes["xl"]
    if copied:
        # the hand-offs per lead take the lead's columns along (the same on each of its hand-offs)
        per_lead = hl.find(exp.Subquery).this
        for c in dict.fromkeys(bys):
            per_lead.select(exp.alias_(exp.func("any_value", sqlcompose.col(c)), sqlcompose.col(c).this), copy=False)
        _without_join(hl, "l")
        _without_join(xl, "l")
    for select, alias in ((hl, "p" if copied else "l"), (xl, "r" if copied else "l")):
        kept = [e for e in select.expressions if not _GROUP_COLUMN.fullmatch(e.alias_or_name)]
        select.set("expressions", [*kept, *(exp.alias_(group_expression(by, alias), f"g{i}")
                                            for i, by in enumerate(bys))])
    groups = [exp.column(f"g{i}") for i in range(len(bys))]
    # which grouping set a row belongs to: the breakdown's index, or -1 for the totals row
    dim = exp.Case()
    for i, g in enumerate(groups):
        dim = dim.when(exp.func("grouping", g.copy()).eq(0), exp.Literal.number(i))
    dim = dim.else_(exp.Literal.number(-1))
    grp = exp.func("coalesce", *(g.copy() for g in groups), exp.Literal.string(""))
    sets = [exp.Paren(this=g.copy()) for g in groups] + ([exp.Tuple()] if with_totals else [])
    for cte in ("h", "x"):
        sqlcompose.replace_projection(ctes[cte], "dim", dim.copy())
        sqlcompose.replace_projection(ctes[cte], "grp", grp.copy())
        ctes[cte].find(exp.GroupingSets).set("expressions", [s.copy() for s in sets])
    return sqlcompose.to_sql(q, "rejection_breakdown")


def _breakdowns(con, scope: Scope, bys: tuple[str, ...], outcome_stage: str = DEFAULT_OUTCOME_STAGE,
                with_totals: bool = False) -> dict:
    """:func:`rejection_breakdown` by each lead column of ``bys`` from one query (GROUPING SETS:
    the rejections are paired once, whatever the number of breakdowns). With ``with_totals`` the
    result also holds ``"_totals"``: the :func:`rejection_summary` row of the same scope."""
    stage, pos = _outcome_position(con, outcome_stage)
    # Columns copied into lead_visits ride along with the events; any other needs the join to leads.
    copied = all(by in store.DERIVED_LEAD_COLUMNS for by in bys)
    carry = tuple(dict.fromkeys(bys)) if copied else ()
    _, params, shape = _resolved_shape(con, scope, carry=carry)
    for by in bys:
        check_breakdown(con, by)
    df = run(con, _breakdown_sql(shape, tuple(bys), copied, with_totals),
             {**params, "outcome_pos": pos, "outcome_stage": stage, "quick": QUICK_RESUBMIT_DAYS,
              "small_sample": SMALL_SAMPLE, "ratio": STANDOUT_RATIO, "z_min": STANDOUT_Z})
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


def _check_grain(grain: str) -> None:
    if grain not in GRAINS:
        raise ConfigError(f"Unknown grain '{grain}'.", hint="Use 'week' or 'month'.")


def _period(grain: str, column: str) -> exp.Expression:
    """``date_trunc(grain, column)``: the start of the event's week or month (a whitelisted grain)."""
    return exp.func("date_trunc", exp.Literal.string(grain), exp.column(column))


@lru_cache(maxsize=64)
def _trend_sql(shape: _Shape, grain: str) -> str:
    """rejection_trend's text: hand-offs and rejections per ``grain`` of their own dates."""
    q = _scoped("rejection_trend", shape)
    ctes = sqlcompose.ctes(q)
    sqlcompose.replace_projection(ctes["h"], "period", _period(grain, "entered_at"))
    sqlcompose.replace_projection(ctes["x"], "period", _period(grain, "rejected_at"))
    return sqlcompose.to_sql(q, "rejection_trend")


def rejection_trend(con, scope: Scope = Scope(), grain: str = "week") -> pd.DataFrame:
    """Per period (of the event): hand-offs, rejections and their ratio."""
    _check_grain(grain)
    _, params, shape = _resolved_shape(con, scope)
    return run(con, _trend_sql(shape, grain), params)


@lru_cache(maxsize=64)
def _reasons_over_time_sql(shape: _Shape, grain: str) -> str:
    """rejection_reasons_over_time's text: rejections per ``grain`` of the rejection and reason."""
    q = _scoped("rejection_reasons_over_time", shape)
    sqlcompose.replace_projection(q, "period", _period(grain, "rejected_at"))
    return sqlcompose.to_sql(q, "rejection_reasons_over_time")


def reasons_over_time(con, scope: Scope = Scope(), grain: str = "month") -> pd.DataFrame:
    """period (start of the rejection's week/month), reason ('(no reason given)' when missing), rejected."""
    _check_grain(grain)
    _, params, shape = _resolved_shape(con, scope)
    return run(con, _reasons_over_time_sql(shape, grain), params)


@lru_cache(maxsize=64)
def _delays_sql(shape: _Shape, by: str | None) -> str:
    """resubmit_delays' text: grp is the lead's ``by`` (None: one group, 'All leads')."""
    q = _scoped("resubmit_delays", shape)
    sqlcompose.replace_projection(q, "grp", group_expression(by, "l"))
    return sqlcompose.to_sql(q, "resubmit_delays")


def resubmit_delays(con, scope: Scope = Scope(), by: str | None = "sdr") -> pd.DataFrame:
    """Resubmissions per whole day of delay (0, 1, …; 90 means 90 or more), per value of a lead
    column (``by=None``: one group, 'All leads'). Columns: grp, delay_days, resubmissions."""
    _, params, shape = _resolved_shape(con, scope)
    check_breakdown(con, by)
    return run(con, _delays_sql(shape, by), params)


def loop_distribution(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Handed-off leads by number of loops (hand-offs after the first): loops, leads, share."""
    _, params, shape = _resolved_shape(con, scope)
    return run(con, _scoped_sql("loop_distribution", shape), params)


@lru_cache(maxsize=64)
def _recycled_sql(shape: _Shape, n_targets: int) -> str:
    """recycled_outcomes' text: targets is one row per target stage ($st0, $pos0; $st1, $pos1; …)."""
    q = _scoped("recycled_outcomes", shape)
    rows = [exp.select(exp.alias_(sqlcompose.param(f"st{i}"), "stage"), exp.alias_(sqlcompose.param(f"pos{i}"), "position"))
            for i in range(n_targets)]
    q = sqlcompose.with_cte(q, "targets", reduce(lambda a, b: exp.union(a, b, distinct=False), rows))
    return sqlcompose.to_sql(q, "recycled_outcomes")


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
    _, params, shape = _resolved_shape(con, scope, from_position=min(fs[s] for s in stages))
    targets = {f"st{i}": s for i, s in enumerate(stages)} | {f"pos{i}": fs[s] for i, s in enumerate(stages)}
    return run(con, _recycled_sql(shape, len(stages)),
               {**params, **targets, "recycled_group": RECYCLED_GROUP, "first_pass_group": FIRST_PASS_GROUP})


@lru_cache(maxsize=64)
def _flows_sql(filter_params: tuple, every_lead: bool) -> str:
    """transition_flows' text: the cohort for the filters; no join to it when it is every lead."""
    q = sqlcompose.query("transition_flows")
    q = sqlcompose.with_cte(q, "cohort", exp.select("l.lead_id").from_("leads AS l")
                            .where(cohort_condition(filter_params, "l")))
    if every_lead:
        _without_join(q, "c")
    return sqlcompose.to_sql(q, "transition_flows")


def transition_flows(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Counts of every stage-to-stage transition known at D, backward ones included (for a Sankey).

    Columns: from_stage, to_stage, transitions (both events of a transition lie on or before D).
    """
    r = resolve(con, scope)
    store.ensure_derived(con)
    return run(con, _flows_sql(r.filter_params, _cohort_is_every_lead(con, r)), r.params)


def ping_pong_leads(con, scope: Scope = Scope(), min_rejections: int = 2, limit: int = 2000) -> pd.DataFrame:
    """Leads rejected ``min_rejections`` times or more by D, with their path and owners, most rejections first.

    Columns: lead_id, channel, segment, sdr, ae, rejections, handoffs, current_stage,
    last_event_at, path (every stage the lead entered by D, in event order).
    """
    _, params, shape = _resolved_shape(con, scope)
    return run(con, _scoped_sql("ping_pong_leads", shape),
               {**params, "min_rejections": int(min_rejections), "limit": int(limit)})


# ---------------------------------------------------------------------------------------------
# The page's verdict: a few plain sentences computed from the figures above (no names hard-coded).


def _pct(x: float) -> fmt.Pct:
    """A rate for the verdict: whole percent, one decimal under 9.5% (so 5.0%, not 5%)."""
    return fmt.Pct(x, 0 if x >= 0.095 or x == 0 else 1)


def _data_presence(con, handoff: str) -> dict:
    """Whether the whole database (any date, any lead) holds hand-offs and rejections at all (1/0)."""
    presence = run(con, _named_sql("rejection_data_presence"), {"handoff": handoff})
    return {k: int(v) for k, v in presence.iloc[0].to_dict().items()}


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
