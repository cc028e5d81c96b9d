"""``python -m funnel bench``: median time and peak memory of every public metric function.

Peak memory is the process's resident set size sampled every 2 ms while the function runs
(DuckDB allocates outside Python, so tracemalloc would miss most of it).
"""
from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path

from . import conversion, forecast, overview, rejections, scoring, store, time_in_stage
from .query import Scope, resolve


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _PeakSampler:
    def __enter__(self):
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, _rss_mb())


def time_call(fn, runs: int) -> dict:
    times, peak = [], 0.0
    fn()  # warm-up: first-call costs (plans, page cache) are not what a user waits for each time
    for _ in range(runs):
        with _PeakSampler() as s:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        peak = max(peak, s.peak)
    return {"median_ms": round(statistics.median(times), 1), "peak_mb": round(peak, 1)}


def bench_db(leads: int, seed: int = 7) -> Path:
    """A generated database of ``leads`` leads, reused across runs (data/bench_N.duckdb)."""
    from .sample import generate_sample

    path = Path("data") / f"bench_{leads}_{seed}.duckdb"
    con = store.connect(path)
    n = con.execute("SELECT count(*) FROM leads").fetchone()[0]
    if n != leads:
        generate_sample(con, leads=leads, seed=seed)
    con.close()
    return path


def metric_calls(con) -> dict:
    s = Scope()
    r = resolve(con, s)
    rules, thr = scoring.stored_rules(con), scoring.stored_threshold(con)
    rules = scoring.applicable_rules(con, rules)
    d2 = r.as_of
    return {
        "stage_conversion": lambda: conversion.stage_conversion(con, s),
        "stage_conversion[by channel]": lambda: conversion.stage_conversion(con, s, breakdown="channel"),
        "conversion_trend": lambda: conversion.conversion_trend(con, s, "month"),
        "time_to_convert_histogram": lambda: conversion.time_to_convert_histogram(con, s),
        "time_in_stage[lead]": lambda: time_in_stage.time_in_stage(con, s, "lead"),
        "time_in_stage[opportunity]": lambda: time_in_stage.time_in_stage(con, s, "opportunity"),
        "survival_curves": lambda: time_in_stage.survival_curves(con, s),
        "stuck_items": lambda: time_in_stage.stuck_items(con, s),
        "sla_breaches": lambda: time_in_stage.sla_breaches(con, s),
        "rejection_summary": lambda: rejections.rejection_summary(con, s),
        "rejection_breakdown[ae]": lambda: rejections.rejection_breakdown(con, s, "ae"),
        "rejections_by_reason": lambda: rejections.rejections_by_reason(con, s),
        "loop_distribution": lambda: rejections.loop_distribution(con, s),
        "recycled_outcomes": lambda: rejections.recycled_outcomes(con, s),
        "transition_flows": lambda: rejections.transition_flows(con, s),
        "ping_pong_leads": lambda: rejections.ping_pong_leads(con, s),
        "pipeline_as_of": lambda: forecast.pipeline_as_of(con, s),
        "stage_win_rates": lambda: forecast.stage_win_rates(con, s),
        "weighted_forecast[configured]": lambda: forecast.weighted_forecast(con, s, "configured"),
        "weighted_forecast[historical]": lambda: forecast.weighted_forecast(con, s, "historical"),
        "forecast_ranges (Monte Carlo)": lambda: forecast.forecast_ranges(con, s),
        "pipeline_changes": lambda: forecast.pipeline_changes(con, s, d2 - timedelta(days=7), d2),
        "forecast_backtest": lambda: forecast.forecast_backtest(con, s),
        "evaluate_scenario (re-score)": lambda: scoring.evaluate_scenario(con, rules, thr, s),
        "weekly_kpis": lambda: overview.weekly_kpis(con, s),
    }


def run_bench(db: str | None = None, leads: int = 1_000_000, runs: int = 5) -> dict:
    t0 = time.perf_counter()
    path = Path(db) if db else bench_db(leads)
    build_s = time.perf_counter() - t0
    con = store.connect(path)
    n = con.execute("SELECT count(*) FROM leads").fetchone()[0]
    out = {"leads": int(n), "db": str(path), "prepare_seconds": round(build_s, 1), "functions": []}
    for name, fn in metric_calls(con).items():
        res = time_call(fn, runs)
        out["functions"].append({"name": name, **res})
    return out
