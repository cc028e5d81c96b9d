"""Scoring what-if: edit the lead-scoring rules and the MQL threshold as a draft and see, on leads
whose outcome is already known, what the draft would do to MQL volume, SDR workload and quality —
side by side with the current (production) rules. metrics.md §5.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from funnel import presets, scoring
from funnel.charts import scoring as charts
from funnel.errors import FunnelError
from funnel.i18n import N_
from i18n_ui import _, fmt_count, fmt_date, fmt_int, fmt_num, fmt_pct, lang, render

# Widget keys (AppTest finds widgets by these) and page-local session keys.
K_EDITOR = "rules_editor"
K_THRESHOLD = "threshold"
K_STAGE = "outcome_stage"
K_CAPACITY = "sdr_capacity"
K_SAVE_NAME = "scenario_name"
K_SCENARIO = ui.K_SCENARIO            # "scenario", bound to the URL
# Session copies of the draft: widgets that are not drawn (presentation mode, another page) lose
# their state, so the draft lives here and the widgets are re-seeded from it.
S_DRAFT = "scoring_draft_rows"        # the rows the editor started from
S_EDITED = "scoring_draft_edited"     # the rows as last edited
S_THRESHOLD = "scoring_draft_threshold"
S_FLASH = "scoring_flash"             # [(kind, message)] to show after a callback
S_SUGGEST = "scoring_suggest_notes"   # warnings of the last "suggest from history"
S_VALID = "scoring_valid_rules"       # the draft rules as last validated (what "Save" stores)
S_BASE = "scoring_draft_base"         # the stored (rules, threshold) the draft started from

GROUPS = {"fit": N_("fit"), "engagement": N_("engagement")}
RULE_LABELS = {"attribute": N_("Attribute"), "operator": N_("Operator"), "value": N_("Value"), "points": N_("Points"),
               "enabled": N_("On"), "rule_group": N_("Group")}
#: The operators as a reader reads them (the stored rule keeps the code: =, in, contains, …).
OPERATOR_LABELS = {"in": N_("in"), "not in": N_("not in"), "between": N_("between"), "contains": N_("contains"),
                   "is true": N_("is true"), "is false": N_("is false")}
#: The flipped-leads table's "change" values (scoring.flips), as the reader reads them.
CHANGES = {"becomes MQL": N_("becomes MQL"), "stops being MQL": N_("stops being MQL")}
ss = st.session_state
scope = ui.scope()
present = ui.presentation()
lg = lang()
TITLE = _("Scoring what-if")
CANNOT_SHOW = _("What this data cannot show")
facts = ui.data_facts()
header = st.container()


def _operator(code) -> str:
    """An operator as the reader reads it; comparison signs (=, >=, …) are the same in every language."""
    return _(OPERATOR_LABELS[code]) if code in OPERATOR_LABELS else code


if facts["as_of"] is None:
    with header:
        ui.page_header(TITLE)
    ui.empty_state(_("There is no data yet. Import your leads on the Data page, or reset to the sample data there."))
    st.stop()

# ---- what is stored: the current (production) rules, threshold and saved scenarios ---------------
loaded = False
with ui.guard(_("the current scoring rules")):
    attributes = ui.call(scoring.usable_attributes)
    stages = ui.call(scoring.outcome_stages)
    stored = tuple(ui.call(scoring.stored_rules))
    stored_threshold = ui.call(scoring.stored_threshold)
    missing = ui.call(scoring.unknown_attributes, stored)
    current_rules = tuple(ui.call(scoring.applicable_rules, stored))
    scenarios = ui.call(scoring.list_scenarios)
    loaded = True
if not loaded:
    st.stop()

# What this data cannot show (funnel.presets.notes_for_page): no leads at all → say so and stop.
limits = {"notes": [], "blocked": None}
with ui.guard(_("the notes on this data")):
    limits = presets.notes_for_page(ui.call(presets.limitation_findings), "scoring", lang=lg)
if limits["blocked"]:
    with header:
        ui.page_header(TITLE, limits["blocked"]["finding"])
    if limits["notes"]:
        st.warning(f"**{CANNOT_SHOW}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))
    ui.empty_state(limits["blocked"]["todo"])
    st.stop()

if attributes.empty:
    with header:
        ui.page_header(TITLE)
    ui.empty_state(_("The leads have no attributes to score on — only an id and a creation date. Import leads with "
                     "columns such as segment, company size, job title or page views on the Data page."))
    st.stop()
if not stages:
    with header:
        ui.page_header(TITLE)
    ui.empty_state(_("The lead funnel has a single stage, so no outcome can be judged — add stages on Stage "
                     "settings."))
    st.stop()

scenario_names = scenarios["name"].tolist()
current_name = next(iter(scenarios.loc[scenarios["is_current"], "name"]), None)


# ---- the draft: session state and the callbacks that replace it ------------------------------------

def _set_draft(rules, threshold: float) -> None:
    """Replace the draft (callbacks only: runs before any widget is drawn)."""
    ss[S_DRAFT] = scoring.rules_to_frame(rules).to_dict("records")
    ss[S_EDITED] = ss[S_DRAFT]
    ss[S_THRESHOLD] = float(threshold)
    ss[K_THRESHOLD] = float(threshold)
    ss.pop(K_EDITOR, None)  # the editor's pending edits belong to the old draft
    ss.pop(S_SUGGEST, None)


def _flash(kind: str, message: str) -> None:
    ss.setdefault(S_FLASH, []).append((kind, message))


def _attempt(fn) -> bool:
    """Run a callback's work; a problem becomes a message on the page, never a traceback."""
    try:
        fn()
        return True
    except FunnelError as e:
        _flash("error", ui.error_text(e))   # a RuleError says itself in the reader's language
    except Exception as e:  # noqa: BLE001 - the screen gets a sentence
        _flash("error", _("That did not work: {error}.", error=ui.plain_error(e)))
    return False


def _load_selected() -> None:
    name = ss.get(K_SCENARIO)
    if not name:
        return

    def go():
        rules, threshold = ui.call_fresh(scoring.load_scenario, name)
        _set_draft(rules, threshold)
        _flash("success", _("Loaded the scenario “{name}” into the draft.", name=name))
    _attempt(go)


def _reset_to_current() -> None:
    _set_draft(current_rules, stored_threshold)
    ss[K_SCENARIO] = None
    _flash("success", _("The draft is the current scoring again."))


def _suggest() -> None:
    def go():
        stage = ss.get(K_STAGE) or "SQL"
        rules, notes = ui.call(scoring.suggest_rules, scope, stage, lang=lg)
        if not rules:
            _flash("warning", render(notes) or _("No rules could be learned from this history."))
            return
        today = ui.call(scoring.scenario_figures, current_rules, float(stored_threshold), scope, stage)["evaluation"]
        threshold = ui.call(scoring.threshold_for_volume, rules, today["above"], scope)
        _set_draft(rules, threshold)
        ss[K_SCENARIO] = None
        ss[S_SUGGEST] = notes + [
            _("Threshold set to {threshold} so the suggested rules make about as many MQLs as the current ones. "
              "Points come from a logistic regression on this cohort's history (outcome: reached {stage}); check "
              "each rule makes sense before you save it.", threshold=f"{threshold:g}", stage=stage)]
    _attempt(go)


def _save() -> None:
    name = (ss.get(K_SAVE_NAME) or "").strip()

    def go():
        with ui.writer() as cur:
            scoring.save_scenario(cur, name, ss.get(S_VALID) or [], ss.get(S_THRESHOLD, stored_threshold),
                                  actor=ui.current_actor())
        ui.after_write()
        ss[K_SCENARIO] = name
        _flash("success", _("Saved the draft as “{name}”.", name=name))
    _attempt(go)


def _make_current() -> None:
    name = ss.get(K_SCENARIO)
    if not name:
        _flash("warning", _("Choose a saved scenario first."))
        return

    def go():
        with ui.writer() as cur:
            scoring.make_scenario_current(cur, name, actor=ui.current_actor())
        ui.after_write()
        _flash("success", _("“{name}” is now the current scoring: its rules and threshold are the production ones.",
                            name=name))
    _attempt(go)


base = (scoring.rules_to_frame(current_rules).to_dict("records"), float(stored_threshold))
if (S_DRAFT in ss and ss.get(S_BASE) not in (None, base) and ss[S_EDITED] == ss[S_DRAFT] == ss[S_BASE][0]
        and ss.get(S_THRESHOLD) == ss[S_BASE][1]):
    # The stored scoring changed under an untouched draft (e.g. an import seeded rules for the new
    # data): start the draft from it again, as on a first visit.
    for k in (S_DRAFT, S_EDITED, S_THRESHOLD, K_THRESHOLD, K_EDITOR, S_SUGGEST):
        ss.pop(k, None)
if S_DRAFT not in ss:  # first visit in this session: the URL's scenario, else the current scoring
    ss[S_BASE] = base
    url_name = st.query_params.get(K_SCENARIO)
    start = (current_rules, stored_threshold)
    if url_name in scenario_names:
        try:
            start = ui.call_fresh(scoring.load_scenario, url_name)
        except FunnelError:
            pass
    ss[S_DRAFT] = scoring.rules_to_frame(start[0]).to_dict("records")
    ss[S_EDITED] = ss[S_DRAFT]
    ss[S_THRESHOLD] = float(start[1])

# ---- view controls (kept in presentation mode: they choose what is compared, they edit nothing) ----
c_stage, c_capacity, c_scenario = st.columns([1, 1, 2])
stage_default = stages.index("SQL") if "SQL" in stages else len(stages) // 2
stage = c_stage.selectbox(_("Judge against leads that reached"), stages, index=stage_default, key=K_STAGE,
                          help=_("The outcome: a lead counts as a success when it reached this stage "
                                 "(or a later one) by the as-of date."))
stage_md = ui.md(stage)   # a stage name from the data, shown in Markdown text below
capacity_slot = c_capacity.empty()
c_scenario.selectbox(_("Saved scenario"), scenario_names, index=None, key=K_SCENARIO, bind="query-params",
                     on_change=_load_selected, placeholder=_("Choose one to load it into the draft"),
                     help=_("Picking a scenario loads its rules and threshold into the draft. The address bar "
                            "keeps the name, so a copied link opens the same scenario."))

# ---- the draft editor (hidden in presentation mode) --------------------------------------------------
for kind, message in ss.pop(S_FLASH, []):
    getattr(st, kind)(ui.md(message))

if missing:
    st.warning(_("The stored rules on {columns} are left out: these leads have no such column, so those rules "
                 "match no lead.", columns=ui.md(_(", ").join(missing))))

attribute_options = attributes["attribute"].tolist()
kinds = dict(zip(attributes["attribute"], attributes["kind"]))
draft_rows = ss[S_EDITED]


def _editor_frame(rows):
    """The draft rows as the editor's table (rows that do not parse yet are shown as they are)."""
    try:
        return scoring.rules_to_frame(scoring.coerce_rules(rows))
    except FunnelError:
        return pd.DataFrame(rows, columns=scoring.rules_to_frame([]).columns)


if present:
    draft_threshold = ss[S_THRESHOLD]
    with st.expander(_("Draft rules")):
        shown_rules = _editor_frame(draft_rows)
        shown_rules = shown_rules.assign(operator=[_operator(o) for o in shown_rules["operator"]],
                                         rule_group=[_(GROUPS[g]) if g in GROUPS else g for g in shown_rules["rule_group"]])
        ui.dataframe(shown_rules.rename(columns={k: _(v) for k, v in RULE_LABELS.items()}), hide_index=True,
                     width="stretch")
else:
    with st.container(border=True):
        st.subheader(_("Draft rules and threshold"))
        threshold_slot = st.container()
        st.caption(_("Each enabled rule a lead matches adds its points (negative points subtract); a lead whose score "
                     "is at or above the threshold would have been an MQL. A blank attribute matches no rule. "
                     "For *{op_in}* / *{op_not_in}* separate values with |, for *{op_between}* write low|high (both "
                     "ends count); *{op_contains}* ignores case; *{op_true}* accepts true, 1 or yes.",
                     op_in=_operator("in"), op_not_in=_operator("not in"), op_between=_operator("between"),
                     op_contains=_operator("contains"), op_true=_operator("is true")))
        if K_EDITOR not in ss:  # a fresh editor (first visit, after a load, back from presentation mode)
            ss[S_DRAFT] = ss[S_EDITED]
        edited = ui.data_editor(
            _editor_frame(ss[S_DRAFT]), key=K_EDITOR, num_rows="dynamic", hide_index=True, width="stretch",
            height=min(36 * (len(ss[S_DRAFT]) + 2) + 4, 640),  # every rule visible, plus the "add" row
            column_config={
                "attribute": st.column_config.SelectboxColumn(
                    _("Attribute"), options=sorted(set(attribute_options) | {r["attribute"] for r in ss[S_DRAFT]
                                                                             if isinstance(r.get("attribute"), str)}),
                    required=True, help=_("A column of the leads")),
                "operator": st.column_config.SelectboxColumn(_("Operator"), options=list(scoring.OPERATORS),
                                                             format_func=_operator, required=True),
                "value": st.column_config.TextColumn(
                    _("Value"), help=_("{op_in} / {op_not_in}: values separated by | · {op_between}: low|high · "
                                       "{op_true} / {op_false}: leave empty", op_in=_operator("in"),
                                       op_not_in=_operator("not in"), op_between=_operator("between"),
                                       op_true=_operator("is true"), op_false=_operator("is false"))),
                "points": st.column_config.NumberColumn(_("Points"), help=_("Added to the score; may be negative"),
                                                        required=True, format="%g"),
                "enabled": st.column_config.CheckboxColumn(_("On"), help=_("Untick to keep a rule without using it"),
                                                           default=True),
                "rule_group": st.column_config.SelectboxColumn(
                    _("Group"), options=list(GROUPS), default="fit", format_func=lambda g: _(GROUPS.get(g, g)),
                    help=_("{fit}: who the lead is · {engagement}: what they did", fit=_(GROUPS["fit"]),
                           engagement=_(GROUPS["engagement"]))),
            })
        draft_rows = edited.to_dict("records")
        ss[S_EDITED] = draft_rows

# ---- validate the draft once; a bad rule is one error message, the current side still draws ----------
draft_rules = None
with ui.guard(_("the draft rules")):
    draft_rules = tuple(ui.call(scoring.validate_rules, draft_rows))
ss[S_VALID] = list(draft_rules) if draft_rules is not None else None

if not present:
    bound_rules = draft_rules if draft_rules is not None else ()
    lo, hi = scoring.threshold_bounds((current_rules, stored_threshold), (bound_rules, ss[S_THRESHOLD]))
    # Re-seeding the slider's value every run keeps it when its range changes (a new range is a new widget).
    ss[K_THRESHOLD] = min(max(float(ss.get(K_THRESHOLD, ss[S_THRESHOLD])), lo), hi)
    with threshold_slot:
        draft_threshold = st.slider(
            _("MQL threshold (draft)"), min_value=lo, max_value=hi, step=1.0, key=K_THRESHOLD, format="%.0f",
            help=_("A lead whose score is at or above this is an MQL. The current threshold is {threshold}.",
                   threshold=f"{stored_threshold:g}"))
    ss[S_THRESHOLD] = float(draft_threshold)
    # The draft is a what-if anyone may try; storing it (a scenario, or the production rules) is an
    # editor's change: viewers get no such button.
    editing = ui.can("edit")
    b1, b2, b3, b4 = st.columns(4)
    b1.button(_("Reset draft to current"), key="reset_draft", on_click=_reset_to_current, width="stretch",
              help=_("Throw the draft away and start again from the production rules and threshold."))
    b2.button(_("Suggest from history"), key="suggest_rules", on_click=_suggest, width="stretch",
              help=_("Fit a logistic regression on leads whose outcome is known and turn it into rounded points."))
    b3.button(_("Reload scenario"), key="reload_scenario", on_click=_load_selected, width="stretch",
              disabled=not ss.get(K_SCENARIO),
              help=_("Load the chosen saved scenario into the draft again, dropping edits since."))
    if editing:   # (a bare `editing and b4.button(…)` was an expression Streamlit's magic wrote on screen: "False")
        b4.button(_("Make scenario current"), key="make_current", on_click=_make_current, width="stretch",
                  type="primary", disabled=not ss.get(K_SCENARIO),
                  help=_("Copy the chosen saved scenario's rules and threshold into production (the “current” side)."))
    if editing:
        n1, n2 = st.columns([3, 1], vertical_alignment="bottom")
        n1.text_input(_("Save the draft as"), key=K_SAVE_NAME, placeholder=_("e.g. Q3 stricter threshold"))
        n2.button(_("Save scenario"), key="save_scenario", on_click=_save, width="stretch", disabled=draft_rules is None,
                  help=_("Store the draft's rules and threshold under this name (same name: replaced)."))
    else:
        st.caption(_("The draft is yours to try; editors and admins save scenarios and make one current."))
    for note in ss.get(S_SUGGEST, []):
        st.warning(ui.md(note))

current = (current_rules, float(stored_threshold))
draft = (draft_rules, float(draft_threshold)) if draft_rules is not None else None

# ---- figures -------------------------------------------------------------------------------------
# each scenario's figures (evaluation, SDR load, score distribution, gains) come from one scan
fig_cur = fig_draft = ev_cur = ev_draft = load_cur = load_draft = None
with ui.guard(_("the current scenario's figures")), st.spinner(_("Scoring the leads…")):
    fig_cur = ui.call(scoring.scenario_figures, *current, scope, stage)
    load_cur, ev_cur = fig_cur["sdr_load"], fig_cur["evaluation"]
if draft is not None:
    with ui.guard(_("the draft's figures")), st.spinner(_("Scoring the leads with the draft…")):
        fig_draft = ui.call(scoring.scenario_figures, *draft, scope, stage)
        load_draft, ev_draft = fig_draft["sdr_load"], fig_draft["evaluation"]

with header:
    finding = None
    if ev_cur is not None and ev_draft is not None:
        finding = render(scoring.explain_draft_message(current, draft, ev_cur, ev_draft))
    elif ev_cur is not None:
        finding = _("Fix the draft rules to see what they would change.")
    ui.page_header(TITLE, finding)
    if limits["notes"]:
        st.warning(f"**{CANNOT_SHOW}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))

if ev_cur is None:
    st.stop()
if ev_cur["leads"] == 0:
    ui.empty_state(_("No leads were created in this date range — widen the date range or clear the filters."))
    st.stop()

with capacity_slot:
    capacity = st.number_input(_("SDR capacity (MQLs per SDR per week)"), min_value=0.0, step=1.0, format="%g",
                               value=scoring.default_capacity(load_cur), key=K_CAPACITY,
                               help=_("How many new MQLs one SDR can work in a week. Bars above it turn red."))

# ---- side by side: the headline figures ----------------------------------------------------------
st.subheader(_("Current vs draft"))
st.caption(_(
    "Judged on the {leads} leads of this cohort ({weeks} weeks), of which {reached} ({share}) reached {stage}. "
    "**MQLs a week**: leads scoring at or above the threshold ÷ weeks in the cohort. **Per SDR a week**: that ÷ the "
    "{sdrs} SDRs owning leads in it. **Precision**: share of those MQLs that reached {stage}. **Recall**: share of "
    "all leads that reached {stage} that would have been MQLs. **AUC**: the chance that a lead that reached {stage} "
    "scores higher than one that did not (ties count half; 0.5 is a coin toss, 1 is perfect).",
    leads=fmt_int(ev_cur["leads"]), weeks=fmt_num(ev_cur["weeks"]), reached=fmt_int(ev_cur["with_outcome"]),
    share=fmt_pct(ev_cur["outcome_rate"]), stage=stage_md, sdrs=ev_cur["sdrs"]))


def _tiles(label: str, ev: dict, base: dict | None) -> None:
    def delta(key, kind):
        if base is None or ev[key] is None or base[key] is None:
            return None
        d = ev[key] - base[key]
        if kind == "pct":
            return _("{change} pts", change=f"{d * 100:+.1f}")
        if kind == "auc":
            return f"{d:+.3f}"
        return f"{d:+,.1f}"
    cols = st.columns([1.3, 1, 1, 1, 1, 1], vertical_alignment="center")
    cols[0].markdown(f"**{label}**")
    cols[1].metric(_("MQLs a week"), fmt_num(ev["mqls_per_week"]), delta("mqls_per_week", "num"),
                   delta_color="off", border=True, help=_("{n} MQLs in the cohort.", n=fmt_int(ev["above"])))
    cols[2].metric(_("Per SDR a week"), fmt_num(ev["mqls_per_sdr_per_week"]),
                   delta("mqls_per_sdr_per_week", "num"), delta_color="off", border=True)
    cols[3].metric(_("Precision"), fmt_pct(ev["precision"]), delta("precision", "pct"), border=True,
                   help=_("{k} of {n} MQLs reached {stage}.", k=fmt_int(ev["true_positives"]), n=fmt_int(ev["above"]),
                          stage=stage_md))
    cols[4].metric(_("Recall"), fmt_pct(ev["recall"]), delta("recall", "pct"), border=True,
                   help=_("{k} of {n} leads that reached {stage}.", k=fmt_int(ev["true_positives"]),
                          n=fmt_int(ev["with_outcome"]), stage=stage_md))
    cols[5].metric("AUC", fmt_num(ev["auc"], 3), delta("auc", "auc"), border=True)


_tiles(_("Current · {n} rules · threshold {threshold}", n=len(current_rules), threshold=f"{stored_threshold:g}")
       + (_(" · “{name}”", name=ui.md(current_name)) if current_name else ""), ev_cur, None)
if ev_draft is not None:
    _tiles(_("Draft · {n} rules on · threshold {threshold}", n=sum(r.enabled for r in draft_rules),
             threshold=f"{draft_threshold:g}"), ev_draft, ev_cur)
else:
    st.info(_("The draft has a rule that cannot be used (see the message above): fix it to compare."))

# ---- SDR workload --------------------------------------------------------------------------------
st.subheader(_("SDR workload"))
st.caption(_("MQLs each SDR would have received per week under each scenario (their leads scoring at or above the "
             "threshold ÷ {weeks} weeks), against the capacity above; red bars are over capacity. Leads without an "
             "SDR are the grey bar.", weeks=fmt_num(ev_cur["weeks"])))
left, right = st.columns(2)
top = charts.shared_scale(load_cur, load_draft)
with left, ui.guard(_("the current SDR workload chart")):
    ui.chart(charts.sdr_load_chart(load_cur, capacity, scenario="Current", y_max=top, presentation=present, lang=lg),
             key="sdr_current")
with right:
    if ev_draft is not None:
        with ui.guard(_("the draft SDR workload chart")):
            ui.chart(charts.sdr_load_chart(load_draft, capacity, scenario="Draft", y_max=top, presentation=present,
                                           lang=lg), key="sdr_draft")

# ---- score distribution --------------------------------------------------------------------------
st.subheader(_("Scores of leads that reached {stage} and of the rest", stage=stage_md))
st.caption(_("For each group, the share of its leads at each score (bars of equal width); the dashed line is the "
             "threshold. The further apart the green and grey, the better the rules tell the groups apart."))
left, right = st.columns(2)
# (without fig_cur the scan's error is already shown above; nothing below would fare better)
with left, ui.guard(_("the current score distribution")):
    if fig_cur:
        ui.chart(charts.score_distribution_chart(fig_cur["distribution"], stored_threshold, outcome_stage=stage,
                                                 scenario="Current", evaluation=ev_cur, presentation=present,
                                                 lang=lg), key="dist_current")
with right:
    if ev_draft is not None:
        with ui.guard(_("the draft score distribution")):
            dist = fig_draft["distribution"]
            ui.chart(charts.score_distribution_chart(dist, draft_threshold, outcome_stage=stage, scenario="Draft",
                                                     evaluation=ev_draft, presentation=present, lang=lg),
                     key="dist_draft")

# ---- gains ---------------------------------------------------------------------------------------
st.subheader(_("Gains: how fast each scenario finds the good leads"))
st.caption(_("Leads sorted by score, best first: the line shows the share of all leads that reached {stage} found "
             "after contacting the top x% (leads with equal scores enter together). The dotted diagonal is picking "
             "leads at random; the dots are each scenario's MQLs. Lift = how many times better than random.",
             stage=stage_md))
with ui.guard(_("the gains chart")):
    if fig_cur:
        ui.chart(charts.gains_chart(fig_cur["gains"], fig_draft["gains"] if fig_draft else None, current_eval=ev_cur,
                                    draft_eval=ev_draft, outcome_stage=stage, presentation=present, lang=lg),
                 key="gains")

# ---- flipped leads -------------------------------------------------------------------------------
st.subheader(_("Leads the draft would treat differently"))
if ev_draft is not None:
    with ui.guard(_("the flipped leads")):
        flipped = ui.call(scoring.flips, current, draft, scope, stage)   # counts and list from one scan
        counts = flipped["counts"]
        up, down = counts["becomes MQL"], counts["stops being MQL"]
        if up["leads"] == 0 and down["leads"] == 0:
            ui.empty_state(_("No lead changes side: the draft makes exactly the same leads MQLs as the current "
                             "scoring."))
        else:
            st.markdown(ui.md(render(scoring.describe_flips_message(counts, stage))))
            flips = flipped["leads"]
            created = _("Created")
            shown = flips.assign(change=[_(CHANGES[c]) if c in CHANGES else c for c in flips["change"]]).rename(
                columns={"lead_id": _("Lead"), "created_at": created, "channel": _("Channel"),
                         "segment": _("Segment"), "sdr": "SDR", "current_score": _("Current score"),
                         "draft_score": _("Draft score"), "change": _("Change"),
                         "reached_outcome": _("Reached {stage}", stage=stage)})
            st.caption(_("Each lead's score under both scenarios and whether it actually reached {stage} by {as_of}.",
                         stage=stage_md, as_of=fmt_date(scope.as_of))
                       + (_(" The first {n} are listed.", n=fmt_count(len(flips)))
                          if len(flips) < up["leads"] + down["leads"] else ""))
            ui.dataframe(shown, hide_index=True, width="stretch",
                         column_config={created: st.column_config.DatetimeColumn(format="YYYY-MM-DD")})
            ui.download_csv(shown, "flipped_leads", key="dl_flipped")
