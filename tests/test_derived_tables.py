"""The derived tables after a stage edit or a rename equal a full rebuild (a stage edit rebuilds
only the tables that read the stage configuration; a rename updates names in place)."""
from __future__ import annotations

from funnel import store

COLUMNS = ("funnel", "stage", "position", "kind", "team", "probability", "category", "sla_hours")


def _snapshot(con) -> dict[str, list]:
    return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in store.DERIVED_TABLES}


def _rebuilt(con) -> dict[str, list]:
    store.refresh_derived(con)
    return _snapshot(con)


def _rows(con) -> list[dict]:
    return [{c: getattr(s, c) for c in COLUMNS} for f in ("lead", "opportunity") for s in store.stages(con, f)]


def test_rename_updates_the_derived_tables_in_place(sample_copy):
    con = store.connect(sample_copy)
    try:
        stamp = store.get_setting(con, "derived_stamp")
        store.rename_stage(con, "lead", "SAL", "Sales accepted")
        store.rename_stage(con, "opportunity", "Qualify", "Qualifying")   # the first stage: opening spans too
        assert store.get_setting(con, "derived_stamp") != stamp
        got = _snapshot(con)
        assert any("Sales accepted" in r for r in got["lead_visits"])
        assert any("Qualifying" in r for r in got["deal_history"])
        assert got == _rebuilt(con)
    finally:
        con.close()


def test_stage_edit_rebuilds_what_reads_the_stages(sample_copy):
    con = store.connect(sample_copy)
    try:
        rows = _rows(con)
        for r in rows:   # SAL no longer a funnel step: reach and deal positions change, visits do not
            if r["funnel"] == "lead" and r["stage"] == "SAL":
                r["position"], r["kind"] = None, "recycled"
            if r["funnel"] == "opportunity" and r["stage"] == "Qualify":
                r["position"] = 9
        before = _snapshot(con)
        store.save_stage_config(con, rows)
        got = _snapshot(con)
        assert got["lead_visits"] == before["lead_visits"]
        assert got["lead_reach"] != before["lead_reach"] and got["deal_history"] != before["deal_history"]
        assert got == _rebuilt(con)
    finally:
        con.close()
