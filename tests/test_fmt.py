"""funnel.fmt: English exactly as the pages showed it before languages existed (ui.fmt_*,
labels.money / labels.duration), Chinese by the rules in funnel/fmt.py's docstring, pinned here."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel import fmt, labels

# ---- English: byte-identical to the formatting the pages used ---------------------------------

amounts = st.one_of(st.none(), st.just(float("nan")), st.floats(min_value=-5e10, max_value=5e10),
                    st.integers(min_value=-10**10, max_value=10**10))


@settings(max_examples=400, deadline=None)
@given(amounts)
def test_english_matches_ui_formatting(x):
    import ui
    assert fmt.money(x, "en", "USD") == ui.fmt_money(x) == labels.money(x)
    assert fmt.pct(x, "en") == ui.fmt_pct(x)
    assert fmt.pct(x, "en", 0) == ui.fmt_pct(x, 0)
    assert fmt.count_short(x, "en") == ui.fmt_int(x)
    assert fmt.number(x, "en") == ui.fmt_num(x)
    assert fmt.number(x, "en", 0) == ui.fmt_num(x, 0)
    assert fmt.duration(x, "en", short=True) == ui.fmt_days(x)
    assert fmt.duration(x, "en") == labels.duration(x)
    assert fmt.hours(x, "en") == ui.fmt_hours(x)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_english_dates_match_ui(d):
    import ui
    assert fmt.date(d, "en") == ui.fmt_date(d)
    assert fmt.date(datetime(d.year, d.month, d.day, 13, 5), "en") == ui.fmt_date(d)


def test_english_golden():
    assert fmt.money(1_250_000, "en") == "$1.25M"
    assert fmt.money(-40_000, "en") == "−$40k"
    assert fmt.money(5_000, "en", "EUR") == "€5k"
    assert fmt.month(date(2026, 11, 1), "en") == "Nov 2026"
    assert fmt.week(date(2026, 11, 16), "en") == "wk 16 Nov 2026"   # the cohort charts' label
    assert fmt.quarter(date(2026, 11, 20), "en") == "Q4 2026"          # forecast.quarter_label's form
    assert fmt.day_month(date(2026, 11, 20), "en") == "20 Nov"
    assert fmt.times(1.333, "en") == "1.3×"


# ---- Chinese money: 万 / 亿 boundaries, rounding, negatives, zero ------------------------------

@pytest.mark.parametrize("amount, text", [
    (None, "–"),
    (float("nan"), "–"),
    (0, "¥0"),
    (0.4, "¥0"),               # rounds to zero: no unit, no sign
    (-0.4, "¥0"),              # … and no "−¥0"
    (8_000, "¥8,000"),         # the glossary's worked example: below 1万, the whole amount
    (9_999.4, "¥9,999"),
    (9_999.6, "¥1万"),          # rounds to 10,000: 1万, the unit chosen after rounding
    (10_000, "¥1万"),           # exactly 1万: ".0" dropped
    (12_345, "¥1.2万"),         # one decimal in 万
    (120_000, "¥12万"),
    (12_345_000, "¥1,234.5万"),  # the example, grouped
    (99_994_999, "¥9,999.5万"),
    (99_999_999, "¥1.00亿"),     # 9,999.9999万 would round to 10,000.0万: 亿 instead
    (100_000_000, "¥1.00亿"),
    (123_000_000, "¥1.23亿"),    # the other example
    (1_234_567_890_123, "¥12,345.68亿"),
    (-12_345, "−¥1.2万"),        # negative: U+2212 before the symbol, as in English
    (-8_000, "−¥8,000"),
    (-150_000_000, "−¥1.50亿"),
])
def test_chinese_money_cny(amount, text):
    assert fmt.money(amount, "zh", "CNY") == text


def test_chinese_money_other_currencies_use_cldr_symbols():
    # CLDR (Babel): a Chinese reader sees US$ for dollars, ¥ for yuan, € for euros
    assert fmt.money(12_345, "zh", "USD") == "US$1.2万"
    assert fmt.money(12_345, "zh", "EUR") == "€1.2万"
    assert fmt.money(12_345, "en", "CNY") == "CN¥12k"
    assert fmt.currency_symbol("cny", "zh") == "¥"


@pytest.mark.parametrize("n, text", [
    (0, "0"), (999, "999"), (12_345, "12,345"), (99_999, "99,999"),
    (100_000, "10万"),           # tiles switch to 万 where English switches to k (100k)
    (123_456, "12.3万"), (99_999_999, "1.00亿"), (250_000_000, "2.50亿"),
    (-123_456, "−12.3万"), (-5, "−5"), (None, "–"),
])
def test_chinese_tile_counts(n, text):
    assert fmt.count_short(n, "zh") == text


def test_chinese_numbers_percent_and_durations():
    assert fmt.count(1234567, "zh") == "1,234,567"
    assert fmt.number(1234.56, "zh") == "1,234.6"
    assert fmt.number(1234.56, "zh", 0) == "1,235"
    assert fmt.pct(0.4217, "zh") == "42.2%"
    assert fmt.pct(0.05, "zh", 0) == "5%"
    assert fmt.duration(1.25, "zh") == "30 小时"    # under two days: hours
    assert fmt.duration(4.5, "zh", short=True) == "4.5 天"
    assert fmt.hours(None, "zh") == "–"
    assert fmt.times(1.333, "zh") == "1.3倍"


# ---- Chinese dates, weeks, quarters ------------------------------------------------------------

def test_chinese_dates():
    assert fmt.date(date(2026, 11, 20), "zh") == "2026年11月20日"
    assert fmt.date(datetime(2026, 1, 5, 23, 59), "zh") == "2026年1月5日"     # no zero padding
    assert fmt.day_month(date(2026, 11, 20), "zh") == "11月20日"
    assert fmt.month(date(2026, 11, 1), "zh") == "2026年11月"
    assert fmt.date(None, "zh") == "–"


@pytest.mark.parametrize("day, text", [
    (date(2026, 11, 16), "2026年第47周"),   # ISO week 47 (Monday 16 November)
    (date(2026, 11, 20), "2026年第47周"),   # any day of it
    (date(2021, 1, 1), "2020年第53周"),     # ISO: 1 January 2021 belongs to 2020's last week
    (date(2024, 12, 30), "2025年第1周"),    # … and 30 December 2024 to 2025's first
])
def test_chinese_iso_weeks(day, text):
    assert fmt.week(day, "zh") == text


def test_chinese_week_without_year_and_quarters():
    assert fmt.week(date(2026, 11, 16), "zh", with_year=False) == "第47周"
    assert [fmt.quarter(date(2026, m, 1), "zh") for m in (1, 4, 7, 12)] == \
        ["2026年第一季度", "2026年第二季度", "2026年第三季度", "2026年第四季度"]


# ---- the currency setting ----------------------------------------------------------------------

def test_currency_setting_default_import_and_user_choice(sample_copy):
    from funnel import store
    from funnel.errors import ConfigError
    con = store.connect(sample_copy)
    try:
        assert fmt.currency(con) == "USD"                        # nothing set: USD
        assert fmt.set_currency(con, "cny", from_import=True) == "CNY"
        assert fmt.currency(con) == "CNY"                         # an import may set it …
        fmt.set_currency(con, "EUR")
        assert fmt.set_currency(con, "CNY", from_import=True) == "EUR"   # … but not over a person's choice
        assert fmt.currency(con) == "EUR"
        with pytest.raises(ConfigError):
            fmt.set_currency(con, "XYZ")
        assert fmt.currency(con) == "EUR"
    finally:
        con.close()
