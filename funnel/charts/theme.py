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
    return {"base": 22, "title": 30, "tick": 20, "legend": 20} if presentation else \
           {"base": 14, "title": 18, "tick": 13, "legend": 13}


# Characters of a title per line before it wraps in presentation mode: what a half-width chart (two
# side by side) holds at 1920 px — about 840 px at 30 px bold (about 60 characters, measured). Normal mode does not wrap unless asked:
# its 18 px titles fit a half-width chart up to about 70 characters.
PRESENTATION_TITLE_CHARS = 56


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


def top_margin(title: str | None, presentation: bool, legend: bool) -> int:
    """Room above the plot for the title's lines and, below them, a horizontal legend."""
    s = font_sizes(presentation)
    if not title:
        return 20 + (int(s["legend"] * 1.8) if legend else 0)
    lines = title.count("<br>") + 1
    return int(20 + lines * s["title"] * 1.35 + (s["legend"] * 2.2 if legend else 0))


def style(fig: go.Figure, *, title: str | None = None, presentation: bool = False,
          x_title: str | None = None, y_title: str | None = None, height: int | None = None,
          legend: bool = True, title_chars: int | None = None) -> go.Figure:
    """``title_chars``: wrap the title at this many characters (default: in presentation mode what
    a half-width chart holds, ``PRESENTATION_TITLE_CHARS``; in normal mode no wrapping)."""
    s = font_sizes(presentation)
    width = title_chars or (PRESENTATION_TITLE_CHARS if presentation else None)
    title = wrap_title(title, width) if title and width else title
    height = height or (560 if presentation else 420)
    # Plotly anchors a multi-line title by its first line, so with yanchor "top" the lines above the
    # last run off the top of the figure: move it down by the extra lines (measured in Chromium).
    extra_lines = title.count("<br>") if title else 0
    title_y = 1 - (12 + extra_lines * s["title"] * 1.3) / height
    fig.update_layout(
        template="plotly_white",
        colorway=PALETTE,
        font={"family": FONT, "size": s["base"], "color": INK},
        # Pinned to the top of the figure, so a legend below it never runs into it.
        title={"text": title, "font": {"size": s["title"]}, "x": 0, "xanchor": "left", "pad": {"l": 4},
               "y": title_y, "yref": "container", "yanchor": "top"} if title else None,
        margin={"l": 10, "r": 10, "t": top_margin(title, presentation, legend), "b": 10},
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
