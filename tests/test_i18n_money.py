"""Simplified Chinese on the money pages (issue #14): Forecast (both methods) and Targets & plan
render every word in Chinese with amounts in the database's currency and Chinese units (万 / 亿);
their chart builders draw the same data in either language; the library's sentences render in
both languages from one computation."""
from __future__ import annotations

import re
import shutil
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from conftest import assert_clean, page_finding, run_app
from funnel import fmt, i18n
from funnel.charts import forecast as fc_charts
from funnel.charts import targets as tg_charts
from i18n_support import english_words, render_in_chinese, visible_texts
from test_i18n import _data_values

CJK = re.compile(r"[\u4e00-\u9fff]")
#: Chinese money text: an optional minus, the symbol, then a whole amount, or 万 / 亿.
ZH_MONEY = r"−?{symbol}(?:\d{{1,3}}(?:,\d{{3}})*|\d[\d,]*(?:\.\d)?万|\d[\d,]*\.\d\d亿)"
#: What a file must literally contain (the targets import's column names), named in the upload label.
FILE_COLUMNS = {"period, owner, amount", "owner, team", "XLSX"}


@pytest.fixture(scope="module")
def cny_db(sample_db, tmp_path_factory):
    """The sample database (with its targets and teams) in CNY, with one manager's call recorded (so the
    calls table and the latest call are drawn) and one owner's targets removed."""
    from funnel import access, store, targets
    from funnel.query import Scope, resolve

    path = tmp_path_factory.mktemp("money") / "cny.duckdb"
    shutil.copy(sample_db, path)
    con = store.connect(path)
    try:
        fmt.set_currency(con, "CNY")
        period = targets.tile_periods(resolve(con, Scope()).as_of)[0]
        admin = access.Actor("王经理", "admin")
        targets.record_call(con, period, "", commit_amount=300_000.0, best_case_amount=420_000.0,
                            note="两笔大单下周签约", scope=Scope(), actor=admin)
        stored = targets.stored_targets(con)          # one owner without targets: the "no target" paths
        last_owner = sorted(o for o in stored["owner"] if o)[-1]
        targets.save_targets(con, stored[stored["owner"] != last_owner], actor=admin, source="grid")
    finally:
        con.close()
    return path


def _owner_without_target(db) -> tuple[str, str]:
    """An opportunity owner without a target for the as-of month, and that month."""
    from funnel import store, targets
    from funnel.query import Scope, resolve
    con = store.connect(db)
    try:
        period = targets.tile_periods(resolve(con, Scope()).as_of)[0]
        stored = targets.stored_targets(con)
        with_target = set(stored[stored["period"] == period]["owner"])
        return next(o for o in targets.owner_choices(con) if o and o not in with_target), period
    finally:
        con.close()





def _money_data_values(db) -> set[str]:
    """test_i18n's data values and the names of the teams and target owners (data on these pages)."""
    from funnel import store
    con = store.connect(db)
    try:
        names = {str(v) for (v,) in con.execute("SELECT team FROM teams UNION SELECT owner FROM teams "
                                                "UNION SELECT owner FROM targets").fetchall()}
    finally:
        con.close()
    return _data_values(db) | {n for n in names if n}


def _assert_all_chinese(at, db):
    assert_clean(at)
    texts = visible_texts(at)
    assert len(texts) > 40 and sum(bool(CJK.search(t)) for t in texts) > 30
    assert i18n.missing("zh") == set(), f"shown in English for want of a translation: {i18n.missing('zh')}"
    leftovers = english_words(texts, _money_data_values(db) | FILE_COLUMNS)
    assert not leftovers, f"English words on the Chinese page: {sorted(set(leftovers))}"
    return texts


@pytest.mark.parametrize("method", ["configured", "historical"])
def test_forecast_page_in_chinese(cny_db, method):
    at = render_in_chinese(cny_db, "pages/forecast.py", {"method": method})
    texts = _assert_all_chinese(at, cny_db)
    assert at.title[0].value == "销售预测"
    assert at.segmented_control(key="method").value == method
    money = re.compile(ZH_MONEY.format(symbol="¥"))
    tiles = {m.label: m.value for m in at.metric}
    assert len(tiles) == 4 and "未结管道" in tiles and "逾期商机" in tiles
    open_pipeline = tiles["未结管道"]
    assert money.fullmatch(open_pipeline) and open_pipeline.endswith(("万", "亿")), open_pipeline
    assert any(label.endswith("预测") and "季度" in label for label in tiles)            # 2026年第四季度 预测
    finding = page_finding(at)
    assert finding.startswith("加权预测：") and money.search(finding) and "$" not in finding
    assert not any("$" in t for t in texts), "amounts in dollars on a CNY database"
    verdict = [m.value for m in at.markdown if "个月" in m.value and "准" in m.value]
    assert len(verdict) == 1


def test_targets_page_in_chinese(cny_db):
    at = render_in_chinese(cny_db, "pages/targets.py")
    texts = _assert_all_chinese(at, cny_db)
    assert at.title[0].value == "目标与计划"
    money = re.compile(ZH_MONEY.format(symbol="¥"))
    tiles = {m.label: m.value for m in at.metric}
    target_tiles = [v for k, v in tiles.items() if k.endswith(" 目标")]
    assert len(target_tiles) == 3
    assert all(v == "未设目标" or (money.fullmatch(v) and v.endswith("万")) for v in target_tiles), target_tiles
    assert any(k.startswith("2026年") and k.endswith("月 目标") for k in tiles)          # 2026年11月 目标
    finding = page_finding(at)
    assert "达成概率" in finding and money.search(finding) and "$" not in finding
    assert not any("$" in t for t in texts), "amounts in dollars on a CNY database"
    plan = [m.value for m in at.markdown if "缺口" in m.value and "赢单" in m.value]
    assert plan, "the demand plan's sentence is missing"
    assert "年" in plan[0] and "笔赢单" in plan[0]
    latest = [t.value for t in at.text if t.value.startswith("最新预测——")]
    assert latest and "¥30万" in latest[0] and "两笔大单下周签约" in latest[0] and "王经理" in latest[0]


def test_targets_page_in_chinese_for_an_owner_without_a_target(cny_db):
    owner, period = _owner_without_target(cny_db)
    at = render_in_chinese(cny_db, "pages/targets.py", {"targets_owner": owner})
    _assert_all_chinese(at, cny_db)
    from funnel import targets
    assert page_finding(at).startswith(f"{targets.period_title(period, 'zh')}（{owner}）：未设目标——已赢单 ¥")
    assert any(i.value == "为该期间设定目标，即可看到达成它需要什么。" for i in at.info)


def test_forecast_page_in_chinese_with_every_toggle(cny_db):
    at = render_in_chinese(cny_db, "pages/forecast.py", {"fc_wf_weighted": True, "fc_wf_horizon": True,
                                                           "fc_only_overdue": True})
    _assert_all_chinese(at, cny_db)
    assert any("只含" in c.value and "前成交的商机" in c.value and "赢率变化" in c.value for c in at.caption)
    deals = next(d.value for d in at.dataframe if "Overdue" in getattr(d.value, "columns", []))
    assert len(deals) and deals["Overdue"].str.fullmatch(r"⚠ 逾期 \d+ 天").all()
    assert deals["Counts in"].str.fullmatch(r"\d{4}年\d{1,2}月").all()


#: The data contract's names, the CLI and an export's name, which the "import deals" hint quotes as
#: they must be typed.
CONTRACT_NAMES = {"opportunities", "opportunity_events", "opportunity_id", "created_at", "amount", "close_date",
                  "stage", "entered_at", "python -m funnel import --opportunities opportunities.csv "
                  "--opportunity-events opportunity_events.csv", "Salesforce", "OpportunityHistory"}


def test_forecast_without_deals_explains_in_chinese(tmp_path):
    from builders import build_db
    db = tmp_path / "leads_only.duckdb"
    build_db(db, leads=[("L1", "2026-05-01 09:00", "webinar", "SMB", "Ann", "Xe")],
             lead_events=[("L1", "Lead", "2026-05-01 09:00")]).close()
    at = render_in_chinese(db, "pages/forecast.py")
    assert_clean(at)
    assert page_finding(at) == "预测需要商机数据：这个数据库只有线索，没有商机。"
    assert i18n.missing("zh") == set()
    leftovers = english_words(visible_texts(at), _data_values(db) | CONTRACT_NAMES)
    assert not leftovers, sorted(set(leftovers))


def test_money_pages_in_english_keep_the_currency_symbol(cny_db):
    at = run_app(cny_db, "pages/forecast.py", query={"lang": "en"})
    assert_clean(at)
    assert page_finding(at).startswith("Weighted forecast: CN¥")
    assert at.metric[2].label == "Open pipeline" and at.metric[2].value.startswith("CN¥")


# ---- chart builders: Chinese words, the same data ---------------------------------------------

WF = pd.DataFrame({
    "period": pd.to_datetime(["2026-06-01", "2026-06-01", "2026-07-01", "2026-09-01"]),
    "quarter": ["2026-Q2", "2026-Q2", "2026-Q3", "2026-Q3"],
    "stage": ["Qualify", "Negotiation", "Negotiation", "Qualify"],
    "position": [1, 4, 4, 1],
    "open_deals": [2, 1, 1, 1],
    "open_amount": [100000.0, 180000.0, 150000.0, 500000.0],
    "weighted_amount": [10000.0, 135000.0, 112500.0, 50000.0],
})
RANGES = pd.DataFrame({"period": ["2026-06", "2026-07", "total"], "open_deals": [3, 2, 5],
                       "open_amount": [310000.0, 250000.0, 560000.0], "weighted_amount": [160000.0, 137500.0, 297500.0],
                       "mean": [160100.0, 137400.0, 297500.0], "p10": [0.0, 25000.0, 120000.0],
                       "p50": [180000.0, 150000.0, 300000.0], "p90": [260000.0, 250000.0, 450000.0],
                       "std_error": [866.0, 800.0, 1200.0]})
ROLLUP = pd.DataFrame({"horizon": ["month", "quarter"], "label": ["June 2026", "Q2 2026"],
                       "start": [date(2026, 6, 1), date(2026, 4, 1)],
                       "closed_won": [40000.0, 130000.0], "commit_total": [220000.0, 310000.0],
                       "best_case_total": [220000.0, 310000.0], "pipeline_total": [350000.0, 440000.0]})
CHANGES = pd.DataFrame({
    "step": ["start", "new", "advanced", "moved back", "pulled in", "pushed out", "amount up", "amount down", "won",
             "lost", "end"],
    "amount": [1070000.0, 80000.0, 0.0, 0.0, 0.0, 0.0, 30000.0, -20000.0, -40000.0, -60000.0, 1060000.0],
    "deals": [7, 1, 1, 1, 0, 0, 1, 1, 1, 1, 6],
})
BACKTEST = pd.DataFrame({"period": ["2026-04", "2026-04", "2026-05", "2026-05"],
                         "method": ["configured", "historical"] * 2,
                         "forecast": [100000.0, 150000.0, 200000.0, 260000.0],
                         "actual": [110000.0, 110000.0, 190000.0, 190000.0],
                         "error": [-1 / 11, 4 / 11, 1 / 19, 7 / 19], "open_deals": [3, 3, 4, 4]})
DAYS = pd.DataFrame({"day": pd.date_range(date(2026, 11, 1), periods=3, freq="D"),
                     "cumulative_won": [0.0, 50000.0, 50000.0], "pace_amount": [10000.0, 20000.0, 30000.0]})
BREAKDOWN = pd.DataFrame({"owner": ["", "Team East", "Ana"], "kind": ["everyone", "team", "owner"],
                          "has_target": [True, True, True], "amount": [300000.0, 200000.0, 100000.0],
                          "attainment": [0.5, 0.4, 0.7], "expected_attainment": [0.8, 0.7, 0.9],
                          "gap": [150000.0, 120000.0, 30000.0]})
PLAN = {"gap": 600000.0, "needed": [{"stage": "Lead", "needed": 170.0}, {"stage": "MQL", "needed": 40.0},
                                    {"stage": "Customer", "needed": 3.1}], "reasons": [], "reason_messages": []}


def _values(fig) -> list:
    """The data a figure draws (no words): every trace's numbers and its number of points."""
    out = []
    for t in fig.data:
        for key in ("y", "base", "measure") if not isinstance(t, go.Funnel) else ("x",):
            v = getattr(t, key, None)
            if v is not None:
                out.append([float(x) if isinstance(x, (int, float)) else x for x in v])
    return out


def _words(fig) -> list[str]:
    texts = [fig.layout.title.text or "", *(a.text for a in fig.layout.annotations)]
    for axis in ("xaxis", "yaxis"):
        texts.append(getattr(fig.layout, axis).title.text or "")
        texts.extend(getattr(fig.layout, axis).ticktext or ())
    for t in fig.data:
        texts.extend([t.name or "", t.hovertemplate or ""])
        texts.extend(v for v in (getattr(t, "text", None) or ()) if isinstance(v, str))
        texts.extend(v for v in (t.x if t.x is not None and not isinstance(t, go.Bar) or isinstance(t, go.Waterfall)
                                 else ()) if isinstance(v, str))
    return texts


BUILDS = {
    "by_month": lambda **kw: fc_charts.forecast_by_period_chart(WF, "month", **kw),
    "by_quarter": lambda **kw: fc_charts.forecast_by_period_chart(WF, "quarter", **kw),
    "ranges": lambda **kw: fc_charts.ranges_chart(RANGES, **kw),
    "categories": lambda **kw: fc_charts.category_chart(ROLLUP, **kw),
    "waterfall": lambda **kw: fc_charts.waterfall_chart(CHANGES, **kw),
    "waterfall_weighted": lambda **kw: fc_charts.waterfall_chart(CHANGES, weighted=True, **kw),
    "backtest": lambda **kw: fc_charts.backtest_chart(BACKTEST, **kw),
    "outcomes": lambda **kw: tg_charts.outcome_chart([100000.0, 250000.0, 400000.0, 650000.0], 300000.0, 0.5,
                                                     "2026年11月" if kw.get("lang") == "zh" else "November 2026", **kw),
    "cumulative": lambda **kw: tg_charts.cumulative_won_chart(DAYS, 300000.0, "2026年11月" if kw.get("lang") == "zh"
                                                              else "November 2026", **kw),
    "attainment": lambda **kw: tg_charts.attainment_chart(BREAKDOWN, **kw),
    "reverse_funnel": lambda **kw: tg_charts.reverse_funnel_chart(PLAN, **kw),
}


@pytest.mark.parametrize("name", list(BUILDS))
def test_chinese_chart_has_chinese_words_and_the_same_data(name):
    en = BUILDS[name](lang="en", currency="CNY")
    zh = BUILDS[name](lang="zh", currency="CNY")
    assert _values(zh) == _values(en)
    assert CJK.search(zh.layout.title.text), zh.layout.title.text
    for axis in ("xaxis", "yaxis"):
        title = getattr(zh.layout, axis).title.text
        assert title is None or CJK.search(title), title
    data_values = {"Qualify", "Negotiation", "Lead", "MQL", "Customer", "Team East", "Ana"}
    leftovers = english_words(_words(zh), data_values)
    assert not leftovers, f"{name}: English words in the Chinese chart: {sorted(set(leftovers))}"
    assert not any("$" in w for w in _words(zh))
    assert i18n.missing("zh") == set()


def test_chinese_money_in_charts_uses_wan_and_the_currency():
    fig = fc_charts.forecast_by_period_chart(WF, "month", lang="zh", currency="CNY")
    totals = [t for t in fig.data if isinstance(t, go.Scatter)][0]
    assert list(totals.text) == ["¥14.5万", "¥11.2万", "¥5万"]
    assert fig.layout.title.text == "2026年6月 加权预测 ¥14.5万"
    assert fig.layout.xaxis.title.text == "预计成交月份"
    ticks = list(fig.layout.yaxis.ticktext)
    assert ticks[0] == "¥0" and all(t.startswith("¥") for t in ticks)
    assert list(fig.layout.yaxis.tickvals) == sorted(fig.layout.yaxis.tickvals)
    q = fc_charts.forecast_by_period_chart(WF, "quarter", lang="zh", currency="CNY")
    assert list(q.data[0].x) == ["2026年第二季度", "2026年第三季度"]
    w = fc_charts.waterfall_chart(CHANGES, lang="zh", currency="USD")
    assert w.data[0].text[0] == "US$107万" and w.data[0].text[1] == "+US$8万" and w.data[0].text[2] == "1 笔商机"
    assert w.layout.title.text == "未结管道减少了 US$1万；变动最大的是新增商机（+US$8万）"


def test_money_ticks_are_round_and_never_finer_than_chinese_money_text():
    ticks = fc_charts.money_ticks(1_000_000, 1_030_000)
    texts = [fmt.money(v, "zh", "CNY") for v in ticks]
    assert len(set(texts)) == len(texts)                      # no two ticks read the same
    assert fc_charts.money_ticks(0, 100) == [0, 20, 40, 60, 80, 100, 120]        # one step past the data
    assert fc_charts.money_ticks(0, 147_000) == [0, 50_000, 100_000, 150_000]
    assert fc_charts.money_ticks(0, 5e8)[:3] == [0, 1e8, 2e8]


# ---- the library's sentences: one computation, two languages ------------------------------------


def test_backtest_verdict_and_method_note_in_chinese():
    from funnel import forecast
    s = pd.DataFrame({"method": ["configured", "historical"], "months": [12, 12], "mape": [0.053, 0.323],
                      "bias": [0.04, 0.32]})
    m = forecast.backtest_verdict_message(s)
    assert m.render("en") == forecast.backtest_verdict(s)
    assert m.render("zh") == ("过去 12 个月，设定赢率更准确：其预测与实际赢单金额平均相差 5.3%，历史赢单率则为 32.3%，"
                              "偏差小 27.0 个百分点。")
    rates = pd.DataFrame({"stage": ["Qualify", "Discovery", "Proposal"], "closed": [6, 5, 40],
                          "enough_history": [False, False, True]})
    note = forecast.method_note_message(rates, "historical")
    assert note.render("en") == forecast.method_note(rates, "historical")
    assert note.render("en").startswith("Too little history for Qualify (6 closed), Discovery (5 closed):")
    assert note.render("zh").startswith("Qualify（已关闭 6 笔）、Discovery（已关闭 5 笔）的历史数据太少")


def test_plan_sentence_in_chinese_has_the_same_figures():
    from funnel import targets
    plan = {"period": "2026-06", "gap": 60000.0, "won_deals_needed": 3.08, "opportunities_needed": 3.85,
            "leads_needed": 16.9, "leads_by": date(2026, 4, 12), "run_rate": 0.67, "as_of": date(2026, 6, 15),
            "reasons": []}
    en = i18n.render(targets.plan_messages(plan), "en")
    assert en == targets.plan_sentence(plan) == (
        "To close the $60k gap in June 2026 we need about 3 more wins: ~4 new opportunities or ~17 new leads "
        "created by 12 April 2026; at today's run rate we create 1 lead a month. That date has passed: leads "
        "created from now on arrive too late on average for this period.")
    zh = i18n.render(targets.plan_messages(plan, "CNY"), "zh")
    assert zh == ("要弥补 2026年6月 的 ¥6万 缺口，还需要约 3 笔赢单：约 4 个新商机，或约 17 条新线索（须在 2026年4月12日 "
                  "前创建）；按目前的速度，我们每月新增 1 条线索。这个日期已经过去：从现在起创建的线索平均来说赶不上这个期间。")
    a = {"avg_won_amount": None, "win_rate": None, "stages": [{"stage": "Lead", "position": 1, "reached": 5,
                                                               "step_rate": None}],
         "lead_to_won_days": None, "run_rate": 0.0, "as_of": date(2026, 6, 15), "cohort_from": date(2025, 3, 17),
         "cohort_to": date(2026, 3, 17)}
    p = targets.demand_plan(a, 1000, "2026-Q3")
    assert [m.render("en") for m in p["reason_messages"]] == p["reasons"]
    assert i18n.render(targets.plan_messages(p, "CNY"), "zh").startswith("2026年第三季度 的 ¥1,000 缺口无法换算成商机：")
    assert targets.period_title("2026-Q3", "zh") == "2026年第三季度" and targets.period_title("2026-Q3") == "Q3 2026"




@pytest.mark.parametrize("page", ["pages/forecast.py", "pages/targets.py"])
def test_money_pages_in_chinese_presentation_mode(cny_db, page):
    """Presentation mode wraps the chart titles by display width and hides the editors: still every
    word in Chinese."""
    at = render_in_chinese(cny_db, page, {"present": True})
    _assert_all_chinese(at, cny_db)
    assert not [b for b in at.button if b.key in ("adopt_historical", "reset_probabilities", "save_teams")]


@pytest.mark.parametrize("name", ["by_month", "ranges", "categories", "waterfall", "backtest", "outcomes",
                                  "cumulative", "attainment", "reverse_funnel"])
def test_chinese_empty_charts_say_why_in_chinese(name):
    empty = {"by_month": lambda: fc_charts.forecast_by_period_chart(pd.DataFrame(), lang="zh"),
             "ranges": lambda: fc_charts.ranges_chart(pd.DataFrame(), lang="zh"),
             "categories": lambda: fc_charts.category_chart(pd.DataFrame(), lang="zh"),
             "waterfall": lambda: fc_charts.waterfall_chart(pd.DataFrame(), lang="zh"),
             "backtest": lambda: fc_charts.backtest_chart(pd.DataFrame(), lang="zh"),
             "outcomes": lambda: tg_charts.outcome_chart([], None, None, "2026年11月", lang="zh"),
             "cumulative": lambda: tg_charts.cumulative_won_chart(DAYS.assign(cumulative_won=0.0, pace_amount=None),
                                                                  None, "2026年11月", lang="zh"),
             "attainment": lambda: tg_charts.attainment_chart(BREAKDOWN.iloc[:1], lang="zh"),
             "reverse_funnel": lambda: tg_charts.reverse_funnel_chart({}, lang="zh")}
    i18n.reset_missing()
    fig = empty[name]()
    assert not fig.data
    note = fig.layout.annotations[0].text
    assert CJK.search(note) and not english_words([note], set()), note
    assert i18n.missing("zh") == set()
