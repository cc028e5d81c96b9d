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
from funnel.i18n import N_

K_LANG = "lang"


def browser_language() -> str:
    try:
        return i18n.normalize(st.context.locale)
    except Exception:  # noqa: BLE001 - no browser behind this session (AppTest, bare mode)
        return i18n.DEFAULT_LANGUAGE


def lang() -> str:
    """The session's display language: the switch, else the browser's, else English."""
    return i18n.normalize(st.session_state.get(K_LANG) or browser_language())


def _language_from_url() -> str | None:
    """The language a link names (``?lang=zh``; the switch's label, ``?lang=中文``, works too)."""
    raw = str(st.query_params.get(K_LANG, "")).strip().lower()
    by_label = {label.lower(): code for code, label in i18n.LANGUAGES.items()}
    return raw if raw in i18n.LANGUAGES else by_label.get(raw)


def _keep_page_choices() -> None:
    """On a switch of language: a selectbox or segmented control remembers the *label* the browser
    showed ("渠道"), which the other language's labels no longer contain. Store each choice as its
    value ("channel") before the rerun, so the page keeps the reader's choices in the new language."""
    for key in list(st.session_state.keys()):
        if key == K_LANG:
            continue
        try:
            value = st.session_state[key]
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                st.session_state[key] = value
        except Exception:  # noqa: BLE001 - buttons, editors and uploaders cannot be set: nothing to keep
            continue


def ensure_language() -> None:
    """Settle the session's language before anything is written (app.py calls it first, so the
    navigation is in it too): read from the URL once per session, else the browser's."""
    if K_LANG not in st.session_state:
        st.session_state[K_LANG] = _language_from_url() or browser_language()


def language_switch() -> None:
    """The sidebar's language switch. Not bound to the URL by Streamlit (that would store the label
    shown on the button): the code is read from the URL once per session, else the browser's
    language is taken, and the choice is written back, so the address bar always says ``lang=…``."""
    ensure_language()
    choice = st.segmented_control("语言 · Language", list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get,
                                  key=K_LANG, required=True, on_change=_keep_page_choices) or i18n.DEFAULT_LANGUAGE
    if st.query_params.get(K_LANG) != choice:
        st.query_params[K_LANG] = choice


def _(msgid: str, /, **params) -> str:
    return i18n.translate(lang(), msgid, **params)


def ngettext(singular: str, plural: str, n: int, /, **params) -> str:
    return i18n.ngettext_for(lang(), singular, plural, n, **params)


#: Chinese glosses of the shipped stage names a team keeps in English (glossary-zh.md), for the
#: first mention in an explanation; English shows the name alone.
STAGE_GLOSSES = {"MQL": N_("marketing qualified lead"), "SAL": N_("sales accepted lead"),
                 "SQL": N_("sales qualified lead")}


def glossed(stage: str) -> str:
    """``MQL（营销合格线索）`` in Chinese for a shipped stage name; any other name, and English, as is."""
    if lang() == "en" or stage not in STAGE_GLOSSES:
        return stage
    return _("{stage} ({gloss})", stage=stage, gloss=_(STAGE_GLOSSES[stage]))


def render(message, sep: str | None = None) -> str:
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
