"""The one query layer (issue #16): named .sql files composed as sqlglot trees, never as text.

The first test reads funnel/ for SQL composed by editing text — the habit this layer replaced,
in which a slot like ``{cohort}`` was filled with ``.replace`` and a query cut at a marker line.
The others pin the composition module itself: CTE attached, same-named CTE replaced, parameters
kept from parse to generated text, generated text cached per query shape, every named query
runnable with its defaults.
"""
from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from funnel import conversion, sqlcompose, time_in_stage

ROOT = Path(__file__).resolve().parents[1]
FUNNEL = ROOT / "funnel"

#: Text patterns of SQL edited as text: a slot filled, a query cut at ORDER BY or at a comment line.
TEXT_EDITS = (re.compile(r"""\.replace\(\s*f?["']\{"""), re.compile(r"""rpartition\(\s*["']ORDER BY"""),
              re.compile(r"""split\(\s*["']\\n-- """))

#: A name that holds SQL text by this codebase's naming (q, sql, query, text, stmt, cte, base, …).
SQL_NAME = re.compile(r"^_?(q|sql|query|text|stmt|statement|cte|ctes|base|prefix|head|stage_part)(_\w+)?$|_(sql|cte|query)$")
SQL_WORDS = re.compile(r"\b(SELECT|FROM|WHERE|WITH)\b")
SQL_SOURCES = {"sql", "_load_sql", "source", "read_text", "to_sql"}

#: Files that still compose SQL by editing text, with how many places: the list may only shrink
#: (a count that changes, up or down, fails — drop a file from here when it is converted).
PENDING: dict[str, int] = {}


def _holds_sql(node: ast.AST, sql_names: set[str]) -> bool:
    """Whether an expression evidently is SQL text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(SQL_WORDS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_holds_sql(v, sql_names) for v in node.values)
    if isinstance(node, ast.Name):
        return node.id in sql_names or bool(SQL_NAME.search(node.id))
    if isinstance(node, ast.Attribute):
        return bool(SQL_NAME.search(node.attr))
    if isinstance(node, ast.Call):
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name in SQL_SOURCES or SQL_NAME.search(name or ""):
            return True
        if isinstance(f, ast.Attribute) and f.attr in ("replace", "strip", "rstrip", "format"):
            return _holds_sql(f.value, sql_names)
    if isinstance(node, ast.BinOp):
        return _holds_sql(node.left, sql_names) or _holds_sql(node.right, sql_names)
    return False


def text_edits(source: str) -> list[int]:
    """Line numbers where ``source`` edits SQL as text."""
    lines = [n for n, line in enumerate(source.splitlines(), 1) if any(p.search(line) for p in TEXT_EDITS)]
    tree = ast.parse(source)
    sql_names: set[str] = set()
    for node in ast.walk(tree):    # names assigned SQL text anywhere in the module
        if isinstance(node, ast.Assign) and _holds_sql(node.value, sql_names):
            sql_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"
                and _holds_sql(node.func.value, sql_names)):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_no_sql_is_composed_by_editing_text():
    found = {}
    for path in sorted(FUNNEL.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        hits = text_edits(path.read_text(encoding="utf-8"))
        if hits or rel in PENDING:
            found[rel] = hits
    offenders = {f: h for f, h in found.items() if f not in PENDING}
    assert not offenders, f"SQL edited as text (compose with funnel.sqlcompose instead): {offenders}"
    for rel, count in PENDING.items():
        assert len(found.get(rel, [])) == count, (
            f"{rel} now edits SQL text in {len(found.get(rel, []))} places, not {count}: "
            "update PENDING (remove the file once it has none)")


@pytest.mark.parametrize("snippet, flagged", [
    ('q = sql("a").replace("{cohort}", c)', True),
    ("text = sql('a')\nout = text.replace('x', 'y')", True),
    ('head, _, _ = stage_part.rpartition("ORDER BY")', True),
    ('base = text.split("\\n-- select\\n", 1)[0]', True),
    ('q = f"SELECT {x} FROM t"\nq2 = q.replace("t", "u")', True),
    ('label = breakdown.replace("_", " ")', False),
    ('name = path.stem.replace("-", "_")', False),
])
def test_the_text_edit_check_catches_what_it_should(snippet, flagged):
    assert bool(text_edits(snippet)) is flagged


# --- the composition module ---------------------------------------------------------------------

def test_a_cte_is_attached_in_front_and_a_same_named_one_replaced_in_place():
    q = sqlcompose.parse("WITH cohort AS (SELECT 1 AS lead_id), n AS (SELECT count(*) AS n FROM cohort) SELECT n FROM n")
    sqlcompose.with_cte(q, "cohort", exp.select("lead_id").from_("leads").where("created_at < $as_end"))
    sqlcompose.with_cte(q, "extra", sqlcompose.parse("SELECT 2 AS x"))
    assert list(sqlcompose.ctes(q)) == ["extra", "cohort", "n"]
    text = sqlcompose.to_sql(q)
    assert "SELECT 1 AS lead_id" not in text
    assert text.startswith("WITH extra AS (SELECT 2 AS x), cohort AS (SELECT lead_id FROM leads WHERE created_at < $as_end)")


def test_a_query_gets_what_it_uses_and_only_that():
    q = sqlcompose.query("survival_curves")
    names = list(sqlcompose.ctes(q))
    # time_in_stage's Kaplan–Meier CTEs the curve reads, in their order, then the curve's own
    assert names == ["visits", "st", "v", "n", "ranked", "terms", "blocks", "cum", "ends", "tie", "curve"]
    assert "summary" not in names and "km" not in names            # the median's CTEs are not read
    both = sqlcompose.query("time_in_stage_and_curves")
    assert {"time_in_stage", "survival_curves", "summary", "curve"} <= set(sqlcompose.ctes(both))
    assert not sqlcompose.query("time_in_stage_and_curves").args.get("order")


def test_funnel_stages_is_one_definition():
    """Every conversion query reads the funnel stages from funnel_stages.sql, none restates them."""
    readers = [n for n in ("stage_conversion", "conversion_trend", "time_to_convert_histogram")]
    body = sqlcompose.query("funnel_stages")
    for name in readers:
        assert "funnel_stages" in sqlcompose.headers(name)["uses"]
        assert "stage_config" not in sqlcompose.source(name), f"{name}.sql restates the funnel stages"
        assert sqlcompose.ctes(sqlcompose.query(name))["funnel_stages"] == body
    py = (FUNNEL / "conversion.py").read_text(encoding="utf-8")
    assert "position IS NOT NULL" not in py


def test_parameters_survive_parse_and_generate():
    for name in ("stage_conversion", "conversion_trend", "time_in_stage_and_curves", "stuck_items"):
        text = sqlcompose.source(name)
        in_file = set(re.findall(r"\$([A-Za-z_]\w*)", "\n".join(l for l in text.splitlines() if not l.startswith("--"))))
        generated = sqlcompose.to_sql(sqlcompose.query(name))
        assert set(re.findall(r"\$([A-Za-z_]\w*)", generated)) >= in_file
        assert sqlcompose.placeholders(generated) == sqlcompose.placeholders(sqlcompose.query(name))
    q = sqlcompose.parse("SELECT * FROM t WHERE a IN ($f0_0, $f0_1) AND b < $as_end LIMIT $limit")
    assert sqlcompose.to_sql(q) == "SELECT * FROM t WHERE a IN ($f0_0, $f0_1) AND b < $as_end LIMIT $limit"


#: .sql files that still hold {slots} for the PENDING modules: may only shrink, like PENDING.
PENDING_SLOTS: set[str] = set()


def test_no_named_file_has_a_slot_and_the_composed_ones_have_their_header():
    slotted = {path.name for path in (FUNNEL / "sql").glob("*.sql")
               if "{" in "\n".join(l for l in path.read_text(encoding="utf-8").splitlines()
                                   if not l.lstrip().startswith("--"))}
    assert slotted == PENDING_SLOTS, f"files with {{slots}}: {sorted(slotted)} (update PENDING_SLOTS when one is converted)"
    for name in ("funnel_stages", "stage_conversion", "conversion_trend", "time_to_convert_histogram",
                 "time_in_stage", "survival_curves", "time_in_stage_and_curves", "sla_summary",
                 "sla_breaches", "stuck_items"):
        assert sqlcompose.headers(name)["name"] == (name,)


def test_named_queries_run_by_themselves_with_their_defaults(sample_db):
    """Each composed file reads real tables: it runs on a database given only its parameters."""
    con = duckdb.connect(str(sample_db), read_only=True)
    values = {"cohort_start": datetime(2000, 1, 1), "cohort_end": datetime(2100, 1, 1),
              "as_end": datetime(2100, 1, 1), "window_days": None, "maturity_days": 90, "funnel": "lead",
              "km_points": 50, "min_days": 1.0, "limit": 10}
    for name in ("stage_conversion", "conversion_trend", "time_to_convert_histogram", "time_in_stage",
                 "survival_curves", "time_in_stage_and_curves", "sla_summary", "sla_breaches", "stuck_items"):
        text = sqlcompose.to_sql(sqlcompose.query(name))
        df = con.execute(text, {k: values[k] for k in sqlcompose.placeholders(text)}).df()
        assert len(df) > 0, name


def test_generated_text_is_cached_per_query_shape(monkeypatch):
    conversion._conversion_sql.cache_clear()
    time_in_stage._scoped_sql.cache_clear()
    calls = []
    real = sqlcompose.query
    monkeypatch.setattr(sqlcompose, "query", lambda name: calls.append(name) or real(name))
    a = conversion._conversion_sql("stage_conversion", ("breakdown", None), (), True)
    assert a.startswith("-- stage_conversion: funnel/sql/stage_conversion.sql\nWITH ")   # named in logs and plans
    b = conversion._conversion_sql("stage_conversion", ("breakdown", None), (), True)
    assert a is b and calls == ["stage_conversion"]
    c = conversion._conversion_sql("stage_conversion", ("breakdown", "channel"), (("channel", ("f0_0",)),), True)
    assert c != a and calls == ["stage_conversion", "stage_conversion"]
    assert "$f0_0" in c and "$f0_0" not in a
    time_in_stage._scoped_sql("time_in_stage", (), True, "lead")
    time_in_stage._scoped_sql("time_in_stage", (), True, "lead")
    assert calls.count("time_in_stage") == 1


def test_a_dimension_filter_is_a_bound_in_list_over_a_quoted_whitelisted_column():
    from funnel.query import cohort_condition
    cond = cohort_condition((('odd "name"', ("f0_0", "f0_1")),), "l")
    assert sqlcompose.to_sql(cond) == ('l.created_at >= $cohort_start AND l.created_at < $cohort_end '
                                       'AND CAST(l."odd ""name""" AS TEXT) IN ($f0_0, $f0_1)')


#: The metric modules (metrics.md §1–8): every statement they run is a named file under funnel/sql/.
METRIC_MODULES = ("conversion", "time_in_stage", "rejections", "forecast", "scoring", "targets", "overview",
                  "review_targets")
#: A string that reads as a whole query (fragments — a condition, a column, a CASE — are fine: they
#: are parsed into a tree, as sqlcompose.parse and sqlglot's builders do; so are the plain writes
#: of the configuration the user edits). SQL keywords are upper case in this codebase, prose is not.
STATEMENT = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|^\s*WITH\b")


def statements_in(source: str) -> list[int]:
    """Line numbers of string literals (f-strings included) in ``source`` that hold an SQL
    statement, docstrings aside."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    inside_fstring = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in inside_fstring:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        else:
            continue
        if STATEMENT.search(text):
            found.append(node.lineno)
    return sorted(found)


@pytest.mark.parametrize("module", METRIC_MODULES)
def test_metric_modules_run_only_named_queries(module):
    """No statement is written inline in a metric module: each is a named, commented file."""
    lines = statements_in((FUNNEL / f"{module}.py").read_text(encoding="utf-8"))
    assert not lines, f"funnel/{module}.py holds SQL statements at lines {lines}: move each to funnel/sql/NAME.sql"


@pytest.mark.parametrize("snippet, flagged", [
    ('q = "SELECT a FROM t"', True),
    ('q = f"""{base}\n SELECT count(*) FROM rj"""', True),
    ('run(con, "WITH x AS (SELECT 1) SELECT * FROM x")', True),
    ('def f():\n    """SELECT rows FROM the table, as a docstring may say."""', False),
    ('q.where("h.entered_at IS NOT NULL AND h.created_at < $as_end")', False),
    ('label = "Select a stage from the list"', False),
    ('con.execute("DELETE FROM targets")', False),
])
def test_the_statement_check_catches_what_it_should(snippet, flagged):
    assert bool(statements_in(snippet)) is flagged
