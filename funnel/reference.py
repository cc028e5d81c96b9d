"""A plain pandas reading of the headline metrics of ``shared/spec/metrics.md`` (default scope).

Why this exists: the benchmark times it against the DuckDB functions on the same data (the
speed-up the performance issue asks for), and a test checks that both agree to 1e-9 on the sample
data. It is written from the spec's sentences alone and shares no code with the SQL modules:
it reads the raw tables into pandas (``con.execute(...).df()``) and does everything there,
without the derived tables (``lead_visits``, ``lead_reach``) that the SQL side builds at import.

Scope: every lead created by the as-of date D (the default cohort), D = the date of the latest
timestamp in the data unless given. Functions take either a connection or the frames of
:func:`load_tables` (load once, then time only the computation — pandas' best case).

Not for the app: the app's figures come from the SQL modules (the architecture rules forbid
pandas aggregation of raw event tables there). This module never imports Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

HISTORY_DAYS = 365
MIN_CLOSED_FOR_HISTORICAL = 20
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")


@dataclass
class Tables:
    """The raw tables as pandas frames."""

    leads: pd.DataFrame
    lead_events: pd.DataFrame
    opportunities: pd.DataFrame
    opportunity_events: pd.DataFrame
    stage_config: pd.DataFrame
    scoring_rules: pd.DataFrame
    mql_threshold: float

    @property
    def latest(self) -> pd.Timestamp:
        """The latest timestamp anywhere in the data (its date is the default as-of date)."""
        cands = [self.leads["created_at"].max(), self.lead_events["entered_at"].max(),
                 self.opportunities["created_at"].max(), self.opportunity_events["entered_at"].max()]
        cands = [c for c in cands if pd.notna(c)]
        return max(cands)


def load_tables(con) -> Tables:
    """Read every table a headline metric needs into pandas."""
    def df(q: str) -> pd.DataFrame:
        return con.execute(q).df()

    settings = dict(con.execute("SELECT key, value FROM settings").fetchall())
    return Tables(
        leads=df("SELECT * FROM leads"),
        lead_events=df("SELECT lead_id, stage, entered_at, actor, reason, event_seq FROM lead_events"),
        opportunities=df("SELECT * FROM opportunities"),
        opportunity_events=df("SELECT opportunity_id, stage, entered_at, amount, close_date, event_seq "
                              "FROM opportunity_events"),
        stage_config=df("SELECT * FROM stage_config"),
        scoring_rules=df("SELECT * FROM scoring_rules ORDER BY rule_id"),
        mql_threshold=float(settings.get("mql_threshold", 50.0)),
    )


def _t(x) -> Tables:
    return x if isinstance(x, Tables) else load_tables(x)


def _as_of(t: Tables, as_of: date | None) -> tuple[date, pd.Timestamp]:
    """(D, the midnight after D): events at or after that instant are not known at D."""
    d = as_of or t.latest.date()
    return d, pd.Timestamp(d + timedelta(days=1))


def _cohort(t: Tables, as_end: pd.Timestamp) -> pd.DataFrame:
    """The default cohort: every lead created by the end of D."""
    return t.leads.loc[t.leads["created_at"] < as_end, ["lead_id", "created_at"]]


def _stages(t: Tables, funnel: str) -> pd.DataFrame:
    return t.stage_config[t.stage_config["funnel"] == funnel]


def _funnel_stages(t: Tables, funnel: str) -> pd.DataFrame:
    """Positioned stages of kind open or won, in position order."""
    s = _stages(t, funnel)
    return s[s["position"].notna() & s["kind"].isin(["open", "won"])].sort_values("position")


def _handoff_stage(t: Tables) -> str:
    names = list(_funnel_stages(t, "lead")["stage"])
    return "MQL" if "MQL" in names else names[1]


# ---------------------------------------------------------------------------------------------
# §1 Stage conversion


def stage_conversion(tables, as_of: date | None = None, window_days: int | None = None) -> pd.DataFrame:
    """stage, position, reached, step_rate, overall_rate, median_days_to_reach (first stage: None)."""
    t = _t(tables)
    _, as_end = _as_of(t, as_of)
    fs = _funnel_stages(t, "lead")
    cohort = _cohort(t, as_end)
    n = len(cohort)
    pos_of = dict(zip(fs["stage"], fs["position"]))
    ev = t.lead_events.loc[t.lead_events["entered_at"] < as_end, ["lead_id", "stage", "entered_at"]]
    ev = ev.assign(position=ev["stage"].map(pos_of)).dropna(subset=["position"])
    ev = ev.merge(cohort, on="lead_id")
    if window_days is not None:
        ev = ev[ev["entered_at"] <= ev["created_at"] + pd.Timedelta(days=int(window_days))]
    # each lead's first entry per position; "S or any later stage" is then a min over positions ≥ S
    first = ev.groupby(["lead_id", "position"], as_index=False).agg(first_at=("entered_at", "min"),
                                                                   created_at=("created_at", "first"))
    first_position = fs["position"].min()
    rows, prev = [], None
    for stage, pos in zip(fs["stage"], fs["position"]):
        if pos == first_position:
            reached, med = n, None
        else:
            hit = first[first["position"] >= pos].groupby("lead_id").agg(first_at=("first_at", "min"),
                                                                         created_at=("created_at", "first"))
            reached = len(hit)
            days = (hit["first_at"] - hit["created_at"]).dt.total_seconds() / 86400.0
            med = float(days.median()) if reached else None
        rows.append({"stage": stage, "position": int(pos), "reached": int(reached),
                     "step_rate": (reached / prev) if prev else None,
                     "overall_rate": (reached / n) if n else None,
                     "median_days_to_reach": med})
        prev = reached
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# §2 Time in stage


def _km_median(df: pd.DataFrame) -> dict:
    """Kaplan–Meier median per stage: the first duration at which survival is at or below 0.5."""
    if df.empty:
        return {}
    g = (df.groupby(["stage", "hours"], as_index=False)
           .agg(d=("completed", "sum"), n=("completed", "size"))
           .sort_values(["stage", "hours"]))
    # at risk at t: visits lasting t or longer (a censored visit at t is still at risk at t)
    g["at_risk"] = g.iloc[::-1].groupby("stage")["n"].cumsum().iloc[::-1]
    g["survival"] = (1.0 - g["d"] / g["at_risk"]).groupby(g["stage"]).cumprod()
    hit = g[(g["d"] > 0) & (g["survival"] <= 0.5 + 1e-9)]
    return hit.groupby("stage")["hours"].min().to_dict()


def time_in_stage(tables, as_of: date | None = None, funnel: str = "lead") -> pd.DataFrame:
    """stage, position, visits, completed, censored, median_hours, p90_hours, km_median_hours."""
    t = _t(tables)
    _, as_end = _as_of(t, as_of)
    if funnel == "lead":
        key, ev = "lead_id", t.lead_events
        ev = ev[ev["lead_id"].isin(_cohort(t, as_end)["lead_id"])]
    else:
        key, ev = "opportunity_id", t.opportunity_events
        ev = ev[ev["opportunity_id"].isin(t.opportunities.loc[t.opportunities["created_at"] < as_end,
                                                              "opportunity_id"])]
    ev = ev[[key, "stage", "entered_at", "event_seq"]].sort_values([key, "entered_at", "event_seq"])
    ev["next_at"] = ev.groupby(key, sort=False)["entered_at"].shift(-1)
    st = _stages(t, funnel)
    st = st[st["kind"].isin(["open", "rejected", "recycled"])]
    v = ev[ev["stage"].isin(st["stage"]) & (ev["entered_at"] < as_end)]
    completed = (v["next_at"] < as_end).to_numpy()
    end = v["next_at"].where(completed, as_end)
    v = pd.DataFrame({"stage": v["stage"].to_numpy(), "completed": completed.astype(np.int64),
                      "hours": ((end - v["entered_at"]).dt.total_seconds() / 3600.0).to_numpy()})
    done = v[v["completed"] == 1].groupby("stage")["hours"]
    med, p90 = done.quantile(0.5).to_dict(), done.quantile(0.9).to_dict()
    counts = v.groupby("stage")["completed"].agg(["size", "sum"])
    km = _km_median(v)
    rows = []
    st = st.assign(_nopos=st["position"].isna()).sort_values(["_nopos", "position", "stage"])
    for stage, pos in zip(st["stage"], st["position"]):
        visits = int(counts.loc[stage, "size"]) if stage in counts.index else 0
        comp = int(counts.loc[stage, "sum"]) if stage in counts.index else 0
        rows.append({"stage": stage, "position": None if pd.isna(pos) else int(pos), "visits": visits,
                     "completed": comp, "censored": visits - comp, "median_hours": med.get(stage),
                     "p90_hours": p90.get(stage), "km_median_hours": km.get(stage)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# §3 Rejections and recycle loops


def _handoff_rejection_events(t: Tables, as_end: pd.Timestamp) -> tuple[pd.DataFrame, pd.Series]:
    handoff = _handoff_stage(t)
    st = _stages(t, "lead")
    rejected_stages = set(st.loc[st["kind"] == "rejected", "stage"])
    ev = t.lead_events
    ev = ev[(ev["entered_at"] < as_end) & ((ev["stage"] == handoff) | ev["stage"].isin(rejected_stages))]
    ev = ev[ev["lead_id"].isin(_cohort(t, as_end)["lead_id"])]
    ev = ev.sort_values(["lead_id", "entered_at", "event_seq"])
    return ev, ev["stage"] == handoff


def rejection_summary(tables, as_of: date | None = None) -> dict:
    """handoffs, rejected, rejection_rate, resubmissions, resubmitted_within_7d,
    median_resubmit_days, leads_with_loops, leads_handed_off."""
    t = _t(tables)
    _, as_end = _as_of(t, as_of)
    ev, is_h = _handoff_rejection_events(t, as_end)
    # each rejection's resubmission: the lead's first hand-off after it in event order
    next_handoff = ev["entered_at"].where(is_h).groupby(ev["lead_id"], sort=False).bfill()
    rj = ev[~is_h]
    delay = (next_handoff[~is_h] - rj["entered_at"]).dt.total_seconds() / 86400.0
    per_lead = is_h.groupby(ev["lead_id"], sort=False).sum()
    handoffs, rejected = int(is_h.sum()), int(len(rj))
    med = delay.median()
    return {"handoffs": handoffs, "rejected": rejected,
            "rejection_rate": rejected / handoffs if handoffs else None,
            "resubmissions": int(delay.notna().sum()),
            "resubmitted_within_7d": int((delay <= 7).sum()),
            "median_resubmit_days": None if pd.isna(med) else float(med),
            "leads_with_loops": int((per_lead > 1).sum()),
            "leads_handed_off": int((per_lead > 0).sum())}


def rejections_by_reason(tables, as_of: date | None = None) -> pd.DataFrame:
    """reason (None when blank or missing), rejected — most frequent first."""
    t = _t(tables)
    _, as_end = _as_of(t, as_of)
    ev, is_h = _handoff_rejection_events(t, as_end)
    reason = ev.loc[~is_h, "reason"].str.strip().replace("", None)
    out = reason.value_counts(dropna=False).rename_axis("reason").reset_index(name="rejected")
    out["reason"] = out["reason"].astype(object).where(out["reason"].notna(), None)
    return out.sort_values(["rejected", "reason"], ascending=[False, True], na_position="last").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# §4 Probability-weighted forecast


def deal_state(tables, as_of: date | None = None) -> pd.DataFrame:
    """Every opportunity existing at D: opportunity_id, stage, kind, position, probability,
    amount, close_date, max_position, closed_at."""
    t = _t(tables)
    _, as_end = _as_of(t, as_of)
    oc = _stages(t, "opportunity")
    fs = _funnel_stages(t, "opportunity")
    first_stage = fs["stage"].iloc[0]
    first_position = fs["position"].iloc[0]
    opps = t.opportunities[t.opportunities["created_at"] < as_end]
    ev = t.opportunity_events[t.opportunity_events["entered_at"] < as_end]
    ev = ev.sort_values(["opportunity_id", "entered_at", "event_seq"])
    ev = ev.assign(fpos=ev["stage"].map(dict(zip(fs["stage"], fs["position"]))))
    # groupby.last() takes the last non-null value: exactly "the latest non-null amount / close date"
    last = ev.groupby("opportunity_id").agg(stage=("stage", "last"), last_event_at=("entered_at", "max"),
                                            ev_amount=("amount", "last"), ev_close=("close_date", "last"),
                                            max_position=("fpos", "max"))
    s = opps[["opportunity_id", "amount", "close_date"]].merge(last, how="left", left_on="opportunity_id",
                                                              right_index=True)
    s["stage"] = s["stage"].fillna(first_stage)
    s["amount"] = s["ev_amount"].fillna(s["amount"])
    s["close_date"] = pd.to_datetime(s["ev_close"]).fillna(pd.to_datetime(s["close_date"]))
    s["max_position"] = s["max_position"].fillna(first_position).clip(lower=first_position)
    kind = dict(zip(oc["stage"], oc["kind"]))
    s["kind"] = s["stage"].map(kind)
    s["position"] = s["stage"].map(dict(zip(oc["stage"], oc["position"])))
    s["probability"] = s["stage"].map(dict(zip(oc["stage"], oc["probability"])))
    s["closed_at"] = s["last_event_at"].where(s["kind"].isin(["won", "lost"]))
    return s[["opportunity_id", "stage", "kind", "position", "probability", "amount", "close_date",
              "max_position", "closed_at"]]


def stage_probabilities(tables, as_of: date | None = None, method: str = "configured",
                        state: pd.DataFrame | None = None) -> dict:
    """p per open funnel stage for ``method`` (historical falls back to configured below 20 deals)."""
    t = _t(tables)
    _, as_end = _as_of(t, as_of)
    st = _stages(t, "opportunity")
    open_st = st[st["position"].notna() & (st["kind"] == "open")]
    conf = {s: (0.0 if pd.isna(p) else float(p)) for s, p in zip(open_st["stage"], open_st["probability"])}
    if method == "configured":
        return conf
    s = state if state is not None else deal_state(t, as_of)
    closed = s[s["kind"].isin(["won", "lost"]) & (s["closed_at"] >= as_end - pd.Timedelta(days=HISTORY_DAYS))
               & (s["closed_at"] < as_end)]
    out = {}
    for stage, pos in zip(open_st["stage"], open_st["position"]):
        c = closed[closed["max_position"] >= pos]
        won = int((c["kind"] == "won").sum())
        out[stage] = won / len(c) if len(c) >= MIN_CLOSED_FOR_HISTORICAL else conf[stage]
    return out


def weighted_forecast(tables, as_of: date | None = None, method: str = "configured") -> pd.DataFrame:
    """Per close month (first day): open_deals, open_amount, weighted_amount."""
    t = _t(tables)
    d, _ = _as_of(t, as_of)
    s = deal_state(t, d)
    p = stage_probabilities(t, d, method, state=s)
    o = s[s["kind"] == "open"].copy()
    d_ts = pd.Timestamp(d)
    month = o["close_date"].dt.to_period("M").dt.to_timestamp()
    o["period"] = month.where(o["close_date"] >= d_ts, d_ts.to_period("M").to_timestamp())
    o["weighted_amount"] = o["amount"] * o["stage"].map(p).fillna(0.0)
    out = (o.groupby("period").agg(open_deals=("opportunity_id", "size"), open_amount=("amount", "sum"),
                                   weighted_amount=("weighted_amount", "sum"))
             .reset_index().sort_values("period").reset_index(drop=True))
    return out


def first_won(tables, as_of: date | None = None) -> pd.DataFrame:
    """Deals created by D with a won event by D: opportunity_id, owner, won_at (the first won
    event), amount (the latest non-null amount among its events up to that one, else the row's)."""
    t = _t(tables)
    _, as_end = _as_of(t, as_of)
    won_stages = set(t.stage_config[(t.stage_config["funnel"] == "opportunity")
                                    & (t.stage_config["kind"] == "won")]["stage"])
    opps = t.opportunities[t.opportunities["created_at"] < as_end].set_index("opportunity_id")
    ev = t.opportunity_events[(t.opportunity_events["entered_at"] < as_end)
                              & t.opportunity_events["opportunity_id"].isin(opps.index)]
    rows = []
    for oid, g in ev.sort_values(["entered_at", "event_seq"]).groupby("opportunity_id", sort=False):
        hits = np.flatnonzero(g["stage"].isin(won_stages).to_numpy())
        if not len(hits):
            continue
        upto = g.iloc[: hits[0] + 1]
        amounts = upto["amount"].dropna()
        rows.append({"opportunity_id": oid, "owner": opps.at[oid, "owner"], "won_at": upto["entered_at"].iloc[-1],
                     "amount": float(amounts.iloc[-1]) if len(amounts) else float(opps.at[oid, "amount"])})
    return pd.DataFrame(rows, columns=["opportunity_id", "owner", "won_at", "amount"])


def _period_bounds(label: str) -> tuple[date, date]:
    year, rest = label.split("-")
    if rest.upper().startswith("Q"):
        first_month = 3 * (int(rest[1:]) - 1) + 1
        start, months = date(int(year), first_month, 1), 3
    else:
        start, months = date(int(year), int(rest), 1), 1
    y, m = divmod(start.month - 1 + months, 12)
    return start, date(start.year + y, m + 1, 1) - timedelta(days=1)


def target_figures(tables, targets: pd.DataFrame, teams: pd.DataFrame, as_of: date | None = None,
                   method: str = "configured") -> pd.DataFrame:
    """metrics.md §7 for each target (period, owner, amount), ordered by period then owner, with
    ``p_hit`` computed exactly (every combination of the open deals) when at most 12 are open.

    owner '' = every deal; a team name = its owners' deals; else that owner's deals."""
    t = _t(tables)
    d, _ = _as_of(t, as_of)
    s = deal_state(t, d)
    s = s.merge(t.opportunities[["opportunity_id", "owner"]], on="opportunity_id", how="left")
    p = stage_probabilities(t, d, method, state=s)
    o = s[s["kind"] == "open"].copy()
    d_ts = pd.Timestamp(d)
    month = o["close_date"].dt.to_period("M").dt.to_timestamp()
    o["period"] = month.where(o["close_date"] >= d_ts, d_ts.to_period("M").to_timestamp()).dt.date
    o["p"] = pd.to_numeric(o["stage"].map(p), errors="coerce").fillna(0.0).astype(float)   # float even when empty
    o["amount"] = o["amount"].astype(float)
    fw = first_won(t, d)
    fw["won_day"] = pd.to_datetime(fw["won_at"]).dt.date
    members = {team: set(g["owner"]) for team, g in teams.groupby("team")}
    rows = []
    for tg in targets.sort_values(["period", "owner"]).itertuples():
        start, end = _period_bounds(tg.period)
        owners = None if tg.owner == "" else members.get(tg.owner, {tg.owner})
        mine_o = o if owners is None else o[o["owner"].isin(owners)]
        mine_o = mine_o[(mine_o["period"] >= start) & (mine_o["period"] <= end)]
        mine_w = fw if owners is None else fw[fw["owner"].isin(owners)]
        won = float(mine_w[(mine_w["won_day"] >= start) & (mine_w["won_day"] <= min(end, d))]["amount"].sum())
        amount = float(tg.amount)
        open_amount = float(mine_o["amount"].sum())
        weighted = float((mine_o["amount"] * mine_o["p"]).sum())
        gap = max(amount - won, 0.0)
        elapsed = 0.0 if d < start else ((min(d, end) - start).days + 1) / ((end - start).days + 1)
        p_hit = None
        if len(mine_o) <= 12:
            a, q = mine_o["amount"].to_numpy(float), mine_o["p"].to_numpy(float)
            p_hit = 0.0
            for mask in range(2 ** len(a)):
                bits = np.array([(mask >> i) & 1 for i in range(len(a))], dtype=bool)
                if won + a[bits].sum() >= amount:
                    p_hit += float(np.prod(np.where(bits, q, 1 - q)))
        rows.append({"period": tg.period, "owner": tg.owner, "amount": amount, "won": won,
                     "open_deals": len(mine_o), "open_amount": open_amount, "weighted_amount": weighted,
                     "expected": won + weighted, "attainment": won / amount if amount else None,
                     "expected_attainment": (won + weighted) / amount if amount else None, "gap": gap,
                     "coverage": open_amount / gap if gap else None,
                     "weighted_coverage": weighted / gap if gap else None,
                     "required_win_rate": gap / open_amount if open_amount else None,
                     "p_hit": p_hit, "elapsed": elapsed, "pace_amount": amount * elapsed,
                     "ahead": won - amount * elapsed})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# §5 Lead scoring what-if


def _rule_fields(rule) -> tuple:
    if isinstance(rule, dict):
        return (rule["attribute"], rule["operator"], rule.get("value"), float(rule["points"]),
                bool(rule.get("enabled", True)))
    if isinstance(rule, (tuple, list)):
        return tuple(rule[:4]) + (bool(rule[4]) if len(rule) > 4 else True,)
    return rule.attribute, rule.operator, rule.value, float(rule.points), bool(rule.enabled)


def _numberish(v) -> bool:
    try:
        float(str(v).strip())
        return True
    except ValueError:
        return False


def _parse_bool(v) -> bool | None:
    w = str(v).strip().lower()
    return True if w in TRUE_WORDS else False if w in FALSE_WORDS else None


def rule_matches(s: pd.Series, operator: str, value) -> pd.Series:
    """Which values of one lead column match a rule (a null attribute matches no rule)."""
    op = " ".join(str(operator).lower().split())
    known = s.notna()
    is_bool = pd.api.types.is_bool_dtype(s.dtype) or (s.dtype == object and s.dropna().map(type).eq(bool).all()
                                                      and known.any())
    is_num = not is_bool and pd.api.types.is_numeric_dtype(s.dtype)
    text = s.astype("string")
    if op in ("is true", "is false"):
        if is_bool:
            m = s == (op == "is true")
        elif is_num:
            m = s == (1 if op == "is true" else 0)
        else:
            m = text.str.strip().str.lower().isin(TRUE_WORDS if op == "is true" else FALSE_WORDS)
    elif op == "contains":
        m = text.str.lower().str.contains(str(value).lower(), regex=False)
    elif op in ("in", "not in"):
        items = [v.strip() for v in str(value).split("|")]
        if is_num:
            m = s.isin([float(v) for v in items])
        elif is_bool:
            m = s.isin([_parse_bool(v) for v in items])
        else:
            m = text.isin(items)
        m = m if op == "in" else ~m
    elif op == "between":
        lo, hi = (v.strip() for v in str(value).split("|"))
        if is_num:
            m = s.between(float(lo), float(hi))
        elif _numberish(lo) and _numberish(hi):
            m = pd.to_numeric(text, errors="coerce").between(float(lo), float(hi))
        else:
            m = (text >= lo) & (text <= hi)
    else:
        cmp = {"=": "eq", "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}[op]
        if is_bool:
            m = getattr(s, cmp)(_parse_bool(value))
        elif is_num:
            m = getattr(s, cmp)(float(value))
        elif op in ("=", "!=") or not _numberish(value):
            m = getattr(text, cmp)(str(value))
        else:
            m = getattr(pd.to_numeric(text, errors="coerce"), cmp)(float(value))
    return (m.fillna(False).astype(bool) & known).to_numpy()


def lead_scores(tables, rules) -> pd.Series:
    """Σ points of the enabled rules each lead matches (rounded to 6 decimals), indexed like leads."""
    t = _t(tables)
    score = np.zeros(len(t.leads))
    for rule in rules:
        attr, op, value, points, enabled = _rule_fields(rule)
        if enabled and attr in t.leads.columns:
            score += np.where(rule_matches(t.leads[attr], op, value), points, 0.0)
    return pd.Series(np.round(score, 6), index=t.leads.index)


def evaluate(tables, rules=None, threshold: float | None = None, outcome_stage: str = "SQL",
             as_of: date | None = None) -> dict:
    """leads, above, with_outcome, true_positives, precision, recall, auc (ties counted half)."""
    t = _t(tables)
    _, as_end = _as_of(t, as_of)
    if rules is None:
        rules = t.scoring_rules.to_dict("records")
    threshold = t.mql_threshold if threshold is None else float(threshold)
    in_cohort = (t.leads["created_at"] < as_end).to_numpy()
    score = lead_scores(t, rules).to_numpy()[in_cohort]
    fs = _funnel_stages(t, "lead")
    pos = float(fs.loc[fs["stage"] == outcome_stage, "position"].iloc[0])
    at = fs.loc[fs["position"] >= pos, "stage"]
    ev = t.lead_events
    reached = set(ev.loc[ev["stage"].isin(at) & (ev["entered_at"] < as_end), "lead_id"])
    outcome = t.leads.loc[in_cohort, "lead_id"].isin(reached).to_numpy()
    leads, above = len(score), score >= threshold
    n_pos, tp = int(outcome.sum()), int((above & outcome).sum())
    n_neg = leads - n_pos
    auc = None
    if n_pos and n_neg:
        ranks = pd.Series(score).rank(method="average").to_numpy()
        auc = (ranks[outcome].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    return {"leads": leads, "above": int(above.sum()), "with_outcome": n_pos, "true_positives": tp,
            "precision": tp / int(above.sum()) if above.any() else None,
            "recall": tp / n_pos if n_pos else None, "auc": None if auc is None else float(auc)}


def edited_rules(rules) -> list[tuple]:
    """The stored rules with one edit (the first enabled rule's points + 5): the bench's "rule edit"."""
    out, done = [], False
    for r in rules:
        attr, op, value, points, enabled = _rule_fields(r)
        if enabled and not done:
            points, done = points + 5.0, True
        out.append((attr, op, value, points, enabled))
    return out


__all__ = ["Tables", "load_tables", "stage_conversion", "time_in_stage", "rejection_summary",
           "rejections_by_reason", "deal_state", "stage_probabilities", "weighted_forecast", "rule_matches",
           "lead_scores", "evaluate", "edited_rules"]
