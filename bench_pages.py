"""Page render timings for ``python -m funnel bench``: the Streamlit half of the benchmark.

It lives beside app.py, not in funnel/, because the library never imports Streamlit. funnel.bench
runs it as a child process (``python bench_pages.py SPEC.json``) so its memory peak is its own.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import streamlit as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from funnel.bench import _PeakSampler

ROOT = Path(__file__).resolve().parent


def _pages_task(db: str, pages: list[str], runs: int, timeout: float) -> dict:
    """Render each page with AppTest: cold (figure cache cleared first) ``runs`` times, then warm."""
    os.environ["FUNNEL_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    st_config.set_option("client.showErrorDetails", "full")  # name a page's error instead of "redacted"
    with _PeakSampler() as s:
        t0 = time.perf_counter()
        at.run()  # opens the connection and renders the default page: what the first visitor waits for
        entry = time.perf_counter() - t0
    out = {"entry_ms": round(entry * 1000, 1), "entry_peak_mb": round(s.peak, 1), "pages": []}
    for page in pages:
        cold, peak, errors = [], 0.0, []
        for _ in range(max(1, runs)):
            st.cache_data.clear()
            at.switch_page(page)
            with _PeakSampler() as s:
                t0 = time.perf_counter()
                at.run()
                cold.append((time.perf_counter() - t0) * 1000)
            peak = max(peak, s.peak)
            errors += [str(e.message)[:200] for e in at.exception] + [str(e.value)[:200] for e in at.error]
        with _PeakSampler() as s:
            t0 = time.perf_counter()
            at.run()
            warm = (time.perf_counter() - t0) * 1000
        out["pages"].append({"name": page, "median_ms": round(statistics.median(cold), 1),
                             "warm_ms": round(warm, 1), "peak_mb": round(max(peak, s.peak), 1),
                             "errors": sorted(set(errors))})
    return out


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = _pages_task(**spec["kwargs"])
    Path(spec["out"]).write_text(json.dumps(result, default=str))
