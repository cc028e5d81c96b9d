"""Saved mappings: the column-mapping assistant's "Save as preset", as TOML files.

Mappings a user confirms on the Data page are saved under ``<database folder>/mappings/NAME.toml``
and can be imported by name like a preset (``python -m funnel import --preset NAME --dir FOLDER``).
The TOML is written by ``tomli-w``; the Data page's notes about the mapping (title, who saved it,
the files it was made for) are comment lines ``#@ key = "value"`` above it.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import tomli_w

from .. import store
from ..errors import ConfigError
from ..i18n import Joined, msg
from ..mapping import TABLE_ORDER, load_mapping, mapping_problems, normalise_name
from .base import ROOT
from .registry import PRESETS


def mappings_dir(con_or_path) -> Path:
    """``<database folder>/mappings`` (data/mappings for the default database)."""
    if isinstance(con_or_path, (str, Path)):
        return Path(con_or_path).resolve().parent / "mappings"
    try:
        row = con_or_path.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
        path = row[0] if row else None
    except Exception:  # noqa: BLE001 - an in-memory database has no folder
        path = None
    return (Path(path).resolve().parent if path else (ROOT / "data")) / "mappings"


def mapping_to_toml(mapping: dict, meta: dict | None = None) -> str:
    """TOML text for a mapping, with the Data page's notes (title, file names) as '#@' comment lines."""
    lines = ["# Funnelcast import mapping, saved from the Data page's column-mapping assistant.",
             "# Use it again on the Data page, or: python -m funnel import --mapping THIS_FILE --leads …",
             "# The '#@' lines below are notes for the Data page (title, the files it was made for)."]
    for k, v in (meta or {}).items():
        if isinstance(v, dict):
            lines += [f"#@ {k}.{a} = {json.dumps(str(b), ensure_ascii=False)}" for a, b in v.items()]
        else:
            lines.append(f"#@ {k} = {json.dumps(str(v), ensure_ascii=False)}")
    m = load_mapping(mapping)
    # Only the sections with content, in the order a reader expects them.
    body = {s: {sub: pairs for sub, pairs in m.get(s, {}).items() if pairs} for s in ("columns", "stages")}
    body.update({s: m[s] for s in ("timestamp_formats", "options") if m.get(s)})
    body = {s: v for s, v in body.items() if v}
    return "\n".join(lines) + "\n\n" + tomli_w.dumps(body)


_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def save_mapping(directory, name: str, mapping: dict, files: dict[str, str] | None = None,
                 title: str | None = None) -> Path:
    """Write ``mapping`` as ``directory/NAME.toml``; returns the path."""
    clean = normalise_name(name).replace("_", "-") if name else ""
    if not clean or not _NAME_RE.match(clean):
        raise ConfigError(msg("Give the mapping a short name of letters, digits and dashes, e.g. '{example}'.",
                              example="pipedrive-leads"))
    if clean.replace("-", "_") in PRESETS or clean in PRESETS:
        raise ConfigError(msg("'{name}' is the name of a shipped preset.", name=clean), hint=msg("Pick another name."))
    problems = mapping_problems(mapping)
    if problems:
        raise ConfigError(msg("The mapping was not saved: {problems}", problems=Joined(tuple(problems), None)))
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{clean}.toml"
    meta = {"title": title or clean, "saved_by": store.current_user(),
            "saved_at": dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")}
    if files:
        meta["files"] = {t: Path(str(f)).name for t, f in files.items() if f}
    path.write_text(mapping_to_toml(mapping, meta), encoding="utf-8")
    return path


def load_saved_mapping(path) -> tuple[dict, dict]:
    """(mapping, meta) from a saved mapping file; meta comes from its '#@ key = "value"' lines."""
    text = Path(path).read_text(encoding="utf-8-sig")
    meta: dict = {}
    for line in text.splitlines():
        m = re.match(r'^#@ ([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))? = (".*")\s*$', line)
        if m:
            value = json.loads(m.group(3))
            if m.group(2):
                meta.setdefault(m.group(1), {})[m.group(2)] = value
            else:
                meta[m.group(1)] = value
    return load_mapping(tomllib.loads(text)), meta


def saved_mappings(directory) -> list[dict]:
    """Saved mappings in ``directory``: name, title, path, tables, files."""
    d = Path(directory)
    out = []
    if not d.is_dir():
        return out
    for p in sorted(d.glob("*.toml")):
        try:
            m, meta = load_saved_mapping(p)
        except Exception:  # noqa: BLE001 - a broken file is listed as such, never fatal
            out.append({"name": p.stem, "title": f"{p.stem} (unreadable)", "path": str(p), "tables": [], "files": {},
                        "mapping": None})
            continue
        tables = sorted(set(m.get("columns", {})) | set((meta.get("files") or {})),
                        key=lambda t: TABLE_ORDER.index(t) if t in TABLE_ORDER else 9)
        out.append({"name": p.stem, "title": meta.get("title") or p.stem, "path": str(p), "tables": tables,
                    "files": dict(meta.get("files") or {}), "mapping": m})
    return out


def preset_names(con=None) -> list[str]:
    """Shipped presets, then saved mappings (when a connection is given)."""
    names = list(PRESETS)
    if con is not None:
        names += [m["name"] for m in saved_mappings(mappings_dir(con)) if m["name"] not in PRESETS]
    return names


