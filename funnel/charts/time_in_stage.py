"""Charts of the time-in-stage page (metrics.md §2): frames from funnel.time_in_stage in, figures out.

Durations are computed in hours and drawn in days (what a sales leader thinks in). Every builder
is pure, takes ``presentation`` and ends in ``theme.style``; an empty frame gives a chart-sized note.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from . import theme

MEASURES = [
    ("median_hours", "Median of finished stays", theme.PALETTE[0]),
    ("p90_hours", "90th percentile of finished stays", theme.PALETTE[4]),
    ("km_median_hours", "Median counting items still there (Kaplan–Meier)", theme.PALETTE[1]),
]


def _days(hours) -> str:
    if hours is None or pd.isna(hours):
        return "–"
    d = float(hours) / 24.0
    return f"{d * 24:.0f} h" if d < 2 else f"{d:.1f} d"


# The palette without its yellow, which is too faint for a thin line on white.
LINE_COLORS = [c for c in theme.PALETTE if c != "#F0E442"]


def stage_colors(stages) -> dict[str, str]:
    """A stable colour per stage: pass the funnel's full stage order so every chart agrees."""
    return {s: LINE_COLORS[i % len(LINE_COLORS)] for i, s in enumerate(stages)}


def durations_chart(tis: pd.DataFrame, presentation: bool = False) -> go.Figure:
    """Per stage: median and 90th percentile of finished stays, and the Kaplan–Meier median, in days.

    ``tis`` is :func:`funnel.time_in_stage.time_in_stage`. A stage whose Kaplan–Meier median does
    not exist (more than half its items are still there) is labelled so instead of a bar.
    """
    if tis is None or tis.empty or int(tis["visits"].sum()) == 0:
        return theme.empty_figure("No stage visits in this cohort — widen the date range or clear a filter",
                                  presentation)
    d = tis[tis["visits"] > 0]
    # A stage without a Kaplan–Meier median says so under its name (a missing bar is not "zero").
    stages = [s if pd.notna(k) else f"{s}<br>(KM: over half still there)"
              for s, k in zip(d["stage"], d["km_median_hours"])]
    fs = theme.font_sizes(presentation)
    fig = go.Figure()
    for col, name, color in MEASURES:
        vals = d[col]
        days = [None if pd.isna(v) else float(v) / 24.0 for v in vals]
        text = ["" if pd.isna(v) else _days(v) for v in vals]
        fig.add_trace(go.Bar(
            x=stages, y=days, name=name, marker_color=color, text=text, textposition="outside", cliponaxis=False,
            constraintext="none", textfont={"size": fs["tick"] - 2},
            customdata=list(zip(d["visits"], d["completed"], d["censored"])),
            hovertemplate=f"{name}: %{{text}}<br>%{{customdata[0]:,}} visits, "
                          "%{customdata[1]:,} finished, %{customdata[2]:,} still there<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(type="category")
    longest = d.assign(typical=d["km_median_hours"].fillna(d["median_hours"])).dropna(subset=["typical"])
    if longest.empty:
        title = "Time in stage"
    else:
        top = longest.loc[longest["typical"].idxmax()]
        title = f"Items stay longest in {top['stage']}: half have left after {_days(top['typical'])}"
    return theme.style(fig, title=title, presentation=presentation, y_title="Days in stage")


def survival_chart(curves: pd.DataFrame, stage_order: list[str] | None = None,
                   presentation: bool = False) -> go.Figure:
    """Kaplan–Meier curves: share of items still in each stage after N days (steps at each exit).

    ``curves`` is :func:`funnel.time_in_stage.survival_curves`.
    """
    if curves is None or curves.empty:
        return theme.empty_figure("No finished stage visits yet — nothing to draw", presentation)
    stages = [s for s in (stage_order or []) if s in set(curves["stage"])] or sorted(curves["stage"].unique())
    colors = stage_colors(stage_order or stages)
    fig = go.Figure()
    for s in stages:
        c = curves[curves["stage"] == s].sort_values("hours")
        x = [0.0] + [h / 24.0 for h in c["hours"]]
        y = [1.0] + list(c["survival"])
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines", name=s, line={"shape": "hv", "width": 3, "color": colors[s]},
            hovertemplate=f"<b>{s}</b><br>after %{{x:.1f}} days: %{{y:.0%}} still in the stage<extra></extra>"))
    fig.add_hline(y=0.5, line={"dash": "dot", "color": theme.MUTED, "width": 1.5},
                  annotation_text="half have left", annotation_position="top right")
    theme.pct_tick(fig)
    fig.update_yaxes(range=[0, 1.02])
    fig.update_xaxes(rangemode="tozero")
    return theme.style(fig, title="Share still in the stage, by days since entering it", presentation=presentation,
                       x_title="Days since entering the stage", y_title="Still in the stage")


def sla_bars(summary: pd.DataFrame, presentation: bool = False) -> go.Figure:
    """Per stage with a target: share of visits over it, labelled with counts.

    ``summary`` is :func:`funnel.time_in_stage.sla_summary`.
    """
    d = summary[summary["visits"] > 0] if summary is not None and not summary.empty else None
    if d is None or d.empty:
        return theme.empty_figure("No stage has a target and visits — set targets in the table", presentation)
    colors = [theme.BAD if r >= 0.25 else theme.NEUTRAL for r in d["breach_rate"]]
    fig = go.Figure(go.Bar(
        x=list(d["stage"]), y=list(d["breach_rate"]), marker_color=colors,
        text=[f"{r:.0%}<br>{int(b):,} of {int(v):,}" for r, b, v in zip(d["breach_rate"], d["breaches"], d["visits"])],
        textposition="outside", cliponaxis=False, constraintext="none",
        textfont={"size": theme.font_sizes(presentation)["tick"] - 1},
        customdata=list(zip(d["sla_hours"] / 24.0, d["over_now"])),
        hovertemplate="<b>%{x}</b> (target %{customdata[0]:.1f} days)<br>%{y:.1%} of visits over target<br>"
                      "%{customdata[1]:,} over it right now<extra></extra>"))
    theme.pct_tick(fig)
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero")
    worst = d.loc[d["breach_rate"].idxmax()]
    title = f"{worst['stage']} misses its target most often: {worst['breach_rate']:.0%} of visits"
    return theme.style(fig, title=title, presentation=presentation, legend=False, y_title="Visits over target")


def breach_trend_chart(breaches: pd.DataFrame, stage_order: list[str] | None = None, grain: str = "month",
                       presentation: bool = False) -> go.Figure:
    """Share of visits over target per stage, by the period the visit began.

    ``breaches`` is :func:`funnel.time_in_stage.sla_breaches`. Periods that are not ``complete``
    (a visit still open may cross its target later, so the rate can only rise) are dashed and faded.
    """
    if breaches is None or breaches.empty:
        return theme.empty_figure("No stage has a target and visits — set targets in the table", presentation)
    stages = [s for s in (stage_order or []) if s in set(breaches["stage"])] or sorted(breaches["stage"].unique())
    colors = stage_colors(stage_order or stages)
    fig = go.Figure()
    for s in stages:
        b = breaches[breaches["stage"] == s].sort_values("period")
        x = [pd.Timestamp(p) for p in b["period"]]
        y = list(b["breach_rate"])
        done = list(b["complete"].astype(bool)) if "complete" in b else [True] * len(b)
        custom = list(zip(b["breaches"], b["visits"]))
        hover = (f"<b>{s}</b> · entered %{{x|%b %Y}}<br>%{{y:.0%}} over target "
                 "(%{customdata[0]:,} of %{customdata[1]:,})")
        i_done = [i for i, c in enumerate(done) if c]
        i_young = [i for i, c in enumerate(done) if not c]
        if i_done:
            fig.add_trace(go.Scatter(
                x=[x[i] for i in i_done], y=[y[i] for i in i_done], mode="lines+markers", name=s, legendgroup=s,
                line={"width": 3, "color": colors.get(s)}, customdata=[custom[i] for i in i_done],
                hovertemplate=hover + "<extra></extra>"))
        if i_young:
            ids = ([i_done[-1]] if i_done and i_done[-1] < i_young[0] else []) + i_young
            fig.add_trace(go.Scatter(
                x=[x[i] for i in ids], y=[y[i] for i in ids], mode="lines+markers", name=f"{s} (so far)",
                legendgroup=s, showlegend=not i_done, opacity=0.45,
                line={"width": 2, "color": colors.get(s), "dash": "dash"}, marker={"symbol": "circle-open"},
                customdata=[custom[i] for i in ids],
                hovertemplate=hover + " so far — visits still open may cross the target<extra></extra>"))
    theme.pct_tick(fig)
    fig.update_yaxes(rangemode="tozero")
    unit = "month" if grain == "month" else "week"
    return theme.style(fig, title=f"Share of visits over target, by {unit} of entering the stage",
                       presentation=presentation, x_title=f"{unit.capitalize()} the visit began",
                       y_title="Visits over target")
