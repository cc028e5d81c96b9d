"""One look for every chart: Okabe–Ito colour-blind-safe palette, readable fonts, big in
presentation mode (1920×1080 on a projector, read from the back of the room)."""
from __future__ import annotations

import plotly.graph_objects as go

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
GOOD, BAD, NEUTRAL, MUTED = "#009E73", "#D55E00", "#0072B2", "#9AA5B1"
INK = "#1B1F24"

FONT = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


def font_sizes(presentation: bool) -> dict:
    return {"base": 22, "title": 30, "tick": 20, "legend": 20} if presentation else \
           {"base": 14, "title": 18, "tick": 13, "legend": 13}


def style(fig: go.Figure, *, title: str | None = None, presentation: bool = False,
          x_title: str | None = None, y_title: str | None = None, height: int | None = None,
          legend: bool = True) -> go.Figure:
    s = font_sizes(presentation)
    fig.update_layout(
        template="plotly_white",
        colorway=PALETTE,
        font={"family": FONT, "size": s["base"], "color": INK},
        title={"text": title, "font": {"size": s["title"]}, "x": 0, "xanchor": "left"} if title else None,
        margin={"l": 10, "r": 10, "t": 70 if title else 20, "b": 10},
        legend={"font": {"size": s["legend"]}, "orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        showlegend=legend,
        height=height or (560 if presentation else 420),
        hoverlabel={"font": {"size": s["base"]}},
    )
    fig.update_xaxes(title_text=x_title, tickfont={"size": s["tick"]}, title_font={"size": s["base"]},
                     showgrid=False, automargin=True)
    fig.update_yaxes(title_text=y_title, tickfont={"size": s["tick"]}, title_font={"size": s["base"]},
                     gridcolor="#E5E8EC", automargin=True)
    return fig


def empty_figure(message: str, presentation: bool = False) -> go.Figure:
    """A chart-sized note instead of a blank plot: says why there is nothing and what to do."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": font_sizes(presentation)["title"], "color": MUTED})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, presentation=presentation, legend=False, height=260)


def money_tick(fig: go.Figure, axis: str = "y", currency: str = "$") -> go.Figure:
    """SI-style money ticks ($1.2M, $350k)."""
    getattr(fig, f"update_{axis}axes")(tickprefix=currency, tickformat="~s")
    return fig


def pct_tick(fig: go.Figure, axis: str = "y") -> go.Figure:
    getattr(fig, f"update_{axis}axes")(tickformat=".0%")
    return fig
