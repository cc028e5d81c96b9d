"""Charts of the scoring what-if: SDR load against capacity, score distribution by outcome, gains.

Current rules are drawn in blue and the draft in orange (Okabe–Ito); leads that reached the
outcome stage in green against grey for the rest; an SDR over capacity in the theme's BAD colour.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from . import theme

CURRENT_COLOR, DRAFT_COLOR = theme.PALETTE[0], theme.PALETTE[1]
REACHED_COLOR, NOT_REACHED_COLOR = theme.GOOD, theme.MUTED
UNASSIGNED = "(unassigned)"


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def shared_scale(*loads: pd.DataFrame | None) -> float:
    """The highest MQLs-per-week bar across SDR-load frames, so side-by-side charts share a y scale."""
    tops = [float(f["mqls_per_week"].max()) for f in loads if f is not None and not f.empty]
    return max(tops) if tops else 0.0


def sdr_load_chart(df: pd.DataFrame, capacity: float | None, *, scenario: str = "Draft", y_max: float | None = None,
                   presentation: bool = False) -> go.Figure:
    """MQLs per week for each SDR (frame of scoring.sdr_load) against a weekly capacity.

    Bars above capacity are red (theme.BAD), the capacity is a dashed line; leads without an SDR
    are a grey bar, not judged against a capacity. ``y_max`` lets two charts side by side share
    one scale.
    """
    if df is None or df.empty:
        return theme.empty_figure("No leads in this cohort — widen the date range or clear the filters.", presentation)
    d = df.copy()
    unassigned = d["sdr"] == UNASSIGNED
    over = (~unassigned) & (capacity is not None) & (d["mqls_per_week"] > (capacity or 0))
    colors = [theme.MUTED if u else theme.BAD if o else theme.NEUTRAL for u, o in zip(unassigned, over)]
    labels = ["No SDR" if u else s for u, s in zip(unassigned, d["sdr"])]
    fig = go.Figure(go.Bar(
        x=labels, y=d["mqls_per_week"], marker_color=colors, name="MQLs per week",
        text=[f"{v:.1f}" for v in d["mqls_per_week"]], textposition="outside", cliponaxis=False,
        customdata=d["mqls"], hovertemplate="%{x}: %{y:.1f} MQLs a week (%{customdata:,} in all)<extra></extra>"))
    n_sdrs = int((~unassigned).sum())
    n_over = int(over.sum())
    if capacity is not None and capacity > 0:
        # The capacity is named in the title, not on the line: a label there collides with bar values.
        fig.add_hline(y=capacity, line={"color": theme.INK, "dash": "dash", "width": 2})
        title = (f"{scenario}: {n_over} of {n_sdrs} SDRs over capacity ({_num(capacity)}/week, dashed)" if n_over
                 else f"{scenario}: every SDR within capacity ({_num(capacity)}/week, dashed)")
    else:
        title = f"{scenario}: MQLs per SDR per week"
    top = max(float(d["mqls_per_week"].max()), float(capacity or 0), float(y_max or 0))
    theme.style(fig, title=title, presentation=presentation, x_title=None, y_title="MQLs per week", legend=False)
    fig.update_yaxes(range=[0, top * 1.18 if top > 0 else 1])
    return fig


def score_distribution_chart(df: pd.DataFrame, threshold: float, *, outcome_stage: str = "SQL",
                             scenario: str = "Draft", evaluation: dict | None = None,
                             presentation: bool = False) -> go.Figure:
    """Share of each group (reached the outcome stage / did not) by score, with the threshold.

    ``df`` is scoring.score_distribution's frame; ``evaluation`` (scoring.evaluate_scenario's
    result) lets the title say how many of each group clear the threshold.
    """
    if df is None or df.empty:
        return theme.empty_figure("No leads in this cohort — widen the date range or clear the filters.", presentation)
    fig = go.Figure()
    for outcome, name, color in ((0, f"Did not reach {outcome_stage}", NOT_REACHED_COLOR),
                                 (1, f"Reached {outcome_stage}", REACHED_COLOR)):
        g = df[df["outcome"] == outcome]
        if g.empty:
            continue
        fig.add_trace(go.Bar(
            x=g["score_bin"] + g["bin_width"] / 2, y=g["share_of_group"], width=g["bin_width"] * 0.95,
            name=name, marker_color=color, opacity=0.7,
            customdata=list(zip(g["score_bin"], g["score_bin"] + g["bin_width"], g["leads"])),
            hovertemplate=(f"{name}<br>score %{{customdata[0]:g}} to under %{{customdata[1]:g}}: "
                           "%{customdata[2]:,} leads (%{y:.1%} of the group)<extra></extra>")))
    fig.add_vline(x=threshold, line={"color": theme.INK, "dash": "dash", "width": 2},
                  annotation_text=f"MQL threshold {_num(threshold)}", annotation_position="top right",
                  annotation_font={"size": theme.font_sizes(presentation)["tick"]})
    title, subtitle = f"{scenario}: scores of leads that reached {outcome_stage}", "and of the rest"
    ev = evaluation or {}
    if ev.get("recall") is not None and ev.get("leads", 0) > ev.get("with_outcome", 0):
        rest_above = (ev["above"] - ev["true_positives"]) / (ev["leads"] - ev["with_outcome"])
        title = f"{scenario}: {ev['recall'] * 100:.0f}% of leads that reached {outcome_stage} score {_num(threshold)}+"
        subtitle = f"against {rest_above * 100:.0f}% of the rest"
    theme.style(fig, title=title, presentation=presentation, x_title="Score", y_title="Share of the group")
    # A subtitle, not one long line: that would be cut off in half a projector-wide page.
    fig.update_layout(barmode="overlay", bargap=0, margin_t=150 if presentation else 110,
                      title_yref="container", title_y=0.98, title_yanchor="top",
                      title_subtitle={"text": subtitle, "font": {"size": theme.font_sizes(presentation)["base"],
                                                                  "color": theme.INK}})
    return theme.pct_tick(fig)


def gains_chart(current: pd.DataFrame, draft: pd.DataFrame, *, current_eval: dict | None = None,
                draft_eval: dict | None = None, outcome_stage: str = "SQL", presentation: bool = False) -> go.Figure:
    """Cumulative gains of the current and draft rules (frames of scoring.gains_curve).

    x: share of leads contacted, best scores first; y: share of all leads that reached the outcome
    stage found among them. The diagonal is picking leads at random; a dot marks each
    scenario's threshold (its MQLs). Hover shows the lift (how many times better than random).
    """
    frames = [(f, n, c, e) for f, n, c, e in ((current, "Current", CURRENT_COLOR, current_eval),
                                              (draft, "Draft", DRAFT_COLOR, draft_eval))
              if f is not None and not f.empty and f["share_of_outcomes"].notna().any()]
    if not frames:
        return theme.empty_figure(f"No lead in this cohort reached {outcome_stage} — pick an earlier outcome stage "
                                  "or widen the date range.", presentation)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Random pick",
                             line={"color": theme.MUTED, "dash": "dot", "width": 2}, hoverinfo="skip"))
    for f, name, color, ev in frames:
        x = [0.0, *f["share_of_leads"].tolist()]
        y = [0.0, *f["share_of_outcomes"].tolist()]
        custom = [[None, None], *zip(f["score"], f["lift"])]
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines", name=name, line={"color": color, "width": 4 if name == "Draft" else 3,
                                                     "shape": "linear"},
            customdata=custom,
            hovertemplate=(f"{name}: score %{{customdata[0]:g}}+ → top %{{x:.1%}} of leads hold "
                           f"%{{y:.1%}} of those that reached {outcome_stage} (lift %{{customdata[1]:.1f}}×)"
                           "<extra></extra>")))
        if ev and ev.get("leads") and ev.get("recall") is not None:
            sx = ev["above"] / ev["leads"]
            fig.add_trace(go.Scatter(
                x=[sx], y=[ev["recall"]], mode="markers", name=f"{name} threshold", showlegend=False,
                marker={"color": color, "size": 16 if presentation else 13, "line": {"color": theme.INK, "width": 2}},
                hovertemplate=(f"{name} MQLs (score {_num(ev['threshold'])}+): top %{{x:.1%}} of leads, "
                               f"%{{y:.1%}} of those that reached {outcome_stage}<extra></extra>")))
    title = f"Gains: share of leads that reached {outcome_stage} found by contacting the best-scored leads first"
    ev = draft_eval or {}
    if ev.get("leads") and ev.get("above") and ev.get("recall") is not None:
        share = ev["above"] / ev["leads"]
        title = (f"Draft MQLs are the top {share * 100:.0f}% of leads and hold {ev['recall'] * 100:.0f}% of those "
                 f"that reached {outcome_stage} ({ev['recall'] / share:.1f}× random)")
    theme.style(fig, title=title, presentation=presentation, x_title="Share of leads contacted (best scores first)",
                y_title=f"Share of leads that reached {outcome_stage}")
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig
