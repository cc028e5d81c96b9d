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

from .. import fmt
from ..i18n import gettext_for, ngettext_for
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


def _period_label(p, grain: str = "month", lang: str = "en") -> str:
    return fmt.month(p, lang) if grain == "month" else fmt.week(p, lang)


def _days(x, lang: str = "en") -> str:
    return fmt.duration(x, lang, short=True)


# ---------------------------------------------------------------------------------------------


def funnel_chart(df: pd.DataFrame, presentation: bool = False, compact: bool = False, lang: str = "en") -> go.Figure:
    """The cohort funnel: leads reaching each stage, with step % and overall %.

    ``df`` is :func:`funnel.conversion.stage_conversion` without a breakdown. ``compact`` labels
    each bar with count and step % only, for half-width placements (the hover has the rest).
    """
    _ = gettext_for(lang)
    if df is None or df.empty:
        return theme.empty_figure(_("No leads in this cohort — widen the date range or clear a filter"), presentation)
    d = df.sort_values("position")
    text = []
    for i, r in enumerate(d.itertuples()):
        if i == 0:
            text.append(_("{n} leads", n=fmt.Count(int(r.reached))))
        else:
            text.append(f"{fmt.count(int(r.reached), lang)} · {_pct(r.step_rate)}" if compact else
                        _("{n} · {step} of previous · {overall} of all", n=fmt.Count(int(r.reached)),
                          step=_pct(r.step_rate), overall=_pct(r.overall_rate)))
    fig = go.Figure(go.Funnel(
        y=list(d["stage"]), x=list(d["reached"]), text=text, textinfo="text",
        # The widest bar holds its label; the narrower ones put it beside the bar, where it stays readable.
        textposition=["inside"] + ["outside"] * (len(d) - 1),
        marker={"color": [theme.PALETTE[0]] * len(d)}, connector={"fillcolor": "#E5E8EC"},
        customdata=list(zip(d["step_rate"].fillna(1.0), d["overall_rate"])),
        hovertemplate=_("<b>%{y}</b><br>%{x:,} leads<br>step %{customdata[0]:.1%} · overall %{customdata[1]:.1%}")
                      + "<extra></extra>",
        outsidetextfont={"color": theme.INK, "size": theme.font_sizes(presentation)["tick"]},
        insidetextfont={"color": "white", "size": theme.font_sizes(presentation)["tick"]},
    ))
    last = d.iloc[-1]
    title = _("{share} of {n} leads reached {stage}", share=_pct(last["overall_rate"]),
              n=fmt.Count(int(d.iloc[0]["reached"])), stage=str(last["stage"]))
    return theme.style(fig, title=title, presentation=presentation, legend=False)


def breakdown_chart(df: pd.DataFrame, breakdown_label: str = "group", max_groups: int = 8,
                    presentation: bool = False, lang: str = "en") -> go.Figure:
    """Small multiples: one funnel (overall % per stage) per breakdown value, largest groups first.

    ``df`` is :func:`funnel.conversion.stage_conversion` with a breakdown (column ``grp``);
    ``breakdown_label`` names the breakdown in ``lang``.
    """
    _ = gettext_for(lang)
    if df is None or df.empty:
        return theme.empty_figure(_("No leads in this cohort — widen the date range or clear a filter"), presentation)
    sizes = df.groupby("grp")["leads"].first().sort_values(ascending=False)
    groups = list(sizes.index[:max_groups])
    stages = df.sort_values("position")["stage"].drop_duplicates().tolist()
    last = stages[-1]
    fig = make_subplots(rows=1, cols=len(groups), shared_yaxes=True, horizontal_spacing=0.015,
                        subplot_titles=[f"{readable(g)}<br><sup>{_('{n} leads', n=fmt.Count(int(sizes[g])))}</sup>"
                                        for g in groups])
    for i, g in enumerate(groups, start=1):
        part = df[df["grp"] == g].set_index("stage").reindex(stages)
        fig.add_trace(go.Bar(
            y=stages, x=part["overall_rate"], orientation="h", marker_color=theme.PALETTE[(i - 1) % len(theme.PALETTE)],
            text=[_pct(v) for v in part["overall_rate"]], textposition="outside", cliponaxis=False, name=readable(g),
            customdata=list(zip(part["reached"], part["step_rate"].fillna(1.0))),
            hovertemplate=_("<b>{group}</b> · %{y}<br>%{customdata[0]:,} leads<br>overall %{x:.1%} · "
                            "step %{customdata[1]:.1%}", group=readable(g)) + "<extra></extra>"), row=1, col=i)
        fig.update_xaxes(range=[0, 1.35], showticklabels=False, row=1, col=i)
    fig.update_yaxes(autorange="reversed")
    final = df[df["stage"] == last].set_index("grp")["overall_rate"].reindex(groups)
    if final.notna().sum() == 1:   # one group in view (e.g. the sidebar filters on that column)
        only = final.first_valid_index()
        title = _("{stage}: {share} of {group} leads (the only {breakdown} in this view)", stage=str(last),
                  share=_pct(final[only]), group=readable(only), breakdown=breakdown_label)
    elif final.notna().any():
        best, worst = final.idxmax(), final.idxmin()
        title = _("{stage}: {best_share} of {best} leads against {worst_share} of {worst} (by {breakdown})",
                  stage=str(last), best_share=_pct(final[best]), best=readable(best), worst_share=_pct(final[worst]),
                  worst=readable(worst), breakdown=breakdown_label)
    else:
        title = _("Conversion by {breakdown}", breakdown=breakdown_label)
    fig = theme.style(fig, title=title, presentation=presentation, legend=False,
                      height=620 if presentation else 460)
    fig.update_annotations(font={"size": theme.font_sizes(presentation)["tick"]})
    # Room for the group names above the small multiples, below the (possibly wrapped) title.
    fig.update_layout(margin={"t": fig.layout.margin.t + (64 if presentation else 56)})
    return fig


def cohort_heatmap(trend: pd.DataFrame, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Cohort month × stage, overall % of the cohort's leads reaching each stage.

    ``trend`` is :func:`funnel.conversion.conversion_trend` by month. Cohorts that are still
    maturing (``complete`` false) are drawn in grey and their row label says so.
    """
    _ = gettext_for(lang)
    if trend is None or trend.empty:
        return theme.empty_figure(_("No cohorts in this date range — widen the date range"), presentation)
    d = trend[trend["position"] > trend["position"].min()].copy()
    stages = d.sort_values("position")["stage"].drop_duplicates().tolist()
    periods = sorted(d["period"].unique())
    complete = d.groupby("period")["complete"].first()
    leads = d.groupby("period")["leads"].first()
    labels = [f"{_period_label(p, lang=lang)} ({fmt.count(int(leads[p]), lang)})" + ("" if complete[p] else _(" · maturing"))
              for p in periods]
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
        colorbar={"title": {"text": _("of cohort")}, "tickformat": ".0%"},
        hovertemplate=_("%{y} · %{x}: %{z:.1%} of the cohort") + "<extra></extra>", name=_("complete")))
    if (~np.isnan(young)).any():
        fig.add_trace(go.Heatmap(
            z=np.where(np.isnan(young), np.nan, 1.0), x=stages, y=labels,
            colorscale=[[0, INCOMPLETE_FILL], [1, INCOMPLETE_FILL]], showscale=False, text=text,
            texttemplate="%{text}", textfont={"size": fs["tick"], "color": "#5B6470"}, xgap=2, ygap=2,
            customdata=young,
            hovertemplate=_("%{y} · %{x}: %{customdata:.1%} so far — still maturing") + "<extra></extra>",
            name=_("maturing")))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    n_young = int((~complete.astype(bool)).sum())
    title = _("Share of each month's leads reaching each stage")
    if n_young:
        title += ngettext_for(lang, " — the last {n} month is still maturing (grey)",
                              " — the last {n} months are still maturing (grey)", n_young, n=fmt.Count(n_young))
    fig = theme.style(fig, title=title, presentation=presentation, legend=False,
                      height=int(max(320, 44 * len(periods) + 140) * (1.3 if presentation else 1)))
    # Room for the stage names above the grid, below the (possibly wrapped) title.
    fig.update_layout(margin={"t": fig.layout.margin.t + (56 if presentation else 44)})
    return fig


def trend_chart(trend: pd.DataFrame, stage: str, grain: str = "month", presentation: bool = False,
                lang: str = "en") -> go.Figure:
    """Overall conversion to ``stage`` per cohort period; maturing cohorts dashed and faded.

    ``trend`` is :func:`funnel.conversion.conversion_trend` at ``grain``.
    """
    _ = gettext_for(lang)
    d = trend[trend["stage"] == stage].sort_values("period") if trend is not None and not trend.empty else None
    if d is None or d.empty:
        return theme.empty_figure(_("No cohorts to show for {stage} — widen the date range", stage=stage), presentation)
    x = [pd.Timestamp(p) for p in d["period"]]
    y = list(d["overall_rate"])
    done = list(d["complete"].astype(bool))
    custom = list(zip(d["reached"], d["leads"]))
    fig = go.Figure()
    idx_done = [i for i, c in enumerate(done) if c]
    idx_young = [i for i, c in enumerate(done) if not c]
    unit = "month" if grain == "month" else "week"
    day = fmt.plotly_date_format(lang)
    hover_done = (_("Leads created in the month of %{x|{day}}<br>%{y:.1%} reached {stage} "
                    "(%{customdata[0]:,} of %{customdata[1]:,})", day=day, stage=stage) if grain == "month" else
                  _("Leads created in the week of %{x|{day}}<br>%{y:.1%} reached {stage} "
                    "(%{customdata[0]:,} of %{customdata[1]:,})", day=day, stage=stage))
    hover_young = (_("Leads created in the month of %{x|{day}}<br>%{y:.1%} reached {stage} so far "
                     "(%{customdata[0]:,} of %{customdata[1]:,}) — still maturing", day=day, stage=stage)
                   if grain == "month" else
                   _("Leads created in the week of %{x|{day}}<br>%{y:.1%} reached {stage} so far "
                     "(%{customdata[0]:,} of %{customdata[1]:,}) — still maturing", day=day, stage=stage))
    if idx_done:
        fig.add_trace(go.Scatter(
            x=[x[i] for i in idx_done], y=[y[i] for i in idx_done], mode="lines+markers", name=_("Complete cohorts"),
            line={"color": theme.NEUTRAL, "width": 3}, marker={"size": 8},
            customdata=[custom[i] for i in idx_done],
            hovertemplate=hover_done + "<extra></extra>"))
    if idx_young:
        # Join the dashed part to the last complete point so the line reads as one series.
        start = [idx_done[-1]] if idx_done and idx_done[-1] < idx_young[0] else []
        ids = start + idx_young
        fig.add_trace(go.Scatter(
            x=[x[i] for i in ids], y=[y[i] for i in ids], mode="lines+markers", name=_("Still maturing (so far)"),
            line={"color": theme.MUTED, "width": 3, "dash": "dash"}, opacity=0.8,
            marker={"size": 8, "symbol": "circle-open"}, customdata=[custom[i] for i in ids],
            hovertemplate=hover_young + "<extra></extra>"))
    theme.pct_tick(fig)
    fig.update_yaxes(rangemode="tozero")
    if idx_done:
        i = idx_done[-1]
        title = _("{share} of the leads created in {period} reached {stage}", share=_pct(y[i]),
                  period=_period_label(x[i], grain, lang), stage=stage)
    else:
        title = _("Conversion to {stage}: no cohort has matured yet", stage=stage)
    if lang != "en" and grain == "month":
        fig.update_xaxes(tickformat=fmt.plotly_date_format(lang, with_day=False))
    elif lang != "en":
        fig.update_xaxes(tickformat=fmt.plotly_date_format(lang))
    x_title = _("Cohort (month the lead was created)") if unit == "month" else _("Cohort (week the lead was created)")
    return theme.style(fig, title=title, presentation=presentation,
                       x_title=x_title, y_title=_("Reached {stage}", stage=stage))


def time_to_convert_chart(ttc: pd.DataFrame, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Median days from lead creation to first reaching each stage.

    ``ttc`` is :func:`funnel.conversion.time_to_convert`.
    """
    _ = gettext_for(lang)
    if ttc is None or ttc.empty or ttc["median_days_to_reach"].isna().all():
        return theme.empty_figure(_("No lead has moved past the first stage yet"), presentation)
    d = ttc.sort_values("position")
    fig = go.Figure(go.Bar(
        y=list(d["stage"]), x=list(d["median_days_to_reach"]), orientation="h", marker_color=theme.PALETTE[0],
        text=[_days(v, lang) for v in d["median_days_to_reach"]], textposition="outside", cliponaxis=False,
        customdata=list(d["reached"]),
        hovertemplate=_("<b>%{y}</b><br>median %{x:.1f} days after creation<br>%{customdata:,} leads")
                      + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    valid = d.dropna(subset=["median_days_to_reach"])
    last = valid.iloc[-1]
    title = _("Half the leads that reach {stage} get there within {wait}", stage=str(last["stage"]),
              wait=_days(last["median_days_to_reach"], lang))
    # Room right of the longest bar for its label (outside text is not clipped, but the figure edge is).
    fig.update_xaxes(range=[0, float(valid["median_days_to_reach"].max()) * 1.18 or 1])
    return theme.style(fig, title=title, presentation=presentation, legend=False,
                       x_title=_("Median days from lead creation"))


def time_to_convert_histogram_chart(hist: pd.DataFrame, stage: str, presentation: bool = False,
                                    lang: str = "en") -> go.Figure:
    """How many leads first reached ``stage`` within each band of days since creation.

    ``hist`` is :func:`funnel.conversion.time_to_convert_histogram` (bands ``'0–1 d'`` …
    ``'365+ d'``, ``'before creation'``: codes, shown through :func:`_band_label`).
    """
    _ = gettext_for(lang)
    d = hist[hist["stage"] == stage] if hist is not None and not hist.empty else None
    if d is None or d.empty:
        return theme.empty_figure(_("No lead has reached {stage} yet in this cohort", stage=stage), presentation)
    d = d.sort_values("band_order")
    total = int(d["leads"].sum())
    fig = go.Figure(go.Bar(
        x=[_band_label(b, lang) for b in d["band"]], y=list(d["leads"]), marker_color=theme.PALETTE[1],
        text=[f"{v / total:.0%}" for v in d["leads"]], textposition="outside", cliponaxis=False,
        hovertemplate=_("%{x} after creation: %{y:,} leads") + "<extra></extra>"))
    fig.update_xaxes(type="category")
    top = d.loc[d["leads"].idxmax()]
    band = str(top["band"])
    counts = {"stage": stage, "n": fmt.Count(int(top["leads"])), "total": fmt.Count(total)}
    if band == "before creation":
        title = _("Most leads reach {stage} before creation ({n} of {total})", **counts)
    else:
        title = _("Most leads reach {stage} {days} days after creation ({n} of {total})",
                  days=band.removesuffix(" d"), **counts)
    fig.update_yaxes(range=[0, float(d["leads"].max()) * 1.15 or 1])   # room for the % above the tallest bar
    return theme.style(fig, title=title, presentation=presentation, legend=False,
                       x_title=_("Days from lead creation to first reaching the stage"), y_title=_("Leads"))


def _band_label(band: str, lang: str = "en") -> str:
    """A histogram band code (``'3–7 d'``, ``'365+ d'``, ``'before creation'``) in ``lang``."""
    _ = gettext_for(lang)
    if band == "before creation":
        return _("before creation")
    return _("{days} d", days=str(band).removesuffix(" d"))
