"""``python -m funnel bench`` and the pandas reference it times.

* the bench runs end to end on a tiny database (generation, CSV and Parquet import, every function,
  the pandas reference, one page render) and prints the documented JSON with positive figures;
* every public metric function is timed (or named in bench.NOT_TIMED with a reason), so a new
  function cannot slip past the performance targets unmeasured;
* the pandas reading of metrics.md in funnel/reference.py agrees with the SQL metrics on the
  sample data to 1e-9 — two independent implementations of the spec checking each other.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from funnel import bench, conversion, forecast, reference, rejections, scoring, store, time_in_stage
from funnel.query import Scope

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-9


def close(a, b) -> bool:
    """Equal within 1e-9 (relative or absolute); None / NaN only equal each other."""
    na = a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NA or a is pd.NaT
    nb = b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA or b is pd.NaT
    if na or nb:
        return na and nb
    return math.isclose(float(a), float(b), rel_tol=TOL, abs_tol=TOL)


def _py(x):
    if x is None:
        return None
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return x.item() if hasattr(x, "item") else x


# ---------------------------------------------------------------------------------------------
# The bench end to end


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory) -> Path:
    """A private 2,000-lead database (the bench's child processes must be able to open it)."""
    from funnel.sample import generate_sample

    path = tmp_path_factory.mktemp("bench") / "tiny.duckdb"
    con = store.connect(path)
    generate_sample(con, leads=2000, seed=7)
    con.close()
    return path


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def test_bench_json_shape_and_every_figure_positive(tiny_db):
    cmd = [sys.executable, "-m", "funnel", "bench", "--db", str(tiny_db), "--runs", "1", "--page-runs", "1",
           "--pages", "pages/conversion.py", "--include-generation", "--json", "--quiet"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout)

    assert res["leads"] == 2000
    names = [f["name"] for f in res["functions"]]
    assert len(names) == len(set(names)) and len(names) >= 50
    for f in res["functions"]:
        assert {"name", "median_ms", "peak_mb"} <= f.keys()
        assert _positive(f["median_ms"]) and _positive(f["peak_mb"]), f
        if "pandas_ms" in f:
            assert _positive(f["pandas_ms"]) and _positive(f["speedup"]), f
    with_reference = {f["name"] for f in res["functions"] if "speedup" in f}
    assert {"stage_conversion", "time_in_stage[lead]", "rejection_summary", "weighted_forecast[configured]",
            "evaluate_scenario (current rules)", "evaluate_scenario (after a rule edit)"} <= with_reference
    assert "evaluate_scenario (after a rule edit)" in names and "forecast_ranges (Monte Carlo)" in names

    assert [p["name"] for p in res["pages"]] == ["pages/conversion.py"]
    page = res["pages"][0]
    assert _positive(page["median_ms"]) and _positive(page["warm_ms"]) and _positive(page["peak_mb"])
    assert page["errors"] == []

    for key in ("generation_s", "import_csv_s", "import_parquet_s", "generation_peak_mb", "import_csv_peak_mb",
                "import_parquet_peak_mb", "pandas_load_s", "entry_ms"):
        assert _positive(res[key]), key
    # the imports loaded every row of the benchmark database
    con = store.connect(tiny_db, read_only=True)
    try:
        for table in ("leads", "lead_events", "opportunities", "opportunity_events"):
            n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert res["import_csv_rows"][table] == n and res["import_parquet_rows"][table] == n, table
    finally:
        con.close()
    targets = {v["target"] for v in res["verdicts"]}
    assert any("metric function" in t for t in targets) and any("pandas" in t for t in targets)
    assert any("CSV" in t for t in targets) and any("generation" in t for t in targets)


def test_human_output_has_a_verdict_per_target():
    res = {"leads": 1_000_000, "db": "x", "runs": 5, "cpus": 2, "load_average": [1.0, 1.0, 1.0],
           "functions": [{"name": "fast", "kind": "metric", "median_ms": 120.0, "peak_mb": 500.0,
                          "pandas_ms": 2400.0, "speedup": 20.0},
                         {"name": "slow", "kind": "metric", "median_ms": 450.0, "peak_mb": 700.0,
                          "pandas_ms": 900.0, "speedup": 2.0},
                         {"name": "mc", "kind": "monte_carlo", "median_ms": 800.0, "peak_mb": 600.0}],
           "pages": [{"name": "pages/a.py", "median_ms": 2500.0, "warm_ms": 100.0, "peak_mb": 3500.0, "errors": []}],
           "entry_ms": 900.0, "entry_peak_mb": 800.0, "import_csv_s": 30.0, "import_csv_peak_mb": 900.0,
           "import_parquet_s": 10.0, "import_parquet_peak_mb": 800.0, "generation_s": 130.0,
           "generation_peak_mb": 2000.0}
    v = {x["target"]: x for x in bench.verdicts(res)}
    by = lambda word: next(x for t, x in v.items() if word in t)  # noqa: E731
    assert not by("metric function")["ok"] and by("metric function")["misses"] == ["slow"]
    assert by("Monte Carlo")["ok"]
    assert not by("page renders")["ok"] and by("page renders")["misses"] == ["pages/a.py"]
    assert by("CSV")["ok"] and not by("generation")["ok"]
    assert not by("peak memory")["ok"] and by("peak memory")["misses"] == ["pages/a.py"]
    assert not by("pandas")["ok"] and by("pandas")["misses"] == ["slow"]
    res["verdicts"] = bench.verdicts(res)
    text = bench.format_table(res)
    assert text.count("✓") >= 2 and text.count("✗") >= 4 and "20.0×" in text


def test_every_public_metric_function_is_timed(sample_db):
    """A new public function must be added to bench.metric_calls (or to NOT_TIMED with a reason)."""
    con = store.connect(sample_db, read_only=True)
    try:
        entries = bench.metric_calls(con)
    finally:
        con.close()
    assert bench.uncovered_functions(entries) == []
    assert not set(bench.NOT_TIMED) - set(bench.public_functions()), "NOT_TIMED names a function that is gone"


def test_bench_modules_do_not_import_streamlit():
    code = "import sys, funnel.bench, funnel.reference; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


# ---------------------------------------------------------------------------------------------
# The pandas reference against the SQL metrics, on the sample data


@pytest.fixture(scope="module")
def sample(sample_db):
    con = store.connect(sample_db, read_only=True)
    tables = reference.load_tables(con)
    yield con, tables
    con.close()


def _as_ofs(con) -> list:
    """The default as-of date and one four months earlier (more visits censored, deals open)."""
    latest = reference.load_tables(con).latest.date()
    return [None, date(latest.year - (1 if latest.month <= 4 else 0), (latest.month - 5) % 12 + 1, 15)]


@pytest.mark.parametrize("which", [0, 1], ids=["latest", "earlier"])
def test_reference_stage_conversion_agrees(sample, which):
    con, t = sample
    as_of = _as_ofs(con)[which]
    got = conversion.stage_conversion(con, Scope(as_of=as_of)).sort_values("position").reset_index(drop=True)
    want = reference.stage_conversion(t, as_of)
    assert list(got["stage"]) == list(want["stage"])
    for col in ("reached", "step_rate", "overall_rate", "median_days_to_reach"):
        for g, w, s in zip(got[col], want[col], got["stage"]):
            assert close(_py(g), _py(w)), (col, s, g, w)
    assert int(want["reached"].iloc[1]) > 0


@pytest.mark.parametrize("which", [0, 1], ids=["latest", "earlier"])
@pytest.mark.parametrize("funnel", ["lead", "opportunity"])
def test_reference_time_in_stage_agrees(sample, which, funnel):
    con, t = sample
    as_of = _as_ofs(con)[which]
    got = time_in_stage.time_in_stage(con, Scope(as_of=as_of), funnel).set_index("stage")
    want = reference.time_in_stage(t, as_of, funnel).set_index("stage")
    assert list(got.index) == list(want.index)
    for col in ("visits", "completed", "censored", "median_hours", "p90_hours", "km_median_hours"):
        for s in got.index:
            assert close(_py(got.loc[s, col]), _py(want.loc[s, col])), (col, s, got.loc[s, col], want.loc[s, col])
    assert want["censored"].sum() > 0 and want["km_median_hours"].notna().any()


@pytest.mark.parametrize("which", [0, 1], ids=["latest", "earlier"])
def test_reference_rejections_agree(sample, which):
    con, t = sample
    as_of = _as_ofs(con)[which]
    got, want = rejections.rejection_summary(con, Scope(as_of=as_of)), reference.rejection_summary(t, as_of)
    for k in ("handoffs", "rejected", "rejection_rate", "resubmissions", "resubmitted_within_7d",
              "median_resubmit_days", "leads_with_loops", "leads_handed_off"):
        assert close(got[k], want[k]), (k, got[k], want[k])
    assert want["resubmissions"] > 0 and want["leads_with_loops"] > 0
    g = rejections.rejections_by_reason(con, Scope(as_of=as_of))
    w = reference.rejections_by_reason(t, as_of)
    assert dict(zip(g["reason"].map(_py), g["rejected"])) == dict(zip(w["reason"].map(_py), w["rejected"]))


@pytest.mark.parametrize("which", [0, 1], ids=["latest", "earlier"])
@pytest.mark.parametrize("method", ["configured", "historical"])
def test_reference_weighted_forecast_agrees(sample, which, method):
    con, t = sample
    as_of = _as_ofs(con)[which]
    got = forecast.by_period(forecast.weighted_forecast(con, Scope(as_of=as_of), method))
    want = reference.weighted_forecast(t, as_of, method)
    assert [pd.Timestamp(p) for p in got["period"]] == [pd.Timestamp(p) for p in want["period"]]
    for col in ("open_deals", "open_amount", "weighted_amount"):
        for g, w in zip(got[col], want[col]):
            assert close(_py(g), _py(w)), (col, g, w)
    assert want["weighted_amount"].sum() > 0


@pytest.mark.parametrize("edit", [False, True], ids=["stored rules", "after a rule edit"])
def test_reference_scoring_agrees(sample, edit):
    con, t = sample
    rules = scoring.applicable_rules(con, scoring.stored_rules(con))
    thr = scoring.stored_threshold(con)
    sql_rules = bench.edit_rule(rules) if edit else rules
    ref_rules = reference.edited_rules(rules) if edit else rules
    got = scoring.evaluate_scenario(con, sql_rules, thr)
    want = reference.evaluate(t, ref_rules, thr)
    for k in ("leads", "above", "with_outcome", "true_positives", "precision", "recall", "auc"):
        assert close(got[k], want[k]), (k, got[k], want[k])
    assert 0 < want["above"] < want["leads"]


def test_reference_rule_operators_follow_the_spec():
    """Each operator of metrics.md §5 on a hand-made column (a null matches no rule)."""
    num = pd.Series([1, 5, None, 10], dtype="Int64")
    text = pd.Series(["VP Sales", "cro", None, "Student intern"], dtype=object)
    flag = pd.Series([True, False, None, True], dtype="boolean")
    m = reference.rule_matches
    assert list(m(num, ">=", "5")) == [False, True, False, True]
    assert list(m(num, "between", "1|5")) == [True, True, False, False]
    assert list(m(num, "not in", "1|10")) == [False, True, False, False]
    assert list(m(num, "is true", "")) == [True, False, False, False]
    assert list(m(text, "=", "cro")) == [False, True, False, False]          # exact, case-sensitive
    assert list(m(text, "contains", "STUDENT")) == [False, False, False, True]  # case-insensitive
    assert list(m(text, "in", "VP Sales|CRO")) == [True, False, False, False]
    assert list(m(text, "!=", "cro")) == [True, False, False, True]
    assert list(m(flag, "is true", "")) == [True, False, False, True]
    assert list(m(flag, "is false", "")) == [False, True, False, False]


def test_filters_read_from_the_derived_tables_match_the_join_to_leads(sample, monkeypatch):
    """A filter on a column the derived tables carry skips the join to leads; the figures must be
    those of the join (forced by pretending no column is copied)."""
    con, _ = sample
    channels = [r[0] for r in con.execute("SELECT DISTINCT channel FROM leads ORDER BY 1 LIMIT 2").fetchall()]
    scope = Scope(filters=(("channel", tuple(channels)), ("segment", ("SMB",))))
    calls = [lambda: time_in_stage.time_in_stage(con, scope, "lead"),
             lambda: time_in_stage.survival_curves(con, scope, "lead"),
             lambda: time_in_stage.stuck_items(con, scope, "lead"),
             lambda: time_in_stage.sla_breaches(con, scope, "lead"),
             lambda: conversion.stage_conversion(con, scope),
             lambda: conversion.stage_conversion(con, scope, "channel"),
             lambda: conversion.stage_conversion(con, scope, "industry"),
             lambda: conversion.conversion_trend(con, scope),
             lambda: conversion.time_to_convert_histogram(con, scope)]
    fast = [call() for call in calls]
    assert fast[0]["visits"].sum() > 0
    monkeypatch.setattr(store, "DERIVED_LEAD_COLUMNS", ("created_at",))
    for got, call in zip(fast, calls):
        pd.testing.assert_frame_equal(got, call())


@pytest.mark.parametrize("funnel", ["lead", "opportunity"])
def test_table_and_curves_in_one_query_equal_the_two_functions_on_the_sample(sample, funnel):
    con, _ = sample
    both = time_in_stage.time_in_stage_and_curves(con, Scope(), funnel)
    pd.testing.assert_frame_equal(both["stages"], time_in_stage.time_in_stage(con, Scope(), funnel))
    pd.testing.assert_frame_equal(both["curves"], time_in_stage.survival_curves(con, Scope(), funnel))
    assert len(both["curves"]) > 100
