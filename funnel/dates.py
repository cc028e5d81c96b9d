"""Locale dates and amounts in CRM exports, rewritten as the text :mod:`funnel.ingest` reads.

CRM exports write dates in the user's locale (31/12/2025, 12/31/2025 2:05 PM, 31.12.2025 14:05)
and amounts with currency signs and thousands separators. These helpers run before the import:
they turn such text into ISO 8601 / plain numbers and leave anything unreadable as written, so the
import names the file, row and value.
"""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from . import ingest
from .errors import ConfigError, ImportValidationError

ISO_DATE = re.compile(ingest.ISO_RE)
LOCAL_DATE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})"
                    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp]\.?[Mm]\.?)?)?$")
DATE_ORDERS = ("auto", "day-first", "month-first")


def detect_date_order(values, *, what: str = "the dates") -> str | None:
    """'dmy', 'mdy' or None (no locale-style dates) for an iterable of date strings.

    Raises ImportValidationError when the order cannot be told (every day and month ≤ 12 and a
    '/' or '-' separator) or contradicts itself.
    """
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
            f"{what} mix day-first and month-first dates (e.g. {example}), so none can be read safely.",
            hint="Export the file again with one date format, or choose the date format explicitly.")
    if dmy:
        return "dmy"
    if mdy:
        return "mdy"
    if seps == {"."}:
        return "dmy"  # 31.12.2025 is always day-first
    raise ImportValidationError(
        f"{what} could be read day-first or month-first (e.g. {example} is 3 April or 4 March), and no date "
        "in the file tells which.",
        hint="Choose the date format (day first or month first) and import again.")


def order_from_option(option: str | None, values, what: str) -> tuple[str | None, list[str]]:
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
    raise ConfigError(f"Unknown date format option '{option}'.",
                      hint="Use auto, day-first, month-first or a strptime format such as %d.%m.%Y %H:%M.")


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
    """Amounts as plain numbers: currency codes/symbols and thousands separators removed."""
    def one(v: str) -> str:
        s = str(v).strip().replace("\u00a0", " ")
        if not s:
            return ""
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
