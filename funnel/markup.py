"""Values from imported data are text, never markup.

Names, channels, reasons and stage names come from files anyone can write. They reach three
renderers that would otherwise interpret them:

* Streamlit's Markdown (``st.markdown``, captions, alerts, metric labels, tooltips): a value such as
  ``[Session expired](https://evil.example)`` would become a link, ``![x](https://…)`` an image
  fetched from elsewhere. :func:`md_text` backslash-escapes every Markdown punctuation character,
  so CommonMark shows the value literally (raw HTML is never enabled for data: see ui.page_header).
* Plotly's pseudo-HTML in labels, hover text and legends (``<a href>``, ``<span style>``, …):
  :func:`plotly_text` / :func:`plain_figure` entity-escape ``& < >``, which Plotly draws as the
  characters themselves.
* Spreadsheets opening a CSV download: a text cell starting with ``= + - @`` (or a tab / carriage
  return) is read as a formula (``=HYPERLINK(…)``). :func:`csv_safe` prefixes such text cells with
  an apostrophe, the OWASP-recommended neutraliser; numbers stay numbers.

No Streamlit here: pages use these through ``ui``; the HTML export uses them directly.
"""
from __future__ import annotations

import html
import re

import pandas as pd

# Characters with a Markdown (or Streamlit: $ LaTeX, ~ strike) meaning anywhere in a line.
# CommonMark shows a backslash-escaped ASCII punctuation character as itself.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>~$&|!@])")
# Characters that mean something only at the start of a line (heading, list, quote, rule).
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])")
# GitHub-flavoured autolinks turn "https://…", "www.…" and "a@b.c" into links with no brackets.
# Streamlit's renderer finds them in the text after Markdown parsing (seen in 1.67: neither a
# backslash nor a character reference stops it), so an invisible WORD JOINER (U+2060) is put
# inside each pattern: the text reads the same, and no link is made.
_AUTOLINK = re.compile(r"(?i)\b(?:https?|ftp|mailto|javascript|data|file)(?=:)|\bwww(?=\.)|(?=@)")
_JOINER = "\u2060"


def md_text(value) -> str:
    """``value`` as Markdown source that renders exactly as the text itself (one line)."""
    if value is None:
        return ""
    text = " ".join(str(value).replace(_JOINER, "").splitlines())
    text = _AUTOLINK.sub(lambda m: m.group(0) + _JOINER, text)
    text = _MD_INLINE.sub(r"\\\1", text)
    m = _MD_LINE_START.match(text)
    if m:
        lead, mark = m.group(1), m.group(2)
        text = lead + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark) + text[m.end():]
    return text


def md_plain(source: str) -> str:
    """The text :func:`md_text` escaped (for tests and for reading back)."""
    return re.sub(r"\\(.)", r"\1", source).replace(_JOINER, "")


def plotly_text(value):
    """A string escaped for Plotly's pseudo-HTML (drawn literally); anything else unchanged."""
    return html.escape(value, quote=False) if isinstance(value, str) else value


# Markup the chart builders write themselves into titles and annotations (never data): kept.
_OWN_TAGS = re.compile(r"&lt;(/?(?:br|b|i|sup|sub)\s*/?)&gt;", re.IGNORECASE)


def _escape_own_text(value):
    """Titles and annotations: the builders' own <br>/<b>/<i> survive; any other tag is text."""
    if not isinstance(value, str):
        return value
    return _OWN_TAGS.sub(r"<\1>", html.escape(value, quote=False))


_LINE_BREAK = re.compile(r"&lt;br\s*/?&gt;", re.IGNORECASE)


def _data_text(value):
    """A data-bearing string drawn literally, but for line breaks a builder put between parts."""
    if not isinstance(value, str):
        return value
    return _LINE_BREAK.sub("<br>", html.escape(value, quote=False))


def _escape_array(values):
    # Builders compose a data value with their own line break ("MQL<br>(KM: …)"): <br> survives,
    # any other tag (<a>, <span style>, <img>, <b>) is drawn as text.
    if values is None or isinstance(values, (int, float)):
        return values
    if isinstance(values, str):
        return _data_text(values)
    try:
        items = list(values)
    except TypeError:
        return values
    if not any(isinstance(v, str) or isinstance(v, (list, tuple)) for v in items):
        return values
    return [(_escape_array(v) if isinstance(v, (list, tuple)) else _data_text(v)) for v in items]


# Trace properties that carry data values shown as text somewhere (axes, labels, hover, legend).
_DATA_PROPS = ("x", "y", "z", "text", "hovertext", "labels", "ids", "customdata", "parents", "values_text")


def plain_figure(fig):
    """The figure with every data-bearing string drawn literally. Returns a new figure.

    Categories, text, hover text, custom data, legend names, Sankey node and link labels and tick
    texts are entity-escaped; titles and annotations keep only the builders' own line breaks and
    bold/italic. Numbers and dates are untouched, so the figure's values are the same."""
    import plotly.graph_objects as go

    out = go.Figure(fig)
    for trace in out.data:
        for prop in _DATA_PROPS:
            if prop in trace and trace[prop] is not None:
                try:
                    trace[prop] = _escape_array(trace[prop])
                except (ValueError, TypeError):
                    pass
        if "name" in trace and isinstance(trace.name, str):
            trace.name = plotly_text(trace.name)
        if "legendgrouptitle" in trace and trace.legendgrouptitle.text:
            trace.legendgrouptitle.text = plotly_text(trace.legendgrouptitle.text)
        for part in ("node", "link"):
            if part in trace and trace[part] is not None and trace[part].label is not None:
                trace[part].label = _escape_array(trace[part].label)
        for part in ("header", "cells"):
            if part in trace and trace[part] is not None and trace[part].values is not None:
                trace[part].values = _escape_array(trace[part].values)
    layout = out.layout
    if layout.title and layout.title.text:
        layout.title.text = _escape_own_text(layout.title.text)
    for ann in layout.annotations or ():
        ann.text = _escape_own_text(ann.text)
    for name in [k for k in layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = layout[name]
        if axis.title and axis.title.text:
            axis.title.text = _escape_own_text(axis.title.text)
        if axis.ticktext is not None:
            axis.ticktext = _escape_array(axis.ticktext)
        if axis.categoryarray is not None:
            axis.categoryarray = _escape_array(axis.categoryarray)
    if layout.legend and layout.legend.title and layout.legend.title.text:
        layout.legend.title.text = _escape_own_text(layout.legend.title.text)
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas; numeric columns untouched."""
    out = df.copy()
    out.columns = [_neutralise(c) if isinstance(c, str) else c for c in out.columns]
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        out[col] = s.map(_neutralise, na_action="ignore")
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The CSV every download writes: formulas neutralised, UTF-8."""
    return csv_safe(df).to_csv(index=False).encode("utf-8")


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(stem: str, suffix: str) -> str:
    """A download's file name from text that may hold data values: letters, digits, . _ - only."""
    cleaned = _UNSAFE_FILENAME.sub("-", str(stem)).strip("-.") or "download"
    return f"{cleaned[:120]}{suffix}"
