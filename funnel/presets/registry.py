"""The shipped presets by name, and where their files are.

A new CRM is one module beside this one that defines ``PRESET`` (a :class:`~funnel.presets.base.Preset`
with its file roles and notes) and ``build(src, options) -> Built``; list it in :data:`MODULES`
(its title, description and notes in prose.toml; its seeded scoring rules, if it has leads, in
scoring_rules.toml).
"""
from __future__ import annotations

import fnmatch
from dataclasses import replace
from pathlib import Path

from ..errors import ConfigError
from ..i18n import Joined, msg
from . import hubspot_contacts, hubspot_deals, maven_crm, olist, salesforce, x_education
from .base import SHARED_DATASETS, Preset
from .prose import preset_prose
from .scoring_seed import preset_seed

MODULES = (olist, maven_crm, x_education, hubspot_contacts, hubspot_deals, salesforce)
PRESETS: dict[str, Preset] = {
    m.PRESET.name: replace(m.PRESET, build=m.build, **preset_prose(m.PRESET.name), **preset_seed(m.PRESET.name))
    for m in MODULES}
#: Former names that still work (on the command line and in saved links).
ALIASES = {"salesforce_opportunity_history": "salesforce"}


def resolve_name(name: str) -> str:
    """A preset's current name (a former name is resolved through :data:`ALIASES`)."""
    return ALIASES.get(name, name)


def preset_notes(name: str) -> list[str]:
    """The plain sentences of what a shipped preset's data cannot support."""
    name = resolve_name(name)
    if name not in PRESETS:
        raise ConfigError(msg("There is no preset called '{name}'.", name=name),
                          hint=msg("Use one of: {names}.", names=Joined(tuple(PRESETS), ", ")))
    return [n.text for n in PRESETS[name].notes]


def default_directory(name: str) -> Path | None:
    """The folder holding a public preset's data set, when it is present next to the project."""
    p = PRESETS.get(resolve_name(name))
    if p is None or not p.public_folder:
        return None
    d = SHARED_DATASETS / p.public_folder
    return d if d.is_dir() else None


def find_preset_files(name: str, directory) -> dict[str, Path]:
    """Locate a preset's files in ``directory`` (or one of its sub-folders) by their usual names."""
    p = PRESETS[resolve_name(name)]
    base = Path(directory)
    folders = [base] + (sorted(x for x in base.iterdir() if x.is_dir()) if base.is_dir() else [])
    if p.public_folder and (base / p.public_folder).is_dir():
        folders.insert(0, base / p.public_folder)
    found: dict[str, Path] = {}
    taken: set[Path] = set()
    for role in p.roles:
        for folder in folders:
            if not folder.is_dir():
                continue
            files = sorted(x for x in folder.iterdir() if x.is_file())
            hit = next((x for pat in role.patterns for x in files
                        if x not in taken and _glob_match(x.name, pat)), None)
            if hit is not None:
                found[role.key] = hit
                taken.add(hit)
                break
    return found


def _glob_match(name: str, pattern: str) -> bool:
    return fnmatch.fnmatch(name.lower(), pattern.lower())


def source_label(source: str | None) -> str:
    """A readable name for an import_runs source ('preset:olist' → the preset's title)."""
    if not source:
        return "unknown"
    if source == "sample":
        return "the generated sample data"
    if source == "files":
        return "files in the canonical format"
    if source.startswith("preset:"):
        p = PRESETS.get(source.split(":", 1)[1])
        return f"the {p.title} preset" if p else source
    if source.startswith("mapping:"):
        return f"the saved mapping '{source.split(':', 1)[1]}'"
    return source
