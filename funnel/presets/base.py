"""What every preset is made of: file roles, notes, the built tables, and the helpers builders share.

A preset's builder gets ``{role: (file name, DataFrame of strings)}`` and the options, and returns
:class:`Built`: the canonical tables (pandas is fine here: these are input files, not the
analytics path), the source name per table, the stage names it emits per funnel (as *roles*: the
default stage names, mapped onto whatever stage plays that role in the configuration), notes found
in the data, and which source column each canonical column came from (for messages).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from .. import ingest, store
from ..errors import ImportValidationError
from ..i18n import N_, Joined, Message, msg
from ..mapping import guess_mapping, normalise_name

ROOT = Path(__file__).resolve().parents[2]
#: Where the public test data sets live next to the project (absent on a user's machine).
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"

TABLE_LABELS = {"leads": N_("Leads"), "lead_events": N_("Lead stage history"), "opportunities": N_("Opportunities"),
                "opportunity_events": N_("Opportunity stage history")}

# ---------------------------------------------------------------------------------------------
# Stage roles: presets emit these names; each is mapped onto the CONFIGURED stage that plays the
# role (same name, else the same position / kind), so renamed stages keep working.

LEAD_ROLES: dict[str, int | str] = {"Lead": 1, "MQL": 2, "SAL": 3, "SQL": 4, "Opportunity": 5, "Customer": "won",
                                    "Rejected": "rejected", "Recycled": "recycled", "Disqualified": "lost"}
OPP_ROLES: dict[str, int | str] = {"Qualify": 1, "Discovery": 2, "Proposal": 3, "Negotiation": 4,
                                   "Closed Won": "won", "Closed Lost": "lost"}
ROLES = {"lead": LEAD_ROLES, "opportunity": OPP_ROLES}

#: Standard Salesforce opportunity stages → default opportunity stages. By meaning, not by

def role_stage(con, funnel: str, role: str) -> str | None:
    """The configured stage playing ``role`` (a default stage name): same name, else same place."""
    stages = store.stages(con, funnel)
    names = [s.stage for s in stages]
    if role in names:
        return role
    spec = ROLES[funnel].get(role)
    if isinstance(spec, int):
        positioned = [s for s in stages if s.position is not None and s.kind in ("open", "won")]
        if spec <= len(positioned) and positioned[spec - 1].kind == "open":
            return positioned[spec - 1].stage
        return None
    if isinstance(spec, str):
        same = [s.stage for s in stages if s.kind == spec]
        return same[0] if same else None
    return None


def stage_mapping(con, funnel: str, source_to_role: dict[str, str]) -> dict[str, str]:
    out = {}
    for src, role in source_to_role.items():
        target = role_stage(con, funnel, role)
        out[src] = target or role  # unknown role: the import names the stage and says what to do
    return out


# ---------------------------------------------------------------------------------------------
# Preset registry


@dataclass(frozen=True)
class FileRole:
    key: str
    label: str
    patterns: tuple[str, ...]           # glob patterns tried in the folder (case-insensitive)
    required: bool = True
    help: str = ""
    # How auto-detection recognises the file from its header: every entry is a set of alternative
    # column names (compared by header_key, so "Opportunity ID" and "OpportunityId" are one), all
    # of which must be present; none of ``excludes`` may be.
    signature: tuple[tuple[str, ...], ...] = ()
    excludes: tuple[str, ...] = ()


def header_key(name: object) -> str:
    """A header reduced to lower-case letters and digits: report labels and API field names meet
    ("Opportunity ID", "OpportunityId", "opportunity_id" → "opportunityid")."""
    return normalise_name(name).replace("_", "")


class Note(tuple):
    """(topic, text, covers): ``covers`` names the findings of :func:`limitations` it already says.

    ``text`` is a sentence of prose.toml (a preset's fixed notes), or a :class:`~funnel.i18n.Message`
    when a builder words the note from the data (its counts as :mod:`funnel.fmt` figures, its data
    values as plain parameters), so the stored note is said in the reader's language."""

    def __new__(cls, topic: str, text: str | Message, covers: tuple[str, ...] = ()):
        return super().__new__(cls, (topic, text, tuple(covers)))

    topic = property(lambda self: self[0])
    text = property(lambda self: self[1])
    covers = property(lambda self: self[2])


@dataclass
class Built:
    """What a preset's builder hands to the import."""

    tables: dict[str, pd.DataFrame]
    names: dict[str, str]
    stages: dict[str, dict[str, str]] = field(default_factory=dict)   # funnel -> source name -> role
    notes: list[Note] = field(default_factory=list)                   # extra notes found in the data
    # table -> canonical column -> the source file's column it came from (for messages). Rows of
    # a non-leads table may carry source_file / source_row / source_column themselves.
    columns: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Preset:
    name: str
    roles: tuple[FileRole, ...] = ()
    # Title, description and notes come from prose.toml (the registry fills them in).
    title: str = ""
    description: str = ""
    notes: tuple[Note, ...] = ()
    # The module's build(src, options) -> Built; the registry sets it (a module declares PRESET
    # above its builder).
    build: Callable[..., Built] | None = None
    options: tuple[str, ...] = ()
    public_folder: str | None = None     # sub-folder of shared/datasets holding the public data set
    # Scoring rules seeded on import while the stored ones are untouched defaults (see
    # seed_scoring): (attribute, operator, value, points, enabled, group) on columns this preset
    # imports, never on ones that leak the outcome; and the MQL threshold that goes with them.
    scoring_rules: tuple[tuple, ...] = ()
    scoring_threshold: float | None = None


def source_name(f) -> str:
    if isinstance(f, (str, Path)):
        return Path(f).name
    if isinstance(f, tuple) and f:
        return Path(str(f[0])).name
    return Path(str(getattr(f, "name", "upload.csv"))).name


def problem(file: str, table: str, reason: str | Message, column: str | None = None, code: str = "missing_column",
            value: str | None = None) -> ingest.Problem:
    return ingest.Problem(file, table, None, column, value, reason, code)


def refuse(problems: list[ingest.Problem], hint: str | Message | None = None) -> None:
    first = Joined(tuple(p.text_message() for p in problems[:3]), "; ", clauses=True)
    more = len(problems) - 3
    refusal = (msg("Nothing was imported: {problems} (and {n} more).", problems=first, n=str(more)) if more > 0
               else msg("Nothing was imported: {problems}.", problems=first))
    raise ImportValidationError(refusal, problems=problems,
                                hint=hint or msg("Fix the file and import again; the database was not changed."))


class Cols:
    """Find a file's columns by any of several names (compared in lower_snake_case)."""

    def __init__(self, df: pd.DataFrame, file: str, table: str):
        self.df, self.file, self.table = df, file, table
        self.by_norm: dict[str, str] = {}
        for h in df.columns:
            self.by_norm.setdefault(normalise_name(h), h)
        for h in df.columns:   # then API-style spellings: StageName finds "Stage Name" and vice versa
            self.by_norm.setdefault(header_key(h), h)
        self.problems: list[ingest.Problem] = []
        self.used: set[str] = set()

    def find(self, *names: str) -> str | None:
        for n in names:
            h = self.by_norm.get(normalise_name(n)) or self.by_norm.get(header_key(n))
            if h is not None:
                self.used.add(h)
                return h
        return None

    def need(self, label: str, *names: str) -> str | None:
        h = self.find(label, *names)
        if h is None:
            found = ingest._quoted(self.df.columns) if len(self.df.columns) else msg("none")
            self.problems.append(problem(
                self.file, self.table,
                msg('the column "{label}" is missing (found: {found}). Export the file again with this column, or '
                    'check that you chose the right file for this role.', label=label, found=found), column=label))
        return h

    def get(self, h: str | None) -> pd.Series:
        if h is None:
            return pd.Series([""] * len(self.df), index=self.df.index, dtype=object)
        return self.df[h].astype(str).str.strip()


def blank_to_none(s: pd.Series) -> pd.Series:
    s = s.astype(object)
    return s.where(s.astype(str).str.strip() != "", None)


def snake(name: str) -> str:
    """lower_snake_case; a one-word camelCase header is split (TotalVisits → total_visits, but
    "HubSpot Score" → hubspot_score)."""
    s = str(name).strip()
    if not re.search(r"[\s_\-]", s):
        s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", s)
    return normalise_name(s)


def attribute_names(headers: list[str], taken: set[str]) -> dict[str, str]:
    out, seen = {}, set(taken)
    for h in headers:
        base = snake(h) or "column"
        if base[0].isdigit():
            base = "c_" + base
        if base in store.LEAD_CORE_COLUMNS:
            base = "source_" + base
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        out[h] = name
    return out





#: Personal data a CRM export carries that Funnelcast never imports (names in lower_snake_case).
PERSONAL_COLUMNS = {"first_name", "last_name", "full_name", "name", "email", "email_address", "phone",
                    "phone_number", "mobile_phone_number", "mobile_phone", "street_address", "address", "fax",
                    "fax_number", "ip_address", "linkedin_url", "twitter_username"}


def add_lead_attributes(leads: pd.DataFrame, df: pd.DataFrame, rest: list[str], first: list[str] = ()) -> dict:
    """Add a CRM file's other columns to ``leads``: core lead columns named in the export
    (Industry, Job Title, Number of Employees, …) under their canonical names, the rest as
    attributes (``first`` ahead of them). Returns {canonical column: source column} of the core ones."""
    rest = [h for h in rest if h not in first]
    guess = {k: v for k, v in guess_mapping(rest, "leads").items()
             if k in ("segment", "region", "industry", "company_size", "job_title")}
    if "company_size" in guess:
        vals = df[guess["company_size"]].astype(str).str.strip()
        if not vals[vals != ""].str.fullmatch(r"\d+(\.0+)?").all():
            guess.pop("company_size")  # ranges like "11-50" stay an attribute
    for canon, h in guess.items():
        leads[canon] = blank_to_none(df[h].astype(str).str.strip())
    keep = list(first) + [h for h in rest if h not in guess.values()]
    names = attribute_names(keep, set(leads.columns))
    for h in keep:
        leads[names[h]] = blank_to_none(df[h].astype(str).str.strip())
    return guess
