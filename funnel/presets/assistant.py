"""The column-mapping assistant's logic (the Data page draws it): column and stage guesses,
previews, and the mapping built from the confirmed choices."""
from __future__ import annotations

import re

import pandas as pd

from .. import ingest, store
from ..dates import ISO_DATE, LOCAL_DATE, read_zh_amount, read_zh_datetime
from ..i18n import N_, translate
from ..mapping import TABLES, TIME_COLUMNS, guess_mapping, normalise_name
from .base import snake
from .maven_crm import MAVEN_STAGES
from .salesforce import SALESFORCE_STAGES

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
#: The same in Chinese, as Chinese B2B sales teams name their stages (shared/guides/glossary-zh.md).
ZH_STAGE_SYNONYMS = {
    "lead": {
        "线索": "Lead", "潜在线索": "Lead", "新线索": "Lead", "疑似线索": "Lead", "订阅者": "Lead",
        "营销合格线索": "MQL", "市场合格线索": "MQL",
        "销售认可线索": "SAL", "销售接受线索": "SAL", "跟进中": "SAL", "已联系": "SAL",
        "销售合格线索": "SQL",
        "商机": "Opportunity", "已转商机": "Opportunity", "创建商机": "Opportunity",
        "客户": "Customer", "付费客户": "Customer", "成交客户": "Customer", "已成交": "Customer", "赢单": "Customer",
        "被退回": "Rejected", "销售拒绝": "Rejected", "已退回": "Rejected", "退回": "Rejected",
        "回收线索": "Recycled", "重新培育": "Recycled", "培育": "Recycled", "培育中": "Recycled",
        "市场回收": "Recycled", "销售回收": "Recycled",
        "不合格": "Disqualified", "已剔除": "Disqualified", "无效线索": "Disqualified", "无效": "Disqualified",
    },
    "opportunity": {
        "验证客户": "Qualify", "初步接洽": "Qualify", "商机确认": "Qualify", "成功预约": "Qualify",
        "需求确认": "Discovery", "需求分析": "Discovery", "方案演示": "Discovery", "展示产品": "Discovery",
        "方案报价": "Proposal", "报价": "Proposal", "提交方案": "Proposal", "达成意向": "Proposal",
        "商务谈判": "Negotiation", "谈判": "Negotiation", "合同审批": "Negotiation", "承诺付款": "Negotiation",
        "赢单": "Closed Won", "成交": "Closed Won", "已成交": "Closed Won", "付款": "Closed Won",
        "输单": "Closed Lost", "丢单": "Closed Lost", "失败": "Closed Lost",
    },
}
for _funnel, _words in ZH_STAGE_SYNONYMS.items():
    STAGE_SYNONYMS[_funnel].update({normalise_name(k): v for k, v in _words.items()})
# A stage glossed with its abbreviation, as Chinese teams write them: "营销合格线索 (MQL)", "MQL（营销合格线索）".
_GLOSS = re.compile(r"[(（]\s*([A-Za-z][A-Za-z .]*)\s*[)）]|^\s*([A-Za-z][A-Za-z .]*?)\s*[(（]")



FIELD_HELP = {
    "lead_id": "the lead's id in your system", "created_at": "when the lead entered the funnel",
    "channel": "acquisition channel", "segment": "SMB, Mid-Market, Enterprise, …", "region": "region",
    "industry": "industry", "company_size": "employees (whole number)", "job_title": "job title or persona",
    "sdr": "owning SDR", "ae": "owning account executive", "stage": "the stage entered",
    "entered_at": "when the stage was entered", "actor": "who moved it", "reason": "why (rejections)",
    "opportunity_id": "the deal's id", "account": "account / company", "amount": "deal amount (0 or more)",
    "close_date": "expected close date (actual once closed)", "owner": "deal owner (AE)", "product": "product",
}


def _read(zh) -> bool:
    """A value read as Chinese notation (a date or amount), not merely shaped like one."""
    return zh is not None and zh.value is not None


def _looks_like(values: list[str], kind: str) -> bool:
    vals = [v for v in values if v]
    if not vals:
        return False
    if kind in ("timestamp", "date"):
        return all(ISO_DATE.match(v) or LOCAL_DATE.match(v) or _read(read_zh_datetime(v)) for v in vals)
    if kind == "amount":
        return all(re.fullmatch(r"-?[\d.,]+", v) or _read(read_zh_amount(v)) for v in vals)
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
                out[snake(h) or h] = head[h]
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
        if hit is None and (g := _GLOSS.search(str(v))):
            hit = by_norm.get(normalise_name(g.group(1) or g.group(2)))
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


#: The problem table's columns (English names are the frame's own: tests and downloads read them).
PROBLEM_COLUMNS = (N_("File"), N_("Table"), N_("Row"), N_("Column"), N_("Value"), N_("Problem"))
#: What stands for a file that is not one: stored rows, the mapping.
PLACES = {ingest.DATABASE: N_("(database)"), ingest.MAPPING_FILE: N_("(mapping)")}


def problems_frame(problems, lang: str = "en") -> pd.DataFrame:
    """Import problems as a table a person can read and download, in ``lang``: headers, the table
    (English: the contract's name, leads; otherwise its label), and the problem itself."""
    def where(file: str) -> str:
        return translate(lang, PLACES[file]) if file in PLACES else file

    columns = [translate(lang, c) for c in PROBLEM_COLUMNS]
    rows = [dict(zip(columns, (where(p.file), ingest.TableName(p.table).format(lang) if p.table else p.table,
                               p.row, p.source_column or p.column, p.value, p.reason_in(lang))))
            for p in problems]
    return pd.DataFrame(rows, columns=columns)


