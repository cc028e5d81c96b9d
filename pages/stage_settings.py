"""Stage settings: rename, reorder, add stages; probabilities, forecast categories, teams, SLAs."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from funnel import store

ui.page_header("Stage settings",
               "One definition of the funnel, used by every page: order, kind, owner, probability, category and SLA.")

KIND_HELP = ("open: a funnel step · won / lost: the end · rejected: sales refused the hand-off · "
             "recycled: back to marketing nurture")

with ui.guard("the stage settings"):
    cur = ui.con()
    current = {f: store.stages(cur, f) for f in ("lead", "opportunity")}
    counts = store.stage_event_counts(cur)
    cur.close()

    for funnel, label in (("lead", "Lead funnel"), ("opportunity", "Opportunity funnel")):
        st.subheader(label)
        df = pd.DataFrame([{
            "stage": s.stage, "position": s.position, "kind": s.kind, "team": s.team,
            "probability": None if s.probability is None else round(s.probability * 100, 1),
            "category": s.category, "sla_days": None if s.sla_hours is None else round(s.sla_hours / 24, 2),
            "events": counts.get((funnel, s.stage), 0),
        } for s in current[funnel]])
        if funnel == "lead":
            df = df.drop(columns=["probability", "category"])
        config = {
            "stage": st.column_config.TextColumn("Stage", help="Rename below: a rename also updates the history."),
            "position": st.column_config.NumberColumn("Position", min_value=1, step=1,
                                                      help="Order in the funnel; empty for side states (rejected, recycled, lost)."),
            "kind": st.column_config.SelectboxColumn("Kind", options=list(store.STAGE_KINDS), required=True, help=KIND_HELP),
            "team": st.column_config.SelectboxColumn("Owning team", options=["marketing", "sdr", "sales", "success"]),
            "probability": st.column_config.NumberColumn("Win probability %", min_value=0, max_value=100, step=1,
                                                         help="Used by the configured forecast method."),
            "category": st.column_config.SelectboxColumn("Forecast category", options=list(store.FORECAST_CATEGORIES)),
            "sla_days": st.column_config.NumberColumn("SLA (days)", min_value=0, step=0.5,
                                                      help="Time-in-stage target; visits longer than this are breaches."),
            "events": st.column_config.NumberColumn("Events using it", disabled=True),
        }
        if ui.presentation():
            st.dataframe(df, hide_index=True, width="stretch", column_config=config)
            continue
        edited = st.data_editor(df, key=f"stages_{funnel}", hide_index=True, width="stretch", num_rows="dynamic",
                                column_config=config, disabled=["events"])
        c1, c2, c3 = st.columns([1, 2, 2])
        if c1.button("Save changes", key=f"save_{funnel}", type="primary"):
            rows = []
            renamed = set(edited["stage"].astype(str)) - set(df["stage"].astype(str))
            if renamed and len(edited) == len(df):
                st.error("To rename a stage use the rename box, so its history is renamed too.")
            else:
                for rec in edited.to_dict("records"):
                    rows.append({"funnel": funnel, "stage": rec.get("stage"), "position": rec.get("position"),
                                 "kind": rec.get("kind"), "team": rec.get("team"),
                                 "probability": None if pd.isna(rec.get("probability", None)) else float(rec["probability"]) / 100,
                                 "category": rec.get("category"),
                                 "sla_hours": None if pd.isna(rec.get("sla_days")) else float(rec["sla_days"]) * 24})
                other = "opportunity" if funnel == "lead" else "lead"
                rows += [{"funnel": other, **{k: getattr(s, k) for k in
                          ("stage", "position", "kind", "team", "probability", "category", "sla_hours")}}
                         for s in current[other]]
                with ui.guard("saving the stages"), ui.writer() as w:
                    store.save_stage_config(w, rows)
                    ui.after_write()
                    st.toast("Stages saved: every page now uses them.")
                    st.rerun()
        with c2.popover("Rename a stage"):
            old = st.selectbox("Stage", [s.stage for s in current[funnel]], key=f"rn_old_{funnel}")
            new = st.text_input("New name", key=f"rn_new_{funnel}")
            if st.button("Rename", key=f"rn_go_{funnel}"):
                with ui.guard("renaming the stage"), ui.writer() as w:
                    store.rename_stage(w, funnel, old, new)
                    ui.after_write()
                    st.rerun()
        if funnel == "opportunity" and c3.button("Reset stages to defaults", key="reset_stages"):
            with ui.guard("resetting the stages"), ui.writer() as w:
                rows = [dict(zip(("funnel", "stage", "position", "kind", "team", "probability", "category", "sla_hours"), r))
                        for r in store.DEFAULT_STAGES]
                store.save_stage_config(w, rows)
                ui.after_write()
                st.rerun()

    st.caption("Rules: each funnel has exactly one 'won' stage; probabilities lie between 0 and 100%; "
               "a stage that events use cannot be deleted — rename it instead. Imports map their own stage names onto these.")
