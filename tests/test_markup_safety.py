"""Values from imported data are text, never markup (issue #15): Markdown escaping, Plotly
text escaping, CSV formula neutralisation, download file names. The real-browser check of every
page with such data is tests/test_markup_safety_browser.py."""
from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, strategies as st

from funnel import markup

HOSTILE = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    "[Session expired - sign in again](https://evil.example/login)",
    "![pixel](https://evil.example/p.png)",
    '=HYPERLINK("https://evil.example","click")',
    "<a href=https://evil.example style='position:fixed'>Sign in</a>",
    "www.evil.example and https://evil.example",
    "- a list? # a heading?",
    "1. numbered",
    "$x^2$ ~strike~ **bold** _it_ `code`",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_reads_back_as_the_same_text(text):
    assert markup.md_plain(markup.md_text(text)) == text


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_leaves_no_markdown_syntax_unescaped(text):
    escaped = markup.md_text(text)
    # every bracket, angle bracket, emphasis and LaTeX sign is preceded by a backslash
    for ch in "[]<>*_`$~!":
        for i, c in enumerate(escaped):
            if c == ch:
                assert escaped[i - 1] == "\\", (ch, escaped)
    # no autolink pattern left: Streamlit links "https://", "www." and "a@b" even when escaped
    assert "https://" not in escaped and "www." not in escaped
    assert escaped.count("@") == escaped.count("\u2060\\@")


@given(st.text(max_size=60))
def test_md_text_round_trips_any_single_line(text):
    one_line = " ".join(text.replace("\u2060", "").splitlines())   # md_text drops word joiners
    assert markup.md_plain(markup.md_text(text)) == one_line


def test_md_text_of_a_markdown_renderer_is_the_literal_text():
    """Checked against a CommonMark renderer: Streamlit's frontend uses one too. The rendered HTML
    holds no tag but the paragraph."""
    mdit = pytest.importorskip("markdown_it", reason="markdown-it-py (a Streamlit dependency via rich) is missing")
    md = mdit.MarkdownIt("commonmark")
    import html as html_mod
    import re

    for text in HOSTILE:
        rendered = md.render(markup.md_text(text)).strip()
        assert re.fullmatch(r"<p>.*</p>", rendered, flags=re.S), rendered
        inner = rendered[3:-4]
        assert "<" not in inner, rendered                      # no element inside the paragraph
        assert html_mod.unescape(inner) == text


def test_csv_safe_neutralises_formulas_and_keeps_numbers():
    df = pd.DataFrame({"name": ['=HYPERLINK("https://evil.example")', "+1 555", "-x", "@SUM(A1)", "plain", None],
                       "amount": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0],
                       "count": [-1, 2, 3, 4, 5, 6]})
    out = pd.read_csv(io.BytesIO(markup.to_csv_bytes(df)), keep_default_na=False)
    assert out["name"].tolist() == ["'=HYPERLINK(\"https://evil.example\")", "'+1 555", "'-x", "'@SUM(A1)", "plain", ""]
    assert out["amount"].tolist() == [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0]       # numbers stay numbers
    assert out["count"].tolist() == [-1, 2, 3, 4, 5, 6]
    assert df["name"][0].startswith("=")                                  # the caller's frame is untouched


def test_csv_safe_neutralises_a_header_from_the_data():
    df = pd.DataFrame({"=cmd|' /C calc'!A0": [1]})
    assert markup.to_csv_bytes(df).decode().splitlines()[0] == "'=cmd|' /C calc'!A0"


def test_plain_figure_escapes_data_text_and_keeps_numbers():
    fig = go.Figure(go.Bar(x=["<img src=x onerror=alert(1)>", "ok"], y=[3, 4], name="<a href=x>ch</a>",
                           customdata=[["<b>x</b>", 1], ["y", 2]], hovertemplate="%{customdata[0]}<br>%{y}"))
    fig.update_layout(title="Conversion<br>by channel", annotations=[dict(text="<a href='https://e'>go</a><br>ok")])
    out = markup.plain_figure(fig)
    bar = out.data[0]
    assert list(bar.x) == ["&lt;img src=x onerror=alert(1)&gt;", "ok"]
    assert list(bar.y) == [3, 4]
    assert bar.name == "&lt;a href=x&gt;ch&lt;/a&gt;"
    assert [list(r) for r in bar.customdata] == [["&lt;b&gt;x&lt;/b&gt;", 1], ["y", 2]]
    assert bar.hovertemplate == "%{customdata[0]}<br>%{y}"      # the builder's own template is kept
    assert out.layout.title.text == "Conversion<br>by channel"
    assert out.layout.annotations[0].text == "&lt;a href='https://e'&gt;go&lt;/a&gt;<br>ok"
    assert list(fig.data[0].x)[0].startswith("<img")           # the input figure is untouched


def test_plain_figure_keeps_a_builders_line_break_between_data_parts():
    """Regression: 'MQL<br>(KM: over half still there)' was drawn as 'MQL&lt;br&gt;(KM…' once every
    category was escaped; a line break cannot run or link anything, so it stays one."""
    fig = go.Figure(go.Bar(y=["MQL<br>(KM: over half still there)", "<a href=x>SAL</a><br>x"], x=[1, 2],
                           text=["12%<br>3 of 25", "ok"]))
    bar = markup.plain_figure(fig).data[0]
    assert list(bar.y) == ["MQL<br>(KM: over half still there)", "&lt;a href=x&gt;SAL&lt;/a&gt;<br>x"]
    assert list(bar.text) == ["12%<br>3 of 25", "ok"]


def test_plain_figure_escapes_sankey_labels():
    fig = go.Figure(go.Sankey(node=dict(label=["<script>x</script>", "MQL"]),
                              link=dict(source=[0], target=[1], value=[1])))
    assert list(markup.plain_figure(fig).data[0].node.label) == ["&lt;script&gt;x&lt;/script&gt;", "MQL"]


def test_file_name_keeps_only_safe_characters():
    assert markup.file_name("conversion_by_<script>/../../x", ".csv") == "conversion_by_-script-..-..-x.csv"
    assert markup.file_name("", ".csv") == "download.csv"


def test_page_header_finding_was_raw_html_regression():
    """The finding under each page title was written with unsafe_allow_html: a channel named
    ``<a href=… style="position:fixed">`` covered the page. ui.page_header must not enable HTML."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parents[1] / "ui.py").read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "page_header")
    flags = [k for n in ast.walk(fn) if isinstance(n, ast.Call) for k in n.keywords if k.arg == "unsafe_allow_html"]
    assert not flags
