"""Sentences kept in the database, said in the language of whoever reads them later.

A record written once and read for years (an audit row's summary, an import run's message, a data
limitation note) keeps its English text, which the CLI, the CSV download and older versions read,
and beside it the :class:`funnel.i18n.Message` it was rendered from: its message id and its
parameters as JSON. A page renders that message in the reader's language; a row written before
messages were stored (no id) is shown as its text.

The JSON of a message is ``{"msgid": …, "params": {…}}`` (a plural message adds ``"plural"`` and
``"n"``; in the two columns, :func:`to_columns`, they ride with the parameters under ``__plural__`` and
``__n__``). Parameter values are JSON scalars (data values, shown as the data has them), a figure
of :mod:`funnel.fmt` tagged by its kind (``{"date": "2026-03-05"}``, ``{"count": 3}``,
``{"pct": 0.25, "digits": 0}``, ``{"money": 1200.0, "currency": "EUR"}``, ``{"times": 1.5,
"digits": 1}``, ``{"duration": 4.5, "short": false}``), or another message (``{"msg": msgid,
"params": {…}}``, plural keys as above). :mod:`funnel.limitations` keeps its notes in this form.
"""
from __future__ import annotations

import json
from datetime import date

from . import fmt
from .i18n import DEFAULT_LANGUAGE, Message, normalize

# fmt value type -> (tag, its JSON fields besides the value, how to build it back)
_FIGURES = {
    fmt.Count: ("count", "value", ()),
    fmt.Pct: ("pct", "value", ("digits",)),
    fmt.Times: ("times", "value", ("digits",)),
    fmt.Duration: ("duration", "days", ("short",)),
    fmt.Money: ("money", "value", ("currency",)),
}
_BY_TAG = {tag: (cls, field, extra) for cls, (tag, field, extra) in _FIGURES.items()}


def _encode_value(value):
    if isinstance(value, Message):
        return {"msg": value.msgid, **_encode_rest(value)}
    if isinstance(value, fmt.Date):
        return {"date": value.value.isoformat()}
    if type(value) in _FIGURES:
        tag, field, extra = _FIGURES[type(value)]
        return {tag: getattr(value, field), **{k: getattr(value, k) for k in extra}}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if hasattr(value, "item"):          # a numpy number from a query
        return value.item()
    raise TypeError(f"a stored message cannot keep a parameter of type {type(value).__name__}: "
                    "pass a string, a number, a funnel.fmt figure or a message")


def _encode_rest(message: Message) -> dict:
    out = {"params": {k: _encode_value(v) for k, v in message.params}}
    if message.plural is not None:
        out.update(plural=message.plural, n=message.n)
    return out


def encode(message: Message) -> dict:
    """``message`` as JSON-ready data: ``{"msgid", "params"[, "plural", "n"]}``."""
    return {"msgid": message.msgid, **_encode_rest(message)}


def _decode_value(value):
    if isinstance(value, dict):
        if "msg" in value:
            return _message(value["msg"], value)
        if "date" in value:
            return fmt.Date(date.fromisoformat(str(value["date"])[:10]))
        for tag, (cls, field, extra) in _BY_TAG.items():
            if tag in value:
                return cls(**{field: value[tag], **{k: value[k] for k in extra if k in value}})
        raise ValueError(f"unknown stored message parameter {value!r}")
    return value


def _message(msgid: str, data: dict) -> Message:
    params = tuple(sorted((k, _decode_value(v)) for k, v in (data.get("params") or {}).items()))
    if data.get("plural") is not None:
        return Message(msgid, params, data["plural"], int(data["n"]))
    return Message(msgid, params)


def decode(data: dict) -> Message:
    """The message :func:`encode` gave ``data`` for."""
    return _message(data["msgid"], data)


# ---- the two columns a table keeps beside the English text: <name>_msgid, <name>_params -----------


def to_columns(message: Message | str | None) -> tuple[str | None, str | None, str | None]:
    """``(English text, message id, parameters as JSON)`` to store for ``message``; plain text (a
    sentence that is data, or a caller that has no message) is stored as text alone."""
    if not isinstance(message, Message):
        return message, None, None
    data = encode(message)
    params = dict(data["params"])
    if message.plural is not None:
        # the plural form and count ride with the parameters, under names no message uses
        params.update({"__plural__": message.plural, "__n__": message.n})
    return message.render("en"), message.msgid, json.dumps(params, ensure_ascii=False, sort_keys=True)


def from_columns(msgid: str | None, params_json: str | None) -> Message | None:
    """The message stored by :func:`to_columns`, or None for a row stored as text alone."""
    if not msgid or not isinstance(msgid, str):
        return None
    params = json.loads(params_json) if isinstance(params_json, str) and params_json else {}
    plural, n = params.pop("__plural__", None), params.pop("__n__", None)
    return _message(msgid, {"params": params, "plural": plural, "n": n})


def render(text, msgid, params_json, lang: str) -> str:
    """A stored sentence in ``lang``: English as stored (the record as written); another language
    from its message when it has one, else as stored too (a row written before messages were kept,
    or whose message cannot be rebuilt any more)."""
    stored = "" if text is None or (isinstance(text, float) and text != text) else str(text)
    if normalize(lang) == DEFAULT_LANGUAGE:
        return stored
    try:
        message = from_columns(msgid, params_json)
    except (KeyError, TypeError, ValueError):
        return stored
    if message is None:
        return stored
    try:
        return message.render(lang)
    except (KeyError, TypeError, ValueError):   # a parameter a later release renamed
        return stored
