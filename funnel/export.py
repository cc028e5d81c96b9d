"""Export the weekly review as one self-contained HTML file that opens offline.

Plotly's JavaScript is inlined once, so charts stay interactive with no network; tables are
plain HTML. Nothing here needs Streamlit or a browser.
"""
from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from .markup import plain_figure

CSS = """
body {font-family: Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; color: #1B1F24; margin: 32px auto;
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
                figures: list[tuple[str, go.Figure]], tables: list[tuple[str, pd.DataFrame]] = ()) -> str:
    """kpis: dicts with label, value (formatted), delta (formatted, optional)."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
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
        parts.append("<h2>Highlights</h2><ul class='highlights'>")
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
    parts.append(f"<footer>Exported from Funnelcast on {datetime.now():%d %b %Y %H:%M}. "
                 "Charts are interactive and work offline.</footer></body></html>")
    return "".join(parts)
