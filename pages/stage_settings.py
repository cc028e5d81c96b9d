"""Stage settings: rename, reorder, add stages; probabilities, forecast categories, teams, SLAs."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from funnel import fmt, store
from funnel.i18n import N_
from i18n_ui import _, currency, fmt_money, lang

ui.page_header(_("Stage settings"),
               _("One definition of the funnel, used by every page: order, kind, owner, probability, category and SLA."))

#: Codes stored in stage_config, and how a reader reads them (English: as funnel.labels.readable gave).
KINDS = {"open": N_("Open"), "won": N_("Won"), "lost": N_("Lost"), "rejected": N_("Rejected"),
         "recycled": N_("Recycled")}
TEAMS = {"marketing": N_("Marketing"), "sdr": "SDR", "sales": N_("Sales"), "success": N_("Success")}
CATEGORIES = {"pipeline": N_("Pipeline"), "best_case": N_("Best case"), "commit": N_("Commit"), "closed": N_("Closed"),
              "omitted": N_("Omitted")}
FUNNELS = {"lead": N_("Lead funnel"), "opportunity": N_("Opportunity funnel")}
#: "… must be a number (or blank)" per column, so each language can word it whole.
NOT_A_NUMBER = {"position": N_("Stage '{stage}': the position must be a number (or blank), not '{text}'."),
                "probability": N_("Stage '{stage}': the win probability must be a number (or blank), not '{text}'."),
                "sla_days": N_("Stage '{stage}': the SLA must be a number (or blank), not '{text}'.")}

KIND_HELP = _("{open}: a funnel step · {won} / {lost}: the end · {rejected}: sales refused the hand-off · "
              "{recycled}: back to marketing nurture", **{k: _(v) for k, v in KINDS.items()})


def _label(labels: dict, code) -> str:
    """A code as the reader reads it (an unknown code from an older database: as it is)."""
    return _(labels[code]) if code in labels else str(code)


def _cell(x, digits: int | None = None) -> str:
    """A number as editable text; empty (not "None") when there is none — a side state has no
    position, a final stage no time target."""
    if x is None or pd.isna(x):
        return ""
    x = float(x)
    return str(int(x)) if digits is None or x == int(x) else f"{x:.{digits}f}".rstrip("0").rstrip(".")


def _number(text, column: str, stage) -> float | None:
    """The number typed in a cell (blank → none); a ValueError names the stage and column."""
    if text is None or (not isinstance(text, str) and pd.isna(text)) or not str(text).strip():
        return None
    try:
        return float(str(text).strip().replace(",", "."))
    except ValueError:
        raise ValueError(_(NOT_A_NUMBER[column], stage=stage, text=text)) from None


# The "nothing chosen" option of a selectbox cell: an empty or missing value would read "None".
NONE = "-"


def _choice(x):
    return NONE if x is None or (not isinstance(x, str) and pd.isna(x)) or x == "" else x


def _chosen(x):
    """The code chosen in a selectbox cell, None for the "nothing" option."""
    x = _choice(x)
    return None if x == NONE else x

with ui.guard(_("the stage settings")):
    cur = ui.con()
    current = {f: store.stages(cur, f) for f in ("lead", "opportunity")}
    counts = store.stage_event_counts(cur)
    cur.close()

    for funnel in ("lead", "opportunity"):
        st.subheader(_(FUNNELS[funnel]))
        # Numbers are shown as text so a missing one is a blank cell, not "None"; codes (sdr,
        # best_case) are shown as labels (SDR, Best case) and stored as codes.
        df = pd.DataFrame([{
            "stage": s.stage, "position": _cell(s.position), "kind": s.kind, "team": _choice(s.team),
            "probability": "" if s.probability is None else _cell(s.probability * 100, 1),
            "category": _choice(s.category), "sla_days": "" if s.sla_hours is None else _cell(s.sla_hours / 24, 2),
            "events": counts.get((funnel, s.stage), 0),
        } for s in current[funnel]])
        if funnel == "lead":
            df = df.drop(columns=["probability", "category"])
        config = {
            "stage": st.column_config.TextColumn(_("Stage"), help=_("Rename below: a rename also updates the history.")),
            "position": st.column_config.TextColumn(_("Position"), alignment="right", validate=r"^\s*\d*\s*$",
                                                    help=_("Order in the funnel (1, 2, 3 …); blank for side states "
                                                           "(rejected, recycled, lost).")),
            "kind": st.column_config.SelectboxColumn(_("Kind"), options=list(store.STAGE_KINDS), required=True,
                                                     format_func=lambda c: _label(KINDS, c), help=KIND_HELP),
            "team": st.column_config.SelectboxColumn(_("Owning team"), options=[NONE, *TEAMS],
                                                     format_func=lambda c: _("no team") if c == NONE
                                                     else _label(TEAMS, c)),
            "probability": st.column_config.TextColumn(_("Win probability %"), alignment="right",
                                                       validate=r"^\s*(\d+([.,]\d*)?)?\s*$",
                                                       help=_("0–100. Used by the configured forecast method; blank "
                                                              "for lead stages.")),
            "category": st.column_config.SelectboxColumn(_("Forecast category"),
                                                         options=[NONE, *store.FORECAST_CATEGORIES],
                                                         format_func=lambda c: _("no category") if c == NONE
                                                         else _label(CATEGORIES, c),
                                                         help=_("Which forecast roll-up an open deal in this stage "
                                                                "counts in (Forecast page); blank for none.")),
            "sla_days": st.column_config.TextColumn(_("SLA (days)"), alignment="right",
                                                    validate=r"^\s*(\d+([.,]\d*)?)?\s*$",
                                                    help=_("Time-in-stage target; visits longer than this are "
                                                           "breaches. Blank: no target.")),
            "events": st.column_config.NumberColumn(_("Events using it"), disabled=True, format="localized"),
        }
        if ui.presentation() or not ui.can("edit"):   # viewers: the settings, no control to change them
            ui.dataframe(df, hide_index=True, width="stretch", column_config=config)
            continue
        edited = ui.data_editor(df, key=f"stages_{funnel}", hide_index=True, width="stretch", num_rows="dynamic",
                                column_config=config, disabled=["events"])
        c1, c2, c3 = st.columns([1, 2, 2])
        if c1.button(_("Save changes"), key=f"save_{funnel}", type="primary"):
            rows = []
            renamed = set(edited["stage"].astype(str)) - set(df["stage"].astype(str))
            if renamed and len(edited) == len(df):
                st.error(_("To rename a stage use the rename box, so its history is renamed too."))
            else:
                try:
                    for rec in edited.to_dict("records"):
                        stage = rec.get("stage")
                        position = _number(rec.get("position"), "position", stage)
                        probability = _number(rec.get("probability"), "probability", stage)
                        sla_days = _number(rec.get("sla_days"), "sla_days", stage)
                        rows.append({"funnel": funnel, "stage": stage,
                                     "position": None if position is None else int(position),
                                     "kind": rec.get("kind"), "team": _chosen(rec.get("team")),
                                     "probability": None if probability is None else probability / 100,
                                     "category": _chosen(rec.get("category")),
                                     "sla_hours": None if sla_days is None else sla_days * 24})
                except ValueError as e:
                    st.error(ui.md(str(e)))
                    rows = None
                if rows is not None:
                    other = "opportunity" if funnel == "lead" else "lead"
                    rows += [{"funnel": other, **{k: getattr(s, k) for k in
                              ("stage", "position", "kind", "team", "probability", "category", "sla_hours")}}
                             for s in current[other]]
                    with ui.guard(_("saving the stages")), ui.writer() as w:
                        store.save_stage_config(w, rows, actor=ui.current_actor())
                        ui.after_write()
                        st.toast(_("Stages saved: every page now uses them."))
                        st.rerun()
        with c2.popover(_("Rename a stage")):
            old = st.selectbox(_("Stage"), [s.stage for s in current[funnel]], key=f"rn_old_{funnel}")
            new = st.text_input(_("New name"), key=f"rn_new_{funnel}")
            if st.button(_("Rename"), key=f"rn_go_{funnel}"):
                with ui.guard(_("renaming the stage")), ui.writer() as w:
                    store.rename_stage(w, funnel, old, new, actor=ui.current_actor())
                    ui.after_write()
                    st.rerun()
        if funnel == "opportunity" and c3.button(_("Reset stages to defaults"), key="reset_stages"):
            with ui.guard(_("resetting the stages")), ui.writer() as w:
                rows = [dict(zip(("funnel", "stage", "position", "kind", "team", "probability", "category", "sla_hours"), r))
                        for r in store.DEFAULT_STAGES]
                store.save_stage_config(w, rows, actor=ui.current_actor())
                ui.after_write()
                st.rerun()

    if not ui.can("edit"):
        st.info(_("You can read the stage settings; editors and admins change them."))
    st.caption(_("Rules: each funnel has exactly one 'won' stage; probabilities lie between 0 and 100%; a stage that "
                 "events use cannot be deleted — rename it instead. Imports map their own stage names onto these."))

# ---- Currency (a database setting: every page shows amounts with its symbol) ---------------------
st.subheader(_("Currency"))
lg = lang()
with ui.guard(_("the currency")):
    now = currency()
    median = ui.call(store.median_deal_amount)
    codes = list(dict.fromkeys([*fmt.CURRENCIES, now]))

    def _currency_label(code: str) -> str:
        return _("{code} · {symbol} · {name}", code=code, symbol=fmt.currency_symbol(code, lg),
                 name=fmt.currency_name(code, lg))

    if ui.presentation() or not ui.can("edit"):
        st.markdown(_("Amounts are shown in **{currency}**.", currency=_currency_label(now)))
    else:
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        choice = c1.selectbox(_("Currency of the amounts"), codes, index=codes.index(now), key="currency_code",
                              format_func=_currency_label,
                              help=_("The currency the deal amounts are in: amounts are shown with its symbol (they are "
                                     "not converted). An import that knows its data's currency never replaces the "
                                     "one chosen here."))
        if c2.button(_("Save currency"), key="save_currency", type="primary", disabled=choice == now):
            with ui.guard(_("saving the currency")), ui.writer() as w:
                fmt.save_currency(w, choice, actor=ui.current_actor())
                ui.after_write()
                st.toast(_("Currency saved: amounts are now shown in {currency}.", currency=choice))
                st.rerun()
    if median is not None:
        st.caption(_("For example, the median deal of this data reads {amount}.", amount=fmt_money(median)))
