"""Export the weekly review as one self-contained HTML file that opens offline.

Plotly's JavaScript is inlined once, so charts stay interactive with no network; tables are
plain HTML. Nothing here needs Streamlit or a browser. The file is written in one language
(``lang``, English by default): its own words are messages, its figures formatted by
:mod:`funnel.fmt` in that language; the figures are the same whichever language is chosen.
"""
from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from . import fmt
from .i18n import gettext_for, ngettext_for, render
from .markup import plain_figure

#: The ``lang`` attribute of the document (browsers pick fonts and hyphenation by it).
HTML_LANG = {"en": "en", "zh": "zh-CN"}

CSS = """
body {font-family: Inter, 'Segoe UI', Roboto, Helvetica, Arial, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei',
      sans-serif; color: #1B1F24; margin: 32px auto;
      max-width: 1400px; padding: 0 24px;}
h1 {font-size: 2.2rem; margin-bottom: 0;} h2 {margin-top: 2.2rem; border-bottom: 2px solid #E5E8EC;}
.scope {color: #555; margin-top: .3rem;}
.kpis {display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 14px; margin: 20px 0;}
.kpi {background: #F2F4F7; border-radius: 10px; padding: 14px 16px;}
.kpi .label {font-size: .95rem; color: #444;} .kpi .value {font-size: 1.9rem; font-weight: 700;}
.kpi .delta {font-size: .95rem; color: #444;}
ul.highlights li {font-size: 1.15rem; margin: .4rem 0;}
table {border-collapse: collapse; margin: 10px 0; font-size: .95rem;}
th, td {border-bottom: 1px solid #E5E8EC; padding: 6px 10px; text-align: right;}
th:first-child, td:first-child {text-align: left;}
footer {color: #777; margin-top: 40px; font-size: .85rem;}
"""


def review_html(title: str, scope_sentence: str, kpis: list[dict], highlights: list[str],
                figures: list[tuple[str, go.Figure]], tables: list[tuple[str, pd.DataFrame]] = (),
                lang: str = "en", exported_at: datetime | None = None) -> str:
    """kpis: dicts with label, value (formatted), delta (formatted, optional). Every text passed in is
    already in ``lang``; this adds the document's own words (the highlights heading, the footer) in it."""
    _ = gettext_for(lang)
    when = exported_at or datetime.now()
    parts = [f"<!DOCTYPE html><html lang='{HTML_LANG.get(lang, lang)}'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title>",
             f"<style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p class='scope'>{html.escape(scope_sentence)}</p>"]
    if kpis:
        parts.append("<div class='kpis'>")
        for k in kpis:
            parts.append(f"<div class='kpi'><div class='label'>{html.escape(k['label'])}</div>"
                         f"<div class='value'>{html.escape(str(k['value']))}</div>"
                         f"<div class='delta'>{html.escape(str(k.get('delta') or ''))}</div></div>")
        parts.append("</div>")
    if highlights:
        heading = _("Highlights")
        parts.append(f"<h2>{html.escape(heading)}</h2><ul class='highlights'>")
        parts += [f"<li>{html.escape(h)}</li>" for h in highlights]
        parts.append("</ul>")
    first = True
    for heading, fig in figures:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        # Data values in categories, legends and hover text are drawn as text, not Plotly markup.
        parts.append(plain_figure(fig).to_html(full_html=False, include_plotlyjs=True if first else False,
                                 config={"displaylogo": False}))
        first = False
    for heading, df in tables:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(df.to_html(index=False, border=0, na_rep="–", escape=True))
    footer = _("Exported from Funnelcast on {when}. Charts are interactive and work offline.",
               when=f"{fmt.date(when, lang)} {when:%H:%M}")
    parts.append(f"<footer>{html.escape(footer)}</footer></body></html>")
    return "".join(parts)


def month_title(d, lang: str = "en") -> str:
    """A month in a heading: ``November 2026`` / ``2026年11月``."""
    return f"{pd.Timestamp(d):%B %Y}" if lang == "en" else fmt.month(d, lang)


def week_label(week_end, lang: str = "en") -> str:
    """The rolling week ending on ``week_end``: ``14 Nov–20 Nov`` / ``11月14日–11月20日``."""
    start = pd.Timestamp(week_end) - pd.Timedelta(days=6)
    return f"{fmt.day_month(start, lang)}–{fmt.day_month(week_end, lang)}"


def tile_value(tile, value, lang: str = "en", currency: str = fmt.DEFAULT_CURRENCY) -> str:
    """A KPI tile's value (:data:`funnel.overview.TILES`) as the tile shows it."""
    if tile.kind == "money":
        return fmt.money(value, lang, currency)
    if tile.kind == "pct":
        return fmt.pct(value, lang)
    return fmt.count_short(value, lang)


def tile_change(tile, now, before, lang: str = "en", currency: str = fmt.DEFAULT_CURRENCY) -> str | None:
    """This week against last week, signed: ``+12``, ``-$40k``, ``+3.1 pts`` / ``+3.1 个百分点``; None
    when either week has no value. ASCII signs: Streamlit's metric reads a leading "-" as a fall."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    _ = gettext_for(lang)
    d = float(now) - float(before)
    if tile.kind == "pct":
        return _("{change} pts", change=f"{d * 100:+.1f}")
    if tile.kind == "money":
        return ("+" if d >= 0 else "-") + fmt.money(abs(d), lang, currency)
    return f"{d:+,.0f}"


def target_tile(tile: dict, month: str, lang: str = "en", currency: str = fmt.DEFAULT_CURRENCY) -> dict:
    """The target tile's label, value (attainment) and line under it (won of the target, the chance
    of hitting), in ``lang``: the same words on the Overview and in its export. ``tile`` is
    ``review_targets.month_tile``; ``month`` the month as the reader names it."""
    _ = gettext_for(lang)
    attainment = "—" if tile.get("attainment") is None else fmt.pct(tile["attainment"], lang, 0)
    chance = "—" if tile.get("p_hit") is None else fmt.pct(tile["p_hit"], lang, 0)
    return {"label": _("Target, {month}", month=month), "value": attainment,
            "delta": _("Won {won} of {amount} · chance of hitting {chance}", won=fmt.money(tile["won"], lang, currency),
                       amount=fmt.money(tile["amount"], lang, currency), chance=chance)}


def overview_html(kpis: pd.DataFrame, notes: list[dict], headline: dict | None, was: dict | None,
                  figures: list[tuple[str, go.Figure]], scope_sentence: str, lang: str = "en",
                  currency: str = fmt.DEFAULT_CURRENCY, exported_at: datetime | None = None,
                  target: dict | None = None, more_kpis: list[dict] = (), more_sentences: list[str] = (),
                  more_figures: list[tuple[str, go.Figure]] = (),
                  more_tables: list[tuple[str, pd.DataFrame]] = ()) -> str:
    """The Overview's weekly review as one file, in ``lang``: the tiles (:data:`overview.TILES`) with
    their change against the week before, won so far and the weighted forecasts with their P10–P90
    range, the highlights, the page's charts (``figures``: titles and charts already in ``lang``) and
    the last weeks' figures.

    ``kpis`` is :func:`overview.weekly_kpis`, ``notes`` :func:`overview.highlights`, ``headline``
    :func:`overview.headline_forecast` (None without deals), ``was``
    :func:`overview.compare_with_snapshot`, ``target`` ``review_targets.month_tile`` (None without a
    target for the month); ``more_*``: further tiles, sentences (after the highlights), charts and tables —
    the targets' part of :func:`funnel.review.weekly_review_html`.
    """
    from .overview import TILES

    _ = gettext_for(lang)

    def money(x) -> str:
        return fmt.money(x, lang, currency)

    this, last = kpis.iloc[-1], kpis.iloc[-2]
    rows = []
    for t in TILES:
        change = tile_change(t, this[t.column], last[t.column], lang, currency)
        rows.append({"label": _(t.label), "value": tile_value(t, this[t.column], lang, currency),
                     "delta": _("{change} vs the week before", change=change) if change else ""})
    as_of = pd.Timestamp(kpis["week_end"].iloc[-1]).date()
    if headline:
        month, quarter = month_title(headline["month_start"], lang), fmt.quarter(headline["quarter_start"], lang)
        rows.append({"label": _("Won so far in {month}", month=month), "value": money(headline["won_month"]), "delta": ""})
        for label, key in ((month, "month"), (quarter, "quarter")):
            r = headline[key]
            delta = _("P10–P90 {low} – {high}", low=money(r.p10), high=money(r.p90))
            if was and was.get(key) is not None:
                delta += _(" · was {amount} at the review of {date}", amount=money(was[key]),
                           date=fmt.date(was["as_of"], lang))
            rows.append({"label": _("Weighted forecast, {period}", period=label), "value": money(r.weighted),
                         "delta": delta})
        if target:
            rows.append(target_tile(target, month, lang, currency))
    rows.extend(more_kpis)
    # Formatted as on screen: the file is read by people, not parsed (the CSV beside the table is for that).
    table = pd.DataFrame({
        _("Week"): [week_label(e, lang) for e in kpis["week_end"]],
        _("New leads"): [fmt.count_short(v, lang) for v in kpis["new_leads"]],
        _("MQLs"): [fmt.count_short(v, lang) for v in kpis["mqls"]],
        _("SQLs"): [fmt.count_short(v, lang) for v in kpis["sqls"]],
        _("Rejected"): [fmt.count_short(v, lang) for v in kpis["rejected"]],
        _("Rejection rate"): [fmt.pct(v, lang) for v in kpis["rejection_rate"]],
        _("Pipeline created"): [money(v) for v in kpis["pipeline_created"]],
        _("Won"): [money(v) for v in kpis["won_amount"]]})
    title = _("Weekly review — week ending {date}", date=fmt.date(as_of, lang))
    return review_html(title, scope_sentence, rows, [*(render(n["message"], lang) for n in notes), *more_sentences],
                       [*figures, *more_figures],
                       [(ngettext_for(lang, "Last {n} week", "Last {n} weeks", len(kpis), n=len(kpis)), table),
                        *more_tables], lang=lang, exported_at=exported_at)
