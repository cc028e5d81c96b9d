"""Languages (issue #14) on the managing pages: Scoring what-if, Stage settings and Data render every
word in Chinese (no message without a translation, no English beyond data values and the listed
abbreviations), the scoring sentences keep their English, and the currency setting is an audited
edit whose symbol the pages then show."""
from __future__ import annotations

import os

import pytest

from conftest import ROOT, assert_clean
from funnel import i18n, markup, scoring
from i18n_support import english_words, visible_texts
from test_i18n import _data_values


def _chinese_page(db, page: str, state: dict | None = None, *, clicks: tuple[str, ...] = ()):
    """``page`` rendered in Chinese by AppTest on ``db`` (after setting ``state`` and clicking the
    buttons keyed ``clicks``), with the missing-translation record reset first."""
    from streamlit.testing.v1 import AppTest

    os.environ["FUNNEL_DB"] = str(db)
    i18n.reset_missing()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page(page)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    for key in clicks:
        # AppTest drops the switch's choice on a third run (the browser keeps it: test_browser_i18n), so
        # the session's language is set again as the switch would hold it.
        at.session_state["lang"] = "zh"
        at.button(key=key).click().run()
    return at


#: Besides i18n_support.ALLOWED: AUC (a statistician's abbreviation, read as is like KM) and the words
#: a reader types into a yes/no rule's value cell (scoring.TRUE_WORDS: the parser's own input, not prose).
KEPT = {"AUC", *scoring.TRUE_WORDS}


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


@pytest.mark.parametrize("state", [{}, {"threshold": 70.0, "sdr_capacity": 5.0}], ids=["current", "threshold-moved"])
def test_scoring_page_shows_no_untranslated_text_in_chinese(sample_db, state):
    at = _chinese_page(sample_db, "pages/scoring.py", state)
    texts = _assert_all_chinese(at, sample_db, min_texts=40)
    assert at.title[0].value == "线索评分模拟"
    assert any("阈值" in t for t in texts) and any("精确率" in t for t in texts)
    if state:   # a moved threshold: the finding and the flipped leads say what changes, in Chinese
        assert any("将阈值提高到 70" in t for t in texts)
        assert any("条线索会成为 MQL" in t or "没有线索会成为 MQL" in t for t in texts)


def test_scoring_suggestion_notes_are_in_the_readers_language(sample_db):
    at = _chinese_page(sample_db, "pages/scoring.py", clicks=("suggest_rules",))
    _assert_all_chinese(at, sample_db, min_texts=40)
    notes = [w.value for w in at.warning]
    assert any("阈值已设为" in n for n in notes)
    assert any("已排除" in n for n in notes)          # the sample's leaking columns, named in Chinese


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


def test_stage_settings_page_shows_no_untranslated_text_in_chinese(sample_db):
    at = _chinese_page(sample_db, "pages/stage_settings.py")
    texts = _assert_all_chinese(at, sample_db)
    assert at.title[0].value == "阶段设置"
    assert "线索漏斗" in texts and "商机漏斗" in texts and "负责团队" in texts


def test_stage_settings_name_a_bad_number_in_the_readers_language(sample_copy):
    at = _chinese_page(sample_copy, "pages/stage_settings.py",
                       {"stages_lead": {"edited_rows": {2: {"position": "third"}}, "added_rows": [], "deleted_rows": []}},
                       clicks=("save_lead",))
    assert [e.value for e in at.error] == ["阶段“SAL”：顺序必须是数字（或留空），而不是“third”。"]
    assert i18n.missing("zh") == set()
