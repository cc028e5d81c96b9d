"""Charts of targets across saved weekly reviews: attainment and the chance of hitting, week by week."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .. import fmt
from ..i18n import N_, gettext_for
from ..review_targets import PeriodName
from . import theme

HORIZONS = {"month": N_("This month's target"), "quarter": N_("This quarter's target")}


def target_history_chart(history: pd.DataFrame, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Two lines per horizon (the review's month and quarter target): attainment (won ÷ target,
    solid) and the chance of hitting (dotted), at each saved review. ``history`` is
    ``review_targets.target_history``."""
    _ = gettext_for(lang)
    if history.empty:
        return theme.empty_figure(_("No saved review holds a target yet: set targets on the Targets & plan page, "
                                    "then save this week's review on the Overview page."), presentation)
    fig = go.Figure()
    width = 4 if presentation else 3
    for i, (horizon, g) in enumerate(history.groupby("horizon", sort=False)):
        color = theme.PALETTE[i % len(theme.PALETTE)]
        name = _(HORIZONS[horizon])
        periods = [_period(p, lang) for p in g["period"]]
        dates = [fmt.date(d, lang) for d in g["as_of"]]
        fig.add_trace(go.Scatter(
            x=list(g["as_of"]), y=list(g["attainment"]), mode="lines+markers",
            name=_("{target}: attainment", target=name),
            line={"color": color, "width": width}, marker={"size": 11 if presentation else 7},
            customdata=list(zip(periods, dates)),
            hovertemplate=_("%{customdata[0]} on %{customdata[1]}: %{y:.0%} of the target won") + "<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=list(g["as_of"]), y=list(g["p_hit"]), mode="lines+markers",
            name=_("{target}: chance of hitting", target=name),
            line={"color": color, "width": width, "dash": "dot"}, marker={"size": 11 if presentation else 7, "symbol": "diamond"},
            customdata=list(zip(periods, dates)),
            hovertemplate=_("%{customdata[0]} on %{customdata[1]}: %{y:.0%} chance of hitting") + "<extra></extra>"))
    theme.style(fig, title=_("Targets across reviews: won so far (solid) and the chance of hitting (dotted)"),
                presentation=presentation, x_title=_("Review date"), y_title=_("Share of the target"))
    reviews = sorted({pd.Timestamp(d) for d in history["as_of"]})
    first, last = reviews[0], reviews[-1]
    pad = max(pd.Timedelta(days=3), (last - first) * 0.05)
    fig.update_xaxes(type="date", tickformat=fmt.plotly_date_format(lang), range=[first - pad, last + pad],
                     **({"tickvals": reviews} if len(reviews) <= 12 else {"dtick": "M1"}))
    top = max(1.0, float(pd.concat([history["attainment"], history["p_hit"]]).max(skipna=True) or 0)) * 1.05
    fig.update_yaxes(range=[0, top])
    return theme.pct_tick(fig)


def _period(label: str, lang: str) -> str:
    return PeriodName(label).format(lang)
