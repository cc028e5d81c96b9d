"""Targets & plan: are we on track for this month's and quarter's targets, who is behind, how
likely are we to make it, and what it takes in deals, opportunities and leads to close the gap
(metrics.md §7–8)."""
from __future__ import annotations

import streamlit as st

import ui
from funnel import fmt, forecast, targets
from funnel.charts import targets as charts
from i18n_ui import _, currency, fmt_date, fmt_days, fmt_money, fmt_num, fmt_pct, lang, ngettext, render

GRID_KEY = "targets_grid"
TEAMS_KEY = "teams_grid"
ASSUME_KEY = "plan_assumptions"
CLEAR = "_targets_saved"
IMPORT_NOTE = "_targets_import_note"

scope = ui.scope()
present = ui.presentation()
lg = lang()
cur = currency()
TITLE = _("Targets & plan")
facts = ui.data_facts()

if facts["as_of"] is None:
    ui.page_header(TITLE)
    ui.empty_state(_("There is no data yet. Import your CRM export on the Data page, or reset to the sample data "
                     "there."))
    st.stop()


def title_of(label: str) -> str:
    """A period as the reader names it: 'June 2026' / '2026年6月', 'Q2 2026' / '2026年第二季度'."""
    return targets.period_title(label, lg)


def money_column(label: str, **kw):
    """A money column of a table: the exact amount with the database currency's symbol."""
    return st.column_config.NumberColumn(label, format=fmt.currency_symbol(cur, lg) + "%,.0f", **kw)


SYMBOL = fmt.currency_symbol(cur, lg)
RUNS = fmt.count(forecast.MC_RUNS, lg)

header = st.container()
method = ui.forecast_method()   # the Forecast page's choice, kept for the session and in the link

owners, periods = [""], targets.tile_periods(scope.as_of)
with ui.guard(_("the owners and periods")):
    owners = ui.call(targets.owner_choices)
    periods = ui.call(targets.period_choices, scope.as_of)
c1, c2 = st.columns(2)
ui.restore_choice("targets_owner", owners[0], valid=owners)
ui.restore_choice("targets_period", periods[0], valid=periods)
owner = c1.selectbox(_("Whose targets"), owners, key="targets_owner", format_func=lambda o: o or _("Everyone"),
                     help=_("Everyone in scope, a team (its owners' deals together) or one opportunity owner."))
period = c2.selectbox(_("Period in detail"), periods, key="targets_period", format_func=title_of,
                      help=_("The period of the table, the charts and the plan below."))
ui.keep_choice("targets_owner", owner, owners[0])
ui.keep_choice("targets_period", period, periods[0])

page = None
with ui.guard(_("the target figures")), st.spinner(_("Simulating {runs} outcomes…", runs=RUNS)):
    page = ui.call(targets.targets_page, scope, method, period=period, owner=owner or "")

if page:
    focus = page["focus"]
    who = owner or _("everyone")
    if focus["has_target"]:
        finding = _("{period} ({who}): {won} won of {target} ({attainment}), expected {expected}; {chance} chance of "
                    "hitting it.", period=title_of(period), who=who, won=fmt_money(focus["won"]),
                    target=fmt_money(focus["amount"]), attainment=fmt_pct(focus["attainment"], 0),
                    expected=fmt_money(focus["expected"]), chance=fmt_pct(focus["p_hit"], 0))
    else:
        finding = _("{period} ({who}): no target set — {won} won, {expected} expected. Add a target in the grid "
                    "below.", period=title_of(period), who=who, won=fmt_money(focus["won"]),
                    expected=fmt_money(focus["expected"]))
else:
    finding = None
with header:
    ui.page_header(TITLE, finding)
    st.caption(_("Won = deals whose first won event falls in the period (amount as of that event). Expected = won + "
                 "the weighted amount of the deals still open for the period. The chance of hitting is the share of "
                 "the forecast's own {runs} simulated outcomes that reach the target.", runs=RUNS))
    st.caption(_("Forecast method: {method} (chosen on the Forecast page).",
                 method=_(forecast.METHOD_LABELS[method]).lower() if lg == "en" else _(forecast.METHOD_LABELS[method])))

# ---- Tiles: this month, this quarter, next quarter -------------------------------------------
if page:
    cols = st.columns(3)
    for col, row in zip(cols, page["tiles"].itertuples()):
        title = _("{period} target", period=title_of(row.period))
        if not row.has_target:
            col.metric(title, _("no target"), border=True)
            col.caption(_("{won} won · {expected} expected", won=fmt_money(row.won), expected=fmt_money(row.expected)))
            continue
        col.metric(title, fmt_money(row.amount), border=True,
                   delta=_("{won} won ({attainment})", won=fmt_money(row.won), attainment=fmt_pct(row.attainment, 0)),
                   delta_color="off", delta_arrow="off",
                   help=_("Attainment = won ÷ target. Gap = target − won. Coverage = open amount ÷ gap."))
        col.caption(_("Expected **{expected}** ({share}) · gap {gap} · coverage {coverage} · chance of hitting "
                      "**{chance}**", expected=fmt_money(row.expected), share=fmt_pct(row.expected_attainment, 0),
                      gap=fmt_money(row.gap), coverage=fmt.times(row.coverage, lg),
                      chance=fmt_pct(row.p_hit, 0)))

# ---- Who is behind ---------------------------------------------------------------------------
st.subheader(_("By team and owner — {period}", period=title_of(period)))
KINDS = {"everyone": _("Everyone"), "team": _("Team"), "owner": _("Owner")}
if page:
    bd = page["breakdown"]
    left, right = st.columns([3, 2])
    with left:
        shown = bd[["owner", "kind", "team", "amount", "won", "attainment", "expected", "gap", "coverage",
                    "required_win_rate", "p_hit"]]
        ui.dataframe(
            shown.assign(kind=[KINDS.get(k, k) for k in shown["kind"]]),
            hide_index=True, width="stretch",
            column_config={
                "owner": st.column_config.TextColumn(_("Team / owner"), help=_("Empty = everyone in scope.")),
                "kind": st.column_config.TextColumn(_("Kind")),
                "team": st.column_config.TextColumn(_("Team")),
                "amount": money_column(_("Target"), help=_("Empty: this owner has deals but no target.")),
                "won": money_column(_("Won")),
                "attainment": st.column_config.ProgressColumn(_("Attainment"), min_value=0.0, max_value=1.0,
                                                              format="percent"),
                "expected": money_column(_("Expected")),
                "gap": money_column(_("Gap")),
                "coverage": st.column_config.NumberColumn(_("Coverage"), format=_("%.1f×"),
                                                          help=_("Open amount for the period ÷ gap.")),
                "required_win_rate": st.column_config.NumberColumn(_("Win rate needed"), format="percent",
                                                                   help=_("Gap ÷ open amount; above 100% the open "
                                                                          "pipeline cannot close it.")),
                "p_hit": st.column_config.NumberColumn(_("Chance"), format="percent"),
            })
        st.caption(_("Sorted by gap, largest first; owners with deals but no target are listed last with an empty "
                     "target. A team's figures are its owners' deals."))
    with right:
        ui.chart(charts.attainment_chart(bd, presentation=present, lang=lg, currency=cur), key="tg_attainment")

    left, right = st.columns(2)
    with left:
        ui.chart(charts.outcome_chart(page["outcomes"], focus["amount"], focus["p_hit"], title_of(period),
                                      presentation=present, lang=lg, currency=cur), key="tg_outcomes")
        st.caption(_("Each bar: the share of the {runs} simulated outcomes (won so far + the open deals won at their "
                     "probability) around that amount; green runs reach the target — their share is the chance.",
                     runs=RUNS))
    with right:
        ui.chart(charts.cumulative_won_chart(page["won_by_day"], focus["amount"], title_of(period),
                                             presentation=present, lang=lg, currency=cur), key="tg_cumulative")
        st.caption(_("Won by day since the first day of the period, against a straight line from 0 to the target."))

# ---- The demand plan ------------------------------------------------------------------------
st.subheader(_("What it takes to close the gap"))
assumptions = None
with ui.guard(_("the plan's history")):
    assumptions = ui.call(targets.plan_assumptions, scope)
if page and assumptions:
    overrides = {}
    if not present:
        with st.expander(_("What-if: change the plan's assumptions"), expanded=False):
            table = targets.assumption_table(assumptions, lang=lg, currency=cur)
            edited = ui.data_editor(
                table, key=ASSUME_KEY, hide_index=True, width="stretch", disabled=["key", "assumption", "history"],
                column_order=["assumption", "history", "in_use"],
                column_config={"assumption": st.column_config.TextColumn(_("Assumption")),
                               "history": st.column_config.NumberColumn(_("History"), format="%.3f"),
                               "in_use": st.column_config.NumberColumn(_("In use"), format="%.3f",
                                                                       help=_("Rates as fractions (0.25 = 25%)."))})
            with ui.guard(_("the what-if")):
                overrides = targets.overrides_from_table(edited)
            st.caption(_("History: the last 365 days (deals) and the mature cohort (leads created in the 365 days "
                         "ending 90 days before the as-of date). Change 'In use' to see the plan under other rates."))
    gap = focus["gap"] if focus["has_target"] else None
    if gap:
        plan = targets.demand_plan(assumptions, gap, period, owner or "", overrides=overrides)
        st.markdown(f"**{ui.md(render(targets.plan_messages(plan, cur)))}**")
        left, right = st.columns([3, 2])
        with left:
            ui.chart(charts.reverse_funnel_chart(plan, presentation=present, lang=lg, currency=cur), key="tg_plan")
        with right:
            st.metric(_("Wins needed"), fmt_num(plan["won_deals_needed"]), border=True,
                      help=_("Gap ÷ average won deal."))
            st.metric(_("Opportunities needed"), fmt_num(plan["opportunities_needed"]), border=True,
                      help=_("Wins needed ÷ win rate."))
            st.metric(_("Leads needed"), fmt_num(plan["leads_needed"], 0), border=True,
                      delta=_("today's run rate {n} a month", n=fmt_num(plan["run_rate"], 0)), delta_color="off",
                      delta_arrow="off")
            if plan["leads_by"]:
                st.caption(_("Created by **{date}** (lead-to-won time {wait}).", date=fmt_date(plan["leads_by"]),
                             wait=fmt_days(plan["lead_to_won_days"])))
            for reason in plan["reason_messages"]:
                st.warning(ui.md(render(reason)))
    elif focus["has_target"]:
        st.success(_("No gap: the {period} target is already met.", period=title_of(period)))
    else:
        st.info(_("Set a target for this period to see what it takes to reach it."))

# ---- The manager's call -----------------------------------------------------------------------
st.subheader(_("The manager's call"))
if not present and page and ui.can("edit"):   # viewers see the calls, with no control to add one
    with st.form("call_form", clear_on_submit=True):
        st.markdown(_("Your call for **{period}** ({who}), recorded beside today's expected {expected} and the "
                      "simulated median {median}.", period=title_of(period),
                      who=ui.md(owner) if owner else _("everyone"), expected=fmt_money(focus["expected"]),
                      median=fmt_money(focus["p50"])))
        a, b = st.columns(2)
        commit = a.number_input(_("Commit ({symbol})", symbol=SYMBOL), min_value=0.0, step=1000.0, value=None,
                                key="call_commit")
        best = b.number_input(_("Best case ({symbol})", symbol=SYMBOL), min_value=0.0, step=1000.0, value=None,
                              key="call_best")
        note = st.text_input(_("Note"), key="call_note", placeholder=_("What the call rests on"))
        if st.form_submit_button(_("Record the call")):
            with ui.guard(_("recording the call")):
                with ui.writer() as w:
                    targets.record_call(w, period, owner or "", commit_amount=commit, best_case_amount=best, note=note,
                                        scope=scope, method=method, actor=ui.current_actor())
                ui.after_write()
                st.toast(_("Call recorded."))
                st.rerun()
with ui.guard(_("the calls so far")):
    calls = ui.call(targets.call_history, scope)
    if len(calls):
        shown = calls[["period", "owner", "commit_amount", "best_case_amount", "weighted_amount", "p50", "actual",
                       "note", "called_by", "called_at"]]
        ui.dataframe(shown.assign(period=[title_of(p) for p in shown["period"]]), hide_index=True, width="stretch",
                     key="calls_table",
                     column_config={"period": st.column_config.TextColumn(_("Period")),
                                    "owner": st.column_config.TextColumn(_("Team / owner")),
                                    "commit_amount": money_column(_("Commit")),
                                    "best_case_amount": money_column(_("Best case")),
                                    "weighted_amount": money_column(_("Expected then"),
                                                                    help=_("Won + weighted forecast when called.")),
                                    "p50": money_column(_("Simulated P50 then")),
                                    "actual": money_column(_("Won (as of now)"),
                                                           help=_("Won in the period as known at the as-of date.")),
                                    "note": st.column_config.TextColumn(_("Note")),
                                    "called_by": st.column_config.TextColumn(_("Called by")),
                                    "called_at": st.column_config.DatetimeColumn(
                                        _("When"), format="YYYY年M月D日 HH:mm" if lg == "zh" else None)})
        latest = calls.iloc[0]
        figures = {"period": title_of(latest["period"]), "who": latest["owner"] or _("everyone"),
                   "commit": fmt_money(latest["commit_amount"]), "best": fmt_money(latest["best_case_amount"]),
                   "by": latest["called_by"], "date": fmt_date(latest["called_at"])}
        # plain text: the note is what someone typed, never markup
        st.text(_("Latest call — {period}, {who}: commit {commit}, best case {best} — “{note}” ({by}, {date})",
                  note=latest["note"], **figures) if latest["note"] else
                _("Latest call — {period}, {who}: commit {commit}, best case {best} ({by}, {date})", **figures))
        st.caption(_("Each call beside what the forecast said when it was made and what has been won since: over "
                     "the weeks this shows whose judgement, the call's or the model's, lands closer."))
    else:
        st.caption(_("No call recorded yet."))

# ---- Targets and teams (editable) ------------------------------------------------------------
if not present:
    st.subheader(_("Targets and teams"))
    stored = teams = None
    target_columns = {"period": st.column_config.TextColumn(_("Period"), help=_("YYYY-MM or YYYY-Qn")),
                      "owner": st.column_config.TextColumn(_("Owner or team"), help=_("Empty = everyone.")),
                      "amount": st.column_config.NumberColumn(_("Target ({symbol})", symbol=SYMBOL), min_value=0.0,
                                                              format="%.0f")}
    team_columns = {"owner": st.column_config.TextColumn(_("Owner")),
                    "team": st.column_config.TextColumn(_("Team"))}
    with ui.guard(_("the stored targets")):
        stored = ui.call(targets.stored_targets)
        teams = ui.call(targets.stored_teams)
    if st.session_state.pop(CLEAR, False):
        st.session_state.pop(GRID_KEY, None)
        st.session_state.pop(TEAMS_KEY, None)
    left, right = st.columns([3, 2])
    if not ui.can("edit"):   # viewers see the targets and teams, with no control to change them
        if stored is not None:
            with left:
                ui.dataframe(stored, hide_index=True, width="stretch", column_config=target_columns)
        if teams is not None:
            with right:
                ui.dataframe(teams, hide_index=True, width="stretch", column_config=team_columns)
        stored = teams = None
    if stored is not None:
        with left:
            edited = ui.data_editor(
                stored, key=GRID_KEY, num_rows="dynamic", hide_index=True, width="stretch",
                column_config=target_columns)
            if targets.targets_differ(stored, edited) and st.button(_("Save targets"), key="save_targets",
                                                                     type="primary"):
                with ui.guard(_("saving the targets")):
                    with ui.writer() as w:
                        warnings = targets.save_targets(w, edited, actor=ui.current_actor(), source="grid")
                    ui.after_write()
                    st.session_state[CLEAR] = True
                    st.toast(ngettext("Targets saved. {n} warning: {first}", "Targets saved. {n} warnings: {first}",
                                      len(warnings), n=len(warnings), first=ui.md(render(warnings[0])))
                             if warnings else _("Targets saved."))
                    st.rerun()
    if teams is not None:
        with right:
            edited_teams = ui.data_editor(
                teams, key=TEAMS_KEY, num_rows="dynamic", hide_index=True, width="stretch",
                column_config=team_columns)
            if st.button(_("Save teams"), key="save_teams"):
                with ui.guard(_("saving the teams")):
                    with ui.writer() as w:
                        targets.save_teams(w, edited_teams, actor=ui.current_actor(), source="grid")
                    ui.after_write()
                    st.session_state[CLEAR] = True
                    st.toast(_("Teams saved."))
                    st.rerun()
    if ui.can("edit"):
        with st.expander(_("Import a targets or teams file")):
            up_t = st.file_uploader(_("Targets file (CSV or XLSX: period, owner, amount)"), type=["csv", "xlsx"],
                                    key="targets_file")
            up_m = st.file_uploader(_("Teams file (CSV or XLSX: owner, team)"), type=["csv", "xlsx"], key="teams_file")
            if (up_t or up_m) and st.button(_("Import"), key="import_targets"):
                with ui.guard(_("importing the targets")):
                    with ui.writer() as w:
                        res = targets.import_targets(w, up_t, up_m, actor=ui.current_actor())
                    ui.after_write()
                    st.session_state[CLEAR] = True
                    st.session_state[IMPORT_NOTE] = (res.message_obj, list(res.warning_messages))
                    st.rerun()
            note = st.session_state.pop(IMPORT_NOTE, None)
            if note:
                st.success(render(note[0]))
                for warning in note[1][:5]:
                    st.warning(ui.md(render(warning)))
    st.caption(_("Saving replaces the stored targets (or teams) with the grid; a bad row refuses the whole save and "
                 "names the row. Every change recomputes every figure."))
