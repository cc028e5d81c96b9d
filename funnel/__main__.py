"""Command line: ``python -m funnel {sample,import,report,review,derive,bench}``.

Every command takes ``--db PATH`` (default: $FUNNEL_DB, else data/funnel.duckdb). Errors a user
can fix print one plain message and exit with status 2; nothing is half-written. ``sample`` and
``import`` write a new version of the database and swap it in (``funnel/versions.py``), so they
work while the app serves the file; ``report`` only reads, and never creates a file.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date

from . import access, store, versions
from .i18n import LANGUAGES
from .errors import FunnelError, ImportValidationError


def _date(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{s}' is not a date; use YYYY-MM-DD, e.g. 2026-03-31") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m funnel", description="Funnelcast: funnel and forecast analytics.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="generate the deterministic sample data set into the database")
    s.add_argument("--db")
    s.add_argument("--leads", type=int, default=20000)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--if-missing", action="store_true", help="do nothing when the database already holds data")

    i = sub.add_parser("import", help="import CSV / Parquet / XLSX files (all-or-nothing)")
    i.add_argument("--db")
    i.add_argument("--leads")
    i.add_argument("--lead-events")
    i.add_argument("--opportunities")
    i.add_argument("--opportunity-events")
    i.add_argument("--mapping", help="a mapping TOML file (column names, stage names, timestamp formats)")
    i.add_argument("--preset", help="a shipped mapping preset for a known CRM export")
    i.add_argument("--dir", help="folder holding the preset's files; without --preset the files are recognised "
                                 "by their columns")
    i.add_argument("--skip-bad-rows", action="store_true", help="keep bad rows aside in rejected_rows and load the rest")
    i.add_argument("--targets", help="a targets file (CSV or XLSX: period, owner, amount); replaces the stored targets")
    i.add_argument("--teams", help="a teams file (CSV or XLSX: owner, team); replaces the stored teams")
    i.add_argument("--sheet", help="the sheet to read from .xlsx files (default: the first)")

    r = sub.add_parser("report", help="every headline figure (metrics.md §6)")
    r.add_argument("--db")
    r.add_argument("--json", action="store_true", help="print JSON (the only format so far)")
    r.add_argument("--as-of", type=_date)
    r.add_argument("--from", dest="date_from", type=_date)
    r.add_argument("--to", dest="date_to", type=_date)
    r.add_argument("--filter", action="append", default=[], metavar="COLUMN=VALUE")
    r.add_argument("--method", choices=["configured", "historical"], default="configured")
    r.add_argument("--window-days", type=int)
    r.add_argument("--rules", help="CSV of scoring rules: attribute,operator,value,points,enabled")
    r.add_argument("--threshold", type=float)
    r.add_argument("--outcome-stage", default="SQL")
    r.add_argument("--targets", help="a targets CSV/XLSX (period, owner, amount) used instead of the stored targets")
    _engine_args(r)

    v = sub.add_parser("review", help="the weekly review (figures, targets, plan, calls) as one offline HTML file")
    v.add_argument("--db")
    v.add_argument("--html", required=True, metavar="OUT", help="where to write the HTML file")
    v.add_argument("--as-of", type=_date)
    v.add_argument("--method", choices=["configured", "historical"], default="configured")
    v.add_argument("--lang", choices=sorted(LANGUAGES), default="en", help="the language of the file (figures are the same)")

    d = sub.add_parser("derive", help="build lead_visits, lead_reach and deal_history and write them, with the "
                                      "four data tables, as Parquet the app can serve from (FUNNEL_SOURCE)")
    d.add_argument("--db", help="the DuckDB database holding the configuration (and, for --engine duckdb, the data)")
    d.add_argument("--out", required=True, help="folder to write the tables into")
    _engine_args(d)

    b = sub.add_parser("bench", help="time generation, import, every metric function and every page against the targets")
    b.add_argument("--db", help="benchmark this database instead of data/bench_N_SEED.duckdb (generated when missing)")
    b.add_argument("--leads", type=int, default=1_000_000, help="size of the generated data set (ignored with --db)")
    b.add_argument("--seed", type=int, default=7)
    b.add_argument("--runs", type=int, default=5, help="timed runs per function (median reported)")
    b.add_argument("--page-runs", type=int, default=3, help="cold renders per page (median reported)")
    b.add_argument("--pages", help="comma-separated page files to render (default: every page app.py registers)")
    b.add_argument("--include-generation", action=argparse.BooleanOptionalAction, default=None,
                   help="time generate_sample at the same size into a temporary database (default: on without --db)")
    b.add_argument("--include-import", action=argparse.BooleanOptionalAction, default=True,
                   help="time the import of the four tables as CSV and as Parquet (default: on)")
    b.add_argument("--include-pages", action=argparse.BooleanOptionalAction, default=True,
                   help="time each page render with Streamlit's AppTest (default: on)")
    b.add_argument("--include-functions", action=argparse.BooleanOptionalAction, default=True,
                   help="time every public metric function (default: on)")
    b.add_argument("--include-reference", action=argparse.BooleanOptionalAction, default=True,
                   help="time the plain pandas reference and print the speed-up (default: on)")
    b.add_argument("--spark", action="store_true",
                   help="instead: time report on the Spark engine beside DuckDB (needs Java 17; see README, Engines)")
    b.add_argument("--spark-master", help="with --spark: local[N] (default local[2]) or sc://host:15002")
    b.add_argument("--spark-runs", type=int, default=1, help="with --spark: timed Spark reports (median reported)")
    b.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    b.add_argument("--json", action="store_true")
    return p


def _engine_args(p: argparse.ArgumentParser) -> None:
    """--engine / --source / --spark-master (see funnel/engine.py)."""
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                   help="where the metric SQL runs (spark: configuration from --db, data from --source)")
    p.add_argument("--source", help="spark engine: folder of Parquet files (leads, lead_events, opportunities, "
                                    "opportunity_events) or a catalog schema")
    p.add_argument("--spark-master", help="spark engine: local[N] (default local[2]) or sc://host:15002")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import access

    # The command line is the person at the keyboard: a local admin (the OS user, or
    # $FUNNEL_USER), named in the audit trail for every change it makes.
    try:
        with access.acting(access.local_admin()):
            return _COMMANDS[args.command](args)
    except FunnelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _sample(args) -> int:
    from .sample import generate_sample

    path = store.resolve_db_path(args.db)
    if args.if_missing and path.exists():
        con = store.open_read_only(path)
        try:
            if store.has_data(con):
                print(f"{path} already holds data; left as it is.")
                return 0
        finally:
            con.close()
    t0 = time.perf_counter()
    with versions.writing(path, "sample data") as con:
        counts = generate_sample(con, leads=args.leads, seed=args.seed)
        from . import presets
        presets.clear_data_notes(con)            # a preset's notes no longer describe this data
        presets.restore_default_scoring(con)     # rules a preset seeded (untouched) go back to the defaults
    print(f"sample data (seed {args.seed}) written to {store.resolve_db_path(args.db)} in "
          f"{time.perf_counter() - t0:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return 0


def _import(args) -> int:
    from . import ingest

    files = {k: getattr(args, k) for k in ("leads", "lead_events", "opportunities", "opportunity_events")}
    data_files = any(files.values())
    if (args.targets or args.teams) and (data_files or args.preset):
        raise FunnelError("Targets and teams are imported on their own, not with data files.",
                          hint="Run the data import first, then `python -m funnel import --targets F [--teams F]`.")
    if args.targets or args.teams:
        from . import targets
        with versions.writing(args.db, "targets import") as con:
            result = targets.import_targets(con, args.targets, args.teams, actor=access.resolve(None))
        print(result.message)
        for w in result.warnings:
            print(f"  warning: {w}")
        return 0
    if not args.preset and not args.dir and not data_files:
        raise FunnelError("Name at least one file to import.",
                          hint="For example: --leads leads.csv --lead-events lead_events.csv")
    # A refused import still logs its failed run: that log is the version committed.
    with versions.writing(args.db, "import", commit_on=(ImportValidationError,)) as con:
        if args.preset:
            from . import presets
            result = presets.import_preset(con, args.preset, args.dir, skip_bad_rows=args.skip_bad_rows)
        elif args.dir and not data_files:
            from . import presets
            detection = presets.detect_folder(args.dir)   # which preset and file role, from the columns
            for line in detection.sentences():
                print(line)
            result = presets.import_detected(con, detection, skip_bad_rows=args.skip_bad_rows)
        else:
            result = ingest.import_files(con, **files, mapping=args.mapping, skip_bad_rows=args.skip_bad_rows,
                                         sheet=args.sheet)
    print(result.message)
    for w in (getattr(result, "warnings", None) or [])[:20]:
        print(f"  warning: {w}")
    for p in result.problems[:20]:
        print(f"  - {p}")
    if len(result.problems) > 20:
        print(f"  … and {len(result.problems) - 20} more (see the rejected_rows table)")
    return 0


def _report(args) -> int:
    from . import scoring
    from .query import Scope, parse_filters
    from .report import build_report

    path = store.resolve_db_path(args.db)
    engine = None
    if args.engine != "duckdb" or args.source:
        if not path.exists():
            raise FunnelError(f"There is no database at {path}.",
                              hint="Create one with `python -m funnel sample` or `python -m funnel import`.")
        from .engine import open_engine
        engine = open_engine(args.engine, db=path, source=args.source, spark_master=args.spark_master)
        con = engine.connection
    else:
        con = store.open_read_only(args.db)     # says so if there is no database there; creates nothing
    scope = Scope(as_of=args.as_of, date_from=args.date_from, date_to=args.date_to,
                  filters=parse_filters(args.filter), window_days=args.window_days)
    rules = scoring.rules_from_csv(args.rules) if args.rules else None
    target_rows = None
    try:
        if args.targets:
            from . import targets
            target_rows, warnings = targets.read_targets(args.targets, owners=targets.known_owners(con),
                                                         teams=set(targets.stored_teams(con)["team"]))
            for w in warnings:
                print(f"warning: {w}", file=sys.stderr)
        rep = build_report(con, scope, method=args.method, rules=rules, threshold=args.threshold,
                           outcome_stage=args.outcome_stage, target_rows=target_rows)
    finally:
        if engine is not None:
            engine.close()
    print(json.dumps(rep, indent=2, default=str))
    return 0


def _review(args) -> int:
    from pathlib import Path

    from .query import Scope
    from .review import weekly_review_html

    con = store.open_read_only(args.db)     # says so if there is no database there; creates nothing
    out = Path(args.html)
    out.write_text(weekly_review_html(con, Scope(as_of=args.as_of), args.method, args.lang), encoding="utf-8")
    print(f"weekly review written to {out}")
    return 0


def _derive(args) -> int:
    from .engine import open_engine

    engine = open_engine(args.engine, db=args.db, source=args.source, spark_master=args.spark_master)
    try:
        paths = engine.write_derived(args.out) + engine.write_canonical(args.out)
    finally:
        engine.close()
    print("tables written: " + ", ".join(paths))
    print(f"serve them with: FUNNEL_SOURCE={args.out} make run DB={args.db or store.DEFAULT_DB}")
    return 0


def _bench(args) -> int:
    from .bench import format_table, run_bench

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    if args.spark:
        from .bench import spark_bench
        res = spark_bench(db=args.db, leads=args.leads, seed=args.seed, master=args.spark_master,
                          runs=args.spark_runs, log=log)
        print(json.dumps(res, indent=2, default=str))
        return 0
    pages = [p.strip() for p in args.pages.split(",") if p.strip()] if args.pages else None
    res = run_bench(db=args.db, leads=args.leads, runs=args.runs, seed=args.seed,
                    include_generation=args.include_generation, include_import=args.include_import,
                    include_pages=args.include_pages, include_functions=args.include_functions,
                    include_reference=args.include_reference, pages=pages, page_runs=args.page_runs, log=log)
    print(json.dumps(res, indent=2, default=str) if args.json else format_table(res))
    return 0


_COMMANDS = {"sample": _sample, "import": _import, "report": _report, "review": _review, "derive": _derive,
             "bench": _bench}

if __name__ == "__main__":
    sys.exit(main())
