"""``python -m funnel review --html OUT [--as-of D]``: the weekly review with the targets as one file."""
from __future__ import annotations

import html
from datetime import date

from funnel.access import Actor
from funnel import store, targets
from funnel.__main__ import main
from funnel.query import Scope


def test_review_html_has_targets_plan_and_calls(sample_copy, tmp_path, capsys):
    con = store.connect(sample_copy)
    targets.record_call(con, "2026-10", "", commit_amount=100000.0, note="October call", scope=Scope(as_of=date(2026, 10, 20)),
                        actor=Actor("maria", "editor"))
    want = targets.target_figures(con, Scope(as_of=date(2026, 10, 20)),
                                  targets=targets.stored_targets(con).query("period == '2026-10' and owner == ''"))
    con.close()
    out = tmp_path / "review.html"
    assert main(["review", "--db", str(sample_copy), "--html", str(out), "--as-of", "2026-10-20"]) == 0
    text = html.unescape(out.read_text(encoding="utf-8"))
    assert "Weekly review — week ending 20 Oct 2026" in text
    assert "Target, October 2026" in text and "Target, Q4 2026" in text and "Target, Q1 2027" in text
    assert f"{want['p_hit'].iloc[0] * 100:.0f}% chance of hitting" in text
    gap = want["gap"].iloc[0]
    # the plan's sentence for the month's gap (or that there is none)
    assert ("we need about" in text) if gap > 0 else ("There is no gap to close in October 2026" in text)
    assert "The manager's calls" in text and "October call" in text and "maria" in text
    assert "<script src=" not in text and "plotly.js v" in text.lower()   # Plotly inlined: opens offline


def test_review_without_database_is_one_sentence(tmp_path, capsys):
    assert main(["review", "--db", str(tmp_path / "none.duckdb"), "--html", str(tmp_path / "r.html")]) == 2
    assert "There is no database" in capsys.readouterr().err
