"""Locale dates and amounts in CRM exports, rewritten as the text :mod:`funnel.ingest` reads.

CRM exports write dates in the user's locale (31/12/2025, 12/31/2025 2:05 PM, 31.12.2025 14:05)
and amounts with currency signs and thousands separators. These helpers run before the import:
they turn such text into ISO 8601 / plain numbers and leave anything unreadable as written, so the
import names the file, row and value.

Chinese CRM notation (2026年3月5日 14:30, 2026/3/5, ¥1,234.5万, 12万元, full-width digits) is read by
:func:`read_zh_datetime` and :func:`read_zh_amount`, which the import itself also uses, so such a
file needs no rewriting first; a value that could be read two ways comes back with a reason.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from .errors import ConfigError, ImportValidationError
from .i18n import Message, msg

# ISO 8601-ish, as funnel.ingest reads it: date, optional time (T or space), optional fraction,
# optional offset after a time. Defined here because ingest reads Chinese notation through this
# module (ingest re-exports it as ingest.ISO_RE).
ISO_RE = (r"^\d{4}-\d{1,2}-\d{1,2}"
          r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?: ?(?:Z|UTC|[+-]\d{2}(?::?\d{2})?))?)?$")
ISO_DATE = re.compile(ISO_RE)
LOCAL_DATE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})"
                    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp]\.?[Mm]\.?)?)?$")
DATE_ORDERS = ("auto", "day-first", "month-first")


def detect_date_order(values, *, what: str | Message | None = None) -> str | None:
    """'dmy', 'mdy' or None (no locale-style dates) for an iterable of date strings.

    Raises ImportValidationError when the order cannot be told (every day and month ≤ 12 and a
    '/' or '-' separator) or contradicts itself.
    """
    what = msg("the dates") if what is None else what
    dmy = mdy = False
    seps: set[str] = set()
    example = None
    for v in values:
        m = LOCAL_DATE.match(str(v).strip())
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(3))
        seps.add(m.group(2))
        example = example or str(v).strip()
        if a > 12:
            dmy = True
        if b > 12:
            mdy = True
    if not seps:
        return None
    if dmy and mdy:
        raise ImportValidationError(
            msg("{what} mix day-first and month-first dates (e.g. {example}), so none can be read safely.",
                what=what, example=example),
            hint=msg("Export the file again with one date format, or choose the date format explicitly."))
    if dmy:
        return "dmy"
    if mdy:
        return "mdy"
    if seps == {"."}:
        return "dmy"  # 31.12.2025 is always day-first
    raise ImportValidationError(
        msg("{what} could be read day-first or month-first (e.g. {example} is 3 April or 4 March), and no date "
            "in the file tells which.", what=what, example=example),
        hint=msg("Choose the date format (day first or month first) and import again."))


def order_from_option(option: str | None, values, what: str | Message) -> tuple[str | None, list[str]]:
    """(order, explicit strptime formats) for a date_format option."""
    opt = (option or "auto").strip()
    if opt in ("", "auto"):
        return detect_date_order(values, what=what), []
    if opt in ("day-first", "dayfirst", "dmy"):
        return "dmy", []
    if opt in ("month-first", "monthfirst", "mdy"):
        return "mdy", []
    if "%" in opt:
        return None, [opt]
    raise ConfigError(msg("Unknown date format option '{option}'.", option=option),
                      hint=msg("Use auto, day-first, month-first or a strptime format such as {example}.",
                               example="%d.%m.%Y %H:%M"))


def _parse_one(v: str, order: str | None, formats: list[str]) -> str:
    s = v.strip()
    if not s:
        return ""
    for f in formats:
        try:
            return dt.datetime.strptime(s, f).isoformat(sep=" ")
        except ValueError:
            pass
    if ISO_DATE.match(s):
        return s  # the import reads ISO 8601 itself (offsets included)
    zh = read_zh_datetime(s)
    if zh is not None and zh.value is not None:
        return zh.value.isoformat(sep=" ")
    m = LOCAL_DATE.match(s)
    if m and order:
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if len(m.group(4)) == 2:
            year += 2000
        day, month = (a, b) if order == "dmy" else (b, a)
        hour = int(m.group(5) or 0)
        minute = int(m.group(6) or 0)
        second = int(m.group(7) or 0)
        ampm = (m.group(8) or "").replace(".", "").lower()
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        try:
            return dt.datetime(year, month, day, hour, minute, second).isoformat(sep=" ")
        except ValueError:
            return s
    return s  # left as written: the import names the row and the value


def parse_dates(series: pd.Series, order: str | None, formats: list[str] | None = None) -> pd.Series:
    """Rewrite locale dates as ISO text; blanks stay blank; anything unreadable stays as written."""
    s = series.fillna("").astype(str)
    uniq = {u: _parse_one(u, order, formats or []) for u in pd.unique(s)}
    return s.map(uniq)


def suggest_timestamp_format(values) -> str | None:
    """A strptime format for sample date values that are not ISO 8601 (None when ISO or unknown)."""
    vals = [str(v).strip() for v in values if str(v).strip()]
    if not vals or all(ISO_DATE.match(v) for v in vals):
        return None
    try:
        order = detect_date_order(vals)
    except ImportValidationError:
        return None
    if order is None:
        return None
    m = next(LOCAL_DATE.match(v) for v in vals if LOCAL_DATE.match(v))
    sep = m.group(2)
    date_part = sep.join(["%d", "%m", "%Y" if len(m.group(4)) == 4 else "%y"] if order == "dmy"
                         else ["%m", "%d", "%Y" if len(m.group(4)) == 4 else "%y"])
    if m.group(5) is None:
        return date_part
    if m.group(8):
        return date_part + (" %I:%M:%S %p" if m.group(7) else " %I:%M %p")
    return date_part + (" %H:%M:%S" if m.group(7) else " %H:%M")


_CURRENCY = re.compile(r"^(?:[A-Z]{3}|[$€£¥₹])\s*|\s*(?:[A-Z]{3}|[$€£¥₹])$")


def clean_amounts(series: pd.Series, decimal: str = ".") -> pd.Series:
    """Amounts as plain numbers: currency codes/symbols and thousands separators removed; Chinese
    notation (¥1,234.5万, 12万元, full-width digits) multiplied out (see :func:`read_zh_amount`)."""
    def one(v: str) -> str:
        s = str(v).strip().replace("\u00a0", " ")
        if not s:
            return ""
        zh = read_zh_amount(s, decimal)
        if zh is not None:   # yuan, 万 / 亿, full-width digits; what is ambiguous stays as written
            return plain_number(zh.value) if zh.value is not None else str(v).strip()
        s = _CURRENCY.sub("", s).strip().replace(" ", "")
        if decimal == ",":
            if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?|-?\d+(,\d+)?", s):
                return s.replace(".", "").replace(",", ".")
            return str(v).strip()
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s):
            return s.replace(",", "")
        return s
    s = series.fillna("").astype(str)
    uniq = {u: one(u) for u in pd.unique(s)}
    return s.map(uniq)




def to_time(series: pd.Series) -> pd.Series:
    """ISO text (as :func:`parse_dates` writes it) as naive UTC timestamps, for comparing rows
    before the import (NaT where blank or unreadable: the import itself names those)."""
    s = pd.to_datetime(series.replace("", None), errors="coerce", utc=True, format="ISO8601")
    return s.dt.tz_localize(None)


# ---------------------------------------------------------------------------------------------
# Chinese CRM notation (issue #14): 2026年3月5日 14:30, 2026/3/5, ¥1,234.5万, 12万元, full-width
# digits. funnel.ingest reads every date and amount column through these after its own rules, so a
# Chinese export imports as it is; parse_dates and clean_amounts above use them for the presets.

#: Full-width digits and marks (Chinese input methods type them), the ideographic space and the
#: minus sign, as their ASCII forms.
HALF_WIDTH = str.maketrans("０１２３４５６７８９，．：／－＋　\u2212", "0123456789,.:/-+ -")

# A calendar day written year first: 2026年3月5日 (日 or 号, optional), or 2026/3/5, 2026.3.5, 2026-3-5.
_ZH_DAY = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
                     r"|(\d{4})([/.-])(\d{1,2})\5(\d{1,2})(?=[\sT]|$)")
# The time after it: 14:30, 14:30:05, 下午2:30 (Excel's zh-CN format).
_ZH_TIME = re.compile(r"[\sT]*(上午|下午)?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ZH_NO_YEAR = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]")

#: 万 and 亿 as multipliers.
ZH_UNITS = {"万": 10 ** 4, "亿": 10 ** 8}
#: Other currencies a Chinese export may name (read as such, they are refused: one currency per import).
ZH_FOREIGN = {"美元": "USD", "美金": "USD", "港元": "HKD", "港币": "HKD", "欧元": "EUR", "日元": "JPY",
              "英镑": "GBP", "新台币": "TWD", "台币": "TWD", "US$": "USD", "HK$": "HKD", "$": "USD", "€": "EUR",
              "£": "GBP"}
_ZH_AMOUNT_MARK = re.compile(r"[¥￥元万亿０-９，．－＋]|人民币|(?i:cny|rmb)")
# [sign] [yuan mark] [sign] digits [万 | 亿] [yuan mark]: the marks say yuan (CNY), 万 and 亿 multiply.
_ZH_AMOUNT = re.compile(r"([+-]?)(人民币|CNY|RMB|¥|￥)?([+-]?)([0-9.,]+)(万|亿)?(元|人民币|CNY|RMB)?", re.I)
ZH_AMOUNT_EXAMPLE = msg("{first}, {second} or {third}", first="1,234.5万元", second="¥12,000", third="8000元")
ZH_AMOUNT_EXAMPLE_COMMA = msg("{first} or {second}", first="1.234,5万元", second="¥12.000")   # decimal = ","
# A yuan unit in brackets at the end of a column's name: 金额（元）, 预计金额(万元), 商机金额（人民币）.
_ZH_HEADER_UNIT = re.compile(r"[(（]\s*(万元|亿元|元|人民币|RMB|CNY|¥|￥)\s*[)）]\s*$", re.I)


def zh_amount_unit(header: object) -> str:
    """The yuan unit a column's name gives its amounts ("万元" for 预计金额（万元）), else ""."""
    m = _ZH_HEADER_UNIT.search(str(header or ""))
    return m.group(1) if m else ""


@dataclass(frozen=True)
class ZhValue:
    """A value read as Chinese notation: ``value`` (datetime or Decimal) or, when it cannot be read
    safely, ``reason`` (a sentence to put after the quoted value, in English; ``message``: the same as
    a :class:`~funnel.i18n.Message`, which is given as ``reason``); ``currency`` CNY when an amount
    says yuan."""
    value: object = None
    reason: str | Message | None = None
    currency: str | None = None
    message: Message | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if isinstance(self.reason, Message):
            object.__setattr__(self, "message", self.reason)
            object.__setattr__(self, "reason", self.reason.render("en"))


def read_zh_datetime(text: object) -> ZhValue | None:
    """A date written the Chinese way (2026年3月5日, 2026年3月5日 14:30, 2026/3/5, full-width digits),
    or None when the text is not written so (ISO text is left to the import's own rules)."""
    raw = str(text if text is not None else "").strip()
    s = raw.translate(HALF_WIDTH).strip()
    if not s or (s == raw and ISO_DATE.match(s)):
        return None
    m = _ZH_DAY.match(s)
    if m is None:
        if _ZH_NO_YEAR.match(s):
            return ZhValue(reason=msg("has no year. Write the full date, e.g. {example}.", example="2026年3月5日"))
        return None
    year, month, day = (int(g) for g in (m.group(1, 2, 3) if m.group(1) else m.group(4, 6, 7)))
    rest = s[m.end():]
    hour = minute = second = 0
    if rest.strip():
        t = _ZH_TIME.fullmatch(rest)
        if t is None:
            return ZhValue(reason=msg("is not a date: after the day it has neither a time (14:30) nor anything "
                                      "else a date holds. Write it as {example} or YYYY-MM-DD HH:MM.",
                                      example="2026年3月5日 14:30"))
        half, hour, minute, second = t.group(1), int(t.group(2)), int(t.group(3)), int(t.group(4) or 0)
        if half and not 1 <= hour <= 12:
            return ZhValue(reason=msg("is ambiguous: {half} with the hour {hour} ({marks} take hours 1 to 12). "
                                      "Write the time on the 24-hour clock, e.g. {example}.", half=half,
                                      hour=str(hour), marks="上午/下午", example=f"{hour % 24:02d}:{minute:02d}"))
        if half == "下午" and hour < 12:
            hour += 12
        elif half == "上午" and hour == 12:
            hour = 0
    if not 1 <= month <= 12:
        return ZhValue(reason=msg("is not a date: there is no month {month}. Fix the date in the file.",
                                  month=str(month)))
    try:
        day_value = dt.date(year, month, day)
    except ValueError:
        return ZhValue(reason=msg("is not a date: {month} has no day {day}. Fix the date in the file.",
                                  month=f"{year}-{month:02d}", day=str(day)))
    if hour > 23 or minute > 59 or second > 59:
        return ZhValue(reason=msg("is not a time of day ({time}). Fix the time in the file.",
                                  time=f"{hour}:{minute:02d}"))
    return ZhValue(value=dt.datetime.combine(day_value, dt.time(hour, minute, second)))


def read_zh_amount(text: object, decimal: str = ".", unit: str = "") -> ZhValue | None:
    """An amount written the Chinese way (元 / ¥ / ￥ / CNY / RMB, 万 and 亿, full-width digits and marks),
    or None when the text has none of these marks (plain numbers are left to the import's rules).

    ``decimal`` is the decimal mark ("." by default; "," when the mapping says so), the other mark
    separates thousands. ``unit`` is the column's unit from its name (:func:`zh_amount_unit`): every
    value is then in yuan, and 12.5 in a 万元 column is 125,000. What could be read two ways is refused
    with a reason: a thousands mark not between groups of three digits (12,34万), two decimal marks,
    a sign twice, another currency, 万 in a column already in 万元.
    """
    raw = str(text if text is not None else "").strip()
    if not raw or not (unit or _ZH_AMOUNT_MARK.search(raw)):
        return None
    s = re.sub(r"\s+", "", raw.translate(HALF_WIDTH))
    foreign = next((w for w in sorted(ZH_FOREIGN, key=len, reverse=True) if w in s), None)
    if foreign is not None:
        return ZhValue(reason=msg("is in {currency} ({code}), not in yuan; an import reads one currency. Convert "
                                  "the amounts to yuan, or export them in one currency.",
                                  currency=foreign, code=ZH_FOREIGN[foreign]))
    m = _ZH_AMOUNT.fullmatch(s)
    if m is None:
        return ZhValue(reason=msg("is not an amount. Write digits with an optional 万 or 亿 and 元 or ¥, e.g. "
                                  "{example}.", example=ZH_AMOUNT_EXAMPLE))
    if m.group(1) and m.group(3):
        return ZhValue(reason=msg("has two signs. Write one, e.g. {example}.", example="-1,234元"))
    point, thousands = (".", ",") if decimal == "." else (",", ".")
    num = m.group(4)
    t, p = re.escape(thousands), re.escape(point)
    if not re.fullmatch(rf"[0-9]{{1,3}}(?:{t}[0-9]{{3}})+(?:{p}[0-9]+)?|[0-9]+(?:{p}[0-9]+)?|{p}[0-9]+", num):
        return ZhValue(reason=msg("is ambiguous: in {number} the marks are not \"{thousands}\" between groups of "
                                  "three digits and at most one \"{point}\" decimal point. Write it as, e.g., "
                                  "{example}, or without thousands separators.", number=num, thousands=thousands,
                                  point=point, example=ZH_AMOUNT_EXAMPLE if decimal == "." else ZH_AMOUNT_EXAMPLE_COMMA))
    column_scale = next((v for k, v in ZH_UNITS.items() if k in unit), 1)
    if m.group(5) and column_scale != 1:
        return ZhValue(reason=msg("is ambiguous: the column is in {unit} and the value says {mark} as well. "
                                  "Write the value without {mark}, or rename the column.",
                                  unit=unit, mark=m.group(5)))
    value = Decimal(num.replace(thousands, "").replace(point, ".")) * ZH_UNITS.get(m.group(5) or "", 1) * column_scale
    if "-" in (m.group(1) + m.group(3)):
        value = -value
    said_yuan = bool(m.group(2) or m.group(6) or unit)
    return ZhValue(value=value, currency="CNY" if said_yuan else None)


def plain_number(value: Decimal) -> str:
    """A Decimal as plain decimal text: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
