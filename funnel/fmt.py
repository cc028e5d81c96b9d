"""Locale-aware display formatting: numbers, money, percentages, durations, dates, weeks, quarters.

Every function takes the display language (``"en"`` or ``"zh"``, see :mod:`funnel.i18n`). English
output is byte-identical to what the pages showed before languages existed (``ui.fmt_*`` and
``labels.money`` / ``labels.duration``; ``tests/test_fmt.py`` compares them). Chinese follows the
conventions Chinese sales teams read (CLDR data through Babel where it has them):

- money: below 1万 the whole amount (``¥8,000``); from 1万 to below 1亿 in 万 with one decimal,
  a trailing ``.0`` dropped (``¥1.2万``, ``¥12万``, ``¥1,234.5万``); from 1亿 in 亿 with two
  decimals (``¥1.23亿``). The unit is chosen after rounding, so 99,999,999 reads ``¥1.00亿``,
  not ``¥10,000万``. Negative amounts carry a leading minus sign (U+2212, as in English):
  ``−¥1.2万``; an amount that rounds to zero is ``¥0`` without a sign. Missing: ``–``.
- counts in tiles (``count_short``): whole below 10万 (``12,345``), else 万 / 亿 as money.
- percentages and plain numbers: as in English (CLDR's zh patterns are the same: ``42.0%``,
  ``1,234.5``).
- durations: ``30 小时`` under two days, else ``4.5 天`` (a space between figure and unit, as in
  every sentence; the same in short and long form).
- dates ``2026年11月20日``, without the year ``11月20日``, months ``2026年11月``, ISO weeks
  ``第47周`` (``2026年第47周`` with the year), quarters ``2026年第四季度``.

Currency is a database setting (ISO code, ``store.get_setting(con, "currency")``); its symbol
comes from CLDR for the language: USD is ``$`` in English and ``US$`` in Chinese, CNY ``CN¥`` /
``¥``, EUR ``€`` in both.

The frozen value classes at the end (:class:`Count`, :class:`Pct`, …) are what the library puts
into message parameters (:class:`funnel.i18n.Message`), so a sentence computed once renders its
figures in whichever language the reader chose.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date as _date, datetime

import pandas as pd
from babel import dates as babel_dates
from babel import numbers as babel_numbers

#: Babel locale per display language.
LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}
DEFAULT_CURRENCY = "USD"
#: Currencies offered in the setting (any ISO 4217 code works; these are the ones listed first).
CURRENCIES = ("USD", "CNY", "EUR", "GBP", "JPY", "HKD", "SGD")

MISSING = "–"
MINUS = "−"   # U+2212: a real minus sign, as labels.money has always used
WAN, YI = 1e4, 1e8
ZH_QUARTERS = {1: "一", 2: "二", 3: "三", 4: "四"}


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _locale(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["en"])


def currency_symbol(currency: str = DEFAULT_CURRENCY, lang: str = "en") -> str:
    """CLDR's symbol of an ISO currency code in the language (``$``, ``¥``, ``US$``, ``€``); a
    symbol given instead of a code (``"$"``, the old ``labels.money`` argument) is kept."""
    code = (currency or DEFAULT_CURRENCY).strip()
    if len(code) != 3 or not code.isalpha():
        return code
    return babel_numbers.get_currency_symbol(code.upper(), locale=_locale(lang))


def _trim(text: str) -> str:
    return text.removesuffix(".0")


def _zh_large(x: float) -> str:
    """An absolute value in Chinese units: whole below 1万, 万 with one decimal, 亿 with two."""
    if round(x) < WAN:
        return f"{x:,.0f}"
    wan = round(x / WAN, 1)
    if wan < WAN:                      # below 1亿 after rounding
        return f"{_trim(f'{wan:,.1f}')}万"
    return f"{x / YI:,.2f}亿"


# ---------------------------------------------------------------------------------------------
# Numbers


def money(x, lang: str = "en", currency: str = DEFAULT_CURRENCY) -> str:
    """Short money text for tiles, sentences and chart labels. English: ``$1.25M``, ``$350k``,
    ``$5.4k``, ``$5k``, ``−$40k`` (labels.money); Chinese: ``¥1,234.5万``, ``¥1.23亿``, ``−¥8,000``."""
    symbol = currency_symbol(currency, lang)
    if lang != "zh":
        from .labels import money as english_money
        return english_money(x, symbol)
    if _missing(x):
        return MISSING
    x = float(x)
    body = _zh_large(abs(x))
    sign = MINUS if x < 0 and body != "0" else ""
    return f"{sign}{symbol}{body}"


def pct(x, lang: str = "en", digits: int = 1) -> str:
    """``0.4217`` → ``42.2%`` (the same in both languages)."""
    if _missing(x):
        return MISSING
    return f"{float(x) * 100:.{digits}f}%"


def count(n, lang: str = "en") -> str:
    """A whole count with grouping, for sentences: ``12,345`` (the same in both languages)."""
    if _missing(n):
        return MISSING
    if lang == "en":
        return f"{int(n):,}"
    return babel_numbers.format_decimal(int(n), format="#,##0", locale=_locale(lang))


def count_short(x, lang: str = "en") -> str:
    """A count for a tile: English ``12,345`` / ``123k`` / ``1.23M``; Chinese ``12,345`` / ``12.3万`` /
    ``1.23亿``."""
    if _missing(x):
        return MISSING
    x = float(x)
    if lang == "zh":
        return (MINUS if x < 0 and round(abs(x)) else "") + (_zh_large(abs(x)) if abs(x) >= 1e5 else f"{abs(x):,.0f}")
    if abs(x) >= 1e6:
        return f"{x / 1e6:.2f}M"
    if abs(x) >= 1e5:
        return f"{x / 1e3:.0f}k"
    return f"{x:,.0f}"


def number(x, lang: str = "en", digits: int = 1) -> str:
    """``1234.56`` → ``1,234.6`` (the same in both languages)."""
    if _missing(x):
        return MISSING
    if lang == "en":
        return f"{float(x):,.{digits}f}"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return babel_numbers.format_decimal(float(x), format=pattern, locale=_locale(lang),
                                        decimal_quantization=True)


def times(x, lang: str = "en", digits: int = 1) -> str:
    """A ratio: ``1.3×`` / ``1.3倍``."""
    if _missing(x):
        return MISSING
    return f"{float(x):.{digits}f}倍" if lang == "zh" else f"{float(x):.{digits}f}×"


def duration(days, lang: str = "en", short: bool = False) -> str:
    """A wait: English "30 hours" under two days, else "4.5 days" (``short``: "30 h" / "4.5 d");
    Chinese ``30 小时`` / ``4.5 天``."""
    if _missing(days):
        return MISSING
    d = float(days)
    if lang == "zh":
        return f"{d * 24:.0f} 小时" if d < 2 else f"{d:.1f} 天"   # spaced like every figure in the sentences
    hours, day_unit = (" h", " d") if short else (" hours", " days")
    return f"{d * 24:.0f}{hours}" if d < 2 else f"{d:.1f}{day_unit}"


def hours(h, lang: str = "en") -> str:
    """A duration given in hours, shown as :func:`duration`'s short form."""
    if _missing(h):
        return MISSING
    return duration(float(h) / 24.0, lang, short=True)


# ---------------------------------------------------------------------------------------------
# Dates


def _as_date(d) -> _date | None:
    if d is None or (not isinstance(d, (_date, datetime)) and _missing(d)):
        return None
    return pd.Timestamp(d).date()


def date(d, lang: str = "en") -> str:
    """``20 Nov 2026`` / ``2026年11月20日``."""
    day = _as_date(d)
    if day is None:
        return MISSING
    if lang == "en":
        return pd.Timestamp(day).strftime("%d %b %Y")
    return babel_dates.format_date(day, "long", locale=_locale(lang))


def day_month(d, lang: str = "en") -> str:
    """Without the year: ``20 Nov`` / ``11月20日``."""
    day = _as_date(d)
    if day is None:
        return MISSING
    if lang == "en":
        return pd.Timestamp(day).strftime("%d %b")
    return babel_dates.format_skeleton("MMMd", day, locale=_locale(lang))


def month(d, lang: str = "en") -> str:
    """A calendar month: ``Nov 2026`` / ``2026年11月``."""
    day = _as_date(d)
    if day is None:
        return MISSING
    if lang == "en":
        return pd.Timestamp(day).strftime("%b %Y")
    return babel_dates.format_skeleton("yMMM", day, locale=_locale(lang))


def week(d, lang: str = "en", with_year: bool = True) -> str:
    """The week starting on ``d`` (a Monday, as ``date_trunc('week')`` gives). English names its
    first day, ``wk 16 Nov 2026`` (what the cohort charts always said); Chinese its ISO week
    number, ``2026年第47周`` (``第47周`` without the year)."""
    day = _as_date(d)
    if day is None:
        return MISSING
    if lang == "en":
        return ("wk " + pd.Timestamp(day).strftime("%d %b %Y")) if with_year else \
            ("wk " + pd.Timestamp(day).strftime("%d %b"))
    iso_year, iso_week, _ = day.isocalendar()
    return f"{iso_year}年第{iso_week}周" if with_year else f"第{iso_week}周"


def quarter(d, lang: str = "en") -> str:
    """``Q4 2026`` / ``2026年第四季度``."""
    day = _as_date(d)
    if day is None:
        return MISSING
    q = (day.month - 1) // 3 + 1
    if lang == "en":
        return f"Q{q} {day.year}"
    return f"{day.year}年第{ZH_QUARTERS[q]}季度"


def plotly_date_format(lang: str = "en", with_day: bool = True) -> str:
    """A d3 time format for chart hovers and date axes: ``%d %b %Y`` / ``%Y年%-m月%-d日``."""
    if lang == "zh":
        return "%Y年%-m月%-d日" if with_day else "%Y年%-m月"
    return "%d %b %Y" if with_day else "%b %Y"


# ---------------------------------------------------------------------------------------------
# Values for message parameters: a figure that is formatted when the message is rendered


@dataclass(frozen=True)
class Count:
    value: int

    def format(self, lang: str) -> str:
        return count(self.value, lang)


@dataclass(frozen=True)
class Pct:
    value: float
    digits: int = 0

    def format(self, lang: str) -> str:
        return pct(self.value, lang, self.digits)


@dataclass(frozen=True)
class Times:
    value: float
    digits: int = 1

    def format(self, lang: str) -> str:
        return times(self.value, lang, self.digits)


@dataclass(frozen=True)
class Duration:
    days: float
    short: bool = False

    def format(self, lang: str) -> str:
        return duration(self.days, lang, self.short)


@dataclass(frozen=True)
class Date:
    value: _date

    def format(self, lang: str) -> str:
        return date(self.value, lang)


@dataclass(frozen=True)
class Money:
    value: float
    currency: str = DEFAULT_CURRENCY

    def format(self, lang: str) -> str:
        return money(self.value, lang, self.currency)


# ---------------------------------------------------------------------------------------------
# The database's currency (settings key ``currency``)

CURRENCY_KEY = "currency"
CURRENCY_SOURCE_KEY = "currency_source"


def currency(con) -> str:
    """The ISO code amounts are shown in: the setting, else USD."""
    from . import store
    return store.get_setting(con, CURRENCY_KEY) or DEFAULT_CURRENCY


def set_currency(con, code: str, *, from_import: bool = False) -> str:
    """Store the currency (an ISO 4217 code such as CNY, USD, EUR). ``from_import``: an import
    that knows its data's currency; it never replaces a currency a person chose."""
    from . import store
    from .errors import ConfigError
    from .i18n import msg
    value = (code or "").strip().upper()
    if len(value) != 3 or not value.isalpha() or value not in babel_numbers.list_currencies():
        raise ConfigError(msg("'{code}' is not a currency code.", code=str(code)),
                          hint=msg("Use a three-letter ISO 4217 code such as CNY, USD or EUR."))
    if from_import and store.get_setting(con, CURRENCY_SOURCE_KEY) == "user":
        return currency(con)
    store.set_setting(con, CURRENCY_KEY, value)
    store.set_setting(con, CURRENCY_SOURCE_KEY, "import" if from_import else "user")
    return value


def save_currency(con, code: str, *, actor=None) -> str:
    """The currency a person chose in the app (Stage settings page): stored as :func:`set_currency`
    stores a person's choice (an import never replaces it), in one transaction with the data
    version bumped (every cached figure then shows the new symbol) and an audit row (action
    ``currency``, the code and who set it before and after). Editors and admins only
    (``access.require(actor, "edit")``); returns the stored ISO code."""
    from . import access, audit, store
    from .i18n import msg
    who = access.require(actor, "edit")
    before = {"currency": currency(con), "source": store.get_setting(con, CURRENCY_SOURCE_KEY)}
    version_before = store.data_version(con)
    with store.transaction(con):
        value = set_currency(con, code)          # refuses a code that is not ISO 4217 before writing
        store.bump_data_version(con)
        after = {"currency": value, "source": "user"}
        audit.record(con, who, "currency", {"currency": value}, before, after,
                     summary=msg("Set the currency to {currency} (was {before})", currency=value,
                                 before=before["currency"])
                             if value != before["currency"] else msg("Kept the currency {currency}", currency=value),
                     data_version_before=version_before)
    return value


def currency_name(code: str, lang: str = "en") -> str:
    """CLDR's name of an ISO currency code in the language: ``US Dollar`` / ``美元``."""
    return babel_numbers.get_currency_name((code or DEFAULT_CURRENCY).strip().upper(), locale=_locale(lang))
