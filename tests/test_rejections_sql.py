"""The rejection queries as named files (issue #16): one commented query per file in funnel/sql/,
runnable alone, composed by funnel/rejections.py through funnel.sqlcompose — which holds no SQL
text of its own.

The strongest check here: each file run as it stands, with its default group, grain and targets
and the parameters of the default scope, gives exactly what the composed function gives. The
function's text differs from the file's (the join to the cohort dropped when the cohort is every
lead, ev narrowed to bound stage names, lead columns carried through the events instead of a
join to leads), so this pins that the composition changes the query's cost, never its figure.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

from funnel import rejections as R
from funnel import sqlcompose, store
from funnel.query import Scope, resolve

FUNNEL = Path(__file__).resolve().parents[1] / "funnel"

#: The named queries funnel/rejections.py runs.
METRIC_QUERIES = ("rejection_events", "rejection_summary", "rejection_reasons", "rejection_actors",
                  "rejection_rates", "rejection_breakdown", "rejection_trend", "rejection_reasons_over_time",
                  "resubmit_delays", "loop_distribution", "recycled_outcomes", "transition_flows",
                  "ping_pong_leads", "rejection_data_presence")
#: … and the cheap check that decides whether the cohort is every lead (no metric of its own).
HELPER_QUERIES = ("leads_outside_cohort",)

SQL_WORDS = re.compile(r"\b(SELECT|FROM|WHERE|WITH|JOIN|GROUP BY)\b")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def test_the_module_holds_no_sql_text():
    source = (FUNNEL / "rejections.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = [(node.lineno, node.value[:60]) for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
             and SQL_WORDS.search(node.value)]
    assert found == [], f"SQL text in funnel/rejections.py (move it to a named file in funnel/sql/): {found}"
    assert not any(isinstance(node, ast.JoinedStr) and any(SQL_WORDS.search(v.value) for v in node.values
                                                           if isinstance(v, ast.Constant))
                   for node in ast.walk(tree))


def test_the_check_finds_sql_text():
    tree = ast.parse('def f():\n    """Reads FROM the events."""\n    q = "SELECT 1"\n')
    docs = _docstrings(tree)
    assert [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in docs
            and SQL_WORDS.search(n.value)] == ["SELECT 1"]


@pytest.mark.parametrize("name", METRIC_QUERIES + HELPER_QUERIES)
def test_each_query_is_a_named_commented_file_that_says_what_it_uses(name):
    assert sqlcompose.headers(name)["name"] == (name,)
    text = sqlcompose.source(name)
    comments = [line for line in text.splitlines() if line.lstrip().startswith("--")]
    assert len(comments) >= 4, f"{name}.sql says too little about what it computes and why"
    if name in METRIC_QUERIES:
        assert "metrics.md §3" in "\n".join(comments), f"{name}.sql does not refer to its definition"
    # a file that reads the CTEs of rejection_events says so (and does not restate them)
    shared = set(sqlcompose.ctes(sqlcompose.query("rejection_events"))) | {"rejection_events"}
    own = set(sqlcompose.ctes(sqlcompose.parse(text)))
    reads = {t.name for t in sqlcompose.parse(text).find_all(sqlcompose.exp.Table)} - own
    if name != "rejection_events" and reads & shared:
        assert sqlcompose.headers(name)["uses"] == ("rejection_events",)
        assert not own & shared, f"{name}.sql restates {sorted(own & shared)} of rejection_events"


@pytest.fixture(scope="module")
def con(sample_db):
    c = store.connect(sample_db, read_only=True)
    yield c
    c.close()


def _defaults(con) -> dict:
    """The file's parameters for the default scope, with the defaults the functions use."""
    fs = {s.stage: s.position for s in store.funnel_stages(con, "lead")}
    return {**resolve(con, Scope()).params, "handoff": store.handoff_stage(con),
            "outcome_stage": R.DEFAULT_OUTCOME_STAGE, "outcome_pos": fs[R.DEFAULT_OUTCOME_STAGE],
            "quick": R.QUICK_RESUBMIT_DAYS, "small_sample": R.SMALL_SAMPLE, "ratio": R.STANDOUT_RATIO,
            "z_min": R.STANDOUT_Z, "recycled_group": R.RECYCLED_GROUP, "first_pass_group": R.FIRST_PASS_GROUP,
            "st0": "SQL", "pos0": fs["SQL"], "st1": "Customer", "pos1": fs["Customer"],
            "min_rejections": 2, "limit": 2000}


def _alone(con, name: str) -> pd.DataFrame:
    """The named query run as it stands, as `python -m funnel.sqlcompose NAME` prints it."""
    text = sqlcompose.to_sql(sqlcompose.query(name))
    values = _defaults(con)
    return con.execute(text, {k: values[k] for k in sqlcompose.placeholders(text)}).df()


#: file → the function call computing the same figure with the file's defaults.
SAME_AS = {
    "rejection_events": lambda con: R.rejection_events(con),
    "rejection_reasons": lambda con: R.rejections_by_reason(con),
    "rejection_actors": lambda con: R.rejection_breakdown(con, by="actor"),
    "rejection_trend": lambda con: R.rejection_trend(con, grain="week"),
    "rejection_reasons_over_time": lambda con: R.reasons_over_time(con, grain="month"),
    "resubmit_delays": lambda con: R.resubmit_delays(con, by="sdr"),
    "loop_distribution": lambda con: R.loop_distribution(con),
    "recycled_outcomes": lambda con: R.recycled_outcomes(con, stages=("SQL", "Customer")),
    "transition_flows": lambda con: R.transition_flows(con),
    "ping_pong_leads": lambda con: R.ping_pong_leads(con, min_rejections=2, limit=2000),
}


@pytest.mark.parametrize("name", sorted(SAME_AS))
def test_a_file_run_alone_gives_the_functions_figures(con, name):
    alone = _alone(con, name)
    assert len(alone) > 0
    pd.testing.assert_frame_equal(alone, SAME_AS[name](con), check_exact=True)


def test_the_summary_file_gives_the_summary(con):
    alone = _alone(con, "rejection_summary").iloc[0].to_dict()
    got = R.rejection_summary(con)
    assert alone["rejected"] > 0
    assert {k: float(v) for k, v in alone.items()} == {k: float(got[k]) for k in alone}


def test_the_rates_file_gives_the_rates_by_ae(con):
    """The file reads the AE from leads; the function carries it through the events."""
    alone = _alone(con, "rejection_rates").sort_values("grp").reset_index(drop=True)
    got = R.rejection_rates(con, by="ae")[["grp", "handoffs", "rejected"]].sort_values("grp").reset_index(drop=True)
    assert len(alone) > 2
    pd.testing.assert_frame_equal(alone, got, check_exact=True)


def test_the_breakdown_file_gives_the_breakdowns_by_ae_and_sdr_and_the_totals(con):
    alone = _alone(con, "rejection_breakdown")
    frames = R._breakdowns(con, Scope(), ("ae", "sdr"), with_totals=True)
    for dim, by in enumerate(("ae", "sdr")):
        mine = alone[alone["dim"] == dim].drop(columns=["dim", "leads_with_loops", "leads_handed_off"])
        assert len(mine) > 2
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), frames[by], check_exact=True)
    totals = alone[alone["dim"] == -1].iloc[0]
    assert int(totals["handoffs"]) == frames["_totals"]["handoffs"] == R.rejection_summary(con)["handoffs"]
    assert int(totals["leads_with_loops"]) == frames["_totals"]["leads_with_loops"]


def test_the_presence_and_cohort_checks(con):
    handoff = store.handoff_stage(con)
    assert _alone(con, "rejection_data_presence").iloc[0].to_dict() == R._data_presence(con, handoff)
    assert R._data_presence(con, handoff) == {"events": 1, "handoffs": 1, "rejections": 1, "rejected_stages": 1}
    assert int(_alone(con, "leads_outside_cohort").iloc[0]["outside"]) == 0
    assert R._cohort_is_every_lead(con, resolve(con, Scope()))
    later = resolve(con, Scope(date_from=resolve(con, Scope()).as_of))
    assert not R._cohort_is_every_lead(con, later)


def test_text_is_generated_once_per_shape_and_values_stay_parameters(con, monkeypatch):
    R._scoped_sql.cache_clear()
    R._breakdown_sql.cache_clear()
    calls, texts = [], []
    real_query, real_run = sqlcompose.query, R.run
    monkeypatch.setattr(sqlcompose, "query", lambda name: calls.append(name) or real_query(name))
    monkeypatch.setattr(R, "run", lambda c, q, params=None, **kw: texts.append(q) or real_run(c, q, params, **kw))
    odd = "x' OR 1=1 --"
    scope = Scope(filters=(("channel", ("webinar", odd)),))
    for _ in range(2):
        R.rejection_summary(con, scope)
        R.rejection_breakdown(con, scope, by="industry")
        R.ping_pong_leads(con, scope, limit=3)
    assert calls.count("rejection_summary") == 1 and calls.count("rejection_breakdown") == 1
    assert calls.count("ping_pong_leads") == 1
    assert texts[0].startswith("-- rejection_summary: funnel/sql/rejection_summary.sql\n")
    assert all(odd not in t and "webinar" not in t for t in texts)
    assert any("LIMIT $limit" in t for t in texts)
