"""Charts of the weekly review: how each month's forecast moved from review to review."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from . import theme


def forecast_history(df: pd.DataFrame, presentation: bool = False) -> go.Figure:
    """One line per close month: its weighted forecast at each saved review, with the actual won
    amount as a diamond at the end (months not over yet have none)."""
    if df.empty:
        return theme.empty_figure("No saved reviews yet — save this week's review on the Overview page.", presentation)
    fig = go.Figure()
    for i, (period, g) in enumerate(df.groupby("period", sort=True)):
        color = theme.PALETTE[i % len(theme.PALETTE)]
        label = pd.Timestamp(period + "-01").strftime("%b %Y")
        fig.add_trace(go.Scatter(x=g["as_of"], y=g["forecast"], mode="lines+markers", name=label,
                                 line={"color": color, "width": 3},
                                 hovertemplate=f"{label} forecast on %{{x|%d %b}}: $%{{y:,.0f}}<extra></extra>"))
        actual = g["actual"].dropna()
        if len(actual):
            fig.add_trace(go.Scatter(x=[g["as_of"].max()], y=[actual.iloc[-1]], mode="markers", name=f"{label} actual",
                                     marker={"symbol": "diamond", "size": 14, "color": color, "line": {"color": theme.INK, "width": 1}},
                                     hovertemplate=f"{label} actually won: $%{{y:,.0f}}<extra></extra>", showlegend=False))
    theme.style(fig, title="How each month's forecast moved from review to review (◆ = actually won)",
                presentation=presentation, x_title="Review date", y_title="Weighted forecast")
    return theme.money_tick(fig)
