"""Charts of the time-in-stage page (metrics.md §2): frames from funnel.time_in_stage in, figures out.

Durations are computed in hours and drawn in days (what a sales leader thinks in). Every builder
is pure, takes ``presentation`` and ends in ``theme.style``; an empty frame gives a chart-sized note.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .. import fmt
from ..i18n import N_, gettext_for
from . import theme

MEASURES = [
    ("median_hours", N_("Median of finished stays"), theme.PALETTE[0]),
    ("p90_hours", N_("90th percentile of finished stays"), theme.PALETTE[4]),
    ("km_median_hours", N_("Median counting items still there (Kaplan–Meier)"), theme.PALETTE[1]),
]


def _days(hours, lang: str = "en") -> str:
    return fmt.hours(hours, lang)


def _in_unit(hours, in_days: bool, lang: str = "en") -> str:
    """A bar's label in its axis's unit: "1.5 d" / "1.5 天", or "37 h" / "37 小时" — never a mix of
    the two on one axis (fmt.hours picks per value: "40 h" beside "4.2 d")."""
    if hours is None or pd.isna(hours):
        return ""
    if in_days:
        return f"{float(hours) / 24.0:.1f}" + (" 天" if lang == "zh" else " d")
    return f"{float(hours):.0f}" + (" 小时" if lang == "zh" else " h")


# The palette without its yellow, which is too faint for a thin line on white.
LINE_COLORS = [c for c in theme.PALETTE if c != "#F0E442"]


def stage_colors(stages) -> dict[str, str]:
    """A stable colour per stage: pass the funnel's full stage order so every chart agrees."""
    return {s: LINE_COLORS[i % len(LINE_COLORS)] for i, s in enumerate(stages)}


def durations_chart(tis: pd.DataFrame, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Per stage: median and 90th percentile of finished stays, and the Kaplan–Meier median, in days
    (in hours when every bar is under two days: one unit for the axis and all its labels).

    ``tis`` is :func:`funnel.time_in_stage.time_in_stage`. A stage whose Kaplan–Meier median does
    not exist (more than half its items are still there) is labelled so instead of a bar.
    """
    _ = gettext_for(lang)
    if tis is None or tis.empty or int(tis["visits"].sum()) == 0:
        return theme.empty_figure(_("No stage visits in this cohort — widen the date range or clear a filter"),
                                  presentation)
    d = tis[tis["visits"] > 0]
    # A stage without a Kaplan–Meier median says so under its name (a missing bar is not "zero").
    stages = [s if pd.notna(k) else s + "<br>" + _("(KM: over half still there)")
              for s, k in zip(d["stage"], d["km_median_hours"])]
    fs = theme.font_sizes(presentation)
    # One unit for the axis and every label on it: days when the longest bar is two days or more
    # (as fmt.hours would say it), else hours.
    longest = pd.concat([d[col] for col, _m, _c in MEASURES]).max()
    in_days = bool(pd.notna(longest) and float(longest) >= 48.0)
    per_unit = 24.0 if in_days else 1.0
    fig = go.Figure()
    for col, measure, color in MEASURES:
        name = _(measure)
        vals = d[col]
        heights = [None if pd.isna(v) else float(v) / per_unit for v in vals]
        text = [_in_unit(v, in_days, lang) for v in vals]
        fig.add_trace(go.Bar(
            x=stages, y=heights, name=name, marker_color=color, text=text, textposition="outside", cliponaxis=False,
            constraintext="none", textfont={"size": fs["tick"] - 2},
            customdata=list(zip(d["visits"], d["completed"], d["censored"])),
            hovertemplate=_("{measure}: %{text}<br>%{customdata[0]:,} visits, "
                            "%{customdata[1]:,} finished, %{customdata[2]:,} still there", measure=name)
                          + "<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(type="category")
    longest = d.assign(typical=d["km_median_hours"].fillna(d["median_hours"])).dropna(subset=["typical"])
    if longest.empty:
        title = _("Time in stage")
    else:
        top = longest.loc[longest["typical"].idxmax()]
        title = _("Items stay longest in {stage}: half have left after {wait}", stage=str(top["stage"]),
                  wait=_days(top["typical"], lang))
    return theme.style(fig, title=title, presentation=presentation,
                       y_title=_("Days in stage") if in_days else _("Hours in stage"))


def survival_chart(curves: pd.DataFrame, stage_order: list[str] | None = None,
                   presentation: bool = False, lang: str = "en") -> go.Figure:
    """Kaplan–Meier curves: share of items still in each stage after N days (steps at each exit).

    ``curves`` is :func:`funnel.time_in_stage.survival_curves`.
    """
    _ = gettext_for(lang)
    if curves is None or curves.empty:
        return theme.empty_figure(_("No finished stage visits yet — nothing to draw"), presentation)
    stages = [s for s in (stage_order or []) if s in set(curves["stage"])] or sorted(curves["stage"].unique())
    colors = stage_colors(stage_order or stages)
    fig = go.Figure()
    for s in stages:
        c = curves[curves["stage"] == s].sort_values("hours")
        x = [0.0] + [h / 24.0 for h in c["hours"]]
        y = [1.0] + list(c["survival"])
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines", name=s, line={"shape": "hv", "width": 3, "color": colors[s]},
            hovertemplate=_("<b>{stage}</b><br>after %{x:.1f} days: %{y:.0%} still in the stage", stage=s)
                          + "<extra></extra>"))
    fig.add_hline(y=0.5, line={"dash": "dot", "color": theme.MUTED, "width": 1.5},
                  annotation_text=_("half have left"), annotation_position="top right")
    theme.pct_tick(fig)
    fig.update_yaxes(range=[0, 1.02])
    fig.update_xaxes(rangemode="tozero")
    return theme.style(fig, title=_("Share still in the stage, by days since entering it"), presentation=presentation,
                       x_title=_("Days since entering the stage"), y_title=_("Still in the stage"))


#: Up to this many stages, a bar of the target chart also says its counts ("1,563 of 2,935").
SLA_COUNT_LABEL_MAX_BARS = 4


def sla_bars(summary: pd.DataFrame, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Per stage with a target: share of visits over it, labelled with counts.

    ``summary`` is :func:`funnel.time_in_stage.sla_summary`.
    """
    _ = gettext_for(lang)
    d = summary[summary["visits"] > 0] if summary is not None and not summary.empty else None
    if d is None or d.empty:
        return theme.empty_figure(_("No stage has a target and visits — set targets in the table"), presentation)
    colors = [theme.BAD if r >= 0.25 else theme.NEUTRAL for r in d["breach_rate"]]
    # "53% / 1,563 of 2,935" is wider than a bar once there are more than a few stages (the labels
    # ran into each other at 1280 px, in Chinese most): then the bar says the share, the hover the counts.
    with_counts = len(d) <= SLA_COUNT_LABEL_MAX_BARS
    fig = go.Figure(go.Bar(
        x=list(d["stage"]), y=list(d["breach_rate"]), marker_color=colors,
        text=[fmt.pct(r, lang, 0) + ("<br>" + _("{n} of {total}", n=fmt.Count(int(b)), total=fmt.Count(int(v)))
                                     if with_counts else "")
              for r, b, v in zip(d["breach_rate"], d["breaches"], d["visits"])],
        textposition="outside", cliponaxis=False, constraintext="none",
        textfont={"size": theme.font_sizes(presentation)["tick"] - 1},
        customdata=list(zip(d["sla_hours"] / 24.0, d["over_now"], d["breaches"], d["visits"])),
        hovertemplate=_("<b>%{x}</b> (target %{customdata[0]:.1f} days)<br>%{y:.1%} of visits over target "
                        "(%{customdata[2]:,} of %{customdata[3]:,})<br>%{customdata[1]:,} over it right now")
                      + "<extra></extra>"))
    theme.pct_tick(fig)
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero")
    worst = d.loc[d["breach_rate"].idxmax()]
    title = _("{stage} misses its target most often: {share} of visits", stage=str(worst["stage"]),
              share=fmt.Pct(worst["breach_rate"]))
    return theme.style(fig, title=title, presentation=presentation, legend=False, y_title=_("Visits over target"))


def breach_trend_chart(breaches: pd.DataFrame, stage_order: list[str] | None = None, grain: str = "month",
                       presentation: bool = False, lang: str = "en") -> go.Figure:
    """Share of visits over target per stage, by the period the visit began.

    ``breaches`` is :func:`funnel.time_in_stage.sla_breaches`. Periods that are not ``complete``
    (a visit still open may cross its target later, so the rate can only rise) are dashed and faded.
    """
    _ = gettext_for(lang)
    if breaches is None or breaches.empty:
        return theme.empty_figure(_("No stage has a target and visits — set targets in the table"), presentation)
    stages = [s for s in (stage_order or []) if s in set(breaches["stage"])] or sorted(breaches["stage"].unique())
    colors = stage_colors(stage_order or stages)
    fig = go.Figure()
    for s in stages:
        b = breaches[breaches["stage"] == s].sort_values("period")
        x = [pd.Timestamp(p) for p in b["period"]]
        y = list(b["breach_rate"])
        done = list(b["complete"].astype(bool)) if "complete" in b else [True] * len(b)
        custom = list(zip(b["breaches"], b["visits"]))
        hover = _("<b>{stage}</b> · entered %{x|{month}}<br>%{y:.0%} over target "
                  "(%{customdata[0]:,} of %{customdata[1]:,})", stage=s,
                  month=fmt.plotly_date_format(lang, with_day=False))
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
                x=[x[i] for i in ids], y=[y[i] for i in ids], mode="lines+markers", name=_("{stage} (so far)", stage=s),
                legendgroup=s, showlegend=not i_done, opacity=0.45,
                line={"width": 2, "color": colors.get(s), "dash": "dash"}, marker={"symbol": "circle-open"},
                customdata=[custom[i] for i in ids],
                hovertemplate=hover + _(" so far — visits still open may cross the target") + "<extra></extra>"))
    theme.pct_tick(fig)
    fig.update_yaxes(rangemode="tozero")
    if lang != "en":
        fig.update_xaxes(tickformat=fmt.plotly_date_format(lang, with_day=grain != "month"))
    if grain == "month":
        title, x_title = _("Share of visits over target, by month of entering the stage"), _("Month the visit began")
    else:
        title, x_title = _("Share of visits over target, by week of entering the stage"), _("Week the visit began")
    return theme.style(fig, title=title, presentation=presentation, x_title=x_title, y_title=_("Visits over target"))
