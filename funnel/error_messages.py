"""Errors said in the reader's language.

An error of :mod:`funnel.errors` keeps its English text: ``str(err)``, ``err.message`` and
``err.hint`` are what the CLI prints and the tests read. Where the library knows the sentence as a
:class:`funnel.i18n.Message`, the error carries it too — ``err.message_obj`` and ``err.hint_obj`` —
and a page shows :func:`render` of the error, which says it in the reader's language (an error
without messages reads as its English text).
"""
from __future__ import annotations

from .i18n import DEFAULT_LANGUAGE, Message, normalize, render as render_message


def _carried(err: BaseException) -> tuple | None:
    """``(message, hint)`` an error carries as messages, or None. Also the other forms of the same —
    ``err.messages = [message, hint]``, a Message as ``err.message`` — so an error raised that way
    reads in the reader's language too."""
    message, hint = getattr(err, "message_obj", None), getattr(err, "hint_obj", None)
    if isinstance(message, Message) or isinstance(hint, Message):   # FunnelError keeps plain text there too
        return message, hint
    earlier = getattr(err, "messages", None)
    if earlier:
        return earlier[0], earlier[1] if len(earlier) > 1 else None
    if isinstance(getattr(err, "message", None), Message):     # an error given its sentence as a message
        return err.message, getattr(err, "hint", None)
    return None


def render(err: BaseException, lang: str = DEFAULT_LANGUAGE) -> str:
    """What a page shows for ``err``: its sentence and hint in ``lang`` — in English joined by a
    dash as the pages always showed them, in Chinese one sentence after the other. An error that
    carries no messages reads as its English text, dash and all."""
    carried = _carried(err)
    if carried is None:
        message, hint, lang = getattr(err, "message", None), getattr(err, "hint", None), DEFAULT_LANGUAGE
        if message is None:
            return str(err)
    else:
        message, hint = carried
    text, tip = render_message(message, lang), render_message(hint, lang) if hint is not None else ""
    if not tip:
        return text
    return f"{text} — {tip}" if normalize(lang) == DEFAULT_LANGUAGE else text + tip
