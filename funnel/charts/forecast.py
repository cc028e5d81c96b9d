"""Charts of the forecast page (metrics.md §4): frames from funnel.forecast in, plotly figures out.

Every builder is pure, takes ``presentation``, the display language ``lang`` and the database's
``currency`` (an ISO code), and ends in ``theme.style``; an empty frame gives a chart-sized note
saying what is missing and what to do. Labels on the bars and titles use the short money text of
the language (``$14k`` / ``US$1.4万``); hovers show the exact amount with the currency's symbol.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from .. import fmt
from ..i18n import N_, gettext_for, ngettext_for
from . import theme

STEP_LABELS = {"start": N_("Start"), "new": N_("New deals"), "advanced": N_("Advanced"),
               "moved back": N_("Moved back"), "pulled in": N_("Pulled in"), "pushed out": N_("Pushed out"),
               "amount up": N_("Amount up"), "amount down": N_("Amount down"), "won": N_("Won"), "lost": N_("Lost"),
               "end": N_("End")}
#: The steps' names inside a title ("biggest move: new deals"): lower case in English.
STEP_NAMES = {"new": N_("new deals"), "advanced": N_("advanced"), "moved back": N_("moved back"),
              "pulled in": N_("pulled in"), "pushed out": N_("pushed out"), "amount up": N_("amount up"),
              "amount down": N_("amount down"), "won": N_("won"), "lost": N_("lost")}
METHOD_LABELS = {"configured": N_("Configured probabilities"), "historical": N_("Historical win rates")}
#: A backtest line's name: the method in the legend.
FORECAST_LINE = {"configured": N_("Forecast — configured probabilities"),
                 "historical": N_("Forecast — historical win rates")}
ROLLUP_LABELS = {"closed_won": N_("Closed"), "commit_total": N_("Commit + Closed"),
                 "best_case_total": N_("Best case + Commit + Closed"),
                 "pipeline_total": N_("Pipeline (all open + Closed)")}


def _money(x: float, lang: str = "en", currency: str = fmt.DEFAULT_CURRENCY) -> str:
    """Short money text for labels inside charts ($1.2M, $350k, −$40k / US$120万): the one format of the app."""
    return fmt.money(x, lang, currency)


def _exact(ref: str, lang: str = "en", currency: str = fmt.DEFAULT_CURRENCY) -> str:
    """A hover's exact amount: the currency's symbol before Plotly's ``%{ref:,.0f}``."""
    return fmt.currency_symbol(currency, lang) + "%{" + ref + ":,.0f}"


def _signed(x: float, lang: str, currency: str) -> str:
    return ("+" if x > 0 else "") + _money(x, lang, currency)


def money_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values from ``lo`` to one step past ``hi`` (an axis Plotly ranges
    itself may end a little above the data; ticks outside the range are not drawn), never finer than
    Chinese money text can tell apart (1万 has one decimal: steps of 1,000 from 1万; 1亿 two: steps of
    1,000,000)."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    top = max(abs(lo), abs(hi))
    raw = max((hi - lo) / count, 1e6 if top >= 1e8 else 1e3 if top >= 1e4 else 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw - 1e-9)
    ticks, k = [], math.ceil(lo / step - 1e-9)
    while k * step <= hi + step * (1 + 1e-9):
        ticks.append(float(k * step))
        k += 1
    return ticks


def money_axis(fig: go.Figure, lo: float, hi: float, axis: str = "y", lang: str = "en",
               currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """Money ticks on an axis spanning about ``lo``–``hi``. English: SI style with the symbol
    (``$1.2M``, theme.money_tick); Chinese: the ticks in 万 / 亿 as every amount (``US$1.2万``)."""
    if lang == "en":
        return theme.money_tick(fig, axis, fmt.currency_symbol(currency, lang))
    ticks = money_ticks(lo, hi)
    getattr(fig, f"update_{axis}axes")(tickmode="array", tickvals=ticks,
                                       ticktext=[fmt.money(v, lang, currency) for v in ticks])
    return fig


def period_label(p, lang: str = "en") -> str:
    """A close month ('2026-06', a date) or quarter ('2026-Q2') as the reader names it:
    'Jun 2026' / '2026年6月', 'Q2 2026' / '2026年第二季度'."""
    if isinstance(p, str) and "-Q" in p:
        year, q = p.split("-Q")
        return f"Q{q} {year}" if lang == "en" else fmt.quarter(pd.Timestamp(int(year), 3 * int(q) - 2, 1), lang)
    return pd.Timestamp(p).strftime("%b %Y") if lang == "en" else fmt.month(pd.Timestamp(p), lang)


def _what_to_do(lang: str) -> str:
    _ = gettext_for(lang)
    return _("pick a later as-of date or widen the filters")


def _english_step(step: str) -> str:
    return STEP_LABELS.get(step, step)


def stage_colors(stages) -> dict[str, str]:
    """A stable colour per stage, in funnel order."""
    return {s: theme.PALETTE[i % len(theme.PALETTE)] for i, s in enumerate(stages)}


# ---------------------------------------------------------------------------------------------


def forecast_by_period_chart(wf: pd.DataFrame, grain: str = "month", presentation: bool = False,
                             max_periods: int = 12, lang: str = "en",
                             currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """Weighted forecast per close month (or quarter), stacked by stage.

    ``wf`` is :func:`funnel.forecast.weighted_forecast` (period, quarter, stage, position,
    open_deals, open_amount, weighted_amount). Shows the first ``max_periods`` periods.
    """
    _ = gettext_for(lang)
    if wf is None or wf.empty:
        return theme.empty_figure(_("No open deals at this date — {what_to_do}", what_to_do=_what_to_do(lang)),
                                  presentation)
    key = "quarter" if grain == "quarter" else "period"
    df = wf.copy()
    df["label"] = [period_label(p, lang) for p in df[key]]
    order = sorted(df[key].unique())[:max_periods]
    df = df[df[key].isin(order)]
    labels = [period_label(p, lang) for p in order]
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
            hovertemplate=_("<b>{stage}</b> · %{x}<br>weighted {weighted}<br>open {open} in %{customdata[1]:.0f} deals",
                            stage=stage, weighted=_exact("y", lang, currency),
                            open=_exact("customdata[0]", lang, currency)) + "<extra></extra>"))
    totals = df.groupby("label")["weighted_amount"].sum().reindex(labels).fillna(0)
    fig.add_trace(go.Scatter(x=labels, y=totals.values, mode="text",
                             text=[_money(v, lang, currency) for v in totals.values],
                             textposition="top center", showlegend=False, hoverinfo="skip",
                             textfont={"size": theme.font_sizes(presentation)["tick"]}))
    fig.update_layout(barmode="stack")
    top = totals.idxmax() if len(totals) else None
    title = _("{amount} weighted in {period}", amount=_money(totals.iloc[0], lang, currency), period=labels[0])
    if top and top != labels[0]:
        title = _("{first}; peak {period} ({amount})", first=title, period=top,
                  amount=_money(totals.max(), lang, currency))
    theme.style(fig, title=title, presentation=presentation,
                x_title=_("Close quarter") if key == "quarter" else _("Close month"), y_title=_("Weighted amount"))
    high = float(totals.max()) * 1.15 if len(totals) and totals.max() > 0 else 1
    fig.update_yaxes(range=[0, high])
    return money_axis(fig, 0, high, "y", lang, currency)


def ranges_chart(ranges: pd.DataFrame, presentation: bool = False, max_periods: int = 12, lang: str = "en",
                 currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """P10–P90 of won amount per period (floating bar), P50 (tick) and the weighted amount (◆).

    ``ranges`` is :func:`funnel.forecast.forecast_ranges`; the 'total' row is left out.
    """
    _ = gettext_for(lang)
    if ranges is None or ranges.empty:
        return theme.empty_figure(_("No open deals to simulate — {what_to_do}", what_to_do=_what_to_do(lang)),
                                  presentation)
    df = ranges[ranges["period"] != "total"].head(max_periods)
    if df.empty:
        return theme.empty_figure(_("No open deals to simulate — {what_to_do}", what_to_do=_what_to_do(lang)),
                                  presentation)
    labels = [period_label(p, lang) for p in df["period"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=labels, y=df["p90"] - df["p10"], base=df["p10"], name=_("Likely range (P10–P90)"),
        marker={"color": theme.PALETTE[4], "opacity": 0.55}, width=0.55,
        customdata=list(zip(df["p10"], df["p90"], df["open_deals"])),
        hovertemplate=_("%{x}: 8 in 10 simulated outcomes between {low} and {high}<br>%{customdata[2]:.0f} open deals",
                        low=_exact("customdata[0]", lang, currency), high=_exact("customdata[1]", lang, currency))
                      + "<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=labels, y=df["p50"], mode="markers", name=_("Median (P50)"),
        marker={"symbol": "line-ew", "size": 34, "line": {"width": 4, "color": theme.PALETTE[0]}},
        hovertemplate=_("%{x}: median {amount}", amount=_exact("y", lang, currency)) + "<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=labels, y=df["weighted_amount"], mode="markers", name=_("Weighted amount"),
        marker={"symbol": "diamond", "size": 13, "color": theme.PALETTE[1], "line": {"color": theme.INK, "width": 1}},
        hovertemplate=_("%{x}: weighted {amount}", amount=_exact("y", lang, currency)) + "<extra></extra>"))
    first = df.iloc[0]
    title = _("{period}: likely {low}–{high} (weighted {weighted})", period=labels[0],
              low=_money(first["p10"], lang, currency), high=_money(first["p90"], lang, currency),
              weighted=_money(first["weighted_amount"], lang, currency))
    theme.style(fig, title=title, presentation=presentation, x_title=_("Close month"), y_title=_("Won amount"))
    lo = float(min(df["p10"].min(), df["weighted_amount"].min(), 0.0))
    hi = float(max(df["p90"].max(), df["weighted_amount"].max()))
    return money_axis(fig, lo, hi, "y", lang, currency)


def _rollup_label(row, lang: str) -> str:
    """The horizon's name: the library's English label, or the month / quarter in the reader's language."""
    if lang == "en" or "start" not in row or pd.isna(row["start"]):
        return str(row["label"])
    return fmt.quarter(row["start"], lang) if row.get("horizon") == "quarter" else fmt.month(row["start"], lang)


def category_chart(rollup: pd.DataFrame, presentation: bool = False, lang: str = "en",
                   currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """The cumulative forecast-category roll-ups for this month and this quarter, side by side.

    ``rollup`` is :func:`funnel.forecast.category_rollup` (label, closed_won, commit_total,
    best_case_total, pipeline_total; with horizon and start the labels follow ``lang``).
    """
    _ = gettext_for(lang)
    if rollup is None or rollup.empty:
        return theme.empty_figure(_("No deals this month or quarter — {what_to_do}", what_to_do=_what_to_do(lang)),
                                  presentation)
    fig = go.Figure()
    colors = [theme.GOOD, theme.PALETTE[0], theme.PALETTE[4], theme.MUTED]
    labels = [_rollup_label(row, lang) for _i, row in rollup.iterrows()]
    for (col, name), color in zip(ROLLUP_LABELS.items(), colors):
        shown = _(name)
        fig.add_trace(go.Bar(
            x=labels, y=rollup[col], name=shown, marker_color=color,
            text=[_money(v, lang, currency) for v in rollup[col]], textposition="outside", cliponaxis=False,
            hovertemplate=_("<b>{name}</b> · %{x}: {amount}", name=shown, amount=_exact("y", lang, currency))
                          + "<extra></extra>"))
    fig.update_layout(barmode="group", bargroupgap=0.08)
    m = rollup.iloc[0]
    title = _("{period}: {closed} closed, {commit} with Commit", period=labels[0],
              closed=_money(m["closed_won"], lang, currency), commit=_money(m["commit_total"], lang, currency))
    # The legend sits above the plot like every chart's (style() makes room for its rows): below it,
    # it covered the period labels on a projector.
    theme.style(fig, title=title, presentation=presentation, x_title=None, y_title=_("Amount"))
    top = float(rollup[list(ROLLUP_LABELS)].to_numpy().max())
    high = top * 1.18 if top > 0 else 1
    fig.update_yaxes(range=[0, high])
    return money_axis(fig, 0, high, "y", lang, currency)


def waterfall_chart(changes: pd.DataFrame, presentation: bool = False, weighted: bool = False,
                    start_label: str | None = None, end_label: str | None = None, lang: str = "en",
                    currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """Open pipeline from start to end with every change between as a step (plotly Waterfall).

    ``changes`` is :func:`funnel.forecast.pipeline_changes` (step, amount, deals; first row
    'start', last row 'end'). Steps that moved no deal are left out; the bars add up exactly.
    """
    _ = gettext_for(lang)
    if changes is None or changes.empty:
        return theme.empty_figure(_("No open deals at either date — {what_to_do}", what_to_do=_what_to_do(lang)),
                                  presentation)
    df = changes.set_index("step")
    steps = [s for s in df.index if s not in ("start", "end") and (df.at[s, "deals"] or df.at[s, "amount"])]
    rows = ["start", *steps, "end"]
    x = [start_label or _(STEP_LABELS["start"]), *[_(STEP_LABELS[s]) if s in STEP_LABELS else s for s in steps],
         end_label or _(STEP_LABELS["end"])]
    y = [float(df.at["start", "amount"]), *[float(df.at[s, "amount"]) for s in steps],
         float(df.at["end", "amount"])]
    deals = [int(df.at[s, "deals"]) for s in rows]
    measure = ["absolute", *["relative"] * len(steps), "total"]
    # a stage move leaves the open amount unchanged: say how many deals moved instead of "$0"
    text = [_money(y[0], lang, currency),
            *[_signed(v, lang, currency) if v else ngettext_for(lang, "{n} deal", "{n} deals", d, n=fmt.Count(d))
              for v, d in zip(y[1:-1], deals[1:-1])],
            _money(y[-1], lang, currency)]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=measure, text=text, textposition="outside", cliponaxis=False,
        # One label size for every step (Plotly would shrink each label to its bar's width).
        constraintext="none", textfont={"size": theme.font_sizes(presentation)["tick"] - (2 if presentation else 0)},
        customdata=deals, connector={"line": {"color": theme.MUTED, "width": 1}},
        increasing={"marker": {"color": theme.GOOD}}, decreasing={"marker": {"color": theme.BAD}},
        totals={"marker": {"color": theme.NEUTRAL}},
        hovertemplate=_("%{x}: %{text} · %{customdata} deals") + "<extra></extra>"))
    diff = y[-1] - y[0]
    change = _money(abs(diff), lang, currency)
    if weighted:
        title = (_("The weighted pipeline grew by {amount}", amount=change) if diff >= 0
                 else _("The weighted pipeline fell by {amount}", amount=change))
    else:
        title = (_("The open pipeline grew by {amount}", amount=change) if diff >= 0
                 else _("The open pipeline fell by {amount}", amount=change))
    # the largest move; ties go to the step whose English name sorts last (as ever)
    moves = sorted(((abs(v), str(_english_step(s)).lower(), v, s) for s, v in zip(steps, y[1:-1]) if v),
                   key=lambda m: m[:3], reverse=True)
    if moves:
        step = moves[0][3]
        title = _("{title}; biggest move: {step} ({amount})", title=title,
                  step=_(STEP_NAMES[step]) if step in STEP_NAMES else step,
                  amount=_signed(moves[0][2], lang, currency))
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
    return money_axis(fig, bottom, high + span * 0.35, "y", lang, currency)


def backtest_chart(bt: pd.DataFrame, presentation: bool = False, verdict: str | None = None, lang: str = "en",
                   currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """Per past month: what was actually won (bars) and what each method forecast at the start of
    the month (lines). ``bt`` is :func:`funnel.forecast.forecast_backtest`; ``verdict`` (already in
    the reader's language) replaces the title."""
    _ = gettext_for(lang)
    if bt is None or bt.empty:
        return theme.empty_figure(_("No backtest — it needs at least one whole month before the as-of date"),
                                  presentation)
    actual = bt.drop_duplicates("period")[["period", "actual"]]
    labels = [period_label(p + "-01", lang) for p in actual["period"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=actual["actual"], name=_("Actually won"), marker_color=theme.MUTED,
                         hovertemplate=_("%{x}: won {amount}", amount=_exact("y", lang, currency))
                                       + "<extra></extra>"))
    styles = {"configured": (theme.PALETTE[0], "solid", "circle"), "historical": (theme.PALETTE[1], "dash", "square")}
    for method, g in bt.groupby("method", sort=False):
        color, dash, symbol = styles.get(method, (theme.PALETTE[2], "dot", "triangle-up"))
        name = _(FORECAST_LINE[method]) if method in FORECAST_LINE else _("Forecast — {method}", method=method)
        err = pd.to_numeric(g["error"], errors="coerce")
        fig.add_trace(go.Scatter(
            x=[period_label(p + "-01", lang) for p in g["period"]], y=g["forecast"], mode="lines+markers", name=name,
            line={"color": color, "width": 3, "dash": dash}, marker={"symbol": symbol, "size": 9},
            customdata=[("–" if pd.isna(e) else f"{e * 100:+.0f}%") for e in err],
            hovertemplate=_("{name}<br>%{x}: {amount} (%{customdata} vs actual)", name=name,
                            amount=_exact("y", lang, currency)) + "<extra></extra>"))
    theme.style(fig, title=verdict or _("Forecast at the start of each month vs what was actually won"),
                presentation=presentation, x_title=_("Month"), y_title=_("Amount"))
    hi = pd.concat([pd.to_numeric(bt["actual"], errors="coerce"), pd.to_numeric(bt["forecast"], errors="coerce")]).max()
    return money_axis(fig, 0, float(hi) if pd.notna(hi) and hi > 0 else 1.0, "y", lang, currency)
