"""Targets and the demand plan (metrics.md §7 and §8): attainment, coverage, pace and the chance of
hitting a revenue target, and what it takes in deals, opportunities and leads to close its gap.

Targets and teams are data: two tables (``targets``: period, owner, amount; ``teams``: owner,
team) written only by :func:`save_targets`, :func:`save_teams` and :func:`import_targets`, each
all-or-nothing and each bumping the data version. A target's owner is an opportunity owner, a team
name (its owners' deals together) or '' — everyone in scope.

Every figure comes from two small results: the open deals at D with their simulated outcomes
(``forecast._simulated_months`` with the owner split — the forecast's own Monte Carlo runs, so the
P10–P90 and the chance of hitting can never disagree) and the won amount per owner and day
(``sql/targets_won_by_day.sql``). The plan reads the stage conversion of a mature cohort (§1),
the historical win rate (§4) and two tiny queries.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sqlglot import exp

from . import access, audit, conversion, fmt, forecast, sqlcompose, store
from .errors import ConfigError, ImportValidationError
from .i18n import N_, Message, gettext_for, list_of, msg, msg_n, render, sentences
from .query import Scope, add_months, cohort_condition, month_start, opportunity_scope, resolve, run

TARGET_COLUMNS = ("period", "owner", "amount")
TEAM_COLUMNS = ("owner", "team")

#: The mature cohort of the plan: leads created in the 365 days ending this many days before D.
PLAN_MATURITY_DAYS = 90
PLAN_COHORT_DAYS = 365
#: The run rate: leads created in this many days up to D, expressed per RUN_RATE_PER days.
RUN_RATE_DAYS = 90
RUN_RATE_PER = 30

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER_RE = re.compile(r"^(\d{4})-[Qq]([1-4])$")

#: Columns of :func:`target_figures`.
FIGURE_COLUMNS = ["period", "owner", "kind", "team", "has_target", "amount", "won", "won_deals", "open_deals",
                  "open_amount", "weighted_amount", "expected", "attainment", "expected_attainment", "gap",
                  "coverage", "weighted_coverage", "required_win_rate", "p_hit", "elapsed", "pace_amount", "ahead",
                  "p10", "p50", "p90", "start", "end"]


# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    """A target period: a calendar month ('2026-06') or quarter ('2026-Q2'), days inclusive."""

    label: str
    start: date
    end: date

    @property
    def months(self) -> list[date]:
        out, m = [], self.start
        while m <= self.end:
            out.append(m)
            m = add_months(m, 1)
        return out

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def elapsed(self, as_of: date) -> float:
        """§7: (min(D, P1) − P0 + 1) / (P1 − P0 + 1) days; 0 for a period after D."""
        if as_of < self.start:
            return 0.0
        return ((min(as_of, self.end) - self.start).days + 1) / self.days


def parse_period(text) -> Period:
    """'2026-06' → June 2026; '2026-Q2' (or '2026-q2') → April–June 2026. ValueError otherwise."""
    s = "" if text is None else str(text).strip()
    m = _MONTH_RE.match(s)
    if m:
        start = date(int(m.group(1)), int(m.group(2)), 1)
        return Period(s, start, add_months(start, 1) - timedelta(days=1))
    q = _QUARTER_RE.match(s)
    if q:
        year, n = int(q.group(1)), int(q.group(2))
        start = date(year, 3 * (n - 1) + 1, 1)
        return Period(f"{year}-Q{n}", start, add_months(start, 3) - timedelta(days=1))
    raise ValueError(f"'{s}' is not a month (YYYY-MM) or a quarter (YYYY-Qn)")


def month_label(d: date) -> str:
    return f"{d:%Y-%m}"


def quarter_label(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def period_title(label: str, lang: str = "en") -> str:
    """'2026-06' → 'June 2026' / '2026年6月', '2026-Q2' → 'Q2 2026' / '2026年第二季度' (for tiles and
    sentences)."""
    p = parse_period(label)
    if lang != "en":
        return fmt.month(p.start, lang) if len(p.months) == 1 else fmt.quarter(p.start, lang)
    return f"{p.start:%B %Y}" if len(p.months) == 1 else f"Q{(p.start.month - 1) // 3 + 1} {p.start.year}"


@dataclass(frozen=True)
class PeriodTitle:
    """A target period in a message, named in the reader's language (:func:`period_title`)."""
    label: str

    def format(self, lang: str) -> str:
        return period_title(self.label, lang)


def tile_periods(as_of: date) -> list[str]:
    """The page's three tiles: D's month, D's quarter, the next quarter."""
    q0 = forecast.quarter_start(as_of)
    return [month_label(as_of), quarter_label(q0), quarter_label(add_months(q0, 3))]


# ---------------------------------------------------------------------------------------------
# Reading and validating targets and teams


def _file_name(file) -> str:
    if isinstance(file, (str, Path)):
        return Path(file).name
    return str(getattr(file, "name", None) or "targets file")


#: Where targets or teams came from, as a sentence names it: the page's grid, the default sources of
#: save_targets / save_teams, else a file's name.
_SOURCES = {"grid": N_("grid"), "targets": N_("targets"), "teams": N_("teams")}


def _source_name(source: str):
    return msg(_SOURCES[source]) if source in _SOURCES else source


def _where(source: str, row_no: int, is_csv: bool) -> Message:
    # row_no counts data rows from 1 (header excluded); line = the file's line (header = line 1)
    file = _source_name(source)
    if is_csv:
        return msg("{file} row {row} (line {line})", file=file, row=str(row_no), line=str(row_no + 1))
    return msg("{file} row {row} (sheet row {line})", file=file, row=str(row_no), line=str(row_no + 1))


def _english(messages: list[Message]) -> list[str]:
    return [m.render("en") for m in messages]


def _sentences(messages: list, limit: int | None = None) -> Message:
    """Sentences one after the other (at most ``limit``, then how many more)."""
    shown = list(messages[:limit] if limit else messages)
    if limit and len(messages) > limit:
        shown.append(msg("… and {n} more.", n=str(len(messages) - limit)))
    return sentences(shown)


def _read_rows(file, expected: tuple[str, ...], what: str) -> tuple[pd.DataFrame, str, bool]:
    """The file's rows as text with the expected columns (headers matched case-insensitively)."""
    from . import ingest

    name = _file_name(file)
    df = ingest.read_table_file(file)
    headers = {str(c).strip().lower(): c for c in df.columns}
    missing = [c for c in expected if c not in headers]
    if missing:
        columns = list_of([repr(m) for m in missing])
        raise ImportValidationError(msg("The teams file {file} has no column {columns}; nothing was imported.", file=name,
                                        columns=columns) if what == "teams" else
                                    msg("The targets file {file} has no column {columns}; nothing was imported.", file=name,
                                        columns=columns),
                                    hint=msg("Give it a header row with the columns {columns}.", columns=", ".join(expected)),
                                    problems=[f"{name}: missing column '{m}'" for m in missing])
    df = df[[headers[c] for c in expected]].copy()
    df.columns = list(expected)
    is_csv = not name.lower().endswith((".xlsx", ".xlsm"))
    return df.fillna(""), name, is_csv


def _clean(text) -> str:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return str(text).strip()


def validate_targets(rows: pd.DataFrame, *, source: str = "targets", is_csv: bool = True,
                     owners: set[str] | None = None, teams: set[str] | None = None
                     ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Check target rows (columns period, owner, amount); return (clean rows, problems, warnings).

    Problems (refuse the whole file): a period that is not YYYY-MM or YYYY-Qn, an amount that is
    not a number or is negative, the same period and owner twice. Warning only: an owner that is
    neither an opportunity owner of the data (``owners``) nor a team (``teams``) — the target then
    has no deals yet, which may be right for a new hire.
    """
    clean, problems, warnings = _check_targets(rows, source=source, is_csv=is_csv, owners=owners, teams=teams)
    return clean, _english(problems), _english(warnings)


def _check_targets(rows: pd.DataFrame, *, source: str, is_csv: bool, owners: set[str] | None,
                   teams: set[str] | None) -> tuple[pd.DataFrame, list[Message], list[Message]]:
    """:func:`validate_targets` with its problems and warnings as messages."""
    problems, warnings, clean, seen = [], [], [], {}
    for i, rec in enumerate(rows.itertuples(index=False), start=1):
        where = _where(source, i, is_csv)
        period_text, owner, amount_text = _clean(rec.period), _clean(rec.owner), _clean(rec.amount)
        ok = True
        try:
            period = parse_period(period_text).label
        except ValueError:
            problems.append(msg("{where}, column period: '{value}' is not a month or a quarter — write a month as "
                                "YYYY-MM (2026-06) or a quarter as YYYY-Qn (2026-Q2).", where=where, value=period_text))
            ok, period = False, period_text
        try:
            amount = float(amount_text) if isinstance(rec.amount, (int, float)) or amount_text else math.nan
            if math.isnan(amount) or math.isinf(amount):
                raise ValueError
        except (TypeError, ValueError):
            problems.append(
                msg("{where}, column amount: is empty — write the target as plain digits, e.g. 250000 (no currency "
                    "sign or thousands separator).", where=where) if not amount_text else
                msg("{where}, column amount: '{value}' is not a number — write the target as plain digits, e.g. "
                    "250000 (no currency sign or thousands separator).", where=where, value=amount_text))
            ok = False
        else:
            if amount < 0:
                problems.append(msg("{where}, column amount: {value} is negative — a target is 0 or more.",
                                    where=where, value=amount_text))
                ok = False
        key = (period, owner)
        if key in seen:
            problems.append(
                msg("{where}, columns period+owner: '{period}' for {owner} is already set on row {row} — keep one "
                    "row per period and owner.", where=where, period=period, owner=repr(owner), row=str(seen[key]))
                if owner else
                msg("{where}, columns period+owner: '{period}' for everyone (empty owner) is already set on row {row} "
                    "— keep one row per period and owner.", where=where, period=period, row=str(seen[key])))
            ok = False
        else:
            seen[key] = i
        if ok:
            if owner and owners is not None and owner not in owners and owner not in (teams or set()):
                warnings.append(msg("{where}, column owner: '{owner}' is neither an opportunity owner in the data nor "
                                    "a team — the target is kept; it counts no deals until that owner has some.",
                                    where=where, owner=owner))
            clean.append({"period": period, "owner": owner, "amount": amount})
    return pd.DataFrame(clean, columns=list(TARGET_COLUMNS)), problems, warnings


def validate_teams(rows: pd.DataFrame, *, source: str = "teams", is_csv: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Check team rows (owner, team): both given, each owner in one team only."""
    clean, problems = _check_teams(rows, source=source, is_csv=is_csv)
    return clean, _english(problems)


def _check_teams(rows: pd.DataFrame, *, source: str, is_csv: bool) -> tuple[pd.DataFrame, list[Message]]:
    """:func:`validate_teams` with its problems as messages."""
    problems, clean, seen = [], [], {}
    for i, rec in enumerate(rows.itertuples(index=False), start=1):
        where = _where(source, i, is_csv)
        owner, team = _clean(rec.owner), _clean(rec.team)
        ok = True
        if not owner:
            problems.append(msg("{where}, column owner: the owner is empty — name the opportunity owner.", where=where))
            ok = False
        if not team:
            problems.append(msg("{where}, column team: the team of '{owner}' is empty — name the team.", where=where,
                                owner=owner))
            ok = False
        if owner and owner in seen:
            problems.append(msg("{where}, column owner: '{owner}' is already in a team on row {row} — an owner "
                                "belongs to one team; keep one row per owner.", where=where, owner=owner,
                                row=str(seen[owner])))
            ok = False
        elif owner:
            seen[owner] = i
        if ok:
            clean.append({"owner": owner, "team": team})
    return pd.DataFrame(clean, columns=list(TEAM_COLUMNS)), problems


def _refuse(what: str, name: str, problems: list[Message]):
    n, shown = len(problems), _sentences(problems, 3)
    raise ImportValidationError(msg_n("The teams file {file} was not imported ({n} problem; nothing was changed): {problems}",
                                      "The teams file {file} was not imported ({n} problems; nothing was changed): {problems}", n,
                                      file=name, n=str(n), problems=shown) if what == "teams" else
                                msg_n("The targets file {file} was not imported ({n} problem; nothing was changed): {problems}",
                                      "The targets file {file} was not imported ({n} problems; nothing was changed): {problems}", n,
                                      file=name, n=str(n), problems=shown),
                                hint=msg("Correct those rows and import the file again."), problems=_english(problems))


@lru_cache(maxsize=None)
def _named_sql(name: str) -> str:
    """The text of a named query read as it stands (no part of it depends on a scope)."""
    return sqlcompose.to_sql(sqlcompose.query(name), name)


def known_owners(con) -> set[str]:
    return set(run(con, _named_sql("targets_owners"))["owner"].astype(str))


def read_teams(file) -> pd.DataFrame:
    """A teams file (CSV or XLSX: owner, team), validated; ImportValidationError names every bad row."""
    rows, name, is_csv = _read_rows(file, TEAM_COLUMNS, "teams")
    clean, problems = _check_teams(rows, source=name, is_csv=is_csv)
    if problems:
        _refuse("teams", name, problems)
    return clean


def read_targets(file, *, owners: set[str] | None = None, teams: set[str] | None = None
                 ) -> tuple[pd.DataFrame, list[str]]:
    """A targets file (CSV or XLSX: period, owner, amount), validated: (rows, warnings).

    Raises ImportValidationError naming file, row, line, column, value and what to do for each bad
    row; nothing is returned then (all-or-nothing)."""
    clean, warnings = _read_targets(file, owners=owners, teams=teams)
    return clean, _english(warnings)


def _read_targets(file, *, owners: set[str] | None, teams: set[str] | None) -> tuple[pd.DataFrame, list[Message]]:
    """:func:`read_targets` with its warnings as messages."""
    rows, name, is_csv = _read_rows(file, TARGET_COLUMNS, "targets")
    clean, problems, warnings = _check_targets(rows, source=name, is_csv=is_csv, owners=owners, teams=teams)
    if problems:
        _refuse("targets", name, problems)
    return clean, warnings


# ---------------------------------------------------------------------------------------------
# Stored targets and teams (every change bumps the data version)


def stored_targets(con) -> pd.DataFrame:
    """The stored targets, ordered by period then owner (empty owner first)."""
    return run(con, _named_sql("stored_targets"))


def stored_teams(con) -> pd.DataFrame:
    return run(con, _named_sql("stored_teams"))


def _as_frame(rows, columns) -> pd.DataFrame:
    if isinstance(rows, pd.DataFrame):
        df = rows.copy()
    else:
        df = pd.DataFrame(list(rows))
    for c in columns:
        if c not in df.columns:
            df[c] = ""
    return df[list(columns)]


def _audit_rows(frame: pd.DataFrame) -> list[dict]:
    """A targets or teams frame as plain rows for the audit trail's before/after values."""
    return [{k: (None if pd.isna(v) else (float(v) if isinstance(v, (int, float, np.number)) else str(v)))
             for k, v in row.items()} for row in frame.to_dict("records")]


def _write_targets(con, clean: pd.DataFrame) -> None:
    con.execute("DELETE FROM targets")
    if len(clean):
        con.executemany("INSERT INTO targets (period, owner, amount) VALUES (?, ?, ?)",
                        [(r.period, r.owner, float(r.amount)) for r in clean.itertuples(index=False)])


def _write_teams(con, clean: pd.DataFrame) -> None:
    con.execute("DELETE FROM teams")
    if len(clean):
        con.executemany("INSERT INTO teams (owner, team) VALUES (?, ?)",
                        [(r.owner, r.team) for r in clean.itertuples(index=False)])


def save_targets(con, rows, *, actor: access.Actor | None = None, source: str = "targets") -> list[str]:
    """Replace the stored targets with ``rows`` (dicts or a frame: period, owner, amount).

    All-or-nothing: every row is checked first (as an imported file's); returns the warnings
    (unknown owners) as messages (``str()``: the English sentence). Editors and admins only; the
    audit trail keeps the targets before and after. Bumps the data version.
    """
    who = access.require(actor, "edit")
    teams = set(stored_teams(con)["team"])
    clean, problems, warnings = _check_targets(_as_frame(rows, TARGET_COLUMNS), source=source, is_csv=True,
                                               owners=known_owners(con), teams=teams)
    if problems:
        raise ConfigError(msg("The targets were not saved: {problems}", problems=_sentences(problems, 3)),
                          hint=msg("Correct those rows and save again; nothing was changed."))
    _replace_audited(con, who, "targets", stored_targets, _write_targets, clean, source)
    return warnings


def save_teams(con, rows, *, actor: access.Actor | None = None, source: str = "teams") -> None:
    """Replace the stored teams with ``rows`` (owner, team). All-or-nothing; editors and admins
    only, audited with the teams before and after; bumps the data version."""
    who = access.require(actor, "edit")
    clean, problems = _check_teams(_as_frame(rows, TEAM_COLUMNS), source=source, is_csv=True)
    if problems:
        raise ConfigError(msg("The teams were not saved: {problems}",
                                           problems=_sentences(problems[:3])),
                          hint=msg("Correct those rows and save again; nothing was changed."))
    _replace_audited(con, who, "teams", stored_teams, _write_teams, clean, source)


def _replace_audited(con, who: access.Actor, action: str, read, write, clean: pd.DataFrame, source: str) -> None:
    """Replace a stored table (targets or teams) with ``clean`` in one transaction: bump the data
    version and record the rows before and after in the audit trail."""
    before = _audit_rows(read(con))
    version_before = store.data_version(con)
    with store.transaction(con):
        write(con, clean)
        store.bump_data_version(con)
        n, where = len(clean), _source_name(source)
        summary = (msg_n("Saved {n} teams row ({source})", "Saved {n} teams rows ({source})", n, n=str(n), source=where)
                   if action == "teams" else
                   msg_n("Saved {n} targets row ({source})", "Saved {n} targets rows ({source})", n, n=str(n),
                         source=where))
        audit.record(con, who, action, {"source": source, "rows": len(clean)}, before, _audit_rows(clean),
                     summary=summary, data_version_before=version_before)


@dataclass(frozen=True)
class TargetsImport:
    targets: int | None
    teams: int | None
    warnings: tuple[str, ...]
    warning_messages: tuple[Message, ...] = ()     # ``warnings`` as messages, for a page

    @property
    def message(self) -> str:
        return self.message_obj.render("en")

    @property
    def message_obj(self) -> Message:
        """What was imported, as a message (``message``: in English)."""
        targets = (None if self.targets is None else
                   msg_n("{n} target", "{n} targets", self.targets, n=str(self.targets)))
        teams = (None if self.teams is None else
                 msg_n("{n} team member", "{n} team members", self.teams, n=str(self.teams)))
        said = (msg("Imported {targets} and {teams} (the stored ones were replaced).", targets=targets, teams=teams)
                if targets is not None and teams is not None else
                msg("Imported {what} (the stored ones were replaced).", what=targets if targets is not None else teams))
        if self.warnings:
            n = len(self.warnings)
            said = msg("{first} {then}", first=said, then=msg_n("{n} warning.", "{n} warnings.", n, n=str(n)))
        return said


def import_targets(con, targets_file=None, teams_file=None, *, actor: access.Actor | None = None) -> TargetsImport:
    """Import a targets file and/or a teams file, replacing the stored ones, all-or-nothing: both
    files are read and checked before anything is written, then written in one transaction.
    Editors and admins only (targets are configuration, like probabilities); audited."""
    who = access.require(actor, "edit")
    if targets_file is None and teams_file is None:
        raise ConfigError(msg("Name a targets file or a teams file to import."),
                          hint=msg("For example: --targets targets.csv --teams teams.csv"))
    teams = read_teams(teams_file) if teams_file is not None else None
    team_names = set((teams if teams is not None else stored_teams(con))["team"])
    targets, warnings = (_read_targets(targets_file, owners=known_owners(con), teams=team_names)
                         if targets_file is not None else (None, []))
    before = {"targets": _audit_rows(stored_targets(con)) if targets is not None else None,
              "teams": _audit_rows(stored_teams(con)) if teams is not None else None}
    version_before = store.data_version(con)
    files = [str(getattr(f, "name", f)) for f in (targets_file, teams_file) if f is not None]
    with store.transaction(con):
        if teams is not None:
            _write_teams(con, teams)
        if targets is not None:
            _write_targets(con, targets)
        store.bump_data_version(con)
        audit.record(con, who, "targets_import", {"files": files,
                                                  "targets": None if targets is None else len(targets),
                                                  "teams": None if teams is None else len(teams)},
                     before, {"targets": _audit_rows(targets) if targets is not None else None,
                              "teams": _audit_rows(teams) if teams is not None else None},
                     summary=msg("Imported {files}", files=list_of(files)), data_version_before=version_before)
    return TargetsImport(None if targets is None else len(targets), None if teams is None else len(teams),
                         tuple(_english(warnings)), tuple(warnings))


# ---------------------------------------------------------------------------------------------
# §7 figures


def _team_map(teams: pd.DataFrame) -> dict[str, frozenset]:
    return {t: frozenset(g["owner"]) for t, g in teams.groupby("team")} if len(teams) else {}


def _members(owner: str, team_map: dict[str, frozenset]) -> frozenset | None:
    """The owners whose deals a target counts: None = everyone in scope (empty owner); a team
    name (checked first) = its owners; else the owner alone."""
    if owner == "":
        return None
    return team_map.get(owner, frozenset({owner}))


def _kind(owner: str, team_map) -> str:
    return "everyone" if owner == "" else ("team" if owner in team_map else "owner")


@lru_cache(maxsize=64)
def _won_sql(name: str, filter_params: tuple) -> str:
    """The text of a query reading first_won (targets_won_by_day, plan_won_history) with the deals
    in scope for the dimension filters ``filter_params``: opportunity_scope set for them (in front,
    when the query does not read it itself) and first_won's won events joined to it, as the
    forecast keeps its own first won events to the deals in scope. Without a filter every deal is
    in scope and the file's default stands (no join: it would cost a third of the query)."""
    q = sqlcompose.query(name)
    if filter_params:
        q = sqlcompose.with_cte(q, "opportunity_scope", opportunity_scope(filter_params))
        won = sqlcompose.ctes(q)["won"]
        join = exp.Join(this=exp.to_table("opportunity_scope"),
                        on=exp.column("opportunity_id", "opportunity_scope").eq(exp.column("opportunity_id", "h")))
        won.set("joins", [join, *(won.args.get("joins") or [])])
    return sqlcompose.to_sql(q, name)


@lru_cache(maxsize=64)
def _run_rate_sql(filter_params: tuple) -> str:
    """plan_lead_run_rate's text with its cohort for the dimension filters (the dates are bound)."""
    cohort = (exp.select("l.lead_id", "l.created_at").from_("leads AS l")
              .where(cohort_condition(filter_params, "l")))
    return sqlcompose.to_sql(sqlcompose.with_cte(sqlcompose.query("plan_lead_run_rate"), "cohort", cohort),
                             "plan_lead_run_rate")


def _won_by_day(con, r, won_from: date) -> pd.DataFrame:
    q = _won_sql("targets_won_by_day", r.filter_params)
    df = run(con, q, {**r.params, "won_from": datetime.combine(won_from, datetime.min.time())})
    df["won_day"] = pd.to_datetime(df["won_day"]).dt.date
    return df


def _div(a, b):
    return None if a is None or b is None or b == 0 else a / b


@dataclass
class _Evaluation:
    figures: pd.DataFrame
    outcomes: np.ndarray          # runs × targets: won + simulated won of the target's open deals
    won_by_day: pd.DataFrame
    team_map: dict
    as_of: date


def simulate(con, scope: Scope = Scope(), method: str = "configured", runs: int = forecast.MC_RUNS,
             seed: int = forecast.MC_SEED):
    """The forecast's Monte Carlo with the per-(month, owner) split the targets need — the shared,
    expensive part of every target figure (see :func:`figures_from_simulation`)."""
    forecast._check_method(method)
    return forecast._simulated_months(con, scope, method, runs, seed, by_owner=True)


def figures_from_simulation(con, simulation, specs: pd.DataFrame, teams: pd.DataFrame | None = None) -> pd.DataFrame:
    """§7 figures for ``specs`` (period, owner, amount-or-None) given :func:`simulate`'s result:
    everything besides the Monte Carlo (the won-by-day query and the per-target sums)."""
    return _evaluate(con, None, specs, None, 0, 0, teams, simulation).figures


def _evaluate(con, scope: Scope | None, specs: pd.DataFrame, method: str | None, runs: int, seed: int,
              teams: pd.DataFrame | None = None, simulation=None) -> _Evaluation:
    """§7 figures for each (period, owner, amount-or-None) of ``specs`` from one simulation."""
    sim = simulation if simulation is not None else simulate(con, scope, method, runs, seed)
    r, deals, _months, _group, _sims, cells, cell_sims = sim
    runs = cell_sims.shape[0]
    d = r.as_of
    team_map = _team_map(stored_teams(con) if teams is None else teams)
    periods = [parse_period(p) for p in specs["period"]]
    won_from = min((p.start for p in periods), default=month_start(d))
    won_days = _won_by_day(con, r, won_from)

    n_cells = len(cells)
    cell_idx = deals["cell"].to_numpy(dtype=np.int64) if len(deals) else np.zeros(0, dtype=np.int64)
    amount = deals["amount"].to_numpy(dtype=float)
    prob = deals["probability"].to_numpy(dtype=float)
    cell_deals = np.bincount(cell_idx, minlength=n_cells).astype(float)
    cell_open = np.bincount(cell_idx, weights=amount, minlength=n_cells)
    cell_weighted = np.bincount(cell_idx, weights=amount * prob, minlength=n_cells)
    # owners and days as integer codes, so each target's selection is a vectorised comparison
    owner_code: dict = {}
    cell_owner = np.array([owner_code.setdefault(o, len(owner_code)) for _, o in cells], dtype=np.int64)
    cell_month = np.array([m.toordinal() for m, _ in cells], dtype=np.int64)
    wd_owner = np.array([owner_code.setdefault(None if pd.isna(o) else o, len(owner_code))
                         for o in won_days["owner"]], dtype=np.int64)
    wd_day = np.array([x.toordinal() for x in won_days["won_day"]], dtype=np.int64)
    wd_amount = won_days["won_amount"].to_numpy(dtype=float)
    wd_deals = won_days["won_deals"].to_numpy(dtype=float)

    incidence = np.zeros((n_cells, len(specs)))
    rows = []
    for t, (spec, p) in enumerate(zip(specs.itertuples(index=False), periods)):
        owner = _clean(spec.owner)
        members = _members(owner, team_map)
        months = np.array([m.toordinal() for m in p.months], dtype=np.int64)
        codes = None if members is None else np.array([owner_code[o] for o in members if o in owner_code],
                                                      dtype=np.int64)
        in_owner = np.ones(n_cells, dtype=bool) if codes is None else np.isin(cell_owner, codes)
        incidence[:, t] = in_owner & np.isin(cell_month, months)
        w_mask = (wd_day >= p.start.toordinal()) & (wd_day <= min(p.end, d).toordinal())
        if codes is not None:
            w_mask &= np.isin(wd_owner, codes)
        sel = incidence[:, t].astype(bool)
        rows.append({"period": p.label, "owner": owner, "kind": _kind(owner, team_map),
                     "won": float(wd_amount[w_mask].sum()), "won_deals": int(wd_deals[w_mask].sum()),
                     "open_deals": int(cell_deals[sel].sum()), "open_amount": float(cell_open[sel].sum()),
                     "weighted_amount": float(cell_weighted[sel].sum()), "elapsed": p.elapsed(d),
                     "start": p.start, "end": p.end,
                     "amount": None if spec.amount is None or pd.isna(spec.amount) else float(spec.amount)})
    won = np.array([row["won"] for row in rows])
    outcomes = (cell_sims @ incidence if n_cells else np.zeros((runs, len(specs)))) + won[None, :]
    if len(specs):
        q10, q50, q90 = np.percentile(outcomes, [10, 50, 90], axis=0)
    owner_team = {o: t for t, members in team_map.items() for o in members}
    for t, row in enumerate(rows):
        a = row["amount"]
        row["has_target"] = a is not None
        row["team"] = owner_team.get(row["owner"], "") if row["kind"] == "owner" else ""
        row["expected"] = row["won"] + row["weighted_amount"]
        row["p10"], row["p50"], row["p90"] = float(q10[t]), float(q50[t]), float(q90[t])
        if a is None:
            row.update(attainment=None, expected_attainment=None, gap=None, coverage=None, weighted_coverage=None,
                       required_win_rate=None, p_hit=None, pace_amount=None, ahead=None)
            continue
        gap = max(a - row["won"], 0.0)
        row.update(attainment=_div(row["won"], a), expected_attainment=_div(row["expected"], a), gap=gap,
                   coverage=_div(row["open_amount"], gap), weighted_coverage=_div(row["weighted_amount"], gap),
                   required_win_rate=_div(gap, row["open_amount"]),
                   p_hit=float(np.mean(outcomes[:, t] >= a)),
                   pace_amount=a * row["elapsed"], ahead=row["won"] - a * row["elapsed"])
    figures = pd.DataFrame(rows, columns=FIGURE_COLUMNS)
    return _Evaluation(figures, outcomes, won_days, team_map, d)


def _sorted_targets(targets: pd.DataFrame) -> pd.DataFrame:
    """By period text, then owner text (the empty owner — everyone — sorts first)."""
    t = targets.copy()
    t["owner"] = t["owner"].map(_clean)
    return t.sort_values(["period", "owner"], kind="stable").reset_index(drop=True)


def target_figures(con, scope: Scope = Scope(), method: str = "configured", targets: pd.DataFrame | None = None,
                   runs: int = forecast.MC_RUNS, seed: int = forecast.MC_SEED) -> pd.DataFrame:
    """§7 for every target (the stored ones, or ``targets``: period, owner, amount), ordered by
    period then owner (empty owner first). Columns: :data:`FIGURE_COLUMNS`.

    ``p_hit`` is the share of the forecast's own Monte Carlo runs (same deals, order, seed) in
    which won + the simulated won amount of the target's open deals reaches the amount; p10/p50/p90
    are those runs' outcomes (won + simulated)."""
    specs = _sorted_targets(stored_targets(con) if targets is None else _as_frame(targets, TARGET_COLUMNS))
    return _evaluate(con, scope, specs, method, runs, seed).figures


def _breakdown_specs(con, period: str, targets: pd.DataFrame, team_map: dict) -> pd.DataFrame:
    """Everyone, every team and every owner (with deals in the data or a target) for ``period``,
    with its target amount or None ('no target')."""
    amounts = {(r.period, _clean(r.owner)): float(r.amount) for r in targets.itertuples(index=False)}
    names = {_clean(r.owner) for r in targets.itertuples(index=False) if r.period == period}
    names |= known_owners(con) | set(team_map) | {o for m in team_map.values() for o in m}
    names.discard("")
    ordered = [""] + sorted(t for t in names if t in team_map) + sorted(o for o in names if o not in team_map)
    return pd.DataFrame({"period": period, "owner": ordered,
                         "amount": [amounts.get((period, o)) for o in ordered]})


def targets_page(con, scope: Scope = Scope(), method: str = "configured", *, period: str | None = None,
                 owner: str = "", runs: int = forecast.MC_RUNS, seed: int = forecast.MC_SEED) -> dict:
    """Everything the Targets & plan page shows, from one simulation:

    ``tiles``: §7 figures of ``owner``'s targets for D's month, D's quarter and the next quarter
    (has_target False where none is set); ``breakdown``: everyone, each team and each owner for
    ``period`` (default D's month), owners without a target marked has_target False, sorted by gap
    (largest first, no target last); ``outcomes``: the simulated outcomes (won + simulated) of
    ``owner``'s ``period`` — one per run; ``focus``: its figures row; ``won_by_day``: cumulative
    won by day over the period for the owner, with the linear pace.
    """
    r = resolve(con, scope)
    period = period or month_label(r.as_of)
    targets = stored_targets(con)
    team_map = _team_map(stored_teams(con))
    amounts = {(t.period, _clean(t.owner)): float(t.amount) for t in targets.itertuples(index=False)}
    tile_labels = tile_periods(r.as_of)
    breakdown = _breakdown_specs(con, period, targets, team_map)
    focus_spec = pd.DataFrame({"period": [period], "owner": [owner], "amount": [amounts.get((period, owner))]})
    tiles = pd.DataFrame({"period": tile_labels, "owner": owner,
                          "amount": [amounts.get((p, owner)) for p in tile_labels]})
    specs = pd.concat([tiles, focus_spec, breakdown], ignore_index=True)
    ev = _evaluate(con, scope.with_(as_of=r.as_of), specs, method, runs, seed)
    fig = ev.figures
    n = len(tile_labels)
    tiles_df = fig.iloc[:n].reset_index(drop=True)
    focus = fig.iloc[n].to_dict()
    bd = fig.iloc[n + 1:].reset_index(drop=True)
    bd = bd.assign(_no=bd["has_target"].map(lambda x: not x), _gap=bd["gap"].fillna(-1.0))
    bd = bd.sort_values(["_no", "_gap", "owner"], ascending=[True, False, True], kind="stable").drop(columns=["_no", "_gap"])
    return {"as_of": r.as_of, "period": period, "owner": owner, "tiles": tiles_df, "focus": focus,
            "breakdown": bd.reset_index(drop=True), "outcomes": ev.outcomes[:, n].copy(),
            "won_by_day": _cumulative(ev.won_by_day, parse_period(period), _members(owner, ev.team_map),
                                      r.as_of, focus.get("amount"))}


def _cumulative(won_days: pd.DataFrame, p: Period, members, as_of: date, amount) -> pd.DataFrame:
    """Per day of the period up to min(P1, D): cumulative won and, with a target, the linear pace."""
    last = min(p.end, as_of)
    cols = ["day", "won", "cumulative_won", "pace_amount"]
    if last < p.start:
        return pd.DataFrame(columns=cols)
    days = pd.date_range(p.start, last, freq="D").date
    w = won_days[(won_days["won_day"] >= p.start) & (won_days["won_day"] <= last)]
    if members is not None:
        w = w[w["owner"].isin(list(members))]
    per_day = w.groupby("won_day")["won_amount"].sum()
    won = np.array([float(per_day.get(x, 0.0)) for x in days])
    pace = ([amount * ((x - p.start).days + 1) / p.days for x in days] if amount is not None else [None] * len(days))
    return pd.DataFrame({"day": days, "won": won, "cumulative_won": won.cumsum(), "pace_amount": pace}, columns=cols)


# ---------------------------------------------------------------------------------------------
# §8 demand plan


def plan_assumptions(con, scope: Scope = Scope()) -> dict:
    """The history behind the demand plan (§8), as of D over the scope (dimension filters; every
    target's plan uses the same history — lead-stage rates have no opportunity owner):

    avg_won_amount / won_deals (first won in (D − 365 d, D]), win_rate (§4 historical rate of the
    first positioned opportunity stage) / closed_deals, stages (mature cohort: leads created in the
    365 days ending 90 days before D, reached as of D: stage, position, reached, step_rate),
    lead_to_won_days (that cohort's median days to the last stage), run_rate (leads per 30 days
    created in the 90 days up to D), and the windows used.
    """
    r = resolve(con, scope)
    d = r.as_of
    history_start = datetime.combine(d - timedelta(days=forecast.HISTORY_DAYS - 1), datetime.min.time())
    hist = run(con, _won_sql("plan_won_history", r.filter_params), {**r.params, "history_start": history_start}).iloc[0]
    rates = forecast.stage_win_rates(con, scope.with_(as_of=d))
    first = rates.iloc[0] if len(rates) else None
    cohort_to = d - timedelta(days=PLAN_MATURITY_DAYS)
    cohort_from = cohort_to - timedelta(days=PLAN_COHORT_DAYS - 1)
    conv = conversion.stage_conversion(con, scope.with_(as_of=d, date_from=cohort_from, date_to=cohort_to))
    rate_from = d - timedelta(days=RUN_RATE_DAYS - 1)
    rr = resolve(con, scope.with_(as_of=d, date_from=rate_from, date_to=d))
    leads_90 = int(run(con, _run_rate_sql(rr.filter_params), rr.params)["leads"].iloc[0])
    stages = [{"stage": s.stage, "position": int(s.position), "reached": int(s.reached),
               "step_rate": None if pd.isna(s.step_rate) else float(s.step_rate)} for s in conv.itertuples()]
    if not stages:   # no lead in the mature cohort: every stage, reached by nobody
        stages = [{"stage": s.stage, "position": int(s.position), "reached": 0, "step_rate": None}
                  for s in store.funnel_stages(con, "lead")]
    last_median = conv["median_days_to_reach"].iloc[-1] if len(conv) else None
    won_deals = int(hist["won_deals"])
    return {
        "as_of": d,
        "avg_won_amount": None if won_deals == 0 or pd.isna(hist["avg_won_amount"]) else float(hist["avg_won_amount"]),
        "won_deals": won_deals,
        "win_rate": None if first is None or pd.isna(first["historical_rate"]) else float(first["historical_rate"]),
        "closed_deals": 0 if first is None else int(first["closed"]),
        "win_rate_stage": None if first is None else first["stage"],
        "stages": stages,
        "lead_to_won_days": None if last_median is None or pd.isna(last_median) else float(last_median),
        "cohort_from": cohort_from, "cohort_to": cohort_to,
        "run_rate": leads_90 * RUN_RATE_PER / RUN_RATE_DAYS, "run_rate_leads": leads_90,
        "run_rate_from": rate_from,
    }


def demand_plan(assumptions: dict, amount: float, period: str, owner: str = "", *,
                overrides: dict | None = None) -> dict:
    """§8 for a revenue amount to win in ``period`` from ``assumptions`` (:func:`plan_assumptions`),
    with optional ``overrides`` for a what-if: avg_won_amount, win_rate, lead_to_won_days and
    step_rates {stage: rate}. Pure arithmetic.

    won_deals_needed = amount / avg_won_amount; opportunities_needed = won_deals_needed / win_rate;
    needed(S) = won_deals_needed / (reached(last) / reached(S)) — with step-rate overrides the same
    chain with the rates in use: needed(previous) = needed(S) / step_rate(S). leads_by = P0 −
    lead_to_won_days (rounded up to whole days, so the leads exist in time). Every null has a
    reason in ``reasons`` (English; ``reason_messages`` holds the same as messages for a page).
    """
    o = overrides or {}
    p = parse_period(period)
    reason_messages: list[Message] = []
    avg = o.get("avg_won_amount", assumptions["avg_won_amount"])
    win_rate = o.get("win_rate", assumptions["win_rate"])
    l2w = o.get("lead_to_won_days", assumptions["lead_to_won_days"])
    stages = assumptions["stages"]
    wdn = _div(amount, avg)
    if wdn is None:
        reason_messages.append(msg("No deal was won in the last 365 days, so the average won deal is unknown")
                               if not avg else msg("The average won deal is 0."))
    opps = _div(wdn, win_rate)
    if wdn is not None and opps is None:
        reason_messages.append(msg("The win rate is 0 or unknown (no opportunity closed in the last 365 days), "
                                   "so the opportunities needed cannot be derived."))
    step_overrides = o.get("step_rates") or {}
    needed: list[dict] = []
    if stages:
        if not step_overrides:
            last_reached = stages[-1]["reached"]
            for s in stages:
                ratio = _div(last_reached, s["reached"])
                needed.append({"stage": s["stage"], "needed": _div(wdn, ratio)})
            if wdn is not None and not last_reached:
                reason_messages.append(msg(
                    "No lead of the mature cohort ({cohort_from} to {cohort_to}) reached {stage}, so the leads "
                    "needed per stage cannot be derived.", cohort_from=_IsoDate(assumptions["cohort_from"]),
                    cohort_to=_IsoDate(assumptions["cohort_to"]), stage=str(stages[-1]["stage"])))
        else:
            value = wdn
            chain = [None] * len(stages)
            for i in range(len(stages) - 1, -1, -1):
                chain[i] = value
                if i == 0 or value is None:
                    continue
                rate = step_overrides.get(stages[i]["stage"], stages[i]["step_rate"])
                value = _div(value, rate)
                if value is None:
                    reason_messages.append(msg("The step rate into {stage} is 0 or unknown.",
                                               stage=str(stages[i]["stage"])))
            needed = [{"stage": s["stage"], "needed": chain[i]} for i, s in enumerate(stages)]
    leads_needed = needed[0]["needed"] if needed else None
    leads_by = p.start - timedelta(days=math.ceil(l2w)) if l2w is not None else None
    if l2w is None:
        reason_messages.append(msg("No lead of the mature cohort reached the last stage, so the lead-to-won time is "
                                   "unknown."))
    return {"period": p.label, "owner": owner, "gap": amount, "avg_won_amount": avg, "win_rate": win_rate,
            "won_deals_needed": wdn, "opportunities_needed": opps, "needed": needed, "leads_needed": leads_needed,
            "lead_to_won_days": l2w, "leads_by": leads_by, "run_rate": assumptions["run_rate"],
            "as_of": assumptions["as_of"], "reasons": [m.render("en") for m in reason_messages],
            "reason_messages": reason_messages}


def demand_plans(con, scope: Scope = Scope(), figures: pd.DataFrame | None = None,
                 method: str = "configured", overrides: dict | None = None) -> list[dict]:
    """§8 for each target with a gap (> 0), in the targets' order."""
    figs = target_figures(con, scope, method) if figures is None else figures
    with_gap = figs[figs["gap"].fillna(0) > 0]
    if with_gap.empty:
        return []
    a = plan_assumptions(con, scope)
    return [demand_plan(a, float(row.gap), row.period, row.owner, overrides=overrides) for row in with_gap.itertuples()]


def plan_messages(plan: dict, currency: str = fmt.DEFAULT_CURRENCY) -> list[Message]:
    """The sentence a leader would say, as messages a page renders in the reader's language (see
    :func:`plan_sentence`); amounts in ``currency``."""
    when = PeriodTitle(plan["period"])
    gap = fmt.Money(plan["gap"], currency)
    if not plan["gap"]:
        return [msg("There is no gap to close in {when}: the target is already met.", when=when)]
    if plan["won_deals_needed"] is None:
        reasons = plan.get("reason_messages") or [str(r) for r in plan["reasons"]]
        return [msg("The {gap} gap in {when} cannot be turned into deals:", gap=gap, when=when), *reasons]
    wins = _About(plan["won_deals_needed"])
    need = msg_n("To close the {gap} gap in {when} we need about {wins} more win",
                 "To close the {gap} gap in {when} we need about {wins} more wins", wins.n, gap=gap, when=when,
                 wins=wins)
    opps = None if plan["opportunities_needed"] is None else _About(plan["opportunities_needed"])
    leads = None if plan["leads_needed"] is None else _About(plan["leads_needed"])
    by = msg(" created by {date}", date=_LongDate(plan["leads_by"])) if plan["leads_by"] else ""
    if opps and leads:
        alternatives = msg("~{opportunities} new opportunities or ~{leads} new leads{by}", opportunities=opps,
                           leads=leads, by=by)
    elif opps:
        alternatives = msg("~{opportunities} new opportunities", opportunities=opps)
    elif leads:
        alternatives = msg("~{leads} new leads{by}", leads=leads, by=by)
    else:
        alternatives = None
    rate = _About(plan["run_rate"])
    run_rate = msg_n("at today's run rate we create {rate} lead a month.",
                     "at today's run rate we create {rate} leads a month.", rate.n, rate=rate)
    first = (msg("{need}: {alternatives}; {run_rate}", need=need, alternatives=alternatives, run_rate=run_rate)
             if alternatives else msg("{need}; {run_rate}", need=need, run_rate=run_rate))
    out = [first]
    if plan["leads_by"] is not None and plan.get("as_of") and plan["leads_by"] < plan["as_of"]:
        out.append(msg("That date has passed: leads created from now on arrive too late on average for this period."))
    return out


def plan_sentence(plan: dict) -> str:
    """The sentence a leader would say, e.g. 'To close the $2.9M gap in June 2026 we need about 78
    more wins: ~150 new opportunities or ~780 new leads created by 12 March 2026; at today's run rate
    we create 420 a month.' (English, in dollars; :func:`plan_messages` for a page.)"""
    return render(plan_messages(plan), "en")


@dataclass(frozen=True)
class _About:
    """A count as a leader says it (:func:`_about`), the same in every language; ``n`` picks the
    plural form."""
    value: float

    @property
    def n(self) -> int:
        digits = _about(self.value).replace(",", "")
        return int(digits) if digits.isdigit() else 0

    def format(self, lang: str) -> str:
        return _about(self.value)


@dataclass(frozen=True)
class _LongDate:
    """'12 April 2026' / '2026年4月12日'."""
    value: date

    def format(self, lang: str) -> str:
        return f"{self.value:%-d %B %Y}" if lang == "en" else fmt.date(self.value, lang)


@dataclass(frozen=True)
class _IsoDate:
    """'2026-04-12' / '2026年4月12日'."""
    value: date

    def format(self, lang: str) -> str:
        return str(self.value) if lang == "en" else fmt.date(self.value, lang)


def _about(x: float) -> str:
    """A count as a leader says it: whole numbers; tens above 100 ('~780'); at least 1 when any is needed."""
    if x is None:
        return "?"
    x = float(x)
    if x <= 0:
        return "0"
    if x < 100:
        return f"{max(1, round(x)):,}"
    return f"{int(round(x, -1)):,}"


# ---------------------------------------------------------------------------------------------
# What the page's editors need (no arithmetic in pages)


def assumption_table(assumptions: dict, overrides: dict | None = None, lang: str = "en",
                     currency: str = fmt.DEFAULT_CURRENCY) -> pd.DataFrame:
    """The plan's assumptions, the history value beside the one in use (= the override, else the
    history). Columns: key, assumption (named in ``lang``), history, in_use. Rates are fractions."""
    _ = gettext_for(lang)
    o = overrides or {}
    steps = o.get("step_rates") or {}
    first = assumptions.get("win_rate_stage")
    rows = [("avg_won_amount", _("Average won deal ({symbol})", symbol=fmt.currency_symbol(currency, lang)),
             assumptions["avg_won_amount"]),
            ("win_rate", _("Win rate from {stage}", stage=first) if first else _("Win rate from the first stage"),
             assumptions["win_rate"]),
            ("lead_to_won_days", _("Lead-to-won time (days)"), assumptions["lead_to_won_days"])]
    out = [{"key": k, "assumption": label, "history": h, "in_use": o.get(k, h)} for k, label, h in rows]
    for s in assumptions["stages"][1:]:
        out.append({"key": f"step:{s['stage']}", "assumption": _("Step rate into {stage}", stage=s["stage"]),
                    "history": s["step_rate"], "in_use": steps.get(s["stage"], s["step_rate"])})
    return pd.DataFrame(out, columns=["key", "assumption", "history", "in_use"])


def overrides_from_table(table: pd.DataFrame) -> dict:
    """The what-if overrides an edited :func:`assumption_table` holds (values that differ from the
    history). Rates outside 0–1 (or a non-positive amount or time) are refused."""
    out: dict = {}
    steps: dict = {}
    problems = []
    for row in table.itertuples(index=False):
        if row.in_use is None or pd.isna(row.in_use):
            continue
        value = float(row.in_use)
        if row.history is not None and not pd.isna(row.history) and abs(value - float(row.history)) < 1e-12:
            continue
        is_rate = row.key == "win_rate" or row.key.startswith("step:")
        if (is_rate and not 0 < value <= 1) or (not is_rate and value <= 0):
            problems.append(
                msg("{assumption}: {value} is out of range (a rate between 0 and 1, e.g. 0.25 for 25%).",
                    assumption=row.assumption, value=f"{value:g}") if is_rate else
                msg("{assumption}: {value} is out of range (more than 0).", assumption=row.assumption,
                    value=f"{value:g}"))
            continue
        if row.key.startswith("step:"):
            steps[row.key[5:]] = value
        else:
            out[row.key] = value
    if problems:
        raise ConfigError(msg("The what-if was not applied: {problems}", problems=_sentences(problems)),
                          hint=msg("Correct the value, or put the history value back."))
    if steps:
        out["step_rates"] = steps
    return out


def targets_differ(stored: pd.DataFrame, edited: pd.DataFrame) -> bool:
    """Whether an edited targets grid differs from the stored targets (order aside)."""
    def key(df):
        rows = []
        for r in _as_frame(df, TARGET_COLUMNS).itertuples(index=False):
            if not (_clean(r.period) or _clean(r.owner) or _clean(r.amount)):
                continue           # a blank row added and left empty
            try:
                amount = float(r.amount)
            except (TypeError, ValueError):
                amount = _clean(r.amount)
            rows.append((_clean(r.period), _clean(r.owner), amount))
        return sorted(rows, key=repr)
    return key(stored) != key(edited)


def owner_choices(con) -> list[str]:
    """'' (everyone), then the teams, then every owner with deals or in a team."""
    team_map = _team_map(stored_teams(con))
    owners = known_owners(con) | {o for m in team_map.values() for o in m}
    return ["", *sorted(team_map), *sorted(owners - set(team_map))]


def period_choices(con, as_of: date) -> list[str]:
    """The tile periods (D's month, D's quarter, next quarter) first, then every stored target period."""
    tiles = tile_periods(as_of)
    rest = sorted(set(stored_targets(con)["period"]) - set(tiles))
    return tiles + rest


# ---------------------------------------------------------------------------------------------
# The manager's call: commit and best case per period, kept as history


CALL_COLUMNS = ["call_id", "period", "owner", "commit_amount", "best_case_amount", "note", "called_by", "called_at",
                "as_of", "weighted_amount", "p50", "actual"]


def record_call(con, period: str, owner: str = "", *, commit_amount: float | None, best_case_amount: float | None = None,
                note: str | None = None, scope: Scope = Scope(), method: str = "configured",
                actor: access.Actor | None = None, called_at: datetime | None = None) -> int:
    """Store the manager's call for ``period`` / ``owner`` (commit and best case amounts, a note),
    beside what the forecast said at the scope's as-of date: the expected amount (won + weighted)
    and the Monte Carlo P50 of won + simulated. ``actor``: who made the call (default: the current
    user); ``called_at``: when (default: now — a timestamp of the record, not a figure's date).
    Bumps the data version. Returns the call's id."""
    who = access.require(actor, "edit")
    label = parse_period(period).label
    problems = []
    for name, value in (("commit", commit_amount), ("best case", best_case_amount)):
        if value is not None and (not isinstance(value, (int, float)) or math.isnan(float(value)) or float(value) < 0):
            problems.append(msg("The commit amount {value} must be a number of 0 or more.", value=repr(value))
                            if name == "commit" else
                            msg("The best case amount {value} must be a number of 0 or more.", value=repr(value)))
    if commit_amount is None and best_case_amount is None:
        problems.append(msg("Give a commit or a best-case amount."))
    if commit_amount is not None and best_case_amount is not None and float(best_case_amount) < float(commit_amount):
        problems.append(msg("The best case is below the commit: the best case includes the commit."))
    if problems:
        raise ConfigError(msg("The call was not recorded: {problems}", problems=_sentences(problems)),
                          hint=msg("Correct the amounts and record it again."))
    r = resolve(con, scope)
    fig = _evaluate(con, scope.with_(as_of=r.as_of), pd.DataFrame({"period": [label], "owner": [_clean(owner)],
                                                                   "amount": [None]}),
                    method, forecast.MC_RUNS, forecast.MC_SEED).figures.iloc[0]
    with store.transaction(con):
        call_id = con.execute("SELECT nextval('forecast_call_seq')").fetchone()[0]
        con.execute("""INSERT INTO forecast_calls (call_id, period, owner, commit_amount, best_case_amount, note,
                                                   called_by, called_at, as_of, weighted_amount, p50)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [call_id, label, _clean(owner), None if commit_amount is None else float(commit_amount),
                     None if best_case_amount is None else float(best_case_amount), (note or "").strip() or None,
                     who.label, called_at or datetime.now().replace(microsecond=0), r.as_of,
                     float(fig["expected"]), float(fig["p50"])])
        version_before = store.data_version(con)
        store.bump_data_version(con)
        audit.record(con, who, "call", {"period": label, "owner": _clean(owner), "call_id": int(call_id)}, None,
                     {"commit": commit_amount, "best_case": best_case_amount, "note": note},
                     summary=(msg("Recorded a call for {period} {owner}", period=label, owner=_clean(owner))
                              if _clean(owner) else msg("Recorded a call for {period} everyone", period=label)),
                     data_version_before=version_before)
    return int(call_id)


def call_history(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Every recorded call, newest first, with ``actual``: what was won in its period for its
    owner as known at the scope's as-of date (§7 won). Columns: :data:`CALL_COLUMNS`."""
    calls = run(con, _named_sql("forecast_call_list"))
    if calls.empty:
        return pd.DataFrame(columns=CALL_COLUMNS)
    r = resolve(con, scope)
    team_map = _team_map(stored_teams(con))
    starts = [parse_period(p).start for p in calls["period"]]
    won = _won_by_day(con, r, min(starts))
    actual = []
    for row in calls.itertuples(index=False):
        p = parse_period(row.period)
        members = _members(row.owner, team_map)
        w = won[(won["won_day"] >= p.start) & (won["won_day"] <= min(p.end, r.as_of))]
        if members is not None:
            w = w[w["owner"].isin(list(members))]
        actual.append(float(w["won_amount"].sum()))
    return calls.assign(actual=actual)[CALL_COLUMNS]
