"""Scoring rules that fit the imported data.

The shipped default rules are written for the sample data (segment, job title, page views, …). A
preset seeds its own rules on import, but only while the stored rules are still untouched: the
defaults, or the rules an earlier preset seeded. Rules a user edited are never overwritten; the
threshold is treated the same way on its own.
"""
from __future__ import annotations

import json
import tomllib
from importlib import resources

from .. import store
from ..i18n import Message, msg, msg_n

SCORING_SEED_KEY = "scoring_seed"


def preset_seed(name: str) -> dict:
    """``{"scoring_rules": rules, "scoring_threshold": t}`` for a preset from scoring_rules.toml ({} when
    it seeds none): rules as (attribute, operator, value, points, enabled, group) tuples."""
    table = tomllib.loads(resources.files("funnel.presets").joinpath("scoring_rules.toml").read_text("utf-8"))
    entry = table.get(name)
    if entry and "same_as" in entry:
        entry = table[entry["same_as"]]
    if not entry:
        return {}
    return {"scoring_rules": tuple(tuple(r) for r in entry["rules"]), "scoring_threshold": float(entry["threshold"])}


def _rule_key(rules) -> list[tuple]:
    return [(str(a), str(o).lower(), "" if v is None else str(v), float(p), bool(e), str(g or "fit"))
            for a, o, v, p, e, g in rules]


def _scoring_state(con) -> tuple[bool, bool, dict]:
    """(rules untouched, threshold untouched, the stored seed record)."""
    raw = store.get_setting(con, SCORING_SEED_KEY)
    try:
        seed = json.loads(raw) if raw else {}
    except ValueError:
        seed = {}
    rows = con.execute("SELECT attribute, operator, value, points, enabled, rule_group FROM scoring_rules "
                       "ORDER BY rule_id").fetchall()
    stored = _rule_key(rows)
    untouched_rules = stored == _rule_key(store.DEFAULT_RULES) or (
        "rules" in seed and stored == _rule_key(seed["rules"]))
    threshold = float(store.get_setting(con, "mql_threshold", str(store.DEFAULT_MQL_THRESHOLD)))
    known = {float(store.DEFAULT_MQL_THRESHOLD)} | ({float(seed["threshold"])} if seed.get("threshold") is not None
                                                     else set())
    return untouched_rules, threshold in known, seed


def scoring_is_untouched(con) -> bool:
    """True while the stored scoring rules are the shipped defaults or a preset's seeded rules."""
    return _scoring_state(con)[0]


def preset_scoring_rules(con, rules) -> list[tuple]:
    """The rules whose attribute this data has and fills for at least one lead."""
    columns = store.lead_attribute_columns(con)
    names = sorted({r[0] for r in rules if r[0] in columns})
    if not names:
        return []
    counts = con.execute("SELECT " + ", ".join(f"count({store.quote_ident(c)})" for c in names)
                         + " FROM leads").fetchone()
    filled = {c for c, n in zip(names, counts) if n}
    return [tuple(r) for r in rules if r[0] in filled]


def seed_scoring(con, rules, threshold: float | None, source: str) -> Message | None:
    """Store ``rules`` (and ``threshold``) as the current scoring if the stored ones are untouched.

    Runs inside the caller's transaction. Rules on columns this data lacks are dropped; when none
    is left nothing changes. Returns a sentence for the import message (None when nothing changed).
    """
    untouched_rules, untouched_threshold, _ = _scoring_state(con)
    usable = preset_scoring_rules(con, rules)
    if not usable:
        return None
    if not untouched_rules:
        return msg("Your edited scoring rules were kept: the rules this preset suggests for its data did not replace "
                   "them.")
    store.seed_scoring_rules(con, usable)
    con.execute("UPDATE scoring_scenarios SET is_current = FALSE")
    record = {"source": source, "rules": [list(r) for r in usable], "threshold": None}
    n = len(usable)
    said = msg_n("Scoring rules for this data were set up ({n} rule); edit them on the Scoring what-if page.",
                 "Scoring rules for this data were set up ({n} rules); edit them on the Scoring what-if page.", n, n=n)
    if threshold is not None and untouched_threshold:
        store.set_setting(con, "mql_threshold", str(float(threshold)))
        record["threshold"] = float(threshold)
        said = msg_n("Scoring rules for this data were set up ({n} rule, MQL threshold {threshold}); edit them on "
                     "the Scoring what-if page.",
                     "Scoring rules for this data were set up ({n} rules, MQL threshold {threshold}); edit them on "
                     "the Scoring what-if page.", n, n=n, threshold=f"{float(threshold):g}")
    store.set_setting(con, SCORING_SEED_KEY, json.dumps(record))
    return said


def restore_default_scoring(con) -> bool:
    """Put the shipped default rules (and threshold) back if the stored ones are a preset's untouched
    seed — e.g. after resetting to the sample data. Returns True when something changed."""
    untouched_rules, untouched_threshold, seed = _scoring_state(con)
    if not seed or not untouched_rules:
        return False
    with store.transaction(con):
        store.seed_scoring_rules(con)
        if untouched_threshold:
            store.set_setting(con, "mql_threshold", str(float(store.DEFAULT_MQL_THRESHOLD)))
        con.execute("DELETE FROM settings WHERE key = ?", [SCORING_SEED_KEY])
        store.bump_data_version(con)
    return True


