"""Charts of the weekly review: how each month's forecast moved from review to review."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from . import theme


def forecast_history(df: pd.DataFrame, presentation: bool = False, months_ahead: int = 2) -> go.Figure:
    """One line per close month: its weighted forecast at each saved review, with the actual won
    amount as a diamond at the end (months not over yet have none).

    Close months more than ``months_ahead`` after the latest review's month are left out: their
    forecasts are small and far off, and more lines than colours would be unreadable.
    """
    if df.empty:
        return theme.empty_figure("No saved reviews yet — save this week's review on the Overview page.", presentation)
    horizon = (pd.Timestamp(max(df["as_of"])).to_period("M") + months_ahead).strftime("%Y-%m")
    df = df[df["period"] <= horizon]
    fig = go.Figure()
    for i, (period, g) in enumerate(df.groupby("period", sort=True)):
        color = theme.PALETTE[i % len(theme.PALETTE)]
        label = pd.Timestamp(period + "-01").strftime("%b %Y")
        fig.add_trace(go.Scatter(x=g["as_of"], y=g["forecast"], mode="lines+markers", name=label,
                                 line={"color": color, "width": 4 if presentation else 3},
                                 marker={"size": 11 if presentation else 7},
                                 hovertemplate=f"{label} forecast on %{{x|%d %b}}: $%{{y:,.0f}}<extra></extra>"))
        actual = g["actual"].dropna()
        if len(actual):
            fig.add_trace(go.Scatter(x=[g["as_of"].max()], y=[actual.iloc[-1]], mode="markers", name=f"{label} actual",
                                     marker={"symbol": "diamond", "size": 18 if presentation else 14, "color": color, "line": {"color": theme.INK, "width": 1}},
                                     hovertemplate=f"{label} actually won: $%{{y:,.0f}}<extra></extra>", showlegend=False))
    theme.style(fig, title="How each month's forecast moved from review to review (◆ = actually won)",
                presentation=presentation, x_title="Review date", y_title="Weighted forecast")
    # Review dates are days: label them as days (Plotly would show hours around a single review).
    first, last = pd.Timestamp(min(df["as_of"])), pd.Timestamp(max(df["as_of"]))
    pad = max(pd.Timedelta(days=3), (last - first) * 0.05)
    reviews = sorted({pd.Timestamp(d) for d in df["as_of"]})
    fig.update_xaxes(type="date", tickformat="%d %b %Y", range=[first - pad, last + pad],
                     **({"tickvals": reviews} if len(reviews) <= 12 else {"dtick": "M1"}))  # a tick per review
    return theme.money_tick(fig)
