"""Readable labels for coded values, at display time only.

Data keeps its codes (``paid_search``, ``best_case``, ``sdr``): they are what imports, filters, URLs
and SQL use. Whatever a person reads — chart axes and legends, table cells, sentences — goes
through :func:`readable`, so "Paid search", "Best case" and "SDR" are spelled the same everywhere.

Only code-like values change: lower-case words joined by underscores (``paid_search``,
``webinar``, ``closed``). Anything else a person typed — "Mid-Market", "APAC", "Marcus Reid",
"not ICP" — is shown as it is.
"""
from __future__ import annotations

import re

import pandas as pd

# Words that are acronyms (or brand spellings) when they appear in a code.
ACRONYMS = {
    "sdr": "SDR", "sdrs": "SDRs", "ae": "AE", "aes": "AEs", "bdr": "BDR", "mql": "MQL", "mqls": "MQLs",
    "sql": "SQL", "sqls": "SQLs", "sal": "SAL", "crm": "CRM", "seo": "SEO", "sem": "SEM", "ppc": "PPC",
    "smb": "SMB", "icp": "ICP", "id": "ID", "url": "URL", "utm": "UTM", "b2b": "B2B", "b2c": "B2C",
    "abm": "ABM", "pr": "PR", "emea": "EMEA", "apac": "APAC", "latam": "LATAM", "na": "NA",
    "uk": "UK", "eu": "EU", "csv": "CSV", "roi": "ROI", "ceo": "CEO", "cro": "CRO", "vp": "VP",
    "linkedin": "LinkedIn", "youtube": "YouTube", "tiktok": "TikTok",
}

# Whole codes whose readable form is not just their words capitalised.
SPECIAL = {"ooo": "Out of office", "n_a": "n/a"}

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def readable(value) -> str:
    """``paid_search`` → "Paid search", ``sdr`` → "SDR", ``best_case`` → "Best case";
    ``None``/NaN → ""; any value that is not a lower-case code is returned as text unchanged."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    text = str(value)
    if not _CODE.match(text):
        return text
    if text in SPECIAL:
        return SPECIAL[text]
    words = text.split("_")
    out = [ACRONYMS.get(w, w) for w in words]
    if out[0] == words[0]:
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def readable_list(values) -> list[str]:
    return [readable(v) for v in values]


def readable_columns(df: pd.DataFrame, columns) -> pd.DataFrame:
    """A copy of ``df`` with the coded values of ``columns`` (those present) replaced by labels."""
    out = df.copy()
    for c in columns:
        if c in out.columns:
            out[c] = [readable(v) for v in out[c]]
    return out


def blank_missing(df: pd.DataFrame, text: str = "") -> pd.DataFrame:
    """A copy of ``df`` whose missing values in text columns read ``text`` instead of "None".

    Number and date columns keep their type (so they still sort and format); only columns holding
    text (object / string dtype) are filled.
    """
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].astype(object).where(out[c].notna(), text)
    return out


def money(x, currency: str = "$") -> str:
    """Short money text for tiles, sentences and chart labels: $1.25M, $350k, $5.4k, $5k, −$40k;
    "–" when missing."""
    if x is None or pd.isna(x):
        return "–"
    sign = "−" if x < 0 else ""
    x = abs(float(x))
    if x >= 1e9:
        return f"{sign}{currency}{x / 1e9:.2f}B"
    if x >= 1e6:
        return f"{sign}{currency}{x / 1e6:.2f}M"
    if x >= 1e4:
        return f"{sign}{currency}{x / 1e3:.0f}k"
    if x >= 1e3:
        return f"{sign}{currency}{f'{x / 1e3:.1f}'.removesuffix('.0')}k"   # $5.4k, but $5k not $5.0k
    return f"{sign}{currency}{x:,.0f}"


def duration(days, short: bool = False) -> str:
    """A wait in words for sentences and titles: "30 hours" under two days, else "4.5 days"; "–" when
    missing. ``short``: "30 h" / "4.5 d", for table cells and tiles."""
    if days is None or pd.isna(days):
        return "–"
    d = float(days)
    hours, day_unit = (" h", " d") if short else (" hours", " days")
    return f"{d * 24:.0f}{hours}" if d < 2 else f"{d:.1f}{day_unit}"
