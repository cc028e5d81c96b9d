"""The sentence under every page title names the cohort the figures count (issue #18): with the
as-of date moved back before the cohort's "to" date, the cohort ends at the as-of date (later leads
are not known yet, query.resolve) — the sentence said "Leads created … – 20 Nov 2026. Figures as
known at the end of 13 Nov 2026", as if leads of the week after counted."""
from __future__ import annotations

from conftest import assert_clean, run_app


def _scope_caption(at) -> str:
    return next(c.value for c in at.caption if "Leads created" in c.value or "线索创建于" in c.value)


def test_the_cohort_end_is_capped_at_the_as_of_date_and_says_so(sample_db):
    at = run_app(sample_db)
    last = at.date_input(key="as_of").value
    assert_clean(at)
    whole = _scope_caption(at)
    assert f"– {last:%d %b %Y}. Figures as known at the end of {last:%d %b %Y}." in whole
    assert "after it" not in whole

    at = run_app(sample_db, query={"as_of": "2026-11-13"})
    assert_clean(at)
    assert at.date_input(key="to").value == last          # the "to" date stays as chosen …
    caption = _scope_caption(at)
    # … and the sentence names the end the figures use, and the date asked for
    assert (f"– 13 Nov 2026 (the cohort ends at the as-of date; {last:%d %b %Y} is after it). "
            "Figures as known at the end of 13 Nov 2026.") in caption.replace("\\", "")


def test_the_capped_cohort_reads_in_chinese(sample_db):
    at = run_app(sample_db, query={"as_of": "2026-11-13", "lang": "zh"})
    assert_clean(at)
    caption = _scope_caption(at).replace("\\", "")
    assert "– 2026年11月13日（同期群截至统计日；" in caption and "在统计日之后）" in caption
