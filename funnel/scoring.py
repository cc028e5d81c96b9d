"""Lead scoring what-if (metrics.md §5): rules → one SQL expression, scenarios judged on history.

A rule is (attribute, operator, value, points, enabled). Rules compile to a single expression,
built as a syntax tree: the attribute must be a column of ``leads`` (whitelist), the operator one
of :data:`OPERATORS`, and every value is a bound parameter — a rule can never inject SQL. The
score goes into ``funnel/sql/scored_leads.sql``, which every figure's named query reads
(scenario_evaluation, sdr_load, score_distribution, gains_curve, flipped_leads, …); the text of
each is generated once per query shape (rules' shape, filters, outcome) and cached.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import lru_cache, reduce
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from sqlglot import exp

from . import access, audit, fmt, i18n, sqlcompose, store
from .errors import RuleError
from .i18n import N_, msg
from .query import Resolved, Scope, cohort_condition, resolve, run

OPERATORS = ("=", "!=", "in", "not in", ">", ">=", "<", "<=", "between", "contains", "is true", "is false")
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE", "REAL")
# Columns that are ids, owners or dates: never scoring inputs for the suggestion.
NOT_FEATURES = {"lead_id", "created_at", "sdr", "ae"}
# Words in a column name that suggest it is filled in after sales contact (it leaks the outcome).
LEAK_WORDS = ("disposition", "tag", "quality", "status", "reason", "stage", "outcome", "converted", "won",
              "lost", "last_activity", "last_notable", "profile")


@dataclass(frozen=True)
class Rule:
    attribute: str
    operator: str
    value: str | None
    points: float
    enabled: bool = True
    rule_group: str = "fit"


def _rule_error(message: i18n.Message, hint: i18n.Message | None = None) -> RuleError:
    """A RuleError worded in English (the CLI and the report print it) that also carries its
    messages (FunnelError keeps them), so a page says it in the reader's language."""
    return RuleError(message, hint=hint)


def _is_numeric_type(dtype: str) -> bool:
    return dtype.upper().startswith(NUMERIC_TYPES) or dtype.upper().startswith("DECIMAL")


def _to_float(value, rule_no: int, rule: Rule) -> float:
    try:
        x = float(str(value).strip())
    except (TypeError, ValueError):
        raise _rule_error(msg("Rule {n} ({attribute} {operator} {shown}): '{value}' is not a number.", n=str(rule_no),
                              attribute=str(rule.attribute), operator=str(rule.operator), shown=repr(value),
                              value=str(value)),
                          msg("Type a number such as 8 or 2.5.")) from None
    if math.isnan(x):
        raise _rule_error(msg("Rule {n}: the value is not a number.", n=str(rule_no)))
    return x


def _parse_bool(word: str) -> bool | None:
    w = str(word).strip().lower()
    if w in TRUE_WORDS:
        return True
    if w in FALSE_WORDS:
        return False
    return None


def coerce_rules(rows) -> list[Rule]:
    """Rules from dicts, tuples, Rule objects or a DataFrame (as the data editor returns them)."""
    if isinstance(rows, pd.DataFrame):
        rows = rows.to_dict("records")
    out: list[Rule] = []
    for i, r in enumerate(rows or [], start=1):
        if isinstance(r, Rule):
            op = " ".join(str(r.operator or "").lower().split())
            out.append(r if op == r.operator else replace(r, operator=op))
            continue
        if not isinstance(r, dict):
            r = dict(zip(("attribute", "operator", "value", "points", "enabled", "rule_group"), r))
        attr = r.get("attribute")
        if attr is None or (isinstance(attr, float) and math.isnan(attr)) or not str(attr).strip():
            continue  # an empty row left in the editor
        points = r.get("points")
        try:
            points = float(points)
            if math.isnan(points):
                raise ValueError
        except (TypeError, ValueError):
            raise _rule_error(msg("Rule {n} ({attribute}): points must be a number (negative is fine), not {points}.",
                                  n=str(i), attribute=str(attr), points=repr(points))) from None
        enabled = r.get("enabled", True)
        if isinstance(enabled, str):
            b = _parse_bool(enabled)
            if b is None and enabled.strip():
                # "Y" or "on" silently meaning "disabled" would change a score without a word.
                raise _rule_error(msg("Rule {n} ({attribute}): enabled must be true or false (or yes/no, 1/0), not "
                                      "{enabled}.", n=str(i), attribute=str(attr), enabled=repr(enabled)))
            enabled = True if b is None else b
        elif enabled is None or (isinstance(enabled, float) and math.isnan(enabled)):
            enabled = True
        value = r.get("value")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = None
        else:
            value = str(value)
        group = r.get("rule_group") or r.get("group") or "fit"
        if isinstance(group, float):
            group = "fit"
        operator = r.get("operator")
        if operator is None or (isinstance(operator, float) and math.isnan(operator)) or not str(operator).strip():
            raise _rule_error(msg("Rule {n} ({attribute}): pick an operator.", n=str(i), attribute=str(attr)),
                              msg("Use one of: {operators}.", operators=", ".join(OPERATORS)))
        out.append(Rule(str(attr).strip(), " ".join(str(operator).lower().split()), value, points,
                        bool(enabled), str(group)))
    return out


def unknown_attributes(con, rules) -> list[str]:
    """Attributes named by rules that the leads table does not have."""
    columns = store.lead_attribute_columns(con)
    return sorted({r.attribute for r in coerce_rules(rules) if r.attribute not in columns})


def applicable_rules(con, rules) -> list[Rule]:
    """The rules whose attribute exists: a rule on a column this data lacks matches no lead,
    just as a null attribute matches no rule (used by the report on foreign data)."""
    columns = store.lead_attribute_columns(con)
    return [r for r in coerce_rules(rules) if r.attribute in columns]


class _Term(NamedTuple):
    """One enabled rule's part of the score, ``CASE WHEN <test> THEN CAST($points AS DOUBLE) ELSE 0.0
    END``, as plain data: hashable, so a composed query's text is cached per rule shape (the values
    are bound, a new value is no new text). The test reads ``attribute`` (a column of leads) as
    ``reads`` says and compares it by ``op`` with ``operands``."""

    points: str                    # the parameter holding the rule's points
    attribute: str
    reads: str                     # "column", "text", "number" (text read as a number), "words"
    op: str                        # "=", "<>", ">", ">=", "<", "<=", "in", "not in", "between", "contains"
    operands: tuple                # ("param", name, cast type or None) or ("literal", TRUE / FALSE / 1 / 0)


def compile_rules(con, rules, prefix: str = "") -> tuple[tuple[_Term, ...], dict]:
    """The score of the enabled rules, checked against this data: its terms (the shape of the score
    expression, see :func:`score_expression`) and the values they bind (``$pts1``, ``$v1_0``, …,
    each name behind ``prefix``, so two scenarios can share a query).

    Raises RuleError naming the rule and what to change when an attribute, operator or value is
    not usable.
    """
    rules = coerce_rules(rules)
    columns = store.lead_attribute_columns(con)
    terms: list[_Term] = []
    params: dict = {}
    for n, rule in enumerate(rules, start=1):
        if rule.attribute not in columns:
            raise _rule_error(msg("Rule {n}: there is no lead attribute called '{attribute}'.", n=str(n),
                                  attribute=str(rule.attribute)),
                              msg("Pick one of: {columns}.", columns=", ".join(sorted(columns))))
        if rule.operator not in OPERATORS:
            raise _rule_error(msg("Rule {n} ({attribute}): unknown operator '{operator}'.", n=str(n),
                                  attribute=str(rule.attribute), operator=str(rule.operator)),
                              msg("Use one of: {operators}.", operators=", ".join(OPERATORS)))
        if not rule.enabled:
            continue
        reads, op, operands = _condition(n, rule, columns[rule.attribute], params, prefix)
        key = f"{prefix}pts{n}"
        params[key] = float(rule.points)
        terms.append(_Term(key, rule.attribute, reads, op, operands))
    return tuple(terms), params


def score_expression(terms: tuple[_Term, ...]) -> exp.Expression:
    """The score over leads aliased ``l``: the sum of the terms' points where their test holds.

    Columns are quoted whitelisted names (compile_rules checked them against the leads table) and
    every value is a bound parameter — a rule can never inject SQL.
    """
    if not terms:
        return exp.Literal.number("0.0")
    cases = [exp.Case(ifs=[exp.If(this=_test(t), true=exp.cast(sqlcompose.param(t.points), "DOUBLE"))],
                      default=exp.Literal.number("0.0")) for t in terms]
    # Rounded to 6 decimals: with fractional points a float sum such as 0.7 + 0.1 comes out as
    # 0.7999999999999999 and would miss a threshold of 0.8 it mathematically reaches (score == T
    # is above, §5); equal scores also group together for the AUC's ties.
    return exp.func("round", reduce(lambda a, b: exp.Add(this=a, expression=b), cases), exp.Literal.number(6),
                    dialect=sqlcompose.DIALECT)


_COMPARISONS = {"=": exp.EQ, "<>": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}


def _test(t: _Term) -> exp.Expression:
    """A term's test as a tree."""
    column = sqlcompose.col(t.attribute, "l")
    text = exp.cast(column, "VARCHAR")
    subject = {"column": lambda: column, "text": lambda: text,
               "number": lambda: exp.TryCast(this=text, to=exp.DataType.build("DOUBLE")),
               "words": lambda: exp.func("lower", exp.Trim(this=text), dialect=sqlcompose.DIALECT)}[t.reads]()
    values = [_operand(o) for o in t.operands]
    if t.op == "contains":
        return exp.GT(this=exp.func("strpos", exp.func("lower", subject, dialect=sqlcompose.DIALECT),
                                    exp.func("lower", values[0], dialect=sqlcompose.DIALECT),
                                    dialect=sqlcompose.DIALECT),
                      expression=exp.Literal.number(0))
    if t.op in ("in", "not in"):
        test = exp.In(this=subject, expressions=values)
        return exp.Not(this=test) if t.op == "not in" else test
    if t.op == "between":
        return exp.Between(this=subject, low=values[0], high=values[1])
    return _COMPARISONS[t.op](this=subject, expression=values[0])


def _operand(operand: tuple) -> exp.Expression:
    """A bound value (cast to its type when the column's type needs it), or a constant of the rule."""
    if operand[0] == "literal":
        if operand[1] in ("TRUE", "FALSE"):
            return exp.Boolean(this=operand[1] == "TRUE")
        return exp.Literal.number(operand[1])
    _, name, cast = operand
    return exp.cast(sqlcompose.param(name), cast) if cast else sqlcompose.param(name)


def _condition(n: int, rule: Rule, dtype: str, params: dict, prefix: str = "") -> tuple[str, str, tuple]:
    """(reads, op, operands) of rule ``n``'s test (see :class:`_Term`); binds its values into ``params``."""
    op, value = rule.operator, rule.value
    numeric = _is_numeric_type(dtype)
    boolean = dtype.upper() == "BOOLEAN"
    bound: list[tuple] = []

    def bind(v, cast: str | None = None) -> tuple:
        key = f"{prefix}v{n}_{len(bound)}"
        params[key] = v
        bound.append(("param", key, cast))
        return bound[-1]

    if op in ("is true", "is false"):
        words = TRUE_WORDS if op == "is true" else FALSE_WORDS
        if boolean:
            return "column", "=", (("literal", "TRUE" if op == "is true" else "FALSE"),)
        if numeric:
            return "column", "=", (("literal", "1" if op == "is true" else "0"),)
        return "words", "in", tuple(bind(w) for w in words)
    if value is None or str(value).strip() == "":
        raise _rule_error(msg("Rule {n} ({attribute} {operator}): a value is needed.", n=str(n),
                              attribute=str(rule.attribute), operator=str(op)),
                          msg("Fill in the value column, e.g. Enterprise or 100."))
    if op == "contains":
        return "text", "contains", (bind(str(value)),)
    if op in ("in", "not in"):
        items = [v.strip() for v in str(value).split("|")]
        if numeric:
            return "column", op, tuple(bind(_to_float(v, n, rule), "DOUBLE") for v in items)
        if boolean:
            vals = [_parse_bool(v) for v in items]
            if any(v is None for v in vals):
                raise _rule_error(msg("Rule {n} ({attribute}): use true or false for a yes/no attribute.", n=str(n),
                                      attribute=str(rule.attribute)))
            return "column", op, tuple(bind(v, "BOOLEAN") for v in vals)
        return "text", op, tuple(bind(v) for v in items)
    if op == "between":
        parts = [v.strip() for v in str(value).split("|")]
        if len(parts) != 2:
            raise _rule_error(msg("Rule {n} ({attribute} between): write the value as low|high, e.g. 50|200.",
                                  n=str(n), attribute=str(rule.attribute)))
        lo, hi = parts
        if numeric or (_numberish(lo) and _numberish(hi)):
            low = bind(_to_float(lo, n, rule), "DOUBLE")
            return ("column" if numeric else "number"), "between", (low, bind(_to_float(hi, n, rule), "DOUBLE"))
        return "text", "between", (bind(lo), bind(hi))
    sql_op = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}[op]
    if boolean:
        b = _parse_bool(value)
        if b is None:
            raise _rule_error(msg("Rule {n} ({attribute}): use true or false for a yes/no attribute, not '{value}'.",
                                  n=str(n), attribute=str(rule.attribute), value=str(value)))
        return "column", sql_op, (bind(b, "BOOLEAN"),)
    if numeric:
        return "column", sql_op, (bind(_to_float(value, n, rule), "DOUBLE"),)
    if op in ("=", "!="):
        return "text", sql_op, (bind(str(value)),)
    if _numberish(value):
        return "number", sql_op, (bind(_to_float(value, n, rule), "DOUBLE"),)
    return "text", sql_op, (bind(str(value)),)


def _numberish(v) -> bool:
    try:
        float(str(v).strip())
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# Stored rules, threshold and scenarios


@lru_cache(maxsize=None)
def _named_sql(name: str) -> str:
    """The text of a named query read as it stands (no part of it depends on a scope)."""
    return sqlcompose.to_sql(sqlcompose.query(name), name)


def stored_rules(con) -> list[Rule]:
    rows = con.execute(_named_sql("stored_rules")).fetchall()
    return [Rule(*r) for r in rows]


def stored_threshold(con) -> float:
    return float(store.get_setting(con, "mql_threshold", str(store.DEFAULT_MQL_THRESHOLD)))


def save_rules(con, rules, threshold: float | None = None, *, actor: access.Actor | None = None) -> None:
    """Make these the current production rules (validated first). Editors and admins only; the
    audit trail keeps the rules and threshold before and after."""
    who = access.require(actor, "edit")
    rules = coerce_rules(rules)
    compile_rules(con, rules)
    before, version_before = _rules_state(con), store.data_version(con)
    with store.transaction(con):
        _write_rules(con, rules, threshold)
        audit.record(con, who, "rules", None, before, _rules_state(con),
                     summary=_rules_summary(msg("Saved the scoring rules"), before, _rules_state(con)),
                     data_version_before=version_before)


def _rules_state(con) -> dict:
    """The production rules and threshold as plain data (the audit trail's before/after)."""
    rows = con.execute(_named_sql("stored_rules")).fetchall()
    keys = ("attribute", "operator", "value", "points", "enabled", "rule_group")
    return {"threshold": stored_threshold(con), "rules": [dict(zip(keys, r)) for r in rows]}


def _rules_summary(action: i18n.Message, before: dict, after: dict) -> i18n.Message:
    """The audit trail's sentence for a change of the production rules: what moved."""
    parts = []
    if before["threshold"] != after["threshold"]:
        parts.append(msg("threshold {before} → {after}", before=f"{before['threshold']:g}",
                         after=f"{after['threshold']:g}"))
    old = {json.dumps(r, sort_keys=True, default=str) for r in before["rules"]}
    new = {json.dumps(r, sort_keys=True, default=str) for r in after["rules"]}
    if new - old:
        parts.append(i18n.msg_n("{n} rule added or changed", "{n} rules added or changed", len(new - old),
                                n=len(new - old)))
    if old - new:
        parts.append(i18n.msg_n("{n} rule removed or changed", "{n} rules removed or changed", len(old - new),
                                n=len(old - new)))
    return msg("{action}: {changes}", action=action,
               changes=i18n.list_of(parts, "; ") if parts else msg("no change"))


def _write_rules(con, rules: list[Rule], threshold: float | None) -> None:
    """The writes of save_rules, for callers that already hold a transaction."""
    store.seed_scoring_rules(con, [(r.attribute, r.operator, r.value, r.points, r.enabled, r.rule_group) for r in rules])
    if threshold is not None:
        store.set_setting(con, "mql_threshold", str(float(threshold)))
    store.bump_data_version(con)


def rules_to_frame(rules) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in coerce_rules(rules)],
                        columns=["attribute", "operator", "value", "points", "enabled", "rule_group"])


def save_scenario(con, name: str, rules, threshold: float, *, make_current: bool = False,
                  actor: access.Actor | None = None) -> None:
    """Store a named scenario (same name: replaced). Editors and admins only; audited."""
    who = access.require(actor, "edit")
    name = (name or "").strip()
    if not name:
        raise _rule_error(msg("Give the scenario a name before saving it."))
    rules = coerce_rules(rules)
    compile_rules(con, rules)
    payload = json.dumps([asdict(r) for r in rules])
    old = con.execute(_named_sql("saved_scenario"), {"name": name}).fetchall()
    before = {"threshold": float(old[0][1]), "rules": json.loads(old[0][0])} if old else None
    with store.transaction(con):
        con.execute("DELETE FROM scoring_scenarios WHERE name = ?", [name])
        con.execute("INSERT INTO scoring_scenarios VALUES (?, ?, ?, ?, ?, FALSE)",
                    [name, payload, float(threshold), who.label, datetime.now().replace(microsecond=0)])
        audit.record(con, who, "scenario_saved", {"name": name}, before,
                     {"threshold": float(threshold), "rules": json.loads(payload)},
                     summary=(msg("Saved the scenario '{name}' (replacing the one of that name)", name=name) if old
                              else msg("Saved the scenario '{name}'", name=name)))
    if make_current:
        make_scenario_current(con, name, actor=who)


def list_scenarios(con) -> pd.DataFrame:
    return run(con, _named_sql("scenario_list"))


def load_scenario(con, name: str) -> tuple[list[Rule], float]:
    row = con.execute(_named_sql("saved_scenario"), {"name": name}).fetchone()
    if not row:
        raise _rule_error(msg("There is no saved scenario called '{name}'.", name=str(name)),
                          msg("Pick one from the list of saved scenarios."))
    return [Rule(**d) for d in json.loads(row[0])], float(row[1])


def make_scenario_current(con, name: str, *, actor: access.Actor | None = None) -> None:
    """Copy a saved scenario into the production rules and threshold and mark it current.

    One transaction: the rules, the threshold and the "current" mark change together or not at all.
    Editors and admins only; the audit trail keeps the production rules before and after.
    """
    who = access.require(actor, "edit")
    rules, threshold = load_scenario(con, name)
    compile_rules(con, rules)
    before, version_before = _rules_state(con), store.data_version(con)
    with store.transaction(con):
        _write_rules(con, rules, threshold)
        con.execute("UPDATE scoring_scenarios SET is_current = (name = ?)", [name])
        after = _rules_state(con)
        audit.record(con, who, "scenario_current", {"name": name}, before, after,
                     summary=_rules_summary(msg("Made the scenario '{name}' current", name=name), before, after),
                     data_version_before=version_before)


def rules_from_csv(path: str | Path) -> list[Rule]:
    """Rules from a CSV with columns attribute, operator, value, points, enabled."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise _rule_error(msg("Cannot read the rules file {path}: {error}.", path=str(path), error=str(e.strerror or e)),
                          msg("Check the path given to --rules.")) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"attribute", "operator", "points"} - set(reader.fieldnames or [])
    if missing:
        raise _rule_error(msg("{file}: the rules file lacks the column(s) {columns}.", file=Path(path).name,
                              columns=", ".join(sorted(missing))),
                          msg("The header must be: {header}", header="attribute,operator,value,points,enabled"))
    return coerce_rules(list(reader))


# ---------------------------------------------------------------------------------------------
# Evaluation


def _outcome_position(con, outcome_stage: str) -> int:
    for s in store.funnel_stages(con, "lead"):
        if s.stage == outcome_stage:
            return int(s.position)
    names = [s.stage for s in store.funnel_stages(con, "lead")]
    raise _rule_error(msg("'{stage}' is not a lead funnel stage.", stage=str(outcome_stage)),
                      msg("Use one of: {stages}.", stages=i18n.list_of(names) if names else ""))


def outcome_stages(con) -> list[str]:
    """The stages a scenario can be judged against: every positioned lead stage after the first."""
    return [s.stage for s in store.funnel_stages(con, "lead")][1:]


#: Buckets of the hash sample: a lead is in a sample of rate k / SAMPLE_BUCKETS when its id hashes
#: below k — the same leads on every run and on any number of threads (a reservoir sample with a
#: seed is repeatable only on one thread, and it has to read every lead first).
SAMPLE_BUCKETS = 10_000


class _Shape(NamedTuple):
    """What decides the text of a query over scored_leads (values aside): the cache key."""

    score: tuple[_Term, ...]
    draft: tuple[_Term, ...] | None        # the draft's terms beside the score (flipped_leads)
    filter_params: tuple                   # Resolved.filter_params: the dimension filters
    outcome: str                           # "reach" (join lead_reach), "all" (the first stage), "none"
    sampled: bool                          # keep the hash sample ($sample_buckets)
    attributes: tuple[str, ...]            # lead columns carried as f_0, f_1, … (leak check, fit)


def _scored_leads(shape: _Shape) -> exp.Select:
    """The body of scored_leads (funnel/sql/scored_leads.sql) for one query shape."""
    body = sqlcompose.query("scored_leads")
    sqlcompose.replace_projection(body, "score", score_expression(shape.score))
    if shape.draft is not None:
        sqlcompose.replace_projection(body, "draft_score", score_expression(shape.draft))
    if shape.outcome != "reach":
        # no outcome asked (0), or the first stage, which every cohort lead reaches (1): no join
        sqlcompose.replace_projection(body, "outcome", exp.Literal.number(1 if shape.outcome == "all" else 0))
        body.set("joins", None)
    conditions = [cohort_condition(shape.filter_params, "l")]
    if shape.sampled:
        lead_key = exp.func("hash", exp.cast(sqlcompose.col("lead_id", "l"), "VARCHAR"), dialect=sqlcompose.DIALECT)
        conditions.append(exp.LT(this=exp.Mod(this=lead_key, expression=exp.Literal.number(SAMPLE_BUCKETS)),
                                 expression=sqlcompose.param("sample_buckets")))
    body.where(*conditions, append=False, copy=False)
    for i, column in enumerate(shape.attributes):
        body.select(exp.alias_(sqlcompose.col(column, "l"), f"f_{i}"), copy=False)
    return body


def _blank_shares(q: exp.Select, attributes: tuple[str, ...]) -> None:
    """attribute_blanks' projections: pos_i / neg_i, the share of blanks of f_i with / without the outcome."""
    shares = []
    for i in range(len(attributes)):
        for name, outcome in (("pos", 1), ("neg", 0)):
            blank = exp.Case(ifs=[exp.If(this=exp.column(f"f_{i}").is_(exp.null()), true=exp.Literal.number("1.0"))],
                             default=exp.Literal.number("0.0"))
            shares.append(exp.alias_(exp.Filter(this=exp.func("avg", blank, dialect=sqlcompose.DIALECT),
                                                expression=exp.Where(this=exp.column("outcome").eq(outcome))),
                                     f"{name}_{i}"))
    q.set("expressions", shares)


def _fit_columns(q: exp.Select, attributes: tuple[str, ...]) -> None:
    """scoring_fit_rows' attribute columns, under their own names: f_i AS "column"."""
    q.select(*(exp.alias_(exp.column(f"f_{i}"), exp.to_identifier(c, quoted=True)) for i, c in enumerate(attributes)),
             copy=False)


#: Queries whose projections depend on the attributes carried.
_WITH_ATTRIBUTES = {"attribute_blanks": _blank_shares, "scoring_fit_rows": _fit_columns}


@lru_cache(maxsize=256)
def _scoring_sql(name: str, shape: _Shape, *, limited: bool = False, into_table: bool = False) -> str:
    """The text of a named scoring query over scored_leads for one query shape; ``limited`` adds
    LIMIT $limit, ``into_table`` makes it a temporary table of the query's name."""
    q = sqlcompose.with_cte(sqlcompose.query(name), "scored_leads", _scored_leads(shape))
    if name in _WITH_ATTRIBUTES:
        _WITH_ATTRIBUTES[name](q, shape.attributes)
    if limited:
        q = q.limit(sqlcompose.param("limit"), copy=False)
    if into_table:
        q = exp.Create(this=exp.to_table(name), kind="TABLE", expression=q,
                       properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
    return sqlcompose.to_sql(q, name)


@lru_cache(maxsize=64)
def _on_table_sql(name: str, table: str) -> str:
    """The text of a named scoring query reading the temporary table ``table`` (made by
    :func:`_scoring_sql` with ``into_table``) instead of the CTE of that name: that CTE, and the
    ones only it read, are left out, so the name resolves to the table."""
    q = sqlcompose.query(name)
    kept = [c for c in q.args["with_"].expressions if c.alias_or_name != table]
    q.set("with_", None)
    outer = {t.name for t in q.find_all(exp.Table)}
    while True:   # drop the CTEs nothing left reads, until none is dropped
        read = outer | {t.name for c in kept for t in c.this.find_all(exp.Table)}
        still = [c for c in kept if c.alias_or_name in read]
        if len(still) == len(kept):
            break
        kept = still
    if kept:
        q.set("with_", exp.With(expressions=kept))
    return sqlcompose.to_sql(q, name)


def _scoring_query(con, r: Resolved, name: str, rules, outcome_stage: str | None, *, draft=None,
                   sample: int | None = None, attributes: tuple[str, ...] = (), limited: bool = False,
                   into_table: bool = False) -> tuple[str, dict]:
    """(text, parameters) of the named scoring query for the cohort's leads scored by ``rules``.

    outcome = 1 when the lead reached ``outcome_stage`` (or a later positioned stage) by D, within
    the conversion window if one is set (definition 1). ``outcome_stage=None``: no outcome is
    needed (0 for every lead), so the lead_reach join is skipped. ``draft``: a second scenario's
    rules, scored as draft_score in the same scan. ``attributes``: lead columns (already checked
    against the table) carried as f_0, f_1, …. ``sample`` (from :func:`_sample_rate`) keeps only
    the leads whose id hashes into that many of SAMPLE_BUCKETS buckets.
    """
    draft_terms, draft_params = compile_rules(con, draft, prefix="d_") if draft is not None else (None, {})
    terms, rule_params = compile_rules(con, rules)
    store.ensure_derived(con)
    params = {**r.params, **rule_params, **draft_params}
    outcome = "none"
    if outcome_stage is not None:
        pos = _outcome_position(con, outcome_stage)
        first = min(s.position for s in store.funnel_stages(con, "lead"))
        outcome = "all" if pos == first else "reach"
        if outcome == "reach":
            params["outcome_position"] = pos
    if sample is not None:
        params["sample_buckets"] = int(sample)
    shape = _Shape(terms, draft_terms, r.filter_params, outcome, sample is not None, tuple(attributes))
    return _scoring_sql(name, shape, limited=limited, into_table=into_table), params


def _sample_rate(con, r: Resolved, max_rows: int | None) -> int | None:
    """Hash buckets to keep for a sample of about ``max_rows`` cohort leads; None: keep every lead."""
    if max_rows is None:
        return None
    q, params = _scoring_query(con, r, "scored_lead_count", [], None)
    n = int(run(con, q, params)["n"].iloc[0])
    return None if n <= max_rows else max(1, SAMPLE_BUCKETS * max_rows // n)


def _weeks(r: Resolved) -> float:
    """Length of the cohort's date range in weeks (whole days, inclusive, not after D)."""
    return max(((min(r.date_to, r.as_of) - r.date_from).days + 1) / 7.0, 1 / 7.0)


def score_leads(con, rules, scope: Scope = Scope(), outcome_stage: str = "SQL", limit: int | None = None) -> pd.DataFrame:
    """lead_id, created_at, sdr, score, outcome for the cohort (highest score first)."""
    r = resolve(con, scope)
    q, params = _scoring_query(con, r, "score_leads", rules, outcome_stage, limited=bool(limit))
    return run(con, q, {**params, "limit": int(limit)} if limit else params)


def evaluate_scenario(con, rules, threshold: float, scope: Scope = Scope(), outcome_stage: str = "SQL") -> dict:
    """leads, above, with_outcome, true_positives, precision, recall, auc, weeks, mqls_per_week,
    sdrs, mqls_per_sdr_per_week, outcome_rate.

    One scan of the cohort's leads groups them by score; every figure comes from that small
    table. AUC is the Mann–Whitney statistic: over all (outcome, no outcome) pairs, the share in
    which the lead with the outcome scores higher, ties counted half.
    """
    r = resolve(con, scope)
    q, params = _scoring_query(con, r, "scenario_evaluation", rules, outcome_stage)
    return _evaluation(con, r, q, params, threshold, outcome_stage)


def _evaluation(con, r: Resolved, q: str, params: dict, threshold: float, outcome_stage: str | None,
                own_cursor: bool = True) -> dict:
    row = run(con, q, {**params, "threshold": float(threshold)}, own_cursor=own_cursor).iloc[0]
    leads, above, pos, tp = int(row["leads"]), int(row["above"]), int(row["with_outcome"]), int(row["true_positives"])
    neg = leads - pos
    weeks = _weeks(r)
    sdrs = int(row["sdrs"])
    return {
        "threshold": float(threshold), "outcome_stage": outcome_stage, "leads": leads, "above": above,
        "with_outcome": pos, "true_positives": tp,
        "precision": tp / above if above else None,
        "recall": tp / pos if pos else None,
        "auc": float(row["auc_numerator"]) / (pos * neg) if pos and neg else None,
        "outcome_rate": pos / leads if leads else None,
        "weeks": weeks, "mqls_per_week": above / weeks, "sdrs": sdrs,
        "mqls_per_sdr_per_week": above / weeks / sdrs if sdrs else None,
    }


def scenario_figures(con, rules, threshold: float, scope: Scope = Scope(), outcome_stage: str = "SQL") -> dict:
    """Everything the Lead scoring page shows for one scenario, from one scan of the leads:
    ``evaluation`` (:func:`evaluate_scenario`), ``sdr_load``, ``distribution``
    (:func:`score_distribution`) and ``gains`` (:func:`gains_curve`).

    The scan's small grouped table (scenario_groups) is kept in a temporary table of that name on
    a private cursor, and the four figures are computed from it in SQL — a quarter of the time of
    four scans.
    """
    r = resolve(con, scope)
    q, params = _scoring_query(con, r, "scenario_groups", rules, outcome_stage, into_table=True)
    cur = con.cursor()
    try:
        run(cur, q, params, own_cursor=False)
        return {"evaluation": _evaluation(cur, r, _on_table_sql("scenario_evaluation", "scenario_groups"), {},
                                          threshold, outcome_stage, own_cursor=False),
                "sdr_load": _sdr_load(cur, r, _on_table_sql("sdr_load", "scenario_groups"), {}, threshold,
                                      own_cursor=False),
                "distribution": _distribution(cur, _on_table_sql("score_distribution", "scenario_groups"), {},
                                              own_cursor=False),
                "gains": _gains(cur, _on_table_sql("gains_curve", "scenario_groups"), {}, own_cursor=False)}
    finally:
        cur.close()


COMPARE_METRICS = ("above", "mqls_per_week", "mqls_per_sdr_per_week", "true_positives", "precision", "recall", "auc")


def compare_scenarios(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL") -> pd.DataFrame:
    """Side by side: one row per metric, columns current, draft, change. Each scenario is (rules, threshold)."""
    a = evaluate_scenario(con, current[0], current[1], scope, outcome_stage)
    b = evaluate_scenario(con, draft[0], draft[1], scope, outcome_stage)
    rows = []
    for k in COMPARE_METRICS:
        va, vb = a[k], b[k]
        rows.append({"metric": k, "current": va, "draft": vb,
                     "change": (vb - va) if va is not None and vb is not None else None})
    return pd.DataFrame(rows)


def sdr_load(con, rules, threshold: float, scope: Scope = Scope()) -> pd.DataFrame:
    """MQLs per week for each SDR under a scenario: sdr, mqls, mqls_per_week.

    Leads without an SDR are one row, '(unassigned)'; the rows add up to the scenario's MQLs.
    """
    r = resolve(con, scope)
    q, params = _scoring_query(con, r, "sdr_load", rules, None)
    return _sdr_load(con, r, q, params, threshold)


def _sdr_load(con, r: Resolved, q: str, params: dict, threshold: float, own_cursor: bool = True) -> pd.DataFrame:
    df = run(con, q, {**params, "threshold": float(threshold), "weeks": _weeks(r)}, own_cursor=own_cursor)
    df["mqls"] = df["mqls"].astype("int64")
    return df


def score_distribution(con, rules, scope: Scope = Scope(), outcome_stage: str = "SQL", bins: int = 20) -> pd.DataFrame:
    """Histogram of scores by outcome: score_bin (lower edge), bin_width, outcome (0/1), leads,
    share_of_group (leads / all leads with that outcome).

    Bin edges are multiples of a round width (1, 2, 2.5, 5 × 10^k, at most about ``bins`` bins),
    so with whole-number points every bin holds the same number of possible scores and a
    threshold on a round number falls on an edge. One scan: leads are grouped by score first.
    """
    r = resolve(con, scope)
    q, params = _scoring_query(con, r, "score_distribution", rules, outcome_stage)
    return _distribution(con, q, params, bins)


def _distribution(con, q: str, params: dict, bins: int = 20, own_cursor: bool = True) -> pd.DataFrame:
    return run(con, q, {**params, "bins": float(bins)}, own_cursor=own_cursor)


def gains_curve(con, rules, scope: Scope = Scope(), outcome_stage: str = "SQL", points: int = 200) -> pd.DataFrame:
    """Cumulative gains, one row per score cut-off (highest first): score, leads_at_or_above,
    share_of_leads, share_of_outcomes (share of all leads with the outcome that score at or above
    it), lift = share_of_outcomes / share_of_leads.

    Leads with equal scores enter together (no arbitrary order inside a tie, which would invent
    ranking the rules do not make). With many distinct scores, at most about ``points`` cut-offs
    are kept (the lowest score of each equal slice of leads), always including the last one.
    """
    r = resolve(con, scope)
    q, params = _scoring_query(con, r, "gains_curve", rules, outcome_stage)
    return _gains(con, q, params, points)


def _gains(con, q: str, params: dict, points: int = 200, own_cursor: bool = True) -> pd.DataFrame:
    return run(con, q, {**params, "points": int(points)}, own_cursor=own_cursor)


def _flips_query(con, r: Resolved, name: str, current: tuple, draft: tuple, outcome_stage: str, *,
                 into_table: bool = False) -> tuple[str, dict]:
    """A query over flipped_leads (cohort leads on different sides of the threshold under the two
    scenarios): the current rules score, the draft's rules draft_score, in one scan."""
    q, params = _scoring_query(con, r, name, current[0], outcome_stage, draft=draft[0], into_table=into_table)
    return q, {**params, "t1": float(current[1]), "t2": float(draft[1])}


def flipped_leads(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL",
                  limit: int = 2000) -> pd.DataFrame:
    """Leads that become MQL (or stop being MQL) under the draft, with their actual outcome.

    Columns lead_id, created_at, channel, segment, sdr, current_score, draft_score, change,
    reached_outcome; at most ``limit`` rows (see :func:`flip_counts` for the totals).
    """
    r = resolve(con, scope)
    q, params = _flips_query(con, r, "flip_list", current, draft, outcome_stage)
    return _flip_list(con, q, params, limit)


def _flip_list(con, q: str, params: dict, limit: int, own_cursor: bool = True) -> pd.DataFrame:
    return run(con, q, {**params, "limit": int(limit)}, own_cursor=own_cursor)


def flip_counts(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL") -> dict:
    """How many leads flip each way and how many of those reached the outcome:
    ``{"becomes MQL": {"leads", "reached_outcome"}, "stops being MQL": {...}}``."""
    r = resolve(con, scope)
    q, params = _flips_query(con, r, "flip_counts", current, draft, outcome_stage)
    return _flip_counts(con, q, params)


def _flip_counts(con, q: str, params: dict, own_cursor: bool = True) -> dict:
    df = run(con, q, params, own_cursor=own_cursor)
    out = {c: {"leads": 0, "reached_outcome": 0} for c in ("becomes MQL", "stops being MQL")}
    for row in df.itertuples():
        out[row.change] = {"leads": int(row.leads), "reached_outcome": int(row.reached)}
    return out


def flips(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL",
          limit: int = 2000) -> dict:
    """``{"counts": flip_counts(...), "leads": flipped_leads(...)}`` from one scan of the leads (the
    flipped leads are kept in a temporary table flipped_leads of a private cursor) — what the page
    shows."""
    r = resolve(con, scope)
    q, params = _flips_query(con, r, "flipped_leads", current, draft, outcome_stage, into_table=True)
    cur = con.cursor()
    try:
        run(cur, q, params, own_cursor=False)
        return {"counts": _flip_counts(cur, _on_table_sql("flip_counts", "flipped_leads"), {}, own_cursor=False),
                "leads": _flip_list(cur, _on_table_sql("flip_list", "flipped_leads"), {}, limit, own_cursor=False)}
    finally:
        cur.close()


def threshold_for_volume(con, rules, mqls: int, scope: Scope = Scope()) -> float:
    """The score cut-off T whose MQL count (leads with score >= T) is closest to ``mqls``
    (the higher T on a tie): used to set a threshold for suggested rules that keeps today's volume."""
    r = resolve(con, scope)
    q, params = _scoring_query(con, r, "threshold_for_volume", rules, None)
    df = run(con, q, {**params, "target": int(mqls)})
    return float(df["score"].iloc[0]) if len(df) else 0.0


# ---------------------------------------------------------------------------------------------
# Helpers for the page (pure, or one small query)


def usable_attributes(con) -> pd.DataFrame:
    """Lead columns a rule can score on: attribute, kind ('number', 'yes/no', 'text'), filled
    (leads with a value). The id and creation time are not attributes; empty columns are left out."""
    columns = {c: t for c, t in store.lead_attribute_columns(con).items() if c not in ("lead_id", "created_at")}
    if not columns:
        return pd.DataFrame(columns=["attribute", "kind", "filled"])
    row = con.execute(_fill_sql(tuple(columns))).fetchone()
    rows = []
    for (c, t), n in zip(columns.items(), row):
        if n:
            kind = "yes/no" if t.upper() == "BOOLEAN" else "number" if _is_numeric_type(t) else "text"
            rows.append({"attribute": c, "kind": kind, "filled": int(n)})
    return pd.DataFrame(rows, columns=["attribute", "kind", "filled"])


@lru_cache(maxsize=16)
def _fill_sql(columns: tuple[str, ...]) -> str:
    """attribute_fill's text with one count per column (names from the leads table's own list)."""
    q = sqlcompose.query("attribute_fill")
    q.set("expressions", [exp.alias_(exp.func("count", sqlcompose.col(c, "l"), dialect=sqlcompose.DIALECT), f"c{i}")
                          for i, c in enumerate(columns)])
    return sqlcompose.to_sql(q, "attribute_fill")


def score_range(rules) -> tuple[float, float]:
    """The lowest and highest score the enabled rules can give (sum of negative / positive points)."""
    rules = [r for r in coerce_rules(rules) if r.enabled]
    return (float(sum(r.points for r in rules if r.points < 0)), float(sum(r.points for r in rules if r.points > 0)))


def validate_rules(con, rules) -> list[Rule]:
    """The rules, checked against this data (attribute, operator, value): RuleError if not usable."""
    rules = coerce_rules(rules)
    compile_rules(con, rules)
    return rules


def threshold_bounds(*scenarios: tuple) -> tuple[float, float]:
    """A slider range holding every score the scenarios' rules can give and their thresholds,
    widened to multiples of 10 (at least 0–10). Each scenario is (rules, threshold)."""
    lows, highs = [0.0], [10.0]
    for rules, threshold in scenarios:
        lo, hi = score_range(rules)
        lows += [lo, float(threshold)]
        highs += [hi, float(threshold)]
    return float(math.floor(min(lows) / 10) * 10), float(math.ceil(max(highs) / 10) * 10)


def default_capacity(load: pd.DataFrame) -> float:
    """A starting SDR capacity (MQLs per SDR per week): the busiest SDR's load rounded up to a whole
    number, so the current rules start within capacity and the draft shows what changes."""
    if load is None or load.empty:
        return 10.0
    assigned = load[load["sdr"] != "(unassigned)"]["mqls_per_week"]
    top = float(assigned.max()) if len(assigned) else 0.0
    return float(max(1, math.ceil(top))) if not math.isnan(top) else 10.0


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def explain_draft(current: tuple, draft: tuple, a: dict, b: dict) -> str:
    """One sentence saying what the draft does against the current scenario, in English (the page
    renders :func:`explain_draft_message` in its reader's language).

    ``current`` / ``draft`` are (rules, threshold); ``a`` / ``b`` their :func:`evaluate_scenario`
    results. E.g. "Raising the threshold to 60 cuts MQLs by 31% (−42/week) and keeps 88% of the
    MQLs that reached SQL."
    """
    return explain_draft_message(current, draft, a, b).render("en")


# The verb agrees with the subject: "Raising the threshold … cuts", "The draft rules … cut". One
# message per form (Chinese has one form, so both read alike there).
_VOLUME = {
    "same": (N_("keeps MQL volume the same ({per_week}/week)"), N_("keep MQL volume the same ({per_week}/week)")),
    "from_none": (N_("raises MQLs from none to {per_week}/week"), N_("raise MQLs from none to {per_week}/week")),
    "raises": (N_("raises MQLs by {share} ({change}/week)"), N_("raise MQLs by {share} ({change}/week)")),
    "cuts": (N_("cuts MQLs by {share} ({change}/week)"), N_("cut MQLs by {share} ({change}/week)")),
}
_QUALITY = {
    "found_new": (N_("finds {n} MQLs that reached {stage} where the current scoring finds none"),
                  N_("find {n} MQLs that reached {stage} where the current scoring finds none")),
    "keeps_all": (N_("keeps all {n} MQLs that reached {stage}"), N_("keep all {n} MQLs that reached {stage}")),
    "keeps_share": (N_("keeps {share} of the MQLs that reached {stage}"),
                    N_("keep {share} of the MQLs that reached {stage}")),
    "finds_more": (N_("finds {share} more MQLs that reached {stage}"),
                   N_("find {share} more MQLs that reached {stage}")),
}


def explain_draft_message(current: tuple, draft: tuple, a: dict, b: dict) -> i18n.Message:
    """:func:`explain_draft`'s sentence as a :class:`funnel.i18n.Message` (figures formatted when
    a page renders it)."""
    same_rules = coerce_rules(current[0]) == coerce_rules(draft[0])
    t1, t2 = float(current[1]), float(draft[1])
    stage = b.get("outcome_stage") or msg("the outcome stage")
    if same_rules and t1 == t2:
        per_week = _num(round(b["mqls_per_week"], 1))
        if b.get("precision") is not None:
            return msg("The draft is the same as the current scoring ({per_week} MQLs a week, {share} of which "
                       "reached {stage}): edit the rules or move the threshold to see what a change would do.",
                       per_week=per_week, share=fmt.Pct(b["precision"]), stage=stage)
        return msg("The draft is the same as the current scoring ({per_week} MQLs a week): edit the rules or move "
                   "the threshold to see what a change would do.", per_week=per_week)
    if same_rules:
        subject = (msg("Raising the threshold to {threshold}", threshold=_num(t2)) if t2 > t1
                   else msg("Lowering the threshold to {threshold}", threshold=_num(t2)))
        plural = False
    elif t1 == t2:
        subject, plural = msg("The draft rules"), True
    else:
        subject, plural = msg("The draft rules with a threshold of {threshold}", threshold=_num(t2)), True

    def verb(forms: tuple[str, str], **params) -> i18n.Message:
        return msg(forms[1] if plural else forms[0], **params)

    w1, w2 = a["mqls_per_week"], b["mqls_per_week"]
    dw = w2 - w1
    if a["above"] == b["above"]:
        volume = verb(_VOLUME["same"], per_week=_num(round(w2, 1)))
    elif a["above"] == 0:
        volume = verb(_VOLUME["from_none"], per_week=_num(round(w2, 1)))
    else:
        sign = "+" if dw > 0 else "−"
        volume = verb(_VOLUME["raises" if dw > 0 else "cuts"],
                      share=fmt.Pct(abs(b["above"] - a["above"]) / a["above"]),
                      change=f"{sign}{_num(round(abs(dw), 1))}")
    tp1, tp2 = a["true_positives"], b["true_positives"]
    if tp1 == 0 and tp2 == 0:
        quality = msg("no MQL in either scenario reached {stage}", stage=stage)
    elif tp1 == 0:
        quality = verb(_QUALITY["found_new"], n=fmt.Count(tp2), stage=stage)
    elif tp2 == tp1:
        quality = verb(_QUALITY["keeps_all"], n=fmt.Count(tp1), stage=stage)
    elif tp2 < tp1:
        quality = verb(_QUALITY["keeps_share"], share=fmt.Pct(tp2 / tp1), stage=stage)
    else:
        quality = verb(_QUALITY["finds_more"], share=fmt.Pct((tp2 - tp1) / tp1), stage=stage)
    if a.get("precision") is not None and b.get("precision") is not None:
        return msg("{subject} {volume} and {quality} (precision {before} → {after}).", subject=subject,
                   volume=volume, quality=quality, before=fmt.Pct(a["precision"]), after=fmt.Pct(b["precision"]))
    return msg("{subject} {volume} and {quality}.", subject=subject, volume=volume, quality=quality)


def describe_flips(counts: dict, outcome_stage: str = "SQL") -> str:
    """One sentence from :func:`flip_counts`: how many leads change side, and how many of those
    reached the outcome stage — in English (pages render :func:`describe_flips_message`)."""
    return describe_flips_message(counts, outcome_stage).render("en")


def describe_flips_message(counts: dict, outcome_stage: str = "SQL") -> i18n.Message:
    """:func:`describe_flips`'s sentence as a :class:`funnel.i18n.Message`."""
    up, down = counts["becomes MQL"], counts["stops being MQL"]

    def part(c: dict, forms: tuple[str, str, str, str]) -> i18n.Message:
        n, k = c["leads"], c["reached_outcome"]
        if n == 0:
            return msg(forms[0])
        if n == 1:
            return msg(forms[1] if k else forms[2], stage=outcome_stage)
        return msg(forms[3], n=fmt.Count(n), k=fmt.Count(k), stage=outcome_stage)
    return msg("{becomes} and {stops}.", becomes=part(up, _BECOMES), stops=part(down, _STOPS))


# What a flip sentence says for none, one that reached the outcome, one that did not, and several.
_BECOMES = (N_("No lead would become an MQL"), N_("1 lead would become an MQL (it reached {stage})"),
            N_("1 lead would become an MQL (it did not reach {stage})"),
            N_("{n} leads would become an MQL ({k} of them reached {stage})"))
_STOPS = (N_("no lead would stop being an MQL"), N_("1 lead would stop being an MQL (it reached {stage})"),
          N_("1 lead would stop being an MQL (it did not reach {stage})"),
          N_("{n} leads would stop being an MQL ({k} of them reached {stage})"))


# ---------------------------------------------------------------------------------------------
# Suggest rules from history


def leak_suspects(con, scope: Scope = Scope(), outcome_stage: str = "SQL", max_rows: int | None = None) -> list[str]:
    """Attribute columns that look filled in only after contact (by name, or blank almost only
    for leads without the outcome). ``max_rows``: judge on a fixed hash sample of about that many
    cohort leads (None: every lead)."""
    suspects, rest = _leak_candidates(store.lead_attribute_columns(con))
    if not rest:
        return suspects
    r = resolve(con, scope)
    # Share of blanks among leads with and without the outcome, every column in one scan.
    q, params = _scoring_query(con, r, "attribute_blanks", [], outcome_stage, attributes=tuple(rest),
                               sample=_sample_rate(con, r, max_rows))
    row = run(con, q, params).iloc[0]
    for i, c in enumerate(rest):
        if _blank_mostly_without_outcome(row[f"pos_{i}"], row[f"neg_{i}"]):
            suspects.append(c)
    return suspects


def _leak_candidates(columns) -> tuple[list[str], list[str]]:
    """(columns named like a post-contact field, the other attribute columns to check by blanks)."""
    cols = [c for c in columns if c not in NOT_FEATURES and c not in store.LEAD_CORE_COLUMNS]
    named = [c for c in cols if any(w in c.lower() for w in LEAK_WORDS)]
    return named, [c for c in cols if c not in named]


def _blank_mostly_without_outcome(blank_with, blank_without) -> bool:
    """The leak test on blanks: the share of blanks differs by more than half between leads with
    and without the outcome (a field filled in only once sales worked the lead)."""
    return bool(pd.notna(blank_with) and pd.notna(blank_without) and abs(blank_without - blank_with) > 0.5)


# A column named like an identifier (lead_number, prospect_id, record_no, …): its values name a
# lead, they do not describe it. Judged on the last word of the name, so number_of_employees stays.
ID_NAME = re.compile(r"(?:^|_)(?:id|ids|uuid|guid|key|number|num|nr|no)$")
MIN_ROWS_FOR_UNIQUE = 20   # below this, "every value differs" says nothing about a column


def _identifier_columns(df: pd.DataFrame, columns: dict[str, str], feats: list[str]) -> list[str]:
    """Feature columns that identify a lead rather than describe it: named like an id, or text /
    whole-number columns whose every value differs (unique per lead; decimals such as averages
    are left alone)."""
    out = []
    for c in feats:
        if ID_NAME.search(c.lower()):
            out.append(c)
            continue
        dtype = columns[c].upper()
        if dtype in ("DOUBLE", "FLOAT", "REAL", "BOOLEAN") or dtype.startswith("DECIMAL"):
            continue
        s = df[c].dropna()
        if len(s) >= MIN_ROWS_FOR_UNIQUE and s.nunique() == len(s):
            out.append(c)
    return out


def suggest_rules(con, scope: Scope = Scope(), outcome_stage: str = "SQL", *, exclude: list[str] | None = None,
                  max_rows: int = 50_000, scale: float = 10.0, lang: str = "en") -> tuple[list[Rule], list[str]]:
    """Fit a logistic regression on historical leads and turn coefficients into rounded points.

    Features: each numeric attribute split at its median (>=), each yes/no attribute (is true),
    and each text attribute's most common values (=). Returns (rules, warnings); leaking columns
    (filled in only after contact) and identifiers (named like an id, or unique per lead) are
    left out and named in the warnings, written in ``lang`` (English by default: the CLI and the
    report; the page passes its reader's language).

    Fast on purpose (a button waits on it): the leak check and the fit read a fixed hash sample
    of about ``max_rows`` cohort leads (every lead below that) — rounded integer points do not
    need more — and the fit runs on one BLAS thread (on a small shared machine, the default
    thread pool spent most of the time contending).
    """
    from sklearn.linear_model import LogisticRegression  # heavy import, only when asked
    from threadpoolctl import threadpool_limits

    r = resolve(con, scope)
    columns = store.lead_attribute_columns(con)
    feats = [c for c in columns if c not in NOT_FEATURES | set(exclude or [])]
    # ordered by lead id, so the fit sees the same rows in the same order on every run
    q, params = _scoring_query(con, r, "scoring_fit_rows", [], outcome_stage, attributes=tuple(feats),
                               sample=_sample_rate(con, r, max_rows))
    df = run(con, q, params)
    # leak_suspects' test, on the sample already here (a second scan of the leads was a third of
    # the button's time at 1M)
    named, rest = _leak_candidates(feats)
    with_outcome = df["outcome"] == 1
    leaks = set(named) | {c for c in rest if _blank_mostly_without_outcome(
        df.loc[with_outcome, c].isna().mean() if with_outcome.any() else float("nan"),
        df.loc[~with_outcome, c].isna().mean() if (~with_outcome).any() else float("nan"))}
    feats = [c for c in feats if c not in leaks]
    _ = i18n.gettext_for(lang)
    warnings = [_("Left out '{column}': it looks filled in only after sales contact, so it would leak the outcome.",
                  column=c) for c in sorted(leaks)]
    ids = _identifier_columns(df, columns, feats)
    feats = [c for c in feats if c not in ids]
    warnings += [_("Left out '{column}': it identifies a lead (an id or a value unique to each lead), so it says "
                   "nothing about how likely a lead is to convert.", column=c) for c in sorted(ids)]
    if df.empty or df["outcome"].nunique() < 2:
        return [], warnings + [_("Not enough history: every lead has the same outcome, so nothing can be learned.")]
    candidates: list[tuple[Rule, pd.Series]] = []
    for c in feats:
        s = df[c]
        dtype = columns[c].upper()
        if dtype == "BOOLEAN":
            candidates.append((Rule(c, "is true", "", 0), s.fillna(False).astype(bool)))
        elif _is_numeric_type(dtype):
            x = pd.to_numeric(s, errors="coerce")
            if x.notna().sum() == 0 or x.nunique() < 2:
                continue
            cut = float(x.median())
            if x.min() >= cut:
                # Median at the minimum (e.g. most leads downloaded nothing): ">= median" would
                # match every lead with a value and say nothing; split above it instead.
                cut = float(x[x > cut].min())
            if x.max() < cut or x.min() >= cut:
                continue
            cut_txt = str(int(cut)) if cut.is_integer() else f"{cut:g}"
            candidates.append((Rule(c, ">=", cut_txt, 0), (x >= cut).fillna(False)))
        else:
            top = s.dropna().astype(str).value_counts()
            for v in top.index[:6]:
                if top[v] >= max(30, 0.01 * len(df)):
                    candidates.append((Rule(c, "=", v, 0), (s.astype(str) == v) & s.notna()))
    if not candidates:
        return [], warnings + [_("No usable attribute was found to score on.")]
    X = pd.concat([m.astype(float).rename(i) for i, (_rule, m) in enumerate(candidates)], axis=1)
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=500, C=1.0).fit(X.to_numpy(), df["outcome"].to_numpy())
    rules: list[Rule] = []
    for (rule, _mask), coef in zip(candidates, model.coef_[0]):
        pts = int(round(coef * scale))
        if pts != 0:
            group = "engagement" if any(w in rule.attribute for w in ("view", "click", "download", "webinar", "demo", "visit", "time")) else "fit"
            rules.append(Rule(rule.attribute, rule.operator, rule.value, float(pts), True, group))
    return rules, warnings
