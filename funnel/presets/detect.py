"""Auto-detection: which preset and which file role each file is, from its columns alone.

Every :class:`~funnel.presets.base.FileRole` carries a ``signature`` (groups of alternative column
names, all groups needed) and ``excludes``; a file matches a role when its header has them
(compared by :func:`~funnel.presets.base.header_key`, so report labels and API field names meet).
Files of the canonical contract (leads, lead_events, …) are recognised too. The preset chosen is
the one that takes the most files with its required roles present; files it does not take are
said as such and left to the mapping assistant.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import ingest
from ..errors import ImportValidationError
from ..i18n import Joined, Message, msg
from ..limitations import clear_data_notes
from ..mapping import TABLE_ORDER, TABLES
from .base import TABLE_LABELS, FileRole, header_key, source_name
from .importer import import_preset
from .registry import PRESETS

CANONICAL = "canonical"
#: The canonical contract's files, recognised by their required columns.
CANONICAL_ROLES = tuple(
    FileRole(t, TABLE_LABELS[t], (f"{t}*.csv",), required=False,
             signature=tuple((c,) for c, _, required in TABLES[t] if required),
             excludes=("opportunity_id",) if t in ("leads", "lead_events") else ())
    for t in TABLE_ORDER)
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")


def matches(role: FileRole, keys: set[str]) -> bool:
    """Whether a header (as header keys) has every signature group of ``role`` and none of its excludes."""
    if not role.signature:
        return False
    if any(header_key(x) in keys for x in role.excludes):
        return False
    return all(any(header_key(a) in keys for a in group) for group in role.signature)


def recognise(headers) -> list[tuple[str, str]]:
    """Every (preset, role key) a header matches, most specific first (canonical files last)."""
    keys = {header_key(h) for h in headers}
    hits = [(len(r.signature), p.name, r.key) for p in PRESETS.values() for r in p.roles if matches(r, keys)]
    hits.sort(key=lambda x: -x[0])
    out = [(name, key) for _, name, key in hits]
    if not out:
        # A canonical file: the most specific table first (lead_events has more required columns than leads).
        canon = sorted((r for r in CANONICAL_ROLES if matches(r, keys)), key=lambda r: -len(r.signature))
        out = [(CANONICAL, r.key) for r in canon[:1]]
    return out


@dataclass
class Detection:
    """What auto-detection made of a set of files."""

    preset: str | None                               # a preset name, CANONICAL, or None (nothing known)
    files: dict[str, object] = field(default_factory=dict)          # role key → file, for that preset
    recognised: list[tuple[str, str, str]] = field(default_factory=list)   # (file name, preset, role label)
    left_out: list[tuple[str, str]] = field(default_factory=list)   # (file name, why it is not imported)
    left_out_reasons: list[tuple[str, Message]] = field(default_factory=list)   # the same whys, as messages

    def messages(self) -> list[Message]:
        """What was recognised, then what was left out and why, one message per file (the Data page
        says them in the reader's language)."""
        out = []
        for name, preset, label in self.recognised:
            # the role's label and the preset's title are catalog messages (N_ in the presets, prose.toml)
            what = msg("our canonical format") if preset == CANONICAL else Message(PRESETS[preset].title)
            out.append(msg("{file}: {role} — {preset}.", file=name, role=Message(label), preset=what))
        out += [msg("{file}: {why}", file=name, why=why) for name, why in self.left_out_reasons]
        return out

    def sentences(self) -> list[str]:
        """What was recognised, in words (for the CLI and the Data page)."""
        return [m.render("en") for m in self.messages()]

    def leave_out(self, name: str, why: Message) -> None:
        self.left_out.append((name, why.render("en")))
        self.left_out_reasons.append((name, why))


def _headers(f) -> list[str]:
    try:
        return [str(h) for h in ingest.read_table_file(f, nrows=5).columns]
    except Exception:  # noqa: BLE001 - an unreadable file is said as such, the others still detected
        return []


def detect(files) -> Detection:
    """Recognise a list of files (paths, ``(name, bytes)`` tuples or uploads) by their columns."""
    candidates: dict[int, list[tuple[str, str]]] = {}
    for i, f in enumerate(files):
        candidates[i] = recognise(_headers(f))
    presets = {p for c in candidates.values() for p, _ in c}
    best: tuple[int, int, str] | None = None
    assignment: dict[str, dict[str, int]] = {}
    for name in presets:
        roles = {r.key: r for r in (CANONICAL_ROLES if name == CANONICAL else PRESETS[name].roles)}
        taken: dict[str, int] = {}
        for i, cands in candidates.items():
            for p, key in cands:
                if p == name and key not in taken:
                    taken[key] = i
                    break
        if any(r.required and k not in taken for k, r in roles.items()):
            continue
        assignment[name] = taken
        score = (len(taken), -len(roles), name)   # most files; then the preset with fewer roles
        if best is None or score > best:
            best = score
    chosen = best[2] if best else None
    det = Detection(chosen)
    taken = assignment.get(chosen, {})
    roles = {r.key: r for r in (CANONICAL_ROLES if chosen == CANONICAL else PRESETS[chosen].roles)} if chosen else {}
    by_index = {i: k for k, i in taken.items()}
    for i, f in enumerate(files):
        name = source_name(f)
        if i in by_index:
            det.files[by_index[i]] = f
            det.recognised.append((name, chosen, roles[by_index[i]].label))
        elif candidates[i]:
            p, key = candidates[i][0]
            title = msg("our canonical format") if p == CANONICAL else PRESETS[p].title
            det.leave_out(name, msg("recognised as {preset}, but not imported with the files above: import it on its "
                                    "own.", preset=title))
        else:
            det.leave_out(name, msg("not recognised from its columns: import it through the mapping assistant (Data "
                                    "page → canonical files, or --mapping on the command line)."))
    return det


def detect_folder(directory) -> Detection:
    """:func:`detect` on every data file in ``directory`` (not its sub-folders)."""
    d = Path(directory)
    if not d.is_dir():
        raise ImportValidationError(msg("The folder {folder} does not exist.", folder=str(directory)),
                                    hint=msg("Check the path."))
    files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)
    return detect(files)


def import_detected(con, det: Detection, skip_bad_rows: bool = False, options: dict | None = None):
    """Import what :func:`detect` recognised: the chosen preset's files, or canonical files."""
    if det.preset is None:
        names = (Joined(tuple(n for n, _ in det.left_out), ", ") if ", ".join(n for n, _ in det.left_out)
                 else msg("no data file"))
        raise ImportValidationError(msg("None of the files is a known export ({files}).", files=names),
                                    hint=msg("Import them through the mapping assistant on the Data page, or name each "
                                             "file with {options} and a --mapping.",
                                             options="--leads / --lead-events / --opportunities / --opportunity-events"))
    if det.preset == CANONICAL:
        result = ingest.import_files(con, **det.files, skip_bad_rows=skip_bad_rows)
        clear_data_notes(con)
        return result
    return import_preset(con, det.preset, files=det.files, skip_bad_rows=skip_bad_rows, options=options)
