"""Named SQL queries composed as syntax trees, never by editing their text (issue #16).

A query lives in ``funnel/sql/NAME.sql``: a ``-- name: NAME`` header, comments saying what it
computes, and one statement that reads real tables (and parameters ``$name``). A query may read
relations another named query defines; it says so in a ``-- uses: other, …`` header line, and
:func:`query` attaches what it reads of them as CTEs ahead of its own — a used query's CTEs, and
the used query itself under its name. ``python -m funnel.sqlcompose NAME`` prints the runnable
text of a query with its defaults.

A caller adapts a query to a scope by replacing CTEs: :func:`with_cte` swaps the body of the CTE
of that name (a file ships a default ``cohort``, ``visits``, …) or adds it in front. Bodies are
sqlglot expressions built from whitelisted identifiers and placeholders — user values are
always bound parameters. Parsing costs milliseconds, so callers cache the generated text per
query shape (an ``lru_cache`` over a hashable key) and the hot path only binds and executes.
"""
from __future__ import annotations

import re
import sys
from functools import lru_cache
from importlib import resources

import sqlglot
from sqlglot import exp

#: Every query is DuckDB SQL; the Spark engine transpiles the generated text (funnel/sql_dialect.py).
DIALECT = "duckdb"

_HEADER = re.compile(r"^--\s*(name|uses):\s*(.*?)\s*$")


class QueryError(ValueError):
    """A named query that is missing, malformed or composed inconsistently (a programming error)."""


@lru_cache(maxsize=None)
def source(name: str) -> str:
    """The text of ``funnel/sql/NAME.sql``, comments included."""
    path = resources.files("funnel.sql").joinpath(f"{name}.sql")
    if not path.is_file():
        raise QueryError(f"There is no named query '{name}' (funnel/sql/{name}.sql).")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def headers(name: str) -> dict[str, tuple[str, ...]]:
    """``{"name": (NAME,), "uses": (...)}`` from the leading ``-- name:`` / ``-- uses:`` lines."""
    found: dict[str, tuple[str, ...]] = {"uses": ()}
    for line in source(name).splitlines():
        if not line.startswith("--"):
            break
        m = _HEADER.match(line)
        if m:
            found[m.group(1)] = tuple(p.strip() for p in m.group(2).split(",") if p.strip())
    if found.get("name") != (name,):
        raise QueryError(f"funnel/sql/{name}.sql must start with '-- name: {name}'.")
    return found


@lru_cache(maxsize=None)
def _parsed(name: str) -> exp.Query:
    tree = sqlglot.parse_one(source(name), read=DIALECT)
    if not isinstance(tree, exp.Query):
        raise QueryError(f"funnel/sql/{name}.sql holds no query.")
    return tree


def parse(text: str) -> exp.Query:
    """A query (or a fragment such as a CTE body) given as text: for tests and small literals."""
    return sqlglot.parse_one(text, read=DIALECT)


def ctes(q: exp.Query) -> dict[str, exp.Query]:
    """The query's CTEs by name, in order (their bodies, not copies)."""
    with_ = q.args.get("with_")
    return {c.alias_or_name: c.this for c in with_.expressions} if with_ else {}


def _reads(node: exp.Expression) -> set[str]:
    """Names of the tables a tree reads (unqualified: CTEs and plain tables alike)."""
    return {t.name for t in node.find_all(exp.Table) if not t.args.get("db")}


def _without_order(q: exp.Query) -> exp.Query:
    """``q`` as a relation: an ORDER BY without LIMIT means nothing inside a CTE."""
    q = q.copy()
    if not q.args.get("limit"):
        q.set("order", None)
    return q


@lru_cache(maxsize=None)
def _provided(name: str) -> tuple[tuple[str, exp.Query], ...]:
    """What a query offers to those that use it: its CTEs, then itself under its name."""
    q = _composed(name)
    own = [(n, body) for n, body in ctes(q).items()]
    final = _without_order(q)
    final.set("with_", None)
    return (*own, (name, final))


@lru_cache(maxsize=None)
def _composed(name: str) -> exp.Query:
    """The named query with the relations it reads from its ``uses`` attached as CTEs."""
    q = _parsed(name).copy()
    used = headers(name)["uses"]
    if not used:
        return q
    available: dict[str, exp.Query] = {}
    for other in used:
        for cte_name, body in _provided(other):
            if cte_name in available and available[cte_name] != body:
                raise QueryError(f"'{name}' uses two different definitions of '{cte_name}'.")
            available[cte_name] = body
    own = ctes(q)
    # the closure of what the query reads: a used CTE may read others of its query
    needed: set[str] = set()
    todo = [n for n in _reads(q) if n in available and n not in own]
    while todo:
        n = todo.pop()
        if n in needed:
            continue
        needed.add(n)
        todo.extend(m for m in _reads(available[n]) if m in available and m not in own and m != n)
    for cte_name in reversed([n for n in available if n in needed]):   # the providers' order
        q = _prepend(q, cte_name, available[cte_name].copy())
    return q


def query(name: str) -> exp.Query:
    """A fresh tree of the named query, with what it ``uses`` attached; the caller may change it."""
    return _composed(name).copy()


def _prepend(q: exp.Query, name: str, body: exp.Expression) -> exp.Query:
    cte = exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name)))
    with_ = q.args.get("with_")
    if with_ is None:
        q.set("with_", exp.With(expressions=[cte]))
    else:
        with_.set("expressions", [cte, *with_.expressions])
    return q


def with_cte(q: exp.Query, name: str, body: exp.Query | str) -> exp.Query:
    """``q`` with CTE ``name`` set to ``body`` (a tree, or a named query by name): the CTE of that
    name is replaced where it stands, else the new one goes in front of the others. Changes ``q``."""
    if isinstance(body, str):
        body = _without_order(query(body))
    with_ = q.args.get("with_")
    for cte in with_.expressions if with_ else ():
        if cte.alias_or_name == name:
            cte.set("this", body)
            return q
    return _prepend(q, name, body)


def replace_projection(q: exp.Select, alias: str, expression: exp.Expression) -> exp.Select:
    """``q`` with the expression of its output column ``alias`` replaced. Changes ``q``."""
    for i, projection in enumerate(q.expressions):
        if projection.alias_or_name == alias:
            q.expressions[i] = exp.alias_(expression, alias)
            return q
    raise QueryError(f"The query has no output column '{alias}'.")


def to_sql(q: exp.Expression, name: str | None = None) -> str:
    """DuckDB text of a tree; comments dropped (they stay in the .sql files). With ``name``, a first
    line ``-- NAME: funnel/sql/NAME.sql`` says which named query a statement is, in logs, profiles
    and the Spark plan checks (tests/test_engine_parity.py knows time in stage by it)."""
    text = q.sql(dialect=DIALECT, comments=False)
    return f"-- {name}: funnel/sql/{name}.sql\n{text}" if name else text


def placeholders(q: exp.Expression | str) -> set[str]:
    """The ``$name`` parameters a query binds."""
    tree = parse(q) if isinstance(q, str) else q
    return {p.name for p in tree.find_all(exp.Placeholder)}


# --- building blocks for bodies and filters (whitelisted identifiers, bound values) ------------

def param(name: str) -> exp.Placeholder:
    """``$name``."""
    return exp.Placeholder(this=name)


def col(name: str, table: str | None = None) -> exp.Column:
    """A column reference, quoted: ``name`` must come from a whitelist."""
    return exp.column(exp.to_identifier(name, quoted=True), table=table)


def all_of(*conditions: exp.Expression) -> exp.Expression:
    """``a AND b AND …`` (TRUE when none)."""
    return exp.and_(*conditions) if conditions else exp.true()


def main():  # pragma: no cover - a developer's tool
    for name in sys.argv[1:]:
        print(f"-- {name}\n{query(name).sql(dialect=DIALECT, pretty=True)};")


if __name__ == "__main__":  # pragma: no cover
    main()
