"""The chart theme's room above the plot (issue #18): a wrapped title, a legend that wraps into
rows and a note on top of the plot each get their own band, so none is drawn over another. The
browser check of the same at four screen sizes is tests/test_browser_presentation_fit.py."""
from __future__ import annotations

import plotly.graph_objects as go

from funnel.charts import theme


def _bars(*names: str) -> go.Figure:
    fig = go.Figure()
    for n in names:
        fig.add_trace(go.Bar(x=["a"], y=[1], name=n))
    return fig


def test_legend_rows_follow_the_narrowest_plot():
    # presentation: 20 px legend text, an entry is 40 px + 12 px a character, 400 px a row
    assert theme.legend_rows([], True) == 0
    assert theme.legend_rows(["Won", "Lost"], True) == 1                       # 76 + 88 px
    # 304 + 184 > 400 and 184 + 220 > 400: a row each (as drawn at 1280×720, the forecast's range chart)
    assert theme.legend_rows(["Likely range (P10–P90)", "Median (P50)", "Weighted amount"], True) == 3
    assert theme.legend_rows(["Median (P50)", "Won"], True) == 1                     # 184 + 76
    assert theme.legend_rows(["Likely range (P10–P90)", "Median (P50)", "Weighted amount"], True, 2000) == 1
    # a Chinese character counts as two Latin ones: 8 of them is 40 + 16 × 12 = 232 px
    assert theme.legend_rows(["首次通过从未退回", "回收至少退回一次"], True) == 2


def test_legend_entries_skip_hidden_traces_and_repeated_groups():
    fig = _bars("Lead", "MQL")
    fig.add_trace(go.Scatter(x=[1], y=[1], name="Lead (so far)", legendgroup="Lead", showlegend=False))
    fig.add_trace(go.Scatter(x=[1], y=[1], name="SQL", legendgroup="SQL"))
    fig.add_trace(go.Scatter(x=[1], y=[1], name="SQL again", legendgroup="SQL"))
    assert theme.legend_entries(fig) == ["Lead", "MQL", "SQL"]


def test_a_legend_that_wraps_gets_the_rows_it_needs():
    one_row = theme.style(_bars("Won", "Lost"), title="Won and lost", presentation=True)
    four_long = theme.style(_bars("Closed", "Commit + Closed", "Best case + Commit + Closed", "Pipeline (all open + Closed)"),
                            title="Won and lost", presentation=True)
    rows = theme.legend_rows(theme.legend_entries(four_long), True)
    assert rows >= 3
    assert four_long.layout.margin.t - one_row.layout.margin.t == int(20 + 28 * 1.35 + 20 * (1.5 * rows + 0.7)) \
        - int(20 + 28 * 1.35 + 20 * 2.2)
    no_legend = theme.style(_bars("Closed", "Commit + Closed"), title="Won and lost", presentation=True, legend=False)
    assert no_legend.layout.margin.t == int(20 + 28 * 1.35)


def test_a_note_on_top_of_the_plot_gets_a_row_under_the_title():
    plain = theme.style(_bars("Rate"), title="AE Marcus Reid: 58% rejected, 2.6× the team rate", presentation=True,
                        legend=False)
    noted = _bars("Rate")
    noted.add_vline(x=0, annotation_text="team 22%", annotation_position="top")
    assert theme.notes_above(noted)
    noted = theme.style(noted, title="AE Marcus Reid: 58% rejected, 2.6× the team rate", presentation=True, legend=False)
    assert noted.layout.margin.t - plain.layout.margin.t == int(20 * 2.2)
    inside = _bars("Rate")
    inside.add_hline(y=0.5, annotation_text="half have left", annotation_position="top right")   # inside the plot
    inside.add_vline(x=0, annotation_text="7 days", annotation_position="top right")              # hangs inside
    assert not theme.notes_above(inside)


def test_a_wrapped_title_is_padded_down_not_moved():
    """Plotly lifts a title of two or more lines by about 0.9 em when it hangs from the top; the
    padding puts its first line back inside the figure, also when a chart sets the title's y itself."""
    one = theme.style(go.Figure(), title="Short", presentation=True)
    two = theme.style(go.Figure(), title="The open pipeline grew by $735k; biggest move: new deals (+$2.53M)",
                      presentation=True)
    assert "<br>" in two.layout.title.text and "<br>" not in one.layout.title.text
    assert one.layout.title.pad.t == 0 and two.layout.title.pad.t == round(28 * 0.9)
    assert one.layout.title.y == two.layout.title.y == 1 - 12 / 560
    two.update_layout(title_y=0.98, title_yanchor="top")          # what scoring's subtitle chart does
    assert two.layout.title.pad.t == round(28 * 0.9)


def test_presentation_titles_wrap_for_the_narrowest_chart():
    title = "Recycled misses its target most often: 69% of visits"     # ran off a 1280 px chart at 56
    lines = theme.style(go.Figure(), title=title, presentation=True).layout.title.text.split("<br>")
    assert len(lines) == 2 and all(len(line) <= theme.PRESENTATION_TITLE_CHARS for line in lines)
    assert theme.style(go.Figure(), title=title).layout.title.text == title             # normal mode: as is
