"""The sample data generator: contract invariants, determinism, and the story the pages tell."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from funnel import sample, store
from funnel.errors import ConfigError

N = 3000
SEED = 7
END = "2026-11-20 23:59:59"
CLOSED = "('Closed Won', 'Closed Lost')"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("sample") / "sample.duckdb")
    counts = sample.generate_sample(con, leads=N, seed=SEED)
    yield con, counts
    con.close()


def one(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


# Lead -> reached SQL (definition 1: SQL or any later positioned stage), from the derived table
SQL_REACH = """
    SELECT l.*, (r.lead_id IS NOT NULL) AS reached_sql
    FROM leads l LEFT JOIN (SELECT lead_id FROM lead_reach WHERE position = 4) r USING (lead_id)
"""


# ---------------------------------------------------------------------------------------------
# Contract invariants


def test_counts_returned_match_tables(db):
    con, counts = db
    assert set(counts) == {"leads", "lead_events", "opportunities", "opportunity_events"}
    for table, n in counts.items():
        assert one(con, f"SELECT count(*) FROM {table}") == n
    assert counts["leads"] == N
    # volume shape: a few events per lead, 10-15% of leads get an opportunity
    assert 2.0 <= counts["lead_events"] / N <= 8.0
    assert 0.08 <= counts["opportunities"] / N <= 0.16
    assert counts["opportunity_events"] > 2 * counts["opportunities"]


def test_ids_unique_and_references_exist(db):
    con, _ = db
    assert one(con, "SELECT count(*) - count(DISTINCT lead_id) FROM leads") == 0
    assert one(con, "SELECT count(*) - count(DISTINCT opportunity_id) FROM opportunities") == 0
    assert one(con, "SELECT count(*) FROM lead_events WHERE lead_id NOT IN (SELECT lead_id FROM leads)") == 0
    assert one(con, """SELECT count(*) FROM opportunity_events
                       WHERE opportunity_id NOT IN (SELECT opportunity_id FROM opportunities)""") == 0
    assert one(con, """SELECT count(*) FROM opportunities
                       WHERE lead_id IS NOT NULL AND lead_id NOT IN (SELECT lead_id FROM leads)""") == 0
    assert one(con, "SELECT count(*) - count(DISTINCT event_seq) FROM lead_events") == 0
    assert one(con, "SELECT count(*) - count(DISTINCT event_seq) FROM opportunity_events") == 0
    # every linked opportunity comes from a lead that entered Opportunity at its creation time
    assert one(con, """SELECT count(*) FROM opportunities o WHERE lead_id IS NOT NULL AND NOT EXISTS (
                         SELECT 1 FROM lead_events e WHERE e.lead_id = o.lead_id
                         AND e.stage = 'Opportunity' AND e.entered_at = o.created_at)""") == 0
    # a few expansion deals have no lead
    assert one(con, "SELECT count(*) FROM opportunities WHERE lead_id IS NULL") >= 1


def test_required_values_present(db):
    con, _ = db
    assert one(con, "SELECT count(*) FROM leads WHERE created_at IS NULL") == 0
    assert one(con, """SELECT count(*) FROM opportunities
                       WHERE amount IS NULL OR amount < 0 OR close_date IS NULL OR created_at IS NULL""") == 0
    assert one(con, "SELECT count(*) FROM opportunity_events WHERE amount < 0") == 0


def test_stages_are_configured_for_their_funnel(db):
    con, _ = db
    assert one(con, """SELECT count(*) FROM lead_events WHERE stage NOT IN
                       (SELECT stage FROM stage_config WHERE funnel = 'lead')""") == 0
    assert one(con, """SELECT count(*) FROM opportunity_events WHERE stage NOT IN
                       (SELECT stage FROM stage_config WHERE funnel = 'opportunity')""") == 0
    used = {r[0] for r in rows(con, "SELECT DISTINCT stage FROM lead_events")}
    assert used == {s[1] for s in store.DEFAULT_STAGES if s[0] == "lead"}
    used = {r[0] for r in rows(con, "SELECT DISTINCT stage FROM opportunity_events")}
    assert used == {s[1] for s in store.DEFAULT_STAGES if s[0] == "opportunity"}


def test_attribute_columns(db):
    con, _ = db
    cols = store.lead_attribute_columns(con)
    for name, dtype in sample.SAMPLE_ATTRIBUTES.items():
        assert cols[name] == dtype
    # every rule of the default scoring rules names a real column
    for attribute, *_ in store.DEFAULT_RULES:
        assert attribute in cols
    titles = {r[0] for r in rows(con, "SELECT DISTINCT job_title FROM leads")}
    assert {"VP Sales", "CRO", "Head of Revenue", "Director of Sales", "Student",
            "Graduate student", "Marketing Manager", "Founder", "Engineer"} <= titles
    industries = {r[0] for r in rows(con, "SELECT DISTINCT industry FROM leads")}
    assert {"Software", "Financial Services", "Manufacturing", "Healthcare", "Retail",
            "Education"} <= industries
    assert {r[0] for r in rows(con, "SELECT DISTINCT segment FROM leads")} == {"SMB", "Mid-Market", "Enterprise"}
    assert {r[0] for r in rows(con, "SELECT DISTINCT region FROM leads")} == {"NA", "EMEA", "APAC", "LATAM"}
    assert one(con, "SELECT count(DISTINCT sdr) FROM leads") == 8
    assert one(con, "SELECT count(DISTINCT ae) FROM leads") == 6


def test_sdr_disposition_only_for_worked_leads_and_leaks_the_outcome(db):
    con, _ = db
    # never set on a lead that was never offered as an MQL nor disqualified
    assert one(con, """SELECT count(*) FROM leads l WHERE sdr_disposition IS NOT NULL AND NOT EXISTS (
                         SELECT 1 FROM lead_events e WHERE e.lead_id = l.lead_id
                         AND e.stage IN ('MQL', 'SAL', 'Disqualified'))""") == 0
    assert one(con, "SELECT count(*) FROM leads WHERE sdr_disposition IS NULL") > N / 4
    rate = dict(rows(con, f"SELECT sdr_disposition, avg(reached_sql::INT) FROM ({SQL_REACH}) "
                          "WHERE sdr_disposition IS NOT NULL GROUP BY 1"))
    assert rate["Qualified"] > 0.95
    assert max(v for k, v in rate.items() if k != "Qualified") < 0.05


# ---------------------------------------------------------------------------------------------
# Order and time


def test_events_in_order(db):
    con, _ = db
    # input order agrees with time within each lead / opportunity
    for table, key in (("lead_events", "lead_id"), ("opportunity_events", "opportunity_id")):
        assert one(con, f"""SELECT count(*) FROM (
            SELECT entered_at, lag(entered_at) OVER (PARTITION BY {key} ORDER BY event_seq) AS prev
            FROM {table}) WHERE entered_at < prev""") == 0
    # the Lead event, when present, is the first; Customer directly follows Opportunity
    assert one(con, "SELECT count(*) FROM lead_visits WHERE stage = 'Lead' AND event_no > 1") == 0
    assert one(con, "SELECT count(*) FROM lead_visits WHERE next_stage = 'Customer' AND stage <> 'Opportunity'") == 0
    assert one(con, "SELECT count(*) FROM lead_visits WHERE stage IN ('Customer', 'Disqualified') AND next_stage IS NOT NULL") == 0
    # opportunity history: nothing after a closed stage
    assert one(con, f"""SELECT count(*) FROM (
        SELECT stage, lead(stage) OVER (PARTITION BY opportunity_id ORDER BY entered_at, event_seq) AS nxt
        FROM opportunity_events) WHERE stage IN {CLOSED} AND nxt IS NOT NULL""") == 0
    # most leads start with a Lead event at created_at
    share = one(con, """SELECT avg(coalesce(e.entered_at = l.created_at, false)::INT) FROM leads l
                        LEFT JOIN lead_events e ON e.lead_id = l.lead_id AND e.stage = 'Lead'""")
    assert 0.9 < share < 1.0


def test_no_timestamp_after_end_and_none_before_creation(db):
    con, _ = db
    for table, col in (("leads", "created_at"), ("lead_events", "entered_at"),
                       ("opportunities", "created_at"), ("opportunity_events", "entered_at")):
        assert one(con, f"SELECT max({col}) FROM {table}") <= store_ts(END)
        assert one(con, f"SELECT min({col}) FROM {table}") >= store_ts("2025-05-01 00:00:00")
    assert one(con, """SELECT count(*) FROM lead_events e JOIN leads l USING (lead_id)
                       WHERE e.entered_at < l.created_at""") == 0
    assert one(con, """SELECT count(*) FROM opportunity_events e JOIN opportunities o USING (opportunity_id)
                       WHERE e.entered_at < o.created_at""") == 0
    # closed deals: close_date is the actual close, never in the future
    assert one(con, f"""SELECT count(*) FROM opportunities o JOIN opportunity_events e USING (opportunity_id)
                        WHERE e.stage IN {CLOSED} AND o.close_date <> CAST(e.entered_at AS DATE)""") == 0
    # about 18 months of leads
    months = one(con, "SELECT count(DISTINCT date_trunc('month', created_at)) FROM leads")
    assert months == 19


def store_ts(s):
    return dt.datetime.fromisoformat(s)


def test_same_timestamp_events_a_few_percent(db):
    con, _ = db
    share = one(con, "SELECT avg((next_at = entered_at)::INT) FROM lead_visits WHERE next_at IS NOT NULL")
    assert 0.005 < share < 0.10


# ---------------------------------------------------------------------------------------------
# Determinism and replace semantics

TABLE_ORDER = {
    "leads": "lead_id",
    "lead_events": "event_seq",
    "opportunities": "opportunity_id",
    "opportunity_events": "event_seq",
}


def dump(con):
    return {t: rows(con, f"SELECT * FROM {t} ORDER BY {k}") for t, k in TABLE_ORDER.items()}


def test_deterministic_for_a_seed(tmp_path):
    a = store.connect(tmp_path / "a.duckdb")
    b = store.connect(tmp_path / "b.duckdb")
    c = store.connect(tmp_path / "c.duckdb")
    assert sample.generate_sample(a, leads=800, seed=11) == sample.generate_sample(b, leads=800, seed=11)
    sample.generate_sample(c, leads=800, seed=12)
    da, db_, dc = dump(a), dump(b), dump(c)
    assert da == db_
    assert da["leads"] != dc["leads"]
    assert da["lead_events"] != dc["lead_events"]


def test_replace_clears_previous_data_and_records_the_run(tmp_path):
    con = store.connect(tmp_path / "r.duckdb")
    con.execute("ALTER TABLE leads ADD COLUMN stale_score VARCHAR")
    con.execute("ALTER TABLE leads ADD COLUMN page_views VARCHAR")      # wrong type: replaced
    con.execute("INSERT INTO rejected_rows (run_id, reason) VALUES (1, 'old')")
    v0 = store.data_version(con)
    first = sample.generate_sample(con, leads=500, seed=3)
    second = sample.generate_sample(con, leads=500, seed=3)
    assert first == second
    assert one(con, "SELECT count(*) FROM leads") == 500
    assert one(con, "SELECT count(*) FROM rejected_rows") == 0
    cols = store.lead_attribute_columns(con)
    assert "stale_score" not in cols and cols["page_views"] == "INTEGER"
    assert store.data_version(con) == v0 + 2
    runs = rows(con, "SELECT run_id, source, mode, status, rows_json, run_by FROM import_runs ORDER BY run_id")
    assert [r[1:4] for r in runs] == [("sample", "replace", "committed")] * 2
    assert runs[1][0] > runs[0][0]
    counts = json.loads(runs[1][4])
    assert counts["leads"]["loaded"] == 500 and counts["lead_events"]["loaded"] == second["lead_events"]
    assert runs[1][5] == store.current_user()
    # derived tables were rebuilt from the new events
    assert one(con, "SELECT count(*) FROM lead_visits") == second["lead_events"]


def test_follows_renamed_stages_and_refuses_other_layouts(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    con.execute("UPDATE stage_config SET stage = 'Marketing Qualified' WHERE funnel = 'lead' AND stage = 'MQL'")
    sample.generate_sample(con, leads=300, seed=1)
    assert one(con, "SELECT count(*) FROM lead_events WHERE stage = 'Marketing Qualified'") > 0
    assert one(con, "SELECT count(*) FROM lead_events WHERE stage = 'MQL'") == 0
    con.execute("DELETE FROM stage_config WHERE funnel = 'lead' AND stage = 'SAL'")
    before = one(con, "SELECT count(*) FROM leads")
    with pytest.raises(ConfigError):
        sample.generate_sample(con, leads=300, seed=2)
    assert one(con, "SELECT count(*) FROM leads") == before


# ---------------------------------------------------------------------------------------------
# The story


def test_channels_differ_in_quality(db):
    con, _ = db
    rates = dict(rows(con, f"SELECT channel, avg(reached_sql::INT) FROM ({SQL_REACH}) GROUP BY 1"))
    assert set(rates) == {"paid_search", "organic", "webinar", "event", "referral", "outbound", "partner"}
    assert max(rates.values()) / min(rates.values()) > 1.5
    assert rates["referral"] > rates["paid_search"] and rates["partner"] > rates["paid_search"]
    volume = dict(rows(con, "SELECT channel, count(*) FROM leads GROUP BY 1"))
    assert max(volume, key=volume.get) == "paid_search"


def test_picky_ae_rejects_far_more_often(db):
    con, _ = db
    by_ae = rows(con, """SELECT l.ae, count(*) FILTER (WHERE e.stage = 'MQL') AS handoffs,
                                count(*) FILTER (WHERE e.stage = 'Rejected') AS rejected,
                                count(*) FILTER (WHERE e.stage = 'Rejected' AND e.actor = l.ae) AS by_self
                         FROM lead_events e JOIN leads l USING (lead_id) GROUP BY 1""")
    team = sum(r[2] for r in by_ae) / sum(r[1] for r in by_ae)
    rate = {ae: rej / h for ae, h, rej, _ in by_ae}
    assert rate[sample.PICKY_AE] >= 2 * team
    assert all(v < 1.5 * team for ae, v in rate.items() if ae != sample.PICKY_AE)
    # the rejections are the AE's own (actor = that AE)
    own = {ae: s / h for ae, h, _, s in by_ae}
    assert own[sample.PICKY_AE] >= 2 * team
    # reasons: the list, with some missing
    reasons = dict(rows(con, "SELECT coalesce(reason, '?'), count(*) FROM lead_events WHERE stage = 'Rejected' GROUP BY 1"))
    assert set(reasons) - {"?"} == set(sample.REJECT_REASONS)
    assert 0.03 < reasons["?"] / sum(reasons.values()) < 0.15
    assert one(con, "SELECT count(*) FROM lead_events WHERE stage = 'Rejected' AND actor NOT IN (SELECT ae FROM leads UNION SELECT sdr FROM leads)") == 0


def test_one_sdr_resubmits_fast(db):
    con, _ = db
    med = dict(rows(con, """
        WITH r AS (
            SELECT e.lead_id, e.entered_at AS rejected_at,
                   (SELECT min(m.entered_at) FROM lead_events m
                    WHERE m.lead_id = e.lead_id AND m.stage = 'MQL'
                      AND (m.entered_at, m.event_seq) > (e.entered_at, e.event_seq)) AS resubmitted_at
            FROM lead_events e WHERE e.stage = 'Rejected')
        SELECT l.sdr, median(date_diff('second', rejected_at, resubmitted_at) / 86400.0)
        FROM r JOIN leads l USING (lead_id) WHERE resubmitted_at IS NOT NULL GROUP BY 1"""))
    assert med[sample.FAST_RESUBMIT_SDR] <= 2
    others = {k: v for k, v in med.items() if k != sample.FAST_RESUBMIT_SDR}
    assert len(others) == 7 and min(others.values()) > 7


def test_loops_and_recycling(db):
    con, _ = db
    assert one(con, "SELECT count(*) FROM (SELECT lead_id FROM lead_events WHERE stage = 'MQL' GROUP BY 1 HAVING count(*) >= 3)") > 0
    assert one(con, "SELECT count(*) FROM lead_visits WHERE stage = 'Rejected' AND next_stage = 'Recycled'") > 0
    assert one(con, "SELECT count(*) FROM lead_visits WHERE stage = 'Recycled' AND next_stage = 'MQL'") > 0
    assert one(con, "SELECT count(*) FROM lead_events WHERE stage = 'Recycled' AND actor <> 'marketing automation'") == 0
    # rejected leads later reach SQL less often than leads never rejected
    rates = dict(rows(con, f"""SELECT EXISTS (SELECT 1 FROM lead_events e WHERE e.lead_id = x.lead_id AND e.stage = 'Rejected'),
                                      avg(reached_sql::INT)
                               FROM ({SQL_REACH}) x
                               WHERE EXISTS (SELECT 1 FROM lead_events e WHERE e.lead_id = x.lead_id AND e.stage = 'MQL')
                               GROUP BY 1"""))
    assert rates[True] < rates[False]
    # disqualifications carry reasons, mostly
    assert one(con, "SELECT avg((reason IS NOT NULL)::INT) FROM lead_events WHERE stage = 'Disqualified'") > 0.9


def test_skipped_stages(db):
    con, _ = db
    assert one(con, "SELECT count(*) FROM lead_visits WHERE stage = 'Lead' AND next_stage = 'SQL'") > 0
    assert one(con, "SELECT count(*) FROM lead_visits WHERE stage = 'MQL' AND next_stage = 'SQL'") > 0
    skipped = one(con, """SELECT count(*) FROM (
        SELECT e.stage, lead(e.stage) OVER (PARTITION BY opportunity_id ORDER BY entered_at, event_seq) AS nxt
        FROM opportunity_events e) x
        JOIN stage_config a ON a.funnel = 'opportunity' AND a.stage = x.stage
        JOIN stage_config b ON b.funnel = 'opportunity' AND b.stage = x.nxt
        WHERE b.position > a.position + 1""")
    assert skipped > 0
    assert one(con, """SELECT count(*) FROM (SELECT opportunity_id, min(event_seq) s FROM opportunity_events GROUP BY 1) f
                       JOIN opportunity_events e ON e.event_seq = f.s WHERE e.stage = 'Discovery'""") > 0


def test_censored_recent_leads(db):
    con, _ = db
    last = """SELECT lead_id, arg_max(stage, (entered_at, event_seq)) AS stage FROM lead_events GROUP BY 1"""
    mid = one(con, f"""SELECT count(*) FROM ({last}) x JOIN leads l USING (lead_id)
                       WHERE x.stage IN ('MQL', 'SAL', 'SQL', 'Opportunity') AND l.created_at >= TIMESTAMP '2026-10-01'""")
    assert mid > 0
    # recent leads are less far along than old ones
    recent = one(con, f"SELECT avg(reached_sql::INT) FROM ({SQL_REACH}) WHERE created_at >= TIMESTAMP '2026-11-10'")
    older = one(con, f"SELECT avg(reached_sql::INT) FROM ({SQL_REACH}) WHERE created_at < TIMESTAMP '2026-06-01'")
    assert recent < older


def test_open_pipeline_and_closed_history(db):
    con, _ = db
    state = """SELECT o.*, x.stage FROM opportunities o JOIN (
        SELECT opportunity_id, arg_max(stage, (entered_at, event_seq)) AS stage
        FROM opportunity_events GROUP BY 1) x USING (opportunity_id)"""
    open_n, future, overdue = rows(con, f"""SELECT count(*),
        count(*) FILTER (WHERE close_date > DATE '2026-11-20' AND close_date <= DATE '2027-05-20'),
        count(*) FILTER (WHERE close_date < DATE '2026-11-20')
        FROM ({state}) WHERE stage NOT IN {CLOSED}""")[0]
    assert open_n >= 10
    assert future >= 0.75 * open_n
    assert overdue < 0.25 * open_n
    won, lost = rows(con, f"""SELECT count(*) FILTER (WHERE stage = 'Closed Won'), count(*) FILTER (WHERE stage = 'Closed Lost')
                              FROM ({state})""")[0]
    assert 0.2 <= won / (won + lost) <= 0.35
    # closed deals spread over the whole period
    assert one(con, f"SELECT count(DISTINCT date_trunc('month', entered_at)) FROM opportunity_events WHERE stage IN {CLOSED}") >= 15
    # won deals make customers, at the won time
    assert one(con, """SELECT count(*) FROM opportunities o JOIN opportunity_events w USING (opportunity_id)
                       WHERE w.stage = 'Closed Won' AND o.lead_id IS NOT NULL AND NOT EXISTS (
                         SELECT 1 FROM lead_events c WHERE c.lead_id = o.lead_id AND c.stage = 'Customer'
                         AND c.entered_at = w.entered_at)""") == 0
    assert one(con, "SELECT count(*) FROM lead_events WHERE stage = 'Customer'") == one(
        con, "SELECT count(*) FROM opportunity_events e JOIN opportunities o USING (opportunity_id) "
             "WHERE e.stage = 'Closed Won' AND o.lead_id IS NOT NULL")


def test_amounts_by_segment(db):
    con, _ = db
    med = dict(rows(con, "SELECT segment, median(amount) FROM opportunities GROUP BY 1"))
    assert 4000 < med["SMB"] < 16000
    assert 20000 < med["Mid-Market"] < 60000
    assert 90000 < med["Enterprise"] < 250000


def test_amount_changes_and_close_date_slips(db):
    con, _ = db
    assert one(con, """SELECT count(*) FROM (SELECT opportunity_id FROM opportunity_events
                       WHERE amount IS NOT NULL GROUP BY 1 HAVING count(DISTINCT amount) >= 2)""") > 0
    slips = one(con, """SELECT count(*) FROM (
        SELECT close_date, stage, last_value(close_date IGNORE NULLS) OVER (
                   PARTITION BY opportunity_id ORDER BY entered_at, event_seq
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
        FROM opportunity_events) WHERE stage NOT IN ('Closed Won', 'Closed Lost') AND close_date > prev""")
    assert slips > 0
    # carry-forward: many events leave amount / close date empty; closed-lost often has no amount
    assert one(con, "SELECT count(*) FROM opportunity_events WHERE amount IS NULL") > 0
    assert one(con, "SELECT count(*) FROM opportunity_events WHERE close_date IS NULL") > 0
    assert one(con, "SELECT avg((amount IS NULL)::INT) FROM opportunity_events WHERE stage = 'Closed Lost'") > 0.5
    # the first event of each deal carries its amount and close date
    assert one(con, """SELECT count(*) FROM opportunity_events e JOIN (
                         SELECT opportunity_id, min(event_seq) AS s FROM opportunity_events GROUP BY 1) f
                       ON e.event_seq = f.s WHERE e.amount IS NULL OR e.close_date IS NULL""") == 0
    # opportunities row = the latest non-null values of the history
    assert one(con, """SELECT count(*) FROM opportunities o JOIN (
                         SELECT opportunity_id,
                                arg_max(amount, (entered_at, event_seq)) FILTER (WHERE amount IS NOT NULL) AS a
                         FROM opportunity_events GROUP BY 1) h USING (opportunity_id)
                       WHERE o.amount <> h.a""") == 0


def test_engagement_and_fit_drive_conversion(db):
    con, _ = db
    demo = dict(rows(con, f"SELECT demo_requested, avg(reached_sql::INT) FROM ({SQL_REACH}) GROUP BY 1"))
    assert demo[True] > 2 * demo[False]
    pv = dict(rows(con, f"SELECT reached_sql, avg(page_views) FROM ({SQL_REACH}) GROUP BY 1"))
    assert pv[True] > 1.2 * pv[False]
    students = one(con, f"SELECT avg(reached_sql::INT) FROM ({SQL_REACH}) WHERE job_title ILIKE '%student%'")
    leaders = one(con, f"SELECT avg(reached_sql::INT) FROM ({SQL_REACH}) WHERE job_title IN ('VP Sales', 'CRO', 'Head of Revenue', 'Director of Sales')")
    assert leaders > 2 * students
    # the default scoring rules separate leads that reached SQL (ROC AUC, ties counted half)
    score = """(CASE segment WHEN 'Enterprise' THEN 20 WHEN 'Mid-Market' THEN 10 ELSE 0 END)
        + (CASE WHEN company_size >= 200 THEN 10 ELSE 0 END)
        + (CASE WHEN job_title IN ('VP Sales', 'CRO', 'Head of Revenue', 'Director of Sales') THEN 15 ELSE 0 END)
        + (CASE WHEN job_title ILIKE '%student%' THEN -30 ELSE 0 END)
        + (CASE WHEN industry IN ('Software', 'Financial Services') THEN 10 ELSE 0 END)
        + (CASE WHEN page_views >= 8 THEN 10 ELSE 0 END) + (CASE WHEN email_clicks >= 3 THEN 10 ELSE 0 END)
        + (CASE WHEN content_downloads >= 2 THEN 10 ELSE 0 END)
        + (CASE WHEN webinar_attended THEN 10 ELSE 0 END) + (CASE WHEN demo_requested THEN 25 ELSE 0 END)"""
    auc = one(con, f"""WITH s AS (SELECT {score} AS score, reached_sql AS y FROM ({SQL_REACH})
                                  WHERE created_at < TIMESTAMP '2026-09-01'),
        r AS (SELECT y, rank() OVER (ORDER BY score) + (count(*) OVER (PARTITION BY score) - 1) / 2.0 AS rk FROM s)
        SELECT (sum(rk) FILTER (WHERE y) - count(*) FILTER (WHERE y) * (count(*) FILTER (WHERE y) + 1) / 2.0)
               / (count(*) FILTER (WHERE y) * count(*) FILTER (WHERE NOT y)) FROM r""")
    assert 0.68 <= auc <= 0.85


def test_people_and_habits_exist(db):
    con, _ = db
    assert sample.PICKY_AE in sample.AES and sample.FAST_RESUBMIT_SDR in sample.SDRS
    actors = {r[0] for r in rows(con, "SELECT DISTINCT actor FROM lead_events")}
    assert {"system", "marketing automation"} <= actors
    assert set(sample.SDRS) <= actors and set(sample.AES) <= actors
    # the slow SDR takes clearly longer to accept MQLs
    med = dict(rows(con, """SELECT l.sdr = ?, median(date_diff('second', v.entered_at, v.next_at) / 3600.0)
                           FROM lead_visits v JOIN leads l USING (lead_id)
                           WHERE v.stage = 'MQL' AND v.next_stage = 'SAL' GROUP BY 1""", [sample.SLOW_FOLLOWUP_SDR]))
    assert med[True] > 2 * med[False]


def test_tiny_sizes_and_bad_size(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    assert sample.generate_sample(con, leads=1, seed=1)["leads"] == 1
    counts = sample.generate_sample(con, leads=10, seed=1)
    assert counts["leads"] == 10 and one(con, "SELECT count(*) FROM leads") == 10
    with pytest.raises(ConfigError):
        sample.generate_sample(con, leads=0)
    assert one(con, "SELECT count(*) FROM leads") == 10
