"""One look for every chart: Okabe–Ito colour-blind-safe palette, readable fonts, big in
presentation mode (1920×1080 on a projector, read from the back of the room)."""
from __future__ import annotations

import textwrap
import unicodedata

import plotly.graph_objects as go

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
GOOD, BAD, NEUTRAL, MUTED = "#009E73", "#D55E00", "#0072B2", "#9AA5B1"
INK = "#1B1F24"

# CJK faces last: Latin text keeps its face, Chinese finds glyphs (Debian: fonts-noto-cjk).
FONT = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"


def font_sizes(presentation: bool) -> dict:
    return {"base": 22, "title": 28, "tick": 20, "legend": 20} if presentation else \
           {"base": 14, "title": 18, "tick": 13, "legend": 13}


# Characters of a title per line before it wraps in presentation mode: what the narrowest chart
# holds on the smallest projector screen, 1280×720 — a third of the page, about 460 px, at 28 px,
# where a character is about 0.45 em (measured in Chromium; a Chinese character counts as two).
# Normal mode does not wrap unless asked: its 18 px titles fit a half-width chart up to about 70
# characters.
PRESENTATION_TITLE_CHARS = 36

# The narrowest plot area a legend is drawn over (a half-width chart at 1280 px less its y axis; in
# normal mode beside the sidebar; a Chinese money axis's ticks, "US$80万", take ~60 px of it): the
# horizontal legend is assumed to wrap as it would there.
NARROWEST_PLOT_PX = {True: 340, False: 300}


def _display_width(text: str) -> int:
    """Width in Latin characters: a Chinese character is about as wide as two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _wrap_cjk(title: str, width: int) -> str:
    """A title with Chinese text has few spaces: break after its punctuation (，；：、) or between
    two Chinese characters, as balanced as possible, each line at most ``width`` wide."""
    lines, rest = [], title
    while _display_width(rest) > width:
        n_lines = -(-_display_width(rest) // width)
        target = _display_width(rest) / n_lines
        best, best_score = None, None
        for i in range(1, len(rest)):
            head_w = _display_width(rest[:i])
            if head_w > width:
                break
            a, b = rest[i - 1], rest[i]
            # a space breaks too, but never between a figure and its unit ("2 天")
            after_punct = a in "，；：、。）" or (a == " " and i >= 2 and not rest[i - 2].isdigit())
            between_cjk = _display_width(a) == 2 and _display_width(b) == 2 and b not in "，；：、。）"
            if after_punct or between_cjk:
                score = abs(head_w - target) - (4 if after_punct else 0)
                if best_score is None or score < best_score:
                    best, best_score = i, score
        if best is None:
            break
        lines.append(rest[:best].rstrip())
        rest = rest[best:].lstrip()
    return "<br>".join(lines + [rest])


def wrap_title(title: str, width: int) -> str:
    """Break a long title into lines of at most ``width`` characters (Plotly never wraps titles;
    a long one is cut off at the chart's edge): as few lines as possible, of about equal length,
    preferring a break after "; " or ": " when that keeps the lines balanced. Chinese characters
    count twice (:func:`_wrap_cjk`)."""
    if not title or "<br>" in title:
        return title
    if _display_width(title) != len(title):
        return _wrap_cjk(title, width) if _display_width(title) > width else title
    if len(title) <= width:
        return title
    for sep in ("; ", ": ", " — "):
        head, found, tail = title.partition(sep)
        head = head + sep.rstrip()
        if found and width * 0.4 <= len(head) <= width and len(tail) <= width:
            return f"{head}<br>{tail}"
    lines = len(textwrap.wrap(title, width=width, break_long_words=False))
    for w in range(-(-len(title) // lines), width + 1):      # the narrowest width that needs no more lines
        wrapped = textwrap.wrap(title, width=w, break_long_words=False)
        if len(wrapped) <= lines:
            return "<br>".join(wrapped)
    return "<br>".join(textwrap.wrap(title, width=width, break_long_words=False))


def legend_entries(fig: go.Figure) -> list[str]:
    """The names a figure's legend lists (traces shown in it; one entry per legend group)."""
    names, groups = [], set()
    for t in fig.data:
        if t.type in ("sankey", "table", "indicator") or getattr(t, "showlegend", None) is False:
            continue
        name = getattr(t, "name", None)
        group = getattr(t, "legendgroup", None)
        if not name or (group and group in groups):
            continue
        groups.add(group)
        names.append(str(name))
    return names


def notes_above(fig: go.Figure) -> bool:
    """Does a note (an annotation, e.g. a reference line's label) sit on top of the plot area, in the
    band the title hangs over?"""
    for a in fig.layout.annotations or ():
        yref = a.yref or "paper"
        if (yref == "paper" or yref.endswith("domain")) and a.y is not None and a.y >= 1 and a.yanchor == "bottom":
            return True
    return False


def legend_rows(names: list[str], presentation: bool, width_px: int | None = None) -> int:
    """Rows a horizontal legend of ``names`` takes on a chart ``width_px`` wide (default: the
    narrowest one it is drawn on). Plotly puts entries left to right and starts a row when the next
    one does not fit; an entry is its symbol (about 40 px) and its text (about 0.6 em a character, a
    Chinese one twice that) — estimated on the wide side, so the room left is never too small."""
    if not names:
        return 0
    width_px = width_px or NARROWEST_PLOT_PX[presentation]
    size = font_sizes(presentation)["legend"]
    rows, used = 1, 0.0
    for name in names:
        entry = 40 + _display_width(name) * size * 0.6
        if used and used + entry > width_px:
            rows, used = rows + 1, 0.0
        used += entry
    return rows


def top_margin(title: str | None, presentation: bool, legend: bool | int) -> int:
    """Room above the plot for the title's lines and, below them, a horizontal legend of
    ``legend`` rows (``True``: one). The legend grows upwards from the plot, the title hangs from the
    figure's top: with this much room the two never meet."""
    s = font_sizes(presentation)
    rows = int(legend)
    legend_px = s["legend"] * (1.5 * rows + 0.7) if rows else 0
    if not title:
        return int(20 + legend_px)
    lines = title.count("<br>") + 1
    # A title of two or more lines is padded down by the lift style() gives it (0.9 em): room for it too.
    lift = s["title"] * 0.9 if lines > 1 else 0
    return int(20 + lift + lines * s["title"] * 1.35 + legend_px)


def style(fig: go.Figure, *, title: str | None = None, presentation: bool = False,
          x_title: str | None = None, y_title: str | None = None, height: int | None = None,
          legend: bool = True, title_chars: int | None = None, plot_height: int | None = None) -> go.Figure:
    """``title_chars``: wrap the title at this many characters (default: in presentation mode what
    a half-width chart holds, ``PRESENTATION_TITLE_CHARS``; in normal mode no wrapping).
    ``plot_height`` (instead of ``height``): the room below the title and legend — a chart whose
    height follows its rows keeps it however many lines the title wraps to."""
    s = font_sizes(presentation)
    width = title_chars or (PRESENTATION_TITLE_CHARS if presentation else None)
    title = wrap_title(title, width) if title and width else title
    top = top_margin(title, presentation, (legend_rows(legend_entries(fig), presentation) if legend else 0)
                     + notes_above(fig))
    height = (plot_height + top) if plot_height else (height or (560 if presentation else 420))
    # With yanchor "top", Plotly lifts a title of two or more lines by about 0.9 em (its first line
    # would start above the figure: measured in Chromium, plotly.js 3 and 4) and hangs the rest below
    # it. A top padding of that much puts it back; a padding, not a lower y, so a chart that moves the
    # title (scoring's subtitle) keeps it.
    lift = round(s["title"] * 0.9) if title and "<br>" in title else 0
    title_y = 1 - 12 / height
    fig.update_layout(
        template="plotly_white",
        colorway=PALETTE,
        font={"family": FONT, "size": s["base"], "color": INK},
        # Pinned to the top of the figure, so a legend below it never runs into it.
        title={"text": title, "font": {"size": s["title"]}, "x": 0, "xanchor": "left", "pad": {"l": 4, "t": lift},
               "y": title_y, "yref": "container", "yanchor": "top"} if title else None,
        # A note above the plot takes a row of the legend's band (it sits where the legend's last row does).
        margin={"l": 10, "r": 10, "b": 10, "t": top},
        legend={"font": {"size": s["legend"]}, "orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        showlegend=legend,
        height=height,
        hoverlabel={"font": {"size": s["base"]}},
    )
    fig.update_xaxes(title_text=x_title, tickfont={"size": s["tick"]}, title_font={"size": s["base"]},
                     showgrid=False, automargin=True)
    fig.update_yaxes(title_text=y_title, tickfont={"size": s["tick"]}, title_font={"size": s["base"]},
                     gridcolor="#E5E8EC", automargin=True)
    return fig


def empty_figure(message: str, presentation: bool = False) -> go.Figure:
    """A chart-sized note instead of a blank plot: says why there is nothing and what to do."""
    fig = go.Figure()
    fig.add_annotation(text=wrap_title(message, 60 if presentation else 90), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": font_sizes(presentation)["title"], "color": MUTED})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, presentation=presentation, legend=False, height=260)


def money_tick(fig: go.Figure, axis: str = "y", currency: str = "$") -> go.Figure:
    """SI-style money ticks ($1.2M, $350k)."""
    getattr(fig, f"update_{axis}axes")(tickprefix=currency, tickformat="~s")
    return fig


def pct_tick(fig: go.Figure, axis: str = "y") -> go.Figure:
    getattr(fig, f"update_{axis}axes")(tickformat=".0%")
    return fig
