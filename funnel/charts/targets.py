"""Charts of the Targets & plan page (metrics.md §7–8): results of funnel.targets in, plotly out.

Every builder is pure, takes ``presentation``, the display language ``lang`` and the database's
``currency`` (an ISO code), and ends in ``theme.style``; nothing to draw gives a chart-sized note
saying what is missing and what to do. ``title_period`` is the period as the reader names it
(:func:`funnel.targets.period_title` in ``lang``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import fmt
from ..forecast import MC_RUNS
from ..i18n import gettext_for, render
from . import theme
from .forecast import money_axis

#: A day without its year in a Chinese date axis and hover (d3 time format).
ZH_DAY = "%-m月%-d日"


def _money(x, lang: str = "en", currency: str = fmt.DEFAULT_CURRENCY) -> str:
    return fmt.money(x, lang, currency)


def _exact(ref: str, lang: str, currency: str) -> str:
    return fmt.currency_symbol(currency, lang) + "%{" + ref + ":,.0f}"


def outcome_chart(outcomes, amount, p_hit, title_period: str, presentation: bool = False, bins: int = 40,
                  lang: str = "en", currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """The simulated outcomes (won so far + simulated won of the open deals, one per Monte Carlo
    run) as a histogram, the target as a vertical line and the runs that reach it shaded: the
    shaded share IS the chance of hitting (the same runs)."""
    _ = gettext_for(lang)
    x = np.asarray(outcomes if outcomes is not None else [], dtype=float)
    if x.size == 0:
        return theme.empty_figure(_("No simulated outcomes — pick a period with a target or open deals"), presentation)
    lo, hi = float(x.min()), float(x.max())
    if amount is not None:
        lo, hi = min(lo, float(amount)), max(hi, float(amount))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    counts, _edges = np.histogram(x, bins=edges)
    centers = (edges[:-1] + edges[1:]) / 2
    share = counts / x.size
    hover = _("around {amount}: %{y:.1%} of runs", amount=_exact("x", lang, currency)) + "<extra></extra>"
    fig = go.Figure()
    if amount is not None:
        hit = edges[:-1] >= float(amount) - 1e-9
        fig.add_trace(go.Bar(x=centers[~hit], y=share[~hit], width=(hi - lo) / bins, name=_("Misses the target"),
                             marker_color=theme.MUTED, hovertemplate=hover))
        fig.add_trace(go.Bar(x=centers[hit], y=share[hit], width=(hi - lo) / bins, name=_("Reaches the target"),
                             marker_color=theme.GOOD, hovertemplate=hover))
        fig.add_vline(x=float(amount), line_width=3, line_dash="dash", line_color=theme.INK,
                      annotation_text=_("Target {amount}", amount=_money(amount, lang, currency)),
                      annotation_position="top left",
                      annotation_font_size=theme.font_sizes(presentation)["base"])
        title = (_("{period}: {chance} chance of reaching {amount}", period=title_period,
                   chance=fmt.Pct(p_hit, 0), amount=_money(amount, lang, currency)) if p_hit is not None
                 else _("{period}: simulated outcomes", period=title_period))
    else:
        fig.add_trace(go.Bar(x=centers, y=share, width=(hi - lo) / bins, name=_("Simulated outcomes"),
                             marker_color=theme.NEUTRAL, hovertemplate=hover))
        title = _("{period}: simulated outcomes (no target set)", period=title_period)
    fig.update_layout(bargap=0.02, barmode="overlay")
    theme.style(fig, title=title, presentation=presentation,
                x_title=_("Won by the end of the period (won so far + simulated)"),
                y_title=_("Share of {runs} runs", runs=fmt.Count(MC_RUNS)))
    money_axis(fig, lo, hi, "x", lang, currency)
    return theme.pct_tick(fig, "y")


def cumulative_won_chart(won_by_day: pd.DataFrame, amount, title_period: str, presentation: bool = False,
                         lang: str = "en", currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """Cumulative won by day since the period's first day, against the linear pace to the target."""
    _ = gettext_for(lang)
    if won_by_day is None or won_by_day.empty:
        return theme.empty_figure(_("{period} has not started yet at this as-of date — nothing won so far",
                                    period=title_period), presentation)
    no_pace = amount is None or not won_by_day["pace_amount"].notna().any()
    if no_pace and not won_by_day["cumulative_won"].fillna(0).gt(0).any():
        # A flat line at zero says nothing a sentence cannot say better.
        return theme.empty_figure(_("Nothing won in {period} so far, and no target set for it", period=title_period),
                                  presentation)
    day = "%d %b" if lang == "en" else ZH_DAY
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=won_by_day["day"], y=won_by_day["cumulative_won"], mode="lines", name=_("Won so far"),
                             line={"color": theme.PALETTE[0], "width": 4, "shape": "hv"},
                             hovertemplate=_("%{x|{day}}: {amount} won", day=day, amount=_exact("y", lang, currency))
                                           + "<extra></extra>"))
    last = won_by_day.iloc[-1]
    if amount is not None and won_by_day["pace_amount"].notna().any():
        fig.add_trace(go.Scatter(x=won_by_day["day"], y=won_by_day["pace_amount"], mode="lines", name=_("Linear pace"),
                                 line={"color": theme.PALETTE[1], "width": 3, "dash": "dash"},
                                 hovertemplate=_("%{x|{day}}: pace {amount}", day=day,
                                                 amount=_exact("y", lang, currency)) + "<extra></extra>"))
        ahead = float(last["cumulative_won"]) - float(last["pace_amount"])
        figures = {"period": title_period, "amount": _money(abs(ahead), lang, currency),
                   "target": _money(amount, lang, currency)}
        title = (_("{period}: {amount} ahead of the linear pace to {target}", **figures) if ahead >= 0
                 else _("{period}: {amount} behind the linear pace to {target}", **figures))
    else:
        title = _("{period}: {amount} won so far (no target set)", period=title_period,
                  amount=_money(last["cumulative_won"], lang, currency))
    theme.style(fig, title=title, presentation=presentation, x_title=None, y_title=_("Won (cumulative)"))
    if lang != "en":
        # whole days only: with a few days Plotly ticks every 12 hours, which a day format repeats
        fig.update_xaxes(tickformat=ZH_DAY, **({"dtick": 86_400_000} if len(won_by_day) < 8 else {}))
    values = pd.concat([won_by_day["cumulative_won"], won_by_day["pace_amount"]]).dropna()
    hi = float(values.max()) if len(values) else 1.0
    return money_axis(fig, 0, hi if hi > 0 else 1.0, "y", lang, currency)


def attainment_chart(breakdown: pd.DataFrame, presentation: bool = False, lang: str = "en",
                     currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """Per team / owner with a (non-zero) target: attainment (won ÷ target) and expected attainment,
    sorted as given (by gap); a 100% line. Everyone's row is the tiles' and stays out."""
    _ = gettext_for(lang)
    df = breakdown[breakdown["has_target"].astype(bool) & breakdown["amount"].fillna(0).gt(0)
                   & (breakdown["kind"] != "everyone")] if breakdown is not None and len(breakdown) else pd.DataFrame()
    if df.empty:
        return theme.empty_figure(_("No targets for this period — add them in the grid below"), presentation)
    names = [o if o else _("Everyone") for o in df["owner"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=df["expected_attainment"], orientation="h", name=_("Expected (won + weighted)"),
                         marker_color=theme.PALETTE[4], opacity=0.6,
                         hovertemplate=_("%{y}: expected %{x:.0%} of target") + "<extra></extra>"))
    fig.add_trace(go.Bar(y=names, x=df["attainment"], orientation="h", name=_("Won so far"),
                         marker_color=theme.PALETTE[0], width=0.45,
                         hovertemplate=_("%{y}: won %{x:.0%} of target") + "<extra></extra>"))
    fig.add_vline(x=1.0, line_width=2, line_color=theme.INK)
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(autorange="reversed")
    top = df.iloc[0]
    title = _("Largest gap: {owner}, {amount} to go", owner=top["owner"], amount=_money(top["gap"], lang, currency))
    theme.style(fig, title=title, presentation=presentation, x_title=_("Share of target"),
                height=max(300, 60 + 42 * len(df)) if not presentation else max(420, 80 + 60 * len(df)))
    return theme.pct_tick(fig, "x")


def reverse_funnel_chart(plan: dict, presentation: bool = False, lang: str = "en",
                         currency: str = fmt.DEFAULT_CURRENCY) -> go.Figure:
    """The plan as a reverse funnel: leads → … → wins needed per stage (§8)."""
    _ = gettext_for(lang)
    needed = [n for n in (plan or {}).get("needed", []) if n["needed"] is not None]
    if not plan or not needed:
        reasons = (plan or {}).get("reason_messages") or (plan or {}).get("reasons", [])
        why = render(list(reasons), lang) or _("No gap to close for this target")
        return theme.empty_figure(why, presentation)
    stages = [n["stage"] for n in needed]
    values = [float(n["needed"]) for n in needed]
    fig = go.Figure(go.Funnel(y=stages, x=values, textinfo="text",
                              text=[f"~{v:,.0f}" if v >= 10 else f"~{v:,.1f}" for v in values],
                              marker={"color": theme.PALETTE[0]},
                              hovertemplate=_("%{y}: about %{x:,.1f} needed") + "<extra></extra>"))
    title = _("What the {amount} gap takes, stage by stage", amount=_money(plan["gap"], lang, currency))
    theme.style(fig, title=title, presentation=presentation, legend=False)
    return fig
