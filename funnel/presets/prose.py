"""What each preset says to a user — title, description, the notes of what its data cannot support —
kept as text in prose.toml beside the builders, so the copy can be edited without touching code.

Each of these sentences is a message (funnel.i18n): ``make i18n-extract`` collects them with
:func:`extract_prose_toml` (babel.cfg), and pages show ``translate(lang, text)``. A note stored with
an import is said in the reader's language when its text is one of them (:func:`is_prose`).
"""
from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

from .base import Note

#: The keys of prose.toml whose values a reader reads (and translators translate).
PROSE_KEYS = ("title", "description", "text")


@cache
def _table() -> dict:
    return tomllib.loads(resources.files("funnel.presets").joinpath("prose.toml").read_text("utf-8"))


def preset_prose(name: str) -> dict:
    """``{"title", "description", "notes"}`` of a preset (notes as :class:`Note` tuples)."""
    entry = _table().get(name, {})
    return {"title": entry.get("title", name), "description": entry.get("description", ""),
            "notes": tuple(Note(n["topic"], n["text"], tuple(n.get("covers", ()))) for n in entry.get("notes", ()))}


def prose_entries(table: dict) -> list[tuple[str, str, str]]:
    """Every sentence of a parsed prose.toml, in the file's order: (preset, key, text) — its title,
    its description, then each note's text."""
    out = []
    for name, entry in table.items():
        for key in ("title", "description"):
            if entry.get(key):
                out.append((name, key, entry[key]))
        out.extend((name, "text", n["text"]) for n in entry.get("notes", ()) if n.get("text"))
    return out


@cache
def _prose_texts() -> frozenset[str]:
    return frozenset(text for _, _, text in prose_entries(_table()))


def is_prose(text: str) -> bool:
    """Is ``text`` a sentence of prose.toml (so the catalogs translate it)?"""
    return text in _prose_texts()


def extract_prose_toml(fileobj, keywords, comment_tags, options):
    """Babel extraction method for prose.toml (babel.cfg names it ``prose_toml`` under
    ``[extractors]``, and maps ``[prose_toml: funnel/presets/prose.toml]``): yields
    ``(lineno, funcname, message, comments)`` for every title, description and note text, with a
    comment naming the preset and the key for the translator.

    The values are read with tomllib (escapes and multi-line strings as TOML means them); each is
    placed on the line of its key, found by scanning the file in order."""
    raw = fileobj.read()
    text = raw.decode(options.get("encoding", "utf-8")) if isinstance(raw, bytes) else raw
    lines = text.splitlines()
    line = 0
    for name, key, value in prose_entries(tomllib.loads(text)):
        pattern = re.compile(rf"^\s*{key}\s*=")
        found = next((i for i in range(line, len(lines)) if pattern.match(lines[i])), None)
        if found is not None:
            line = found + 1
        yield line or 1, None, value, [f"preset {name}: {'note' if key == 'text' else key}"]
