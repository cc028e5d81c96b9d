"""Charts of the Rejections & recycling page (metrics.md §3): frames from funnel.rejections in,
plotly figures out.

Every builder is pure, takes ``presentation`` and ends in ``theme.style``; an empty frame gives a
chart-sized note saying what is missing and what to do. Titles state the finding.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .. import fmt
from ..i18n import N_, gettext_for, ngettext_for
from . import theme

#: Breakdown rows under this many hand-offs are faded and labelled "too few to judge".
SMALL_SAMPLE = 30
#: A rate this many times the team's is drawn in the warning colour (the page verdict uses the same).
STANDOUT_RATIO = 1.3
NO_REASON = N_("(no reason given)")   # the library's code for a missing reason; translated when shown
RECYCLED_GROUP = "Rejected at least once"
FIRST_PASS_GROUP = "Never rejected"
GROUP_LABELS = {RECYCLED_GROUP: N_("Recycled (rejected at least once)"),
                FIRST_PASS_GROUP: N_("First-pass (never rejected)")}
LOOP_COLOUR = "rgba(230, 159, 0, 0.75)"      # Okabe–Ito orange: back round the loop
REJECT_COLOUR = "rgba(213, 94, 0, 0.65)"     # vermillion: a hand-off refused
EXIT_COLOUR = "rgba(154, 165, 177, 0.55)"    # grey: out of the funnel
FORWARD_COLOUR = "rgba(0, 114, 178, 0.35)"   # blue: on through the funnel


def _pct(x) -> str:
    if x is None or pd.isna(x):
        return "–"
    x = float(x) * 100
    return f"{x:.1f}%" if 0 < x < 10 else f"{x:.0f}%"


def _n(x, lang: str = "en") -> str:
    return fmt.count(int(x), lang)


# ---------------------------------------------------------------------------------------------


def rate_by_owner(df: pd.DataFrame, role: str = "AE", team_rate: float | None = None,
                  max_rows: int = 25, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Ranked horizontal bars of the rejection rate per owner, with counts.

    ``df`` is :func:`funnel.rejections.rejection_breakdown` by a lead column. Owners with enough
    hand-offs are ranked by rate (highest on top), in orange when ``stands_out`` (at least 1.3× the
    team rate and not likely chance); those under 30 hand-offs follow below, faded and labelled
    "too few to judge", so nobody is ranked on three leads. A dashed line marks the team rate.
    """
    _ = gettext_for(lang)
    if df is None or df.empty or not (df["handoffs"] > 0).any():
        return theme.empty_figure(_("No hand-offs to compare by {role} — widen the date range or clear a filter",
                                    role=role), presentation)
    d = df[df["handoffs"] > 0].copy()
    if team_rate is None:
        team_rate = d["rejected"].sum() / d["handoffs"].sum()
    d["small"] = d["handoffs"] < SMALL_SAMPLE
    if "stands_out" not in d:  # a frame without the test: fall back to the ratio alone
        d["stands_out"] = ~d["small"] & (d["rejection_rate"] >= STANDOUT_RATIO * team_rate)
    d = pd.concat([d[~d["small"]].sort_values(["rejection_rate", "handoffs"], ascending=[False, False]),
                   d[d["small"]].sort_values(["rejection_rate", "handoffs"], ascending=[False, False])])
    hidden = max(len(d) - max_rows, 0)
    d = d.head(max_rows)
    d = d.iloc[::-1]  # plotly draws the first category at the bottom
    colours, texts = [], []
    for r in d.itertuples():
        if r.small:
            colours.append("rgba(154, 165, 177, 0.45)")
            texts.append(_("{rate} · {rejected} rejected (n={handoffs}, too few to judge)", rate=_pct(r.rejection_rate),
                           rejected=_n(r.rejected, lang), handoffs=_n(r.handoffs, lang)))
        else:
            colours.append(theme.BAD if r.stands_out else theme.NEUTRAL)
            texts.append(_("{rate} · {rejected} of {handoffs}", rate=_pct(r.rejection_rate),
                           rejected=_n(r.rejected, lang), handoffs=_n(r.handoffs, lang)))
    names = [str(g) for g in d["grp"]]
    xmax = max(float(d["rejection_rate"].max()), float(team_rate or 0), 0.01)
    label_x = xmax * 1.04
    fig = go.Figure(go.Bar(
        y=names, x=d["rejection_rate"], orientation="h", marker={"color": colours},
        customdata=list(zip(d["rejected"], d["handoffs"])),
        hovertemplate=_("<b>%{y}</b><br>%{x:.1%} rejected<br>%{customdata[0]:,} of %{customdata[1]:,} hand-offs")
                      + "<extra></extra>",
    ))
    # The counts sit in one column right of the longest bar, clear of the team line.
    fig.add_scatter(y=names, x=[label_x] * len(names), mode="text", text=texts, textposition="middle right",
                    textfont={"size": theme.font_sizes(presentation)["tick"],
                              "color": [theme.MUTED if sm else theme.INK for sm in d["small"]]},
                    hoverinfo="skip", cliponaxis=False)
    fig.add_vline(x=team_rate, line_dash="dash", line_color=theme.INK, line_width=1.5,
                  annotation_text=_("team {rate}", rate=_pct(team_rate)), annotation_position="top",
                  annotation_font_size=theme.font_sizes(presentation)["tick"])
    ok, out = d[~d["small"]], d[d["stands_out"] & ~d["small"]]
    if len(ok):
        if len(out) and team_rate:
            top = out.sort_values("rejection_rate").iloc[-1]
            ratio = top["rejection_rate"] / team_rate
            title = _("{role} {name}: {rate} rejected, {ratio} the team rate", role=role, name=str(top["grp"]),
                      rate=_pct(top["rejection_rate"]), ratio=fmt.Times(ratio))
        else:
            title = _("By {role}: no one stands out (team {rate})", role=role, rate=_pct(team_rate))
    else:
        title = _("By {role}: every {role} has fewer than {n} hand-offs — too few to judge", role=role,
                  n=fmt.Count(SMALL_SAMPLE))
    if hidden:
        title += _(" · {n} more not shown", n=fmt.Count(hidden))
    # room right of the longest bar for the counts column: more for the longer "too few" labels and
    # on the half-width charts of presentation mode ("58% · 159/276 次" was cut at 1280 px)
    room = 1.9 if d["small"].any() or presentation else 1.5
    step = 2 if presentation and xmax > 0.35 else 1      # tenths; every other one where the axis is short
    fig.update_xaxes(range=[0, label_x * room],
                     tickvals=[v / 10 for v in range(0, 11, step) if v / 10 <= xmax + 0.05])
    theme.pct_tick(fig, "x")
    rows = len(d)
    return theme.style(fig, title=title, presentation=presentation, x_title=_("Share of hand-offs rejected"),
                       legend=False, plot_height=max(220, 90 + rows * (44 if presentation else 34)))


def reasons_over_time(df: pd.DataFrame, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Stacked bars of rejections per month by reason; a missing reason shows as "(no reason given)".

    ``df`` is :func:`funnel.rejections.reasons_over_time` (period, reason, rejected).
    """
    _ = gettext_for(lang)
    if df is None or df.empty:
        return theme.empty_figure(_("No rejections in this period — widen the date range"), presentation)
    d = df.copy()
    d["reason"] = d["reason"].fillna(NO_REASON)
    totals = d.groupby("reason")["rejected"].sum().sort_values(ascending=False)
    order = [r for r in totals.index if r != NO_REASON] + ([NO_REASON] if NO_REASON in totals.index else [])
    periods = sorted(d["period"].unique())
    labels = [fmt.month(p, lang) for p in periods]
    fig = go.Figure()
    for i, reason in enumerate(order):
        sub = d[d["reason"] == reason].set_index("period")["rejected"]
        y = [int(sub.get(p, 0)) for p in periods]
        colour = theme.MUTED if reason == NO_REASON else theme.PALETTE[i % (len(theme.PALETTE) - 1)]
        name = _(NO_REASON) if reason == NO_REASON else reason   # a reason is data, shown as recorded
        fig.add_bar(x=labels, y=y, name=name, marker_color=colour,
                    hovertemplate=_("<b>{reason}</b><br>%{x}: %{y:,} rejections", reason=name) + "<extra></extra>")
    fig.update_layout(barmode="stack")
    total = int(totals.sum())
    top = order[0]
    title = _("Top reason: {reason} — {share} of {total} rejections", reason=_(NO_REASON) if top == NO_REASON else top,
              share=_pct(totals[top] / total), total=fmt.Count(total))
    if NO_REASON in totals.index and top != NO_REASON and totals[NO_REASON] / total >= 0.05:
        title += _("; {share} give no reason", share=_pct(totals[NO_REASON] / total))
    fig = theme.style(fig, title=title, presentation=presentation, y_title=_("Rejections"))
    # beside the bars, not over the title: there are often more reasons than fit on one line
    fig.update_layout(legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top",
                              "traceorder": "normal", "title": {"text": _("Reason")}})
    return fig


def _stage_info(stages) -> dict:
    info = {}
    for s in stages or []:
        get = s.get if isinstance(s, dict) else (lambda k, s=s: getattr(s, k))
        info[get("stage")] = (get("position"), get("kind"))
    return info


def _sankey_positions(nodes: list[str], info: dict, handoff: str) -> tuple[list[float], list[float]]:
    """Funnel stages left to right along the top; Rejected just after the hand-off stage and
    Recycled one column further, both along the bottom, so the recycle loop reads as a loop:
    MQL → Rejected → Recycled, then a band curling back to MQL. Exits (lost) on the far right."""
    funnel = sorted((s for s in nodes if info.get(s, (None,))[0] is not None), key=lambda s: info[s][0])
    n = max(len(funnel), 2)
    step = 0.84 / (n - 1)
    x = {s: 0.01 + i * step for i, s in enumerate(funnel)}
    hx = x.get(handoff, 0.01 + step)
    xs, ys = [], []
    for s in nodes:
        kind = info.get(s, (None, None))[1]
        if s in x:
            xs.append(x[s])
            ys.append(0.25)
        elif kind == "rejected":
            xs.append(hx + 0.5 * step)
            ys.append(0.8)
        elif kind == "recycled":
            xs.append(hx + 1.1 * step)
            ys.append(0.85)
        else:  # lost and anything unknown: out of the funnel, far right
            xs.append(0.99)
            ys.append(0.75)
    return xs, ys


def flow_sankey(df: pd.DataFrame, stages: list | None = None, handoff: str = "MQL",
                presentation: bool = False, lang: str = "en") -> go.Figure:
    """Sankey of every stage-to-stage transition, the recycle loop (Rejected → Recycled → MQL) in orange.

    ``df`` is :func:`funnel.rejections.transition_flows`; ``stages`` the lead stage configuration
    (objects or dicts with stage, position, kind) to place the nodes and tell loops from forward
    moves. A band is a *loop* when it leaves Rejected or Recycled for a funnel stage, goes from
    Rejected to Recycled, or goes back to an earlier funnel stage. A repeated entry into the same
    stage cannot be drawn as a band and is left out (the title says how many).
    """
    _ = gettext_for(lang)
    if df is None or df.empty:
        return theme.empty_figure(_("No lead has moved between stages yet — widen the date range"), presentation)
    info = _stage_info(stages)
    d = df[df["from_stage"] != df["to_stage"]]
    self_loops = int(df.loc[df["from_stage"] == df["to_stage"], "transitions"].sum())
    if d.empty:
        return theme.empty_figure(_("Only repeated entries into the same stage — nothing to draw"), presentation)

    def pos(stage):
        return info.get(stage, (None, None))[0]

    def kind(stage):
        return info.get(stage, (None, None))[1]

    def rank(stage):
        side = {"rejected": 1000, "recycled": 1001, "lost": 1002}.get(kind(stage), 1003)
        return (pos(stage) if pos(stage) is not None else side, stage)

    nodes = sorted(set(d["from_stage"]) | set(d["to_stage"]), key=rank)
    idx = {s: i for i, s in enumerate(nodes)}
    colours, labels, loop_n = [], [], 0
    for r in d.itertuples():
        fk, tk = kind(r.from_stage), kind(r.to_stage)
        back = ((fk in ("rejected", "recycled") and pos(r.to_stage) is not None)
                or (fk == "rejected" and tk == "recycled")
                or (pos(r.from_stage) is not None and pos(r.to_stage) is not None and pos(r.to_stage) < pos(r.from_stage)))
        if back:
            colours.append(LOOP_COLOUR)
            labels.append(_("back round the loop"))
            loop_n += int(r.transitions)
        elif tk == "rejected":
            colours.append(REJECT_COLOUR)
            labels.append(_("hand-off refused"))
        elif tk in ("lost", "recycled"):
            colours.append(EXIT_COLOUR)
            labels.append(_("out of the funnel") if tk == "lost" else _("back to nurture"))
        else:
            colours.append(FORWARD_COLOUR)
            labels.append(_("on through the funnel"))
    node_colours = [{"rejected": theme.BAD, "recycled": theme.PALETTE[1], "lost": theme.MUTED,
                     "won": theme.GOOD}.get(kind(s), theme.NEUTRAL) for s in nodes]
    node = {"label": nodes, "color": node_colours, "pad": 24, "thickness": 18,
            "line": {"color": "white", "width": 0.5},
            "hovertemplate": _("<b>%{label}</b><br>%{value:,} moves") + "<extra></extra>"}
    if info:
        node["x"], node["y"] = _sankey_positions(nodes, info, handoff)
    fs = theme.font_sizes(presentation)
    fig = go.Figure(go.Sankey(
        arrangement="snap", node=node,
        link={"source": [idx[s] for s in d["from_stage"]], "target": [idx[s] for s in d["to_stage"]],
              "value": d["transitions"].tolist(), "color": colours, "customdata": labels,
              "hovertemplate": _("%{source.label} → %{target.label}<br>%{value:,} moves · %{customdata}")
                               + "<extra></extra>"},
        textfont={"size": fs["tick"], "color": theme.INK},
    ))
    total = int(d["transitions"].sum())
    if loop_n:
        title = _("{n} of {total} moves went back round the loop (orange) towards {handoff}", n=fmt.Count(loop_n),
                  total=fmt.Count(total), handoff=handoff)
    else:
        title = _("No lead went back round the loop: all {total} moves went forward or out", total=fmt.Count(total))
    if self_loops:
        title += _(" · {n} repeated entries not drawn", n=fmt.Count(self_loops))
    fig = theme.style(fig, title=title, presentation=presentation, legend=False, height=680 if presentation else 560)
    # loops curl below the nodes: leave them room
    # (the top keeps the theme's room for the title, which may wrap to two lines in presentation mode)
    fig.update_layout(margin={"l": 10, "r": 10, "t": max(70, fig.layout.margin.t + 16), "b": 60})
    return fig


def resubmit_delay_histogram(df: pd.DataFrame, who: str | None = None, within_7d: int | None = None,
                             resubmissions: int | None = None, median_days: float | None = None,
                             presentation: bool = False, lang: str = "en") -> go.Figure:
    """Histogram of resubmission delay in whole days (the bar at k covers k to k+1 days; 90 = 90 or more),
    with a vertical line at 7 days.

    ``df`` is :func:`funnel.rejections.resubmit_delays` for one group (delay_days, resubmissions).
    ``within_7d``, ``resubmissions`` and ``median_days`` (exact figures from the breakdown) go into
    the title when given.
    """
    _ = gettext_for(lang)
    if df is None or df.empty or df["resubmissions"].sum() == 0:
        return theme.empty_figure(_("No resubmissions for {who} in this period — widen the date range", who=who) if who
                                  else _("No resubmissions in this period — widen the date range"), presentation)
    d = df.groupby("delay_days", as_index=False)["resubmissions"].sum().sort_values("delay_days")
    # A bar spans its whole day [k, k + 1): the 7-day line then sits exactly at 7 days.
    x = d["delay_days"].astype(float) + 0.5
    labels = [_("{n}+ days", n=int(k)) if k >= 90 else _("{n}–{m} days", n=int(k), m=int(k) + 1)
              for k in d["delay_days"]]
    inside = d["delay_days"] < 7
    fig = go.Figure(go.Bar(
        x=x, y=d["resubmissions"], width=0.9,
        marker_color=[theme.PALETTE[1] if i else theme.NEUTRAL for i in inside],
        customdata=labels, hovertemplate=_("%{customdata}: %{y:,} resubmissions") + "<extra></extra>",
    ))
    fig.add_vline(x=7, line_dash="dash", line_color=theme.INK, line_width=1.5,
                  annotation_text=_("7 days"), annotation_position="top right",
                  annotation_font_size=theme.font_sizes(presentation)["tick"])
    total = int(resubmissions) if resubmissions is not None else int(d["resubmissions"].sum())
    if within_7d is not None and total:
        title = (_("{share} of {who}'s {total} resubmissions came back within 7 days", who=who,
                   share=_pct(within_7d / total), total=fmt.Count(total)) if who else
                 _("{share} of the {total} resubmissions came back within 7 days", share=_pct(within_7d / total),
                   total=fmt.Count(total)))
    else:
        title = (_("Resubmission delay for {who} ({total} resubmissions)", who=who, total=fmt.Count(total)) if who
                 else _("Resubmission delay ({total} resubmissions)", total=fmt.Count(total)))
    if median_days is not None and not pd.isna(median_days):
        title += _(" · median {wait}", wait=fmt.Duration(median_days))
    top = int(d["delay_days"].max())
    fig.update_xaxes(range=[0, max(top + 1, 14) + 0.5], tickmode="array",
                     tickvals=[v for v in (0, 1, 2, 3, 7, 14, 30, 60, 90) if v <= max(top + 1, 14)],
                     ticktext=[("90+" if v == 90 else str(v)) for v in (0, 1, 2, 3, 7, 14, 30, 60, 90)
                               if v <= max(top + 1, 14)])
    return theme.style(fig, title=title, presentation=presentation, x_title=_("Days from rejection to resubmission"),
                       y_title=_("Resubmissions"), legend=False)


def outcomes_bar(df: pd.DataFrame, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Grouped bars: share of recycled vs first-pass leads reaching each stage, with counts.

    ``df`` is :func:`funnel.rejections.recycled_outcomes` (grp, leads, stage, reached, share).
    """
    _ = gettext_for(lang)
    if df is None or df.empty:
        return theme.empty_figure(_("No handed-off leads in this cohort — widen the date range"), presentation)
    stages = list(dict.fromkeys(df.sort_values("position")["stage"]))
    fig = go.Figure()
    colours = {FIRST_PASS_GROUP: theme.NEUTRAL, RECYCLED_GROUP: theme.PALETTE[1]}
    for grp in (FIRST_PASS_GROUP, RECYCLED_GROUP):
        sub = df[df["grp"] == grp].set_index("stage")
        if sub.empty:
            continue
        shares = [float(sub.loc[s, "share"]) if s in sub.index else 0.0 for s in stages]
        text = [_("{share} · {reached} of {leads}", share=_pct(sub.loc[s, "share"]),
                  reached=_n(sub.loc[s, "reached"], lang), leads=_n(sub.loc[s, "leads"], lang))
                if s in sub.index else "" for s in stages]
        name = _(GROUP_LABELS[grp])
        fig.add_bar(x=stages, y=shares, name=name, marker_color=colours.get(grp),
                    text=text, textposition="outside", cliponaxis=False,
                    hovertemplate=f"<b>{name}</b><br>%{{x}}: %{{text}}<extra></extra>")
    fig.update_layout(barmode="group")
    theme.pct_tick(fig, "y")
    fig.update_yaxes(range=[0, max(0.05, float(df["share"].max()) * 1.3)])
    first = df[(df["grp"] == FIRST_PASS_GROUP) & (df["stage"] == stages[0])]
    rec = df[(df["grp"] == RECYCLED_GROUP) & (df["stage"] == stages[0])]
    if len(first) and len(rec):
        title = _("Recycled leads reach {stage} {recycled} of the time, first-pass leads {first_pass}",
                  stage=str(stages[0]), recycled=_pct(rec["share"].iloc[0]), first_pass=_pct(first["share"].iloc[0]))
    elif len(rec):
        title = _("{share} of recycled leads went on to reach {stage}", share=_pct(rec["share"].iloc[0]),
                  stage=str(stages[0]))
    else:
        title = _("{share} of handed-off leads reach {stage}; none was rejected", share=_pct(first["share"].iloc[0]),
                  stage=str(stages[0]))
    return theme.style(fig, title=title, presentation=presentation, y_title=_("Share of leads"))


def loop_distribution_bar(df: pd.DataFrame, presentation: bool = False, lang: str = "en") -> go.Figure:
    """Handed-off leads by number of loops (hand-offs after the first).

    ``df`` is :func:`funnel.rejections.loop_distribution` (loops, leads, share).
    """
    _ = gettext_for(lang)
    if df is None or df.empty:
        return theme.empty_figure(_("No handed-off leads in this cohort — widen the date range"), presentation)
    d = df.sort_values("loops")
    fig = go.Figure(go.Bar(
        x=[ngettext_for(lang, "{n} loop", "{n} loops", int(k), n=int(k)) for k in d["loops"]], y=d["leads"],
        marker_color=[theme.NEUTRAL if k == 0 else theme.PALETTE[1] for k in d["loops"]],
        text=[f"{_n(n, lang)} · {_pct(s)}" for n, s in zip(d["leads"], d["share"])], textposition="outside",
        cliponaxis=False, hovertemplate=_("%{x}: %{y:,} leads") + "<extra></extra>",
    ))
    looped = d.loc[d["loops"] > 0, "leads"].sum()
    total = d["leads"].sum()
    title = (_("{share} of {total} handed-off leads looped", share=_pct(looped / total), total=fmt.Count(int(total)))
             if looped else _("None of {total} handed-off leads went round the loop", total=fmt.Count(int(total))))
    fig.update_yaxes(range=[0, float(d["leads"].max()) * 1.2])
    return theme.style(fig, title=title, presentation=presentation, y_title=_("Leads"), legend=False)
