"""What each preset says to a user — title, description, the notes of what its data cannot support —
kept as text in prose.toml beside the builders, so the copy can be edited without touching code."""
from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from .base import Note


@cache
def _table() -> dict:
    return tomllib.loads(resources.files("funnel.presets").joinpath("prose.toml").read_text("utf-8"))


def preset_prose(name: str) -> dict:
    """``{"title", "description", "notes"}`` of a preset (notes as :class:`Note` tuples)."""
    entry = _table().get(name, {})
    return {"title": entry.get("title", name), "description": entry.get("description", ""),
            "notes": tuple(Note(n["topic"], n["text"], tuple(n.get("covers", ()))) for n in entry.get("notes", ()))}
