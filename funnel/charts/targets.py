"""Charts of the Targets & plan page (metrics.md §7–8): results of funnel.targets in, plotly out.

Every builder is pure, takes ``presentation`` and ends in ``theme.style``; nothing to draw gives a
chart-sized note saying what is missing and what to do.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import labels
from . import theme


def _money(x) -> str:
    return labels.money(x)


def outcome_chart(outcomes, amount, p_hit, title_period: str, presentation: bool = False, bins: int = 40) -> go.Figure:
    """The simulated outcomes (won so far + simulated won of the open deals, one per Monte Carlo
    run) as a histogram, the target as a vertical line and the runs that reach it shaded: the
    shaded share IS the chance of hitting (the same runs)."""
    x = np.asarray(outcomes if outcomes is not None else [], dtype=float)
    if x.size == 0:
        return theme.empty_figure("No simulated outcomes — pick a period with a target or open deals", presentation)
    lo, hi = float(x.min()), float(x.max())
    if amount is not None:
        lo, hi = min(lo, float(amount)), max(hi, float(amount))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(x, bins=edges)
    centers = (edges[:-1] + edges[1:]) / 2
    share = counts / x.size
    fig = go.Figure()
    if amount is not None:
        hit = edges[:-1] >= float(amount) - 1e-9
        fig.add_trace(go.Bar(x=centers[~hit], y=share[~hit], width=(hi - lo) / bins, name="Misses the target",
                             marker_color=theme.MUTED,
                             hovertemplate="around $%{x:,.0f}: %{y:.1%} of runs<extra></extra>"))
        fig.add_trace(go.Bar(x=centers[hit], y=share[hit], width=(hi - lo) / bins, name="Reaches the target",
                             marker_color=theme.GOOD,
                             hovertemplate="around $%{x:,.0f}: %{y:.1%} of runs<extra></extra>"))
        fig.add_vline(x=float(amount), line_width=3, line_dash="dash", line_color=theme.INK,
                      annotation_text=f"Target {_money(amount)}", annotation_position="top left",
                      annotation_font_size=theme.font_sizes(presentation)["base"])
        title = (f"{title_period}: {p_hit * 100:.0f}% chance of reaching {_money(amount)}" if p_hit is not None
                 else f"{title_period}: simulated outcomes")
    else:
        fig.add_trace(go.Bar(x=centers, y=share, width=(hi - lo) / bins, name="Simulated outcomes",
                             marker_color=theme.NEUTRAL,
                             hovertemplate="around $%{x:,.0f}: %{y:.1%} of runs<extra></extra>"))
        title = f"{title_period}: simulated outcomes (no target set)"
    fig.update_layout(bargap=0.02, barmode="overlay")
    theme.style(fig, title=title, presentation=presentation, x_title="Won by the end of the period (won so far + simulated)",
                y_title="Share of 10,000 runs")
    theme.money_tick(fig, "x")
    return theme.pct_tick(fig, "y")


def cumulative_won_chart(won_by_day: pd.DataFrame, amount, title_period: str, presentation: bool = False) -> go.Figure:
    """Cumulative won by day since the period's first day, against the linear pace to the target."""
    if won_by_day is None or won_by_day.empty:
        return theme.empty_figure(f"{title_period} has not started yet at this as-of date — nothing won so far",
                                  presentation)
    no_pace = amount is None or not won_by_day["pace_amount"].notna().any()
    if no_pace and not won_by_day["cumulative_won"].fillna(0).gt(0).any():
        # A flat line at zero says nothing a sentence cannot say better.
        return theme.empty_figure(f"Nothing won in {title_period} so far, and no target set for it", presentation)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=won_by_day["day"], y=won_by_day["cumulative_won"], mode="lines", name="Won so far",
                             line={"color": theme.PALETTE[0], "width": 4, "shape": "hv"},
                             hovertemplate="%{x|%d %b}: $%{y:,.0f} won<extra></extra>"))
    last = won_by_day.iloc[-1]
    if amount is not None and won_by_day["pace_amount"].notna().any():
        fig.add_trace(go.Scatter(x=won_by_day["day"], y=won_by_day["pace_amount"], mode="lines", name="Linear pace",
                                 line={"color": theme.PALETTE[1], "width": 3, "dash": "dash"},
                                 hovertemplate="%{x|%d %b}: pace $%{y:,.0f}<extra></extra>"))
        ahead = float(last["cumulative_won"]) - float(last["pace_amount"])
        word = "ahead of" if ahead >= 0 else "behind"
        title = f"{title_period}: {_money(abs(ahead))} {word} the linear pace to {_money(amount)}"
    else:
        title = f"{title_period}: {_money(last['cumulative_won'])} won so far (no target set)"
    theme.style(fig, title=title, presentation=presentation, x_title=None, y_title="Won (cumulative)")
    return theme.money_tick(fig)


def attainment_chart(breakdown: pd.DataFrame, presentation: bool = False) -> go.Figure:
    """Per team / owner with a (non-zero) target: attainment (won ÷ target) and expected attainment,
    sorted as given (by gap); a 100% line. Everyone's row is the tiles' and stays out."""
    df = breakdown[breakdown["has_target"].astype(bool) & breakdown["amount"].fillna(0).gt(0)
                   & (breakdown["kind"] != "everyone")] if breakdown is not None and len(breakdown) else pd.DataFrame()
    if df.empty:
        return theme.empty_figure("No targets for this period — add them in the grid below", presentation)
    names = [o if o else "Everyone" for o in df["owner"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=df["expected_attainment"], orientation="h", name="Expected (won + weighted)",
                         marker_color=theme.PALETTE[4], opacity=0.6,
                         hovertemplate="%{y}: expected %{x:.0%} of target<extra></extra>"))
    fig.add_trace(go.Bar(y=names, x=df["attainment"], orientation="h", name="Won so far",
                         marker_color=theme.PALETTE[0], width=0.45,
                         hovertemplate="%{y}: won %{x:.0%} of target<extra></extra>"))
    fig.add_vline(x=1.0, line_width=2, line_color=theme.INK)
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(autorange="reversed")
    top = df.iloc[0]
    title = f"Largest gap: {top['owner']}, {_money(top['gap'])} to go"
    theme.style(fig, title=title, presentation=presentation, x_title="Share of target",
                height=max(300, 60 + 42 * len(df)) if not presentation else max(420, 80 + 60 * len(df)))
    return theme.pct_tick(fig, "x")


def reverse_funnel_chart(plan: dict, presentation: bool = False) -> go.Figure:
    """The plan as a reverse funnel: leads → … → wins needed per stage (§8)."""
    needed = [n for n in (plan or {}).get("needed", []) if n["needed"] is not None]
    if not plan or not needed:
        why = " ".join((plan or {}).get("reasons", [])) or "No gap to close for this target"
        return theme.empty_figure(why, presentation)
    stages = [n["stage"] for n in needed]
    values = [float(n["needed"]) for n in needed]
    fig = go.Figure(go.Funnel(y=stages, x=values, textinfo="text",
                              text=[f"~{v:,.0f}" if v >= 10 else f"~{v:,.1f}" for v in values],
                              marker={"color": theme.PALETTE[0]},
                              hovertemplate="%{y}: about %{x:,.1f} needed<extra></extra>"))
    title = f"What the {_money(plan['gap'])} gap takes, stage by stage"
    theme.style(fig, title=title, presentation=presentation, legend=False)
    return fig
