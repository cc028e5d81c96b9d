"""Import mappings: how a user's files and stage names map onto the canonical tables.

A mapping is a dict (or a TOML file with the same shape)::

    [columns.leads]            # canonical column = source column name
    lead_id = "Prospect ID"
    created_at = "Create Date"

    [stages.lead]              # source stage/status name = configured stage
    "Marketing Qualified Lead" = "MQL"
    [stages.opportunity]
    "Prospecting" = "Qualify"

    [timestamp_formats]        # canonical column (or "*" for all) = strptime format (or a list)
    created_at = "%d/%m/%Y"
    "*" = "%m/%d/%Y %H:%M"

    [options]
    decimal = "."              # "," for amounts written like 1.234,50
    sheet = "Leads"            # the sheet of .xlsx workbooks to read (default: the first)

Every section is optional. ``load_mapping`` reads and normalises one; ``validate_mapping`` lists
what is wrong with it as sentences; ``guess_mapping`` proposes column names from a file's header.
"""
from __future__ import annotations

import copy
import re
import tomllib
import unicodedata
from pathlib import Path

from .i18n import Joined, Message, msg

# Canonical columns per table, in contract order. Kinds drive parsing in funnel.ingest.
TABLES: dict[str, list[tuple[str, str, bool]]] = {
    # (column, kind, required)
    "leads": [
        ("lead_id", "id", True),
        ("created_at", "timestamp", True),
        ("channel", "text", False),
        ("segment", "text", False),
        ("region", "text", False),
        ("industry", "text", False),
        ("company_size", "integer", False),
        ("job_title", "text", False),
        ("sdr", "text", False),
        ("ae", "text", False),
    ],
    "lead_events": [
        ("lead_id", "ref", True),
        ("stage", "stage", True),
        ("entered_at", "timestamp", True),
        ("actor", "text", False),
        ("reason", "text", False),
    ],
    "opportunities": [
        ("opportunity_id", "id", True),
        ("lead_id", "text", False),
        ("account", "text", False),
        ("created_at", "timestamp", True),
        ("amount", "amount", True),
        ("close_date", "date", True),
        ("owner", "text", False),
        ("segment", "text", False),
        ("product", "text", False),
    ],
    "opportunity_events": [
        ("opportunity_id", "ref", True),
        ("stage", "stage", True),
        ("entered_at", "timestamp", True),
        ("amount", "amount", False),
        ("close_date", "date", False),
    ],
}

TABLE_ORDER = ("leads", "lead_events", "opportunities", "opportunity_events")
STAGE_FUNNEL = {"lead_events": "lead", "opportunity_events": "opportunity"}
TIME_COLUMNS = sorted({c for cols in TABLES.values() for c, k, _ in cols if k in ("timestamp", "date")})
MAPPING_SECTIONS = ("columns", "stages", "timestamp_formats", "options")
OPTIONS = {"decimal": (".", ","), "sheet": None}   # None: any text


def canonical_columns(table: str) -> list[str]:
    return [c for c, _, _ in TABLES[table]]


def required_columns(table: str) -> list[str]:
    return [c for c, _, req in TABLES[table] if req]


def normalise_name(name: object) -> str:
    """lower_snake_case: strip, lower, every run of characters other than letters and digits
    becomes one '_'. Letters of any script are kept ("Région" -> "région"), in composed form."""
    s = unicodedata.normalize("NFC", str(name if name is not None else "")).replace("\ufeff", "").strip().lower()
    s = re.sub(r"[\W_]+", "_", s).strip("_")
    return s


def stage_key(name: object) -> str:
    """A stage name with case, spaces and punctuation ignored: "M.Q.L." and "mql" are one stage."""
    s = unicodedata.normalize("NFC", str(name if name is not None else "")).casefold()
    return re.sub(r"[\W_]+", "", s)


def empty_mapping() -> dict:
    return {"columns": {}, "stages": {}, "timestamp_formats": {}, "options": {}}


def load_mapping(src: dict | str | Path | None) -> dict:
    """Read a mapping from a dict, a path to a .toml file, or TOML text; return it normalised.

    Normalised means every section is present, table and option keys are lower case, and every
    timestamp format is a list of strings. Nothing is checked here: see ``validate_mapping``.
    """
    if src is None:
        return empty_mapping()
    if isinstance(src, (str, Path)):
        text = None
        p = Path(src)
        looks_like_toml = isinstance(src, str) and ("\n" in src or "=" in src or src.lstrip().startswith("["))
        try:
            is_file = p.is_file()
        except OSError:  # a long TOML text is not a valid path on some systems
            is_file = False
        if is_file:
            text = p.read_text(encoding="utf-8-sig")
        elif looks_like_toml:
            text = str(src)
        else:
            raise FileNotFoundError(f"Mapping file {src} was not found.")
        raw = tomllib.loads(text)
    elif isinstance(src, dict):
        raw = copy.deepcopy(src)
    else:
        raise TypeError("A mapping is a dict, a path to a .toml file, or TOML text.")

    out = empty_mapping()
    for key, val in raw.items():
        k = str(key).strip().lower()
        if k in ("columns", "stages") and isinstance(val, dict):
            out[k] = {str(t).strip().lower(): (dict(v) if isinstance(v, dict) else v) for t, v in val.items()}
        elif k == "timestamp_formats" and isinstance(val, dict):
            out[k] = {str(c).strip(): ([v] if isinstance(v, str) else list(v) if isinstance(v, (list, tuple)) else v)
                      for c, v in val.items()}
        elif k == "options" and isinstance(val, dict):
            out[k] = {str(o).strip().lower(): v for o, v in val.items()}
        else:
            out[k] = val  # kept so validate_mapping can name it
    return out


def validate_mapping(mapping: dict | str | Path | None) -> list[str]:
    """Every problem with a mapping, as sentences that say what to change. Empty list = fine."""
    return [m.render("en") for m in mapping_problems(mapping)]


def _listing(items) -> Joined:
    """Names in a list ("a, b, c"; in Chinese "a、b、c")."""
    return Joined(tuple(str(i) for i in items), ", ")


def mapping_problems(mapping: dict | str | Path | None) -> list[Message]:
    """:func:`validate_mapping`'s sentences as messages, for a page to say in the reader's language."""
    try:
        m = load_mapping(mapping)
    except tomllib.TOMLDecodeError as e:
        return [msg("The mapping is not valid TOML: {error}. Check quotes around names with spaces.", error=str(e))]
    except FileNotFoundError:
        return [msg("Mapping file {path} was not found.", path=str(mapping))]
    except TypeError:
        return [msg("A mapping is a dict, a path to a .toml file, or TOML text.")]
    problems: list[Message] = []
    for key in m:
        if key not in MAPPING_SECTIONS:
            problems.append(msg("Unknown mapping section [{section}]; use {sections}.", section=key,
                                sections=_listing("[" + s + "]" for s in MAPPING_SECTIONS)))
    for section in MAPPING_SECTIONS:
        if not isinstance(m.get(section), dict):
            problems.append(msg("[{section}] must be a table of name = value pairs.", section=section))
    if problems:
        return problems

    for table, cols in m["columns"].items():
        if table not in TABLES:
            problems.append(msg("[columns.{table}] is not a table; use one of {tables}.", table=table,
                                tables=_listing(TABLE_ORDER)))
            continue
        if not isinstance(cols, dict):
            problems.append(msg('[columns.{table}] must list canonical = "source column" pairs.', table=table))
            continue
        known = canonical_columns(table)
        seen: dict[str, str] = {}
        for canon, source in cols.items():
            if not isinstance(source, str) or not source.strip():
                problems.append(msg('[columns.{table}] {column}: give the source column name as text, e.g. '
                                    '{column} = "My Column".', table=table, column=canon))
                continue
            if canon not in known and table != "leads":
                problems.append(msg("[columns.{table}] {column} is not a column of {table}; use one of {columns}.",
                                    table=table, column=canon, columns=_listing(known)))
            elif canon not in known and normalise_name(canon) != canon:
                problems.append(msg("[columns.leads] attribute name {name} must be lower_snake_case, e.g. {example}.",
                                    name=repr(canon), example=repr(normalise_name(canon) or "my_attribute")))
            key = source.strip().lower()
            if key in seen:
                problems.append(msg('[columns.{table}] source column "{source}" is mapped twice ({first} and '
                                    '{second}); map each source column once.', table=table, source=source,
                                    first=seen[key], second=canon))
            seen[key] = canon

    for funnel, names in m["stages"].items():
        if funnel not in ("lead", "opportunity"):
            problems.append(msg("[stages.{funnel}] is not a funnel; use [stages.lead] or [stages.opportunity].",
                                funnel=funnel))
            continue
        if not isinstance(names, dict):
            problems.append(msg('[stages.{funnel}] must list "source name" = "configured stage" pairs.', funnel=funnel))
            continue
        for source, target in names.items():
            if not isinstance(target, str) or not target.strip():
                problems.append(msg('[stages.{funnel}] "{source}": give the configured stage as text, e.g. '
                                    '"{source}" = "MQL".', funnel=funnel, source=source))

    for col, fmts in m["timestamp_formats"].items():
        if col != "*" and col not in TIME_COLUMNS:
            problems.append(msg('[timestamp_formats] {column} is not a date or time column; use one of {columns} '
                                'or "*" for all.', column=col, columns=_listing(TIME_COLUMNS)))
        if not isinstance(fmts, list) or not fmts or not all(isinstance(f, str) and "%" in f for f in fmts):
            problems.append(msg('[timestamp_formats] {column}: give a strptime format such as "{example}" '
                                '(or a list of them).', column=col, example="%d/%m/%Y"))

    for opt, val in m["options"].items():
        if opt not in OPTIONS:
            problems.append(msg("[options] {option} is not an option; use {options}.", option=opt,
                                options=_listing(OPTIONS)))
        elif opt == "sheet":
            ok = (isinstance(val, str) and val.strip()) or (
                isinstance(val, dict) and all(t in TABLES and isinstance(v, str) and v.strip() for t, v in val.items()))
            if not ok:
                problems.append(msg('[options] sheet must name a sheet, e.g. sheet = "Leads" (or one per table: '
                                    'sheet = {example}).', example='{ leads = "Leads", lead_events = "History" }'))
        elif val not in OPTIONS[opt]:
            problems.append(msg("[options] {option} must be one of {values}, not {value}.", option=opt,
                                values=_listing(repr(v) for v in OPTIONS[opt]), value=repr(val)))
    return problems


# Header synonyms per canonical column, compared after normalise_name.
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "leads": {
        "lead_id": ["lead_id", "lead", "leadid", "id", "prospect_id", "prospect", "contact_id", "person_id",
                    "record_id", "lead_number", "lead_no"],
        "created_at": ["created_at", "create_date", "created_date", "created", "creation_date", "date_created",
                       "created_on", "lead_created", "lead_created_date", "createddate", "created_time"],
        "channel": ["channel", "lead_source", "source", "acquisition_channel", "utm_medium", "leadsource"],
        "segment": ["segment", "market_segment", "customer_segment"],
        "region": ["region", "geo", "territory", "country_region", "area"],
        "industry": ["industry", "vertical", "sector"],
        "company_size": ["company_size", "employees", "number_of_employees", "employee_count", "headcount",
                         "numberofemployees", "company_employees"],
        "job_title": ["job_title", "title", "persona", "role", "position"],
        "sdr": ["sdr", "bdr", "sdr_owner", "lead_owner", "owner", "assigned_sdr", "owner_id"],
        "ae": ["ae", "account_executive", "account_owner", "ae_owner"],
    },
    "lead_events": {
        "lead_id": ["lead_id", "lead", "leadid", "prospect_id", "prospect", "contact_id", "id", "record_id"],
        "stage": ["stage", "status", "lead_status", "lifecycle_stage", "new_value", "to_stage", "newvalue",
                  "stage_name", "lifecyclestage"],
        "entered_at": ["entered_at", "date", "changed_at", "created_date", "createddate", "timestamp", "event_date",
                       "entered", "changed_on", "date_entered", "created_at", "modified_date", "stage_date"],
        "actor": ["actor", "changed_by", "user", "by", "owner", "created_by", "createdby", "modified_by"],
        "reason": ["reason", "rejection_reason", "disqualification_reason", "disqualified_reason", "notes",
                   "comment", "status_reason"],
    },
    "opportunities": {
        "opportunity_id": ["opportunity_id", "opportunity", "opp_id", "deal_id", "opportunityid", "id", "deal",
                           "opportunity_number"],
        "lead_id": ["lead_id", "lead", "converted_lead_id", "prospect_id", "convertedleadid", "source_lead_id"],
        "account": ["account", "account_name", "company", "company_name", "customer", "organization",
                    "account_id"],
        "created_at": ["created_at", "create_date", "created_date", "created", "creation_date", "createddate",
                       "date_created", "created_on"],
        "amount": ["amount", "value", "deal_value", "deal_amount", "opportunity_amount", "acv", "arr", "tcv",
                   "total_amount", "amount_usd"],
        "close_date": ["close_date", "closedate", "expected_close_date", "close", "closing_date", "closed_date",
                       "close_date_expected"],
        "owner": ["owner", "opportunity_owner", "ae", "account_executive", "deal_owner", "owner_name",
                  "owner_id", "hubspot_owner_id"],
        "segment": ["segment", "market_segment", "customer_segment"],
        "product": ["product", "product_name", "product_line", "sku", "plan"],
    },
    "opportunity_events": {
        "opportunity_id": ["opportunity_id", "opportunity", "opp_id", "deal_id", "opportunityid", "id", "deal"],
        "stage": ["stage", "stagename", "stage_name", "status", "deal_stage", "new_value", "to_stage"],
        "entered_at": ["entered_at", "createddate", "created_date", "date", "changed_at", "timestamp",
                       "event_date", "stage_date", "created_at", "modified_date"],
        "amount": ["amount", "value", "deal_value", "deal_amount", "opportunity_amount"],
        "close_date": ["close_date", "closedate", "expected_close_date", "close", "closing_date"],
    },
}


# Chinese CRM headers (纷享销客, 销售易, 企业微信 and the like; issue #14), per canonical column, tried
# after the English ones. Written as normalise_name leaves them ("线索ID" -> "线索id"). A header with
# a note in brackets ("金额（元）", "创建时间(北京时间)") is matched by pass 3 below.
ZH_SYNONYMS: dict[str, dict[str, list[str]]] = {
    "leads": {
        "lead_id": ["线索id", "线索编号", "客户id", "客户编号"],
        "created_at": ["创建时间", "创建日期", "线索创建时间"],
        "channel": ["渠道", "来源", "线索来源", "来源渠道", "获客渠道"],
        "segment": ["客户分层", "细分市场"],
        "region": ["地区", "区域", "所在地区"],
        "industry": ["行业", "所属行业"],
        "company_size": ["公司规模", "员工人数"],
        "job_title": ["职位", "职务"],
        "sdr": ["负责人", "线索负责人", "销售开发代表"],
        "ae": ["客户经理", "销售"],
    },
    "lead_events": {
        "lead_id": ["线索id", "线索编号", "客户id", "客户编号"],
        "stage": ["阶段", "线索状态", "状态", "线索阶段"],
        "entered_at": ["时间", "变更时间", "变更日期", "进入时间", "创建时间"],
        "actor": ["操作人", "变更人", "负责人"],
        "reason": ["原因", "退回原因", "备注"],
    },
    "opportunities": {
        "opportunity_id": ["商机id", "商机编号"],
        "lead_id": ["线索id", "线索编号"],
        "account": ["客户名称", "公司名称", "客户", "客户id"],
        "created_at": ["创建时间", "创建日期", "商机创建时间"],
        "amount": ["金额", "商机金额", "预计金额", "预计成交金额"],
        "close_date": ["预计成交日期", "结单日期", "成交日期", "关单日期", "预计结单日期"],
        "owner": ["负责人", "销售", "客户经理", "商机负责人"],
        "segment": ["客户分层", "细分市场"],
        "product": ["产品", "产品名称"],
    },
    "opportunity_events": {
        "opportunity_id": ["商机id", "商机编号"],
        "stage": ["阶段", "商机阶段", "状态", "销售阶段"],
        "entered_at": ["时间", "变更时间", "变更日期", "进入时间", "创建时间"],
        "amount": ["金额", "商机金额", "预计金额"],
        "close_date": ["预计成交日期", "结单日期", "成交日期", "关单日期"],
    },
}
for _table, _cols in ZH_SYNONYMS.items():
    for _canon, _names in _cols.items():
        SYNONYMS[_table].setdefault(_canon, []).extend(_names)


def _api_key(header: str) -> str:
    """A header as an API field name is compared: lower case, no separators, no Salesforce
    custom-field suffix (``__c``)."""
    return re.sub(r"_+c$", "", normalise_name(header)).replace("_", "")


def guess_mapping(df, table: str) -> dict[str, str]:
    """Propose ``{canonical column: source column}`` from a file's header names.

    ``df`` is a DataFrame (e.g. from ``ingest.read_table_file``) or any list of column names.
    Exact matches (after normalising) win over synonyms; each source column is used once; a
    canonical column with no plausible source is left out, so the caller can ask the user.
    """
    if table not in TABLES:
        raise ValueError(f"Unknown table {table!r}; use one of {', '.join(TABLE_ORDER)}.")
    headers = [str(c) for c in (df.columns if hasattr(df, "columns") else df)]
    norm = {h: normalise_name(h) for h in headers}
    used: set[str] = set()
    out: dict[str, str] = {}
    # Pass 1: exact canonical names. Pass 2: synonyms in their order of preference.
    for canon in canonical_columns(table):
        for h in headers:
            if h not in used and norm[h] == canon:
                out[canon] = h
                used.add(h)
                break
    for canon in canonical_columns(table):
        if canon in out:
            continue
        hit = next((h for syn in SYNONYMS[table].get(canon, []) for h in headers
                    if h not in used and norm[h] == syn), None)
        if hit is not None:
            out[canon] = hit
            used.add(hit)
    # Pass 2b: API spellings — camelCase and custom-field suffixes, compared without separators
    # ("OppID" = opp_id, "Opportunity_ID__c" = opportunity_id, "StageName" = stage_name).
    squeezed = {h: _api_key(h) for h in headers}
    for canon in canonical_columns(table):
        if canon in out:
            continue
        hit = next((h for syn in [canon, *SYNONYMS[table].get(canon, [])] for h in headers
                    if h not in used and squeezed[h] == syn.replace("_", "")), None)
        if hit is not None:
            out[canon] = hit
            used.add(hit)
    # Pass 3: headers that start with a specific synonym, e.g. "Lead ID (CRM)" -> "lead_id_crm",
    # "金额（元）" -> "金额_元" (a Chinese word is specific enough on its own).
    for canon in canonical_columns(table):
        if canon in out:
            continue
        hit = next((h for syn in SYNONYMS[table].get(canon, []) if "_" in syn or not syn.isascii() for h in headers
                    if h not in used and norm[h].startswith(syn + "_")), None)
        if hit is not None:
            out[canon] = hit
            used.add(hit)
    return out
