"""Targets & plan: are we on track for this month's and quarter's targets, who is behind, how
likely are we to make it, and what it takes in deals, opportunities and leads to close the gap
(metrics.md §7–8)."""
from __future__ import annotations

import streamlit as st

import ui
from funnel import store, targets
from funnel.charts import targets as charts

GRID_KEY = "targets_grid"
TEAMS_KEY = "teams_grid"
ASSUME_KEY = "plan_assumptions"
CLEAR = "_targets_saved"
IMPORT_NOTE = "_targets_import_note"

scope = ui.scope()
present = ui.presentation()
facts = ui.data_facts()

if facts["as_of"] is None:
    ui.page_header("Targets & plan")
    ui.empty_state("There is no data yet. Import your CRM export on the Data page, or reset to the sample data there.")
    st.stop()

header = st.container()
method = st.session_state.get(ui.K_METHOD) or "configured"

owners, periods = [""], targets.tile_periods(scope.as_of)
with ui.guard("the owners and periods"):
    owners = ui.call(targets.owner_choices)
    periods = ui.call(targets.period_choices, scope.as_of)
c1, c2 = st.columns(2)
owner = c1.selectbox("Whose targets", owners, key="targets_owner", format_func=lambda o: o or "Everyone",
                     help="Everyone in scope, a team (its owners' deals together) or one opportunity owner.")
period = c2.selectbox("Period in detail", periods, key="targets_period", format_func=targets.period_title,
                      help="The period of the table, the charts and the plan below.")

page = None
with ui.guard("the target figures"), st.spinner("Simulating 10,000 outcomes…"):
    page = ui.call(targets.targets_page, scope, method, period=period, owner=owner or "")

if page:
    focus = page["focus"]
    who = owner or "everyone"
    if focus["has_target"]:
        finding = (f"{targets.period_title(period)} ({who}): {ui.fmt_money(focus['won'])} won of "
                   f"{ui.fmt_money(focus['amount'])} ({ui.fmt_pct(focus['attainment'], 0)}), expected "
                   f"{ui.fmt_money(focus['expected'])}; {ui.fmt_pct(focus['p_hit'], 0)} chance of hitting it.")
    else:
        finding = (f"{targets.period_title(period)} ({who}): no target set — {ui.fmt_money(focus['won'])} won, "
                   f"{ui.fmt_money(focus['expected'])} expected. Add a target in the grid below.")
else:
    finding = None
with header:
    ui.page_header("Targets & plan", finding)
    st.caption("Won = deals whose first won event falls in the period (amount as of that event). Expected = won + "
               "the weighted amount of the deals still open for the period. The chance of hitting is the share of "
               "the forecast's own 10,000 simulated outcomes that reach the target.")

# ---- Tiles: this month, this quarter, next quarter -------------------------------------------
if page:
    cols = st.columns(3)
    for col, row in zip(cols, page["tiles"].itertuples()):
        title = f"{targets.period_title(row.period)} target"
        if not row.has_target:
            col.metric(title, "no target", border=True)
            col.caption(f"{ui.fmt_money(row.won)} won · {ui.fmt_money(row.expected)} expected")
            continue
        col.metric(title, ui.fmt_money(row.amount), border=True,
                   delta=f"{ui.fmt_money(row.won)} won ({ui.fmt_pct(row.attainment, 0)})", delta_color="off",
                   delta_arrow="off",
                   help="Attainment = won ÷ target. Gap = target − won. Coverage = open amount ÷ gap.")
        col.caption(f"Expected **{ui.fmt_money(row.expected)}** ({ui.fmt_pct(row.expected_attainment, 0)}) · "
                    f"gap {ui.fmt_money(row.gap)} · coverage {ui.fmt_num(row.coverage)}× · "
                    f"chance of hitting **{ui.fmt_pct(row.p_hit, 0)}**")

# ---- Who is behind ---------------------------------------------------------------------------
st.subheader(f"By team and owner — {targets.period_title(period)}")
if page:
    bd = page["breakdown"]
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(
            bd[["owner", "kind", "team", "amount", "won", "attainment", "expected", "gap", "coverage",
                "required_win_rate", "p_hit"]],
            hide_index=True, width="stretch",
            column_config={
                "owner": st.column_config.TextColumn("Team / owner", help="Empty = everyone in scope."),
                "kind": st.column_config.TextColumn("Kind"),
                "team": st.column_config.TextColumn("Team"),
                "amount": st.column_config.NumberColumn("Target", format="$%,.0f",
                                                        help="Empty: this owner has deals but no target."),
                "won": st.column_config.NumberColumn("Won", format="$%,.0f"),
                "attainment": st.column_config.ProgressColumn("Attainment", min_value=0.0, max_value=1.0,
                                                              format="percent"),
                "expected": st.column_config.NumberColumn("Expected", format="$%,.0f"),
                "gap": st.column_config.NumberColumn("Gap", format="$%,.0f"),
                "coverage": st.column_config.NumberColumn("Coverage", format="%.1f×",
                                                          help="Open amount for the period ÷ gap."),
                "required_win_rate": st.column_config.NumberColumn("Win rate needed", format="percent",
                                                                   help="Gap ÷ open amount; above 100% the open "
                                                                        "pipeline cannot close it."),
                "p_hit": st.column_config.NumberColumn("Chance", format="percent"),
            })
        st.caption("Sorted by gap, largest first; owners with deals but no target are listed last with an empty "
                   "target. A team's figures are its owners' deals.")
    with right:
        ui.chart(charts.attainment_chart(bd, presentation=present), key="tg_attainment")

    left, right = st.columns(2)
    with left:
        ui.chart(charts.outcome_chart(page["outcomes"], focus["amount"], focus["p_hit"],
                                      targets.period_title(period), presentation=present), key="tg_outcomes")
        st.caption("Each bar: the share of the 10,000 simulated outcomes (won so far + the open deals won at their "
                   "probability) around that amount; green runs reach the target — their share is the chance.")
    with right:
        ui.chart(charts.cumulative_won_chart(page["won_by_day"], focus["amount"], targets.period_title(period),
                                             presentation=present), key="tg_cumulative")
        st.caption("Won by day since the first day of the period, against a straight line from 0 to the target.")

# ---- The demand plan ------------------------------------------------------------------------
st.subheader("What it takes to close the gap")
assumptions = None
with ui.guard("the plan's history"):
    assumptions = ui.call(targets.plan_assumptions, scope)
if page and assumptions:
    overrides = {}
    if not present:
        with st.expander("What-if: change the plan's assumptions", expanded=False):
            table = targets.assumption_table(assumptions)
            edited = st.data_editor(
                table, key=ASSUME_KEY, hide_index=True, width="stretch", disabled=["key", "assumption", "history"],
                column_order=["assumption", "history", "in_use"],
                column_config={"assumption": st.column_config.TextColumn("Assumption"),
                               "history": st.column_config.NumberColumn("History", format="%.3f"),
                               "in_use": st.column_config.NumberColumn("In use", format="%.3f",
                                                                       help="Rates as fractions (0.25 = 25%).")})
            with ui.guard("the what-if"):
                overrides = targets.overrides_from_table(edited)
            st.caption("History: the last 365 days (deals) and the mature cohort (leads created in the 365 days "
                       "ending 90 days before the as-of date). Change 'In use' to see the plan under other rates.")
    gap = focus["gap"] if focus["has_target"] else None
    if gap:
        plan = targets.demand_plan(assumptions, gap, period, owner or "", overrides=overrides)
        st.markdown(f"**{targets.plan_sentence(plan)}**")
        left, right = st.columns([3, 2])
        with left:
            ui.chart(charts.reverse_funnel_chart(plan, presentation=present), key="tg_plan")
        with right:
            st.metric("Wins needed", ui.fmt_num(plan["won_deals_needed"]), border=True,
                      help="Gap ÷ average won deal.")
            st.metric("Opportunities needed", ui.fmt_num(plan["opportunities_needed"]), border=True,
                      help="Wins needed ÷ win rate.")
            st.metric("Leads needed", ui.fmt_num(plan["leads_needed"], 0), border=True,
                      delta=f"today's run rate {ui.fmt_num(plan['run_rate'], 0)} a month", delta_color="off",
                      delta_arrow="off")
            if plan["leads_by"]:
                st.caption(f"Created by **{ui.fmt_date(plan['leads_by'])}** (lead-to-won time "
                           f"{ui.fmt_days(plan['lead_to_won_days'])}).")
            for reason in plan["reasons"]:
                st.warning(ui.md(reason))
    elif focus["has_target"]:
        st.success(f"No gap: the {targets.period_title(period)} target is already met.")
    else:
        st.info("Set a target for this period to see what it takes to reach it.")

# ---- The manager's call -----------------------------------------------------------------------
st.subheader("The manager's call")
if not present and page and ui.can("edit"):   # viewers see the calls, with no control to add one
    with st.form("call_form", clear_on_submit=True):
        st.markdown(f"Your call for **{targets.period_title(period)}** ({ui.md(owner) if owner else 'everyone'}), recorded beside "
                    f"today's expected {ui.fmt_money(focus['expected'])} and the simulated median "
                    f"{ui.fmt_money(focus['p50'])}.")
        a, b = st.columns(2)
        commit = a.number_input("Commit ($)", min_value=0.0, step=1000.0, value=None, key="call_commit")
        best = b.number_input("Best case ($)", min_value=0.0, step=1000.0, value=None, key="call_best")
        note = st.text_input("Note", key="call_note", placeholder="What the call rests on")
        if st.form_submit_button("Record the call"):
            with ui.guard("recording the call"):
                with ui.writer() as w:
                    targets.record_call(w, period, owner or "", commit_amount=commit, best_case_amount=best, note=note,
                                        scope=scope, method=method, actor=ui.current_actor())
                ui.after_write()
                st.toast("Call recorded.")
                st.rerun()
with ui.guard("the calls so far"):
    calls = ui.call(targets.call_history, scope)
    if len(calls):
        st.dataframe(calls[["period", "owner", "commit_amount", "best_case_amount", "weighted_amount", "p50", "actual",
                            "note", "called_by", "called_at"]], hide_index=True, width="stretch", key="calls_table",
                     column_config={"period": "Period", "owner": "Team / owner",
                                    "commit_amount": st.column_config.NumberColumn("Commit", format="$%,.0f"),
                                    "best_case_amount": st.column_config.NumberColumn("Best case", format="$%,.0f"),
                                    "weighted_amount": st.column_config.NumberColumn(
                                        "Expected then", format="$%,.0f", help="Won + weighted forecast when called."),
                                    "p50": st.column_config.NumberColumn("Simulated P50 then", format="$%,.0f"),
                                    "actual": st.column_config.NumberColumn(
                                        "Won (as of now)", format="$%,.0f",
                                        help="Won in the period as known at the as-of date."),
                                    "note": "Note", "called_by": "Called by", "called_at": "When"})
        latest = calls.iloc[0]
        # plain text: the note is what someone typed, never markup
        st.text(f"Latest call — {targets.period_title(latest['period'])}, {latest['owner'] or 'everyone'}: commit "
                f"{ui.fmt_money(latest['commit_amount'])}, best case {ui.fmt_money(latest['best_case_amount'])}"
                + (f" — “{latest['note']}”" if latest["note"] else "")
                + f" ({latest['called_by']}, {ui.fmt_date(latest['called_at'])})")
        st.caption("Each call beside what the forecast said when it was made and what has been won since: over "
                   "the weeks this shows whose judgement, the call's or the model's, lands closer.")
    else:
        st.caption("No call recorded yet.")

# ---- Targets and teams (editable) ------------------------------------------------------------
if not present:
    st.subheader("Targets and teams")
    stored = teams = None
    with ui.guard("the stored targets"):
        stored = ui.call(targets.stored_targets)
        teams = ui.call(targets.stored_teams)
    if st.session_state.pop(CLEAR, False):
        st.session_state.pop(GRID_KEY, None)
        st.session_state.pop(TEAMS_KEY, None)
    left, right = st.columns([3, 2])
    if not ui.can("edit"):   # viewers see the targets and teams, with no control to change them
        if stored is not None:
            left.dataframe(stored, hide_index=True, width="stretch")
        if teams is not None:
            right.dataframe(teams, hide_index=True, width="stretch")
        stored = teams = None
    if stored is not None:
        with left:
            edited = st.data_editor(
                stored, key=GRID_KEY, num_rows="dynamic", hide_index=True, width="stretch",
                column_config={"period": st.column_config.TextColumn("Period", help="YYYY-MM or YYYY-Qn"),
                               "owner": st.column_config.TextColumn("Owner or team", help="Empty = everyone."),
                               "amount": st.column_config.NumberColumn("Target ($)", min_value=0.0, format="%.0f")})
            if targets.targets_differ(stored, edited) and st.button("Save targets", key="save_targets", type="primary"):
                with ui.guard("saving the targets"):
                    with ui.writer() as w:
                        warnings = targets.save_targets(w, edited, actor=ui.current_actor(), source="grid")
                    ui.after_write()
                    st.session_state[CLEAR] = True
                    st.toast("Targets saved." + (f" {len(warnings)} warning(s): {ui.md(warnings[0])}" if warnings else ""))
                    st.rerun()
    if teams is not None:
        with right:
            edited_teams = st.data_editor(
                teams, key=TEAMS_KEY, num_rows="dynamic", hide_index=True, width="stretch",
                column_config={"owner": st.column_config.TextColumn("Owner"),
                               "team": st.column_config.TextColumn("Team")})
            if st.button("Save teams", key="save_teams"):
                with ui.guard("saving the teams"):
                    with ui.writer() as w:
                        targets.save_teams(w, edited_teams, actor=ui.current_actor(), source="grid")
                    ui.after_write()
                    st.session_state[CLEAR] = True
                    st.toast("Teams saved.")
                    st.rerun()
    if ui.can("edit"):
        with st.expander("Import a targets or teams file"):
            up_t = st.file_uploader("Targets file (CSV or XLSX: period, owner, amount)", type=["csv", "xlsx"],
                                    key="targets_file")
            up_m = st.file_uploader("Teams file (CSV or XLSX: owner, team)", type=["csv", "xlsx"], key="teams_file")
            if (up_t or up_m) and st.button("Import", key="import_targets"):
                with ui.guard("importing the targets"):
                    with ui.writer() as w:
                        res = targets.import_targets(w, up_t, up_m, actor=ui.current_actor())
                    ui.after_write()
                    st.session_state[CLEAR] = True
                    st.session_state[IMPORT_NOTE] = (res.message, list(res.warnings))
                    st.rerun()
            note = st.session_state.pop(IMPORT_NOTE, None)
            if note:
                st.success(note[0])
                for warning in note[1][:5]:
                    st.warning(ui.md(warning))
    st.caption("Saving replaces the stored targets (or teams) with the grid; a bad row refuses the whole save and "
               "names the row. Every change recomputes every figure.")
