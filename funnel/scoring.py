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
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from . import store
from .errors import RuleError
from .query import Resolved, Scope, cohort_cte, resolve, run

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


def _is_numeric_type(dtype: str) -> bool:
    return dtype.upper().startswith(NUMERIC_TYPES) or dtype.upper().startswith("DECIMAL")


def _to_float(value, rule_no: int, rule: Rule) -> float:
    try:
        x = float(str(value).strip())
    except (TypeError, ValueError):
        raise RuleError(f"Rule {rule_no} ({rule.attribute} {rule.operator} {value!r}): '{value}' is not a number.",
                        hint="Type a number such as 8 or 2.5.") from None
    if math.isnan(x):
        raise RuleError(f"Rule {rule_no}: the value is not a number.")
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
            out.append(r)
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
            raise RuleError(f"Rule {i} ({attr}): points must be a number (negative is fine), not {points!r}.") from None
        enabled = r.get("enabled", True)
        if isinstance(enabled, str):
            b = _parse_bool(enabled)
            enabled = True if b is None and enabled.strip() == "" else bool(b)
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
        out.append(Rule(str(attr).strip(), str(r.get("operator") or "").strip().lower(), value, points,
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
            raise RuleError(f"Rule {n}: there is no lead attribute called '{rule.attribute}'.",
                            hint=f"Pick one of: {', '.join(sorted(columns))}.")
        if rule.operator not in OPERATORS:
            raise RuleError(f"Rule {n} ({rule.attribute}): unknown operator '{rule.operator}'.",
                            hint=f"Use one of: {', '.join(OPERATORS)}.")
        if not rule.enabled:
            continue
        cond = _condition(n, rule, columns[rule.attribute], params)
        key = f"pts{n}"
        params[key] = float(rule.points)
        terms.append(f"CASE WHEN {cond} THEN CAST(${key} AS DOUBLE) ELSE 0.0 END")
    return ("(" + " + ".join(terms) + ")") if terms else "0.0", params


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
        raise RuleError(f"Rule {n} ({rule.attribute} {op}): a value is needed.",
                        hint="Fill in the value column, e.g. Enterprise or 100.")
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
                raise RuleError(f"Rule {n} ({rule.attribute}): use true or false for a yes/no attribute.")
            return f"{col} {'IN' if op == 'in' else 'NOT IN'} ({', '.join(bind(v, 'BOOLEAN') for v in vals)})"
        return f"{text} {'IN' if op == 'in' else 'NOT IN'} ({', '.join(bind(v) for v in items)})"
    if op == "between":
        parts = [v.strip() for v in str(value).split("|")]
        if len(parts) != 2:
            raise RuleError(f"Rule {n} ({rule.attribute} between): write the value as low|high, e.g. 50|200.")
        lo, hi = parts
        if numeric or (_numberish(lo) and _numberish(hi)):
            target = col if numeric else f"TRY_CAST({text} AS DOUBLE)"
            return f"{target} BETWEEN {bind(_to_float(lo, n, rule), 'DOUBLE')} AND {bind(_to_float(hi, n, rule), 'DOUBLE')}"
        return f"{text} BETWEEN {bind(lo)} AND {bind(hi)}"
    sql_op = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}[op]
    if boolean:
        b = _parse_bool(value)
        if b is None:
            raise RuleError(f"Rule {n} ({rule.attribute}): use true or false for a yes/no attribute, not '{value}'.")
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


def save_rules(con, rules, threshold: float | None = None) -> None:
    """Make these the current production rules (validated first)."""
    rules = coerce_rules(rules)
    compile_rules(con, rules)
    with store.transaction(con):
        store.seed_scoring_rules(con, [(r.attribute, r.operator, r.value, r.points, r.enabled, r.rule_group) for r in rules])
        if threshold is not None:
            store.set_setting(con, "mql_threshold", str(float(threshold)))
        store.bump_data_version(con)


def rules_to_frame(rules) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in coerce_rules(rules)],
                        columns=["attribute", "operator", "value", "points", "enabled", "rule_group"])


def save_scenario(con, name: str, rules, threshold: float, *, make_current: bool = False) -> None:
    name = (name or "").strip()
    if not name:
        raise RuleError("Give the scenario a name before saving it.")
    rules = coerce_rules(rules)
    compile_rules(con, rules)
    payload = json.dumps([asdict(r) for r in rules])
    with store.transaction(con):
        con.execute("DELETE FROM scoring_scenarios WHERE name = ?", [name])
        con.execute("INSERT INTO scoring_scenarios VALUES (?, ?, ?, ?, ?, FALSE)",
                    [name, payload, float(threshold), store.current_user(), datetime.now().replace(microsecond=0)])
    if make_current:
        make_scenario_current(con, name)


def list_scenarios(con) -> pd.DataFrame:
    return run(con, "SELECT name, threshold, created_by, created_at, is_current FROM scoring_scenarios "
                    "ORDER BY is_current DESC, created_at DESC")


def load_scenario(con, name: str) -> tuple[list[Rule], float]:
    row = con.execute("SELECT rules_json, threshold FROM scoring_scenarios WHERE name = ?", [name]).fetchone()
    if not row:
        raise RuleError(f"There is no saved scenario called '{name}'.", hint="Pick one from the list of saved scenarios.")
    return [Rule(**d) for d in json.loads(row[0])], float(row[1])


def make_scenario_current(con, name: str) -> None:
    rules, threshold = load_scenario(con, name)
    save_rules(con, rules, threshold)
    with store.transaction(con):
        con.execute("UPDATE scoring_scenarios SET is_current = (name = ?)", [name])


def rules_from_csv(path: str | Path) -> list[Rule]:
    """Rules from a CSV with columns attribute, operator, value, points, enabled."""
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    missing = {"attribute", "operator", "points"} - set(reader.fieldnames or [])
    if missing:
        raise RuleError(f"{Path(path).name}: the rules file lacks the column(s) {', '.join(sorted(missing))}.",
                        hint="The header must be: attribute,operator,value,points,enabled")
    return coerce_rules(list(reader))


# ---------------------------------------------------------------------------------------------
# Evaluation


def _outcome_position(con, outcome_stage: str) -> int:
    for s in store.funnel_stages(con, "lead"):
        if s.stage == outcome_stage:
            return int(s.position)
    names = [s.stage for s in store.funnel_stages(con, "lead")]
    raise RuleError(f"'{outcome_stage}' is not a lead funnel stage.", hint=f"Use one of: {', '.join(names)}.")


def _scored_cte(con, r: Resolved, rules, outcome_stage: str) -> tuple[str, dict]:
    expr, params = compile_rules(con, rules)
    store.ensure_derived(con)
    q = f"""{cohort_cte(r)},
    scored AS (
        SELECT c.lead_id, c.created_at, l.sdr, {expr} AS score,
               CASE WHEN rr.lead_id IS NOT NULL THEN 1 ELSE 0 END AS outcome
        FROM cohort c JOIN leads l ON l.lead_id = c.lead_id
        LEFT JOIN lead_reach rr ON rr.lead_id = c.lead_id AND rr.position = $outcome_position
             AND rr.first_reached_at < $as_end
             AND ($window_days IS NULL
                  OR rr.first_reached_at <= c.created_at + CAST($window_days AS INTEGER) * INTERVAL 1 DAY)
    )"""
    first = min(s.position for s in store.funnel_stages(con, "lead"))
    pos = _outcome_position(con, outcome_stage)
    if pos == first:
        q = q.replace("CASE WHEN rr.lead_id IS NOT NULL THEN 1 ELSE 0 END", "1")
    return q, {**r.params, **params, "outcome_position": pos}


def score_leads(con, rules, scope: Scope = Scope(), outcome_stage: str = "SQL", limit: int | None = None) -> pd.DataFrame:
    """lead_id, created_at, sdr, score, outcome for the cohort (highest score first)."""
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, outcome_stage)
    lim = f" LIMIT {int(limit)}" if limit else ""
    return run(con, f"WITH {cte} SELECT * FROM scored ORDER BY score DESC, lead_id{lim}", params)


def evaluate_scenario(con, rules, threshold: float, scope: Scope = Scope(), outcome_stage: str = "SQL") -> dict:
    """leads, above, with_outcome, true_positives, precision, recall, auc, weeks, mqls_per_week,
    sdrs, mqls_per_sdr_per_week, outcome_rate."""
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, outcome_stage)
    q = f"""WITH {cte},
    by_score AS (SELECT score, sum(outcome) AS pos, count(*) - sum(outcome) AS neg FROM scored GROUP BY score),
    ranked AS (SELECT score, pos, neg,
                      coalesce(sum(neg) OVER (ORDER BY score ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS neg_below
               FROM by_score)
    SELECT (SELECT count(*) FROM scored) AS leads,
           (SELECT count(*) FROM scored WHERE score >= $threshold) AS above,
           (SELECT coalesce(sum(outcome), 0) FROM scored) AS with_outcome,
           (SELECT coalesce(sum(outcome), 0) FROM scored WHERE score >= $threshold) AS true_positives,
           (SELECT sum(pos * (neg_below + 0.5 * neg)) FROM ranked) AS auc_numerator,
           (SELECT count(DISTINCT sdr) FROM scored WHERE sdr IS NOT NULL) AS sdrs
    """
    row = run(con, q, {**params, "threshold": float(threshold)}).iloc[0]
    leads, above, pos, tp = int(row["leads"]), int(row["above"]), int(row["with_outcome"]), int(row["true_positives"])
    neg = leads - pos
    weeks = max(((min(r.date_to, r.as_of) - r.date_from).days + 1) / 7.0, 1 / 7.0)
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


def compare_scenarios(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL") -> pd.DataFrame:
    """Side by side: one row per metric, columns current, draft, change. Each scenario is (rules, threshold)."""
    a = evaluate_scenario(con, current[0], current[1], scope, outcome_stage)
    b = evaluate_scenario(con, draft[0], draft[1], scope, outcome_stage)
    keys = ["above", "mqls_per_week", "mqls_per_sdr_per_week", "true_positives", "precision", "recall", "auc"]
    rows = []
    for k in keys:
        va, vb = a[k], b[k]
        rows.append({"metric": k, "current": va, "draft": vb,
                     "change": (vb - va) if va is not None and vb is not None else None})
    return pd.DataFrame(rows)


def sdr_load(con, rules, threshold: float, scope: Scope = Scope()) -> pd.DataFrame:
    """MQLs per week for each SDR under a scenario: sdr, mqls, mqls_per_week."""
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, "SQL")
    weeks = max(((min(r.date_to, r.as_of) - r.date_from).days + 1) / 7.0, 1 / 7.0)
    q = f"""WITH {cte}
    SELECT coalesce(sdr, '(unassigned)') AS sdr, count(*) FILTER (WHERE score >= $threshold) AS mqls
    FROM scored GROUP BY 1 ORDER BY 1"""
    df = run(con, q, {**params, "threshold": float(threshold)})
    df["mqls_per_week"] = df["mqls"] / weeks
    return df


def score_distribution(con, rules, scope: Scope = Scope(), outcome_stage: str = "SQL", bins: int = 30) -> pd.DataFrame:
    """Histogram of scores by outcome: score_bin (lower edge), outcome (0/1), leads."""
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, outcome_stage)
    q = f"""WITH {cte}, rng AS (SELECT min(score) AS lo, max(score) AS hi FROM scored)
    SELECT CASE WHEN rng.hi = rng.lo THEN rng.lo
                ELSE rng.lo + floor((score - rng.lo) / ((rng.hi - rng.lo) / $bins)) * ((rng.hi - rng.lo) / $bins) END AS score_bin,
           outcome, count(*) AS leads
    FROM scored, rng GROUP BY 1, 2 ORDER BY 1, 2"""
    df = run(con, q, {**params, "bins": float(bins)})
    return df


def gains_curve(con, rules, scope: Scope = Scope(), outcome_stage: str = "SQL", points: int = 20) -> pd.DataFrame:
    """Cumulative gains: share of leads contacted (highest score first) vs share of outcomes captured."""
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, rules, outcome_stage)
    q = f"""WITH {cte},
    ranked AS (SELECT outcome, ntile($points) OVER (ORDER BY score DESC, lead_id) AS bucket FROM scored),
    b AS (SELECT bucket, count(*) AS leads, sum(outcome) AS outcomes FROM ranked GROUP BY bucket)
    SELECT bucket, sum(leads) OVER w / sum(leads) OVER ()::DOUBLE AS share_of_leads,
           sum(outcomes) OVER w / NULLIF(sum(outcomes) OVER (), 0)::DOUBLE AS share_of_outcomes
    FROM b WINDOW w AS (ORDER BY bucket ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) ORDER BY bucket"""
    df = run(con, q, {**params, "points": int(points)})
    df["lift"] = df["share_of_outcomes"] / df["share_of_leads"]
    return df


def flipped_leads(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL",
                  limit: int = 2000) -> pd.DataFrame:
    """Leads that become MQL (or stop being MQL) under the draft, with their actual outcome."""
    r = resolve(con, scope)
    e2, p2 = compile_rules(con, draft[0])
    # Rename the draft's parameters so both expressions can live in one query.
    p2 = {f"d_{k}": v for k, v in p2.items()}
    e2 = re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", lambda m: "$d_" + m.group(1), e2)
    cte, params = _scored_cte(con, r, current[0], outcome_stage)
    q = f"""WITH {cte},
    both_ AS (SELECT s.lead_id, s.score AS current_score, {e2} AS draft_score, s.outcome,
                     l.channel, l.segment, l.sdr, l.created_at
              FROM scored s JOIN leads l ON l.lead_id = s.lead_id)
    SELECT lead_id, created_at, channel, segment, sdr, current_score, draft_score,
           CASE WHEN draft_score >= $t2 THEN 'becomes MQL' ELSE 'stops being MQL' END AS change,
           outcome = 1 AS reached_outcome
    FROM both_
    WHERE (current_score >= $t1) <> (draft_score >= $t2)
    ORDER BY change, reached_outcome DESC, draft_score DESC LIMIT {int(limit)}"""
    return run(con, q, {**params, **p2, "t1": float(current[1]), "t2": float(draft[1])})


def flip_counts(con, current: tuple, draft: tuple, scope: Scope = Scope(), outcome_stage: str = "SQL") -> dict:
    """How many leads flip each way and how many of those reached the outcome."""
    df = flipped_leads(con, current, draft, scope, outcome_stage, limit=10_000_000)
    out = {}
    for change in ("becomes MQL", "stops being MQL"):
        g = df[df["change"] == change]
        out[change] = {"leads": int(len(g)), "reached_outcome": int(g["reached_outcome"].sum())}
    return out


# ---------------------------------------------------------------------------------------------
# Suggest rules from history


def leak_suspects(con, scope: Scope = Scope(), outcome_stage: str = "SQL") -> list[str]:
    """Attribute columns that look filled in only after contact (by name, or blank almost only
    for leads without the outcome)."""
    cols = [c for c in store.lead_attribute_columns(con) if c not in NOT_FEATURES and c not in store.LEAD_CORE_COLUMNS]
    suspects = [c for c in cols if any(w in c.lower() for w in LEAK_WORDS)]
    r = resolve(con, scope)
    cte, params = _scored_cte(con, r, [], outcome_stage)
    for c in cols:
        if c in suspects:
            continue
        q = f"""WITH {cte}
        SELECT avg(CASE WHEN l.{store.quote_ident(c)} IS NULL THEN 1.0 ELSE 0.0 END) FILTER (WHERE outcome = 1) AS blank_pos,
               avg(CASE WHEN l.{store.quote_ident(c)} IS NULL THEN 1.0 ELSE 0.0 END) FILTER (WHERE outcome = 0) AS blank_neg
        FROM scored s JOIN leads l ON l.lead_id = s.lead_id"""
        row = run(con, q, params).iloc[0]
        if pd.notna(row["blank_pos"]) and pd.notna(row["blank_neg"]) and abs(row["blank_neg"] - row["blank_pos"]) > 0.5:
            suspects.append(c)
    return suspects


def suggest_rules(con, scope: Scope = Scope(), outcome_stage: str = "SQL", *, exclude: list[str] | None = None,
                  max_rows: int = 200_000, scale: float = 10.0, seed: int = 7) -> tuple[list[Rule], list[str]]:
    """Fit a logistic regression on historical leads and turn coefficients into rounded points.

    Features: each numeric attribute split at its median (>=), each yes/no attribute (is true),
    and each text attribute's most common values (=). Returns (rules, warnings); leaking columns
    (filled in only after contact) are left out and named in the warnings.
    """
    from sklearn.linear_model import LogisticRegression  # heavy import, only when asked

    r = resolve(con, scope)
    columns = store.lead_attribute_columns(con)
    leaks = set(leak_suspects(con, scope, outcome_stage))
    skip = NOT_FEATURES | leaks | set(exclude or [])
    feats = [c for c in columns if c not in skip]
    cte, params = _scored_cte(con, r, [], outcome_stage)
    sel = ", ".join(f"l.{store.quote_ident(c)}" for c in feats)
    df = run(con, f"WITH {cte} SELECT s.outcome{', ' + sel if sel else ''} FROM scored s JOIN leads l ON l.lead_id = s.lead_id "
                  f"USING SAMPLE {int(max_rows)} ROWS (reservoir, {int(seed)})", params)
    warnings = [f"Left out '{c}': it looks filled in only after sales contact, so it would leak the outcome."
                for c in sorted(leaks)]
    if df.empty or df["outcome"].nunique() < 2:
        return [], warnings + ["Not enough history: every lead has the same outcome, so nothing can be learned."]
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
            if x.max() <= cut:
                continue
            cut_txt = str(int(cut)) if cut.is_integer() else f"{cut:g}"
            candidates.append((Rule(c, ">=", cut_txt, 0), (x >= cut).fillna(False)))
        else:
            top = s.dropna().astype(str).value_counts()
            for v in top.index[:6]:
                if top[v] >= max(30, 0.01 * len(df)):
                    candidates.append((Rule(c, "=", v, 0), (s.astype(str) == v) & s.notna()))
    if not candidates:
        return [], warnings + ["No usable attribute was found to score on."]
    X = pd.concat([m.astype(float).rename(i) for i, (_, m) in enumerate(candidates)], axis=1)
    model = LogisticRegression(max_iter=500, C=1.0).fit(X.to_numpy(), df["outcome"].to_numpy())
    rules: list[Rule] = []
    for (rule, _), coef in zip(candidates, model.coef_[0]):
        pts = int(round(coef * scale))
        if pts != 0:
            group = "engagement" if any(w in rule.attribute for w in ("view", "click", "download", "webinar", "demo", "visit", "time")) else "fit"
            rules.append(Rule(rule.attribute, rule.operator, rule.value, float(pts), True, group))
    return rules, warnings
