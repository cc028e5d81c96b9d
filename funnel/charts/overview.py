"""Charts of the weekly review: how each month's forecast moved from review to review."""
from __future__ import annotations


import pandas as pd
import plotly.graph_objects as go

from .. import fmt
from ..i18n import gettext_for
from . import theme
from .forecast import money_axis


def forecast_history(df: pd.DataFrame, presentation: bool = False, months_ahead: int = 2, lang: str = "en",
                     currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """One line per close month: its weighted forecast at each saved review, with the actual won
    amount as a diamond at the end (months not over yet have none).

    Close months more than ``months_ahead`` after the latest review's month are left out: their
    forecasts are small and far off, and more lines than colours would be unreadable. Words in
    ``lang``; amounts in ``currency`` (the database's, :func:`funnel.fmt.currency`).
    """
    _ = gettext_for(lang)
    if df.empty:
        return theme.empty_figure(_("No saved reviews yet — save this week's review on the Overview page."), presentation)
    horizon = (pd.Timestamp(max(df["as_of"])).to_period("M") + months_ahead).strftime("%Y-%m")
    df = df[df["period"] <= horizon]
    day = fmt.plotly_date_format(lang)
    hover_day = "%d %b" if lang == "en" else day
    symbol = fmt.currency_symbol(currency, lang)
    fig = go.Figure()
    for i, (period, g) in enumerate(df.groupby("period", sort=True)):
        color = theme.PALETTE[i % len(theme.PALETTE)]
        label = fmt.month(pd.Timestamp(period + "-01"), lang)
        if lang == "en":       # the amount in full, as Plotly formats it
            amount, amounts = f"{symbol}%{{y:,.0f}}", None
        else:                  # in 万 / 亿, which Plotly cannot format: written out per point
            amount, amounts = "%{customdata}", [fmt.money(v, lang, currency) for v in g["forecast"]]
        fig.add_trace(go.Scatter(x=g["as_of"], y=g["forecast"], mode="lines+markers", name=label,
                                 line={"color": color, "width": 4 if presentation else 3},
                                 marker={"size": 11 if presentation else 7}, customdata=amounts,
                                 hovertemplate=_("{month} forecast on {date}: {amount}", month=label,
                                                 date=f"%{{x|{hover_day}}}", amount=amount) + "<extra></extra>"))
        actual = g["actual"].dropna()
        if len(actual):
            won = f"{symbol}%{{y:,.0f}}" if lang == "en" else fmt.money(actual.iloc[-1], lang, currency)
            fig.add_trace(go.Scatter(x=[g["as_of"].max()], y=[actual.iloc[-1]], mode="markers",
                                     name=_("{month} actual", month=label),
                                     marker={"symbol": "diamond", "size": 18 if presentation else 14, "color": color, "line": {"color": theme.INK, "width": 1}},
                                     hovertemplate=_("{month} actually won: {amount}", month=label, amount=won)
                                     + "<extra></extra>", showlegend=False))
    theme.style(fig, title=_("How each month's forecast moved from review to review (◆ = actually won)"),
                presentation=presentation, x_title=_("Review date"), y_title=_("Weighted forecast"))
    # Review dates are days: label them as days (Plotly would show hours around a single review).
    first, last = pd.Timestamp(min(df["as_of"])), pd.Timestamp(max(df["as_of"]))
    pad = max(pd.Timedelta(days=3), (last - first) * 0.05)
    reviews = sorted({pd.Timestamp(d) for d in df["as_of"]})
    fig.update_xaxes(type="date", tickformat=day, range=[first - pad, last + pad],
                     **({"tickvals": reviews} if len(reviews) <= 12 else {"dtick": "M1"}))  # a tick per review
    amounts = [float(v) for v in [*df["forecast"], *df["actual"].dropna()] if pd.notna(v)] or [0.0]
    return money_axis(fig, min(0.0, min(amounts)), max(amounts), "y", lang, currency)
