"""Charts of the conversion page (metrics.md §1): frames from funnel.conversion in, plotly figures out.

Every builder is pure, takes ``presentation`` and ends in ``theme.style``; an empty frame gives a
chart-sized note saying what is missing and what to do.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..labels import readable
from . import theme

INCOMPLETE_FILL = "#D5D9DF"   # greyed: a cohort still maturing
# Light to mid blue only, so dark cell text stays readable at every value.
HEAT_SCALE = [[0.0, "#F3F8FC"], [0.5, "#9CC7E6"], [1.0, "#4A90C8"]]


def _pct(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "–"
    x = float(x) * 100
    return f"{x:.1f}%" if x < 10 else f"{x:.0f}%"


def _period_label(p, grain: str = "month") -> str:
    t = pd.Timestamp(p)
    return t.strftime("%b %Y") if grain == "month" else "wk " + t.strftime("%d %b %Y")


def _days(x) -> str:
    if x is None or pd.isna(x):
        return "–"
    x = float(x)
    return f"{x * 24:.0f} h" if x < 2 else f"{x:.1f} d"


# ---------------------------------------------------------------------------------------------


def funnel_chart(df: pd.DataFrame, presentation: bool = False, compact: bool = False) -> go.Figure:
    """The cohort funnel: leads reaching each stage, with step % and overall %.

    ``df`` is :func:`funnel.conversion.stage_conversion` without a breakdown. ``compact`` labels
    each bar with count and step % only, for half-width placements (the hover has the rest).
    """
    if df is None or df.empty:
        return theme.empty_figure("No leads in this cohort — widen the date range or clear a filter", presentation)
    d = df.sort_values("position")
    text = []
    for i, r in enumerate(d.itertuples()):
        if i == 0:
            text.append(f"{int(r.reached):,} leads")
        else:
            text.append(f"{int(r.reached):,} · {_pct(r.step_rate)}" if compact else
                        f"{int(r.reached):,} · {_pct(r.step_rate)} of previous · {_pct(r.overall_rate)} of all")
    fig = go.Figure(go.Funnel(
        y=list(d["stage"]), x=list(d["reached"]), text=text, textinfo="text",
        # The widest bar holds its label; the narrower ones put it beside the bar, where it stays readable.
        textposition=["inside"] + ["outside"] * (len(d) - 1),
        marker={"color": [theme.PALETTE[0]] * len(d)}, connector={"fillcolor": "#E5E8EC"},
        customdata=list(zip(d["step_rate"].fillna(1.0), d["overall_rate"])),
        hovertemplate="<b>%{y}</b><br>%{x:,} leads<br>step %{customdata[0]:.1%} · overall %{customdata[1]:.1%}"
                      "<extra></extra>",
        outsidetextfont={"color": theme.INK, "size": theme.font_sizes(presentation)["tick"]},
        insidetextfont={"color": "white", "size": theme.font_sizes(presentation)["tick"]},
    ))
    last = d.iloc[-1]
    title = f"{_pct(last['overall_rate'])} of {int(d.iloc[0]['reached']):,} leads reached {last['stage']}"
    return theme.style(fig, title=title, presentation=presentation, legend=False)


def breakdown_chart(df: pd.DataFrame, breakdown_label: str = "group", max_groups: int = 8,
                    presentation: bool = False) -> go.Figure:
    """Small multiples: one funnel (overall % per stage) per breakdown value, largest groups first.

    ``df`` is :func:`funnel.conversion.stage_conversion` with a breakdown (column ``grp``).
    """
    if df is None or df.empty:
        return theme.empty_figure("No leads in this cohort — widen the date range or clear a filter", presentation)
    sizes = df.groupby("grp")["leads"].first().sort_values(ascending=False)
    groups = list(sizes.index[:max_groups])
    stages = df.sort_values("position")["stage"].drop_duplicates().tolist()
    last = stages[-1]
    fig = make_subplots(rows=1, cols=len(groups), shared_yaxes=True, horizontal_spacing=0.015,
                        subplot_titles=[f"{readable(g)}<br><sup>{int(sizes[g]):,} leads</sup>" for g in groups])
    for i, g in enumerate(groups, start=1):
        part = df[df["grp"] == g].set_index("stage").reindex(stages)
        fig.add_trace(go.Bar(
            y=stages, x=part["overall_rate"], orientation="h", marker_color=theme.PALETTE[(i - 1) % len(theme.PALETTE)],
            text=[_pct(v) for v in part["overall_rate"]], textposition="outside", cliponaxis=False, name=readable(g),
            customdata=list(zip(part["reached"], part["step_rate"].fillna(1.0))),
            hovertemplate=f"<b>{readable(g)}</b> · %{{y}}<br>%{{customdata[0]:,}} leads<br>overall %{{x:.1%}} · "
                          "step %{customdata[1]:.1%}<extra></extra>"), row=1, col=i)
        fig.update_xaxes(range=[0, 1.35], showticklabels=False, row=1, col=i)
    fig.update_yaxes(autorange="reversed")
    final = df[df["stage"] == last].set_index("grp")["overall_rate"].reindex(groups)
    if final.notna().sum() == 1:   # one group in view (e.g. the sidebar filters on that column)
        only = final.first_valid_index()
        title = f"{last}: {_pct(final[only])} of {readable(only)} leads (the only {breakdown_label} in this view)"
    elif final.notna().any():
        best, worst = final.idxmax(), final.idxmin()
        title = (f"{last}: {_pct(final[best])} of {readable(best)} leads against {_pct(final[worst])} of "
                 f"{readable(worst)} "
                 f"(by {breakdown_label})")
    else:
        title = f"Conversion by {breakdown_label}"
    fig = theme.style(fig, title=title, presentation=presentation, legend=False,
                      height=620 if presentation else 460)
    fig.update_annotations(font={"size": theme.font_sizes(presentation)["tick"]})
    # Room for the group names above the small multiples, below the (possibly wrapped) title.
    fig.update_layout(margin={"t": fig.layout.margin.t + (64 if presentation else 56)})
    return fig


def cohort_heatmap(trend: pd.DataFrame, presentation: bool = False) -> go.Figure:
    """Cohort month × stage, overall % of the cohort's leads reaching each stage.

    ``trend`` is :func:`funnel.conversion.conversion_trend` by month. Cohorts that are still
    maturing (``complete`` false) are drawn in grey and their row label says so.
    """
    if trend is None or trend.empty:
        return theme.empty_figure("No cohorts in this date range — widen the date range", presentation)
    d = trend[trend["position"] > trend["position"].min()].copy()
    stages = d.sort_values("position")["stage"].drop_duplicates().tolist()
    periods = sorted(d["period"].unique())
    complete = d.groupby("period")["complete"].first()
    leads = d.groupby("period")["leads"].first()
    labels = [f"{_period_label(p)} ({int(leads[p]):,})" + ("" if complete[p] else " · maturing") for p in periods]
    z = d.pivot(index="period", columns="stage", values="overall_rate").reindex(index=periods, columns=stages)
    mask = np.array([bool(complete[p]) for p in periods])[:, None] & np.ones((1, len(stages)), dtype=bool)
    values = z.to_numpy(dtype=float)
    done = np.where(mask, values, np.nan)
    young = np.where(~mask & ~np.isnan(values), values, np.nan)
    text = [[_pct(v) for v in row] for row in values]
    fs = theme.font_sizes(presentation)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=done, x=stages, y=labels, colorscale=HEAT_SCALE, zmin=0, zmax=float(np.nanmax(values)) if np.isfinite(values).any() and np.nanmax(values) > 0 else 1.0,
        text=text, texttemplate="%{text}", textfont={"size": fs["tick"], "color": theme.INK}, xgap=2, ygap=2,
        colorbar={"title": {"text": "of cohort"}, "tickformat": ".0%"},
        hovertemplate="%{y} · %{x}: %{z:.1%} of the cohort<extra></extra>", name="complete"))
    if (~np.isnan(young)).any():
        fig.add_trace(go.Heatmap(
            z=np.where(np.isnan(young), np.nan, 1.0), x=stages, y=labels,
            colorscale=[[0, INCOMPLETE_FILL], [1, INCOMPLETE_FILL]], showscale=False, text=text,
            texttemplate="%{text}", textfont={"size": fs["tick"], "color": "#5B6470"}, xgap=2, ygap=2,
            customdata=young,
            hovertemplate="%{y} · %{x}: %{customdata:.1%} so far — still maturing<extra></extra>",
            name="maturing"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    n_young = int((~complete.astype(bool)).sum())
    title = "Share of each month's leads reaching each stage"
    if n_young:
        title += f" — the last {n_young} {'month is' if n_young == 1 else 'months are'} still maturing (grey)"
    fig = theme.style(fig, title=title, presentation=presentation, legend=False,
                      height=int(max(320, 44 * len(periods) + 140) * (1.3 if presentation else 1)))
    # Room for the stage names above the grid, below the (possibly wrapped) title.
    fig.update_layout(margin={"t": fig.layout.margin.t + (56 if presentation else 44)})
    return fig


def trend_chart(trend: pd.DataFrame, stage: str, grain: str = "month", presentation: bool = False) -> go.Figure:
    """Overall conversion to ``stage`` per cohort period; maturing cohorts dashed and faded.

    ``trend`` is :func:`funnel.conversion.conversion_trend` at ``grain``.
    """
    d = trend[trend["stage"] == stage].sort_values("period") if trend is not None and not trend.empty else None
    if d is None or d.empty:
        return theme.empty_figure(f"No cohorts to show for {stage} — widen the date range", presentation)
    x = [pd.Timestamp(p) for p in d["period"]]
    y = list(d["overall_rate"])
    done = list(d["complete"].astype(bool))
    custom = list(zip(d["reached"], d["leads"]))
    fig = go.Figure()
    idx_done = [i for i, c in enumerate(done) if c]
    idx_young = [i for i, c in enumerate(done) if not c]
    unit = "month" if grain == "month" else "week"
    if idx_done:
        fig.add_trace(go.Scatter(
            x=[x[i] for i in idx_done], y=[y[i] for i in idx_done], mode="lines+markers", name="Complete cohorts",
            line={"color": theme.NEUTRAL, "width": 3}, marker={"size": 8},
            customdata=[custom[i] for i in idx_done],
            hovertemplate=f"Leads created in the {unit} of %{{x|%d %b %Y}}<br>%{{y:.1%}} reached {stage} "
                          "(%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>"))
    if idx_young:
        # Join the dashed part to the last complete point so the line reads as one series.
        start = [idx_done[-1]] if idx_done and idx_done[-1] < idx_young[0] else []
        ids = start + idx_young
        fig.add_trace(go.Scatter(
            x=[x[i] for i in ids], y=[y[i] for i in ids], mode="lines+markers", name="Still maturing (so far)",
            line={"color": theme.MUTED, "width": 3, "dash": "dash"}, opacity=0.8,
            marker={"size": 8, "symbol": "circle-open"}, customdata=[custom[i] for i in ids],
            hovertemplate=f"Leads created in the {unit} of %{{x|%d %b %Y}}<br>%{{y:.1%}} reached {stage} so far "
                          "(%{customdata[0]:,} of %{customdata[1]:,}) — still maturing<extra></extra>"))
    theme.pct_tick(fig)
    fig.update_yaxes(rangemode="tozero")
    if idx_done:
        i = idx_done[-1]
        title = f"{_pct(y[i])} of the leads created in {_period_label(x[i], grain)} reached {stage}"
    else:
        title = f"Conversion to {stage}: no cohort has matured yet"
    return theme.style(fig, title=title, presentation=presentation,
                       x_title=f"Cohort ({unit} the lead was created)", y_title=f"Reached {stage}")


def time_to_convert_chart(ttc: pd.DataFrame, presentation: bool = False) -> go.Figure:
    """Median days from lead creation to first reaching each stage.

    ``ttc`` is :func:`funnel.conversion.time_to_convert`.
    """
    if ttc is None or ttc.empty or ttc["median_days_to_reach"].isna().all():
        return theme.empty_figure("No lead has moved past the first stage yet", presentation)
    d = ttc.sort_values("position")
    fig = go.Figure(go.Bar(
        y=list(d["stage"]), x=list(d["median_days_to_reach"]), orientation="h", marker_color=theme.PALETTE[0],
        text=[_days(v) for v in d["median_days_to_reach"]], textposition="outside", cliponaxis=False,
        customdata=list(d["reached"]),
        hovertemplate="<b>%{y}</b><br>median %{x:.1f} days after creation<br>%{customdata:,} leads<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    valid = d.dropna(subset=["median_days_to_reach"])
    last = valid.iloc[-1]
    title = f"Half the leads that reach {last['stage']} get there within {_days(last['median_days_to_reach'])}"
    # Room right of the longest bar for its label (outside text is not clipped, but the figure edge is).
    fig.update_xaxes(range=[0, float(valid["median_days_to_reach"].max()) * 1.18 or 1])
    return theme.style(fig, title=title, presentation=presentation, legend=False,
                       x_title="Median days from lead creation")


def time_to_convert_histogram_chart(hist: pd.DataFrame, stage: str, presentation: bool = False) -> go.Figure:
    """How many leads first reached ``stage`` within each band of days since creation.

    ``hist`` is :func:`funnel.conversion.time_to_convert_histogram`.
    """
    d = hist[hist["stage"] == stage] if hist is not None and not hist.empty else None
    if d is None or d.empty:
        return theme.empty_figure(f"No lead has reached {stage} yet in this cohort", presentation)
    d = d.sort_values("band_order")
    total = int(d["leads"].sum())
    fig = go.Figure(go.Bar(
        x=list(d["band"]), y=list(d["leads"]), marker_color=theme.PALETTE[1],
        text=[f"{v / total:.0%}" for v in d["leads"]], textposition="outside", cliponaxis=False,
        hovertemplate="%{x} after creation: %{y:,} leads<extra></extra>"))
    fig.update_xaxes(type="category")
    top = d.loc[d["leads"].idxmax()]
    band = str(top["band"])
    when = band if band == "before creation" else band.replace(" d", " days") + " after creation"
    title = f"Most leads reach {stage} {when} ({int(top['leads']):,} of {total:,})"
    fig.update_yaxes(range=[0, float(d["leads"].max()) * 1.15 or 1])   # room for the % above the tallest bar
    return theme.style(fig, title=title, presentation=presentation, legend=False,
                       x_title="Days from lead creation to first reaching the stage", y_title="Leads")
