"""Charts of the scoring what-if: SDR load against capacity, score distribution by outcome, gains.

Current rules are drawn in blue and the draft in orange (Okabe–Ito); leads that reached the
outcome stage in green against grey for the rest; an SDR over capacity in the theme's BAD colour.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .. import fmt
from ..i18n import N_, gettext_for
from . import theme

CURRENT_COLOR, DRAFT_COLOR = theme.PALETTE[0], theme.PALETTE[1]
REACHED_COLOR, NOT_REACHED_COLOR = theme.GOOD, theme.MUTED
UNASSIGNED = "(unassigned)"
#: The two sides a chart may draw; the page passes these English names, the builder shows them in ``lang``.
SCENARIOS = {"Current": N_("Current"), "Draft": N_("Draft")}


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def shared_scale(*loads: pd.DataFrame | None) -> float:
    """The highest MQLs-per-week bar across SDR-load frames, so side-by-side charts share a y scale."""
    tops = [float(f["mqls_per_week"].max()) for f in loads if f is not None and not f.empty]
    return max(tops) if tops else 0.0


def sdr_load_chart(df: pd.DataFrame, capacity: float | None, *, scenario: str = "Draft", y_max: float | None = None,
                   presentation: bool = False, lang: str = "en") -> go.Figure:
    """MQLs per week for each SDR (frame of scoring.sdr_load) against a weekly capacity.

    Bars above capacity are red (theme.BAD), the capacity is a dashed line; leads without an SDR
    are a grey bar, not judged against a capacity. ``y_max`` lets two charts side by side share
    one scale.
    """
    _ = gettext_for(lang)
    if df is None or df.empty:
        return theme.empty_figure(_("No leads in this cohort — widen the date range or clear the filters."),
                                  presentation)
    side = _(SCENARIOS.get(scenario, scenario))
    d = df.copy()
    unassigned = d["sdr"] == UNASSIGNED
    over = (~unassigned) & (capacity is not None) & (d["mqls_per_week"] > (capacity or 0))
    colors = [theme.MUTED if u else theme.BAD if o else theme.NEUTRAL for u, o in zip(unassigned, over)]
    labels = [_("No SDR") if u else s for u, s in zip(unassigned, d["sdr"])]
    fig = go.Figure(go.Bar(
        x=labels, y=d["mqls_per_week"], marker_color=colors, name=_("MQLs per week"),
        text=[f"{v:.1f}" for v in d["mqls_per_week"]], textposition="outside", cliponaxis=False,
        customdata=d["mqls"], hovertemplate=_("%{x}: %{y:.1f} MQLs a week (%{customdata:,} in all)") + "<extra></extra>"))
    n_sdrs = int((~unassigned).sum())
    n_over = int(over.sum())
    if capacity is not None and capacity > 0:
        # The capacity is named in the title, not on the line: a label there collides with bar values.
        fig.add_hline(y=capacity, line={"color": theme.INK, "dash": "dash", "width": 2})
        title = (_("{scenario}: {over} of {sdrs} SDRs over capacity ({capacity}/week, dashed)", scenario=side,
                   over=n_over, sdrs=n_sdrs, capacity=_num(capacity)) if n_over
                 else _("{scenario}: every SDR within capacity ({capacity}/week, dashed)", scenario=side,
                        capacity=_num(capacity)))
    else:
        title = _("{scenario}: MQLs per SDR per week", scenario=side)
    top = max(float(d["mqls_per_week"].max()), float(capacity or 0), float(y_max or 0))
    theme.style(fig, title=title, presentation=presentation, x_title=None, y_title=_("MQLs per week"), legend=False)
    fig.update_yaxes(range=[0, top * 1.18 if top > 0 else 1])
    return fig


def score_distribution_chart(df: pd.DataFrame, threshold: float, *, outcome_stage: str = "SQL",
                             scenario: str = "Draft", evaluation: dict | None = None,
                             presentation: bool = False, lang: str = "en") -> go.Figure:
    """Share of each group (reached the outcome stage / did not) by score, with the threshold.

    ``df`` is scoring.score_distribution's frame; ``evaluation`` (scoring.evaluate_scenario's
    result) lets the title say how many of each group clear the threshold.
    """
    _ = gettext_for(lang)
    if df is None or df.empty:
        return theme.empty_figure(_("No leads in this cohort — widen the date range or clear the filters."),
                                  presentation)
    side = _(SCENARIOS.get(scenario, scenario))
    fig = go.Figure()
    for outcome, name, color in ((0, _("Did not reach {stage}", stage=outcome_stage), NOT_REACHED_COLOR),
                                 (1, _("Reached {stage}", stage=outcome_stage), REACHED_COLOR)):
        g = df[df["outcome"] == outcome]
        if g.empty:
            continue
        fig.add_trace(go.Bar(
            x=g["score_bin"] + g["bin_width"] / 2, y=g["share_of_group"], width=g["bin_width"] * 0.95,
            name=name, marker_color=color, opacity=0.7,
            customdata=list(zip(g["score_bin"], g["score_bin"] + g["bin_width"], g["leads"])),
            hovertemplate=_("{group}<br>score %{customdata[0]:g} to under %{customdata[1]:g}: "
                            "%{customdata[2]:,} leads (%{y:.1%} of the group)", group=name) + "<extra></extra>"))
    fig.add_vline(x=threshold, line={"color": theme.INK, "dash": "dash", "width": 2},
                  annotation_text=_("MQL threshold {threshold}", threshold=_num(threshold)),
                  annotation_position="top right",
                  annotation_font={"size": theme.font_sizes(presentation)["tick"]})
    title = _("{scenario}: scores of leads that reached {stage}", scenario=side, stage=outcome_stage)
    subtitle = _("and of the rest")
    ev = evaluation or {}
    if ev.get("recall") is not None and ev.get("leads", 0) > ev.get("with_outcome", 0):
        rest_above = (ev["above"] - ev["true_positives"]) / (ev["leads"] - ev["with_outcome"])
        title = _("{scenario}: {share} of leads that reached {stage} score {threshold}+", scenario=side,
                  share=fmt.pct(ev["recall"], lang, 0), stage=outcome_stage, threshold=_num(threshold))
        subtitle = _("against {share} of the rest", share=fmt.pct(rest_above, lang, 0))
    theme.style(fig, title=title, presentation=presentation, x_title=_("Score"), y_title=_("Share of the group"))
    # A subtitle, not one long line: that would be cut off in half a projector-wide page.
    fig.update_layout(barmode="overlay", bargap=0, margin_t=150 if presentation else 110,
                      title_yref="container", title_y=0.98, title_yanchor="top",
                      title_subtitle={"text": subtitle, "font": {"size": theme.font_sizes(presentation)["base"],
                                                                  "color": theme.INK}})
    return theme.pct_tick(fig)


def gains_chart(current: pd.DataFrame, draft: pd.DataFrame, *, current_eval: dict | None = None,
                draft_eval: dict | None = None, outcome_stage: str = "SQL", presentation: bool = False,
                lang: str = "en") -> go.Figure:
    """Cumulative gains of the current and draft rules (frames of scoring.gains_curve).

    x: share of leads contacted, best scores first; y: share of all leads that reached the outcome
    stage found among them. The diagonal is picking leads at random; a dot marks each
    scenario's threshold (its MQLs). Hover shows the lift (how many times better than random).
    """
    _ = gettext_for(lang)
    frames = [(f, n, c, e) for f, n, c, e in ((current, "Current", CURRENT_COLOR, current_eval),
                                              (draft, "Draft", DRAFT_COLOR, draft_eval))
              if f is not None and not f.empty and f["share_of_outcomes"].notna().any()]
    if not frames:
        return theme.empty_figure(_("No lead in this cohort reached {stage} — pick an earlier outcome stage or "
                                    "widen the date range.", stage=outcome_stage), presentation)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=_("Random pick"),
                             line={"color": theme.MUTED, "dash": "dot", "width": 2}, hoverinfo="skip"))
    for f, side, color, ev in frames:
        name = _(SCENARIOS[side])
        x = [0.0, *f["share_of_leads"].tolist()]
        y = [0.0, *f["share_of_outcomes"].tolist()]
        custom = [[None, None], *zip(f["score"], f["lift"])]
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines", name=name, line={"color": color, "width": 4 if side == "Draft" else 3,
                                                     "shape": "linear"},
            customdata=custom,
            hovertemplate=_("{scenario}: score %{customdata[0]:g}+ → top %{x:.1%} of leads hold %{y:.1%} of "
                            "those that reached {stage} (lift %{customdata[1]:.1f}×)", scenario=name,
                            stage=outcome_stage) + "<extra></extra>"))
        if ev and ev.get("leads") and ev.get("recall") is not None:
            sx = ev["above"] / ev["leads"]
            fig.add_trace(go.Scatter(
                x=[sx], y=[ev["recall"]], mode="markers", name=_("{scenario} threshold", scenario=name),
                showlegend=False,
                marker={"color": color, "size": 16 if presentation else 13, "line": {"color": theme.INK, "width": 2}},
                hovertemplate=_("{scenario} MQLs (score {threshold}+): top %{x:.1%} of leads, %{y:.1%} of those "
                                "that reached {stage}", scenario=name, threshold=_num(ev["threshold"]),
                                stage=outcome_stage) + "<extra></extra>"))
    title = _("Gains: share of leads that reached {stage} found by contacting the best-scored leads first",
              stage=outcome_stage)
    ev = draft_eval or {}
    if ev.get("leads") and ev.get("above") and ev.get("recall") is not None:
        share = ev["above"] / ev["leads"]
        title = _("Draft MQLs are the top {share} of leads and hold {recall} of those that reached {stage} "
                  "({lift} random)", share=fmt.pct(share, lang, 0), recall=fmt.pct(ev["recall"], lang, 0),
                  stage=outcome_stage, lift=fmt.times(ev["recall"] / share, lang))
    theme.style(fig, title=title, presentation=presentation, x_title=_("Share of leads contacted (best scores first)"),
                y_title=_("Share of leads that reached {stage}", stage=outcome_stage))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig
