"""The display language of this session, for pages (Streamlit-aware, like ui.py).

A sidebar switch (``language_switch``, called once from app.py's sidebar) bound to the URL as
``lang=zh`` / ``lang=en``; without one in the URL the browser's language (``st.context.locale``)
decides, else English. The choice lives in the session, so two people on one server read two
languages. Pages call ``_("…")`` / ``ngettext(…)`` and the ``fmt_*`` helpers here; library
sentences (:class:`funnel.i18n.Message`) go through ``render``.
"""
from __future__ import annotations

import streamlit as st

from funnel import fmt, i18n, store

K_LANG = "lang"


def browser_language() -> str:
    try:
        return i18n.normalize(st.context.locale)
    except Exception:  # noqa: BLE001 - no browser behind this session (AppTest, bare mode)
        return i18n.DEFAULT_LANGUAGE


def lang() -> str:
    """The session's display language: the switch, else the browser's, else English."""
    return i18n.normalize(st.session_state.get(K_LANG) or browser_language())


def language_switch() -> None:
    """The sidebar's language switch, bound to the URL (``?lang=zh``)."""
    if st.session_state.get(K_LANG) is None and K_LANG not in st.query_params:
        # Put the browser's language into the switch, so the URL says which language a shared link shows.
        st.session_state[K_LANG] = browser_language()
    st.segmented_control("语言 · Language", list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key=K_LANG,
                         bind="query-params", required=True, default=i18n.DEFAULT_LANGUAGE)


def _(msgid: str, /, **params) -> str:
    return i18n.translate(lang(), msgid, **params)


def ngettext(singular: str, plural: str, n: int, /, **params) -> str:
    return i18n.ngettext_for(lang(), singular, plural, n, **params)


def render(message, sep: str = " ") -> str:
    return i18n.render(message, lang(), sep)


# ---- Formatting in the session's language (funnel.fmt; English as ui.fmt_*) ---------------------


def currency() -> str:
    """The database's currency setting (ISO code); USD when none is set."""
    import ui
    cur = ui.con()
    try:
        return fmt.currency(cur)
    finally:
        cur.close()


def fmt_money(x) -> str:
    return fmt.money(x, lang(), currency())


def fmt_pct(x, digits: int = 1) -> str:
    return fmt.pct(x, lang(), digits)


def fmt_int(x) -> str:
    return fmt.count_short(x, lang())


def fmt_count(x) -> str:
    return fmt.count(x, lang())


def fmt_num(x, digits: int = 1) -> str:
    return fmt.number(x, lang(), digits)


def fmt_days(x) -> str:
    return fmt.duration(x, lang(), short=True)


def fmt_hours(h) -> str:
    return fmt.hours(h, lang())


def fmt_date(d) -> str:
    return fmt.date(d, lang())
