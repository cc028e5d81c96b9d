"""Languages (issue #14) on the managing pages: Scoring what-if, Stage settings and Data render every
word in Chinese (no message without a translation, no English beyond data values and the listed
abbreviations), the scoring sentences keep their English, and the currency setting is an audited
edit whose symbol the pages then show."""
from __future__ import annotations

import json
import re

import pytest

from conftest import assert_clean
from funnel import fmt, i18n, markup, scoring
from i18n_support import english_words, render_in_chinese, visible_texts
from test_i18n import _data_values





#: Besides i18n_support.ALLOWED: AUC (a statistician's abbreviation, read as is like KM), the words a
#: reader types into a yes/no rule's value cell (scoring.TRUE_WORDS: the parser's own input, not prose),
#: and the currencies' ISO codes and CLDR symbols (USD, US$, HK$: codes, the same in every language).
KEPT = {"AUC", *scoring.TRUE_WORDS, *fmt.CURRENCIES, *(fmt.currency_symbol(c, "zh") for c in fmt.CURRENCIES)}
#: On the Data page besides: product and data-set names (the CRMs' and the public data sets'), file
#: formats and units a Chinese team reads as they are.
NAMES = {"Salesforce", "HubSpot", "Olist", "Maven", "Education", "Excel", "Parquet", "TSV", "TXT", "XLSX", "API",
         "MB", "UTC", "ISO"}
_CODE = re.compile(r"`[^`]*`")


def _prose(texts) -> list[str]:
    """The texts without Markdown code spans (setting names, paths, commands: code, not prose)."""
    return [_CODE.sub(" ", t) for t in texts]


def _assert_all_chinese(at, db, *, min_texts: int = 20) -> list[str]:
    assert_clean(at)
    texts = visible_texts(at)
    assert len(texts) > min_texts
    assert i18n.missing("zh") == set(), f"shown in English for want of a translation: {i18n.missing('zh')}"
    values = _data_values(db)
    values |= {markup.md_text(v) for v in values}      # data in Markdown text is escaped (sdr\\_disposition)
    leftovers = english_words(texts, values | KEPT)
    assert not leftovers, f"English words on the Chinese page: {sorted(set(leftovers))}"
    return texts


# ---- Scoring what-if ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", [{}, {"threshold": 70.0, "sdr_capacity": 5.0}, {"present": True}],
                         ids=["current", "threshold-moved", "presentation"])
def test_scoring_page_shows_no_untranslated_text_in_chinese(sample_db, state):
    at = render_in_chinese(sample_db, "pages/scoring.py", state)
    texts = _assert_all_chinese(at, sample_db, min_texts=40)
    assert at.title[0].value == "线索评分模拟"
    assert any("阈值" in t for t in texts) and any("精确率" in t for t in texts)
    if "threshold" in state:   # a moved threshold: the finding and the flipped leads say what changes, in Chinese
        assert any("将阈值提高到 70" in t for t in texts)
        assert any("条线索会成为 MQL" in t or "没有线索会成为 MQL" in t for t in texts)


def test_scoring_suggestion_notes_are_in_the_readers_language(sample_db):
    at = render_in_chinese(sample_db, "pages/scoring.py", clicks=("suggest_rules",))
    _assert_all_chinese(at, sample_db, min_texts=40)
    notes = [w.value for w in at.warning]
    assert any("阈值已设为" in n for n in notes)
    assert any("已排除" in n for n in notes)          # the sample's leaking columns, named in Chinese


def test_a_bad_rule_is_said_in_the_readers_language(sample_db):
    at = render_in_chinese(sample_db, "pages/scoring.py",
                       {"rules_editor": {"edited_rows": {2: {"value": "lots"}}, "added_rows": [], "deleted_rows": []}})
    assert not at.exception
    # rule 3 is company_size >= …: the error names it, its value and what to type, in Chinese
    assert [markup.md_plain(e.value) for e in at.error] == [
        "第 3 条规则（company_size >= 'lots'）：“lots”不是数字。请输入数字，例如 8 或 2.5。"]
    assert i18n.missing("zh") == set()


def test_scoring_sentences_are_the_same_figures_in_both_languages():
    a = {"mqls_per_week": 1.5, "above": 3, "true_positives": 1, "precision": 1 / 3, "outcome_stage": "SQL"}
    b = {"mqls_per_week": 1.0, "above": 2, "true_positives": 1, "precision": 1 / 2, "outcome_stage": "SQL"}
    rules = [scoring.Rule("segment", "=", "Enterprise", 20)]
    m = scoring.explain_draft_message((rules, 15), (rules, 45), a, b)
    assert m.render("en") == scoring.explain_draft((rules, 15), (rules, 45), a, b) == (
        "Raising the threshold to 45 cuts MQLs by 33% (−0.5/week) and keeps all 1 MQLs that reached SQL "
        "(precision 33% → 50%).")
    assert m.render("zh") == "将阈值提高到 45：MQL 减少 33%（每周 −0.5 条），保留全部 1 条到达 SQL 的 MQL（精确率 33% → 50%）。"
    flips = {"becomes MQL": {"leads": 1200, "reached_outcome": 300}, "stops being MQL": {"leads": 0, "reached_outcome": 0}}
    assert scoring.describe_flips_message(flips, "SQL").render("zh") == \
        "1,200 条线索会成为 MQL（其中 300 条到达了 SQL），没有线索会不再是 MQL。"


# ---- Stage settings ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [{}, {"present": True}], ids=["editing", "presentation"])
def test_stage_settings_page_shows_no_untranslated_text_in_chinese(sample_db, state):
    at = render_in_chinese(sample_db, "pages/stage_settings.py", state)
    texts = _assert_all_chinese(at, sample_db)
    assert at.title[0].value == "阶段设置"
    assert "线索漏斗" in texts and "商机漏斗" in texts and "负责团队" in texts
    if state:   # no controls: the currency is said, not offered
        assert any(t.startswith("金额以 **USD · US$ · 美元** 显示") for t in texts)


def test_stage_settings_name_a_bad_number_in_the_readers_language(sample_copy):
    at = render_in_chinese(sample_copy, "pages/stage_settings.py",
                       {"stages_lead": {"edited_rows": {2: {"position": "third"}}, "added_rows": [], "deleted_rows": []}},
                       clicks=("save_lead",))
    assert [e.value for e in at.error] == ["阶段“SAL”：顺序必须是数字（或留空），而不是“third”。"]
    assert i18n.missing("zh") == set()


# ---- The currency setting ----------------------------------------------------------------------


def test_a_viewer_may_not_set_the_currency_and_nothing_changes(sample_copy):
    from funnel import fmt, store
    from funnel.access import PermissionDenied
    from test_access import VIEWER, _state

    con = store.connect(sample_copy)
    try:
        before = _state(con)
        with pytest.raises(PermissionDenied, match="Only editors and admins may"):
            fmt.save_currency(con, "CNY", actor=VIEWER)
        assert _state(con) == before
        assert fmt.currency(con) == "USD"
    finally:
        con.close()


def test_setting_the_currency_is_audited_bumps_the_data_version_and_wins_over_an_import(sample_copy):
    from funnel import audit, fmt, store
    from funnel.errors import ConfigError
    from test_access import EDITOR, _state

    con = store.connect(sample_copy)
    try:
        version = store.data_version(con)
        assert fmt.save_currency(con, "eur", actor=EDITOR) == "EUR"
        assert fmt.currency(con) == "EUR" and store.data_version(con) > version
        row = audit.entries(con, limit=1).iloc[0]
        assert (row["action"], row["actor_email"], row["actor_role"]) == ("currency", EDITOR.email, "editor")
        assert row["summary"] == "Set the currency to EUR (was USD)"
        assert json.loads(row["before"])["currency"] == "USD"
        assert json.loads(row["after"]) == {"currency": "EUR", "source": "user"}
        assert row["data_version_before"] == version
        assert fmt.set_currency(con, "CNY", from_import=True) == "EUR"   # an import never replaces a person's choice
        before = _state(con)
        with pytest.raises(ConfigError):
            fmt.save_currency(con, "XYZ", actor=EDITOR)                  # not ISO 4217: refused, nothing written
        assert _state(con) == before
    finally:
        con.close()


def test_the_currency_chosen_on_stage_settings_is_the_symbol_money_is_shown_with(sample_copy):
    from conftest import run_app
    from funnel import audit, fmt, store

    con = store.connect(sample_copy, read_only=True)
    try:
        median = store.median_deal_amount(con)
    finally:
        con.close()
    at = run_app(sample_copy, "pages/stage_settings.py")
    assert_clean(at)
    example = [c.value for c in at.caption if "median deal" in c.value]
    assert example == [f"For example, the median deal of this data reads {fmt.money(median, 'en', 'USD')}."]
    assert example[0].split("reads ")[1].startswith("$")
    at.selectbox(key="currency_code").set_value("CNY").run()
    at.button(key="save_currency").click().run()
    assert_clean(at)
    assert [c.value for c in at.caption if "median deal" in c.value] == \
        [f"For example, the median deal of this data reads {fmt.money(median, 'en', 'CNY')}."]
    assert fmt.money(median, "en", "CNY").startswith("CN¥")
    con = store.connect(sample_copy, read_only=True)
    try:
        assert fmt.currency(con) == "CNY"
        last = audit.entries(con, limit=1).iloc[0]
        assert (last["action"], last["summary"]) == ("currency", "Set the currency to CNY (was USD)")
    finally:
        con.close()
    zh = render_in_chinese(sample_copy, "pages/stage_settings.py")
    assert_clean(zh)
    shown = [c.value for c in zh.caption if "中位数" in c.value]
    assert shown == [f"例如，本数据中商机金额的中位数显示为 {fmt.money(median, 'zh', 'CNY')}。"]
    assert "¥" in shown[0] and "CN¥" not in shown[0]          # CLDR's Chinese symbol for CNY


# ---- Data ----------------------------------------------------------------------------------------


def _stored_records(db) -> set[str]:
    """Records the database keeps as data (who ran each import): shown as stored. (The runs' messages
    are said in the reader's language: test_i18n_records.)"""
    from funnel import store
    con = store.connect(db, read_only=True)
    try:
        return {str(v) for (v,) in con.execute("SELECT DISTINCT run_by FROM import_runs").fetchall() if v}
    finally:
        con.close()


@pytest.mark.parametrize("source", ["auto", "canonical"])
def test_data_page_shows_no_untranslated_text_in_chinese(sample_db, source):
    at = render_in_chinese(sample_db, "pages/data.py", {"imp_source": source})
    assert_clean(at)
    texts = visible_texts(at)
    assert at.title[0].value == "数据"
    assert i18n.missing("zh") == set(), f"shown in English for want of a translation: {i18n.missing('zh')}"
    kept = _data_values(sample_db) | KEPT | NAMES | _stored_records(sample_db)
    leftovers = english_words(_prose(texts), kept | {markup.md_text(v) for v in kept})
    assert not leftovers, f"English words on the Chinese page: {sorted(set(leftovers))}"
    assert "审计记录" in texts and "导入数据" in texts


def test_what_the_data_cannot_show_is_said_in_the_readers_language(sample_db, tmp_path):
    """A check's note (here: no deals at all) in Chinese on the Data page, in English by default."""
    import shutil

    from funnel import limitations, store
    db = tmp_path / "no_deals.duckdb"
    shutil.copy(sample_db, db)
    con = store.connect(db)
    try:
        con.execute("DELETE FROM opportunity_events")
        con.execute("DELETE FROM opportunities")
        store.refresh_derived(con)
        notes = limitations.limitations(con)
        assert limitations.data_limitations(con, "forecast") == [
            "There are no opportunities: the pipeline, the forecast, win rates and the backtest cannot be computed."]
        assert limitations.data_limitations(con, "forecast", lang="zh") == ["没有商机：无法计算销售管道、预测、赢单率和回测。"]
        kept = limitations.limitation_findings(con)       # kept as JSON in the settings: the message survives
        assert kept["notes"] == limitations.limitation_findings(con)["notes"] and kept["notes"][0]["message"]
    finally:
        con.close()
    assert [n["code"] for n in notes] == ["no_opportunities"]
    at = render_in_chinese(db, "pages/data.py")
    assert_clean(at)
    assert any("没有商机：无法计算销售管道" in i.value and "销售管道与预测" in i.value for i in at.info)
    assert i18n.missing("zh") == set()


def test_a_check_with_parameters_renders_its_figures_for_the_reader():
    from datetime import date

    from funnel import limitations
    one_date = next(c for c in limitations.CHECKS if c.code == "one_date")
    note = {"text": "", "message": limitations._check_message(one_date, {"first_created": date(2026, 3, 5)})}
    assert limitations.note_text({**note, "text": limitations._message(note["message"]).render("en")}) == \
        "All leads share one creation date (05 Mar 2026): there are no cohorts, trends or week-on-week changes."
    assert limitations.note_text(note, "zh") == "所有线索的创建日期相同（2026年3月5日）：没有同期群、趋势或周环比变化。"
    sdr = next(c for c in limitations.CHECKS if c.code == "won_only_sdr")
    assert limitations._message(limitations._check_message(sdr, {})).render("en") == \
        "SDR is known only for won leads: conversion rates by SDR would be 100% and mean nothing."
    blocked = limitations.notes_for_page({"notes": [], "codes": ["no_leads"]}, "scoring", lang="zh")["blocked"]
    assert blocked["finding"] == "该数据没有线索，因此没有可评分的对象。"


def test_a_refused_stage_edit_is_said_in_the_readers_language(sample_copy):
    from funnel import store
    at = render_in_chinese(sample_copy, "pages/stage_settings.py",
                       {"stages_lead": {"edited_rows": {2: {"position": "2"}}, "added_rows": [], "deleted_rows": []}},
                       clicks=("save_lead",))
    assert [markup.md_plain(e.value) for e in at.error] == [
        "阶段设置未保存：有两个线索阶段的顺序相同；请为每个漏斗阶段设置不同的序号。"]
    assert i18n.missing("zh") == set()
    # the library's English is as it was (the CLI and other callers read it)
    con = store.connect(sample_copy, read_only=True)
    try:
        rows = [{**r, "position": 2} if r["stage"] == "SAL" else r for r in store.stage_config_rows(con)]
    finally:
        con.close()
    assert store.validate_stage_config(rows) == [
        "Two lead stages share a position; give each funnel stage its own number."]
