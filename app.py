"""Funnelcast — the frame: page config, the global filters, navigation. Nothing else.

Widgets defined here keep their state across pages, and each is bound to the URL query string,
so a pasted link reproduces the page, filters, as-of date and presentation mode.
"""
from __future__ import annotations

import streamlit as st

import i18n_ui
import ui
from funnel.i18n import N_

# The favicon ships with the app (a ":material/…:" icon is fetched from fonts.gstatic.com): nothing
# the browser loads leaves this server.
st.set_page_config(page_title="Funnelcast", page_icon=str(ui.ROOT / "static" / "favicon.png"), layout="wide",
                   initial_sidebar_state="expanded")

# The session's language first (from the link, else the browser's): every word below is in it,
# the navigation's section names and page titles too.
i18n_ui.ensure_language()
_ = i18n_ui._

# url_path (and default) come before the translated title: tests/test_architecture.py reads each
# st.Page call up to its first ")".
PAGES = {
    _("Weekly review"): [
        # The default page is served at "/"; Streamlit still reserves its url_path, so it is not
        # "overview": that path belongs to the hidden alias below, which runs the same page, so a
        # link to /overview works instead of saying "Page not found".
        st.Page("pages/overview.py", url_path="home", default=True, title=_("Overview"), icon=":material/home:"),
        st.Page("pages/review_history.py", url_path="review_history", title=_("Review history"), icon=":material/history:"),
        st.Page("pages/overview.py", url_path="overview", visibility="hidden", title=_("Overview")),
    ],
    _("Analyse"): [
        st.Page("pages/conversion.py", url_path="conversion", title=_("Conversion"), icon=":material/filter_alt:"),
        st.Page("pages/time_in_stage.py", url_path="time_in_stage", title=_("Time in stage"), icon=":material/timer:"),
        st.Page("pages/rejections.py", url_path="rejections", title=_("Rejections & recycling"), icon=":material/sync_problem:"),
        st.Page("pages/forecast.py", url_path="forecast", title=_("Forecast"), icon=":material/payments:"),
        st.Page("pages/targets.py", url_path="targets", title=_("Targets & plan"), icon=":material/flag:"),
        st.Page("pages/scoring.py", url_path="scoring", title=_("Scoring what-if"), icon=":material/target:"),
    ],
    _("Manage"): [
        st.Page("pages/data.py", url_path="data", title=_("Data"), icon=":material/database:"),
        st.Page("pages/stage_settings.py", url_path="stage_settings", title=_("Stage settings"), icon=":material/settings:"),
    ],
}
#: A role's name as the sidebar shows it (access.ROLES).
ROLE_NAMES = {"viewer": N_("viewer"), "editor": N_("editor"), "admin": N_("admin")}

# Who is using this session (funnel.access checks it again inside every write function).
me = ui.bind_actor()
mode = ui.sign_in_mode()
if mode == "oidc" and not ui.signed_in():
    st.title("Funnelcast")
    st.markdown(_("Sign in to see the funnel and forecast. Your role (viewer, editor or admin) comes from "
                  "your e-mail address or group."))
    st.button(_("Sign in"), key="sign_in", type="primary", on_click=ui.login)
    st.stop()

present_col = st.container(horizontal=True, horizontal_alignment="right", key="present_bar")
with present_col:
    st.toggle(_("Presentation mode"), key=ui.K_PRESENT, bind="query-params",
              help=_("Hides the sidebar and editing controls and enlarges text and charts for a shared screen."))
presenting = ui.presentation()

st.markdown(
    """<style>
    .st-key-fc_finding p {font-size: 1.25rem; font-weight: 600; color: #0B3D5C; margin: -0.4rem 0 0.2rem 0;}
    [data-testid="stMetricValue"] {font-size: 2.1rem;}
    /* Tiles never cut a figure or a label with an ellipsis: a label and the line under the figure
       wrap, and a figure shrinks from its full size when its tile is narrow (1cqi: 1% of the tile's
       inner width; at 22cqi a figure 4.5 em wide, "$987.65M" or "US$241.2万", fits). */
    [data-testid="stMetricValue"] {container-type: inline-size;}
    [data-testid="stMetricValue"] > div {font-size: min(1em, 22cqi) !important;}
    [data-testid="stMetricValue"] p {font-size: inherit !important;}
    [data-testid="stMetric"] [data-testid="stMarkdownContainer"], [data-testid="stMetric"] [data-testid="stCaptionContainer"],
    [data-testid="stMetric"] p, [data-testid="stMetricDeltaDescription"] {
        white-space: normal !important; overflow: visible !important; text-overflow: clip !important;}
    [data-testid="stMetric"] div:has(> [data-testid="stMetricDelta"]) {flex-wrap: wrap; overflow: visible !important;}
    /* The presentation toggle sits in the header bar, not on a row of its own above every title. */
    .st-key-present_bar {position: fixed; top: 12px; right: 64px; z-index: 999991; width: auto !important;}
    [data-testid="stMainBlockContainer"] {padding-top: 4rem !important;}
    </style>""",
    unsafe_allow_html=True,
)
if presenting:
    st.markdown(
        """<style>
        [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {display: none !important;}
        html, body, [data-testid="stAppViewContainer"] {font-size: 22px !important;}
        [data-testid="stMainBlockContainer"] {padding-top: 90px !important;
            padding-left: clamp(1rem, 3vw, 5rem) !important; padding-right: clamp(1rem, 3vw, 5rem) !important;}
        [data-testid="stMain"] h1 {padding-top: 0.25rem !important;}
        .st-key-present_bar {top: 22px;}
        [data-testid="stPageLink"] p {font-size: 1.2rem !important;}
        h1 {font-size: 3rem !important;} h2 {font-size: 2.2rem !important;} h3 {font-size: 1.8rem !important;}
        .st-key-fc_finding p {font-size: 1.8rem !important;}
        [data-testid="stMetricValue"] {font-size: 3rem !important;}
        [data-testid="stMetricLabel"] p {font-size: 1.3rem !important;}
        [data-testid="stCaptionContainer"] p {font-size: 1.1rem !important;}
        [data-testid="stMarkdown"] [data-testid="stMarkdownContainer"] p,
        [data-testid="stMarkdown"] [data-testid="stMarkdownContainer"] li {font-size: 1.3rem;}
        </style>""",
        unsafe_allow_html=True,
    )

if mode == "network_read_only":
    st.warning(_("Read-only: this server is reachable from the network and no sign-in is configured, so nobody "
                 "can change data here. To edit, sign in must be set up: add an [auth] section (an OpenID Connect "
                 "provider) and [funnelcast.roles] to .streamlit/secrets.toml — see the README, \"Sign-in, roles "
                 "and the audit trail\" — or run the app on this machine only with `make run`."),
               icon=":material/lock:")
if ui.serving_source():
    st.info(i18n_ui._("Read-only: these figures come from tables derived with Spark ({folder}, set by FUNNEL_SOURCE), "
                      "with the stages as they were then. To change stages, probabilities, rules or targets, edit "
                      "them in the configuration database, derive again and reload.",
                      folder=ui.md(ui.serving_source().name)))

facts = ui.data_facts()
with st.sidebar:
    i18n_ui.language_switch()
    st.markdown("### " + _("Filters"))
    if facts["as_of"] is None:
        st.info(_("No data yet: import files on the Data page."))
    else:
        first, last = facts["first"], facts["as_of"]
        st.date_input(_("As of (end of day)"), value=last, min_value=first, max_value=last, key=ui.K_ASOF,
                      bind="query-params", format="YYYY-MM-DD",
                      help=_("Everything is computed as known at the end of this day; later events are ignored."))
        st.date_input(_("Leads created from"), value=first, min_value=first, max_value=last, key=ui.K_FROM,
                      bind="query-params", format="YYYY-MM-DD", help=_("Cohort: leads created from this day …"))
        st.date_input(_("Leads created to"), value=last, min_value=first, max_value=last, key=ui.K_TO,
                      bind="query-params", format="YYYY-MM-DD", help=_("… to this day (inclusive)."))
        for dim, options in facts["options"].items():
            if options:
                # Shown (and put in the URL) as readable text — "Paid search", not paid_search; the
                # filter itself keeps the stored values. Raw text where two values would read alike.
                shown = [ui.readable(o) for o in options]
                st.multiselect(_(ui.DIMENSION_LABELS[dim]) if dim in ui.DIMENSION_LABELS else dim, options,
                               key=f"f_{dim}", bind="query-params", placeholder=_("All"),
                               format_func=ui.readable if len(set(shown)) == len(shown) else str)
    st.divider()
    st.caption(_("Database: {name}", name=f"`{ui.db_path().name}`"))
    who = me.email or me.name
    role = _(ROLE_NAMES[me.role]) if me.role in ROLE_NAMES else me.role
    # Plain text (no Markdown): the name and e-mail come from the identity provider.
    st.text(_("{who} · {role} (local, this machine only)", who=who, role=role) if mode == "local" else
            _("{who} · {role}", who=who, role=role))
    if mode == "oidc":
        st.button(_("Sign out"), key="sign_out", on_click=st.logout)

pg = st.navigation(PAGES, position="top" if presenting else "sidebar")
pg.run()
