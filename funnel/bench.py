"""``python -m funnel bench``: how fast and how big, against the targets of the performance issue.

What is measured, each as the median of several runs with its peak memory:

* every public metric function of the library (the list below; a test fails when a new public
  function is neither timed nor named in :data:`NOT_TIMED`), including the scoring re-evaluation
  after a rule edit, and — for the headline metrics — the plain pandas reading of the spec in
  :mod:`funnel.reference` on the same data, with the speed-up;
* the time each page takes to render (Streamlit's AppTest: the app frame plus the page, with the
  figure cache cleared first, as on a first visit; and again with the cache warm);
* sample generation at the same size, and the import of the four canonical CSV files and of the
  same tables as Parquet (exported from the benchmark database, imported into a fresh one), and
  of a wide leads file (10,000 rows × 100 / 200 / 400 attribute columns: time must grow linearly).

Peak memory is the process's resident set size sampled every 2 ms while the work runs (DuckDB
allocates outside Python, so tracemalloc would miss most of it). Generation, imports and page
renders each run in a child process of their own, so their peaks are what that work needs by
itself; the library functions run in this process, before the pandas reference loads its frames.

Streamlit is imported only inside the page-render child: ``funnel`` stays Streamlit-free.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from . import (conversion, forecast, health, overview, rejections, report, review_targets, scoring, store, targets,
               time_in_stage, versions)
from .query import Scope, resolve

ROOT = Path(__file__).resolve().parents[1]

#: Targets of the performance issue (milliseconds, seconds, megabytes).
TARGET_MS = {"metric": 300.0, "monte_carlo": 1000.0, "backtest": 3000.0, "scoring": 500.0}
TARGET_LABEL = {"metric": "metric function", "monte_carlo": "Monte Carlo", "backtest": "backtest",
                "scoring": "scoring re-evaluation"}
PAGE_TARGET_S = {1_000_000: 2.0, 5_000_000: 6.0}
PEAK_TARGET_MB = {1_000_000: 3 * 1024.0, 5_000_000: 8 * 1024.0}
CSV_IMPORT_TARGET_S = 60.0
#: A wide leads file (issue #19): WIDE_ROWS rows with up to 400 extra attribute columns.
WIDE_ROWS = 10_000
WIDE_COLUMNS = (100, 200, 400)
WIDE_IMPORT_TARGET_S = 10.0
GENERATION_TARGET_S = 120.0
SPEEDUP_TARGET = 5.0


# ---------------------------------------------------------------------------------------------
# Measuring


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


def time_call(fn, runs: int, warmup: bool = True) -> dict:
    """Median wall time (ms) of ``runs`` calls after one warm-up call, and the peak RSS (MB)."""
    times, peak = [], 0.0
    if warmup:
        fn()  # first-call costs (plans, page cache) are not what a user waits for each time
    for _ in range(max(1, runs)):
        with _PeakSampler() as s:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        peak = max(peak, s.peak)
    return {"median_ms": round(statistics.median(times), 1), "peak_mb": round(peak, 1)}


# ---------------------------------------------------------------------------------------------
# What is timed


@dataclass
class Bench:
    name: str
    fn: Callable[[], object]
    kind: str = "metric"                              # metric / monte_carlo / backtest / scoring / info
    covers: tuple[Callable, ...] = ()                 # the public library functions this entry exercises
    reference: Callable[[object], object] | None = None   # the pandas reading, given reference.Tables


#: Public functions of the metric modules that take a connection but are not timed, and why.
NOT_TIMED = {
    "forecast.save_probabilities": "writes the stage configuration",
    "forecast.reset_probabilities": "writes the stage configuration",
    "forecast.default_probabilities": "reads the shipped defaults (no data)",
    "time_in_stage.save_sla_targets": "writes the stage configuration",
    "scoring.save_rules": "writes the rules",
    "scoring.save_scenario": "writes a scenario",
    "scoring.make_scenario_current": "writes the rules",
    "scoring.load_scenario": "reads one saved row",
    "scoring.list_scenarios": "reads the small scenarios table",
    "scoring.stored_rules": "reads the small rules table",
    "scoring.stored_threshold": "reads one setting",
    "scoring.unknown_attributes": "compares rule names with the column list",
    "scoring.applicable_rules": "compares rule names with the column list",
    "scoring.compile_rules": "builds SQL text (timed inside every scoring function)",
    "scoring.outcome_stages": "reads the stage configuration",
    "overview.save_snapshot": "writes a snapshot",
    "targets.save_targets": "writes the targets",
    "targets.save_teams": "writes the teams",
    "targets.import_targets": "writes the targets and teams",
    "targets.stored_teams": "reads the small teams table",
    "targets.known_owners": "a GROUP BY over opportunities (timed inside owner_choices)",
    "targets.simulate": "the shared Monte Carlo (timed as targets Monte Carlo)",
    "targets.record_call": "writes a call",
}

#: The modules whose public functions the benchmark must cover.
METRIC_MODULES = (conversion, time_in_stage, rejections, forecast, scoring, overview, health, targets)


def public_functions() -> list[str]:
    """``module.function`` for every public function of :data:`METRIC_MODULES` whose first
    parameter is the connection (``con``)."""
    out = []
    for mod in METRIC_MODULES:
        short = mod.__name__.rsplit(".", 1)[1]
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != mod.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] == "con":
                out.append(f"{short}.{name}")
    return sorted(out)


def _key(fn) -> str:
    return f"{fn.__module__.rsplit('.', 1)[1]}.{fn.__name__}"


def uncovered_functions(entries: list[Bench]) -> list[str]:
    """Public functions neither timed by ``entries`` nor listed in :data:`NOT_TIMED`."""
    covered = {_key(f) for e in entries for f in e.covers}
    return [f for f in public_functions() if f not in covered and f not in NOT_TIMED]


def edit_rule(rules: list[scoring.Rule]) -> list[scoring.Rule]:
    """The user's edit: the first enabled rule gets 5 more points (same as reference.edited_rules)."""
    out, done = [], False
    for r in rules:
        if r.enabled and not done:
            r, done = scoring.Rule(r.attribute, r.operator, r.value, r.points + 5.0, r.enabled, r.rule_group), True
        out.append(r)
    return out


def metric_calls(con) -> list[Bench]:
    """Every timed call, on the default scope (all leads, as-of = the latest timestamp)."""
    from . import reference as ref

    s = Scope()
    r = resolve(con, s)
    d2 = r.as_of
    rules = scoring.applicable_rules(con, scoring.stored_rules(con))
    thr = scoring.stored_threshold(con)
    edited = edit_rule(rules)
    current, draft = (rules, thr), (edited, thr)
    c, t, j, f, sc, o, h = conversion, time_in_stage, rejections, forecast, scoring, overview, health
    tg = targets
    sim = tg.simulate(con, s)                    # drawn once: the figures below are timed without it
    page_specs = tg._breakdown_specs(con, tg.month_label(d2), tg.stored_targets(con), tg._team_map(tg.stored_teams(con)))
    all_figs = tg.figures_from_simulation(con, sim, tg.stored_targets(con))

    def after_edit():
        # what the scoring page recomputes after a rule edit: validate, then every draft figure
        d = sc.validate_rules(con, edited)
        sc.scenario_figures(con, d, thr, s)
        sc.flips(con, current, (d, thr), s)

    B = Bench
    return [
        # §1 conversion
        B("stage_conversion", lambda: c.stage_conversion(con, s), covers=(c.stage_conversion,),
          reference=lambda tb: ref.stage_conversion(tb)),
        B("stage_conversion[by channel]", lambda: c.stage_conversion(con, s, breakdown="channel")),
        B("conversion_trend[month]", lambda: c.conversion_trend(con, s, "month"), covers=(c.conversion_trend,)),
        B("conversion_trend[week]", lambda: c.conversion_trend(con, s, "week")),
        B("time_to_convert", lambda: c.time_to_convert(con, s), covers=(c.time_to_convert,),
          reference=lambda tb: ref.stage_conversion(tb)),
        B("time_to_convert_histogram", lambda: c.time_to_convert_histogram(con, s),
          covers=(c.time_to_convert_histogram,)),
        B("drop_off_finding[channel]", lambda: c.drop_off_finding(con, s, breakdown="channel"),
          covers=(c.drop_off_finding,)),
        # §2 time in stage
        B("time_in_stage[lead]", lambda: t.time_in_stage(con, s, "lead"), covers=(t.time_in_stage,),
          reference=lambda tb: ref.time_in_stage(tb, funnel="lead")),
        B("time_in_stage[opportunity]", lambda: t.time_in_stage(con, s, "opportunity"),
          reference=lambda tb: ref.time_in_stage(tb, funnel="opportunity")),
        B("survival_curves[lead]", lambda: t.survival_curves(con, s), covers=(t.survival_curves,)),
        B("time_in_stage_and_curves[lead]", lambda: t.time_in_stage_and_curves(con, s),
          covers=(t.time_in_stage_and_curves,)),
        B("stuck_items[lead]", lambda: t.stuck_items(con, s), covers=(t.stuck_items,)),
        B("sla_summary[lead]", lambda: t.sla_summary(con, s), covers=(t.sla_summary,)),
        B("sla_breaches[lead]", lambda: t.sla_breaches(con, s), covers=(t.sla_breaches,)),
        # §3 rejections
        B("rejection_summary", lambda: j.rejection_summary(con, s), covers=(j.rejection_summary,),
          reference=lambda tb: ref.rejection_summary(tb)),
        B("rejections_by_reason", lambda: j.rejections_by_reason(con, s), covers=(j.rejections_by_reason,),
          reference=lambda tb: ref.rejections_by_reason(tb)),
        B("rejection_events", lambda: j.rejection_events(con, s), covers=(j.rejection_events,)),
        B("rejection_breakdown[ae]", lambda: j.rejection_breakdown(con, s, "ae"), covers=(j.rejection_breakdown,)),
        B("rejection_rates[ae]", lambda: j.rejection_rates(con, s, "ae"), covers=(j.rejection_rates,)),
        B("rejection_breakdown[actor]", lambda: j.rejection_breakdown(con, s, "actor")),
        B("rejection_trend[week]", lambda: j.rejection_trend(con, s, "week"), covers=(j.rejection_trend,)),
        B("reasons_over_time[month]", lambda: j.reasons_over_time(con, s), covers=(j.reasons_over_time,)),
        B("resubmit_delays[sdr]", lambda: j.resubmit_delays(con, s), covers=(j.resubmit_delays,)),
        B("loop_distribution", lambda: j.loop_distribution(con, s), covers=(j.loop_distribution,)),
        B("recycled_outcomes", lambda: j.recycled_outcomes(con, s), covers=(j.recycled_outcomes,)),
        B("transition_flows", lambda: j.transition_flows(con, s), covers=(j.transition_flows,)),
        B("ping_pong_leads", lambda: j.ping_pong_leads(con, s), covers=(j.ping_pong_leads,)),
        B("rejection_verdict", lambda: j.rejection_verdict(con, s), covers=(j.rejection_verdict,)),
        # §4 forecast
        B("stage_win_rates", lambda: f.stage_win_rates(con, s), covers=(f.stage_win_rates,)),
        B("pipeline_as_of", lambda: f.pipeline_as_of(con, s), covers=(f.pipeline_as_of,)),
        B("overdue_pipeline", lambda: f.overdue_pipeline(con, s), covers=(f.overdue_pipeline,)),
        B("deal_states", lambda: f.deal_states(con, s), covers=(f.deal_states,)),
        B("weighted_forecast[configured]", lambda: f.weighted_forecast(con, s, "configured"),
          covers=(f.weighted_forecast,), reference=lambda tb: ref.weighted_forecast(tb, method="configured")),
        B("weighted_forecast[historical]", lambda: f.weighted_forecast(con, s, "historical"),
          reference=lambda tb: ref.weighted_forecast(tb, method="historical")),
        B("forecast_ranges (Monte Carlo)", lambda: f.forecast_ranges(con, s), "monte_carlo", (f.forecast_ranges,)),
        B("forecast_headline (Monte Carlo)", lambda: f.forecast_headline(con, s), "monte_carlo",
          (f.forecast_headline,)),
        B("forecast_outlook (Monte Carlo, headline + ranges)", lambda: f.forecast_outlook(con, s), "monte_carlo",
          (f.forecast_outlook,)),
        B("forecast_categories", lambda: f.forecast_categories(con, s), covers=(f.forecast_categories,)),
        B("category_rollup", lambda: f.category_rollup(con, s), covers=(f.category_rollup,)),
        B("pipeline_changes[7 days]", lambda: f.pipeline_changes(con, s, d2 - timedelta(days=7), d2),
          covers=(f.pipeline_changes,)),
        B("forecast_backtest", lambda: f.forecast_backtest(con, s), "backtest", (f.forecast_backtest,)),
        # §5 scoring
        B("evaluate_scenario (current rules)", lambda: sc.evaluate_scenario(con, rules, thr, s), "scoring",
          (sc.evaluate_scenario,), reference=lambda tb: ref.evaluate(tb, rules, thr)),
        B("evaluate_scenario (after a rule edit)", lambda: sc.evaluate_scenario(con, edit_rule(rules), thr, s),
          "scoring", reference=lambda tb: ref.evaluate(tb, ref.edited_rules(rules), thr)),
        B("rule edit → every draft figure", after_edit, "scoring", (sc.validate_rules, sc.scenario_figures, sc.flips)),
        B("sdr_load", lambda: sc.sdr_load(con, rules, thr, s), covers=(sc.sdr_load,)),
        B("score_distribution", lambda: sc.score_distribution(con, rules, s), covers=(sc.score_distribution,)),
        B("gains_curve", lambda: sc.gains_curve(con, rules, s), covers=(sc.gains_curve,)),
        B("flip_counts", lambda: sc.flip_counts(con, current, draft, s), covers=(sc.flip_counts,)),
        B("flipped_leads", lambda: sc.flipped_leads(con, current, draft, s), covers=(sc.flipped_leads,)),
        B("compare_scenarios", lambda: sc.compare_scenarios(con, current, draft, s), "scoring",
          (sc.compare_scenarios,)),
        B("threshold_for_volume", lambda: sc.threshold_for_volume(con, rules, 1000, s),
          covers=(sc.threshold_for_volume,)),
        B("score_leads[top 1000]", lambda: sc.score_leads(con, rules, s, limit=1000), covers=(sc.score_leads,)),
        B("usable_attributes", lambda: sc.usable_attributes(con), covers=(sc.usable_attributes,)),
        B("leak_suspects", lambda: sc.leak_suspects(con, s), covers=(sc.leak_suspects,)),
        B("suggest_rules (logistic regression)", lambda: sc.suggest_rules(con, s), covers=(sc.suggest_rules,)),
        # weekly review
        B("weekly_kpis", lambda: o.weekly_kpis(con, s), covers=(o.weekly_kpis,)),
        B("headline_forecast (Monte Carlo)", lambda: o.headline_forecast(con, s), "monte_carlo",
          (o.headline_forecast,)),
        B("won_between[quarter]", lambda: o.won_between(con, s, d2.replace(day=1) - timedelta(days=62), d2),
          covers=(o.won_between,)),
        B("highlights", lambda: o.highlights(con, s), covers=(o.highlights,)),
        B("review_figures (Monte Carlo)", lambda: o.review_figures(con, s), "monte_carlo", (o.review_figures,)),
        B("snapshots", lambda: o.snapshots(con), covers=(o.snapshots,)),
        B("previous_snapshot", lambda: o.previous_snapshot(con, s), covers=(o.previous_snapshot,)),
        B("forecast_history", lambda: o.forecast_history(con, s), covers=(o.forecast_history,)),
        # targets and the demand plan (§7-8): the Monte Carlo is shared with the forecast's
        B("targets Monte Carlo (forecast runs split by owner)", lambda: tg.simulate(con, s), "monte_carlo"),
        B("target figures besides the Monte Carlo[page]", lambda: tg.figures_from_simulation(con, sim, page_specs),
          covers=(tg.figures_from_simulation,)),
        B("target figures besides the Monte Carlo[every stored target]",
          lambda: tg.figures_from_simulation(con, sim, tg.stored_targets(con))),
        B("target_figures (Monte Carlo + every stored target)", lambda: tg.target_figures(con, s), "monte_carlo",
          (tg.target_figures,)),
        B("targets_page (Monte Carlo + tiles, breakdown, focus)", lambda: tg.targets_page(con, s), "monte_carlo",
          (tg.targets_page,)),
        B("plan_assumptions (demand plan history)", lambda: tg.plan_assumptions(con, s), covers=(tg.plan_assumptions,)),
        B("demand_plans (every target with a gap)", lambda: tg.demand_plans(con, s, figures=all_figs),
          covers=(tg.demand_plans,)),
        B("stored_targets", lambda: tg.stored_targets(con), covers=(tg.stored_targets,)),
        B("owner_choices", lambda: tg.owner_choices(con), covers=(tg.owner_choices,)),
        B("period_choices", lambda: tg.period_choices(con, d2), covers=(tg.period_choices,)),
        B("call_history", lambda: tg.call_history(con, s), covers=(tg.call_history,)),
        B("review targets (Monte Carlo + this month's and quarter's targets)",
          lambda: review_targets.snapshot_figures(con, s), "monte_carlo", (review_targets.snapshot_figures,)),
        # data page
        B("table_counts", lambda: h.table_counts(con), covers=(h.table_counts,)),
        B("date_spans", lambda: h.date_spans(con), covers=(h.date_spans,)),
        B("stages_seen", lambda: h.stages_seen(con), covers=(h.stages_seen,)),
        B("import_history", lambda: h.import_history(con), covers=(h.import_history,)),
        B("latest_run", lambda: h.latest_run(con), covers=(h.latest_run,)),
        B("rejected_rows", lambda: h.rejected_rows(con), covers=(h.rejected_rows,)),
        B("rejected_count", lambda: h.rejected_count(con), covers=(h.rejected_count,)),
        # the CLI's report: every headline figure at once (no target of its own)
        B("report --json (all headline figures)", lambda: report.build_report(con, s), "info"),
    ]


# ---------------------------------------------------------------------------------------------
# Child processes: generation, import, page renders


def _child(task: str, **kwargs) -> dict:
    """Run ``task`` in a fresh Python process; returns its result dict (raises on failure)."""
    with tempfile.TemporaryDirectory(prefix="funnel-bench-") as tmp:
        spec, out = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec.write_text(json.dumps({"task": task, "kwargs": kwargs, "out": str(out)}))
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        # Page renders need Streamlit, which funnel/ never imports: they run from bench_pages.py beside app.py.
        entry = ([str(ROOT / "bench_pages.py")] if task == "pages"
                 else ["-c", "import sys; from funnel import bench; bench._child_main(sys.argv[1])"])
        proc = subprocess.run([sys.executable, *entry, str(spec)], cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"bench {task} failed (exit {proc.returncode}):\n{tail}")
        return json.loads(out.read_text())


def _child_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    res = {"generate": _generate_task, "import": _import_task}[spec["task"]](**spec["kwargs"])
    Path(spec["out"]).write_text(json.dumps(res, default=str))


def _generate_task(db: str, leads: int, seed: int) -> dict:
    from .sample import generate_sample

    con = store.connect(db)
    with _PeakSampler() as s:
        t0 = time.perf_counter()
        counts = generate_sample(con, leads=leads, seed=seed)
        seconds = time.perf_counter() - t0
    con.close()
    return {"seconds": round(seconds, 2), "peak_mb": round(s.peak, 1), "rows": counts}


def _import_task(db: str, files: dict) -> dict:
    from . import ingest

    import resource

    con = store.connect(db)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    with _PeakSampler() as s:
        t0 = time.perf_counter()
        res = ingest.import_files(con, **files)
        seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    con.close()
    # CPU seconds (every thread) beside the wall time: on a busy machine they still show the growth
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"seconds": round(seconds, 2), "cpu_s": round(cpu, 2), "peak_mb": round(s.peak, 1),
            "rows": {t: v.get("loaded") for t, v in res.rows.items()}}


def write_wide_leads(path: Path, rows: int, columns: int) -> Path:
    """A leads CSV of ``rows`` leads with ``columns`` extra attribute columns, a quarter each
    whole numbers, decimals, yes/no flags and text (so every attribute type is inferred)."""
    import csv

    def cell(r: int, c: int) -> str:
        k = (r * 31 + c * 17) % 97
        return (str(k), f"{k / 7:.2f}", "yes" if k % 2 else "no", f"t{k}")[c % 4]

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["lead_id", "created_at"] + [f"attribute {c}" for c in range(columns)])
        for r in range(rows):
            w.writerow([f"W{r}", f"2025-{1 + r % 12:02d}-{1 + r % 28:02d}"] + [cell(r, c) for c in range(columns)])
    return path


def app_pages() -> list[str]:
    """The page files app.py registers, in navigation order, that exist."""
    text = (ROOT / "app.py").read_text(encoding="utf-8")
    pages = re.findall(r"""st\.Page\(\s*["'](pages/[^"']+\.py)["']""", text)
    return [p for p in dict.fromkeys(pages) if (ROOT / p).exists()]  # an alias route names a file twice


def _export(con, folder: Path) -> dict[str, dict[str, str]]:
    """The four canonical tables as CSV and as Parquet files (events in their input order)."""
    queries = {
        "leads": "SELECT * FROM leads",
        "lead_events": "SELECT lead_id, stage, entered_at, actor, reason FROM lead_events ORDER BY event_seq",
        "opportunities": "SELECT * FROM opportunities",
        "opportunity_events": ("SELECT opportunity_id, stage, entered_at, amount, close_date FROM opportunity_events "
                               "ORDER BY event_seq"),
    }
    files: dict[str, dict[str, str]] = {"csv": {}, "parquet": {}}
    for table, q in queries.items():
        for fmt, opts in (("csv", "HEADER, DELIMITER ','"), ("parquet", "FORMAT parquet")):
            path = folder / f"{table}.{fmt}"
            con.execute(f"COPY ({q}) TO '{path}' ({opts})")
            files[fmt][table] = str(path)
    return files


# ---------------------------------------------------------------------------------------------
# The run


def bench_db(leads: int, seed: int = 7) -> Path:
    """Where the generated benchmark database of ``leads`` leads lives (reused across runs)."""
    return Path("data") / f"bench_{leads}_{seed}.duckdb"


def _lead_count(path: Path) -> int:
    if not path.exists():
        return -1
    try:
        con = store.open_read_only(path)
    except store.DatabaseError:
        return -1                # not a database of ours: rebuilt (the default one) or refused (--db)
    try:
        return int(con.execute("SELECT count(*) FROM leads").fetchone()[0])
    finally:
        con.close()


def _target_for(n: int, table: dict) -> float:
    return table[1_000_000] if n <= 2_000_000 else table[5_000_000]


def run_bench(db: str | None = None, leads: int = 1_000_000, runs: int = 5, *, seed: int = 7,
              include_generation: bool | None = None, include_import: bool = True, include_pages: bool = True,
              include_functions: bool = True, include_reference: bool = True, pages: list[str] | None = None,
              page_runs: int = 3, page_timeout: float = 900.0, log=None) -> dict:
    """Run the benchmark; returns the JSON-ready result (see the module docstring)."""
    log = log or (lambda msg: None)
    out: dict = {"leads": None, "db": None, "runs": runs, "cpus": os.cpu_count(),
                 "load_average": [round(x, 2) for x in os.getloadavg()], "functions": [], "pages": []}
    if include_generation is None:
        include_generation = db is None
    path = Path(db) if db else bench_db(leads, seed)
    n = _lead_count(path)
    if db is None and n != leads:
        # the benchmark database is built by the timed generation itself
        log(f"generating {leads:,} leads into {path} …")
        if path.exists():
            path.unlink()
        g = _child("generate", db=str(path), leads=leads, seed=seed)
        out.update(generation_s=g["seconds"], generation_peak_mb=g["peak_mb"], generation_rows=g["rows"])
        include_generation = False
        n = _lead_count(path)
    if n <= 0:
        raise ValueError(f"{path} holds no leads to benchmark")
    out.update(leads=n, db=str(path))
    tmp = Path(tempfile.mkdtemp(prefix="funnel-bench-"))
    try:
        if include_generation:
            log(f"timing generation of {n:,} leads …")
            g = _child("generate", db=str(tmp / "generated.duckdb"), leads=n, seed=seed)
            out.update(generation_s=g["seconds"], generation_peak_mb=g["peak_mb"], generation_rows=g["rows"])
            (tmp / "generated.duckdb").unlink(missing_ok=True)

        if path.exists():
            # Read-only, so the bench can run against a database the app is serving; derived
            # tables an older release lacks are built as a new version first.
            con = store.open_read_only(path)
            if not store.derived_is_current(con):
                con.close()
                with versions.writing(path, "derived tables") as w:
                    store.ensure_derived(w)
                con = store.open_read_only(path)
        else:
            con = store.connect(path)
        try:
            files = _export(con, tmp) if include_import else None
            entries = metric_calls(con) if include_functions else []
            for e in entries:
                log(f"timing {e.name} …")
                res = time_call(e.fn, runs)
                out["functions"].append({"name": e.name, "kind": e.kind, **res})
            if include_functions and include_reference:
                from . import reference as ref
                log("loading the tables into pandas for the reference …")
                with _PeakSampler() as s:
                    t0 = time.perf_counter()
                    tables = ref.load_tables(con)
                    out["pandas_load_s"] = round(time.perf_counter() - t0, 2)
                out["pandas_load_peak_mb"] = round(s.peak, 1)
                rows = {r["name"]: r for r in out["functions"]}
                for e in entries:
                    if e.reference is None:
                        continue
                    log(f"timing the pandas reference of {e.name} …")
                    pr = time_call(lambda: e.reference(tables), min(runs, 3), warmup=False)
                    row = rows[e.name]
                    row["pandas_ms"] = pr["median_ms"]
                    row["pandas_peak_mb"] = pr["peak_mb"]
                    row["speedup"] = round(pr["median_ms"] / max(row["median_ms"], 0.1), 1)
                del tables
        finally:
            con.close()

        if include_import:
            for fmt in ("csv", "parquet"):
                log(f"timing the import of the {fmt.upper()} files …")
                res = _child("import", db=str(tmp / f"import_{fmt}.duckdb"), files=files[fmt])
                out[f"import_{fmt}_s"] = res["seconds"]
                out[f"import_{fmt}_peak_mb"] = res["peak_mb"]
                out[f"import_{fmt}_rows"] = res["rows"]
                (tmp / f"import_{fmt}.duckdb").unlink(missing_ok=True)
            out["wide_import"] = []
            for cols in WIDE_COLUMNS:
                log(f"timing the import of a wide leads file ({WIDE_ROWS:,} rows × {cols} columns) …")
                f = write_wide_leads(tmp / f"wide_{cols}.csv", WIDE_ROWS, cols)
                res = _child("import", db=str(tmp / "import_wide.duckdb"), files={"leads": str(f)})
                out["wide_import"].append({"rows": WIDE_ROWS, "columns": cols, "seconds": res["seconds"],
                                           "cpu_s": res["cpu_s"], "peak_mb": res["peak_mb"]})
                (tmp / "import_wide.duckdb").unlink(missing_ok=True)
                f.unlink(missing_ok=True)

        if include_pages:
            chosen = pages or app_pages()
            log(f"timing {len(chosen)} page renders …")
            res = _child("pages", db=str(path.resolve()), pages=chosen, runs=page_runs, timeout=page_timeout)
            out["pages"] = res["pages"]
            out["entry_ms"] = res["entry_ms"]
            out["entry_peak_mb"] = res["entry_peak_mb"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["verdicts"] = verdicts(out)
    return out


# ---------------------------------------------------------------------------------------------
# Verdicts and the human-readable table


def verdicts(res: dict) -> list[dict]:
    """One line per target of the issue that this run measured: target, measured, ok, misses.

    The issue states pages and peak memory for 1M and 5M leads and everything else for 1M; above
    2M leads the 1M-only lines are kept for information (``applies`` False, shown with a dot).
    """
    n = res["leads"] or 0
    out = _verdicts(res, n)
    for v in out:
        v["applies"] = n <= 2_000_000 or v["target"].startswith(("every page", "peak memory"))
    return out


def _verdicts(res: dict, n: int) -> list[dict]:
    out = []
    funcs = res.get("functions", [])
    for kind in ("metric", "monte_carlo", "backtest", "scoring"):
        rows = [f for f in funcs if f.get("kind") == kind]
        if not rows:
            continue
        limit = TARGET_MS[kind]
        worst = max(rows, key=lambda f: f["median_ms"])
        misses = [f["name"] for f in rows if f["median_ms"] > limit]
        out.append({"target": f"every {TARGET_LABEL[kind]} ≤ {limit:g} ms (median)",
                    "measured": f"worst {worst['median_ms']:,.0f} ms ({worst['name']})",
                    "ok": not misses, "misses": misses})
    pages = res.get("pages", [])
    if pages:
        limit = _target_for(n, PAGE_TARGET_S) * 1000
        worst = max(pages, key=lambda p: p["median_ms"])
        misses = [p["name"] for p in pages if p["median_ms"] > limit]
        out.append({"target": f"every page renders in ≤ {limit / 1000:g} s (cold cache, median)",
                    "measured": f"worst {worst['median_ms'] / 1000:,.2f} s ({worst['name']})",
                    "ok": not misses, "misses": misses})
        broken = [p["name"] for p in pages if p.get("errors")]
        if broken:
            out.append({"target": "every page renders without an error", "measured": f"{len(broken)} with errors",
                        "ok": False, "misses": broken})
    if "import_csv_s" in res:
        out.append({"target": f"import of the four CSV files ≤ {CSV_IMPORT_TARGET_S:g} s",
                    "measured": f"{res['import_csv_s']:,.1f} s (Parquet {res.get('import_parquet_s', float('nan')):,.1f} s)",
                    "ok": res["import_csv_s"] <= CSV_IMPORT_TARGET_S, "misses": []})
    if res.get("wide_import"):
        widest = max(res["wide_import"], key=lambda w: w["columns"])
        narrowest = min(res["wide_import"], key=lambda w: w["columns"])
        growth = (widest["seconds"] / max(narrowest["seconds"], 0.01)) / (widest["columns"] / narrowest["columns"])
        out.append({"target": f"wide leads file ({widest['rows']:,} rows × {widest['columns']} columns) "
                              f"≤ {WIDE_IMPORT_TARGET_S:g} s, linear in columns",
                    "measured": f"{widest['seconds']:,.1f} s; time per column {growth:.2f}× that at "
                                f"{narrowest['columns']} columns",
                    "ok": widest["seconds"] <= WIDE_IMPORT_TARGET_S and growth <= 1.5, "misses": []})
    if "generation_s" in res:
        out.append({"target": f"sample generation ≤ {GENERATION_TARGET_S:g} s",
                    "measured": f"{res['generation_s']:,.1f} s", "ok": res["generation_s"] <= GENERATION_TARGET_S,
                    "misses": []})
    peaks = [(f["name"], f["peak_mb"]) for f in funcs] + [(p["name"], p["peak_mb"]) for p in pages]
    for key, label in (("generation_peak_mb", "generation"), ("import_csv_peak_mb", "CSV import"),
                       ("import_parquet_peak_mb", "Parquet import"), ("entry_peak_mb", "app start")):
        if key in res:
            peaks.append((label, res[key]))
    if peaks:
        limit = _target_for(n, PEAK_TARGET_MB)
        name, worst = max(peaks, key=lambda p: p[1])
        out.append({"target": f"peak memory ≤ {limit / 1024:g} GB", "measured": f"{worst:,.0f} MB ({name})",
                    "ok": worst <= limit, "misses": [p for p, v in peaks if v > limit]})
    sped = [f for f in funcs if "speedup" in f]
    if sped:
        worst = min(sped, key=lambda f: f["speedup"])
        misses = [f["name"] for f in sped if f["speedup"] < SPEEDUP_TARGET]
        out.append({"target": f"≥ {SPEEDUP_TARGET:g}× faster than pandas on every metric",
                    "measured": f"lowest {worst['speedup']:g}× ({worst['name']})", "ok": not misses, "misses": misses})
    return out


def format_table(res: dict) -> str:
    """The human-readable report: functions, pages, heavy work, verdicts."""
    lines = [f"Benchmark of {res['leads']:,} leads ({res['db']}); {res.get('cpus')} CPUs, load average "
             f"{', '.join(str(x) for x in res.get('load_average', []))} at start; median of {res['runs']} runs."]
    if res.get("functions"):
        lines += ["", f"{'function':<42} {'target':>8} {'median ms':>10} {'peak MB':>9} {'pandas ms':>10} {'speed-up':>9}"]
        for f in res["functions"]:
            limit = TARGET_MS.get(f["kind"])
            ok = "" if limit is None else ("✓" if f["median_ms"] <= limit else "✗")
            pandas = f"{f['pandas_ms']:>10,.0f}" if "pandas_ms" in f else f"{'':>10}"
            speed = f"{f['speedup']:>8,.1f}×" if "speedup" in f else f"{'':>9}"
            tgt = f"{limit:,.0f}" if limit else "—"
            lines.append(f"{f['name'][:42]:<42} {tgt:>8} {f['median_ms']:>10,.1f} {f['peak_mb']:>9,.0f} "
                         f"{pandas} {speed} {ok}")
        if "pandas_load_s" in res:
            lines.append(f"(pandas reference: tables loaded once in {res['pandas_load_s']:.1f} s, not included above)")
    if res.get("pages"):
        lines += ["", f"{'page (AppTest)':<42} {'cold ms':>10} {'warm ms':>10} {'peak MB':>9}"]
        for p in res["pages"]:
            err = f"  errors: {'; '.join(p['errors'])[:120]}" if p.get("errors") else ""
            lines.append(f"{p['name']:<42} {p['median_ms']:>10,.0f} {p['warm_ms']:>10,.0f} {p['peak_mb']:>9,.0f}{err}")
        lines.append(f"(app start with the default page: {res['entry_ms']:,.0f} ms)")
    heavy = [("generation", "generation_s", "generation_peak_mb"), ("import CSV", "import_csv_s", "import_csv_peak_mb"),
             ("import Parquet", "import_parquet_s", "import_parquet_peak_mb")]
    if any(k in res for _, k, _ in heavy):
        lines += ["", f"{'work (one run, own process)':<42} {'seconds':>10} {'peak MB':>9}"]
        for label, k, m in heavy:
            if k in res:
                lines.append(f"{label:<42} {res[k]:>10,.1f} {res[m]:>9,.0f}")
    for w in res.get("wide_import", []):
        lines.append(f"{'import wide leads ' + format(w['rows'], ',') + ' × ' + str(w['columns']) + ' cols':<42} "
                     f"{w['seconds']:>10,.1f} {w['peak_mb']:>9,.0f}  (CPU {w.get('cpu_s', 0):,.1f} s)")
    lines += ["", "Targets:"]
    for v in res.get("verdicts", []):
        miss = f" — misses: {', '.join(v['misses'])}" if v["misses"] and not v["ok"] else ""
        mark = ("✓" if v["ok"] else "✗") if v.get("applies", True) else "·"
        note = "" if v.get("applies", True) else " (a 1M-lead target; for information at this size)"
        lines.append(f"  {mark} {v['target']}: {v['measured']}{miss}{note}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Opt-in: the same report on the Spark engine (``python -m funnel bench --spark``).


def spark_bench(db: str | None = None, leads: int = 1_000_000, seed: int = 7, *, source: str | None = None,
                master: str | None = None, runs: int = 1, log=print) -> dict:
    """Seconds for: exporting the four tables to Parquet (unless ``source`` is given), opening the
    Spark engine (reading them and building the derived tables, materialised by a count), and
    ``build_report`` on Spark (median of ``runs``, each on a fresh engine so no answer is reused)
    beside ``build_report`` on DuckDB; and whether the two reports are equal (1e-9 relative)."""
    import statistics
    import tempfile

    from .engine import export_canonical_parquet
    from .report import build_report
    from .spark_engine import SparkEngine, spark_session

    path = Path(db) if db else bench_db(leads, seed)
    if not path.exists():
        from .errors import FunnelError
        raise FunnelError(f"There is no database at {path} to benchmark on Spark.",
                          hint=f"Run `python -m funnel bench --leads {leads}` once (it generates it), or pass --db.")
    out: dict = {"db": str(path), "leads": _lead_count(path), "spark_master": master or "local[2]"}
    con = store.connect(path, read_only=True)
    t0 = time.perf_counter()
    duck = build_report(con)
    out["duckdb_report_s"] = time.perf_counter() - t0
    tmp = None
    if source is None:
        tmp = tempfile.TemporaryDirectory(prefix="funnel_spark_bench_")
        t0 = time.perf_counter()
        export_canonical_parquet(con, tmp.name)
        out["export_parquet_s"] = time.perf_counter() - t0
        source = tmp.name
    spark = spark_session(master)
    opens, reports, report = [], [], None
    for i in range(max(1, runs)):
        t0 = time.perf_counter()
        engine = SparkEngine.open(db=path, source=source, spark=spark)
        for t in store.DERIVED_TABLES:
            engine.run(f"SELECT count(*) AS n FROM {t}")
        opens.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        report = build_report(engine.connection)
        reports.append(time.perf_counter() - t0)
        engine.close()
        log(f"spark run {i + 1}: open {opens[-1]:.1f} s, report {reports[-1]:.1f} s")
    out["spark_open_and_derive_s"] = statistics.median(opens)
    out["spark_report_s"] = statistics.median(reports)
    out["reports_equal"] = _reports_equal(duck, report)
    con.close()
    if tmp is not None:
        tmp.cleanup()
    return out


def _reports_equal(a, b) -> bool:
    import math
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_reports_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_reports_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return type(a) is type(b) and a == b
