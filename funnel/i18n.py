"""Translations: gettext catalogs, compiled with Babel when first used.

Messages are written in English in the code and looked up in
``funnel/locales/<lang>/LC_MESSAGES/funnelcast.po`` (``make i18n-extract`` collects them into
``funnel/locales/funnelcast.pot`` and merges new ones into each ``.po``). The ``.po`` is compiled
to a ``.mo`` in memory on first use (Babel's ``write_mo``) and read through the standard
``gettext.GNUTranslations``, so a fresh clone needs no build step; ``make i18n-compile`` writes
the ``.mo`` files too, for tools that want them.

Three ways a string gets translated:

- a page: ``_("Leads in the cohort")`` / ``ngettext("{n} loop", "{n} loops", n, n=…)`` from
  ``i18n_ui`` (bound to the session's language);
- a chart builder or any pure function given ``lang``: ``translate(lang, msgid, **params)`` /
  ``ngettext_for(lang, singular, plural, n, **params)``, or ``_ = gettext_for(lang)``;
- the library, which knows no reader: it returns :class:`Message` objects (``msg(msgid, **params)``,
  ``msg_n(singular, plural, n, **params)``) whose parameters may be figures
  (:mod:`funnel.fmt` values such as ``fmt.Pct(0.42)``); a page renders them with ``render``.

Parameters are named, in braces: ``"{share} of {total} leads"``. Only ``{name}`` is a parameter:
Plotly's ``%{x:,}`` placeholders pass through untouched, so hover templates are messages too.

A message with no translation falls back to English and is recorded (:func:`missing`); the tests
fail on any recorded message and on any catalog entry left untranslated.
"""
from __future__ import annotations

import gettext
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "funnelcast"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
#: Display languages, in the order the switch lists them; the first is the fallback.
LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"

#: Babel's extraction keywords for these functions (babel.cfg and ``make i18n-extract`` use them).
KEYWORDS = {"_": None, "translate": (2,), "ngettext": (1, 2), "ngettext_for": (2, 3),
            "msg": None, "msg_n": (1, 2), "N_": None}

_PARAM = re.compile(r"(?<!%)\{([A-Za-z_][A-Za-z0-9_]*)\}")
_missing: set[tuple[str, str]] = set()
_missing_lock = threading.Lock()


def normalize(lang: str | None) -> str:
    """A supported language code from anything a browser or URL says (``zh-CN``, ``zh_Hans``, ``EN``);
    unknown → English."""
    code = (lang or "").strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


class _Recorder(gettext.NullTranslations):
    """The last fallback: English text, and a note of the message that had no translation."""

    def __init__(self, lang: str):
        super().__init__()
        self.lang = lang

    def gettext(self, message):
        with _missing_lock:
            _missing.add((self.lang, message))
        return message

    def ngettext(self, msgid1, msgid2, n):
        with _missing_lock:
            _missing.add((self.lang, msgid1))
        return msgid1 if n == 1 else msgid2


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: the messages themselves)."""
    lang = normalize(lang)
    if lang == "en":
        return gettext.NullTranslations()
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog)          # fuzzy entries are left out: they count as missing
    mo.seek(0)
    t = gettext.GNUTranslations(mo)
    t.add_fallback(_Recorder(lang))
    return t


def substitute(text: str, params: dict) -> str:
    """Fill ``{name}`` placeholders; a placeholder without a parameter is an error in the message."""
    def one(m):
        name = m.group(1)
        if name not in params:
            raise KeyError(f"message {text!r} needs parameter {name!r}")
        return str(params[name])
    return _PARAM.sub(one, text)


def _format_params(params: dict, lang: str) -> dict:
    out = {}
    for k, v in params.items():
        if hasattr(v, "format") and not isinstance(v, str):
            out[k] = v.format(lang)            # a funnel.fmt value: formatted for the reader
        elif isinstance(v, Message):
            out[k] = v.render(lang)
        else:
            out[k] = "" if v is None else str(v)   # data values are shown as the data has them
    return out


def translate(lang: str, msgid: str, /, **params) -> str:
    """``msgid`` in ``lang``, its ``{name}`` parameters filled."""
    return substitute(translations(lang).gettext(msgid), _format_params(params, lang))


def ngettext_for(lang: str, singular: str, plural: str, n: int, /, **params) -> str:
    """The singular or plural form for ``n`` in ``lang`` (Chinese has one form)."""
    text = translations(lang).ngettext(singular, plural, int(n))
    return substitute(text, _format_params(params, lang))


def gettext_for(lang: str):
    """``_ = gettext_for(lang)``: a translate function bound to one language."""
    def _(msgid: str, /, **params) -> str:
        return translate(lang, msgid, **params)
    return _


def N_(msgid: str) -> str:
    """Marks a string for extraction without translating it (translated where it is shown)."""
    return msgid


@dataclass(frozen=True)
class Message:
    """A sentence the library computed, in no language yet: a message id and its parameters.

    Parameters are strings (data values, shown as they are), :mod:`funnel.fmt` values (figures,
    formatted for the reader) or other messages. Picklable and hashable, so cached results hold them.
    """
    msgid: str
    params: tuple = ()
    plural: str | None = None
    n: int | None = None

    def render(self, lang: str = DEFAULT_LANGUAGE) -> str:
        params = dict(self.params)
        if self.plural is not None:
            return ngettext_for(lang, self.msgid, self.plural, self.n, **params)
        return translate(lang, self.msgid, **params)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)


def msg(msgid: str, **params) -> Message:
    return Message(msgid, tuple(sorted(params.items())))


def msg_n(singular: str, plural: str, n: int, /, **params) -> Message:
    return Message(singular, tuple(sorted(params.items())), plural, int(n))


#: How the items of a list are joined, per separator (English ", " / "; " / " or "; Chinese 、；或).
_LIST_JOINS = {", ": N_("{first}, {then}"), "; ": N_("{first}; {then}"), " or ": N_("{first} or {then}")}


def list_of(items, sep: str = ", "):
    """The items (messages or data values) as one message read as a list: ``a, b, c`` in English,
    ``a、b、c`` in Chinese (``sep``: one of ``", "``, ``"; "``, ``" or "``). One item is returned
    as it is."""
    items = list(items)
    out = items[0]
    for item in items[1:]:
        out = msg(_LIST_JOINS[sep], first=out, then=item)
    return out


def sentences(messages) -> Message:
    """Several sentences as one message: a space between them in English, none in Chinese (after
    its full-width punctuation)."""
    messages = list(messages)
    out = messages[0]
    for m in messages[1:]:
        out = msg("{first} {then}", first=out, then=m)
    return out


#: Between two sentences: a space in English, nothing after Chinese full-width punctuation.
SENTENCE_SEPARATORS = {"zh": ""}


def render(message, lang: str = DEFAULT_LANGUAGE, sep: str | None = None) -> str:
    """A :class:`Message`, a list of them (sentences, joined with ``sep``: by default the language's
    sentence separator), a parameter value (:class:`Joined`, a :mod:`funnel.fmt` figure) or plain
    text, in ``lang``."""
    if message is None:
        return ""
    if isinstance(message, Message):
        return message.render(lang)
    if isinstance(message, (list, tuple)):
        joiner = SENTENCE_SEPARATORS.get(normalize(lang), " ") if sep is None else sep
        return joiner.join(render(m, lang) for m in message)
    if hasattr(message, "format") and not isinstance(message, str):
        return message.format(lang)            # a parameter value (Joined, a funnel.fmt figure)
    return str(message)


@dataclass(frozen=True)
class Joined:
    """A message parameter that lists items (messages or text) with a separator that is itself a
    message: ``Joined(names, N_(", "))`` reads "a, b" in English and "a、b" in Chinese. With
    ``clauses`` each item loses its full stop first: sentences joined as clauses of one sentence
    ("a; b" from "a." and "b."). ``sep=None``: sentences, one after another (the language's
    sentence separator)."""
    items: tuple
    sep: str | None = ", "
    clauses: bool = False

    def format(self, lang: str) -> str:
        parts = [render(m, lang) for m in self.items]
        if self.clauses:
            parts = [p.rstrip(".") if normalize(lang) == "en" else p.rstrip("。.") for p in parts]
        if self.sep is None:
            return SENTENCE_SEPARATORS.get(normalize(lang), " ").join(parts)
        return translate(lang, self.sep).join(parts)


def missing(lang: str | None = None) -> set[str]:
    """Messages looked up since the last :func:`reset_missing` that had no translation."""
    with _missing_lock:
        return {m for lg, m in _missing if lang is None or lg == lang}


def reset_missing() -> None:
    with _missing_lock:
        _missing.clear()
