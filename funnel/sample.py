"""Deterministic, realistic sample data: about 18 months of a B2B funnel.

``generate_sample(con, leads=20000, seed=7)`` replaces the data tables with a synthetic funnel
whose story every page of the app can show:

* seven channels of clearly different quality (referral and partner convert best, paid search
  brings volume of low quality), three segments, four regions, growth and seasonality;
* fit (segment, company size, job title, industry) and engagement (page views, email clicks,
  content downloads, webinar, demo request) drive a latent propensity that decides every
  transition, so a scoring model has real signal;
* eight SDRs and six AEs with habits: ``PICKY_AE`` rejects MQLs far more often than the team,
  ``FAST_RESUBMIT_SDR`` resubmits rejected leads within a day or two (the others leave them in
  nurture for weeks), ``SLOW_FOLLOWUP_SDR`` takes much longer to accept MQLs;
* rejection / recycle loops, skipped stages, same-timestamp events, censored (recent) leads;
* opportunities with stage history, amount changes, slipping close dates, a won/lost history and
  an open pipeline closing over the next months (plus a few overdue deals).

Everything is vectorised numpy driven by ``np.random.default_rng(seed)`` and a fixed end date
(``END``, never the wall clock), so the same seed gives identical tables. Frames are handed to
DuckDB as Arrow tables and inserted with one ``INSERT ... SELECT`` per table.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from . import access, audit, fmt, store
from .i18n import msg
from .errors import ConfigError

# ---------------------------------------------------------------------------------------------
# The fixed calendar of the sample

START = np.datetime64("2025-05-01T00:00:00", "s")
END = np.datetime64("2026-11-20T23:59:59", "s")          # no timestamp after this
END_DATE = dt.date(2026, 11, 20)
_EPOCH_S = int(START.astype(np.int64))                     # seconds since 1970 of START
_END_S = int((END - START).astype(np.int64))               # END in seconds since START
_DAYS = int((np.datetime64("2026-11-20", "D") - np.datetime64("2025-05-01", "D")).astype(int)) + 1
HOUR = 3600
DAY = 86400

# ---------------------------------------------------------------------------------------------
# Dimensions

CHANNELS = ("paid_search", "organic", "webinar", "event", "referral", "outbound", "partner")
_CH_SHARE = np.array([0.30, 0.20, 0.12, 0.09, 0.06, 0.15, 0.08])
_CH_QUALITY = np.array([-0.70, 0.00, 0.10, 0.05, 0.95, -0.35, 0.70])   # logit shift of propensity
_CH_INTENT = np.array([-0.25, 0.10, 0.45, 0.30, 0.20, -0.50, 0.10])    # shifts engagement
_CH_DIRECT_SQL = np.array([0.004, 0.008, 0.01, 0.03, 0.24, 0.10, 0.17])  # Lead -> SQL directly
# segment mix per channel (SMB, Mid-Market, Enterprise)
_CH_SEGMENT = np.array([
    [0.68, 0.25, 0.07],
    [0.58, 0.30, 0.12],
    [0.48, 0.35, 0.17],
    [0.35, 0.38, 0.27],
    [0.45, 0.35, 0.20],
    [0.30, 0.40, 0.30],
    [0.40, 0.38, 0.22],
])
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
_SEG_FIT = np.array([-0.25, 0.20, 0.45])
_SEG_SIZE = ((40.0, 0.85, 2, 400), (450.0, 0.5, 100, 3000), (4000.0, 1.0, 800, 200000))
_SEG_AMOUNT = np.array([8000.0, 35000.0, 150000.0])       # median opportunity amount
_SEG_CYCLE = np.array([0.55, 1.0, 1.8])                    # opportunity stage duration factor
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
_REGION_SHARE = np.array([0.50, 0.28, 0.14, 0.08])
INDUSTRIES = ("Software", "Financial Services", "Manufacturing", "Healthcare", "Retail",
              "Education", "Professional Services", "Media")
_IND_SHARE = np.array([0.24, 0.14, 0.13, 0.12, 0.11, 0.09, 0.09, 0.08])
_IND_FIT = np.array([0.45, 0.35, 0.0, 0.05, -0.15, -0.45, 0.10, -0.10])
JOB_TITLES = ("VP Sales", "CRO", "Head of Revenue", "Director of Sales", "Sales Manager",
              "Marketing Manager", "Sales Ops Analyst", "RevOps Manager", "Founder", "CEO",
              "Engineer", "Consultant", "Account Executive", "Student", "Graduate student")
_TITLE_SHARE = np.array([0.06, 0.02, 0.03, 0.07, 0.10, 0.12, 0.08, 0.05, 0.06, 0.03, 0.10, 0.08,
                         0.08, 0.07, 0.05])
_TITLE_FIT = np.array([0.85, 0.95, 0.85, 0.75, 0.30, 0.0, 0.10, 0.30, 0.30, 0.20, -0.55, -0.40,
                       -0.10, -1.90, -1.70])
_STUDENT = np.array([t in ("Student", "Graduate student") for t in JOB_TITLES])

SDRS = ("Ava Patel", "Noah Kim", "Mia Johnson", "Lucas Silva", "Sofia Rossi", "Ethan Wright",
        "Chloe Martin", "Omar Haddad")
# SDR territories: NA -> first four, EMEA -> two, APAC -> one, LATAM -> one
_SDR_BY_REGION = ((0, 1, 2, 3), (4, 5), (6,), (7,))
AES = ("Grace Chen", "Daniel Novak", "Priya Raman", "Marcus Reid", "Elena Torres", "James Whitaker")
# AE teams by segment: SMB, Mid-Market, Enterprise
_AE_BY_SEGMENT = ((2, 4), (1, 3), (0, 5))
_AE_SKILL = np.array([0.15, 0.0, -0.05, -0.10, 0.05, 0.10])

FAST_RESUBMIT_SDR = "Lucas Silva"     # resubmits rejected leads within 1-2 days
SLOW_FOLLOWUP_SDR = "Ethan Wright"    # takes ~4x longer than the team to accept an MQL
PICKY_AE = "Marcus Reid"              # rejects MQLs ~2.5x as often as the team
_FAST_SDR = SDRS.index(FAST_RESUBMIT_SDR)
_SLOW_SDR = SDRS.index(SLOW_FOLLOWUP_SDR)
_PICKY_AE = AES.index(PICKY_AE)

SYSTEM = "system"
AUTOMATION = "marketing automation"
ACTORS = (SYSTEM, AUTOMATION) + SDRS + AES
_A_SYSTEM, _A_AUTO = 0, 1
_A_SDR0 = 2
_A_AE0 = 2 + len(SDRS)

REJECT_REASONS = ("no budget", "not ICP", "bad contact data", "no authority", "timing", "duplicate")
DISQUALIFY_REASONS = ("not ICP", "student", "competitor", "no budget", "unresponsive",
                      "bad contact data", "spam")
LOSS_REASONS = ("lost to competitor", "no decision", "no budget")
RECYCLE_REASONS = ("no response", "nurture", "closed lost")
REASONS = tuple(dict.fromkeys(REJECT_REASONS + DISQUALIFY_REASONS + LOSS_REASONS + RECYCLE_REASONS))
_R = {r: i for i, r in enumerate(REASONS)}
_REJ_CODES = np.array([_R[r] for r in REJECT_REASONS])
_DQ_CODES = np.array([_R[r] for r in DISQUALIFY_REASONS])
_LOSS_CODES = np.array([_R[r] for r in LOSS_REASONS])
_REJ_P_AE = np.array([0.20, 0.22, 0.08, 0.17, 0.25, 0.08])
_REJ_P_LOWFIT = np.array([0.10, 0.50, 0.08, 0.12, 0.12, 0.08])
_REJ_P_PICKY = np.array([0.12, 0.38, 0.04, 0.14, 0.26, 0.06])
_REJ_P_SDR = np.array([0.05, 0.30, 0.35, 0.05, 0.05, 0.20])
_DQ_P = np.array([0.28, 0.0, 0.08, 0.18, 0.26, 0.12, 0.08])

PRODUCTS = ("Starter", "Professional", "Enterprise Suite", "Analytics Add-on")
_SEG_PRODUCT = np.array([
    [0.62, 0.33, 0.0, 0.05],
    [0.05, 0.68, 0.17, 0.10],
    [0.0, 0.15, 0.75, 0.10],
])
SDR_DISPOSITIONS = ("Qualified", "Working", "Nurture", "Disqualified", "No response")

_NAME_A = ("Acme", "Blue", "North", "Bright", "Silver", "Summit", "Pioneer", "Vertex", "Cedar",
           "Harbor", "Atlas", "Nimbus", "Quantum", "Crescent", "Evergreen", "Ironwood", "Lumen",
           "Maple", "Orion", "Redwood", "Sterling", "Trident", "Union", "Vantage", "Willow",
           "Apex", "Beacon", "Cobalt", "Delta", "Falcon", "Granite", "Horizon", "Juniper",
           "Keystone", "Lakeside", "Meridian", "Nova", "Oakridge", "Polaris", "Riverbend")
_NAME_B = ("Analytics", "Logistics", "Health", "Foods", "Systems", "Labs", "Capital", "Retail",
           "Robotics", "Media", "Energy", "Software", "Partners", "Networks", "Dynamics", "Works",
           "Bio", "Learning", "Manufacturing", "Finance", "Insurance", "Cloud", "Devices", "Travel")
_NAME_SUFFIX_BY_REGION = (("Inc", "LLC", "Corp"), ("Ltd", "GmbH", "SA"), ("Pty Ltd", "KK", "Pte Ltd"),
                          ("SA", "Ltda", "S.A. de C.V."))

# attribute columns the sample adds to leads (name -> DuckDB type)
SAMPLE_ATTRIBUTES = {
    "page_views": "INTEGER",
    "email_clicks": "INTEGER",
    "content_downloads": "INTEGER",
    "webinar_attended": "BOOLEAN",
    "demo_requested": "BOOLEAN",
    "sdr_disposition": "VARCHAR",
}

# lead stage codes (mapped onto the configured names at load time)
L_LEAD, L_MQL, L_SAL, L_SQL, L_OPP, L_CUST, L_REJ, L_REC, L_DQ = range(9)
# opportunity stage codes
O_QUAL, O_DISC, O_PROP, O_NEG, O_WON, O_LOST = range(6)
_MAX_MQL = 4
_NEG_INF = -np.inf


# ---------------------------------------------------------------------------------------------
# Public entry point


def generate_sample(con, leads: int = 20000, seed: int = 7, *, actor: access.Actor | None = None) -> dict:
    """Replace the data tables with ``leads`` synthetic leads (deterministic for ``seed``).

    Returns the number of rows loaded per table. Replacing data is a reset: admins only, and in
    the audit trail with the row counts before and after. Filling an empty database (a fresh
    install's first start) replaces nothing and is open to whoever starts it (still audited).
    """
    replacing = store.has_data(con)
    who = access.require(actor, "reset") if replacing else access.resolve(actor)
    before, version_before = store.table_counts(con), store.data_version(con)
    leads = int(leads)
    if leads < 1:
        raise ConfigError("The sample needs at least one lead.", hint="Ask for e.g. 20000 leads.")
    lead_names, opp_names = _configured_stage_names(con)
    started = _utcnow()

    data = _generate(leads, int(seed))

    tables = {
        "_sample_leads": _leads_arrow(data),
        "_sample_lead_events": _lead_events_arrow(data, lead_names),
        "_sample_opps": _opps_arrow(data),
        "_sample_opp_events": _opp_events_arrow(data, opp_names),
    }
    width = max(7, len(str(leads)))
    owidth = max(6, len(str(len(data["opp_created"]))))
    lid = f"'L' || lpad(CAST(lead_num AS VARCHAR), {width}, '0')"
    oid = f"'OPP-' || lpad(CAST(opp_num AS VARCHAR), {owidth}, '0')"
    attr_cols = ", ".join(store.quote_ident(c) for c in SAMPLE_ATTRIBUTES)

    try:
        for name, tbl in tables.items():
            con.register(name, tbl)
        with store.transaction(con):
            _prepare_lead_columns(con)
            for t in ("opportunity_events", "opportunities", "lead_events", "leads", "rejected_rows"):
                con.execute(f"DELETE FROM {t}")
            con.execute(f"""
                INSERT INTO leads (lead_id, created_at, channel, segment, region, industry,
                                   company_size, job_title, sdr, ae, {attr_cols})
                SELECT {lid}, created_at, channel, segment, region, industry, company_size,
                       job_title, sdr, ae, {attr_cols}
                FROM _sample_leads""")
            con.execute(f"""
                INSERT INTO lead_events (lead_id, stage, entered_at, actor, reason, event_seq)
                SELECT {lid}, stage, entered_at, actor, reason, event_seq
                FROM _sample_lead_events""")
            con.execute(f"""
                INSERT INTO opportunities (opportunity_id, lead_id, account, created_at, amount,
                                           close_date, owner, segment, product)
                SELECT {oid}, CASE WHEN lead_num IS NULL THEN NULL ELSE {lid} END, account,
                       created_at, amount, close_date, owner, segment, product
                FROM _sample_opps""")
            con.execute(f"""
                INSERT INTO opportunity_events (opportunity_id, stage, entered_at, amount,
                                                close_date, event_seq)
                SELECT {oid}, stage, entered_at, amount, close_date, event_seq
                FROM _sample_opp_events""")
            counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("leads", "lead_events", "opportunities", "opportunity_events")}
            _write_sample_targets(con, opp_names[4])
            store.refresh_derived(con)
            store.bump_data_version(con)
            rows = {t: {"read": n, "loaded": n, "rejected": 0} for t, n in counts.items()}
            run_id = con.execute("SELECT nextval('import_run_seq')").fetchone()[0]
            store.log_import_run(con, run_id, started, _utcnow(), "sample", "committed", rows,
                                 msg("Sample data: {leads} leads, seed {seed}, data up to {day}", leads=str(leads),
                                     seed=str(seed), day=END_DATE.isoformat()), run_by=who.label)
            audit.record(con, who, "reset" if replacing else "sample_created", {"leads": leads, "seed": seed},
                         before, counts, data_version_before=version_before,
                         summary=(msg("Reset the database to the sample data ({leads} leads, seed {seed})",
                                      leads=fmt.Count(leads), seed=str(seed)) if replacing
                                  else msg("Filled the empty database with the sample data ({leads} leads, seed {seed})",
                                           leads=fmt.Count(leads), seed=str(seed))))
    finally:
        for name in tables:
            try:
                con.unregister(name)
            except Exception:  # pragma: no cover - unregister never matters for correctness
                pass
    return counts


#: The sample's teams: its AEs work by segment (see _AE_BY_SEGMENT), two to a team.
SAMPLE_TEAMS = {AES[i]: f"{seg} team" for seg, ids in zip(("SMB", "Mid-Market", "Enterprise"), _AE_BY_SEGMENT)
                for i in ids}
#: Each AE's stretch over their own average month, and the month-in-quarter weights (quarter ends
#: are heavier): fixed numbers, so the targets are deterministic for a seed and sample size.
_AE_STRETCH = (1.15, 1.05, 0.95, 1.10, 0.90, 1.00)
_MONTH_IN_QUARTER = (0.9, 1.0, 1.1)


def sample_target_rows(won_by_ae: dict[str, float]) -> list[dict]:
    """Targets per AE, per team and for everyone ('' owner), for every month and quarter from the
    sample's first month to the quarter after its last day (the page's "next quarter").

    An AE's month target = their average won per month over the span (``won_by_ae``: total won
    amount of deals with a won event) × their stretch × the month-in-quarter weight, rounded to
    $1,000; a quarter's = the sum of its months; a team's and everyone's = the sum of their AEs'.
    """
    n_months = 19                                    # May 2025 … November 2026
    first, last = dt.date(2025, 4, 1), dt.date(2027, 3, 1)  # whole quarters 2025-Q2 … 2027-Q1
    months = []
    m = first
    while m <= last:
        months.append(m)
        m = dt.date(m.year + (m.month // 12), m.month % 12 + 1, 1)
    per_ae = {}
    for ae, stretch in zip(AES, _AE_STRETCH):
        base = won_by_ae.get(ae, 0.0) / n_months * stretch
        for m in months:
            per_ae[(ae, m)] = float(round(base * _MONTH_IN_QUARTER[(m.month - 1) % 3], -3))
    rows = []
    groups = {"": list(AES)}
    for team in sorted(set(SAMPLE_TEAMS.values())):
        groups[team] = [a for a in AES if SAMPLE_TEAMS[a] == team]
    groups.update({a: [a] for a in AES})
    for owner, members in groups.items():
        for m in months:
            rows.append({"period": f"{m:%Y-%m}", "owner": owner, "amount": sum(per_ae[(a, m)] for a in members)})
        for q0 in months[::3]:
            qm = [q0, *(dt.date(q0.year, q0.month + k, 1) for k in (1, 2))]
            rows.append({"period": f"{q0.year}-Q{(q0.month - 1) // 3 + 1}", "owner": owner,
                         "amount": sum(per_ae[(a, x)] for a in members for x in qm)})
    return rows


def _write_sample_targets(con, won_stage: str) -> None:
    """Replace targets and teams with the sample's (inside the sample's transaction)."""
    from . import targets

    won = dict(con.execute(
        """SELECT o.owner, sum(o.amount) FROM opportunities o
           WHERE o.opportunity_id IN (SELECT opportunity_id FROM opportunity_events WHERE stage = ?)
           GROUP BY o.owner""", [won_stage]).fetchall())
    targets._write_teams(con, pd.DataFrame([{"owner": o, "team": t} for o, t in SAMPLE_TEAMS.items()]))
    targets._write_targets(con, pd.DataFrame(sample_target_rows(won)))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def _prepare_lead_columns(con) -> None:
    """Make the leads table hold exactly the core columns plus the sample's attributes.

    Attribute columns left over from an earlier import would be all-empty after the replace, and
    one with the wrong type (e.g. page_views as text) would compare as text in scoring rules, so
    both are dropped; the sample's attribute columns are then added if missing.
    """
    have = store.lead_attribute_columns(con)
    for col, dtype in have.items():
        if col in store.LEAD_CORE_COLUMNS:
            continue
        if col not in SAMPLE_ATTRIBUTES or dtype.upper() != SAMPLE_ATTRIBUTES[col]:
            con.execute(f"ALTER TABLE leads DROP COLUMN {store.quote_ident(col)}")
    for col, dtype in SAMPLE_ATTRIBUTES.items():
        con.execute(f"ALTER TABLE leads ADD COLUMN IF NOT EXISTS {store.quote_ident(col)} {dtype}")


def _configured_stage_names(con) -> tuple[list[str], list[str]]:
    """The configured names for the sample's stages, matched by position and kind.

    With the default configuration these are the default names; renamed stages are followed. A
    configuration of a different shape cannot hold the sample, which says so.
    """
    def side(stages, kind, default):
        names = [s.stage for s in stages if s.kind == kind and s.position is None]
        if not names:
            names = [s.stage for s in stages if s.kind == kind]
        if not names:
            return None
        return default if default in names else names[0]

    lead_all = store.stages(con, "lead")
    opp_all = store.stages(con, "opportunity")
    lead_pos = [s for s in lead_all if s.position is not None and s.kind in ("open", "won")]
    opp_pos = [s for s in opp_all if s.position is not None and s.kind in ("open", "won")]
    ok = ([s.kind for s in lead_pos] == ["open"] * 5 + ["won"]
          and [s.kind for s in opp_pos] == ["open"] * 4 + ["won"])
    lead_side = [side(lead_all, "rejected", "Rejected"), side(lead_all, "recycled", "Recycled"),
                 side(lead_all, "lost", "Disqualified")]
    opp_lost = side(opp_all, "lost", "Closed Lost")
    if not ok or None in lead_side or opp_lost is None:
        raise ConfigError(
            "The sample data needs the default stage layout: a lead funnel of five open stages and "
            "a won stage (Lead, MQL, SAL, SQL, Opportunity, Customer) with rejected, recycled and "
            "lost side states, and an opportunity funnel of four open stages, a won stage and a "
            "lost stage.",
            hint="Reset the stages to the defaults on the Stage settings page, then load the sample.",
        )
    return [s.stage for s in lead_pos] + lead_side, [s.stage for s in opp_pos] + [opp_lost]


# ---------------------------------------------------------------------------------------------
# Small vectorised helpers


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _pick(rng, probs, size):
    """``size`` indices drawn with the given probabilities."""
    c = np.cumsum(np.asarray(probs, dtype=float))
    return np.minimum(np.searchsorted(c, rng.random(size) * c[-1], side="right"), len(c) - 1)


def _log(p):
    """log that maps 0 to -inf without a warning."""
    p = np.asarray(p, dtype=float)
    return np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), _NEG_INF)


def _last_per_group(keys, values, mask, out):
    """out[key] = the last value (in row order) among rows with mask, per key; rows grouped by key."""
    sub = np.flatnonzero(mask)
    k = keys[sub]
    last = np.r_[k[1:] != k[:-1], True] if len(k) else np.zeros(0, dtype=bool)
    out[k[last]] = values[sub][last]
    return out


def _softmax_pick(rng, logits):
    """One option per row, with probability softmax(logits); -inf never chosen."""
    m = logits.max(axis=1, keepdims=True)
    c = np.cumsum(np.exp(logits - m), axis=1)
    u = (1.0 - rng.random(len(logits))) * c[:, -1]      # in (0, total]
    return (c < u[:, None]).sum(axis=1)


def _hours(rng, median_h, sigma, size):
    """Lognormal durations in whole seconds."""
    return (np.exp(np.log(median_h) + sigma * rng.standard_normal(size)) * HOUR).astype(np.int64)


def _group_pick(rng, groups, key):
    """For each row, a random member of groups[key[row]]."""
    out = np.empty(len(key), dtype=np.int16)
    u = rng.random(len(key))
    for k, members in enumerate(groups):
        m = key == k
        out[m] = np.asarray(members)[(u[m] * len(members)).astype(int)]
    return out


class _Events:
    """Column buffers for generated events."""

    def __init__(self, *cols):
        self.cols = cols
        self.parts = {c: [] for c in cols}

    def add(self, **kw):
        n = len(kw[self.cols[0]])
        for c in self.cols:
            v = kw[c]
            self.parts[c].append(np.broadcast_to(v, n) if np.ndim(v) == 0 else v)

    def arrays(self, dtypes):
        return {c: (np.concatenate(self.parts[c]).astype(dtypes[c]) if self.parts[c]
                    else np.empty(0, dtype=dtypes[c])) for c in self.cols}


# ---------------------------------------------------------------------------------------------
# Generation


def _generate(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    d = _lead_attributes(rng, n)
    _simulate_leads(rng, d)
    _simulate_opportunities(rng, d)
    _finish_leads(rng, d)
    return d


def _day_weights() -> np.ndarray:
    days = np.datetime64("2025-05-01", "D") + np.arange(_DAYS)
    epoch_days = days.astype(np.int64)
    weekday = (epoch_days + 3) % 7                                  # Monday = 0
    month = days.astype("datetime64[M]").astype(np.int64) % 12     # January = 0
    season = np.array([0.95, 1.0, 1.1, 1.05, 1.0, 0.95, 0.85, 0.78, 1.05, 1.15, 1.1, 0.72])
    week = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.35, 0.3])
    growth = 1.0 + 0.9 * np.arange(_DAYS) / _DAYS
    return growth * season[month] * week[weekday]


def _created_seconds(rng, channel: np.ndarray) -> np.ndarray:
    base = _day_weights()
    idx = np.arange(_DAYS)
    weekday = (np.datetime64("2025-05-01", "D").astype(np.int64) + idx + 3) % 7
    # webinars every other Tuesday/Thursday; conferences a few times a year (three days each)
    webinar_days = ((idx % 14 == 5) | (idx % 14 == 12)) & (weekday < 5)
    webinar_w = base * (0.25 + 9.0 * webinar_days)
    conf_starts = np.array([20, 45, 130, 160, 200, 290, 330, 380, 420, 470, 520, 555])
    conf = np.zeros(_DAYS, dtype=bool)
    for s in conf_starts:
        conf[s:s + 3] = True
    event_w = base * (0.12 + 14.0 * conf)
    day = np.empty(len(channel), dtype=np.int64)
    for c in range(len(CHANNELS)):
        m = np.flatnonzero(channel == c)
        w = webinar_w if CHANNELS[c] == "webinar" else event_w if CHANNELS[c] == "event" else base
        day[m] = rng.choice(_DAYS, size=len(m), p=w / w.sum())
    tod = np.clip(rng.normal(14.5 * HOUR, 3.6 * HOUR, len(channel)), 0, DAY - 1).astype(np.int64)
    return day * DAY + tod


def _lead_attributes(rng, n: int) -> dict:
    channel = _pick(rng, _CH_SHARE, n).astype(np.int8)
    created = _created_seconds(rng, channel)
    order = np.argsort(created, kind="stable")        # lead ids follow creation order
    created, channel = created[order], channel[order]

    segment = _softmax_pick(rng, _log(_CH_SEGMENT[channel])).astype(np.int8)
    region = _pick(rng, _REGION_SHARE, n).astype(np.int8)
    industry = _pick(rng, _IND_SHARE, n).astype(np.int16)
    title = _pick(rng, _TITLE_SHARE, n).astype(np.int16)
    size = np.zeros(n, dtype=np.int64)
    for s, (med, sig, lo, hi) in enumerate(_SEG_SIZE):
        m = segment == s
        size[m] = np.clip(np.exp(np.log(med) + sig * rng.standard_normal(m.sum())), lo, hi).astype(np.int64)
    size_null = rng.random(n) < 0.05
    industry[rng.random(n) < 0.02] = -1
    title[rng.random(n) < 0.02] = -1

    sdr = _group_pick(rng, _SDR_BY_REGION, region)
    ae = _group_pick(rng, _AE_BY_SEGMENT, segment)
    overflow = rng.random(n) < 0.08                    # some leads land with another team's AE
    ae[overflow] = rng.integers(0, len(AES), overflow.sum())

    # engagement follows a latent intent, shifted by channel
    intent = rng.standard_normal(n) + _CH_INTENT[channel]
    page_views = rng.poisson(np.exp(1.35 + 0.50 * intent)).astype(np.int32)
    email_clicks = rng.poisson(np.exp(0.15 + 0.55 * intent)).astype(np.int32)
    downloads = rng.poisson(np.exp(-0.65 + 0.60 * intent)).astype(np.int32)
    webinar = rng.random(n) < _sigmoid(-1.7 + 0.7 * intent + 2.6 * (channel == CHANNELS.index("webinar")))

    title_fit = np.where(title >= 0, _TITLE_FIT[np.maximum(title, 0)], 0.0)
    ind_fit = np.where(industry >= 0, _IND_FIT[np.maximum(industry, 0)], 0.0)
    fit = (_SEG_FIT[segment] + title_fit + ind_fit
           + 0.18 * (np.log10(np.maximum(size, 1)) - 2.3))
    demo = rng.random(n) < _sigmoid(-2.7 + 0.9 * intent + 0.5 * fit)

    engagement = (0.06 * np.minimum(page_views, 25) + 0.13 * np.minimum(email_clicks, 10)
                  + 0.16 * np.minimum(downloads, 6) + 0.35 * webinar + 1.1 * demo)
    # the latent propensity every lead transition uses: observed fit + engagement + channel
    # quality + what no attribute shows
    z = fit + engagement + _CH_QUALITY[channel] + rng.normal(0.0, 0.75, n) - 0.85

    return {
        "n": n, "created": created, "channel": channel, "segment": segment, "region": region,
        "industry": industry, "title": title, "size": size, "size_null": size_null,
        "sdr": sdr, "ae": ae, "page_views": page_views, "email_clicks": email_clicks,
        "downloads": downloads, "webinar": webinar, "demo": demo, "fit": fit, "z": z,
    }


def _simulate_leads(rng, d: dict) -> None:
    """Walk every lead through the lead funnel, one transition per round for all leads at once."""
    n = d["n"]
    z, sdr, ae, channel = d["z"], d["sdr"], d["ae"], d["channel"]
    fit, student, demo = d["fit"], np.zeros(n, dtype=bool), d["demo"]
    student[d["title"] >= 0] = _STUDENT[d["title"][d["title"] >= 0]]
    fast = sdr == _FAST_SDR
    slow = sdr == _SLOW_SDR
    picky = ae == _PICKY_AE
    sdr_actor = (_A_SDR0 + sdr).astype(np.int16)
    ae_actor = (_A_AE0 + ae).astype(np.int16)

    state = np.full(n, L_LEAD, dtype=np.int8)
    t = d["created"].copy()
    step = np.zeros(n, dtype=np.int16)
    n_mql = np.zeros(n, dtype=np.int8)
    n_rej = np.zeros(n, dtype=np.int8)
    active = np.ones(n, dtype=bool)
    ev = _Events("lead", "stage", "t", "actor", "reason", "step")

    first = np.flatnonzero(rng.random(n) >= 0.02)     # a few leads came without a Lead event
    ev.add(lead=first, stage=L_LEAD, t=t[first], actor=_A_SYSTEM, reason=-1, step=step[first])
    step[first] += 1

    def rej_reasons(idx, by_ae):
        r = np.where(by_ae & picky[idx], 2, np.where(by_ae & (fit[idx] < -0.4), 1, np.where(by_ae, 0, 3)))
        out = np.empty(len(idx), dtype=np.int16)
        for k, p in enumerate((_REJ_P_AE, _REJ_P_LOWFIT, _REJ_P_PICKY, _REJ_P_SDR)):
            m = r == k
            out[m] = _REJ_CODES[_pick(rng, p, m.sum())]
        out[rng.random(len(idx)) < 0.08] = -1          # reason missing on some rejections
        return out

    def dq_reasons(idx):
        out = _DQ_CODES[_pick(rng, _DQ_P, len(idx))].astype(np.int16)
        out[student[idx] & (rng.random(len(idx)) < 0.8)] = _R["student"]
        out[rng.random(len(idx)) < 0.04] = -1
        return out

    def handle(s, idx):
        """(target, delay seconds, actor, reason) for leads idx in state s; target -1 = stays."""
        m = len(idx)
        zz = z[idx] - 0.45 * n_rej[idx]               # every rejection lowers the odds
        if s != L_LEAD:
            zz = zz - 1.0                             # centred on a typical MQL
        can_mql = n_mql[idx] < _MAX_MQL
        target = np.full(m, -1, dtype=np.int8)
        delay = np.zeros(m, dtype=np.int64)
        actor = np.zeros(m, dtype=np.int16)
        reason = np.full(m, -1, dtype=np.int16)
        if s == L_LEAD:
            logits = np.column_stack([
                np.log(0.38) + 1.2 * zz,                             # MQL
                np.log(_CH_DIRECT_SQL[channel[idx]]) + 1.0 * zz,     # SQL directly (referrals)
                np.log(0.05) - 0.6 * zz + 1.5 * student[idx],        # Disqualified
                np.full(m, np.log(0.45)),                            # stays a Lead
            ])
            k = _softmax_pick(rng, logits)
            opts = (L_MQL, L_SQL, L_DQ, -1)
            target = np.array(opts, dtype=np.int8)[k]
            delay = np.where(k == 0, _hours(rng, 90, 1.3, m),
                             np.where(k == 1, _hours(rng, 60, 1.0, m), _hours(rng, 240, 1.0, m)))
            # a demo request makes an MQL on the spot
            delay[(k == 0) & demo[idx] & (rng.random(m) < 0.5)] = 0
            actor = np.where(k == 0, _A_AUTO, np.where(k == 1, ae_actor[idx], sdr_actor[idx]))
            dq = k == 2
            reason[dq] = dq_reasons(idx[dq])
        elif s == L_MQL:
            logits = np.column_stack([
                np.log(0.38) + 0.9 * zz,                                    # SAL
                np.log(0.04) + 0.9 * zz,                                    # SQL, skipping SAL
                np.log(0.05) - 0.7 * zz + np.log(12.0) * picky[idx],        # Rejected by the AE
                np.log(0.022) - 0.5 * zz,                                   # Rejected by the SDR
                np.log(0.08) - 0.6 * zz + 1.0 * student[idx],               # Disqualified
                np.log(0.25) - 0.3 * zz,                                    # Recycled, no response
                np.full(m, np.log(0.04)),                                   # left in MQL
            ])
            k = _softmax_pick(rng, logits)
            target = np.array((L_SAL, L_SQL, L_REJ, L_REJ, L_DQ, L_REC, -1), dtype=np.int8)[k]
            sal = _hours(rng, 10, 1.0, m)
            sal = np.where(slow[idx], sal * 4, sal)
            sal[rng.random(m) < 0.05] = 0                                   # auto-accepted
            delay = np.select([k == 0, k == 1, k <= 3, k == 4, k == 5],
                              [sal, _hours(rng, 36, 0.9, m), _hours(rng, 30, 0.9, m),
                               _hours(rng, 72, 0.9, m), _hours(rng, 30 * 24, 0.25, m)], 0)
            actor = np.select([k == 0, k == 1, k == 2, k == 3, k == 4, k == 5],
                              [sdr_actor[idx], ae_actor[idx], ae_actor[idx], sdr_actor[idx],
                               sdr_actor[idx], _A_AUTO], 0)
            rj = (k == 2) | (k == 3)
            reason[rj] = rej_reasons(idx[rj], (k == 2)[rj])
            reason[k == 4] = dq_reasons(idx[k == 4])
            reason[k == 5] = _R["no response"]
        elif s == L_SAL:
            logits = np.column_stack([
                np.log(0.55) + 0.9 * zz,                                    # SQL
                np.log(0.05) - 0.6 * zz + np.log(5.0) * picky[idx],         # Rejected by the AE
                np.log(0.13) - 0.6 * zz,                                    # Disqualified
                np.log(0.18) - 0.3 * zz,                                    # Recycled
                np.full(m, np.log(0.04)),                                   # left in SAL
            ])
            k = _softmax_pick(rng, logits)
            target = np.array((L_SQL, L_REJ, L_DQ, L_REC, -1), dtype=np.int8)[k]
            delay = np.select([k == 0, k == 1, k == 2, k == 3],
                              [_hours(rng, 96, 0.9, m), _hours(rng, 48, 0.9, m),
                               _hours(rng, 144, 0.9, m), _hours(rng, 21 * 24, 0.4, m)], 0)
            actor = np.select([k == 0, k == 1, k == 2, k == 3],
                              [ae_actor[idx], ae_actor[idx], sdr_actor[idx], _A_AUTO], 0)
            reason[k == 1] = rej_reasons(idx[k == 1], np.ones((k == 1).sum(), dtype=bool))
            reason[k == 2] = dq_reasons(idx[k == 2])
            reason[k == 3] = _R["nurture"]
        elif s == L_SQL:
            logits = np.column_stack([
                np.log(0.66) + 0.7 * zz,                                    # Opportunity
                np.log(0.15) - 0.5 * zz,                                    # Disqualified
                np.log(0.10) - 0.3 * zz,                                    # Recycled
                np.full(m, np.log(0.05)),                                   # left in SQL
            ])
            k = _softmax_pick(rng, logits)
            target = np.array((L_OPP, L_DQ, L_REC, -1), dtype=np.int8)[k]
            opp = _hours(rng, 8 * 24, 0.9, m)
            opp[rng.random(m) < 0.08] = 0                                   # converted at once
            delay = np.select([k == 0, k == 1, k == 2],
                              [opp, _hours(rng, 14 * 24, 0.8, m), _hours(rng, 30 * 24, 0.4, m)], 0)
            actor = np.select([k == 0, k == 1, k == 2], [ae_actor[idx], ae_actor[idx], _A_AUTO], 0)
            reason[k == 1] = dq_reasons(idx[k == 1])
            reason[k == 2] = _R["nurture"]
        elif s == L_REJ:
            f = fast[idx]
            logits = np.column_stack([
                np.where(f, np.log(0.35), np.log(0.72)),                    # Recycled
                np.where(can_mql, np.where(f, np.log(0.55), np.log(0.03)), _NEG_INF),  # MQL again
                np.where(f, np.log(0.03), np.log(0.10)),                    # Disqualified
                np.where(f, np.log(0.07), np.log(0.15)),                    # stays rejected
            ])
            k = _softmax_pick(rng, logits)
            target = np.array((L_REC, L_MQL, L_DQ, -1), dtype=np.int8)[k]
            rec = np.where(f, _hours(rng, 1.5, 0.8, m), _hours(rng, 20, 1.0, m))
            rec[~f & (rng.random(m) < 0.2)] = 0                              # recycled at once
            resub = np.where(f, _hours(rng, 30, 0.3, m), _hours(rng, 10 * 24, 0.5, m))
            delay = np.select([k == 0, k == 1, k == 2], [rec, resub, _hours(rng, 72, 0.8, m)], 0)
            actor = np.select([k == 0, k == 1, k == 2], [_A_AUTO, sdr_actor[idx], sdr_actor[idx]], 0)
            reason[k == 2] = dq_reasons(idx[k == 2])
        elif s == L_REC:
            f = fast[idx]
            p = np.where(f, 0.8, _sigmoid(-0.2 + 0.8 * zz))
            go = can_mql & (rng.random(m) < p)
            target = np.where(go, L_MQL, -1).astype(np.int8)
            delay = np.where(f, _hours(rng, 22, 0.35, m), _hours(rng, 24 * 24, 0.3, m))
            actor = np.where(f | (rng.random(m) < 0.3), sdr_actor[idx], _A_AUTO).astype(np.int16)
        return target, delay, actor.astype(np.int16), reason

    for _ in range(80):
        groups = [(s, np.flatnonzero(active & (state == s)))
                  for s in (L_LEAD, L_MQL, L_SAL, L_SQL, L_REJ, L_REC)]
        if not any(len(g) for _, g in groups):
            break
        for s, idx in groups:
            if not len(idx):
                continue
            target, delay, actor, reason = handle(s, idx)
            new_t = t[idx] + delay
            stop = (target < 0) | (new_t > _END_S)        # stays put, or only after the data ends
            active[idx[stop]] = False
            go = ~stop
            i, tg = idx[go], target[go]
            ev.add(lead=i, stage=tg, t=new_t[go], actor=actor[go], reason=reason[go], step=step[i])
            step[i] += 1
            state[i] = tg
            t[i] = new_t[go]
            n_mql[i] += tg == L_MQL
            n_rej[i] += tg == L_REJ
            active[i[(tg == L_OPP) | (tg == L_DQ)]] = False
    d.update(state=state, t_last=t, step=step, n_mql=n_mql, n_rej=n_rej, lead_ev=ev,
             student=student, ae_actor=ae_actor, sdr_actor=sdr_actor)


def _simulate_opportunities(rng, d: dict) -> None:
    """Opportunities for leads that reached Opportunity, plus a few expansion deals without a lead.

    The whole stage path of each deal is drawn first (ignoring the end date), so the expected
    close date a rep enters at each stage can be a noisy guess of the real one; events after the
    end of the data are then dropped, which leaves the open pipeline.
    """
    lead_idx = np.flatnonzero(d["state"] == L_OPP)
    n_exp = int(round(d["n"] * 0.004))
    # expansion deals from existing accounts: no lead, created over the whole period
    exp_created = np.sort(rng.integers(0, _END_S - 7 * DAY, n_exp))
    exp_segment = _pick(rng, [0.2, 0.45, 0.35], n_exp).astype(np.int8)
    exp_region = _pick(rng, _REGION_SHARE, n_exp).astype(np.int8)

    created = np.concatenate([d["t_last"][lead_idx], exp_created])
    lead = np.concatenate([lead_idx, np.full(n_exp, -1)])
    segment = np.concatenate([d["segment"][lead_idx], exp_segment])
    region = np.concatenate([d["region"][lead_idx], exp_region])
    ae = np.concatenate([d["ae"][lead_idx], _group_pick(rng, _AE_BY_SEGMENT, exp_segment)])
    zo = np.concatenate([0.45 * (d["z"][lead_idx] - 1.4), np.full(n_exp, 0.3)])
    m = len(created)
    zo = zo + _AE_SKILL[ae] + rng.normal(0.0, 0.5, m)

    order = np.argsort(created, kind="stable")          # ids follow creation order
    created, lead, segment, region, ae, zo = (a[order] for a in (created, lead, segment, region, ae, zo))
    cyc = _SEG_CYCLE[segment]

    # pass 1: stage path and timing
    stage = np.where(rng.random(m) < 0.08, O_DISC, O_QUAL).astype(np.int8)   # some skip Qualify
    t = created.copy()
    path_stage, path_t, path_idx = [stage.copy()], [t.copy()], [np.arange(m)]
    open_ = np.ones(m, dtype=bool)
    med_days = np.array([8.0, 14.0, 16.0, 12.0])
    nxt = np.array([[O_DISC, O_PROP, O_LOST], [O_PROP, O_NEG, O_LOST],
                    [O_NEG, O_WON, O_LOST], [O_WON, O_WON, O_LOST]])
    base = np.log(np.array([[0.64, 0.04, 0.32], [0.63, 0.03, 0.34],
                            [0.65, 0.04, 0.31], [0.66, 1e-12, 0.34]]))
    while open_.any():
        idx = np.flatnonzero(open_)
        s = stage[idx]
        q = zo[idx][:, None] * np.array([0.5, 0.5, -0.5])
        k = _softmax_pick(rng, base[s] + q)
        new = nxt[s, k].astype(np.int8)
        dur = np.exp(np.log(med_days[s] * cyc[idx]) + 0.6 * rng.standard_normal(len(idx)))
        dur = np.where(new == O_LOST, dur * 1.3, dur)
        t[idx] = t[idx] + (dur * DAY).astype(np.int64)
        stage[idx] = new
        path_stage.append(new)
        path_t.append(t[idx].copy())
        path_idx.append(idx)
        open_[idx[new >= O_WON]] = False
    close_t = t.copy()                                   # when each deal really closes

    # pass 2: amounts and expected close dates as entered at each event
    amount = np.exp(np.log(_SEG_AMOUNT[segment]) + 0.55 * rng.standard_normal(m))
    unit = np.array([100.0, 500.0, 1000.0])[segment]
    amount = np.maximum(np.round(amount / unit) * unit, unit)
    cur_close = np.zeros(m, dtype=np.int64)               # expected close, days since epoch
    ev = _Events("opp", "stage", "t", "amount", "close", "step")
    for step, (idx, st, tt) in enumerate(zip(path_idx, path_stage, path_t)):
        kept = tt <= _END_S
        k = len(idx)
        amt = np.full(k, np.nan)
        close = np.full(k, -1, dtype=np.int64)
        closed = st >= O_WON
        # expected close a rep enters: a noisy, optimistic guess of the real close
        f = np.exp(rng.normal(-0.22 + 0.05 * np.minimum(st, 3), 0.28, k))
        est_s = tt + f * (close_t[idx] - tt)
        est = (_EPOCH_S + est_s.astype(np.int64)) // DAY
        eom = (np.datetime64("1970-01-01", "D") + est).astype("datetime64[M]") + 1
        eom = (eom.astype("datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(np.int64) - 1
        est = np.where(rng.random(k) < 0.4, eom, est)     # reps like month ends
        event_day = (_EPOCH_S + tt) // DAY
        est = np.maximum(est, event_day + 1)
        if step == 0:
            amt = amount[idx].copy()
            close = est
            cur_close[idx] = est
        else:
            change = ~closed & (rng.random(k) < 0.30)
            factor = np.where(st == O_NEG, np.exp(rng.normal(-0.06, 0.08, k)),
                              np.exp(rng.normal(0.02, 0.22, k)))
            won_change = (st == O_WON) & (rng.random(k) < 0.2)
            factor = np.where(won_change, np.exp(rng.normal(-0.04, 0.05, k)), factor)
            change |= won_change
            new_amt = np.maximum(np.round(amount[idx] * factor / unit[idx]) * unit[idx], unit[idx])
            amount[idx] = np.where(change, new_amt, amount[idx])
            amt = np.where(change, new_amt, np.nan)
            lost_restated = (st == O_LOST) & (rng.random(k) < 0.15)
            amt = np.where(lost_restated, amount[idx], amt)
            slip = ~closed & (est > cur_close[idx] + 7)
            close = np.where(slip, est, -1)
            close = np.where(closed, event_day, close)   # closed deals carry the actual date
            upd = (slip | closed) & kept
            cur_close[idx[upd]] = close[upd]
        ev.add(opp=idx[kept], stage=st[kept], t=tt[kept], amount=amt[kept], close=close[kept],
               step=np.full(kept.sum(), step))

    evs = ev.arrays({"opp": np.int64, "stage": np.int8, "t": np.int64, "amount": np.float64,
                     "close": np.int64, "step": np.int16})
    # deal state at the end of the data: latest non-null amount and close date, last stage
    o = np.lexsort((evs["step"], evs["opp"]))
    e_opp, e_stage = evs["opp"][o], evs["stage"][o]
    e_amt, e_close, e_t = evs["amount"][o], evs["close"][o], evs["t"][o]
    last = np.r_[e_opp[1:] != e_opp[:-1], True] if len(e_opp) else np.zeros(0, dtype=bool)
    final_stage = np.full(m, O_QUAL, dtype=np.int8)
    final_stage[e_opp[last]] = e_stage[last]
    final_amount = _last_per_group(e_opp, e_amt, ~np.isnan(e_amt), np.zeros(m))
    final_close = _last_per_group(e_opp, e_close, e_close >= 0, np.zeros(m, dtype=np.int64))
    closed_at = np.full(m, -1, dtype=np.int64)
    ended = last & (e_stage >= O_WON)
    closed_at[e_opp[ended]] = e_t[ended]

    # the lead side of a closed deal: Customer when won; recycled or disqualified when lost
    lev = d["lead_ev"]
    linked = (lead >= 0) & (closed_at >= 0)
    won = linked & (final_stage == O_WON)
    lost = linked & (final_stage == O_LOST)
    li = lead[won]
    lev.add(lead=li, stage=L_CUST, t=closed_at[won], actor=_A_SYSTEM, reason=-1, step=d["step"][li])
    d["state"][li] = L_CUST
    li = lead[lost]
    dq = rng.random(len(li)) < 0.3
    lev.add(lead=li, stage=np.where(dq, L_DQ, L_REC), t=closed_at[lost],
            actor=np.where(dq, d["ae_actor"][li], _A_AUTO),
            reason=np.where(dq, _LOSS_CODES[_pick(rng, [0.45, 0.35, 0.2], len(li))], _R["closed lost"]),
            step=d["step"][li])
    d["state"][li] = np.where(dq, L_DQ, L_REC)

    # accounts: the lead's company for linked deals, an existing customer for expansions
    name_a = rng.integers(0, len(_NAME_A), m)
    name_b = rng.integers(0, len(_NAME_B), m)
    suffix = rng.integers(0, 3, m)
    d.update(
        opp_created=created, opp_lead=lead, opp_segment=segment, opp_ae=ae,
        opp_product=_softmax_pick(rng, _log(_SEG_PRODUCT[segment])),
        opp_account=(name_a * len(_NAME_B) + name_b) * 12 + region * 3 + suffix,
        opp_amount=final_amount, opp_close=np.where(closed_at >= 0, (_EPOCH_S + closed_at) // DAY, final_close),
        opp_ev=evs,
    )


def _finish_leads(rng, d: dict) -> None:
    """The SDR disposition: written by the SDR after working a lead, so it gives the outcome away."""
    evs = d["lead_ev"].arrays({"lead": np.int64, "stage": np.int8, "t": np.int64,
                               "actor": np.int16, "reason": np.int16, "step": np.int16})
    d["lead_events"] = evs
    n = d["n"]
    reached = np.zeros((n, 9), dtype=bool)
    reached[evs["lead"], evs["stage"]] = True
    sql = reached[:, L_SQL] | reached[:, L_OPP] | reached[:, L_CUST]
    # worked by an SDR: offered as an MQL, accepted, or disqualified before reaching sales
    touched = reached[:, L_MQL] | reached[:, L_SAL] | (reached[:, L_DQ] & ~sql)
    state = d["state"]
    stale = d["t_last"] < _END_S - 30 * DAY
    disp = np.select(
        [sql, state == L_DQ, (state == L_REJ) | (state == L_REC),
         ((state == L_MQL) | (state == L_SAL)) & stale],
        [0, 3, 2, 4], 1)
    disp = np.where(touched, disp, -1)
    d["disposition"] = disp.astype(np.int16)


# ---------------------------------------------------------------------------------------------
# Arrow tables for DuckDB


def _dict(codes, names) -> pa.DictionaryArray:
    codes = np.asarray(codes, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(list(names)))


def _ts(seconds) -> pa.Array:
    return pa.array(((np.asarray(seconds, dtype=np.int64) + _EPOCH_S) * 1_000_000).view("datetime64[us]"))


def _seq_order(key_t, key_id, key_step):
    """Input order of events: by time, then id, then step within the id."""
    if len(key_t) and (int(key_id.max()) + 1) * 64 * (_END_S + 1) < 2 ** 62:
        key = (key_t.astype(np.int64) * (int(key_id.max()) + 1) + key_id) * 64 + key_step
        return np.argsort(key, kind="stable")
    return np.lexsort((key_step, key_id, key_t))


def _leads_arrow(d: dict) -> pa.Table:
    n = d["n"]
    return pa.table({
        "lead_num": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "created_at": _ts(d["created"]),
        "channel": _dict(d["channel"], CHANNELS),
        "segment": _dict(d["segment"], SEGMENTS),
        "region": _dict(d["region"], REGIONS),
        "industry": _dict(d["industry"], INDUSTRIES),
        "company_size": pa.array(d["size"], mask=d["size_null"]),
        "job_title": _dict(d["title"], JOB_TITLES),
        "sdr": _dict(d["sdr"], SDRS),
        "ae": _dict(d["ae"], AES),
        "page_views": pa.array(d["page_views"]),
        "email_clicks": pa.array(d["email_clicks"]),
        "content_downloads": pa.array(d["downloads"]),
        "webinar_attended": pa.array(d["webinar"]),
        "demo_requested": pa.array(d["demo"]),
        "sdr_disposition": _dict(d["disposition"], SDR_DISPOSITIONS),
    })


def _lead_events_arrow(d: dict, stage_names: list[str]) -> pa.Table:
    e = d["lead_events"]
    o = _seq_order(e["t"], e["lead"], e["step"])
    return pa.table({
        "lead_num": pa.array(e["lead"][o] + 1),
        "stage": _dict(e["stage"][o], stage_names),
        "entered_at": _ts(e["t"][o]),
        "actor": _dict(e["actor"][o], ACTORS),
        "reason": _dict(e["reason"][o], REASONS),
        "event_seq": pa.array(np.arange(1, len(o) + 1, dtype=np.int64)),
    })


def _opps_arrow(d: dict) -> pa.Table:
    m = len(d["opp_created"])
    lead = d["opp_lead"]
    accounts = [f"{a} {b} {s}" for a in _NAME_A for b in _NAME_B
                for suffixes in _NAME_SUFFIX_BY_REGION for s in suffixes]
    return pa.table({
        "opp_num": pa.array(np.arange(1, m + 1, dtype=np.int64)),
        "lead_num": pa.array(lead + 1, mask=lead < 0),
        "account": _dict(d["opp_account"], accounts),
        "created_at": _ts(d["opp_created"]),
        "amount": pa.array(d["opp_amount"]),
        "close_date": pa.array(d["opp_close"].astype(np.int32), type=pa.date32()),
        "owner": _dict(d["opp_ae"], AES),
        "segment": _dict(d["opp_segment"], SEGMENTS),
        "product": _dict(d["opp_product"], PRODUCTS),
    })


def _opp_events_arrow(d: dict, stage_names: list[str]) -> pa.Table:
    e = d["opp_ev"]
    o = _seq_order(e["t"], e["opp"], e["step"])
    amt = e["amount"][o]
    close = e["close"][o]
    return pa.table({
        "opp_num": pa.array(e["opp"][o] + 1),
        "stage": _dict(e["stage"][o], stage_names),
        "entered_at": _ts(e["t"][o]),
        "amount": pa.array(amt, mask=np.isnan(amt)),
        "close_date": pa.array(close.astype(np.int32), type=pa.date32(), mask=close < 0),
        "event_seq": pa.array(np.arange(1, len(o) + 1, dtype=np.int64)),
    })
