"""Charts of the forecast page (metrics.md §4): frames from funnel.forecast in, plotly figures out.

Every builder is pure, takes ``presentation`` and ends in ``theme.style``; an empty frame gives a
chart-sized note saying what is missing and what to do.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .. import fmt, labels
from ..i18n import N_, gettext_for, ngettext_for
from . import theme
from .overview import money_axis

STEP_LABELS = {"start": N_("Start"), "new": N_("New deals"), "advanced": N_("Advanced"), "moved back": N_("Moved back"),
               "pulled in": N_("Pulled in"), "pushed out": N_("Pushed out"), "amount up": N_("Amount up"),
               "amount down": N_("Amount down"), "won": N_("Won"), "lost": N_("Lost"), "end": N_("End")}
METHOD_LABELS = {"configured": "Configured probabilities", "historical": "Historical win rates"}
WHAT_TO_DO = "pick a later as-of date or widen the filters"
ROLLUP_LABELS = {"closed_won": "Closed", "commit_total": "Commit + Closed",
                 "best_case_total": "Best case + Commit + Closed", "pipeline_total": "Pipeline (all open + Closed)"}


def _money(x: float) -> str:
    """Short money text for labels inside charts ($1.2M, $350k, −$40k): the one format of the app."""
    return labels.money(x)


def _month_label(p) -> str:
    if isinstance(p, str) and "-Q" in p:
        year, q = p.split("-Q")
        return f"Q{q} {year}"
    return pd.Timestamp(p).strftime("%b %Y")


def stage_colors(stages) -> dict[str, str]:
    """A stable colour per stage, in funnel order."""
    return {s: theme.PALETTE[i % len(theme.PALETTE)] for i, s in enumerate(stages)}


# ---------------------------------------------------------------------------------------------


def forecast_by_period_chart(wf: pd.DataFrame, grain: str = "month", presentation: bool = False,
                             max_periods: int = 12) -> go.Figure:
    """Weighted forecast per close month (or quarter), stacked by stage.

    ``wf`` is :func:`funnel.forecast.weighted_forecast` (period, quarter, stage, position,
    open_deals, open_amount, weighted_amount). Shows the first ``max_periods`` periods.
    """
    if wf is None or wf.empty:
        return theme.empty_figure(f"No open deals at this date — {WHAT_TO_DO}", presentation)
    key = "quarter" if grain == "quarter" else "period"
    df = wf.copy()
    df["label"] = [_month_label(p) for p in df[key]]
    order = sorted(df[key].unique())[:max_periods]
    df = df[df[key].isin(order)]
    labels = [_month_label(p) for p in order]
    stages = df.sort_values("position")["stage"].drop_duplicates().tolist()
    colors = stage_colors(stages)
    fig = go.Figure()
    for stage in stages:
        cols = ["weighted_amount", "open_amount", "open_deals"]
        g = df[df["stage"] == stage].groupby("label", as_index=False)[cols].sum()
        g = g.set_index("label").reindex(labels).fillna(0).reset_index()
        fig.add_trace(go.Bar(
            x=g["label"], y=g["weighted_amount"], name=stage, marker_color=colors[stage],
            customdata=list(zip(g["open_amount"], g["open_deals"])),
            hovertemplate=(f"<b>{stage}</b> · %{{x}}<br>weighted $%{{y:,.0f}}<br>"
                           "open $%{customdata[0]:,.0f} in %{customdata[1]:.0f} deals<extra></extra>")))
    totals = df.groupby("label")["weighted_amount"].sum().reindex(labels).fillna(0)
    fig.add_trace(go.Scatter(x=labels, y=totals.values, mode="text", text=[_money(v) for v in totals.values],
                             textposition="top center", showlegend=False, hoverinfo="skip",
                             textfont={"size": theme.font_sizes(presentation)["tick"]}))
    fig.update_layout(barmode="stack")
    top = totals.idxmax() if len(totals) else None
    word = "quarter" if key == "quarter" else "month"
    title = f"{_money(totals.iloc[0])} weighted in {labels[0]}"
    if top and top != labels[0]:
        title += f"; peak {top} ({_money(totals.max())})"
    theme.style(fig, title=title, presentation=presentation, x_title=f"Close {word}", y_title="Weighted amount")
    fig.update_yaxes(range=[0, float(totals.max()) * 1.15 if len(totals) and totals.max() > 0 else 1])
    return theme.money_tick(fig)


def ranges_chart(ranges: pd.DataFrame, presentation: bool = False, max_periods: int = 12) -> go.Figure:
    """P10–P90 of won amount per period (floating bar), P50 (tick) and the weighted amount (◆).

    ``ranges`` is :func:`funnel.forecast.forecast_ranges`; the 'total' row is left out.
    """
    if ranges is None or ranges.empty:
        return theme.empty_figure(f"No open deals to simulate — {WHAT_TO_DO}", presentation)
    df = ranges[ranges["period"] != "total"].head(max_periods)
    if df.empty:
        return theme.empty_figure(f"No open deals to simulate — {WHAT_TO_DO}", presentation)
    labels = [_month_label(p) for p in df["period"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=labels, y=df["p90"] - df["p10"], base=df["p10"], name="Likely range (P10–P90)",
        marker={"color": theme.PALETTE[4], "opacity": 0.55}, width=0.55,
        customdata=list(zip(df["p10"], df["p90"], df["open_deals"])),
        hovertemplate=("%{x}: 8 in 10 simulated outcomes between $%{customdata[0]:,.0f} and "
                       "$%{customdata[1]:,.0f}<br>%{customdata[2]:.0f} open deals<extra></extra>")))
    fig.add_trace(go.Scatter(
        x=labels, y=df["p50"], mode="markers", name="Median (P50)",
        marker={"symbol": "line-ew", "size": 34, "line": {"width": 4, "color": theme.PALETTE[0]}},
        hovertemplate="%{x}: median $%{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=labels, y=df["weighted_amount"], mode="markers", name="Weighted amount",
        marker={"symbol": "diamond", "size": 13, "color": theme.PALETTE[1], "line": {"color": theme.INK, "width": 1}},
        hovertemplate="%{x}: weighted $%{y:,.0f}<extra></extra>"))
    first = df.iloc[0]
    title = (f"{labels[0]}: likely {_money(first['p10'])}–{_money(first['p90'])} "
             f"(weighted {_money(first['weighted_amount'])})")
    theme.style(fig, title=title, presentation=presentation, x_title="Close month", y_title="Won amount")
    return theme.money_tick(fig)


def category_chart(rollup: pd.DataFrame, presentation: bool = False) -> go.Figure:
    """The cumulative forecast-category roll-ups for this month and this quarter, side by side.

    ``rollup`` is :func:`funnel.forecast.category_rollup` (label, closed_won, commit_total,
    best_case_total, pipeline_total).
    """
    if rollup is None or rollup.empty:
        return theme.empty_figure(f"No deals this month or quarter — {WHAT_TO_DO}", presentation)
    fig = go.Figure()
    colors = [theme.GOOD, theme.PALETTE[0], theme.PALETTE[4], theme.MUTED]
    for (col, name), color in zip(ROLLUP_LABELS.items(), colors):
        fig.add_trace(go.Bar(
            x=rollup["label"], y=rollup[col], name=name, marker_color=color,
            text=[_money(v) for v in rollup[col]], textposition="outside", cliponaxis=False,
            hovertemplate=f"<b>{name}</b> · %{{x}}: $%{{y:,.0f}}<extra></extra>"))
    fig.update_layout(barmode="group", bargroupgap=0.08)
    m = rollup.iloc[0]
    legend_below = {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0}
    title = f"{m['label']}: {_money(m['closed_won'])} closed, {_money(m['commit_total'])} with Commit"
    theme.style(fig, title=title, presentation=presentation, x_title=None, y_title="Amount")
    fig.update_layout(legend=legend_below)          # four long names: below, clear of the title
    top = float(rollup[list(ROLLUP_LABELS)].to_numpy().max())
    fig.update_yaxes(range=[0, top * 1.18 if top > 0 else 1])
    return theme.money_tick(fig)


def waterfall_chart(changes: pd.DataFrame, presentation: bool = False, weighted: bool = False,
                    start_label: str | None = None, end_label: str | None = None, lang: str = "en",
                    currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """Open pipeline from start to end with every change between as a step (plotly Waterfall).

    ``changes`` is :func:`funnel.forecast.pipeline_changes` (step, amount, deals; first row
    'start', last row 'end'). Steps that moved no deal are left out; the bars add up exactly.
    Words in ``lang``, amounts in ``currency`` (English in dollars: as it always read).
    """
    _ = gettext_for(lang)
    if changes is None or changes.empty:
        return theme.empty_figure(_("No open deals at either date — pick a later as-of date or widen the filters"),
                                  presentation)

    def money(v) -> str:
        return fmt.money(v, lang, currency)

    def step_label(s: str) -> str:
        return _(STEP_LABELS[s]) if s in STEP_LABELS else s

    df = changes.set_index("step")
    steps = [s for s in df.index if s not in ("start", "end") and (df.at[s, "deals"] or df.at[s, "amount"])]
    rows = ["start", *steps, "end"]
    x = [start_label or step_label("start"), *[step_label(s) for s in steps], end_label or step_label("end")]
    y = [float(df.at["start", "amount"]), *[float(df.at[s, "amount"]) for s in steps],
         float(df.at["end", "amount"])]
    deals = [int(df.at[s, "deals"]) for s in rows]
    measure = ["absolute", *["relative"] * len(steps), "total"]
    # a stage move leaves the open amount unchanged: say how many deals moved instead of "$0"
    text = [money(y[0]),
            *[(("+" if v > 0 else "") + money(v)) if v else ngettext_for(lang, "{n} deal", "{n} deals", d, n=d)
              for v, d in zip(y[1:-1], deals[1:-1])],
            money(y[-1])]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=measure, text=text, textposition="outside", cliponaxis=False,
        # One label size for every step (Plotly would shrink each label to its bar's width).
        constraintext="none", textfont={"size": theme.font_sizes(presentation)["tick"] - (2 if presentation else 0)},
        customdata=deals, connector={"line": {"color": theme.MUTED, "width": 1}},
        increasing={"marker": {"color": theme.GOOD}}, decreasing={"marker": {"color": theme.BAD}},
        totals={"marker": {"color": theme.NEUTRAL}},
        hovertemplate=_("%{x}: %{text} · %{customdata} deals") + "<extra></extra>"))
    diff = y[-1] - y[0]
    # lower case inside the English sentence ("biggest move: new deals"); Chinese has no case
    moves = sorted(((abs(v), step_label(s).lower(), v) for s, v in zip(steps, y[1:-1]) if v), reverse=True)
    amount = money(abs(diff))
    if weighted:
        title = _("The weighted pipeline grew by {amount}", amount=amount) if diff >= 0 else \
            _("The weighted pipeline fell by {amount}", amount=amount)
    else:
        title = _("The open pipeline grew by {amount}", amount=amount) if diff >= 0 else \
            _("The open pipeline fell by {amount}", amount=amount)
    if moves:
        title += _("; biggest move: {step} ({amount})", step=moves[0][1],
                   amount=("+" if moves[0][2] > 0 else "") + money(moves[0][2]))
    theme.style(fig, title=title, presentation=presentation, x_title=None,
                y_title=_("Weighted amount") if weighted else _("Open amount"), legend=False)
    # The changes are small next to the pipeline itself: start the axis near the lowest level the
    # bars reach (the start and end bars are then cut, their labels carry the full amounts).
    levels, running = [], 0.0
    for v, msr in zip(y, measure):
        running = v if msr != "relative" else running + v
        levels.append(running)
    low, high = min(levels), max(levels)
    span = max(high - low, abs(high) * 0.02, 1.0)
    bottom = max(0.0, low - span * 1.2)
    fig.update_yaxes(range=[bottom, high + span * 0.35])
    return money_axis(fig, [bottom, high + span * 0.35], lang, currency)


def backtest_chart(bt: pd.DataFrame, presentation: bool = False, verdict: str | None = None) -> go.Figure:
    """Per past month: what was actually won (bars) and what each method forecast at the start of
    the month (lines). ``bt`` is :func:`funnel.forecast.forecast_backtest`."""
    if bt is None or bt.empty:
        return theme.empty_figure("No backtest — it needs at least one whole month before the as-of date",
                                  presentation)
    actual = bt.drop_duplicates("period")[["period", "actual"]]
    labels = [_month_label(p + "-01") for p in actual["period"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=actual["actual"], name="Actually won", marker_color=theme.MUTED,
                         hovertemplate="%{x}: won $%{y:,.0f}<extra></extra>"))
    styles = {"configured": (theme.PALETTE[0], "solid", "circle"), "historical": (theme.PALETTE[1], "dash", "square")}
    for method, g in bt.groupby("method", sort=False):
        color, dash, symbol = styles.get(method, (theme.PALETTE[2], "dot", "triangle-up"))
        name = f"Forecast — {METHOD_LABELS.get(method, method).lower()}"
        err = pd.to_numeric(g["error"], errors="coerce")
        fig.add_trace(go.Scatter(
            x=[_month_label(p + "-01") for p in g["period"]], y=g["forecast"], mode="lines+markers", name=name,
            line={"color": color, "width": 3, "dash": dash}, marker={"symbol": symbol, "size": 9},
            customdata=[("–" if pd.isna(e) else f"{e * 100:+.0f}%") for e in err],
            hovertemplate=f"{name}<br>%{{x}}: $%{{y:,.0f}} (%{{customdata}} vs actual)<extra></extra>"))
    theme.style(fig, title=verdict or "Forecast at the start of each month vs what was actually won",
                presentation=presentation, x_title="Month", y_title="Amount")
    return theme.money_tick(fig)
