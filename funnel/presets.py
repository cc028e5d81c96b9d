"""Import presets: known CRM exports and public data sets, turned into the canonical tables.

Users have CRM exports, not our CSV contract. A preset reads the files of one known shape, builds
the four canonical tables from them (pandas is fine here: these are input files, not the
analytics path) and hands them to :func:`funnel.ingest.import_files`, so validation,
all-or-nothing and the ``import_runs`` log apply exactly as for a hand-made import
(``source = "preset:NAME"``).

A preset REPLACES all four tables: a table the source has nothing for (e.g. Maven CRM has no
leads) is emptied after the import committed, in a second transaction, so no figure mixes the new
data with what was there before. Each preset carries ``notes``: plain sentences of what its data
cannot support. They are stored with the import (setting ``data_notes``) and
:func:`data_limitations` combines them with what it finds in the database, so every page can say
plainly what cannot be computed and why.

Shipped presets (see :data:`PRESETS`): ``olist``, ``maven_crm``, ``x_education``,
``hubspot_contacts``, ``salesforce_opportunity_history``. Mappings a user confirms in the Data
page's column-mapping assistant are saved as TOML under ``<database folder>/mappings/`` and can be
imported by name like a preset (``python -m funnel import --preset NAME --dir FOLDER``).

Options (``import_preset(..., options={...})``):

* ``date_format`` — how to read dates that are not ISO 8601 (``YYYY-MM-DD``): ``"auto"``
  (default: day-first when a day above 12 appears first or the separator is a dot, month-first
  when it appears second; ambiguous data is refused with a message), ``"day-first"``
  (31/12/2025, 31.12.2025 14:05), ``"month-first"`` (12/31/2025 2:05 PM) or a strptime format
  such as ``"%d.%m.%Y %H:%M"``. HubSpot and Salesforce presets.
* ``decimal`` — ``"."`` (default: 1,234.50) or ``","`` (1.234,50) for amounts. Salesforce.
* ``stage_map`` — ``{"Your stage name": "Configured stage"}`` for custom Salesforce stages.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from . import ingest, store
from .errors import ConfigError, FunnelError, ImportValidationError
from .mapping import (TABLE_ORDER, TABLES, TIME_COLUMNS, guess_mapping, load_mapping,
                      normalise_name, validate_mapping)
from .query import DIMENSIONS

__all__ = [
    "PRESETS", "Preset", "FileRole", "import_preset", "preset_notes", "preset_names", "find_preset_files",
    "default_directory", "data_limitations", "limitations", "page_limitations", "limitation_findings", "notes_for_page", "PAGE_TOPICS", "TOPICS", "data_notes", "clear_data_notes", "dry_run", "DryRun",
    "parse_dates", "detect_date_order", "suggest_timestamp_format", "guess_columns", "guess_stage_map",
    "build_mapping", "mapping_to_toml", "save_mapping", "saved_mappings", "load_saved_mapping", "mappings_dir",
    "problems_frame", "apply_column_mapping", "distinct_values", "assistant_frame", "column_samples",
    "configured_stage_names", "seed_scoring", "restore_default_scoring", "scoring_is_untouched",
    "preset_scoring_rules",
]

ROOT = Path(__file__).resolve().parents[1]
#: Where the public test data sets live next to the project (absent on a user's machine).
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"

NOTES_KEY = "data_notes"
TABLE_LABELS = {"leads": "Leads", "lead_events": "Lead stage history", "opportunities": "Opportunities",
                "opportunity_events": "Opportunity stage history"}

# ---------------------------------------------------------------------------------------------
# Stage roles: presets emit these names; each is mapped onto the CONFIGURED stage that plays the
# role (same name, else the same position / kind), so renamed stages keep working.

LEAD_ROLES: dict[str, int | str] = {"Lead": 1, "MQL": 2, "SAL": 3, "SQL": 4, "Opportunity": 5, "Customer": "won",
                                    "Rejected": "rejected", "Recycled": "recycled", "Disqualified": "lost"}
OPP_ROLES: dict[str, int | str] = {"Qualify": 1, "Discovery": 2, "Proposal": 3, "Negotiation": 4,
                                   "Closed Won": "won", "Closed Lost": "lost"}
ROLES = {"lead": LEAD_ROLES, "opportunity": OPP_ROLES}

#: Standard Salesforce opportunity stages → default opportunity stages. By meaning, not by
#: Salesforce's default probabilities: the four middle "selling" steps are discovery work.
SALESFORCE_STAGES = {
    "Prospecting": "Qualify",
    "Qualification": "Qualify",
    "Needs Analysis": "Discovery",
    "Value Proposition": "Discovery",
    "Id. Decision Makers": "Discovery",
    "Perception Analysis": "Discovery",
    "Proposal/Price Quote": "Proposal",
    "Negotiation/Review": "Negotiation",
    "Closed Won": "Closed Won",
    "Closed Lost": "Closed Lost",
}

MAVEN_STAGES = {"Prospecting": "Qualify", "Engaging": "Discovery", "Won": "Closed Won", "Lost": "Closed Lost"}

#: Words commonly used for stages, for the mapping assistant's guesses (normalised names).
STAGE_SYNONYMS = {
    "lead": {
        "new": "Lead", "lead": "Lead", "subscriber": "Lead", "open": "Lead", "raw": "Lead", "inquiry": "Lead",
        "marketing_qualified_lead": "MQL", "marketingqualifiedlead": "MQL", "mql": "MQL", "marketing_qualified": "MQL",
        "sales_accepted_lead": "SAL", "sales_accepted": "SAL", "accepted": "SAL", "sal": "SAL", "working": "SAL",
        "in_progress": "SAL", "contacted": "SAL",
        "sales_qualified_lead": "SQL", "salesqualifiedlead": "SQL", "sales_qualified": "SQL", "sql": "SQL",
        "qualified": "SQL", "opportunity": "Opportunity", "converted": "Customer", "customer": "Customer",
        "won": "Customer", "closed_won": "Customer", "rejected": "Rejected", "returned": "Rejected",
        "recycled": "Recycled", "nurture": "Recycled", "nurturing": "Recycled", "bad_timing": "Recycled",
        "unqualified": "Disqualified", "disqualified": "Disqualified", "junk": "Disqualified", "lost": "Disqualified",
    },
    "opportunity": {
        **{normalise_name(k): v for k, v in SALESFORCE_STAGES.items()},
        **{normalise_name(k): v for k, v in MAVEN_STAGES.items()},
        "qualify": "Qualify", "qualified": "Qualify", "new": "Qualify", "discovery": "Discovery", "demo": "Discovery",
        "proposal": "Proposal", "quote": "Proposal", "negotiation": "Negotiation", "contract": "Negotiation",
        "commit": "Negotiation", "won": "Closed Won", "closed_won": "Closed Won", "lost": "Closed Lost",
        "closed_lost": "Closed Lost",
    },
}


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


def _stage_mapping(con, funnel: str, source_to_role: dict[str, str]) -> dict[str, str]:
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


class Note(tuple):
    """(topic, text, covers): ``covers`` names the findings of :func:`limitations` it already says."""

    def __new__(cls, topic: str, text: str, covers: tuple[str, ...] = ()):
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
    title: str
    description: str
    roles: tuple[FileRole, ...]
    notes: tuple[Note, ...]
    build: Callable[..., Built]
    options: tuple[str, ...] = ()
    public_folder: str | None = None     # sub-folder of shared/datasets holding the public data set
    # Scoring rules seeded on import while the stored ones are untouched defaults (see
    # seed_scoring): (attribute, operator, value, points, enabled, group) on columns this preset
    # imports, never on ones that leak the outcome; and the MQL threshold that goes with them.
    scoring_rules: tuple[tuple, ...] = ()
    scoring_threshold: float | None = None


def _src_name(f) -> str:
    if isinstance(f, (str, Path)):
        return Path(f).name
    if isinstance(f, tuple) and f:
        return Path(str(f[0])).name
    return Path(str(getattr(f, "name", "upload.csv"))).name


def _problem(file: str, table: str, reason: str, column: str | None = None, code: str = "missing_column",
             value: str | None = None) -> ingest.Problem:
    return ingest.Problem(file, table, None, column, value, reason, code)


def _refuse(problems: list[ingest.Problem], hint: str | None = None) -> None:
    first = "; ".join(str(p).rstrip(".") for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    raise ImportValidationError(f"Nothing was imported: {first}{more}.", problems=problems,
                                hint=hint or "Fix the file and import again; the database was not changed.")


class _Cols:
    """Find a file's columns by any of several names (compared in lower_snake_case)."""

    def __init__(self, df: pd.DataFrame, file: str, table: str):
        self.df, self.file, self.table = df, file, table
        self.by_norm: dict[str, str] = {}
        for h in df.columns:
            self.by_norm.setdefault(normalise_name(h), h)
        self.problems: list[ingest.Problem] = []
        self.used: set[str] = set()

    def find(self, *names: str) -> str | None:
        for n in names:
            h = self.by_norm.get(normalise_name(n))
            if h is not None:
                self.used.add(h)
                return h
        return None

    def need(self, label: str, *names: str) -> str | None:
        h = self.find(*names)
        if h is None:
            found = ", ".join(f'"{c}"' for c in self.df.columns) or "none"
            self.problems.append(_problem(
                self.file, self.table,
                f'the column "{label}" is missing (found: {found}). Export the file again with this column, '
                "or check that you chose the right file for this role.", column=label))
        return h

    def get(self, h: str | None) -> pd.Series:
        if h is None:
            return pd.Series([""] * len(self.df), index=self.df.index, dtype=object)
        return self.df[h].astype(str).str.strip()


def _n(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _blank_to_none(s: pd.Series) -> pd.Series:
    s = s.astype(object)
    return s.where(s.astype(str).str.strip() != "", None)


def _snake(name: str) -> str:
    """lower_snake_case; a one-word camelCase header is split (TotalVisits → total_visits, but
    "HubSpot Score" → hubspot_score)."""
    s = str(name).strip()
    if not re.search(r"[\s_\-]", s):
        s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", s)
    return normalise_name(s)


def _attribute_names(headers: list[str], taken: set[str]) -> dict[str, str]:
    out, seen = {}, set(taken)
    for h in headers:
        base = _snake(h) or "column"
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


# ---------------------------------------------------------------------------------------------
# Dates: CRM exports write them in the user's locale.

_ISO = re.compile(ingest.ISO_RE)
_LOCAL = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})"
                    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp]\.?[Mm]\.?)?)?$")
DATE_ORDERS = ("auto", "day-first", "month-first")


def detect_date_order(values, *, what: str = "the dates") -> str | None:
    """'dmy', 'mdy' or None (no locale-style dates) for an iterable of date strings.

    Raises ImportValidationError when the order cannot be told (every day and month ≤ 12 and a
    '/' or '-' separator) or contradicts itself.
    """
    dmy = mdy = False
    seps: set[str] = set()
    example = None
    for v in values:
        m = _LOCAL.match(str(v).strip())
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(3))
        seps.add(m.group(2))
        example = example or str(v).strip()
        if a > 12:
            dmy = True
        if b > 12:
            mdy = True
    if not seps:
        return None
    if dmy and mdy:
        raise ImportValidationError(
            f"{what} mix day-first and month-first dates (e.g. {example}), so none can be read safely.",
            hint="Export the file again with one date format, or choose the date format explicitly.")
    if dmy:
        return "dmy"
    if mdy:
        return "mdy"
    if seps == {"."}:
        return "dmy"  # 31.12.2025 is always day-first
    raise ImportValidationError(
        f"{what} could be read day-first or month-first (e.g. {example} is 3 April or 4 March), and no date "
        "in the file tells which.",
        hint="Choose the date format (day first or month first) and import again.")


def _order_from_option(option: str | None, values, what: str) -> tuple[str | None, list[str]]:
    """(order, explicit strptime formats) for a date_format option."""
    opt = (option or "auto").strip()
    if opt in ("", "auto"):
        return detect_date_order(values, what=what), []
    if opt in ("day-first", "dayfirst", "dmy"):
        return "dmy", []
    if opt in ("month-first", "monthfirst", "mdy"):
        return "mdy", []
    if "%" in opt:
        return None, [opt]
    raise ConfigError(f"Unknown date format option '{option}'.",
                      hint="Use auto, day-first, month-first or a strptime format such as %d.%m.%Y %H:%M.")


def _parse_one(v: str, order: str | None, formats: list[str]) -> str:
    s = v.strip()
    if not s:
        return ""
    for f in formats:
        try:
            return dt.datetime.strptime(s, f).isoformat(sep=" ")
        except ValueError:
            pass
    if _ISO.match(s):
        return s  # the import reads ISO 8601 itself (offsets included)
    m = _LOCAL.match(s)
    if m and order:
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if len(m.group(4)) == 2:
            year += 2000
        day, month = (a, b) if order == "dmy" else (b, a)
        hour = int(m.group(5) or 0)
        minute = int(m.group(6) or 0)
        second = int(m.group(7) or 0)
        ampm = (m.group(8) or "").replace(".", "").lower()
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        try:
            return dt.datetime(year, month, day, hour, minute, second).isoformat(sep=" ")
        except ValueError:
            return s
    return s  # left as written: the import names the row and the value


def parse_dates(series: pd.Series, order: str | None, formats: list[str] | None = None) -> pd.Series:
    """Rewrite locale dates as ISO text; blanks stay blank; anything unreadable stays as written."""
    s = series.fillna("").astype(str)
    uniq = {u: _parse_one(u, order, formats or []) for u in pd.unique(s)}
    return s.map(uniq)


def suggest_timestamp_format(values) -> str | None:
    """A strptime format for sample date values that are not ISO 8601 (None when ISO or unknown)."""
    vals = [str(v).strip() for v in values if str(v).strip()]
    if not vals or all(_ISO.match(v) for v in vals):
        return None
    try:
        order = detect_date_order(vals)
    except ImportValidationError:
        return None
    if order is None:
        return None
    m = next(_LOCAL.match(v) for v in vals if _LOCAL.match(v))
    sep = m.group(2)
    date_part = sep.join(["%d", "%m", "%Y" if len(m.group(4)) == 4 else "%y"] if order == "dmy"
                         else ["%m", "%d", "%Y" if len(m.group(4)) == 4 else "%y"])
    if m.group(5) is None:
        return date_part
    if m.group(8):
        return date_part + (" %I:%M:%S %p" if m.group(7) else " %I:%M %p")
    return date_part + (" %H:%M:%S" if m.group(7) else " %H:%M")


_CURRENCY = re.compile(r"^(?:[A-Z]{3}|[$€£¥₹])\s*|\s*(?:[A-Z]{3}|[$€£¥₹])$")


def clean_amounts(series: pd.Series, decimal: str = ".") -> pd.Series:
    """Amounts as plain numbers: currency codes/symbols and thousands separators removed."""
    def one(v: str) -> str:
        s = str(v).strip().replace("\u00a0", " ")
        if not s:
            return ""
        s = _CURRENCY.sub("", s).strip().replace(" ", "")
        if decimal == ",":
            if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?|-?\d+(,\d+)?", s):
                return s.replace(".", "").replace(",", ".")
            return str(v).strip()
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s):
            return s.replace(",", "")
        return s
    s = series.fillna("").astype(str)
    uniq = {u: one(u) for u in pd.unique(s)}
    return s.map(uniq)


# ---------------------------------------------------------------------------------------------
# Builders, one per preset. Each gets {role: (file name, DataFrame of strings)}, the connection
# (for nothing but reading settings) and the options; returns Built.


def _build_olist(src: dict, options: dict) -> Built:
    mql_file, mql = src["mqls"]
    deal_file, deals = src["closed_deals"]
    mc = _Cols(mql, mql_file, "leads")
    c_id, c_first = mc.need("mql_id", "mql_id"), mc.need("first_contact_date", "first_contact_date")
    c_origin, c_page = mc.find("origin"), mc.find("landing_page_id")
    dc = _Cols(deals, deal_file, "opportunities")
    d_id, d_won = dc.need("mql_id", "mql_id"), dc.need("won_date", "won_date")
    d_sdr, d_sr = dc.find("sdr_id"), dc.find("sr_id")
    d_seg, d_rev, d_seller = dc.find("business_segment"), dc.find("declared_monthly_revenue"), dc.find("seller_id")
    if mc.problems or dc.problems:
        _refuse(mc.problems + dc.problems)

    lead_id = mc.get(c_id)
    first = mc.get(c_first)
    deal_id = dc.get(d_id)
    won = dc.get(d_won)
    sdr_by = dict(zip(deal_id, dc.get(d_sdr)))
    sr_by = dict(zip(deal_id, dc.get(d_sr)))
    leads = pd.DataFrame({
        "lead_id": lead_id,
        "created_at": first,
        "channel": _blank_to_none(mc.get(c_origin)),
        "sdr": _blank_to_none(lead_id.map(sdr_by).fillna("")),
        "ae": _blank_to_none(lead_id.map(sr_by).fillna("")),
    })
    if c_page:
        leads["landing_page_id"] = _blank_to_none(mc.get(c_page))

    # Every MQL row is an MQL at first contact; a closed deal is a Customer at won_date.
    mql_events = pd.DataFrame({"lead_id": lead_id, "stage": "MQL", "entered_at": first, "actor": None,
                               "reason": None, "source_file": mql_file, "source_row": range(1, len(mql) + 1),
                               "source_column": c_first})
    won_events = pd.DataFrame({"lead_id": deal_id, "stage": "Customer", "entered_at": won,
                               "actor": _blank_to_none(dc.get(d_sr)), "reason": None,
                               "source_file": deal_file, "source_row": range(1, len(deals) + 1),
                               "source_column": d_won})
    lead_events = pd.concat([mql_events, won_events], ignore_index=True)

    first_by = dict(zip(lead_id, first))
    revenue = dc.get(d_rev)
    amount = revenue.where(revenue != "", "0")
    opportunities = pd.DataFrame({
        "opportunity_id": deal_id,
        "lead_id": deal_id,
        "account": _blank_to_none(dc.get(d_seller)),
        "created_at": deal_id.map(first_by).fillna(""),
        "amount": amount,
        "close_date": won,
        "owner": _blank_to_none(dc.get(d_sr)),
        "segment": _blank_to_none(dc.get(d_seg)),
        "source_file": deal_file, "source_row": range(1, len(deals) + 1),
    })
    opp_events = pd.DataFrame({"opportunity_id": deal_id, "stage": "Closed Won", "entered_at": won, "amount": amount,
                               "close_date": won, "source_file": deal_file, "source_row": range(1, len(deals) + 1)})

    notes: list[Note] = []
    first_dt = pd.to_datetime(deal_id.map(first_by), errors="coerce")
    won_dt = pd.to_datetime(won, errors="coerce")
    early = int((won_dt.dt.normalize() < first_dt).sum())
    if early:
        notes.append(Note("source", f"{early:,} deal{'s are' if early != 1 else ' is'} won before the lead's first contact "
                                "date; kept as in the source (its time to win is negative)."))
    undeclared = int((pd.to_numeric(amount, errors="coerce").fillna(0) == 0).sum())
    if undeclared:
        notes.append(Note("forecast", f"{undeclared:,} of {len(deals):,} won deals declared no monthly revenue; their "
                                  "amount is 0, so won amounts understate the real value."))
    last_mql = pd.to_datetime(first, errors="coerce").max()
    late = int((won_dt.dt.normalize() > last_mql).sum()) if pd.notna(last_mql) else 0
    if late:
        notes.append(Note("conversion", f"MQLs stop on {last_mql:%d %b %Y} but {late:,} wins come later: the latest "
                                    "cohorts are still maturing, so their conversion is understated."))
    return Built(
        tables={"leads": leads, "lead_events": lead_events, "opportunities": opportunities,
                "opportunity_events": opp_events},
        names={"leads": mql_file, "lead_events": mql_file, "opportunities": deal_file, "opportunity_events": deal_file},
        stages={"lead": {"MQL": "MQL", "Customer": "Customer"}, "opportunity": {"Closed Won": "Closed Won"}},
        notes=notes,
        columns={"leads": {"lead_id": c_id, "created_at": c_first, "channel": c_origin, "sdr": d_sdr, "ae": d_sr},
                 "lead_events": {"lead_id": c_id},
                 "opportunities": {"opportunity_id": d_id, "created_at": c_first, "amount": d_rev, "close_date": d_won},
                 "opportunity_events": {"opportunity_id": d_id, "entered_at": d_won, "amount": d_rev,
                                        "close_date": d_won}})


def _build_maven(src: dict, options: dict) -> Built:
    pf, pipe = src["sales_pipeline"]
    pc = _Cols(pipe, pf, "opportunities")
    c_id, c_stage = pc.need("opportunity_id", "opportunity_id"), pc.need("deal_stage", "deal_stage")
    c_agent, c_product, c_account = pc.find("sales_agent"), pc.find("product"), pc.find("account")
    c_engage, c_close, c_value = pc.find("engage_date"), pc.find("close_date"), pc.find("close_value")
    problems = list(pc.problems)
    prices: dict[str, tuple[str, str]] = {}
    notes: list[Note] = []
    if "products" in src:
        f, df = src["products"]
        c = _Cols(df, f, "opportunities")
        p_name, p_price = c.need("product", "product"), c.need("sales_price", "sales_price")
        problems += c.problems
        if p_name and p_price:
            for name, price in zip(c.get(p_name), c.get(p_price)):
                prices[re.sub(r"[^0-9a-z]", "", name.lower())] = (name, price)
    offices: dict[str, str] = {}
    if "sales_teams" in src:
        f, df = src["sales_teams"]
        c = _Cols(df, f, "opportunities")
        t_agent, t_office = c.need("sales_agent", "sales_agent"), c.need("regional_office", "regional_office")
        problems += c.problems
        if t_agent and t_office:
            offices = dict(zip(c.get(t_agent), c.get(t_office)))
    if problems:
        _refuse(problems)

    opp_id, stage = pc.get(c_id), pc.get(c_stage)
    engage, close, value = pc.get(c_engage), pc.get(c_close), pc.get(c_value)
    product_raw = pc.get(c_product)
    key = product_raw.str.lower().str.replace(r"[^0-9a-z]", "", regex=True)
    product = key.map(lambda k: prices.get(k, (None, None))[0]).where(key.isin(list(prices)), product_raw)
    fixed = int(((product != product_raw) & (product_raw != "")).sum())
    list_price = key.map(lambda k: prices.get(k, (None, ""))[1]).fillna("")

    dates = pd.to_datetime(pd.concat([engage, close]).replace("", None), errors="coerce")
    last = dates.max()
    if pd.isna(last):
        _refuse([_problem(pf, "opportunities", "has no engage_date or close_date at all, so no deal can be placed in "
                                               "time.", column="engage_date", code="missing_value")])
    last_day = last.date()
    placeholder_close = last_day + dt.timedelta(days=30)
    is_open = ~stage.isin(["Won", "Lost"])
    created = engage.where(engage != "", last_day.isoformat())
    close_date = close.where(close != "", placeholder_close.isoformat()).where(~is_open | (close != ""),
                                                                               placeholder_close.isoformat())
    # Revenue is recorded only for won deals (close_value is 0 for every lost one); open and lost
    # deals carry the product's list price as their size, 0 when the product is unknown.
    won_amount = value.where(value != "", list_price)
    size = list_price.where(list_price != "", "0")
    amount = won_amount.where(stage == "Won", size)
    amount = amount.where(amount != "", "0")
    segment = pc.get(c_agent).map(offices).fillna("") if offices else pd.Series([""] * len(pipe), index=pipe.index)
    opportunities = pd.DataFrame({
        "opportunity_id": opp_id, "lead_id": None, "account": _blank_to_none(pc.get(c_account)),
        "created_at": created, "amount": amount, "close_date": close_date,
        "owner": _blank_to_none(pc.get(c_agent)), "segment": _blank_to_none(segment),
        "product": _blank_to_none(product), "source_file": pf, "source_row": range(1, len(pipe) + 1),
    })
    rows = pd.Series(range(1, len(pipe) + 1), index=pipe.index)
    ev = []
    engaged = engage != ""
    ev.append(pd.DataFrame({"opportunity_id": opp_id[engaged], "stage": "Engaging", "entered_at": engage[engaged],
                            "amount": size[engaged], "close_date": None, "source_row": rows[engaged],
                            "source_column": c_engage}))
    for name in ("Won", "Lost"):
        sel = (stage == name) & (close != "")
        ev.append(pd.DataFrame({"opportunity_id": opp_id[sel], "stage": name, "entered_at": close[sel],
                                "amount": amount[sel], "close_date": close[sel], "source_row": rows[sel],
                                "source_column": c_close}))
    opp_events = pd.concat(ev).sort_values(["source_row"], kind="stable").reset_index(drop=True)
    opp_events.insert(len(opp_events.columns) - 2, "source_file", pf)
    # Stages other than the four known ones go through as written: the import names them.
    other = sorted(set(stage[~stage.isin(list(MAVEN_STAGES)) & (stage != "")]))
    for name in other:
        sel = stage == name
        opp_events = pd.concat([opp_events, pd.DataFrame({
            "opportunity_id": opp_id[sel], "stage": name, "entered_at": created[sel], "amount": amount[sel],
            "close_date": None, "source_file": pf, "source_row": rows[sel], "source_column": c_stage})],
            ignore_index=True)

    n_open = int(is_open.sum())
    n_prospect = int((stage == "Prospecting").sum())
    notes.append(Note("forecast", f"The source has no created date: a deal's creation is its engage date, and the "
                              f"{n_prospect:,} Prospecting deals (no date at all) are placed on the last day of the "
                              f"data, {last_day:%d %b %Y}, with no stage event: they count as in the first stage "
                              "(Qualify)."))
    notes.append(Note("forecast", f"The {n_open:,} open deals have no expected close date in the source: all are given "
                              f"{placeholder_close:%d %b %Y} (the last date in the data + 30 days), so the forecast's "
                              "split by month is not meaningful — only the total open pipeline is."))
    if prices:
        notes.append(Note("forecast", "Revenue exists only for won deals: open and lost deals carry their product's list "
                                  "price as their amount (products.csv sales_price)."))
    else:
        notes.append(Note("forecast", "Without products.csv, open and lost deals have no amount (0): the weighted "
                                  "forecast only counts deal numbers, not value."))
    if fixed:
        notes.append(Note("source", f"{_n(fixed, 'deal names', 'deals name')} a product spelled differently from products.csv (e.g. GTXPro); "
                                "they were matched to it (GTX Pro)."))
    if offices:
        notes.append(Note("filters", "An opportunity's segment is its sales agent's regional office (Central, East, "
                                 "West)."))
    return Built(tables={"opportunities": opportunities, "opportunity_events": opp_events},
                 names={"opportunities": pf, "opportunity_events": pf},
                 stages={"opportunity": dict(MAVEN_STAGES)}, notes=notes,
                 columns={"opportunities": {"opportunity_id": c_id, "created_at": c_engage, "amount": c_value,
                                            "close_date": c_close, "owner": c_agent, "account": c_account,
                                            "product": c_product},
                          "opportunity_events": {"opportunity_id": c_id, "stage": c_stage, "amount": c_value,
                                                 "close_date": c_close}})


X_EDUCATION_DATE = "2018-12-20"   # the date of the upGrad archive: the snapshot has no dates at all
X_EDUCATION_DAY = "20 Dec 2018"


def _normalise_case(s: pd.Series) -> pd.Series:
    """Merge spellings that differ only in case (google → Google) into the most common one."""
    nonblank = s[s != ""]
    counts = nonblank.value_counts()
    best: dict[str, str] = {}
    for v in counts.index:  # most common first
        best.setdefault(v.casefold(), v)
    return s.map(lambda v: best.get(v.casefold(), v) if v else v)


def _build_x_education(src: dict, options: dict) -> Built:
    f, df = src["leads"]
    c = _Cols(df, f, "leads")
    c_id, c_conv = c.need("Prospect ID", "prospect_id"), c.need("Converted", "converted")
    c_source = c.find("lead_source")
    if c.problems:
        _refuse(c.problems)
    lead_id = c.get(c_id)
    channel = _normalise_case(c.get(c_source))
    leads = pd.DataFrame({"lead_id": lead_id, "created_at": X_EDUCATION_DATE, "channel": _blank_to_none(channel)})
    rest = [h for h in df.columns if h not in (c_id, c_source)]
    names = _attribute_names(rest, set(leads.columns))
    for h in rest:
        v = df[h].astype(str).str.strip()
        leads[names[h]] = _blank_to_none(v.where(v != "Select", ""))  # "Select": the dropdown was left untouched
    converted = c.get(c_conv).str.lower().isin(["1", "true", "yes"])
    rows = pd.Series(range(1, len(df) + 1), index=df.index)
    ev = pd.concat([
        pd.DataFrame({"lead_id": lead_id, "stage": "Lead", "entered_at": X_EDUCATION_DATE, "source_row": rows}),
        pd.DataFrame({"lead_id": lead_id[converted], "stage": "Customer", "entered_at": X_EDUCATION_DATE,
                      "source_row": rows[converted]}),
    ]).sort_values("source_row", kind="stable").reset_index(drop=True)
    ev["source_file"] = f
    lq = names.get(c.find("lead_quality") or "", "lead_quality")
    tags = names.get(c.find("tags") or "", "tags")
    notes = [Note("scoring", f"'{tags}' and '{lq}' are filled in by the sales team after contact: they leak the "
                         "outcome and must not be scoring inputs (the suggestion leaves them out).")]
    return Built(tables={"leads": leads, "lead_events": ev}, names={"leads": f, "lead_events": f},
                 stages={"lead": {"Lead": "Lead", "Customer": "Customer"}}, notes=notes,
                 columns={"leads": {"lead_id": c_id, "channel": c_source}, "lead_events": {"lead_id": c_id}})


HUBSPOT_STAGE_COLUMNS = (
    ("Lead", ("Became a Lead Date", "hs_lifecyclestage_lead_date")),
    ("MQL", ("Became a Marketing Qualified Lead Date", "hs_lifecyclestage_marketingqualifiedlead_date")),
    ("SQL", ("Became a Sales Qualified Lead Date", "hs_lifecyclestage_salesqualifiedlead_date")),
    ("Opportunity", ("Became an Opportunity Date", "hs_lifecyclestage_opportunity_date")),
    ("Customer", ("Became a Customer Date", "hs_lifecyclestage_customer_date")),
)
HUBSPOT_IGNORED_STAGES = ("Became a Subscriber Date", "Became an Evangelist Date", "Became a Other Lifecycle Date",
                          "Became an Other Lifecycle Date", "hs_lifecyclestage_subscriber_date",
                          "hs_lifecyclestage_evangelist_date", "hs_lifecyclestage_other_date")
PERSONAL_COLUMNS = {"first_name", "last_name", "full_name", "name", "email", "email_address", "phone",
                    "phone_number", "mobile_phone_number", "mobile_phone", "street_address", "address", "fax",
                    "fax_number", "ip_address", "linkedin_url", "twitter_username"}


def _build_hubspot(src: dict, options: dict) -> Built:
    f, df = src["contacts"]
    c = _Cols(df, f, "leads")
    c_id = c.need("Record ID", "record_id", "contact_id", "record_id_contact", "hs_object_id", "vid", "contact_vid")
    c_created = c.need("Create Date", "create_date", "created_date", "createdate", "created_at")
    if c.problems:
        _refuse(c.problems)
    stage_cols = [(role, c.find(*names)) for role, names in HUBSPOT_STAGE_COLUMNS]
    stage_cols = [(role, h) for role, h in stage_cols if h is not None]
    if not stage_cols:
        _refuse([_problem(f, "lead_events", "has none of HubSpot's lifecycle date columns (\"Became a Lead Date\", "
                                            "\"Became a Marketing Qualified Lead Date\", …), so no stage history can be "
                                            "built. Add them to the export (Contacts → Export → include all properties).",
                          column="Became a Lead Date")])
    ignored = [h for h in (c.find(n) for n in HUBSPOT_IGNORED_STAGES) if h]
    c_source = c.find("Original Source", "original_source", "original_source_type", "hs_analytics_source",
                      "lead_source")
    c_owner = c.find("Contact owner", "contact_owner", "hubspot_owner", "hubspot_owner_id", "owner")
    for n in ("Lifecycle Stage", "Lead Status", "HubSpot Score"):
        c.find(n)  # kept as attributes under their own names

    date_cols = [c_created] + [h for _, h in stage_cols]
    values = pd.unique(pd.concat([df[h].astype(str).str.strip() for h in date_cols]))
    order, formats = _order_from_option(options.get("date_format"), values, what=f"The dates in {f}")

    lead_id = c.get(c_id)
    leads = pd.DataFrame({"lead_id": lead_id, "created_at": parse_dates(c.get(c_created), order, formats),
                          "channel": _blank_to_none(c.get(c_source)), "sdr": _blank_to_none(c.get(c_owner))})
    used = set(c.used) | set(ignored) | {h for _, h in stage_cols}
    personal = [h for h in df.columns if normalise_name(h) in PERSONAL_COLUMNS]
    rest = [h for h in df.columns if h not in used and h not in personal
            and normalise_name(h) not in ("lifecycle_stage", "lead_status", "hubspot_score")]
    # Core lead columns named in the export (Industry, Job Title, Number of Employees, …).
    guess = {k: v for k, v in guess_mapping(rest, "leads").items()
             if k in ("segment", "region", "industry", "company_size", "job_title")}
    if "company_size" in guess:
        vals = df[guess["company_size"]].astype(str).str.strip()
        if not vals[vals != ""].str.fullmatch(r"\d+(\.0+)?").all():
            guess.pop("company_size")  # ranges like "11-50" stay an attribute
    for canon, h in guess.items():
        leads[canon] = _blank_to_none(df[h].astype(str).str.strip())
    rest = [h for h in rest if h not in guess.values()]
    keep = [h for h in df.columns if normalise_name(h) in ("lifecycle_stage", "lead_status", "hubspot_score")] + rest
    names = _attribute_names(keep, set(leads.columns))
    for h in keep:
        leads[names[h]] = _blank_to_none(df[h].astype(str).str.strip())

    rows = pd.Series(range(1, len(df) + 1), index=df.index)
    parts = []
    for k, (role, h) in enumerate(stage_cols):
        when = parse_dates(c.get(h), order, formats)
        sel = when != ""
        parts.append(pd.DataFrame({"lead_id": lead_id[sel], "stage": role, "entered_at": when[sel], "actor": None,
                                   "reason": None, "source_file": f, "source_row": rows[sel], "source_column": h,
                                   "_k": k}))
    ev = pd.concat(parts).sort_values(["source_row", "_k"], kind="stable").drop(columns="_k").reset_index(drop=True)

    notes: list[Note] = []
    stamps = pd.to_datetime(ev["entered_at"], errors="coerce")
    ev_sorted = ev.assign(_t=stamps, _k=ev["stage"].map({r: i for i, (r, _) in enumerate(HUBSPOT_STAGE_COLUMNS)}))
    out_of_order = ev_sorted.groupby("lead_id", sort=False)["_t"].apply(
        lambda t: bool((t.diff().dropna() < pd.Timedelta(0)).any())).sum()
    if out_of_order:
        notes.append(Note("conversion", f"{_n(int(out_of_order), 'contact has', 'contacts have')} lifecycle dates out "
                                        "of stage order (e.g. became a customer before becoming an MQL); they are kept "
                                        "as written and ordered by time."))
    blank = int((lead_id != "").sum() - ev["lead_id"].nunique())
    if blank > 0:
        notes.append(Note("conversion", f"{_n(blank, 'contact has', 'contacts have')} no lifecycle date at all: they "
                                        "sit in the first stage since their create date."))
    if ignored:
        notes.append(Note("source", "Subscriber, evangelist and 'other' lifecycle dates have no stage in the funnel and "
                                "are not imported."))
    if personal:
        notes.append(Note("source", "Names, e-mail addresses and phone numbers in the export are not imported."))
    return Built(tables={"leads": leads, "lead_events": ev}, names={"leads": f, "lead_events": f},
                 stages={"lead": {r: r for r, _ in HUBSPOT_STAGE_COLUMNS}}, notes=notes,
                 columns={"leads": {"lead_id": c_id, "created_at": c_created, "channel": c_source, "sdr": c_owner,
                                    **guess},
                          "lead_events": {"lead_id": c_id}})


def _build_salesforce(src: dict, options: dict) -> Built:
    hf, hist = src["history"]
    hc = _Cols(hist, hf, "opportunity_events")
    h_id = hc.find("Opportunity ID", "opportunity_id", "opportunityid", "opportunity_id_18", "opportunity_id_15")
    if h_id is None:
        h_id = hc.need("Opportunity ID", "id")
    h_stage = hc.need("Stage", "stage", "stagename", "stage_name", "to_stage", "new_stage")
    h_when = hc.need("Created Date", "created_date", "createddate", "last_modified_date", "lastmodifieddate",
                     "last_modified", "edit_date", "date")
    h_amount, h_close = hc.find("Amount", "amount"), hc.find("Close Date", "close_date", "closedate")
    problems = list(hc.problems)
    oc = None
    if "opportunities" in src:
        of, opps = src["opportunities"]
        oc = _Cols(opps, of, "opportunities")
        o_id = oc.find("Opportunity ID", "opportunity_id", "opportunityid", "opportunity_id_18", "id")
        if o_id is None:
            o_id = oc.need("Opportunity ID", "opportunity_id")
        o_created = oc.need("Created Date", "created_date", "createddate", "created")
        o_close = oc.need("Close Date", "close_date", "closedate")
        o_amount = oc.find("Amount", "amount")
        o_account = oc.find("Account Name", "account_name", "account")
        o_owner = oc.find("Opportunity Owner", "opportunity_owner", "owner", "owner_name", "owner_full_name")
        o_stage = oc.find("Stage", "stage", "stagename")
        o_segment = oc.find("Segment", "segment", "market_segment")
        o_product = oc.find("Product", "product", "product_name")
        o_source = oc.find("Lead Source", "lead_source")
        problems += oc.problems
    if problems:
        _refuse(problems)

    decimal = options.get("decimal", ".")
    values = [hist[h].astype(str).str.strip() for h in (h_when, h_close) if h]
    if oc is not None:
        values += [oc.get(h) for h in (o_created, o_close)]
    order, formats = _order_from_option(options.get("date_format"), pd.unique(pd.concat(values)),
                                        what="The dates in the Salesforce files")
    hid = hc.get(h_id)
    h_amounts = clean_amounts(hc.get(h_amount), decimal)
    h_closes = parse_dates(hc.get(h_close), order, formats)
    rows = pd.Series(range(1, len(hist) + 1), index=hist.index)
    events = pd.DataFrame({"opportunity_id": hid, "stage": hc.get(h_stage),
                           "entered_at": parse_dates(hc.get(h_when), order, formats),
                           "amount": h_amounts, "close_date": h_closes, "source_file": hf, "source_row": rows})
    notes: list[Note] = [
        Note("forecast", "Salesforce's own probability and forecast category per history row are not imported: the "
                     "probabilities and categories on the Stage settings page apply."),
    ]
    # The export's row order is arbitrary (often newest first): "latest" means latest in time.
    timed = events.assign(_t=pd.to_datetime(events["entered_at"], errors="coerce")).sort_values(
        ["_t"], kind="stable", na_position="first")
    last_amount = timed[timed["amount"] != ""].groupby("opportunity_id")["amount"].last()
    if oc is not None:
        oid = oc.get(o_id)
        amount = clean_amounts(oc.get(o_amount), decimal)
        missing_amount = amount == ""
        amount = amount.where(~missing_amount, oid.map(last_amount).fillna("0"))
        opportunities = pd.DataFrame({
            "opportunity_id": oid, "lead_id": None, "account": _blank_to_none(oc.get(o_account)),
            "created_at": parse_dates(oc.get(o_created), order, formats), "amount": amount,
            "close_date": parse_dates(oc.get(o_close), order, formats), "owner": _blank_to_none(oc.get(o_owner)),
            "segment": _blank_to_none(oc.get(o_segment)), "product": _blank_to_none(oc.get(o_product)),
            "source_file": of, "source_row": range(1, len(oid) + 1),
        })
        if int(missing_amount.sum()):
            notes.append(Note("forecast", "Opportunities without an amount in the export "
                                      f"({int(missing_amount.sum()):,}) take their latest amount from the history, "
                                      "else 0."))
        # Deals with no history row: one event in their current stage at their created date.
        no_hist = ~oid.isin(set(hid)) & (oc.get(o_stage) != "") if o_stage else pd.Series(False, index=oid.index)
        if int(no_hist.sum()):
            extra = pd.DataFrame({"opportunity_id": oid[no_hist], "stage": oc.get(o_stage)[no_hist],
                                  "entered_at": opportunities["created_at"][no_hist], "amount": amount[no_hist],
                                  "close_date": opportunities["close_date"][no_hist], "source_file": of,
                                  "source_row": pd.Series(range(1, len(oid) + 1), index=oid.index)[no_hist]})
            events = pd.concat([events, extra], ignore_index=True)
            notes.append(Note("deal_time_in_stage", "Opportunities without a history row "
                                           f"({int(no_hist.sum()):,}) get one event in their current stage at their "
                                           "created date, so their time in stage is measured from creation."))
        if o_source:
            notes.append(Note("filters", "The opportunities' Lead Source is not imported (opportunities have no channel): "
                                     "the channel filter does not apply to deals."))
    else:
        first_seen = timed.groupby("opportunity_id", sort=False)["entered_at"].first()
        close_last = timed[timed["close_date"] != ""].groupby("opportunity_id")["close_date"].last()
        ids = list(dict.fromkeys(hid[hid != ""]))
        opportunities = pd.DataFrame({"opportunity_id": ids, "lead_id": None,
                                      "created_at": [first_seen.get(o, "") for o in ids]})
        opportunities["amount"] = opportunities["opportunity_id"].map(last_amount).fillna("0")
        opportunities["close_date"] = opportunities["opportunity_id"].map(close_last).fillna("")
        notes.append(Note("forecast", "Without the Opportunities export, a deal's created date is its first history row "
                                  "and its amount and close date the latest in the history; owners and accounts "
                                  "are unknown."))
    stage_map = {k: v for k, v in SALESFORCE_STAGES.items()}
    for k, v in (options.get("stage_map") or {}).items():
        stage_map[str(k)] = str(v)
    names = {"opportunity_events": hf, "opportunities": src["opportunities"][0] if oc is not None else hf}
    columns = {"opportunity_events": {"opportunity_id": h_id, "stage": h_stage, "entered_at": h_when,
                                      "amount": h_amount, "close_date": h_close}}
    if oc is not None:
        columns["opportunities"] = {"opportunity_id": o_id, "created_at": o_created, "close_date": o_close,
                                    "amount": o_amount, "account": o_account, "owner": o_owner}
    return Built(tables={"opportunities": opportunities, "opportunity_events": events}, names=names,
                 stages={"opportunity": stage_map}, notes=notes, columns=columns)


# ---------------------------------------------------------------------------------------------

_NO_REJECTIONS = Note("rejections", "The source records no rejections, recycling or disqualification: rejection rates, "
                                "reasons and resubmission loops cannot be computed.", ("no_rejections",))

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        name="olist",
        title="Olist marketing funnel (public data set)",
        description="Olist's seller-acquisition funnel: 8,000 MQLs (first contact date, landing page, channel) and "
                    "842 won deals (SDR, SR, segment, declared revenue). Each MQL becomes a lead with an MQL event; "
                    "each won deal a Customer event and a won opportunity.",
        roles=(FileRole("mqls", "Marketing qualified leads", ("olist_marketing_qualified_leads*.csv", "*qualified_leads*"),
                        help="olist_marketing_qualified_leads_dataset.csv: mql_id, first_contact_date, landing_page_id, origin"),
               FileRole("closed_deals", "Closed (won) deals", ("olist_closed_deals*.csv", "*closed_deals*"),
                        help="olist_closed_deals_dataset.csv: mql_id, seller_id, sdr_id, sr_id, won_date, …")),
        notes=(
            Note("forecast", "Olist has no lost deals and no open pipeline: every opportunity is won, so win rates are "
                         "100% by construction and there is nothing to forecast.", ("no_lost", "no_open")),
            _NO_REJECTIONS,
            Note("conversion", "Only MQL (first contact) and Customer (won) have dates: the SDR contact and the SR "
                           "consultancy steps are not recorded, so SAL, SQL and Opportunity count only the leads "
                           "that were won (a skipped stage counts as passed)."),
            Note("filters", "SDR and AE (Olist's SR) are known only for won deals: per-SDR or per-AE conversion rates "
                        "would be 100% and mean nothing.", ("won_only_sdr", "won_only_ae")),
            Note("time_in_stage", "Only MQL has a time in stage: the SDR contact and SR consultancy steps have no dates "
                              "(no SAL, SQL or Opportunity stays), and an MQL that was never won has no later event, "
                              "so it counts as still sitting in MQL — time in MQL and the stuck list mix real "
                              "waiting with leads that were silently lost."),
            Note("deal_time_in_stage", "Deals are recorded only when won (one Closed Won event each, no earlier "
                                   "stages): time in the deal stages cannot be measured.", ("no_deal_stages",)),
            Note("source", "The closed deals' profile (segment, lead type, behaviour profile, company, GTIN, stock, "
                       "catalogue size) exists only for won deals and would leak the outcome, so it is not a lead "
                       "attribute; the segment is kept on the won opportunity."),
        ),
        build=_build_olist,
        public_folder="olist_marketing_funnel",
        # Olist's only lead attributes known before contact are the channel and a hashed landing page id;
        # SDR and AE are known only for won deals (they leak the outcome). Search and direct traffic win
        # 11–12% of their MQLs, referral 8%, social, e-mail, display and other 3–6% (overall 10.5%).
        scoring_rules=(
            ("channel", "in", "organic_search|paid_search|direct_traffic", 10, True, "fit"),
            ("channel", "=", "referral", 5, True, "fit"),
            ("channel", "in", "social|email|display|other|other_publicities", -10, True, "fit"),
        ),
        scoring_threshold=10.0,
    ),
    Preset(
        name="maven_crm",
        title="Maven CRM sales pipeline (public data set)",
        description="Maven Analytics' fictitious B2B pipeline: 8,800 opportunities in Prospecting, Engaging, Won or "
                    "Lost, with sales agent, product, account and close value; products give list prices and the "
                    "GTX Pro spelling, sales teams the regional office.",
        roles=(FileRole("sales_pipeline", "Sales pipeline", ("sales_pipeline*.csv",),
                        help="sales_pipeline.csv: opportunity_id, sales_agent, product, account, deal_stage, "
                             "engage_date, close_date, close_value"),
               FileRole("products", "Products", ("products*.csv",), required=False,
                        help="products.csv: product, series, sales_price"),
               FileRole("sales_teams", "Sales teams", ("sales_teams*.csv",), required=False,
                        help="sales_teams.csv: sales_agent, manager, regional_office")),
        notes=(
            Note("leads", "Maven CRM has no leads: the lead funnel, conversion, lead time in stage, rejections and the "
                      "scoring what-if cannot be computed for this data.", ("no_leads",)),
            Note("deal_time_in_stage", "The source holds only the current stage with an engage date and a close date: "
                                   "time in Prospecting cannot be measured, and Engaging is the only stage with a "
                                   "duration."),
        ),
        build=_build_maven,
        public_folder="maven_crm",
    ),
    Preset(
        name="x_education",
        title="X Education leads (public data set)",
        description="upGrad's X Education lead-scoring case: 9,240 leads with 35 attributes and a Converted "
                    "outcome, but no dates. Each lead gets a Lead event, and a Customer event when converted, so "
                    "conversion and the scoring what-if (outcome stage Customer) work.",
        roles=(FileRole("leads", "Leads", ("Leads.csv", "leads*.csv"),
                        help="Leads.csv: Prospect ID, Lead Number, Lead Origin, Lead Source, …, Converted, …"),),
        notes=(
            Note("trends", f"X Education has no dates: every lead and event is placed on {X_EDUCATION_DAY} (the date of "
                       "the archive), so there are no cohorts, trends, weekly figures or time in stage.",
                 ("one_date",)),
            Note("time_in_stage", "X Education records no dates, only whether a lead converted: how long leads wait in "
                              "a stage, time to convert, targets (SLA) and stuck leads cannot be computed.",
                 ("no_durations",)),
            Note("conversion", "Only the final outcome is known (converted or not): the stages between Lead and "
                           "Customer are not recorded, so they all show the converted share."),
            Note("forecast", "There are no opportunities: the pipeline, the forecast, win rates and the backtest "
                             "cannot be computed.", ("no_opportunities",)),
            _NO_REJECTIONS,
        ),
        build=_build_x_education,
        public_folder="x_education_leads",
        # Attributes a lead brings before sales talks to it: how it came in, what it does for a living,
        # its behaviour on the website, its e-mail opt-out. Never Tags, Lead Quality, Lead Profile, the
        # Asymmetrique scores or Last (Notable) Activity: sales fills or changes them after contact.
        # Converted share: Lead Add Form 92%, Working Professional 92%, 1,000+ seconds on the website
        # 69%, Olark Chat 26%, Do Not Email 16% (overall 38.5%). At 25 points these rules make about
        # 2,800 MQLs, 77% of which converted.
        scoring_rules=(
            ("lead_origin", "=", "Lead Add Form", 30, True, "fit"),
            ("what_is_your_current_occupation", "=", "Working Professional", 25, True, "fit"),
            ("channel", "=", "Olark Chat", -10, True, "fit"),
            ("do_not_email", "is true", "", -20, True, "fit"),
            ("total_time_spent_on_website", ">=", "1000", 25, True, "engagement"),
            ("total_visits", ">=", "5", 5, True, "engagement"),
            ("page_views_per_visit", ">=", "4", 5, True, "engagement"),
        ),
        scoring_threshold=25.0,
    ),
    Preset(
        name="hubspot_contacts",
        title="HubSpot contacts export",
        description="A HubSpot contacts export with the lifecycle date columns (Create Date, Became a Lead / "
                    "Marketing Qualified Lead / Sales Qualified Lead / Opportunity / Customer Date, Lifecycle "
                    "Stage, Lead Status, HubSpot Score, Original Source, Contact owner). Each filled-in date "
                    "becomes one stage event.",
        roles=(FileRole("contacts", "Contacts export", ("*contacts*.csv", "*contacts*.xlsx", "hubspot*.csv",
                                                        "hubspot*.xlsx"),
                        help="Contacts → Export, with the lifecycle stage date properties."),),
        notes=(
            Note("rejections", "HubSpot's Lead Status (Unqualified, Bad timing, …) has no date, so it is not turned "
                           "into rejection or disqualification events: rejection analysis cannot be computed, and an "
                           "unqualified contact still counts as sitting in its last lifecycle stage. The status is "
                           "kept as the attribute lead_status.", ("no_rejections",)),
            Note("forecast", "A contacts export has no deals: the pipeline and forecast need HubSpot deals imported as "
                         "opportunities.", ("no_opportunities",)),
            Note("source", "Dates are read as written; HubSpot writes them in the portal's time zone, not UTC."),
        ),
        build=_build_hubspot,
        options=("date_format",),
        # Source and fit, on the columns a contacts export usually carries (rules on a column the export
        # lacks are not seeded). Not HubSpot Score, Lifecycle Stage or Lead Status: they move with the
        # outcome.
        scoring_rules=(
            ("channel", "in", "Referrals|Direct Traffic|Organic Search|REFERRALS|DIRECT_TRAFFIC|ORGANIC_SEARCH",
             15, True, "fit"),
            ("channel", "in", "Paid Search|Email Marketing|PAID_SEARCH|EMAIL_MARKETING", 10, True, "fit"),
            ("job_title", "contains", "director", 15, True, "fit"),
            ("job_title", "contains", "vp", 15, True, "fit"),
            ("job_title", "contains", "head of", 15, True, "fit"),
            ("job_title", "contains", "chief", 15, True, "fit"),
            ("job_title", "contains", "student", -30, True, "fit"),
            ("company_size", ">=", "200", 10, True, "fit"),
        ),
        scoring_threshold=25.0,
    ),
    Preset(
        name="salesforce_opportunity_history",
        title="Salesforce opportunity history",
        description="A Salesforce OpportunityHistory report export (Opportunity ID, Stage, Amount, Probability (%), "
                    "Close Date, Created Date or Last Modified Date, Forecast Category) plus, ideally, an "
                    "Opportunities export (Opportunity ID, Account Name, Amount, Close Date, Stage, Created Date, "
                    "Opportunity Owner). Standard stages map onto the configured ones.",
        roles=(FileRole("history", "Opportunity history", ("*opportunityhistory*.csv", "*opportunity_history*.csv",
                                                           "*history*.csv", "*history*.xlsx"),
                        help="OpportunityHistory export: one row per stage / amount / close date change."),
               FileRole("opportunities", "Opportunities", ("opportunities*.csv", "opportunity.csv", "*opportunities*.csv",
                                                           "*opportunities*.xlsx"),
                        required=False, help="Opportunities export: one row per opportunity.")),
        notes=(
            Note("leads", "A Salesforce opportunity export has no leads: the lead funnel, conversion, rejections and the "
                      "scoring what-if cannot be computed.", ("no_leads",)),
        ),
        build=_build_salesforce,
        options=("date_format", "decimal", "stage_map"),
    ),
)}


def preset_notes(name: str) -> list[str]:
    """The plain sentences of what a shipped preset's data cannot support."""
    if name not in PRESETS:
        raise ConfigError(f"There is no preset called '{name}'.", hint=f"Use one of: {', '.join(PRESETS)}.")
    return [n.text for n in PRESETS[name].notes]


def default_directory(name: str) -> Path | None:
    """The folder holding a public preset's data set, when it is present next to the project."""
    p = PRESETS.get(name)
    if p is None or not p.public_folder:
        return None
    d = SHARED_DATASETS / p.public_folder
    return d if d.is_dir() else None


def find_preset_files(name: str, directory) -> dict[str, Path]:
    """Locate a preset's files in ``directory`` (or one of its sub-folders) by their usual names."""
    p = PRESETS[name]
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
    import fnmatch
    return fnmatch.fnmatch(name.lower(), pattern.lower())


# ---------------------------------------------------------------------------------------------
# Import


def import_preset(con, name: str, directory=None, files: dict | None = None, skip_bad_rows: bool = False,
                  options: dict | None = None) -> ingest.ImportResult:
    """Import a preset's source files: build the canonical tables, validate and replace all four.

    ``files`` maps a role key (see ``PRESETS[name].roles``) to a path, a ``(name, bytes)`` tuple or
    an uploaded file; otherwise the files are looked up in ``directory`` by their usual names.
    ``name`` may also be a mapping saved from the Data page (``<database folder>/mappings/NAME.toml``).
    Raises ImportValidationError (nothing changed) when a file is missing or invalid.
    """
    if name not in PRESETS:
        saved = {m["name"]: m for m in saved_mappings(mappings_dir(con))}
        if name in saved:
            return _import_saved(con, saved[name], directory, files, skip_bad_rows)
        raise ConfigError(f"There is no preset called '{name}'.",
                          hint=f"Use one of: {', '.join(list(PRESETS) + sorted(saved))}.")
    preset = PRESETS[name]
    options = dict(options or {})
    given = dict(files or {})
    if not given:
        folder = directory or default_directory(name)
        if folder is None:
            raise ImportValidationError(f"No files were given for the {preset.title} preset.",
                                        hint="Name the folder holding them (--dir FOLDER) or upload them on the Data page.")
        if not Path(folder).is_dir():
            raise ImportValidationError(f"The folder {folder} does not exist.", hint="Check the path.")
        given = find_preset_files(name, folder)
    missing = [r for r in preset.roles if r.required and given.get(r.key) is None]
    if missing:
        where = f" in {directory}" if directory and not files else ""
        _refuse([_problem(r.label, "", f"the {r.label.lower()} file was not found{where}. Expected {r.help or r.patterns[0]}.",
                          code="unreadable_file") for r in missing],
                hint="Give every required file, then import again; the database was not changed.")
    src: dict[str, tuple[str, pd.DataFrame]] = {}
    for role in preset.roles:
        f = given.get(role.key)
        if f is None:
            continue
        df = ingest.read_table_file(f)
        if df.empty:
            _refuse([_problem(_src_name(f), "", "has a header but no data rows.", code="empty_file")])
        src[role.key] = (_src_name(f), df)
    built = preset.build(src, options)
    return _import_built(con, f"preset:{name}", built,
                         [*preset.notes, *built.notes], skip_bad_rows)


def _derived_name(source: str, table: str) -> str:
    stem = Path(source).stem
    return f"{stem} ({table}).csv"


def _import_built(con, source: str, built: Built, notes: list[Note], skip_bad_rows: bool):
    mapping = {"stages": {f: _stage_mapping(con, f, m) for f, m in built.stages.items() if m}}
    files = {}
    for table, df in built.tables.items():
        data = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
        files[table] = (_derived_name(built.names.get(table, table), table), data)
    derived = {name: table for table, (name, _) in files.items()}
    try:
        result = ingest.import_files(con, **files, mapping=mapping, skip_bad_rows=skip_bad_rows, source=source)
    except ImportValidationError as e:
        problems = [_translate(p, built, derived) for p in e.problems]
        m = re.search(r"([\d,]+) problems? found", e.message)
        total = int(m.group(1).replace(",", "")) if m else len(problems)
        first = "; ".join(str(p).rstrip(".") for p in problems[:3])
        more = f" (and {total - 3:,} more)" if total > 3 else ""
        raise ImportValidationError(f"Nothing was imported: {total:,} problem{'s' if total != 1 else ''} found. "
                                    f"{first}{more}.", problems=problems, hint=e.hint) from None
    original = result.problems
    result.problems = [_translate(p, built, derived) for p in original]
    _finish(con, result, source, set(built.tables), notes, derived,
            [(o, t) for o, t in zip(original, result.problems) if o.reason != t.reason])
    return result


def _translate(p, built: Built, derived: dict[str, str]):
    """A problem found in a preset's derived file, told in terms of the user's own file."""
    table = derived.get(p.file)
    if table is None:
        return p
    df = built.tables[table]
    src_file, row = built.names.get(table, p.file), p.row
    col = (built.columns.get(table) or {}).get(p.column) if p.column else None
    if p.row is not None and "source_row" in df.columns and 1 <= p.row <= len(df):
        rec = df.iloc[p.row - 1]
        src_file = str(rec.get("source_file") or src_file)
        row = int(rec["source_row"])
        sc = rec.get("source_column") if "source_column" in df.columns else None
        if p.column == "entered_at" and isinstance(sc, str) and sc:
            col = sc
    elif table != "leads":
        row = None  # a row of a table the preset assembled: its number would mean nothing to the user
    reason = p.reason
    if p.code == "bad_timestamp":
        reason = (f'"{p.value}" is not a date that can be read. Export dates as YYYY-MM-DD HH:MM, or choose the date '
                  "format (day first, month first, or a format such as %d.%m.%Y %H:%M) and import again.")
    elif p.code == "unknown_stage":
        reason = (f'"{p.value}" is not a stage this preset knows. Map it onto a configured stage (custom stage '
                  "names, e.g. Verbal Commit = Negotiation), or add the stage on the Stage settings page.")
    return ingest.Problem(src_file, p.table, row, p.column, p.value, reason, p.code,
                          source_column=col or p.source_column)


def _finish(con, result, source: str, produced: set[str], notes: list[Note],
            derived: dict[str, str] | None = None, reworded: list | None = None) -> None:
    """Empty the tables the source has nothing for and store its notes, in one transaction."""
    cleared = [t for t in ("opportunity_events", "opportunities", "lead_events", "leads") if t not in produced]
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in cleared}
    to_clear = [t for t in cleared if counts[t] or t == "leads"]
    payload = {"source": source, "run_id": result.run_id,
               "notes": [{"topic": n.topic, "text": n.text, "covers": list(n.covers)} for n in notes]}
    with store.transaction(con):
        for t in to_clear:
            if t == "leads":
                # Recreate it with the core columns only: attributes of earlier data must not linger.
                con.execute("DROP TABLE leads")
                store.init_schema(con)
            else:
                con.execute(f"DELETE FROM {t}")
        store.set_setting(con, NOTES_KEY, json.dumps(payload))
        # Rejected rows name the user's file, row and column, not the preset's derived file.
        if reworded:
            con.executemany("UPDATE rejected_rows SET reason = ? WHERE run_id = ? AND file = ? AND row_number = ? "
                            "AND column_name = ? AND reason = ?",
                            [[t.reason, result.run_id, o.file, o.row, o.column, o.reason] for o, t in reworded])
        for name in (derived or {}):
            con.execute("""UPDATE rejected_rows SET
                               file = coalesce(json_extract_string(raw_json, '$.source_file'), file),
                               row_number = coalesce(TRY_CAST(json_extract_string(raw_json, '$.source_row') AS BIGINT),
                                                     row_number),
                               column_name = CASE WHEN column_name = 'entered_at' THEN coalesce(
                                   json_extract_string(raw_json, '$.source_column'), column_name) ELSE column_name END
                           WHERE run_id = ? AND file = ?""", [result.run_id, name])
        emptied = [TABLE_LABELS[t].lower() for t in reversed(cleared) if counts.get(t)]
        extra = f" This source has no {' or '.join(emptied)}: those tables were emptied." if emptied else ""
        preset = PRESETS.get(source.split(":", 1)[1]) if source.startswith("preset:") else None
        if preset is not None and preset.scoring_rules:
            extra += seed_scoring(con, preset.scoring_rules, preset.scoring_threshold, source)
        if extra:
            con.execute("UPDATE import_runs SET message = message || ? WHERE run_id = ?", [extra, result.run_id])
            result.message += extra
        store.refresh_derived(con)
        store.bump_data_version(con)


# ---------------------------------------------------------------------------------------------
# Scoring rules that fit the imported data
#
# The shipped default rules are written for the sample data (segment, job title, page views, …). A
# preset seeds its own rules on import, but only while the stored rules are still untouched: the
# defaults, or the rules an earlier preset seeded. Rules a user edited are never overwritten; the
# threshold is treated the same way on its own.

SCORING_SEED_KEY = "scoring_seed"


def _rule_key(rules) -> list[tuple]:
    return [(str(a), str(o).lower(), "" if v is None else str(v), float(p), bool(e), str(g or "fit"))
            for a, o, v, p, e, g in rules]


def _scoring_state(con) -> tuple[bool, bool, dict]:
    """(rules untouched, threshold untouched, the stored seed record)."""
    raw = store.get_setting(con, SCORING_SEED_KEY)
    try:
        seed = json.loads(raw) if raw else {}
    except ValueError:
        seed = {}
    rows = con.execute("SELECT attribute, operator, value, points, enabled, rule_group FROM scoring_rules "
                       "ORDER BY rule_id").fetchall()
    stored = _rule_key(rows)
    untouched_rules = stored == _rule_key(store.DEFAULT_RULES) or (
        "rules" in seed and stored == _rule_key(seed["rules"]))
    threshold = float(store.get_setting(con, "mql_threshold", str(store.DEFAULT_MQL_THRESHOLD)))
    known = {float(store.DEFAULT_MQL_THRESHOLD)} | ({float(seed["threshold"])} if seed.get("threshold") is not None
                                                     else set())
    return untouched_rules, threshold in known, seed


def scoring_is_untouched(con) -> bool:
    """True while the stored scoring rules are the shipped defaults or a preset's seeded rules."""
    return _scoring_state(con)[0]


def preset_scoring_rules(con, rules) -> list[tuple]:
    """The rules whose attribute this data has and fills for at least one lead."""
    columns = store.lead_attribute_columns(con)
    names = sorted({r[0] for r in rules if r[0] in columns})
    if not names:
        return []
    counts = con.execute("SELECT " + ", ".join(f"count({store.quote_ident(c)})" for c in names)
                         + " FROM leads").fetchone()
    filled = {c for c, n in zip(names, counts) if n}
    return [tuple(r) for r in rules if r[0] in filled]


def seed_scoring(con, rules, threshold: float | None, source: str) -> str:
    """Store ``rules`` (and ``threshold``) as the current scoring if the stored ones are untouched.

    Runs inside the caller's transaction. Rules on columns this data lacks are dropped; when none
    is left nothing changes. Returns a sentence for the import message ('' when nothing changed).
    """
    untouched_rules, untouched_threshold, _ = _scoring_state(con)
    usable = preset_scoring_rules(con, rules)
    if not usable:
        return ""
    if not untouched_rules:
        return " Your edited scoring rules were kept: the rules this preset suggests for its data did not replace them."
    store.seed_scoring_rules(con, usable)
    con.execute("UPDATE scoring_scenarios SET is_current = FALSE")
    record = {"source": source, "rules": [list(r) for r in usable], "threshold": None}
    said = f" Scoring rules for this data were set up ({len(usable)} rules"
    if threshold is not None and untouched_threshold:
        store.set_setting(con, "mql_threshold", str(float(threshold)))
        record["threshold"] = float(threshold)
        said += f", MQL threshold {float(threshold):g}"
    store.set_setting(con, SCORING_SEED_KEY, json.dumps(record))
    return said + "); edit them on the Scoring what-if page."


def restore_default_scoring(con) -> bool:
    """Put the shipped default rules (and threshold) back if the stored ones are a preset's untouched
    seed — e.g. after resetting to the sample data. Returns True when something changed."""
    untouched_rules, untouched_threshold, seed = _scoring_state(con)
    if not seed or not untouched_rules:
        return False
    with store.transaction(con):
        store.seed_scoring_rules(con)
        if untouched_threshold:
            store.set_setting(con, "mql_threshold", str(float(store.DEFAULT_MQL_THRESHOLD)))
        con.execute("DELETE FROM settings WHERE key = ?", [SCORING_SEED_KEY])
        store.bump_data_version(con)
    return True


# ---------------------------------------------------------------------------------------------
# Saved mappings (the column-mapping assistant's "Save as preset")


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


def _toml_str(s: str) -> str:
    return json.dumps(str(s), ensure_ascii=False)


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_str(k)


def _toml_value(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return _toml_str(v)


def mapping_to_toml(mapping: dict, meta: dict | None = None) -> str:
    """TOML text for a mapping (and an optional [preset] section with title and file names)."""
    lines = ["# Funnelcast import mapping, saved from the Data page's column-mapping assistant.",
             "# Use it again on the Data page, or: python -m funnel import --mapping THIS_FILE --leads …",
             "# The '#@' lines below are notes for the Data page (title, the files it was made for)."]
    for k, v in (meta or {}).items():
        if isinstance(v, dict):
            lines += [f"#@ {k}.{a} = {json.dumps(str(b), ensure_ascii=False)}" for a, b in v.items()]
        else:
            lines.append(f"#@ {k} = {json.dumps(str(v), ensure_ascii=False)}")
    lines.append("")
    m = load_mapping(mapping)
    for section in ("columns", "stages"):
        for sub, pairs in m.get(section, {}).items():
            if pairs:
                lines.append(f"[{section}.{_toml_key(sub)}]")
                lines += [f"{_toml_key(a)} = {_toml_value(b)}" for a, b in pairs.items()]
                lines.append("")
    for section in ("timestamp_formats", "options"):
        if m.get(section):
            lines.append(f"[{section}]")
            lines += [f"{_toml_key(a)} = {_toml_value(b)}" for a, b in m[section].items()]
            lines.append("")
    return "\n".join(lines)


_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def save_mapping(directory, name: str, mapping: dict, files: dict[str, str] | None = None,
                 title: str | None = None) -> Path:
    """Write ``mapping`` as ``directory/NAME.toml``; returns the path."""
    clean = normalise_name(name).replace("_", "-") if name else ""
    if not clean or not _NAME_RE.match(clean):
        raise ConfigError("Give the mapping a short name of letters, digits and dashes, e.g. 'pipedrive-leads'.")
    if clean.replace("-", "_") in PRESETS or clean in PRESETS:
        raise ConfigError(f"'{clean}' is the name of a shipped preset.", hint="Pick another name.")
    problems = validate_mapping(mapping)
    if problems:
        raise ConfigError("The mapping was not saved: " + " ".join(problems))
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
    import tomllib
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


def _import_saved(con, saved: dict, directory, files, skip_bad_rows):
    if saved.get("mapping") is None:
        raise ConfigError(f"The saved mapping {saved['path']} cannot be read.", hint="Fix or delete the file.")
    given = dict(files or {})
    if not given:
        if not directory:
            raise ImportValidationError(f"No files were given for the saved mapping '{saved['name']}'.",
                                        hint="Name the folder holding them with --dir FOLDER.")
        for table, fname in saved["files"].items():
            p = Path(directory) / fname
            if p.is_file():
                given[table] = p
        if not given:
            raise ImportValidationError(f"None of {', '.join(saved['files'].values()) or 'its files'} is in {directory}.",
                                        hint="Put the files there under the names they had when the mapping was saved.")
    result = ingest.import_files(con, **{t: f for t, f in given.items() if t in TABLE_ORDER},
                                 mapping=saved["mapping"], skip_bad_rows=skip_bad_rows,
                                 source=f"mapping:{saved['name']}")
    clear_data_notes(con)
    return result


# ---------------------------------------------------------------------------------------------
# Data notes and limitations: what the data cannot support


def data_notes(con) -> list[dict]:
    """The stored notes of the preset behind the current data, or [] when they no longer apply.

    They apply while the preset's import is the latest committed one: sample generation or
    another import logs a newer run, and the notes are ignored from then on.
    """
    raw = store.get_setting(con, NOTES_KEY)
    if not raw:
        return []
    try:
        payload = json.loads(raw)
    except ValueError:
        return []
    row = con.execute("SELECT max(run_id) FROM import_runs WHERE status = 'committed'").fetchone()
    latest = row[0] if row else None
    if latest is None or payload.get("run_id") != latest:
        return []
    return [n for n in payload.get("notes", []) if isinstance(n, dict) and n.get("text")]


def clear_data_notes(con) -> None:
    con.execute("DELETE FROM settings WHERE key = ?", [NOTES_KEY])


#: Topics of the limitation notes (the Data page lists them under these headings, in this order).
TOPICS = {"leads": "Leads", "conversion": "Conversion", "time_in_stage": "Time in stage (leads)",
          "deal_time_in_stage": "Time in stage (deals)", "rejections": "Rejections",
          "forecast": "Pipeline & forecast", "scoring": "Scoring", "trends": "Trends",
          "filters": "Filters & breakdowns", "source": "About the source"}


def limitations(con) -> list[dict]:
    """What cannot be computed on this data, and why: [{"topic", "text", "code"}], source notes first.

    Topics: see :data:`TOPICS`. Found by looking at the data itself (no lead events, no lost deals,
    one creation date, owners known only for won leads, …) plus the notes stored by the preset that
    imported it; a finding a stored note already states (its ``covers``) is not repeated.
    """
    return _limitations(con)[0]


def _limitations(con) -> tuple[list[dict], set[str]]:
    """(the notes of :func:`limitations`, every finding's code — also those a stored note covers)."""
    out: list[dict] = []
    found: set[str] = set()
    stored = data_notes(con)
    covered = {c for n in stored for c in n.get("covers", [])}
    for n in stored:
        out.append({"topic": n.get("topic", "source"), "text": n["text"], "code": None})

    def add(code: str, topic: str, text: str) -> None:
        found.add(code)
        if code not in covered and not any(o["text"] == text for o in out):
            out.append({"topic": topic, "text": text, "code": code})

    one = lambda q, p=None: con.execute(q, p or []).fetchone()  # noqa: E731
    n_leads = one("SELECT count(*) FROM leads")[0]
    n_lev = one("SELECT count(*) FROM lead_events")[0]
    n_opp = one("SELECT count(*) FROM opportunities")[0]
    n_oev = one("SELECT count(*) FROM opportunity_events")[0]
    kinds = """(SELECT e.*, s.kind, s.position FROM {t} e JOIN stage_config s
                ON s.funnel = '{f}' AND s.stage = e.stage)"""
    if n_leads == 0:
        add("no_leads", "leads", "There are no leads: the lead funnel, conversion rates, lead time in stage, "
                                 "rejections and the scoring what-if cannot be computed.")
    else:
        if n_lev == 0:
            add("no_lead_events", "conversion", "No lead has any stage history: conversion beyond the first stage "
                                                "and time in stage cannot be computed.")
        else:
            first_pos = one("SELECT min(position) FROM stage_config WHERE funnel = 'lead' AND position IS NOT NULL "
                            "AND kind IN ('open', 'won')")[0] or 0
            # One scan of the events for every stage-kind question.
            moved, rejected, recycled, won = one(
                f"""SELECT count(*) FILTER (WHERE x.kind IN ('open', 'won') AND x.position > ?),
                           count(*) FILTER (WHERE x.kind = 'rejected'), count(*) FILTER (WHERE x.kind = 'recycled'),
                           count(*) FILTER (WHERE x.kind = 'won')
                    FROM {kinds.format(t="lead_events", f="lead")} x""", [first_pos])
            if moved == 0:
                add("no_progress", "conversion", "No lead has moved past the first stage: conversion rates cannot "
                                                 "be computed.")
            if rejected == 0 and recycled == 0:
                add("no_rejections", "rejections", "No rejection or recycling is recorded: rejection rates, reasons "
                                                   "and resubmission loops cannot be computed.")
            elif rejected == 0:
                add("no_rejections", "rejections", "No rejection is recorded: rejection rates and reasons cannot be "
                                                   "computed.")
            if won == 0:
                add("no_won_leads", "conversion", "No lead ever reached the won stage: conversion to customer is 0% "
                                                  "by definition.")
            timed = one("""SELECT count(*) FROM (SELECT 1 FROM lead_events e JOIN leads l USING (lead_id)
                                                 WHERE e.entered_at <> l.created_at LIMIT 1)""")[0]
            if timed == 0:
                add("no_durations", "time_in_stage", "Every stage event carries its lead's creation time: time in "
                                                     "stage and time to convert cannot be measured.")
        days = one("SELECT count(DISTINCT CAST(created_at AS DATE)), min(created_at) FROM leads")
        if days[0] == 1:
            add("one_date", "trends", f"All leads share one creation date ({days[1]:%d %b %Y}): there are no "
                                      "cohorts, trends or week-on-week changes.")
        cols = store.lead_attribute_columns(con)
        dims = [d for d in DIMENSIONS if d in cols]
        if dims:
            won_leads = ("(SELECT DISTINCT e.lead_id FROM lead_events e JOIN stage_config s ON s.funnel = 'lead' "
                         "AND s.stage = e.stage AND s.kind = 'won')")
            aggs = ", ".join(f"count(l.{store.quote_ident(d)}), "
                             f"count(l.{store.quote_ident(d)}) FILTER (WHERE w.lead_id IS NULL)" for d in dims)
            row = one(f"SELECT count(*) FILTER (WHERE w.lead_id IS NULL), {aggs} "
                      f"FROM leads l LEFT JOIN {won_leads} w USING (lead_id)")
            not_won = row[0]
            labels = {"channel": "Channel", "segment": "Segment", "region": "Region", "sdr": "SDR", "ae": "AE"}
            for i, d in enumerate(dims):
                filled, filled_not_won = row[1 + 2 * i], row[2 + 2 * i]
                if filled and filled_not_won == 0 and not_won > 0:
                    add(f"won_only_{d}", "filters", f"{labels[d]} is known only for won leads: conversion rates by "
                                                    f"{labels[d]} would be 100% and mean nothing.")
    if n_opp == 0:
        add("no_opportunities", "forecast", "There are no opportunities: the pipeline, the forecast, win rates and "
                                            "the backtest cannot be computed.")
    else:
        ok = kinds.format(t="opportunity_events", f="opportunity")
        won, lost = one(f"SELECT count(*) FILTER (WHERE kind = 'won'), count(*) FILTER (WHERE kind = 'lost') "
                        f"FROM {ok} x") if n_oev else (0, 0)
        if lost == 0:
            add("no_lost", "forecast", "No deal was ever lost: historical win rates would be 100% and mean nothing "
                                       "— use the configured probabilities.")
        if won == 0:
            add("no_won", "forecast", "No deal was ever won: historical win rates are 0% and the backtest has no "
                                      "actuals.")
        open_now = one("""WITH last AS (SELECT opportunity_id, arg_max(stage, (entered_at, event_seq)) AS stage
                                        FROM opportunity_events GROUP BY 1)
                          SELECT count(*) FROM opportunities o LEFT JOIN last USING (opportunity_id)
                          LEFT JOIN stage_config s ON s.funnel = 'opportunity' AND s.stage = last.stage
                          WHERE last.stage IS NULL OR s.kind = 'open'""")[0]
        if open_now == 0:
            add("no_open", "forecast", "Every deal is closed: there is no open pipeline to forecast.")
        linked = one("SELECT count(*) FROM opportunities o JOIN leads l USING (lead_id)")[0]
        if linked == 0 and n_leads > 0:
            add("unlinked", "filters", "No deal is linked to a lead: the channel, segment, region, SDR and AE "
                                       "filters leave no deal in the pipeline and forecast.")
        open_visits = one(f"SELECT count(*) FROM {ok} x WHERE x.kind = 'open'")[0] if n_oev else 0
        if open_visits == 0:
            add("no_deal_stages", "deal_time_in_stage", "No deal has an event in an open stage (each recorded event "
                                                        "closes a deal): time in the deal stages cannot be measured.")
    return out, found


def data_limitations(con, topic: str | tuple[str, ...] | list[str] | None = None) -> list[str]:
    """Plain sentences of what cannot be computed on the current data (optionally for one topic
    or several: ``topic=("leads", "conversion")``)."""
    topics = None if topic is None else {topic} if isinstance(topic, str) else set(topic)
    return [x["text"] for x in limitations(con) if topics is None or x["topic"] in topics]


# Which notes each page shows (a page lists only what bears on its own figures).
PAGE_TOPICS: dict[str, tuple[str, ...]] = {
    "overview": ("leads", "conversion", "trends", "rejections", "forecast"),
    "review_history": ("forecast",),
    "conversion": ("leads", "conversion", "trends", "filters"),
    "time_in_stage:lead": ("leads", "time_in_stage"),
    "time_in_stage:opportunity": ("deal_time_in_stage",),
    "rejections": ("leads", "rejections"),
    "forecast": ("forecast",),
    "scoring": ("leads", "scoring", "trends", "filters"),
}

# (page, finding code) → what the page says instead of its figures when the data rules them out.
_BLOCKING: dict[str, list[tuple[str, str, str]]] = {
    "conversion": [
        ("no_leads", "This data has no leads, so there is no lead funnel to measure.",
         "Import leads and their stage history on the Data page (the deals of this data are on the Forecast and "
         "Time in stage pages)."),
    ],
    "time_in_stage:lead": [
        ("no_leads", "This data has no leads, so lead time in stage cannot be measured.",
         "Switch to Opportunities above for the deals, or import leads with their stage history on the Data page."),
        ("no_lead_events", "No lead has a stage history, so lead time in stage cannot be measured.",
         "Import the leads' stage history (lead events) on the Data page."),
        ("no_durations", "Lead time in stage cannot be measured: every stage event sits on its lead's creation "
                         "time, so no stay in a stage has a length.",
         "Time in stage needs the date each lead entered each stage: import a stage history with dates on the "
         "Data page."),
    ],
    "time_in_stage:opportunity": [
        ("no_opportunities", "This data has no deals, so deal time in stage cannot be measured.",
         "Switch to Leads above, or import opportunities with their stage history on the Data page."),
        ("no_deal_stages", "No deal has a recorded stay in an open stage, so deal time in stage cannot be measured.",
         "Switch to Leads above, or import a deal stage history that records each stage change."),
    ],
    "scoring": [
        ("no_leads", "This data has no leads, so there is nothing to score.",
         "The scoring what-if judges rules on leads whose outcome is known: import leads with their attributes "
         "and stage history on the Data page."),
    ],
}


def limitation_findings(con) -> dict:
    """``{"notes": limitations(con), "codes": [every finding's code]}``: the one look at the data
    every page's notes come from (pages pass it to :func:`notes_for_page`).

    The look depends only on the data and the stage configuration, and takes 0.5 s at 1M leads
    and 1.7 s at 5M: it is kept in the settings table until the derived tables are rebuilt (on
    every import and stage edit, which set a new ``derived_stamp``).
    """
    stamp = store.get_setting(con, "derived_stamp")
    kept = store.get_setting(con, "limitation_findings")
    if stamp and kept:
        try:
            saved = json.loads(kept)
            if saved.get("stamp") == stamp:
                return saved["findings"]
        except (ValueError, KeyError, TypeError):
            pass
    notes, found = _limitations(con)
    findings = {"notes": notes, "codes": sorted(found)}
    if stamp:
        try:
            store.set_setting(con, "limitation_findings", json.dumps({"stamp": stamp, "findings": findings}))
        except duckdb.Error:  # a read-only database or a concurrent writer: the next call looks again
            pass
    return findings


def page_limitations(con, page: str, funnel: str | None = None) -> dict:
    """What one page must say about the current data: :func:`notes_for_page` of
    :func:`limitation_findings`."""
    return notes_for_page(limitation_findings(con), page, funnel)


def notes_for_page(findings: dict, page: str, funnel: str | None = None) -> dict:
    """What one page must say, from :func:`limitation_findings` (pure: no database).

    ``page``: a key of :data:`PAGE_TOPICS` without the funnel (``"time_in_stage"`` takes
    ``funnel="lead"`` or ``"opportunity"``). Returns ``{"notes": [sentences], "blocked": None or
    {"finding", "todo"}, "codes": [finding codes]}``: ``blocked`` is set when the data rules out
    every figure of the page (e.g. no leads on the Conversion page) — the page then says the
    finding and what to do instead of drawing empty charts; ``codes`` lets a page skip single
    sections (e.g. ``"one_date"``: no cohorts or trends).
    """
    key = f"{page}:{funnel or 'lead'}" if page == "time_in_stage" else page
    if key not in PAGE_TOPICS:
        raise ConfigError(f"No data notes are defined for the page '{page}'.",
                          hint=f"Use one of: {', '.join(sorted({k.split(':')[0] for k in PAGE_TOPICS}))}.")
    notes, found = findings["notes"], set(findings["codes"])
    blocked = None
    for code, finding, todo in _BLOCKING.get(key, []):
        if code in found:
            blocked = {"finding": finding, "todo": todo}
            break
    # A blocked page draws no breakdown, so notes about filters and breakdowns would only distract.
    topics = set(PAGE_TOPICS[key]) - ({"filters"} if blocked else set())
    texts = list(dict.fromkeys(x["text"] for x in notes if x["topic"] in topics))
    return {"notes": texts, "blocked": blocked, "codes": sorted(found)}


# ---------------------------------------------------------------------------------------------
# Dry run: validate an import against a temporary database with the same stage configuration


@dataclass
class DryRun:
    ok: bool
    result: ingest.ImportResult | None
    error: FunnelError | None
    preview: dict[str, pd.DataFrame]
    counts: dict[str, int]
    limitations: list[str]


def _copy(src_con, dst_con, select: str, table: str, columns: str) -> None:
    tbl = src_con.sql(select).to_arrow_table()
    dst_con.register("_dry_copy", tbl)
    try:
        dst_con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _dry_copy")
    finally:
        dst_con.unregister("_dry_copy")


def dry_run(con, *, preset: str | None = None, directory=None, preset_files: dict | None = None,
            options: dict | None = None, mapping=None, skip_bad_rows: bool = False, preview_rows: int = 20,
            **files) -> DryRun:
    """Run the import into a throw-away database that has this one's stage configuration.

    With ``preset`` the preset's import runs (it replaces every table). Otherwise ``files`` are
    the canonical files (leads=…, lead_events=…, …) with ``mapping``; the stored rows the import
    checks references against are copied across first, so the result is what a real import would
    report. Nothing in ``con`` changes.
    """
    tmp = Path(tempfile.mkdtemp(prefix="funnel-dryrun-"))
    tcon = store.connect(tmp / "dry.duckdb")
    try:
        rows = con.execute("SELECT funnel, stage, position, kind, team, probability, category, sla_hours "
                           "FROM stage_config").fetchall()
        tcon.execute("DELETE FROM stage_config")
        tcon.executemany("INSERT INTO stage_config VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        # The scoring rules too, so the result says what a real import would do with them.
        rules = con.execute("SELECT * FROM scoring_rules ORDER BY rule_id").fetchall()
        tcon.execute("DELETE FROM scoring_rules")
        if rules:
            tcon.executemany(f"INSERT INTO scoring_rules VALUES ({', '.join('?' * len(rules[0]))})", rules)
        for key in ("mql_threshold", SCORING_SEED_KEY):
            value = store.get_setting(con, key)
            if value is not None:
                store.set_setting(tcon, key, value)
        if preset is None:
            given = {t for t, f in files.items() if f is not None}
            if "lead_events" in given and "leads" not in given:
                _copy(con, tcon, "SELECT lead_id, created_at FROM leads", "leads", "lead_id, created_at")
            if "leads" in given and "lead_events" not in given:
                _copy(con, tcon, "SELECT lead_id, stage, entered_at, event_seq FROM lead_events", "lead_events",
                      "lead_id, stage, entered_at, event_seq")
            if "opportunity_events" in given and "opportunities" not in given:
                _copy(con, tcon, "SELECT opportunity_id, created_at, amount, close_date FROM opportunities",
                      "opportunities", "opportunity_id, created_at, amount, close_date")
            if "opportunities" in given and "opportunity_events" not in given:
                _copy(con, tcon, "SELECT opportunity_id, stage, entered_at, event_seq FROM opportunity_events",
                      "opportunity_events", "opportunity_id, stage, entered_at, event_seq")
        try:
            if preset is not None:
                result = import_preset(tcon, preset, directory, files=preset_files, skip_bad_rows=skip_bad_rows,
                                       options=options)
                result.message = (result.message.replace("Scoring rules for this data were set up",
                                                         "Scoring rules for this data would be set up")
                                  .replace("Your edited scoring rules were kept", "Your edited scoring rules would be kept"))
                tables = list(TABLE_ORDER)
            else:
                result = ingest.import_files(tcon, **files, mapping=mapping, skip_bad_rows=skip_bad_rows)
                tables = [t for t in TABLE_ORDER if files.get(t) is not None]
        except FunnelError as e:
            return DryRun(False, None, e, {}, {}, [])
        preview, counts = {}, {}
        for t in tables:
            order = " ORDER BY event_seq" if t.endswith("events") else ""
            preview[t] = tcon.execute(f"SELECT * FROM {t}{order} LIMIT {int(preview_rows)}").df()
            counts[t] = tcon.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        lim = data_limitations(tcon) if preset is not None else []
        return DryRun(True, result, None, preview, counts, lim)
    finally:
        tcon.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Column-mapping assistant helpers (the Data page draws them; the logic lives here)

FIELD_HELP = {
    "lead_id": "the lead's id in your system", "created_at": "when the lead entered the funnel",
    "channel": "acquisition channel", "segment": "SMB, Mid-Market, Enterprise, …", "region": "region",
    "industry": "industry", "company_size": "employees (whole number)", "job_title": "job title or persona",
    "sdr": "owning SDR", "ae": "owning account executive", "stage": "the stage entered",
    "entered_at": "when the stage was entered", "actor": "who moved it", "reason": "why (rejections)",
    "opportunity_id": "the deal's id", "account": "account / company", "amount": "deal amount (0 or more)",
    "close_date": "expected close date (actual once closed)", "owner": "deal owner (AE)", "product": "product",
}


def _looks_like(values: list[str], kind: str) -> bool:
    vals = [v for v in values if v]
    if not vals:
        return False
    if kind in ("timestamp", "date"):
        return all(_ISO.match(v) or _LOCAL.match(v) for v in vals)
    if kind == "amount":
        return all(re.fullmatch(r"-?[\d.,]+", v) for v in vals)
    if kind == "id":
        return len(set(vals)) == len(vals)
    return True


def guess_columns(df: pd.DataFrame, table: str, configured_stages: list[str] | None = None) -> dict[str, str]:
    """``{canonical column: file column}`` from names (ingest.guess_mapping), then from sample values.

    A required column the names did not find is matched by what its values look like: dates for
    timestamps, unique values for ids, numbers for amounts, stage-like words for stages.
    """
    out = dict(guess_mapping(df, table))
    used = set(out.values())
    sample = {h: [str(v).strip() for v in df[h].head(200)] for h in df.columns}
    for canon, kind, required in TABLES[table]:
        if canon in out or not required:
            continue
        for h in df.columns:
            if h in used:
                continue
            vals = sample[h]
            if kind == "stage":
                words = {normalise_name(s) for s in (configured_stages or [])} | set(STAGE_SYNONYMS["lead"]) \
                    | set(STAGE_SYNONYMS["opportunity"])
                hit = [v for v in vals if v]
                ok = bool(hit) and sum(normalise_name(v) in words for v in hit) >= 0.5 * len(hit)
            elif kind == "ref":
                ok = bool([v for v in vals if v]) and "id" in normalise_name(h)
            else:
                ok = _looks_like(vals, kind)
            if ok:
                out[canon] = h
                used.add(h)
                break
    return out


def assistant_frame(table: str, colmap: dict[str, str]) -> pd.DataFrame:
    """One row per canonical column: field, required, meaning, and the file column chosen for it."""
    return pd.DataFrame([{"field": canon, "required": "yes" if required else "", "meaning": FIELD_HELP.get(canon, ""),
                          "column": colmap.get(canon) or ""} for canon, _kind, required in TABLES[table]])


def apply_column_mapping(df: pd.DataFrame, colmap: dict[str, str], table: str, rows: int = 5) -> pd.DataFrame:
    """The first rows as the import will see them: canonical names first (leads keep extra columns)."""
    head = df.head(rows)
    out = pd.DataFrame({canon: head[h] for canon, h in colmap.items() if h and h in head.columns})
    if table == "leads":
        mapped = set(colmap.values())
        for h in head.columns:
            if h not in mapped:
                out[_snake(h) or h] = head[h]
    return out


def column_samples(df: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """Each file column with a few example values and its share of blank cells."""
    rows = []
    for h in df.columns:
        s = df[h].astype(str).str.strip()
        filled = s[s != ""]
        rows.append({"column": h, "examples": ", ".join(list(dict.fromkeys(filled.head(200)))[:n]),
                     "blank_share": float((s == "").mean()) if len(s) else 0.0})
    return pd.DataFrame(rows, columns=["column", "examples", "blank_share"])


def configured_stage_names(con, funnel: str) -> list[str]:
    return [s.stage for s in store.stages(con, funnel)]


def distinct_values(df: pd.DataFrame, column: str, limit: int = 200) -> pd.DataFrame:
    """Distinct non-blank values of a column with their counts, most common first."""
    if not column or column not in df.columns:
        return pd.DataFrame({"value": [], "rows": []})
    s = df[column].astype(str).str.strip()
    vc = s[s != ""].value_counts().head(limit)
    return pd.DataFrame({"value": vc.index.astype(str), "rows": vc.values})


def guess_stage_map(values, configured: list[str], funnel: str) -> dict[str, str]:
    """Suggested configured stage per source value ('' when no good guess)."""
    by_norm = {normalise_name(s): s for s in configured}
    out = {}
    for v in values:
        n = normalise_name(v)
        hit = by_norm.get(n)
        if hit is None:
            role = STAGE_SYNONYMS[funnel].get(n) or STAGE_SYNONYMS[funnel].get(n.replace("_", ""))
            if role is not None:
                hit = role if role in configured else by_norm.get(normalise_name(role))
        out[v] = hit or ""
    return out


def build_mapping(columns: dict[str, dict[str, str]], stages: dict[str, dict[str, str]] | None = None,
                  formats: dict[str, str] | None = None, decimal: str = ".") -> dict:
    """A mapping dict from the assistant's confirmed choices.

    ``columns``: table → {canonical: file column} (blank entries dropped); ``stages``: funnel →
    {source value: configured stage} (blank and identical entries dropped); ``formats``: table →
    strptime format applied to that table's date columns.
    """
    m: dict = {"columns": {}, "stages": {}, "timestamp_formats": {}, "options": {}}
    for table, cm in (columns or {}).items():
        pairs = {c: str(h) for c, h in cm.items() if h and str(h).strip()}
        if pairs:
            m["columns"][table] = pairs
    for funnel, sm in (stages or {}).items():
        pairs = {str(k): str(v) for k, v in sm.items() if v and str(v).strip() and str(v) != str(k)}
        if pairs:
            m["stages"][funnel] = pairs
    for table, fmt in (formats or {}).items():
        if not fmt or not str(fmt).strip():
            continue
        for c, kind, _ in TABLES[table]:
            if kind in ("timestamp", "date") and c in TIME_COLUMNS:
                lst = m["timestamp_formats"].setdefault(c, [])
                if fmt not in lst:
                    lst.append(str(fmt).strip())
    if decimal == ",":
        m["options"]["decimal"] = ","
    return m


def parse_stage_lines(text: str) -> dict[str, str]:
    """``"Verbal Commit = Negotiation"`` lines → {"Verbal Commit": "Negotiation"} (blank lines ignored)."""
    out = {}
    for line in (text or "").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            if k.strip() and v.strip():
                out[k.strip().strip('"')] = v.strip().strip('"')
    return out


def problems_frame(problems) -> pd.DataFrame:
    """Import problems as a table a person can read and download."""
    rows = [{"File": p.file, "Table": p.table, "Row": p.row, "Column": p.source_column or p.column,
             "Value": p.value, "Problem": p.reason} for p in problems]
    return pd.DataFrame(rows, columns=["File", "Table", "Row", "Column", "Value", "Problem"])


def preset_names(con=None) -> list[str]:
    """Shipped presets, then saved mappings (when a connection is given)."""
    names = list(PRESETS)
    if con is not None:
        names += [m["name"] for m in saved_mappings(mappings_dir(con)) if m["name"] not in PRESETS]
    return names


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
