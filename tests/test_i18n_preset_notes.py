"""Languages (issue #14) in the notes a preset's builder words from the data ("1 contact has lifecycle
dates out of order …", "MQLs stop on 31 May 2018 …"): each is a message with its counts and dates as
figures, stored with the import as its message id and parameters beside its English text, and said
in the reader's language wherever the notes are shown; a note stored before (text alone) is shown as
it was written.

Golden texts: one or more notes per builder, in English (word for word what the builders wrote
before they were messages) and in Chinese, each read by hand off the tiny input beside it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import assert_clean
from funnel import i18n, ingest, limitations, presets, store
from funnel.markup import md_plain
from funnel.presets.base import Note
from funnel.presets.prose import is_prose
from i18n_support import english_words, render_in_chinese, visible_texts
from test_presets import FIX, public_db  # noqa: F401  (session fixture; skips, saying why, without the data sets)

CRM = Path(__file__).resolve().parent / "fixtures" / "crm"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _no_missing_translations():
    i18n.reset_missing()
    yield
    assert i18n.missing("zh") == set(), f"no translation: {i18n.missing('zh')}"


def _frame(rows: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=str).fillna("")


def _notes(name: str, src: dict, options: dict | None = None) -> dict[str, str]:
    """The notes the builder worded from the data, {English: Chinese}: every one a message (the
    others are sentences of prose.toml, which hubspot_deals passes on from hubspot_contacts)."""
    built = presets.PRESETS[name].build(src, options or {})
    assert all(isinstance(n.text, i18n.Message) or is_prose(n.text) for n in built.notes), \
        [n.text for n in built.notes]
    return {n.text.render("en"): n.text.render("zh") for n in built.notes if isinstance(n.text, i18n.Message)}


# ---- each builder: golden notes in English and Chinese --------------------------------------------


def test_hubspot_contacts_notes():
    contacts = _frame([
        ["Record ID", "Create Date", "Became a Lead Date", "Became a Customer Date", "Became a Subscriber Date",
         "Email"],
        ["1", "2025-01-01", "2025-01-02", "2025-01-01", "", "a@example.com"],     # customer before lead
        ["2", "2025-01-03", "2025-01-05", "2025-01-04", "2025-01-02", "b@example.com"],   # the same
        ["3", "2025-01-03", "", "", "", ""],                                       # no lifecycle date
    ])
    assert _notes("hubspot_contacts", {"contacts": ("contacts.csv", contacts)}) == {
        "2 contacts have lifecycle dates out of stage order (e.g. became a customer before becoming an MQL); they "
        "are kept as written and ordered by time.":
            "2 位联系人的生命周期日期不符合阶段顺序（例如成为客户早于成为 MQL）；"
            "这些日期按原样保留，并按时间先后排列。",
        "1 contact has no lifecycle date at all: they sit in the first stage since their create date.":
            "1 位联系人没有任何生命周期日期：他们自创建日期起一直停留在第一个阶段。",
        "Subscriber, evangelist and 'other' lifecycle dates have no stage in the funnel and are not imported.":
            "订阅者、推广者和“其他”这几个生命周期阶段的日期在漏斗中没有对应阶段，"
            "不会导入。",
        "Names, e-mail addresses and phone numbers in the export are not imported.":
            "导出中的姓名、电子邮件地址和电话号码不会导入。",
    }


def _hubspot_ui() -> dict:
    files = {"deals": "hubspot-crm-exports-all-deals-2025-03-10.csv",
             "contacts": "hubspot-crm-exports-all-contacts-2025-03-10.csv"}
    return {role: (f, ingest.read_table_file(CRM / "hubspot_ui" / f)) for role, f in files.items()}


def test_hubspot_deals_notes():
    src = _hubspot_ui()
    name, deals = src["deals"]
    deals = deals.copy()
    deals.loc[deals["Record ID"] == "9005", "Pipeline"] = "Renewals"     # a second pipeline
    notes = _notes("hubspot_deals", {**src, "deals": (name, deals)}, {"date_format": "day-first"})
    # 9003 won on 14 Feb and lost on 25 Feb; 9005 has no contact of this import (tests/test_presets_hubspot_deals)
    assert notes["1 deal entered both the won and the lost stage: each is taken at the later of the two."] == \
        "1 笔商机既进入过赢单阶段，也进入过丢单阶段：每笔按两者中较晚的那个计。"
    assert notes["4 of 5 deals are linked to a contact of the contacts export (their first associated contact), so "
                 "the lead filters reach them; the others have no lead."] == \
        ("5 笔商机中有 4 笔关联到联系人导出中的一位联系人（其第一个关联联系人），"
         "因此线索筛选条件对它们有效；其余商机没有对应的线索。")
    assert notes["The deals come from 2 pipelines (Renewals, Sales Pipeline): their stages are mapped onto one "
                 "funnel by name."] == \
        "这些商机来自 2 个销售管道（Renewals、Sales Pipeline）：它们的阶段按名称映射到同一个漏斗上。"
    assert notes['1 deal has no "Date entered" value: each sits in its current stage since it was created.'] == \
        "1 笔商机没有“Date entered”值：每笔商机都自创建起停留在当前阶段。"


def _maven(with_products: bool = True) -> dict:
    src = {"sales_pipeline": ("sales_pipeline.csv", _frame([
        ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_date",
         "close_value"],
        ["O1", "Anna", "GTXPro", "Acme", "Won", "2017-10-20", "2017-11-02", "1100"],
        ["O2", "Ben", "MG Special", "Beta", "Engaging", "2017-12-01", "", ""],
        ["O3", "Anna", "GTX Pro", "Gamma", "Prospecting", "", "", ""],
        ["O4", "Ben", "MG Special", "Beta", "Lost", "2017-11-05", "2017-12-28", "0"],
    ])), "sales_teams": ("sales_teams.csv", _frame([
        ["sales_agent", "manager", "regional_office"], ["Anna", "M1", "Central"], ["Ben", "M2", "East"]]))}
    if with_products:
        src["products"] = ("products.csv", _frame([["product", "series", "sales_price"], ["GTX Pro", "GTX", "4821"],
                                                   ["MG Special", "MG", "55"]]))
    return src


def test_maven_crm_notes_with_their_dates():
    # The last date in the data is 28 Dec 2017 (O4's close); open: O2 and O3; O3 is Prospecting.
    notes = _notes("maven_crm", _maven())
    assert notes == {
        "The source has no created date: a deal's creation is its engage date, and the 1 Prospecting deals (no date "
        "at all) are placed on the last day of the data, 28 Dec 2017, with no stage event: they count as in the first "
        "stage (Qualify).":
            "数据源没有创建日期：商机的创建日期即其接洽日期；1 笔 Prospecting 商机（完全没有日期）"
            "被放在数据的最后一天，即 2017年12月28日，且没有阶段事件：它们算作处于第一个阶段（Qualify）。",
        "The 2 open deals have no expected close date in the source: all are given 27 Jan 2018 (the last date in the "
        "data + 30 days), so the forecast's split by month is not meaningful — only the total open pipeline is.":
            "数据源中的 2 笔未结商机没有预计成交日期：全部设为 2018年1月27日（数据中的最后日期 + 30 天），"
            "因此预测按月的拆分没有意义——只有未结销售管道的总额有意义。",
        "Revenue exists only for won deals: open and lost deals carry their product's list price as their amount "
        "(products.csv sales_price).":
            "只有赢单商机有收入：未结和丢单商机以其产品的标价作为金额"
            "（products.csv 中的 sales_price）。",
        "1 deal names a product spelled differently from products.csv (e.g. GTXPro); they were matched to it "
        "(GTX Pro).":
            "1 笔商机中的产品名称与 products.csv 中的写法不同（例如 GTXPro）；"
            "这些商机已匹配到该产品（GTX Pro）。",
        "An opportunity's segment is its sales agent's regional office (Central, East, West).":
            "商机的细分市场即其销售代表所属的区域办公室（Central、East、West）。",
    }
    without = _notes("maven_crm", _maven(with_products=False))
    assert without["Without products.csv, open and lost deals have no amount (0): the weighted forecast only counts "
                   "deal numbers, not value."] == \
        "没有 products.csv 时，未结和丢单商机没有金额（0）：加权预测只统计商机数量，不反映金额。"


def test_olist_notes_with_their_dates():
    mqls = _frame([["mql_id", "first_contact_date", "landing_page_id", "origin"],
                   ["m1", "2018-01-10", "p1", "organic_search"], ["m2", "2018-02-15", "p2", "paid_search"],
                   ["m3", "2018-03-01", "p1", "email"], ["m4", "2018-02-20", "p2", "email"]])
    deals = _frame([["mql_id", "seller_id", "sdr_id", "sr_id", "won_date", "business_segment",
                     "declared_monthly_revenue"],
                    ["m1", "s1", "d1", "r1", "2018-01-05 10:00:00", "pet", "0"],       # won before first contact
                    ["m2", "s2", "d1", "r2", "2018-04-20 09:00:00", "toys", "5000"],   # after the last MQL (1 Mar)
                    ["m4", "s3", "d2", "r2", "2018-05-02 11:00:00", "toys", "1200"]])  # the same
    assert _notes("olist", {"mqls": ("mqls.csv", mqls), "closed_deals": ("deals.csv", deals)}) == {
        "1 deal is won before the lead's first contact date; kept as in the source (its time to win is negative).":
            "1 笔商机在线索的首次联系日期之前就已赢单；按数据源原样保留（其赢单用时为负数）。",
        "1 of 3 won deals declared no monthly revenue; their amount is 0, so won amounts understate the real value.":
            "3 笔赢单商机中有 1 笔没有申报月收入；其金额为 0，因此赢单金额低于实际价值。",
        "MQLs stop on 01 Mar 2018 but 2 wins come later: the latest cohorts are still maturing, so their conversion "
        "is understated.":
            "MQL 截止于 2018年3月1日，但有 2 笔赢单发生在此之后：最近的同期群仍在成熟中，"
            "因此其转化率被低估。",
    }


def test_x_education_note_names_the_leaking_attributes():
    leads = _frame([["Prospect ID", "Lead Number", "Lead Origin", "Lead Source", "Converted", "Tags", "Lead Quality"],
                    ["p1", "1", "API", "Google", "1", "Closed by Horizzon", "High in Relevance"],
                    ["p2", "2", "API", "google", "0", "Ringing", "Not Sure"]])
    assert _notes("x_education", {"leads": ("Leads.csv", leads)}) == {
        "'tags' and 'lead_quality' are filled in by the sales team after contact: they leak the outcome and must not "
        "be scoring inputs (the suggestion leaves them out).":
            "“tags”和“lead_quality”由销售团队在联系之后填写：它们会泄露结果，不能作为评分输入"
            "（建议的评分规则已将它们排除）。",
    }


def test_salesforce_and_deal_history_notes_are_stored_and_said_in_chinese(tmp_path):
    con = store.connect(tmp_path / "sf.duckdb")
    presets.import_detected(con, presets.detect_folder(CRM / "salesforce_api"))
    en, zh = limitations.data_limitations(con), limitations.data_limitations(con, lang="zh")
    assert len(en) == len(zh)
    pairs = dict(zip(en, zh))
    # 006O4 moved back and re-entered; 006O5's first history row is dated before its creation
    # (tests/test_presets_salesforce.py)
    assert pairs["1 deal moved back to an earlier stage and 1 deal re-entered a stage: each stay counts as its own "
                 "visit, and a deal counts as having reached its furthest stage."] == \
        ("1 笔商机退回到了更早的阶段，1 笔商机重新进入了某个阶段：每次停留都单独计为一次，"
         "商机按其到达过的最远阶段计。")
    assert pairs["1 history row is dated before its deal was created; kept as in the source (the deal's time in its "
                 "first stage is then measured from that row)."] == \
        ("1 条历史记录的日期早于其商机的创建时间；按数据源原样保留"
         "（该商机在第一个阶段的停留时长因此从这条记录起算）。")
    assert pairs["The lead funnel comes from LeadHistory's Status changes: a lead enters its first status when it was "
                 "created."] == "线索漏斗来自 LeadHistory 的 Status 变更：线索在创建时进入其第一个状态。"
    assert all(CJK.search(t) for t in zh)
    con.close()


def test_the_salesforce_note_of_a_missing_lead_export_is_a_message():
    from funnel.presets.salesforce import NO_LEADS_NOTE
    assert isinstance(NO_LEADS_NOTE.text, i18n.Message) and NO_LEADS_NOTE.covers == ("no_leads",)
    assert NO_LEADS_NOTE.text.render("zh").startswith("Salesforce 商机导出中没有线索")


# ---- how they are stored --------------------------------------------------------------------------


def test_an_import_stores_each_builder_note_as_its_message_beside_its_english_text(tmp_path):
    con = store.connect(tmp_path / "h.duckdb")
    presets.import_preset(con, "hubspot_contacts", files={"contacts": FIX / "hubspot_contacts.csv"})
    stored = {n["text"]: n for n in presets.data_notes(con)}
    note = stored["1 contact has lifecycle dates out of stage order (e.g. became a customer before becoming an "
                  "MQL); they are kept as written and ordered by time."]
    assert note["topic"] == "conversion" and note["message"] == {
        "msgid": "{n} contact has lifecycle dates out of stage order (e.g. became a customer before becoming an MQL); "
                 "they are kept as written and ordered by time.",
        "plural": "{n} contacts have lifecycle dates out of stage order (e.g. became a customer before becoming an "
                  "MQL); they are kept as written and ordered by time.",
        "n": 1, "params": {"n": {"count": 1}}}
    # a sentence of prose.toml keeps its text as its message id, as before
    prose = next(n for t, n in stored.items() if t.startswith("HubSpot's Lead Status"))
    assert prose["message"] == {"msgid": prose["text"], "params": {}}
    assert all("message" in n for n in stored.values())
    zh = limitations.data_limitations(con, "conversion", lang="zh")
    assert ("1 位联系人的生命周期日期不符合阶段顺序（例如成为客户早于成为 MQL）；"
            "这些日期按原样保留，并按时间先后排列。") in zh
    con.close()


def test_a_note_stored_before_notes_were_messages_reads_as_it_was_written(tmp_path):
    """A database imported by the release before: its builder notes are text alone (its prose notes
    already carried their message id). English reads as before; Chinese shows those notes as stored."""
    con = store.connect(tmp_path / "old.duckdb")
    presets.import_preset(con, "hubspot_contacts", files={"contacts": FIX / "hubspot_contacts.csv"})
    english = limitations.data_limitations(con)
    payload = json.loads(store.get_setting(con, presets.NOTES_KEY))
    for n in payload["notes"]:
        if n["message"]["params"] or "plural" in n["message"] or n["text"].startswith("Names,"):
            del n["message"]          # a builder's note, as the release before stored it
    store.set_setting(con, presets.NOTES_KEY, json.dumps(payload))
    assert limitations.data_limitations(con) == english
    zh = limitations.data_limitations(con, lang="zh")
    assert "1 contact has no lifecycle date at all: they sit in the first stage since their create date." in zh
    assert "Names, e-mail addresses and phone numbers in the export are not imported." in zh
    assert any(t.startswith("HubSpot 的 Lead Status") for t in zh)     # prose: translated as before
    con.close()


def test_a_stored_note_whose_message_no_longer_fits_reads_as_stored():
    note = {"topic": "source", "text": "3 deals as stored.",
            "message": {"msgid": "{n} deal as stored.", "params": {"count": {"count": 3}}}}   # parameter renamed
    assert limitations.note_text(note, "zh") == "3 deals as stored."
    i18n.reset_missing()     # the made-up message id has no translation by design


def test_a_plain_text_note_is_kept_as_text():
    from funnel.presets.importer import _stored_note
    assert _stored_note(Note("source", "Written by hand.")) == {"topic": "source", "text": "Written by hand.",
                                                                "covers": []}


# ---- the pages, in Chinese -----------------------------------------------------------------------

#: Names of the public sources' own files, columns, stages, products and offices: data, shown as it is.
SOURCE_NAMES = {"Olist", "Olist's", "SR", "GTIN", "Maven", "CRM", "Prospecting", "Engaging", "Qualify",
                "products.csv", "sales_price", "GTXPro", "GTX Pro", "Central", "East", "West", "X Education", "tags",
                "lead_quality"}


@pytest.mark.parametrize("name", ["olist", "maven_crm", "x_education"])
def test_the_data_page_says_a_public_data_sets_notes_in_chinese(public_db, name):
    db = public_db(name)
    con = store.connect(db)
    try:
        notes = limitations.limitations(con)
        stages = {s.stage for f in ("lead", "opportunity") for s in store.stages(con, f)}
    finally:
        con.close()
    at = render_in_chinese(db, "pages/data.py")
    assert_clean(at)
    shown = [md_plain(t) for t in visible_texts(at)]
    box = next(t for t in shown if "—" in t and any(limitations.note_text(n, "zh") in t for n in notes))
    for n in notes:
        assert limitations.note_text(n, "zh") in box, n["text"]
        assert not any(n["text"] in t for t in shown), f"shown in English: {n['text']}"
    leftovers = english_words([box], SOURCE_NAMES | stages)
    assert not leftovers, f"English words in the notes: {sorted(set(leftovers))}"


def test_a_validation_lists_what_the_data_would_not_show_in_chinese(sample_copy, monkeypatch):
    monkeypatch.setenv("FUNNEL_IMPORT_DIRS", str(FIX))
    at = render_in_chinese(sample_copy, "pages/data.py",
                           {"imp_source": "preset:hubspot_contacts",
                            "pmode_hubspot_contacts": "In a folder on this server",
                            "dir_hubspot_contacts": str(FIX.resolve())},
                           clicks=("imp_check_hubspot_contacts",))
    assert_clean(at)
    markdown = " ".join(md_plain(m.value) for m in at.markdown)
    assert "1 位联系人的生命周期日期不符合阶段顺序" in markdown and "1 位联系人没有任何生命周期日期" in markdown
    assert "lifecycle dates out of stage order" not in markdown and "no lifecycle date at all" not in markdown
