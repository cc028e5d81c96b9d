"""Funnelcast — the frame: page config, the global filters, navigation. Nothing else.

Widgets defined here keep their state across pages, and each is bound to the URL query string,
so a pasted link reproduces the page, filters, as-of date and presentation mode.
"""
from __future__ import annotations

import streamlit as st

import i18n_ui
import ui

# The favicon ships with the app (a ":material/…:" icon is fetched from fonts.gstatic.com): nothing
# the browser loads leaves this server.
st.set_page_config(page_title="Funnelcast", page_icon=str(ui.ROOT / "static" / "favicon.png"), layout="wide",
                   initial_sidebar_state="expanded")

PAGES = {
    "Weekly review": [
        # The default page is served at "/"; Streamlit still reserves its url_path, so it is not
        # "overview": that path belongs to the hidden alias below, which runs the same page, so a
        # link to /overview works instead of saying "Page not found".
        st.Page("pages/overview.py", title="Overview", icon=":material/home:", url_path="home", default=True),
        st.Page("pages/review_history.py", title="Review history", icon=":material/history:", url_path="review_history"),
        st.Page("pages/overview.py", title="Overview", url_path="overview", visibility="hidden"),
    ],
    "Analyse": [
        st.Page("pages/conversion.py", title="Conversion", icon=":material/filter_alt:", url_path="conversion"),
        st.Page("pages/time_in_stage.py", title="Time in stage", icon=":material/timer:", url_path="time_in_stage"),
        st.Page("pages/rejections.py", title="Rejections & recycling", icon=":material/sync_problem:", url_path="rejections"),
        st.Page("pages/forecast.py", title="Forecast", icon=":material/payments:", url_path="forecast"),
        st.Page("pages/targets.py", title="Targets & plan", icon=":material/flag:", url_path="targets"),
        st.Page("pages/scoring.py", title="Scoring what-if", icon=":material/target:", url_path="scoring"),
    ],
    "Manage": [
        st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
        st.Page("pages/stage_settings.py", title="Stage settings", icon=":material/settings:", url_path="stage_settings"),
    ],
}

# Who is using this session (funnel.access checks it again inside every write function).
me = ui.bind_actor()
mode = ui.sign_in_mode()
if mode == "oidc" and not ui.signed_in():
    st.title("Funnelcast")
    st.markdown("Sign in to see the funnel and forecast. Your role (viewer, editor or admin) comes from "
                "your e-mail address or group.")
    st.button("Sign in", key="sign_in", type="primary", on_click=ui.login)
    st.stop()

present_col = st.container(horizontal=True, horizontal_alignment="right", key="present_bar")
with present_col:
    st.toggle("Presentation mode", key=ui.K_PRESENT, bind="query-params",
              help="Hides the sidebar and editing controls and enlarges text and charts for a shared screen.")
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
    st.warning("Read-only: this server is reachable from the network and no sign-in is configured, so nobody "
               "can change data here. To edit, sign in must be set up: add an [auth] section (an OpenID Connect "
               "provider) and [funnelcast.roles] to .streamlit/secrets.toml — see the README, \"Sign-in, roles "
               "and the audit trail\" — or run the app on this machine only with `make run`.",
               icon=":material/lock:")

facts = ui.data_facts()
with st.sidebar:
    i18n_ui.language_switch()
    st.markdown("### Filters")
    if facts["as_of"] is None:
        st.info("No data yet: import files on the Data page.")
    else:
        first, last = facts["first"], facts["as_of"]
        st.date_input("As of (end of day)", value=last, min_value=first, max_value=last, key=ui.K_ASOF,
                      bind="query-params", format="YYYY-MM-DD",
                      help="Everything is computed as known at the end of this day; later events are ignored.")
        st.date_input("Leads created from", value=first, min_value=first, max_value=last, key=ui.K_FROM,
                      bind="query-params", format="YYYY-MM-DD", help="Cohort: leads created from this day …")
        st.date_input("Leads created to", value=last, min_value=first, max_value=last, key=ui.K_TO,
                      bind="query-params", format="YYYY-MM-DD", help="… to this day (inclusive).")
        for dim, options in facts["options"].items():
            if options:
                # Shown (and put in the URL) as readable text — "Paid search", not paid_search; the
                # filter itself keeps the stored values. Raw text where two values would read alike.
                shown = [ui.readable(o) for o in options]
                st.multiselect(ui.DIMENSION_LABELS.get(dim, dim), options, key=f"f_{dim}", bind="query-params",
                               placeholder="All", format_func=ui.readable if len(set(shown)) == len(shown) else str)
    st.divider()
    st.caption(f"Database: `{ui.db_path().name}`")
    who = me.email or me.name
    # Plain text (no Markdown): the name and e-mail come from the identity provider.
    st.text(f"{who} · {me.role}" + (" (local, this machine only)" if mode == "local" else ""))
    if mode == "oidc":
        st.button("Sign out", key="sign_out", on_click=st.logout)

pg = st.navigation(PAGES, position="top" if presenting else "sidebar")
pg.run()
