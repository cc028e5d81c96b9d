"""Lead scoring what-if (metrics.md §5): rules → one SQL expression, scenarios judged on history.

A rule is (attribute, operator, value, points, enabled). Rules compile to a single DuckDB
expression: the attribute must be a column of ``leads`` (whitelist), the operator one of
:data:`OPERATORS`, and every value is a bound parameter — a rule can never inject SQL.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

import pandas as pd

from . import access, audit, error_messages, fmt, i18n, store
from .errors import RuleError
from .i18n import N_, msg
from .query import Resolved, Scope, resolve, run

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
    messages (funnel.error_messages), so a page says it in the reader's language."""
    return error_messages.error(RuleError, message, hint)


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


def compile_rules(con, rules) -> tuple[str, dict]:
    """One SQL expression over leads aliased ``l`` that sums the points of matching enabled rules.

    Raises RuleError naming the rule and what to change when an attribute, operator or value is
    not usable.
    """
    rules = coerce_rules(rules)
    columns = store.lead_attribute_columns(con)
    terms: list[str] = []
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
        cond = _condition(n, rule, columns[rule.attribute], params)
        key = f"pts{n}"
        params[key] = float(rule.points)
        terms.append(f"CASE WHEN {cond} THEN CAST(${key} AS DOUBLE) ELSE 0.0 END")
    # Rounded to 6 decimals: with fractional points a float sum such as 0.7 + 0.1 comes out as
    # 0.7999999999999999 and would miss a threshold of 0.8 it mathematically reaches (score == T
    # is above, §5); equal scores also group together for the AUC's ties.
    return ("round(" + " + ".join(terms) + ", 6)") if terms else "0.0", params


def _condition(n: int, rule: Rule, dtype: str, params: dict) -> str:
    col = f"l.{store.quote_ident(rule.attribute)}"
    op, value = rule.operator, rule.value
    numeric = _is_numeric_type(dtype)
    boolean = dtype.upper() == "BOOLEAN"
    text = f"CAST({col} AS VARCHAR)"

    def bind(v, cast: str | None = None) -> str:
        key = f"v{n}_{len([k for k in params if k.startswith(f'v{n}_')])}"
        params[key] = v
        return f"CAST(${key} AS {cast})" if cast else f"${key}"

    if op in ("is true", "is false"):
        words = TRUE_WORDS if op == "is true" else FALSE_WORDS
        if boolean:
            return f"{col} = {'TRUE' if op == 'is true' else 'FALSE'}"
        if numeric:
            return f"{col} = {1 if op == 'is true' else 0}"
        return f"lower(trim({text})) IN ({', '.join(bind(w) for w in words)})"
    if value is None or str(value).strip() == "":
        raise _rule_error(msg("Rule {n} ({attribute} {operator}): a value is needed.", n=str(n),
                              attribute=str(rule.attribute), operator=str(op)),
                          msg("Fill in the value column, e.g. Enterprise or 100."))
    if op == "contains":
        return f"strpos(lower({text}), lower({bind(str(value))})) > 0"
    if op in ("in", "not in"):
        items = [v.strip() for v in str(value).split("|")]
        if numeric:
            vals = ", ".join(bind(_to_float(v, n, rule), "DOUBLE") for v in items)
            return f"{col} {'IN' if op == 'in' else 'NOT IN'} ({vals})"
        if boolean:
            vals = [_parse_bool(v) for v in items]
            if any(v is None for v in vals):
                raise _rule_error(msg("Rule {n} ({attribute}): use true or false for a yes/no attribute.", n=str(n),
                                      attribute=str(rule.attribute)))
            return f"{col} {'IN' if op == 'in' else 'NOT IN'} ({', '.join(bind(v, 'BOOLEAN') for v in vals)})"
        return f"{text} {'IN' if op == 'in' else 'NOT IN'} ({', '.join(bind(v) for v in items)})"
    if op == "between":
        parts = [v.strip() for v in str(value).split("|")]
        if len(parts) != 2:
            raise _rule_error(msg("Rule {n} ({attribute} between): write the value as low|high, e.g. 50|200.",
                                  n=str(n), attribute=str(rule.attribute)))
        lo, hi = parts
        if numeric or (_numberish(lo) and _numberish(hi)):
            target = col if numeric else f"TRY_CAST({text} AS DOUBLE)"
            return f"{target} BETWEEN {bind(_to_float(lo, n, rule), 'DOUBLE')} AND {bind(_to_float(hi, n, rule), 'DOUBLE')}"
        return f"{text} BETWEEN {bind(lo)} AND {bind(hi)}"
    sql_op = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}[op]
    if boolean:
        b = _parse_bool(value)
        if b is None:
            raise _rule_error(msg("Rule {n} ({attribute}): use true or false for a yes/no attribute, not '{value}'.",
                                  n=str(n), attribute=str(rule.attribute), value=str(value)))
        return f"{col} {sql_op} {bind(b, 'BOOLEAN')}"
    if numeric:
        return f"{col} {sql_op} {bind(_to_float(value, n, rule), 'DOUBLE')}"
    if op in ("=", "!="):
        return f"{text} {sql_op} {bind(str(value))}"
    if _numberish(value):
        return f"TRY_CAST({text} AS DOUBLE) {sql_op} {bind(_to_float(value, n, rule), 'DOUBLE')}"
    return f"{text} {sql_op} {bind(str(value))}"


def _numberish(v) -> bool:
    try:
        float(str(v).strip())
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# Stored rules, threshold and scenarios


def stored_rules(con) -> list[Rule]:
    rows = con.execute("SELECT attribute, operator, value, points, enabled, rule_group FROM scoring_rules "
                       "ORDER BY rule_id").fetchall()
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
    rows = con.execute("SELECT attribute, operator, value, points, enabled, rule_group FROM scoring_rules "
                       "ORDER BY rule_id").fetchall()
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
    old = con.execute("SELECT rules_json, threshold FROM scoring_scenarios WHERE name = ?", [name]).fetchall()
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
    return run(con, "SELECT name, threshold, created_by, created_at, is_current FROM scoring_scenarios "
                    "ORDER BY is_current DESC, created_at DESC")


def load_scenario(con, name: str) -> tuple[list[Rule], float]:
    row = con.execute("SELECT rules_json, threshold FROM scoring_scenarios WHERE name = ?", [name]).fetchone()
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


def _sample_rate(con, r: Resolved, max_rows: int | None) -> int | None:
    """Hash buckets to keep for a sample of about ``max_rows`` cohort leads; None: keep every lead."""
    if max_rows is None:
        return None
    n = int(run(con, f"SELECT count(*) AS n FROM leads l WHERE {r.cohort_where}", r.params)["n"].iloc[0])
    return None if n <= max_rows else max(1, SAMPLE_BUCKETS * max_rows // n)


def _scored_cte(con, r: Resolved, rules, outcome_stage: str | None, extra: str = "",
                sample: int | None = None) -> tuple[str, dict]:
    """``scored(lead_id, created_at, sdr, score, outcome[, extra])`` for the cohort's leads.

    outcome = 1 when the lead reached ``outcome_stage`` (or a later positioned stage) by D, within
    the conversion window if one is set (definition 1). ``outcome_stage=None``: no outcome is
    needed (0 for every lead), so the lead_reach join is skipped. ``extra`` adds select items
    over ``leads l`` (already-validated SQL only). ``sample`` (from :func:`_sample_rate`) keeps
    only the leads whose id hashes into that many of SAMPLE_BUCKETS buckets.
    """
    expr, params = compile_rules(con, rules)
    store.ensure_derived(con)
    params = {**r.params, **params}
    first = min(s.position for s in store.funnel_stages(con, "lead"))
    if outcome_stage is None:
        outcome, join = "0", ""
    else:
        pos = _outcome_position(con, outcome_stage)
        if pos == first:
            outcome, join = "1", ""  # every cohort lead reaches the first stage
        else:
            outcome = "CASE WHEN rr.lead_id IS NOT NULL THEN 1 ELSE 0 END"
            join = """LEFT JOIN lead_reach rr ON rr.lead_id = l.lead_id AND rr.position = $outcome_position
             AND rr.first_reached_at < $as_end
             AND ($window_days IS NULL
                  OR rr.first_reached_at <= l.created_at + CAST($window_days AS INTEGER) * INTERVAL 1 DAY)"""
            params["outcome_position"] = pos
    # The cohort filter is applied straight to leads (no self-join back from a cohort CTE): one
    # scan of the leads table per scenario is what keeps a re-score of 1M leads interactive.
    sampled = ""
    if sample is not None:
        sampled = f" AND hash(CAST(l.lead_id AS VARCHAR)) % {SAMPLE_BUCKETS} < $sample_buckets"
        params["sample_buckets"] = int(sample)
    q = f"""scored AS (
        SELECT l.lead_id, l.created_at, l.sdr, {expr} AS score, {outcome} AS outcome{extra}
        FROM leads l {join}
        WHERE {r.cohort_where}{sampled}
    )"""
    return q, params


def _weeks(r: Resolved) -> float:
    """Length of the cohort's date range in weeks (whole days, inclusive, not after D)."""
    return max(((min(r.date_to, r.as_of) - r.date_from).days + 1) / 7.0, 1 / 7.0)


def score_leads(con, rules, scope: Scope = Scope(), outcome_stage: str = "SQL", limit: int | None = None) -> pd.DataFrame:
    """lead_id, created_at, sdr, score, outcome for the cohort (highest score first)."""
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, outcome_stage)
    lim = f" LIMIT {int(limit)}" if limit else ""
    return run(con, f"WITH {cte} SELECT lead_id, created_at, sdr, score, outcome FROM scored "
                    f"ORDER BY score DESC, lead_id{lim}", params)


#: A scenario's leads grouped by what every figure of it needs: (score, outcome, SDR) → leads.
#: A few thousand rows at most, whatever the number of leads.
_GROUPS = "groups AS (SELECT score, outcome, sdr, count(*) AS n FROM scored GROUP BY score, outcome, sdr)"


def _on_groups(con, rules, scope: Scope, outcome_stage: str | None) -> tuple[Resolved, str, dict]:
    """(resolved scope, ``WITH scored, groups`` prefix, parameters) for one scenario's own query."""
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, outcome_stage)
    return r, f"WITH {cte}, {_GROUPS}", params


def evaluate_scenario(con, rules, threshold: float, scope: Scope = Scope(), outcome_stage: str = "SQL") -> dict:
    """leads, above, with_outcome, true_positives, precision, recall, auc, weeks, mqls_per_week,
    sdrs, mqls_per_sdr_per_week, outcome_rate.

    One scan of the cohort's leads groups them by score; every figure comes from that small
    table. AUC is the Mann–Whitney statistic: over all (outcome, no outcome) pairs, the share in
    which the lead with the outcome scores higher, ties counted half.
    """
    r, prefix, params = _on_groups(con, rules, scope, outcome_stage)
    return _evaluation(con, r, prefix, params, threshold, outcome_stage)


def _evaluation(con, r: Resolved, prefix: str, params: dict, threshold: float, outcome_stage: str | None,
                own_cursor: bool = True) -> dict:
    q = f"""{prefix},
    by_score AS (SELECT score, sum(n) AS n, sum(n * outcome) AS pos FROM groups GROUP BY score),
    ranked AS (SELECT score, n, pos, n - pos AS neg,
                      coalesce(sum(n - pos) OVER (ORDER BY score ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                          AS neg_below
               FROM by_score)
    SELECT coalesce(sum(n), 0) AS leads,
           coalesce(sum(n) FILTER (WHERE score >= $threshold), 0) AS above,
           coalesce(sum(pos), 0) AS with_outcome,
           coalesce(sum(pos) FILTER (WHERE score >= $threshold), 0) AS true_positives,
           sum(pos * (neg_below + 0.5 * neg)) AS auc_numerator,
           -- SDR head-count does not depend on the rules: the SDRs owning at least one cohort lead
           (SELECT count(DISTINCT sdr) FROM groups) AS sdrs
    FROM ranked"""
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

    The scan's small grouped table is kept in a temporary table of a private cursor, and the
    four figures are computed from it in SQL — a quarter of the time of four scans.
    """
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, outcome_stage)
    cur = con.cursor()
    try:
        run(cur, f"CREATE TEMP TABLE scenario_groups AS WITH {cte}, {_GROUPS} SELECT * FROM groups", params,
            own_cursor=False)
        prefix = "WITH groups AS (SELECT * FROM scenario_groups)"
        return {"evaluation": _evaluation(cur, r, prefix, {}, threshold, outcome_stage, own_cursor=False),
                "sdr_load": _sdr_load(cur, r, prefix, {}, threshold, own_cursor=False),
                "distribution": _distribution(cur, prefix, {}, own_cursor=False),
                "gains": _gains(cur, prefix, {}, own_cursor=False)}
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
    r, prefix, params = _on_groups(con, rules, scope, None)
    return _sdr_load(con, r, prefix, params, threshold)


def _sdr_load(con, r: Resolved, prefix: str, params: dict, threshold: float, own_cursor: bool = True) -> pd.DataFrame:
    q = f"""{prefix}
    SELECT coalesce(sdr, '(unassigned)') AS sdr, mqls, mqls / $weeks AS mqls_per_week
    FROM (SELECT sdr, coalesce(sum(n) FILTER (WHERE score >= $threshold), 0) AS mqls FROM groups GROUP BY sdr) g
    ORDER BY g.sdr IS NULL, g.sdr"""
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
    _, prefix, params = _on_groups(con, rules, scope, outcome_stage)
    return _distribution(con, prefix, params, bins)


def _distribution(con, prefix: str, params: dict, bins: int = 20, own_cursor: bool = True) -> pd.DataFrame:
    q = f"""{prefix},
    g AS (SELECT score, outcome, sum(n) AS n FROM groups GROUP BY score, outcome),
    raw AS (SELECT (max(score) - min(score)) / $bins AS raw FROM g),
    mag AS (SELECT raw, CASE WHEN raw > 0 THEN pow(10, floor(log10(raw))) END AS mag FROM raw),
    w AS (SELECT CASE WHEN raw IS NULL OR raw <= 0 THEN 1.0
                      WHEN raw <= mag * 1.000000001 THEN mag
                      WHEN raw <= 2 * mag * 1.000000001 THEN 2 * mag
                      WHEN raw <= 2.5 * mag * 1.000000001 THEN 2.5 * mag
                      WHEN raw <= 5 * mag * 1.000000001 THEN 5 * mag
                      ELSE 10 * mag END AS width FROM mag),
    h AS (SELECT round(floor(score / w.width + 1e-9) * w.width, 9) AS score_bin, any_value(w.width) AS bin_width,
                 outcome, sum(n)::BIGINT AS leads
          FROM g, w GROUP BY 1, outcome)
    SELECT score_bin, bin_width, outcome, leads,
           leads / sum(leads) OVER (PARTITION BY outcome)::DOUBLE AS share_of_group
    FROM h ORDER BY score_bin, outcome"""
    return run(con, q, {**params, "bins": float(bins)}, own_cursor=own_cursor)


def gains_curve(con, rules, scope: Scope = Scope(), outcome_stage: str = "SQL", points: int = 200) -> pd.DataFrame:
    """Cumulative gains, one row per score cut-off (highest first): score, leads_at_or_above,
    share_of_leads, share_of_outcomes (share of all leads with the outcome that score at or above
    it), lift = share_of_outcomes / share_of_leads.

    Leads with equal scores enter together (no arbitrary order inside a tie, which would invent
    ranking the rules do not make). With many distinct scores, at most about ``points`` cut-offs
    are kept (the lowest score of each equal slice of leads), always including the last one.
    """
    _, prefix, params = _on_groups(con, rules, scope, outcome_stage)
    return _gains(con, prefix, params, points)


def _gains(con, prefix: str, params: dict, points: int = 200, own_cursor: bool = True) -> pd.DataFrame:
    q = f"""{prefix},
    by_score AS (SELECT score, sum(n) AS n, sum(n * outcome) AS pos FROM groups GROUP BY score),
    cum AS (SELECT score, (sum(n) OVER w)::BIGINT AS leads_at_or_above, sum(pos) OVER w AS outcomes_at_or_above,
                   sum(n) OVER () AS total, sum(pos) OVER () AS total_pos
            FROM by_score WINDOW w AS (ORDER BY score DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
    shares AS (SELECT score, leads_at_or_above, leads_at_or_above / total::DOUBLE AS share_of_leads,
                      outcomes_at_or_above / NULLIF(total_pos, 0)::DOUBLE AS share_of_outcomes
               FROM cum)
    SELECT score, leads_at_or_above, share_of_leads, share_of_outcomes,
           share_of_outcomes / share_of_leads AS lift
    FROM shares
    QUALIFY row_number() OVER (PARTITION BY floor(share_of_leads * $points) ORDER BY score) = 1
    ORDER BY score DESC"""
    return run(con, q, {**params, "points": int(points)}, own_cursor=own_cursor)


def _flips_cte(con, r: Resolved, current: tuple, draft: tuple, outcome_stage: str) -> tuple[str, dict]:
    """``flips``: cohort leads on different sides of the threshold under the two scenarios."""
    e2, p2 = compile_rules(con, draft[0])
    # Rename the draft's parameters so both expressions can live in one query.
    p2 = {f"d_{k}": v for k, v in p2.items()}
    e2 = re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", lambda m: "$d_" + m.group(1), e2)
    cte, params = _scored_cte(con, r, current[0], outcome_stage,
                              extra=f", {e2} AS draft_score, l.channel, l.segment")
    q = f"""{cte},
    flips AS (SELECT lead_id, created_at, channel, segment, sdr, score AS current_score, draft_score,
                     CASE WHEN draft_score >= $t2 THEN 'becomes MQL' ELSE 'stops being MQL' END AS change,
                     outcome = 1 AS reached_outcome
              FROM scored WHERE (score >= $t1) <> (draft_score >= $t2))"""
    return q, {**params, **p2, "t1": float(current[1]), "t2": float(draft[1])}


def flipped_leads(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL",
                  limit: int = 2000) -> pd.DataFrame:
    """Leads that become MQL (or stop being MQL) under the draft, with their actual outcome.

    Columns lead_id, created_at, channel, segment, sdr, current_score, draft_score, change,
    reached_outcome; at most ``limit`` rows (see :func:`flip_counts` for the totals).
    """
    r = resolve(con, scope)
    cte, params = _flips_cte(con, r, current, draft, outcome_stage)
    return _flip_list(con, f"WITH {cte}", params, limit)


def _flip_list(con, prefix: str, params: dict, limit: int, own_cursor: bool = True) -> pd.DataFrame:
    q = f"""{prefix}
    SELECT * FROM flips ORDER BY change, reached_outcome DESC, draft_score DESC, lead_id LIMIT {int(limit)}"""
    return run(con, q, params, own_cursor=own_cursor)


def flip_counts(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL") -> dict:
    """How many leads flip each way and how many of those reached the outcome:
    ``{"becomes MQL": {"leads", "reached_outcome"}, "stops being MQL": {...}}``."""
    r = resolve(con, scope)
    cte, params = _flips_cte(con, r, current, draft, outcome_stage)
    return _flip_counts(con, f"WITH {cte}", params)


def _flip_counts(con, prefix: str, params: dict, own_cursor: bool = True) -> dict:
    df = run(con, f"{prefix} SELECT change, count(*) AS leads, count(*) FILTER (WHERE reached_outcome) AS reached "
                  "FROM flips GROUP BY change", params, own_cursor=own_cursor)
    out = {c: {"leads": 0, "reached_outcome": 0} for c in ("becomes MQL", "stops being MQL")}
    for row in df.itertuples():
        out[row.change] = {"leads": int(row.leads), "reached_outcome": int(row.reached)}
    return out


def flips(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL",
          limit: int = 2000) -> dict:
    """``{"counts": flip_counts(...), "leads": flipped_leads(...)}`` from one scan of the leads (the
    flipped leads are kept in a temporary table of a private cursor) — what the page shows."""
    r = resolve(con, scope)
    cte, params = _flips_cte(con, r, current, draft, outcome_stage)
    cur = con.cursor()
    try:
        run(cur, f"CREATE TEMP TABLE flipped AS WITH {cte} SELECT * FROM flips", params, own_cursor=False)
        prefix = "WITH flips AS (SELECT * FROM flipped)"
        return {"counts": _flip_counts(cur, prefix, {}, own_cursor=False),
                "leads": _flip_list(cur, prefix, {}, limit, own_cursor=False)}
    finally:
        cur.close()


def threshold_for_volume(con, rules, mqls: int, scope: Scope = Scope()) -> float:
    """The score cut-off T whose MQL count (leads with score >= T) is closest to ``mqls``
    (the higher T on a tie): used to set a threshold for suggested rules that keeps today's volume."""
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, None)
    q = f"""WITH {cte},
    by_score AS (SELECT score, count(*) AS n FROM scored GROUP BY score),
    cum AS (SELECT score, sum(n) OVER (ORDER BY score DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS above
            FROM by_score)
    SELECT score FROM cum ORDER BY abs(above - $target), score DESC LIMIT 1"""
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
    counts = ", ".join(f"count(l.{store.quote_ident(c)}) AS c{i}" for i, c in enumerate(columns))
    row = con.execute(f"SELECT {counts} FROM leads l").fetchone()
    rows = []
    for (c, t), n in zip(columns.items(), row):
        if n:
            kind = "yes/no" if t.upper() == "BOOLEAN" else "number" if _is_numeric_type(t) else "text"
            rows.append({"attribute": c, "kind": kind, "filled": int(n)})
    return pd.DataFrame(rows, columns=["attribute", "kind", "filled"])


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
    extra = "".join(f", CASE WHEN l.{store.quote_ident(c)} IS NULL THEN 1.0 ELSE 0.0 END AS blank_{i}"
                    for i, c in enumerate(rest))
    cte, params = _scored_cte(con, r, [], outcome_stage, extra=extra, sample=_sample_rate(con, r, max_rows))
    aggs = ", ".join(f"avg(blank_{i}) FILTER (WHERE outcome = 1) AS pos_{i}, avg(blank_{i}) FILTER (WHERE outcome = 0) AS neg_{i}"
                     for i in range(len(rest)))
    row = run(con, f"WITH {cte} SELECT {aggs} FROM scored", params).iloc[0]
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
    extra = "".join(f", l.{store.quote_ident(c)} AS f_{i}" for i, c in enumerate(feats))
    cte, params = _scored_cte(con, r, [], outcome_stage, extra=extra, sample=_sample_rate(con, r, max_rows))
    sel = "".join(f", f_{i} AS {store.quote_ident(c)}" for i, c in enumerate(feats))
    # ordered, so the fit sees the same rows in the same order on every run
    df = run(con, f"WITH {cte} SELECT outcome{sel} FROM scored ORDER BY lead_id", params)
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
