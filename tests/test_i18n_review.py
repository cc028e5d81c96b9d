"""The weekly-review surfaces in Simplified Chinese (issue #14): the Overview, Review history, the
frame around them (navigation, sidebar filters, presentation toggle) and the offline HTML export.
Every word on screen is Chinese, no message is looked up without a translation, and the figures
are one computation shown in either language."""
from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest

from browser_support import app_pages
from conftest import ROOT, assert_clean, page_finding, run_app
from funnel import fmt, i18n
from i18n_support import english_words, visible_texts
from test_i18n import _data_values

CJK = re.compile(r"[\u4e00-\u9fff]")


def _shown_as_data(db) -> set[str]:
    """Data values (test_i18n's), plus what this page shows as it is: the currency's symbol in
    Chinese (US$ for the sample's dollars; escaped in Markdown) and the database's file name."""
    from funnel import store
    from funnel.markup import md_text
    con = store.connect(db)
    try:
        symbol = fmt.currency_symbol(fmt.currency(con), "zh")
    finally:
        con.close()
    from funnel import overview
    con = store.connect(db)
    try:
        savers = set(overview.snapshots(con)["saved_by"])        # who saved a review: a name, as given
    finally:
        con.close()
    return _data_values(db) | {symbol, md_text(symbol), db.name} | savers


def _assert_all_chinese(at, db, *, where=None, also=frozenset()):
    texts = visible_texts(where or at)
    assert i18n.missing("zh") == set(), f"shown in English for want of a translation: {i18n.missing('zh')}"
    leftovers = english_words(texts, _shown_as_data(db) | set(also))
    assert not leftovers, f"English words on the Chinese page: {sorted(set(leftovers))}"
    return texts


def _with_saved_reviews(db):
    """Two saved reviews a month apart, so Review history has a chart, a landed month and a table."""
    from funnel import overview, store
    from funnel.query import Scope
    con = store.connect(db)
    try:
        for day in (date(2026, 10, 16), date(2026, 11, 13)):
            scope = Scope(as_of=day)
            overview.save_snapshot(con, scope, overview.review_figures(con, scope), saved_by="ann")
    finally:
        con.close()
    return db


# ---- the pages in Chinese ----------------------------------------------------------------------


def test_overview_shows_no_untranslated_text_in_chinese(sample_db):
    i18n.reset_missing()
    at = run_app(sample_db, "pages/overview.py", query={"lang": "zh"})
    assert_clean(at)
    texts = _assert_all_chinese(at, sample_db)
    assert at.title[0].value.startswith("周度业务回顾——截至 ") and at.title[0].value.endswith("的一周")
    assert len(texts) > 30
    # the tiles, the highlights and the funnel and waterfall are there, in Chinese
    assert [m.label for m in at.metric][:5] == ["新增线索", "MQL 数", "SQL 数", "退回率", "新建管道金额"]
    notes = [m.value for m in at.markdown if re.match(r"\*\*\d\.\*\*", m.value)]
    assert len(notes) >= 3 and all(CJK.search(n) for n in notes), notes
    assert any(n.startswith("**3.** 最佳渠道：") for n in notes), notes
    assert CJK.search(page_finding(at))
    # the waterfall's title and the funnel's labels are among the texts checked above
    assert any(t.startswith(("未结管道增加了", "未结管道减少了")) for t in texts), texts


def test_the_frame_around_the_pages_is_chinese_too(sample_db):
    """The sidebar (filters, their help, the signed-in line) and the presentation toggle. The home page
    (the Overview) is run without switching: AppTest's switch_page runs a page without app.py."""
    i18n.reset_missing()
    at = run_app(sample_db, None, query={"lang": "zh"})
    assert_clean(at)
    from funnel import access
    # Kept as they are: the language switch names each language in its own words ("语言 · Language",
    # "English"), and the signed-in line names the person (here the OS user).
    sidebar = _assert_all_chinese(at, sample_db, where=SimpleNamespace(main=at.sidebar),
                                  also={"语言 · Language", "English", access.local_admin().name})
    assert "统计日（当天结束时）" in sidebar and "线索创建起始日" in sidebar and "全部" in sidebar
    assert any(t.startswith("数据库：") for t in sidebar)
    toggle = at.toggle(key="present")
    assert toggle.label == "演示模式" and CJK.search(toggle.help)


def test_navigation_titles_and_sections_are_translated():
    """st.navigation's labels are the st.Page titles app.py gives: each one in the session's language."""
    pages = app_pages(ROOT / "app.py")
    assert len(pages) >= 10
    for p in pages:
        for text in (p.title, p.section):
            zh = i18n.translate("zh", text)
            assert zh != text and CJK.search(zh), f"{text!r} has no Chinese title"


def test_review_history_without_saved_reviews_in_chinese(sample_db):
    i18n.reset_missing()
    at = run_app(sample_db, "pages/review_history.py", query={"lang": "zh"})
    assert_clean(at)
    _assert_all_chinese(at, sample_db)
    assert at.title[0].value == "复盘历史"
    assert "还没有保存的复盘" in at.info[0].value


def test_review_history_shows_no_untranslated_text_in_chinese(sample_copy):
    db = _with_saved_reviews(sample_copy)
    i18n.reset_missing()
    at = run_app(db, "pages/review_history.py", query={"lang": "zh", "as_of": "2026-11-20"})
    assert_clean(at)
    texts = _assert_all_chinese(at, db)
    assert at.title[0].value == "复盘历史"
    assert "平均偏差" in page_finding(at)
    assert any(t.startswith("每月预测在历次复盘间的变化") for t in texts)        # the chart's title
    landed, saved = at.dataframe[0].value, at.dataframe[1].value
    assert list(landed.columns) == ["月", "最后一次预测", "实际赢单", "偏差"]
    assert list(landed["月"]) == ["2026年10月"]
    assert list(saved["统计日"]) == ["2026年10月16日", "2026年11月13日"]
    assert set(saved["筛选条件"]) == {"无"}
    assert any("共 2 次已保存的复盘" in c.value for c in at.caption)


def test_review_history_reads_the_same_in_english(sample_copy):
    """The English page is unchanged by the conversion (the browser tests read these sentences)."""
    db = _with_saved_reviews(sample_copy)
    at = run_app(db, "pages/review_history.py", query={"as_of": "2026-11-20"})
    assert_clean(at)
    assert at.title[0].value == "Review history"
    assert page_finding(at).startswith("The last forecast before each month closed was off by ")
    assert list(at.dataframe[0].value.columns) == ["Month", "Last forecast", "Actually won", "Error"]
    assert list(at.dataframe[0].value["Month"]) == ["Oct 2026"]
    assert any("2 saved reviews, for any filters; the latest is the review of 13 Nov 2026" in c.value
               for c in at.caption)


# ---- the highlights: one computation, two languages ----------------------------------------------


def test_highlights_are_messages_with_the_english_text_kept(sample_db):
    from funnel import overview, store
    from funnel.query import Scope
    con = store.connect(sample_db)
    try:
        notes = overview.highlights(con, Scope())
    finally:
        con.close()
    assert len(notes) >= 3
    for n in notes:
        en, zh = n["message"].render("en"), n["message"].render("zh")
        assert en == n["text"]
        assert CJK.search(zh) and not english_words([zh], _shown_as_data(sample_db))
        # the same counts and shares (money is written in 万 in Chinese: compared in the export test)
        if n["kind"] in ("best", "worst", "rejections"):
            assert sorted(re.findall(r"\d[\d,.]*%?", en)) == sorted(re.findall(r"\d[\d,.]*%?", zh)), (en, zh)


# ---- the offline HTML export ------------------------------------------------------------------


def _overview_export(db, lang):
    """The Overview's export as the page builds it (funnel.export.overview_html), in ``lang``."""
    from datetime import datetime, timedelta

    from funnel import conversion, export, forecast, overview, store
    from funnel.charts import conversion as conversion_charts
    from funnel.charts import forecast as forecast_charts
    from funnel.query import Scope
    con = store.connect(db)
    try:
        scope = Scope(as_of=date(2026, 11, 20))
        kpis = overview.weekly_kpis(con, scope, 12)
        notes = overview.highlights(con, scope, kpis)
        headline = overview.headline_forecast(con, scope)
        was = overview.compare_with_snapshot(overview.previous_snapshot(con, scope), scope.as_of)
        cur = fmt.currency(con)
        changes = forecast.pipeline_changes(con, scope, scope.as_of - timedelta(days=7), scope.as_of)
        _ = i18n.gettext_for(lang)
        figures = [(_("Funnel"), conversion_charts.funnel_chart(conversion.stage_conversion(con, scope), compact=True,
                                                                 lang=lang)),
                   (_("Open pipeline since last week"), forecast_charts.waterfall_chart(changes, lang=lang,
                                                                                       currency=cur))]
        text = export.overview_html(kpis, notes, headline, was, figures, "scope", lang=lang, currency=cur,
                                    exported_at=datetime(2026, 11, 20, 9, 30))
        return text, kpis, headline, cur
    finally:
        con.close()


def _without_scripts(html: str) -> str:
    """The document's own text: its style sheet, Plotly's inlined library and the figures' JSON left out."""
    return re.sub(r"<(script|style).*?</\1>", "", html, flags=re.S)


def _cells(html: str, cls: str) -> list[str]:
    return re.findall(rf"<div class='{cls}'>(.*?)</div>", html)


def test_html_export_in_chinese_has_chinese_headings_and_the_same_figures(sample_copy):
    db = _with_saved_reviews(sample_copy)      # the forecast tiles then say what the last review forecast
    en_html, kpis, headline, cur = _overview_export(db, "en")
    zh_html, *_ = _overview_export(db, "zh")
    en, zh = _without_scripts(en_html), _without_scripts(zh_html)

    assert "<html lang='en'>" in en and "<html lang='zh-CN'>" in zh
    assert "<h1>Weekly review — week ending 20 Nov 2026</h1>" in en
    assert "<h1>周度业务回顾——截至 2026年11月20日 的一周</h1>" in zh
    headings = re.findall(r"<h2>(.*?)</h2>", zh)
    assert headings == ["本周要点", "漏斗", "上周以来的未结管道", "最近 12 周"], headings
    assert re.findall(r"<h2>(.*?)</h2>", en) == ["Highlights", "Funnel", "Open pipeline since last week", "Last 12 weeks"]
    assert "于 2026年11月20日 09:30 从 Funnelcast 导出" in zh
    assert not english_words(re.findall(r">([^<>]+)<", zh), _shown_as_data(db) | {"Funnelcast", "scope"})

    # The same tiles, each value the same figure written in each language.
    labels_en, labels_zh = _cells(en, "label"), _cells(zh, "label")
    assert len(labels_en) == len(labels_zh) == 8        # 5 weekly tiles, won so far, month and quarter forecast
    assert labels_zh[:5] == ["新增线索", "MQL 数", "SQL 数", "退回率", "新建管道金额"]
    assert labels_zh[5:] == ["2026年11月至今赢单", "2026年11月加权预测", "2026年第四季度加权预测"]
    this = kpis.iloc[-1]
    expected = [(fmt.count_short(this.new_leads, lg), fmt.count_short(this.mqls, lg), fmt.count_short(this.sqls, lg),
                 fmt.pct(this.rejection_rate, lg), fmt.money(this.pipeline_created, lg, cur),
                 fmt.money(headline["won_month"], lg, cur), fmt.money(headline["month"].weighted, lg, cur),
                 fmt.money(headline["quarter"].weighted, lg, cur)) for lg in ("en", "zh")]
    assert [v.replace("&#x27;", "'") for v in _cells(en, "value")] == list(expected[0])
    assert _cells(zh, "value") == list(expected[1])
    deltas_en, deltas_zh = _cells(en, "delta"), _cells(zh, "delta")
    assert deltas_en[6].startswith("P10–P90 ") and " · was " in deltas_en[6]     # the saved review of 13 Nov
    assert deltas_zh[6].startswith("P10–P90：") and "2026年11月13日 复盘时为 " in deltas_zh[6]
    # Counts, shares and changes read alike in both languages; money is 万 / 亿 in Chinese.
    for a, b in zip(deltas_en[:4], deltas_zh[:4]):
        assert re.findall(r"[+-]?\d[\d,.]*%?", a) == re.findall(r"[+-]?\d[\d,.]*%?", b), (a, b)

    # The highlights: the same sentences' figures, in the reader's language.
    items_en = re.findall(r"<li>(.*?)</li>", en)
    items_zh = re.findall(r"<li>(.*?)</li>", zh)
    assert len(items_en) == len(items_zh) >= 3 and all(CJK.search(i) for i in items_zh)

    # The table: the same twelve weeks, counts and shares cell for cell.
    def table(html):
        rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html.split("<table")[-1], flags=re.S)
        return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, flags=re.S) for r in rows]
    t_en, t_zh = table(en), table(zh)
    assert t_zh[0] == ["周", "新增线索", "MQL 数", "SQL 数", "被退回", "退回率", "新建管道金额", "赢单"]
    assert len(t_en) == len(t_zh) == 13
    for r_en, r_zh in zip(t_en[1:], t_zh[1:]):
        assert r_en[1:6] == r_zh[1:6]                     # counts below 10万 and percentages: the same text
    assert t_zh[-1][0] == "11月14日–11月20日" and t_en[-1][0] == "14 Nov–20 Nov"
    assert [r[6] for r in t_zh[1:]] == [fmt.money(v, "zh", cur) for v in kpis["pipeline_created"]]
    assert [r[6] for r in t_en[1:]] == [fmt.money(v, "en", cur) for v in kpis["pipeline_created"]]


def test_command_line_review_in_chinese_has_the_same_figures(sample_copy):
    """``funnel.review.weekly_review_html`` (``python -m funnel review``) in either language."""
    from funnel import store
    from funnel.query import Scope
    from funnel.review import weekly_review_html
    con = store.connect(sample_copy)
    try:
        en = _without_scripts(weekly_review_html(con, Scope(as_of=date(2026, 10, 20))))
        zh = _without_scripts(weekly_review_html(con, Scope(as_of=date(2026, 10, 20)), lang="zh"))
    finally:
        con.close()
    assert "Weekly review — week ending 20 Oct 2026" in en
    assert "<h1>周度业务回顾——截至 2026年10月20日 的一周</h1>" in zh
    # the Overview's tiles: the command line writes the same file as the Overview's export button
    assert _cells(zh, "label")[:4] == ["新增线索", "MQL 数", "SQL 数", "退回率"]
    assert _cells(en, "value")[:3] == _cells(zh, "value")[:3]          # the week's counts
    assert len(_cells(en, "value")) == len(_cells(zh, "value"))
    assert {"达成概率", "团队与负责人"} <= set(re.findall(r"<h2>(.*?)</h2>", zh))


def test_bold_in_chinese_translations_closes_where_markdown_can_close_it():
    """Regression: "**自 {date} 的复盘以来：**{changes}" showed its asterisks on the Overview. A closing
    ``**`` right after punctuation (the full-width "：") and before a letter or figure is no closing
    delimiter in CommonMark; the colon goes after the bold text instead."""
    import unicodedata
    from babel.messages.pofile import read_po

    def punct(c: str) -> bool:
        return unicodedata.category(c).startswith("P")

    broken = []
    with i18n.po_path("zh").open("rb") as f:
        for entry in read_po(f, locale="zh"):
            for s in (entry.string if isinstance(entry.string, tuple) else (entry.string,)):
                marks = [m.start() for m in re.finditer(r"\*\*", s or "")]
                for closing in marks[1::2]:
                    before, after = s[closing - 1], s[closing + 2:closing + 3]
                    # a placeholder ("{changes}") is replaced by text: it counts as a letter here
                    if punct(before) and after and not after.isspace() and (after == "{" or not punct(after)):
                        broken.append(s)
    assert not broken, broken
