"""The import's problems, warnings and refusals in the reader's language (issue #14).

Each problem carries a message (its code's wording and parameters: the value, the column, the
row it refers to); its English is what the CLI, ``--json``, the import log and the rejected rows
list have always said, word for word, and a page renders the same message in Chinese. Golden
texts, both languages, for a few problems of each kind of check.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from funnel import i18n, ingest, presets, store
from funnel.errors import ConfigError, FunnelError, ImportValidationError
from funnel.i18n import msg
from funnel.mapping import mapping_problems, validate_mapping

ZH = Path(__file__).resolve().parent / "fixtures" / "zh"


@pytest.fixture
def con(tmp_path):
    c = store.connect(tmp_path / "t.duckdb")
    yield c
    c.close()


@pytest.fixture(autouse=True)
def _no_missing_translation():
    i18n.reset_missing()
    yield
    assert i18n.missing("zh") == set(), f"shown in English for want of a translation: {i18n.missing('zh')}"


def refused(con, **files) -> ImportValidationError:
    with pytest.raises(ImportValidationError) as e:
        ingest.import_files(con, **files)
    return e.value


def csv(name: str, text: str) -> tuple[str, bytes]:
    return name, text.encode("utf-8")


LEADS = "lead_id,created_at\nL1,2025-01-01\nL2,2025-01-02\nL3,2025-01-03\n"
EVENTS = "lead_id,stage,entered_at\nL1,Lead,2025-01-01\nL1,MQL,2025-01-05\nL2,Lead,2025-01-02\n"


# ---- one problem, both languages --------------------------------------------------------------


def test_a_bad_date_in_both_languages(con):
    err = refused(con, leads=csv("leads.csv", LEADS.replace("2025-01-02", "31/02/2025")))
    (p,) = err.problems
    assert p.text("en") == str(p) == (
        'leads.csv, row 2 (line 3), column created_at: "31/02/2025" is not a date. Use YYYY-MM-DD or '
        'YYYY-MM-DD HH:MM:SS (ISO 8601), or name the format in the mapping ([timestamp_formats] created_at = '
        '"%d/%m/%Y").')
    assert p.location_message().render("zh") == "文件 leads.csv 第 2 行（第 3 行文本），“created_at” 列"
    assert p.text("zh") == (
        "文件 leads.csv 第 2 行（第 3 行文本），“created_at” 列：“31/02/2025”不是日期。请使用 YYYY-MM-DD 或 "
        'YYYY-MM-DD HH:MM:SS（ISO 8601），或在映射中指定格式（[timestamp_formats] created_at = "%d/%m/%Y"）。')
    # The refusal: English as the CLI prints it, Chinese sentence after sentence.
    assert str(err) == (
        "Nothing was imported: 1 problem found. " + str(p).rstrip(".") + ". Fix these rows and import again, or "
        "import with 'skip bad rows' to load the good rows and keep the bad ones in the rejected rows list; the "
        "database was not changed.")
    assert err.message == err.message_obj.render("en") and err.hint == err.hint_obj.render("en")
    assert err.text("zh", "") == (
        "未导入任何数据：发现 1 个问题。" + p.text("zh") + "请修正这些行后重新导入，或开启“跳过错误行”再导入："
        "正确的行会载入，错误的行保留在被拒绝的行列表中；数据库未作任何更改。")


def test_stored_events_a_skipped_row_would_delete_in_both_languages(con):
    ingest.import_files(con, leads=csv("leads.csv", LEADS), lead_events=csv("lead_events.csv", EVENTS))
    err = refused(con, leads=csv("leads.csv", LEADS.replace("L1,2025-01-01", "L1,soon")))
    lost = [p for p in err.problems if p.code == "stored_rows_would_be_lost"]
    assert [p.row for p in lost] == [1, 2]
    assert str(lost[0]) == (
        'lead_events already in the database (event_seq 1), column lead_id: "L1" was rejected in leads.csv (row 1), '
        "so this stored lead event would have no lead; skipping that row would delete the events already stored for "
        "it. Fix that row, or import lead_events too.")
    assert lost[0].text("zh") == (
        "数据库中已有的线索阶段历史（event_seq 1），“lead_id” 列：“L1”在 leads.csv 中（第 1 行）被拒绝，因此这条已存储的"
        "线索事件将没有对应的线索；跳过那一行会删除已为它存储的事件。请修正那一行，或同时导入 lead_events。")
    assert err.hint_obj.render("zh") == (
        "跳过错误行会删除 1 个被拒绝的行已存储的事件：请修正这些行后重新导入，或将事件与对应的线索或商机一起导入；数据库未作任何更改。")


def test_an_unknown_stage_and_a_duplicate_id_in_both_languages(con):
    ingest.import_files(con, leads=csv("leads.csv", LEADS))
    err = refused(con, lead_events=csv("lead_events.csv", EVENTS.replace("L1,MQL", "L1,Qualified Lead")))
    (p,) = err.problems
    stages = [s.stage for s in store.stages(con, "lead")]
    assert p.reason == (f'"Qualified Lead" is not a configured lead stage ({", ".join(stages)}). Map it in the mapping '
                        f'([stages.lead] "Qualified Lead" = "{stages[0]}") or add the stage on the Stage settings page.')
    assert p.reason_in("zh") == (f"“Qualified Lead”不是已配置的线索阶段（{'、'.join(stages)}）。请在映射中为它指定阶段"
                                 f'（[stages.lead] "Qualified Lead" = "{stages[0]}"），或在“阶段设置”页面添加该阶段。')
    err = refused(con, leads=csv("leads.csv", LEADS + "L2,2025-01-04\n"))
    (p,) = err.problems
    assert str(p) == ('leads.csv, row 4 (line 5), column lead_id: "L2" appears more than once; row 2 already has it. '
                      "Each lead_id must be unique: remove or renumber the repeat.")
    assert p.text("zh") == ("文件 leads.csv 第 4 行（第 5 行文本），“lead_id” 列：“L2”出现了不止一次；第 2 行已经有这个值。"
                            "每个 lead_id 都必须唯一：请删除重复项或重新编号。")


def test_a_chinese_notation_reason_inside_a_problem_in_both_languages(con):
    mapping = {"columns": {"opportunities": {"opportunity_id": "商机编号", "created_at": "创建日期", "amount": "商机金额",
                                             "close_date": "预计成交日期"}}}
    text = (ZH / "zh_deals.csv").read_text(encoding="utf-8-sig").replace("12万元", '"12,34万"', 1)
    with pytest.raises(ImportValidationError) as e:
        ingest.import_files(con, opportunities=csv("zh_deals.csv", text), mapping=mapping)
    (p,) = e.value.problems
    assert str(p) == ('zh_deals.csv, row 1 (line 2), column "商机金额" (amount): "12,34万" is ambiguous: in 12,34 the marks '
                      'are not "," between groups of three digits and at most one "." decimal point. Write it as, '
                      "e.g., 1,234.5万元, ¥12,000 or 8000元, or without thousands separators.")
    assert p.text("zh") == ("文件 zh_deals.csv 第 1 行（第 2 行文本），“商机金额” 列（amount）：“12,34万”有歧义：12,34 中的“,”"
                            "没有把数字三位一组分开，或小数点“.”不止一个。请写成例如 1,234.5万元、¥12,000 或 8000元 的形式，"
                            "或不使用千位分隔符。")


def test_file_and_sheet_problems_in_both_languages(con):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["x"])
    wb.create_sheet("Leads").append(["lead_id", "created_at"])
    data = io.BytesIO()
    wb.save(data)
    err = refused(con, leads=("leads.xlsx", data.getvalue()), sheet="Deals")
    (p,) = err.problems
    assert str(p) == ('leads.xlsx: the workbook has no sheet "Deals"; its sheets are "Notes", "Leads". Name one of them '
                      '(sheet = "…" under [options] in the mapping, or --sheet).')
    assert p.text("zh") == ("文件 leads.xlsx：工作簿中没有名为“Deals”的工作表；它的工作表是 “Notes”、“Leads”。请指定其中之一"
                            '（在映射的 [options] 下设置 sheet = "…"，或使用 --sheet）。')
    (p,) = refused(con, leads=csv("leads.csv", "lead_id,created_at\n")).problems
    assert str(p) == "leads.csv: the file has a header but no data rows. A leads file needs at least one data row."
    assert p.text("zh") == "文件 leads.csv：文件有表头但没有数据行。线索文件至少需要一行数据。"
    (p,) = refused(con, leads=csv("leads.csv", "lead_id,Create Date\nL1,2025-01-01\n")).problems
    assert p.text("zh") == ("文件 leads.csv，“created_at” 列：缺少必填列 created_at（找到的列：“lead_id”、“Create Date”）。"
                            '请将文件中的列重命名为 created_at，或进行映射，例如 [columns.leads] created_at = "Create Date"。')


def test_the_mappings_own_problems_in_both_languages(con):
    err = None
    with pytest.raises(ImportValidationError) as e:
        ingest.import_files(con, leads=csv("leads.csv", LEADS), mapping={"options": {"decimal": ";"}})
    err = e.value
    (p,) = err.problems
    assert str(p) == "(mapping): [options] decimal must be one of '.', ',', not ';'."
    assert p.text("zh") == "（映射）：[options] decimal 必须是 '.'、',' 之一，而不是 ';'。"
    problems = mapping_problems({"columns": {"deals": {"x": "y"}}, "stages": {"lead": {"New": ""}}})
    assert [m.render("en") for m in problems] == validate_mapping({"columns": {"deals": {"x": "y"}},
                                                                   "stages": {"lead": {"New": ""}}}) == [
        "[columns.deals] is not a table; use one of leads, lead_events, opportunities, opportunity_events.",
        '[stages.lead] "New": give the configured stage as text, e.g. "New" = "MQL".']
    assert [m.render("zh") for m in problems] == [
        "[columns.deals] 不是有效的表；请使用 leads、lead_events、opportunities、opportunity_events 之一。",
        '[stages.lead] "New"：请以文本形式给出已配置的阶段，例如 "New" = "MQL"。']


def test_a_warning_in_both_languages(con):
    ingest.import_files(con, leads=csv("leads.csv", LEADS))
    res = ingest.import_files(con, lead_events=csv("lead_events.csv", EVENTS.replace("L1,MQL,2025-01-05",
                                                                                      "L1,MQL,2024-12-05")))
    (w,) = res.warnings
    assert str(w) == ('lead_events.csv, row 2 (line 3), column entered_at: "2024-12-05 00:00:00" is before its '
                      "lead's creation (2025-01-01 00:00:00). It was loaded; check the dates of this lead (time in stage "
                      "counts from the event, cohorts from the creation).")
    assert w.text("zh") == ("文件 lead_events.csv 第 2 行（第 3 行文本），“entered_at” 列：“2024-12-05 00:00:00”早于其线索"
                            "的创建时间（2025-01-01 00:00:00）。该值已载入；请检查这条线索的日期（阶段停留时长从该事件起算，"
                            "同期群从创建时间起算）。")
    assert w.to_dict() == {"file": "lead_events.csv", "table": "lead_events", "row": 2, "column": "entered_at",
                           "value": "2024-12-05 00:00:00", "reason": w.reason, "code": "before_creation",
                           "source_column": "entered_at"}   # --json keeps its fields


# ---- the stored English is the message's English ---------------------------------------------


def test_rejected_rows_keep_each_problems_english_reason(con):
    """The rejected rows list is written in SQL (there may be millions): its reasons are the same
    English as the problems the import hands back, for every kind of row check."""
    ingest.import_files(con, leads=csv("leads.csv", LEADS), lead_events=csv("lead_events.csv", EVENTS))
    leads = ("lead_id,created_at,company_size\nL1,2025-01-01,5\nL2,31/02/2025,5\nL3,2025-01-03,many\n"
             "L3,2025-01-04,5\nL4,,5\nL5,1950-01-01,5\nL6,2025-01-01 10:00+15:00,5\n")
    events = ("lead_id,stage,entered_at\nL1,Lead,2025-01-01\nL2,Lead,2025-01-02\nL9,Lead,2025-01-02\n"
              "L1,Qualified Lead,2025-01-03\n")
    deals = ("opportunity_id,created_at,amount,close_date\nO1,2025-01-01,-5,2025-02-01\nO2,2025-01-01,1.2e3,2025-02-01\n"
             "O3,2025-01-01,\"1,000\",2025-02-01\nO4,2025-01-01,nan,soon\nO5,2025-01-01,2000000000000000,2025-02-01\n"
             "O6,2025-01-01,12,34万,2025-02-01\nO7,2025-01-01,10,2025-02-01\n")
    res = ingest.import_files(con, leads=csv("leads.csv", leads), lead_events=csv("lead_events.csv", events),
                              opportunities=csv("opportunities.csv", deals.replace("12,34万", '"12,34万"')),
                              skip_bad_rows=True)
    codes = {p.code for p in res.problems}
    assert codes >= {"bad_timestamp", "bad_number", "duplicate_id", "missing_value", "out_of_range", "unknown_lead",
                     "unknown_stage", "negative_amount"}
    stored = con.execute("SELECT file, table_name, row_number, column_name, value, reason FROM rejected_rows "
                         "WHERE run_id = ? ORDER BY ALL", [res.run_id]).fetchall()
    told = sorted((p.file, p.table, p.row, p.column, p.value, p.reason) for p in res.problems)
    assert stored == told
    assert all(p.message is not None and p.reason == p.message.render("en") for p in res.problems)
    assert all(p.reason_in("zh") != p.reason for p in res.problems)


# ---- refusals of the presets, the detection and saved mappings ---------------------------------


def test_preset_refusals_in_both_languages(con, tmp_path):
    with pytest.raises(ConfigError) as e:
        presets.import_preset(con, "nope")
    assert str(e.value).startswith("There is no preset called 'nope'. Use one of: olist, maven_crm,")
    assert e.value.text("zh", "").startswith("没有名为“nope”的预设。请使用以下之一：olist、maven_crm、")
    with pytest.raises(ImportValidationError) as e:
        presets.import_preset(con, "hubspot_contacts", files={"contacts": csv("c.csv", "a,b\n1,2\n")})
    assert str(e.value) == (
        'Nothing was imported: c.csv, column Record ID: the column "Record ID" is missing (found: "a", "b"). Export '
        'the file again with this column, or check that you chose the right file for this role; c.csv, column Create '
        'Date: the column "Create Date" is missing (found: "a", "b"). Export the file again with this column, or check '
        "that you chose the right file for this role. Fix the file and import again; the database was not changed.")
    assert e.value.text("zh", "") == (
        "未导入任何数据：文件 c.csv，“Record ID” 列：缺少“Record ID”列（找到的列：“a”、“b”）。请重新导出包含此列的文件，或检查"
        "是否为此项选择了正确的文件；文件 c.csv，“Create Date” 列：缺少“Create Date”列（找到的列：“a”、“b”）。请重新导出包含"
        "此列的文件，或检查是否为此项选择了正确的文件。请修正文件后重新导入；数据库未作任何更改。")
    with pytest.raises(ConfigError) as e:
        presets.save_mapping(tmp_path, "x", {"options": {"bogus": 1}})
    assert str(e.value) == "The mapping was not saved: [options] bogus is not an option; use decimal, sheet."
    assert e.value.text("zh") == "映射未保存：[options] bogus 不是有效的选项；请使用 decimal、sheet。"


def test_detection_says_what_it_left_out_in_both_languages():
    det = presets.detect([csv("notes.csv", "a,b\n1,2\n")])
    assert det.sentences() == ["notes.csv: not recognised from its columns: import it through the mapping assistant "
                               "(Data page → canonical files, or --mapping on the command line)."]
    assert [m.render("zh") for m in det.messages()] == [
        "notes.csv：无法根据列识别：请通过映射助手导入（“数据”页面 → 标准文件，或在命令行使用 --mapping）。"]


def test_the_problem_table_in_both_languages(con):
    err = refused(con, leads=csv("leads.csv", LEADS.replace("2025-01-02", "soon")))
    en, zh = presets.problems_frame(err.problems), presets.problems_frame(err.problems, "zh")
    assert list(en.columns) == ["File", "Table", "Row", "Column", "Value", "Problem"]
    assert en.iloc[0].tolist() == ["leads.csv", "leads", 2, "created_at", "soon", err.problems[0].reason]
    assert list(zh.columns) == ["文件", "表", "行", "列", "值", "问题"]
    assert zh.iloc[0].tolist() == ["leads.csv", "线索", 2, "created_at", "soon", err.problems[0].reason_in("zh")]


# ---- the machinery ----------------------------------------------------------------------------


def test_an_error_given_messages_reads_english_and_renders_chinese():
    e = FunnelError(msg("No file was given to import."), hint=msg("Check the path."))
    assert (e.message, e.hint, str(e)) == ("No file was given to import.", "Check the path.",
                                           "No file was given to import. Check the path.")
    assert e.text("zh", "") == "没有提供要导入的文件。请检查路径。"
    assert i18n.render(e.message_obj, "zh") == "没有提供要导入的文件。"
    plain = FunnelError("Some English.", hint="A hint.")      # text stays as it is in every language
    assert (str(plain), plain.text("zh")) == ("Some English. A hint.", "Some English. A hint.")
    assert not hasattr(plain, "messages") and e.messages == [e.message_obj, e.hint_obj]


def test_joined_lists_in_each_language():
    names = i18n.Joined(("a", "b", "c"), ", ")
    assert (names.format("en"), names.format("zh")) == ("a, b, c", "a、b、c")
    clauses = i18n.Joined((msg("No file was given to import."), msg("Check the path.")), "; ", clauses=True)
    assert (i18n.render(clauses, "en"), i18n.render(clauses, "zh")) == (
        "No file was given to import; Check the path", "没有提供要导入的文件；请检查路径")
    sentences = i18n.Joined((msg("No file was given to import."), msg("Check the path.")), None)
    assert (sentences.format("en"), sentences.format("zh")) == (
        "No file was given to import. Check the path.", "没有提供要导入的文件。请检查路径。")
