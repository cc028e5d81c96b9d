"""Query context: the as-of date, cohort and filters every metric shares, resolved once.

A page or the CLI builds a :class:`Scope` (plain, frozen, hashable — usable as a cache key); the
metric functions call :func:`resolve` to fill the defaults (as-of = the date of the latest
timestamp in the data, never the wall clock) and get the cohort's SQL fragment with its bound
parameters. User values are only ever bound as parameters; column names only ever come from the
leads table's own column list.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources

import pandas as pd

from sqlglot import exp

from . import sqlcompose, store
from .errors import ConfigError, FunnelError

#: Dimensions offered as global filters and breakdowns (any other lead attribute also works).
DIMENSIONS = ("channel", "segment", "region", "sdr", "ae")

#: A period a metric groups by → (its date_trunc unit, its length as an interval literal).
PERIOD_GRAINS = {"week": ("week", "INTERVAL 7 DAY"), "month": ("month", "INTERVAL 1 MONTH")}


@dataclass(frozen=True)
class Scope:
    """What the user asked for. ``None`` means "use the default"."""

    as_of: date | None = None
    date_from: date | None = None
    date_to: date | None = None
    # ((column, (value, value, ...)), ...): values of one column are OR-ed, columns AND-ed.
    filters: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)
    window_days: int | None = None

    def with_(self, **changes) -> "Scope":
        return Scope(**{**self.__dict__, **changes})


@dataclass(frozen=True)
class Resolved:
    as_of: date
    date_from: date
    date_to: date
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    window_days: int | None
    params: dict               # bound values: the cohort's dates, D, the window, each filter value
    # (column, (parameter names of its values)) per filter: the shape of a query, without values —
    # a cache key for composed SQL (see cohort_condition)
    filter_params: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def filters_on_copied_columns(self) -> bool:
        """Every filter is on a lead column the derived tables carry (see store.DERIVED_LEAD_COLUMNS)."""
        return all(column in store.DERIVED_LEAD_COLUMNS for column, _ in self.filters)

    @property
    def as_end(self) -> datetime:
        """The end of day D (exclusive bound): events at or after it are not yet known."""
        return datetime.combine(self.as_of + timedelta(days=1), datetime.min.time())

    @property
    def has_dimension_filter(self) -> bool:
        return bool(self.filters)


def sql(name: str) -> str:
    """A named query from funnel/sql/NAME.sql."""
    return _load_sql(name)


@lru_cache(maxsize=None)
def _load_sql(name: str) -> str:
    return resources.files("funnel.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def run(con, query: str, params: dict | None = None, *, own_cursor: bool = True) -> pd.DataFrame:
    """Execute with only the parameters the query names (DuckDB refuses extra ones).

    On a cursor of its own (thread-safe on a shared connection), unless ``own_cursor`` is False:
    then on ``con`` itself, which is what a query needs to see ``con``'s temporary tables.
    """
    params = params or {}
    used = set(_PARAM.findall(query))
    missing = used - params.keys()
    if missing:
        raise FunnelError(f"Internal query error: parameters {sorted(missing)} were not provided.")
    cur = con.cursor() if own_cursor and hasattr(con, "cursor") else con
    try:
        return cur.execute(query, {k: params[k] for k in used}).df()
    finally:
        if cur is not con:
            cur.close()


def latest_timestamp(con) -> datetime | None:
    rows = con.execute(
        """SELECT greatest(
               (SELECT max(created_at) FROM leads),
               (SELECT max(entered_at) FROM lead_events),
               (SELECT max(created_at) FROM opportunities),
               (SELECT max(entered_at) FROM opportunity_events))"""
    ).fetchall()
    return rows[0][0] if rows else None


def earliest_lead_date(con) -> date | None:
    rows = con.execute("SELECT min(created_at) FROM leads").fetchall()
    return rows[0][0].date() if rows and rows[0][0] else None


def default_as_of(con) -> date:
    ts = latest_timestamp(con)
    if ts is None:
        raise FunnelError("The database holds no data yet.",
                          hint="Import your files on the Data page, or run `python -m funnel sample`.",
                          code="no_data")
    return ts.date() if isinstance(ts, datetime) else ts


def resolve(con, scope: Scope) -> Resolved:
    as_of = scope.as_of or default_as_of(con)
    date_from = scope.date_from or earliest_lead_date(con) or as_of
    date_to = scope.date_to or as_of
    if date_from > date_to:
        raise FunnelError(f"The cohort starts ({date_from}) after it ends ({date_to}).",
                          hint="Pick a 'from' date on or before the 'to' date.", code="bad_range")
    if scope.window_days is not None and scope.window_days < 0:
        raise FunnelError("The conversion window must be zero or more days.", code="bad_window")
    columns = store.lead_attribute_columns(con)
    params: dict = {
        "as_end": datetime.combine(as_of + timedelta(days=1), datetime.min.time()),
        "cohort_start": datetime.combine(date_from, datetime.min.time()),
        "cohort_end": datetime.combine(min(date_to, as_of) + timedelta(days=1), datetime.min.time()),
        "window_days": scope.window_days,
    }
    keys: list[tuple[str, tuple[str, ...]]] = []
    clean_filters = []
    for i, (column, values) in enumerate(scope.filters):
        if column not in columns:
            raise ConfigError(
                f"There is no lead column called '{column}'.",
                hint=f"Filter on one of: {', '.join(sorted(columns))}.")
        values = tuple(str(v) for v in values)
        if not values:
            continue
        names = tuple(f"f{i}_{j}" for j in range(len(values)))
        params.update(zip(names, values))
        keys.append((column, names))
        clean_filters.append((column, values))
    return Resolved(as_of=as_of, date_from=date_from, date_to=date_to, filters=tuple(clean_filters),
                    window_days=scope.window_days, params=params, filter_params=tuple(keys))


def dimension_condition(filter_params: tuple[tuple[str, tuple[str, ...]], ...], alias: str) -> exp.Expression:
    """``CAST(alias."col" AS VARCHAR) IN ($f0_0, …) AND …`` for ``Resolved.filter_params`` (whose
    columns resolve() checked against the leads table); TRUE when there are none."""
    return sqlcompose.all_of(*(
        exp.In(this=exp.cast(sqlcompose.col(column, alias), "VARCHAR"),
               expressions=[sqlcompose.param(k) for k in keys])
        for column, keys in filter_params))


def cohort_condition(filter_params: tuple[tuple[str, tuple[str, ...]], ...], alias: str) -> exp.Expression:
    """The cohort's dates ($cohort_start, $cohort_end) and dimension filters over a table aliased
    ``alias`` that carries created_at and the filtered columns (``leads``, or a derived table for
    the copied columns)."""
    created = exp.column("created_at", table=alias)
    return sqlcompose.all_of(created >= sqlcompose.param("cohort_start"), created < sqlcompose.param("cohort_end"),
                             *(() if not filter_params else (dimension_condition(filter_params, alias),)))


def check_breakdown(con, column: str | None) -> None:
    """Refuse a breakdown column that is not a column of leads (the whitelist)."""
    columns = store.lead_attribute_columns(con)
    if column is not None and column not in columns:
        raise ConfigError(f"There is no lead column called '{column}' to break down by.",
                          hint=f"Choose one of: {', '.join(sorted(columns))}.")


def group_expression(column: str | None, alias: str = "l") -> exp.Expression:
    """A lead column's value as text over ``alias``, blanks as '(blank)', or the constant 'All
    leads' without a column — the group of breakdowns; for a ``column`` :func:`check_breakdown` passed."""
    if column is None:
        return exp.cast(exp.Literal.string("All leads"), "VARCHAR")
    return exp.func("coalesce", exp.cast(sqlcompose.col(column, alias), "VARCHAR"), exp.Literal.string("(blank)"))


def opportunity_scope(filter_params: tuple[tuple[str, tuple[str, ...]], ...], *,
                      created_by_as_of: bool = False) -> exp.Query:
    """The body of ``opps``: the opportunities in scope (funnel/sql/opportunity_scope.sql), for
    ``Resolved.filter_params``; with ``created_by_as_of`` only those created by D ($as_end).

    Dimension filters apply through the opportunity's lead, so an unlinked deal drops out only
    when a dimension filter is set.
    """
    q = sqlcompose.query("opportunity_scope")
    conditions = []
    if created_by_as_of:
        conditions.append(exp.column("created_at", table="o") < sqlcompose.param("as_end"))
    if filter_params:
        q = q.join("leads AS l", on="l.lead_id = o.lead_id", copy=False)
        conditions.append(dimension_condition(filter_params, "l"))
    return q.where(*conditions, copy=False) if conditions else q


def parse_filters(items: list[str] | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``["channel=webinar", "channel=event", "segment=SMB"]`` → grouped filter tuples."""
    grouped: dict[str, list[str]] = {}
    for item in items or []:
        if "=" not in item:
            raise FunnelError(f"Filter '{item}' is not of the form column=value.",
                              hint="For example --filter channel=webinar.", code="bad_filter")
        k, v = item.split("=", 1)
        grouped.setdefault(k.strip(), []).append(v.strip())
    return tuple((k, tuple(v)) for k, v in grouped.items())


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)
