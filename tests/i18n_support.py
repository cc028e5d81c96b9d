"""What a reader sees on a page rendered by AppTest, as text: for the language tests.

``visible_texts(at)`` walks the main area's element tree (the sidebar and the frame's
presentation toggle belong to app.py) and returns every string a person reads: titles, markdown,
captions, alerts, metric labels / values / help, widget labels, help, placeholders and options,
expander labels, table column labels and help, and each Plotly chart's title, axis titles, legend
and colour-bar titles, trace names, bar and cell texts, category labels, annotations and hover
templates. ``english_words`` keeps what is left after data values and placeholders are removed.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Abbreviations and names a Chinese sales team reads as they are (glossary-zh.md keeps MQL, SAL,
# SQL, SDR, AE; the rest are units, file types and a statistician's name).
ALLOWED = {"MQL", "SAL", "SQL", "SDR", "AE", "KM", "SLA", "CSV", "CRM", "P10", "P50", "P90", "Kaplan", "Meier",
           "ICP", "BANT"}

_FRAME_KEYS = {"present"}                     # app.py's presentation toggle, not a page's
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
_PLOTLY_PLACEHOLDER = re.compile(r"%\{[^{}]*(\{[^{}]*\})?[^{}]*\}")
_TAGS = re.compile(r"</?[a-z][^<>]*>")     # markup (the finding paragraph, Plotly <b>, <br>)


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _plotly_texts(spec: dict) -> list[str]:
    out = []
    layout = spec.get("layout", {})

    def title(t):
        if isinstance(t, dict):
            t = t.get("text")
        if isinstance(t, str):
            out.append(t)

    title(layout.get("title"))
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
            title(value.get("title"))
            out.extend(str(v) for v in value.get("ticktext", []) or [])
    title((layout.get("legend") or {}).get("title"))
    for a in layout.get("annotations", []) or []:
        out.append(str(a.get("text", "")))
    for trace in spec.get("data", []):
        for key in ("name", "hovertemplate", "texttemplate"):
            if isinstance(trace.get(key), str):
                out.append(trace[key])
        for key in ("text", "x", "y", "labels"):
            values = trace.get(key)
            if isinstance(values, str):
                out.append(values)
            elif isinstance(values, list):
                flat = [v for row in values for v in (row if isinstance(row, list) else [row])]
                out.extend(v for v in flat if isinstance(v, str))
        if isinstance(trace.get("customdata"), list) and trace["customdata"] and isinstance(trace["customdata"][0], str):
            out.extend(trace["customdata"])
        title((trace.get("colorbar") or {}).get("title"))
        node = trace.get("node") or {}
        out.extend(str(v) for v in node.get("label", []) or [])
        for part in (node, trace.get("link") or {}):
            if isinstance(part.get("hovertemplate"), str):
                out.append(part["hovertemplate"])
        link = trace.get("link") or {}
        out.extend(v for v in link.get("customdata", []) or [] if isinstance(v, str))
    return out


def visible_texts(at) -> list[str]:
    texts: list[str] = []
    for node in _walk(at.main):
        proto = getattr(node, "proto", None)
        if proto is None or getattr(node, "key", None) in _FRAME_KEYS:
            continue
        kind = type(node).__name__
        if kind in ("PlotlyChart", "UnknownElement") and hasattr(proto, "spec") and proto.spec:
            texts.extend(_plotly_texts(json.loads(proto.spec)))
            continue
        for field in ("body", "label", "help", "placeholder", "value"):
            v = getattr(proto, field, None)
            if isinstance(v, str) and v and not v.lstrip().startswith("<style"):
                texts.append(v)
        for field in ("options",):
            for v in getattr(proto, field, []) or []:
                texts.append(v if isinstance(v, str) else getattr(v, "content", "") or getattr(v, "label", ""))
        columns = getattr(proto, "columns", None)
        if isinstance(columns, str) and columns:
            for cfg in json.loads(columns).values():
                texts.extend(str(cfg.get(k)) for k in ("label", "help") if cfg.get(k))
    return texts


def english_words(texts, data_values) -> list[str]:
    """Words in Latin letters that are neither data values nor allowed abbreviations."""
    values = sorted({str(v) for v in data_values if v is not None and str(v).strip()}, key=len, reverse=True)
    found = []
    for text in texts:
        t = _TAGS.sub(" ", _PLOTLY_PLACEHOLDER.sub(" ", str(text)))
        for v in values:
            t = t.replace(v, " ")
        found.extend(w for w in _WORD.findall(t) if w not in ALLOWED)
    return found


def render_in_chinese(db, page: str, state: dict | None = None, *, clicks: tuple[str, ...] = ()):
    """``page`` rendered in Chinese by AppTest on ``db``: its first run with ``state`` set before it
    (AppTest re-formats translated widget values on a later run, which a browser does not), then a
    click on each button keyed ``clicks``; the missing-translation record is reset first."""
    from streamlit.testing.v1 import AppTest

    from funnel import i18n

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
