"""Chinese CRM exports (issue #14): headers, dates, amounts and stage names the mapping assistant
and the import read as they are, and what they refuse.

The fixtures in tests/fixtures/zh/ are a small Chinese export: leads (UTF-8 with BOM, CRLF),
lead stage history, deals and deal stage history, with Chinese headers, Chinese stage names, dates
written 2026年1月5日 / 2026/1/8 / full-width digits / 下午2:30, and amounts in 元, ¥, 万 and 亿.
"""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from funnel import dates, fmt, ingest, presets, store
from funnel.errors import ImportValidationError
from funnel.mapping import STAGE_FUNNEL, guess_mapping, stage_key

ZH = Path(__file__).resolve().parent / "fixtures" / "zh"
FILES = {"leads": ZH / "zh_leads.csv", "lead_events": ZH / "zh_lead_events.csv",
         "opportunities": ZH / "zh_deals.csv", "opportunity_events": ZH / "zh_deal_events.csv"}


@pytest.fixture
def con(tmp_path):
    c = store.connect(tmp_path / "t.duckdb")
    yield c
    c.close()


def assistant_mapping(con, files: dict[str, Path]) -> dict:
    """What the Data page's mapping assistant proposes for these files, confirmed unchanged."""
    columns, stages, formats = {}, {}, {}
    for table, path in files.items():
        df = ingest.read_table_file(path)
        funnel = STAGE_FUNNEL.get(table, "lead")
        configured = presets.configured_stage_names(con, funnel)
        columns[table] = presets.guess_columns(df, table, configured)
        times = [v for c in ("created_at", "entered_at", "close_date") if columns[table].get(c)
                 for v in df[columns[table][c]]]
        formats[table] = presets.suggest_timestamp_format(times) or ""
        if table in STAGE_FUNNEL:
            values = presets.distinct_values(df, columns[table]["stage"])["value"]
            stages.setdefault(funnel, {}).update(presets.guess_stage_map(values, configured, funnel))
    return presets.build_mapping(columns, stages, formats)


def with_cell(tmp_path: Path, table: str, row: int, column: str, value: str) -> dict[str, Path]:
    """The fixture files with one cell of one file changed (row: 1-based data row)."""
    df = pd.read_csv(FILES[table], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[row - 1, column] = value
    out = dict(FILES)
    out[table] = tmp_path / FILES[table].name
    df.to_csv(out[table], index=False, encoding="utf-8-sig")
    return out


# ---- header guesses -------------------------------------------------------------------------

def test_chinese_headers_are_guessed_onto_the_contract():
    heads = {t: list(ingest.read_table_file(p).columns) for t, p in FILES.items()}
    assert guess_mapping(heads["leads"], "leads") == {
        "lead_id": "线索ID", "created_at": "创建时间", "channel": "线索来源", "region": "地区", "industry": "行业",
        "company_size": "公司规模", "job_title": "职位", "sdr": "负责人", "ae": "客户经理"}
    assert guess_mapping(heads["lead_events"], "lead_events") == {
        "lead_id": "线索编号", "stage": "线索状态", "entered_at": "变更时间", "actor": "操作人", "reason": "原因"}
    assert guess_mapping(heads["opportunities"], "opportunities") == {
        "opportunity_id": "商机编号", "lead_id": "线索ID", "account": "客户名称", "created_at": "创建日期",
        "amount": "商机金额", "close_date": "预计成交日期", "owner": "负责人", "product": "产品"}
    assert guess_mapping(heads["opportunity_events"], "opportunity_events") == {
        "opportunity_id": "商机ID", "stage": "商机阶段", "entered_at": "时间", "amount": "金额"}


@pytest.mark.parametrize("table, headers, expected", [
    ("leads", ["客户ID", "创建日期", "来源", "区域"],
     {"lead_id": "客户ID", "created_at": "创建日期", "channel": "来源", "region": "区域"}),
    ("lead_events", ["客户ID", "状态", "时间"], {"lead_id": "客户ID", "stage": "状态", "entered_at": "时间"}),
    ("opportunities", ["商机ID", "预计金额", "结单日期", "销售", "创建时间"],
     {"opportunity_id": "商机ID", "amount": "预计金额", "close_date": "结单日期", "owner": "销售",
      "created_at": "创建时间"}),
    ("opportunities", ["商机编号", "金额（元）", "成交日期", "创建时间(北京时间)"],   # a note in brackets
     {"opportunity_id": "商机编号", "amount": "金额（元）", "close_date": "成交日期", "created_at": "创建时间(北京时间)"}),
    ("opportunity_events", ["商机编号", "阶段", "变更时间"],
     {"opportunity_id": "商机编号", "stage": "阶段", "entered_at": "变更时间"}),
])
def test_other_chinese_spellings(table, headers, expected):
    assert guess_mapping(headers, table) == expected


def test_columns_guessed_from_chinese_values_when_names_do_not_help():
    df = pd.DataFrame({"编码": ["a1", "a2", "a3"], "登记": ["2026年1月5日", "2026/1/8", "２０２６年１月１０日"]})
    assert presets.guess_columns(df, "leads") == {"lead_id": "编码", "created_at": "登记"}
    deals = pd.DataFrame({"号": ["d1", "d2"], "起": ["2026年1月5日", "2026年1月6日"], "额": ["12万元", "¥86,500"],
                          "止": ["2026/3/1", "2026/4/1"]})
    assert presets.guess_columns(deals, "opportunities") == {
        "opportunity_id": "号", "created_at": "起", "amount": "额", "close_date": "止"}


def test_chinese_stage_names_are_guessed():
    lead = [r[1] for r in store.DEFAULT_STAGES if r[0] == "lead"]
    opp = [r[1] for r in store.DEFAULT_STAGES if r[0] == "opportunity"]
    assert presets.guess_stage_map(
        ["线索", "营销合格线索", "营销合格线索 (MQL)", "SAL（销售认可线索）", "销售合格线索", "商机", "成交客户",
         "被退回", "回收线索", "不合格", "意向不明"], lead, "lead") == {
        "线索": "Lead", "营销合格线索": "MQL", "营销合格线索 (MQL)": "MQL", "SAL（销售认可线索）": "SAL",
        "销售合格线索": "SQL", "商机": "Opportunity", "成交客户": "Customer", "被退回": "Rejected",
        "回收线索": "Recycled", "不合格": "Disqualified", "意向不明": ""}
    assert presets.guess_stage_map(["验证客户", "需求确认", "方案报价", "商务谈判", "赢单", "输单"], opp,
                                   "opportunity") == {
        "验证客户": "Qualify", "需求确认": "Discovery", "方案报价": "Proposal", "商务谈判": "Negotiation",
        "赢单": "Closed Won", "输单": "Closed Lost"}


def test_stage_key_ignores_full_width_punctuation_and_case():
    assert stage_key("营销合格线索（MQL）") == stage_key("营销合格线索 (mql)") == "营销合格线索mql"


# ---- dates ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2026年3月5日", dt.datetime(2026, 3, 5)),
    ("2026年3月5日 14:30", dt.datetime(2026, 3, 5, 14, 30)),
    ("2026年03月05日14:30:05", dt.datetime(2026, 3, 5, 14, 30, 5)),
    ("2026年3月5号", dt.datetime(2026, 3, 5)),
    ("2026/3/5", dt.datetime(2026, 3, 5)),
    ("2026/3/5 9:05", dt.datetime(2026, 3, 5, 9, 5)),
    ("2026.3.5", dt.datetime(2026, 3, 5)),
    ("２０２６年３月５日", dt.datetime(2026, 3, 5)),                 # full-width digits
    ("２０２６－０３－０５　１４：３０", dt.datetime(2026, 3, 5, 14, 30)),   # full-width ISO, ideographic space
    ("2026年3月5日 下午2:30", dt.datetime(2026, 3, 5, 14, 30)),
    ("2026/3/5 上午12:05", dt.datetime(2026, 3, 5, 0, 5)),
    ("2026/3/5 下午12:05", dt.datetime(2026, 3, 5, 12, 5)),
    ("2024年2月29日", dt.datetime(2024, 2, 29)),
])
def test_chinese_dates(text, expected):
    got = dates.read_zh_datetime(text)
    assert got is not None and got.reason is None and got.value == expected


@pytest.mark.parametrize("text", ["2026-03-05", "2026-03-05 14:30", "31/12/2025", "12/31/2025 2:05 PM", "hello", ""])
def test_other_dates_are_left_to_the_import(text):
    assert dates.read_zh_datetime(text) is None


@pytest.mark.parametrize("text, says", [
    ("2026年2月30日", "2026-02 has no day 30"),
    ("2025年2月29日", "2025-02 has no day 29"),
    ("2026年13月1日", "there is no month 13"),
    ("3月5日", "has no year"),
    ("2026年3月5日 下午14:30", "ambiguous"),
    ("2026年3月5日 25:00", "is not a time of day"),
    ("2026年3月5日 晚上", "neither a time"),
])
def test_impossible_chinese_dates_say_why(text, says):
    got = dates.read_zh_datetime(text)
    assert got is not None and got.value is None and says in got.reason


def test_preset_helpers_read_chinese_dates_and_amounts():
    assert presets.parse_dates(pd.Series(["2026年3月5日 14:30", "2026/3/5", "2026年2月30日"]), None).tolist() == \
        ["2026-03-05 14:30:00", "2026-03-05 00:00:00", "2026年2月30日"]   # unreadable: left for the import to name
    assert presets.clean_amounts(pd.Series(["¥1,234.5万", "12万元", "12,34万", "USD 1,234.50"])).tolist() == \
        ["12345000", "120000", "12,34万", "1234.50"]


# ---- amounts --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value, currency", [
    ("12万元", Decimal("120000"), "CNY"),
    ("1.5亿", Decimal("150000000"), None),
    ("2亿元", Decimal("200000000"), "CNY"),
    ("¥1,234.5万", Decimal("12345000"), "CNY"),
    ("￥86,500", Decimal("86500"), "CNY"),
    ("8000元", Decimal("8000"), "CNY"),
    ("CNY 1,234.50", Decimal("1234.50"), "CNY"),
    ("1,234.50 RMB", Decimal("1234.50"), "CNY"),
    ("人民币 5万", Decimal("50000"), "CNY"),
    ("３，２００．５０元", Decimal("3200.50"), "CNY"),     # full-width digits, comma and period
    ("１２３４", Decimal("1234"), None),
    ("0.35万", Decimal("3500"), None),
    ("-5万元", Decimal("-50000"), "CNY"),                # read; the import refuses it as negative
    ("－５万元", Decimal("-50000"), "CNY"),              # full-width minus
    ("¥-1,000", Decimal("-1000"), "CNY"),
])
def test_chinese_amounts(text, value, currency):
    got = dates.read_zh_amount(text)
    assert got is not None and got.reason is None and (got.value, got.currency) == (value, currency)


def test_decimal_comma_swaps_the_marks():
    assert dates.read_zh_amount("1.234,5万元", ",").value == Decimal("12345000")
    assert "ambiguous" in dates.read_zh_amount("1,234.5万元", ",").reason


@pytest.mark.parametrize("text, says", [
    ("12,34万", "ambiguous"),            # a comma not between groups of three: decimal comma or typo?
    ("1.234.567元", "ambiguous"),        # European thousands dots
    ("1.234,5元", "ambiguous"),
    ("5万美元", "美元 (USD)"),
    ("$5万", "$ (USD)"),
    ("HK$3万", "HK$ (HKD)"),
    ("--5元", "two signs"),
    ("12万万", "is not an amount"),
    ("1.2e3元", "is not an amount"),
])
def test_ambiguous_chinese_amounts_say_why(text, says):
    got = dates.read_zh_amount(text)
    assert got is not None and got.value is None and says in got.reason


@pytest.mark.parametrize("header, unit", [("金额（元）", "元"), ("预计金额(万元)", "万元"), ("商机金额（人民币）", "人民币"),
                                          ("金额 (CNY)", "CNY"), ("金额", ""), ("金额（美元）", ""), ("Amount", "")])
def test_unit_in_a_column_name(header, unit):
    assert dates.zh_amount_unit(header) == unit


def test_amounts_in_a_column_named_with_its_unit():
    assert dates.read_zh_amount("12.5", unit="万元") == dates.ZhValue(Decimal("125000"), None, "CNY")
    assert dates.read_zh_amount("1,234.00", unit="元") == dates.ZhValue(Decimal("1234.00"), None, "CNY")
    assert dates.read_zh_amount("¥3", unit="万元").value == Decimal("30000")
    assert "the column is in 万元 and the value says 万" in dates.read_zh_amount("3万", unit="万元").reason
    assert dates.read_zh_amount("", unit="万元") is None


@pytest.mark.parametrize("text", ["1234.50", "1,234.50", "USD 1,234.50", "", "abc"])
def test_amounts_without_chinese_marks_are_left_to_the_contract(text):
    assert dates.read_zh_amount(text) is None


# ---- the import through the assistant's mapping ---------------------------------------------

def test_chinese_export_imports_through_the_assistants_guesses(con):
    mapping = assistant_mapping(con, FILES)
    assert mapping["timestamp_formats"] == {}           # no format to type: the import reads them
    assert mapping["stages"]["lead"]["营销合格线索 (MQL)"] == "MQL"
    result = ingest.import_files(con, **FILES, mapping=mapping)
    assert result.rows == {"leads": {"read": 6, "loaded": 6, "rejected": 0},
                           "lead_events": {"read": 16, "loaded": 16, "rejected": 0},
                           "opportunities": {"read": 5, "loaded": 5, "rejected": 0},
                           "opportunity_events": {"read": 10, "loaded": 10, "rejected": 0}}
    assert "Amounts are in CNY" in result.message
    assert fmt.currency(con) == "CNY"
    assert con.execute("SELECT lead_id, created_at, channel, company_size, sdr, ae, 页面浏览次数 FROM leads "
                       "ORDER BY lead_id").fetchall() == [
        ("L001", dt.datetime(2026, 1, 5), "官网", 200, "张伟", "李娜", 12),            # 2026年1月5日
        ("L002", dt.datetime(2026, 1, 6, 9, 30), "展会", 50, "张伟", "王芳", 3),       # 2026年1月6日 09:30
        ("L003", dt.datetime(2026, 1, 8), "官网", 1200, "刘洋", "李娜", 7),            # 2026/1/8
        ("L004", dt.datetime(2026, 1, 10), "合作伙伴", 500, "刘洋", "王芳", 20),       # full-width digits
        ("L005", dt.datetime(2026, 1, 12, 14, 30), "展会", 80, "张伟", "李娜", 1),     # ISO
        ("L006", dt.datetime(2026, 1, 15, 14, 30), "官网", 30, "刘洋", "王芳", 0)]     # 下午2:30
    assert dict(con.execute("SELECT stage, count(*) FROM lead_events GROUP BY 1").fetchall()) == {
        "Lead": 6,           # every lead's 线索
        "MQL": 4,            # L001 L002 L006 营销合格线索, L003 营销合格线索 (MQL)
        "SAL": 2,            # L001 L003 销售认可线索
        "SQL": 1,            # L001
        "Opportunity": 1,    # L001 商机
        "Rejected": 1,       # L002 被退回 (预算不足)
        "Disqualified": 1}   # L004 不合格
    assert con.execute("SELECT reason FROM lead_events WHERE stage = 'Rejected'").fetchall() == [("预算不足",)]
    assert con.execute("SELECT opportunity_id, amount, close_date FROM opportunities ORDER BY 1").fetchall() == [
        ("D001", 120_000.0, dt.date(2026, 3, 31)),        # 12万元
        ("D002", 86_500.0, dt.date(2026, 2, 28)),         # ¥86,500, closing 2026/2/28
        ("D003", 150_000_000.0, dt.date(2026, 6, 30)),    # 1.5亿元
        ("D004", 3_200.5, dt.date(2026, 2, 20)),          # ３，２００．５０元
        ("D005", 12_345_000.0, dt.date(2026, 4, 15))]     # 1,234.5万
    assert con.execute("SELECT sum(amount) FROM opportunities").fetchall()[0][0] == pytest.approx(162_554_700.5)
    assert con.execute("SELECT opportunity_id, stage, amount FROM opportunity_events ORDER BY opportunity_id, "
                       "entered_at").fetchall() == [
        ("D001", "Qualify", 100_000.0), ("D001", "Discovery", None), ("D001", "Proposal", 120_000.0),
        ("D002", "Qualify", 80_000.0), ("D002", "Negotiation", 86_500.0), ("D002", "Closed Won", None),
        ("D003", "Qualify", 150_000_000.0),
        ("D004", "Qualify", None), ("D004", "Closed Lost", None),
        ("D005", "Qualify", 12_345_000.0)]               # 1234.5万元
    # The same files again give the same tables (replace semantics hold for Chinese input too).
    before = con.execute("SELECT * FROM opportunity_events ORDER BY ALL").fetchall()
    ingest.import_files(con, **FILES, mapping=mapping)
    assert con.execute("SELECT * FROM opportunity_events ORDER BY ALL").fetchall() == before


def test_chinese_stage_names_configured_as_such_match_without_a_map(con):
    store.rename_stage(con, "lead", "MQL", "营销合格线索")
    store.rename_stage(con, "lead", "Lead", "线索")
    ev = pd.DataFrame({"线索ID": ["L001", "L001"], "阶段": ["线索", "营销合格线索"], "时间": ["2026年1月5日", "2026年1月7日"]})
    leads = pd.DataFrame({"线索ID": ["L001"], "创建时间": ["2026年1月5日"]})
    files = {"leads": ("l.csv", leads.to_csv(index=False).encode()),
             "lead_events": ("e.csv", ev.to_csv(index=False).encode())}
    ingest.import_files(con, **files, mapping={"columns": {
        "leads": guess_mapping(leads, "leads"), "lead_events": guess_mapping(ev, "lead_events")}})
    assert con.execute("SELECT stage FROM lead_events ORDER BY event_seq").fetchall() == [("线索",), ("营销合格线索",)]


def test_a_currency_a_person_chose_is_kept(con):
    fmt.set_currency(con, "EUR")
    files = {t: FILES[t] for t in ("opportunities", "opportunity_events")}
    result = ingest.import_files(con, **files, mapping=assistant_mapping(con, files))
    assert fmt.currency(con) == "EUR" and "Amounts are in" not in result.message


def test_a_column_in_wan_yuan_multiplies_plain_numbers(con, tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text("商机编号,创建日期,预计金额（万元）,结单日期\n"
                     "D1,2026年1月5日,12.5,2026年3月1日\n"        # 125,000
                     "D2,2026年1月6日,\"1,234.5\",2026年3月1日\n"  # 12,345,000
                     "D3,2026年1月7日,0,2026年3月1日\n", encoding="utf-8")
    mapping = assistant_mapping(con, {"opportunities": deals})
    assert mapping["columns"]["opportunities"]["amount"] == "预计金额（万元）"
    result = ingest.import_files(con, opportunities=deals, mapping=mapping)
    assert con.execute("SELECT opportunity_id, amount FROM opportunities ORDER BY 1").fetchall() == [
        ("D1", 125_000.0), ("D2", 12_345_000.0), ("D3", 0.0)]
    assert fmt.currency(con) == "CNY" and "Amounts are in CNY" in result.message
    deals.write_text("商机编号,创建日期,预计金额（万元）,结单日期\nD1,2026年1月5日,3万,2026年3月1日\n", encoding="utf-8")
    with pytest.raises(ImportValidationError) as e:
        ingest.import_files(con, opportunities=deals, mapping=mapping)
    assert str(e.value.problems[0]) == (
        'deals.csv, row 1 (line 2), column "预计金额（万元）" (amount): "3万" is ambiguous: the column is in 万元 and '
        "the value says 万 as well. Write the value without 万, or rename the column.")
    assert con.execute("SELECT opportunity_id, amount FROM opportunities ORDER BY 1").fetchall()[0] == ("D1", 125_000.0)


def test_amounts_in_wan_without_yuan_leave_the_currency_alone(con, tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text("商机ID,创建时间,金额,结单日期\nD1,2026年1月5日,1.5亿,2026年3月1日\n", encoding="utf-8")
    result = ingest.import_files(con, opportunities=deals, mapping=assistant_mapping(con, {"opportunities": deals}))
    assert con.execute("SELECT amount FROM opportunities").fetchall() == [(150_000_000.0,)]
    assert store.get_setting(con, fmt.CURRENCY_KEY) is None and "Amounts are in" not in result.message


# ---- refusals name file, row, column and value; nothing is written --------------------------

def test_a_bad_chinese_date_is_refused_naming_row_and_column(con, tmp_path):
    ingest.import_files(con, **FILES, mapping=assistant_mapping(con, FILES))
    before = con.execute("SELECT * FROM leads ORDER BY lead_id").fetchall()
    files = with_cell(tmp_path, "leads", 3, "创建时间", "2026年2月30日")
    with pytest.raises(ImportValidationError) as e:
        ingest.import_files(con, **files, mapping=assistant_mapping(con, files))
    p, *others = e.value.problems
    # L003's events (rows 9-11 of the history) lose their lead with it, and say so.
    assert [(o.code, o.file, o.row) for o in others] == [("unknown_lead", "zh_lead_events.csv", r) for r in (9, 10, 11)]
    assert (p.code, p.row, p.column, p.source_column, p.value) == (
        "bad_timestamp", 3, "created_at", "创建时间", "2026年2月30日")
    assert str(p) == ('zh_leads.csv, row 3 (line 4), column "创建时间" (created_at): "2026年2月30日" is not a '
                      "date: 2026-02 has no day 30. Fix the date in the file.")
    assert 'row 3 (line 4), column "创建时间"' in str(e.value)
    assert con.execute("SELECT * FROM leads ORDER BY lead_id").fetchall() == before      # all or nothing


@pytest.mark.parametrize("value, code, says", [
    ("-5万元", "negative_amount", "is negative; amounts must be 0 or more"),
    ("－５万元", "negative_amount", "is negative"),
    ("12,34万", "bad_number", "is ambiguous"),
    ("5万美元", "bad_number", "not in yuan"),
    ("1亿亿", "bad_number", "is not an amount"),
    ("1000万亿", "bad_number", "is not an amount"),
])
def test_bad_chinese_amounts_are_refused(con, tmp_path, value, code, says):
    files = {"opportunities": with_cell(tmp_path, "opportunities", 2, "商机金额", value)["opportunities"]}
    with pytest.raises(ImportValidationError) as e:
        ingest.import_files(con, **files, mapping=assistant_mapping(con, files))
    (p,) = e.value.problems
    assert (p.code, p.row, p.column, p.source_column, p.value) == (code, 2, "amount", "商机金额", value)
    assert str(p).startswith(f'zh_deals.csv, row 2 (line 3), column "商机金额" (amount): "{value}" ')
    assert says in p.reason
    assert store.table_counts(con)["opportunities"] == 0 and store.get_setting(con, fmt.CURRENCY_KEY) is None


def test_an_amount_too_large_in_yi_is_out_of_range(con, tmp_path):
    files = {"opportunities": with_cell(tmp_path, "opportunities", 1, "商机金额", "1,000,000,000亿元")["opportunities"]}
    with pytest.raises(ImportValidationError) as e:
        ingest.import_files(con, **files, mapping=assistant_mapping(con, files))
    assert [(p.code, p.row) for p in e.value.problems] == [("out_of_range", 1)]


def test_skipping_bad_rows_keeps_the_chinese_reason(con, tmp_path):
    files = {"opportunities": with_cell(tmp_path, "opportunities", 4, "商机金额", "12,34万")["opportunities"]}
    result = ingest.import_files(con, **files, mapping=assistant_mapping(con, files), skip_bad_rows=True)
    assert result.rows["opportunities"] == {"read": 5, "loaded": 4, "rejected": 1}
    reasons = [r for (r,) in con.execute("SELECT reason FROM rejected_rows").fetchall()]
    assert len(reasons) == 1 and '"12,34万" is ambiguous' in reasons[0]
