"""Languages (issue #14) in what the database keeps and what the library refuses: the import log and the
audit trail store each sentence as its message beside the English text and are read in the reader's
language (rows of an older release as stored); the presets' prose is in the catalogs; configuration and
validation errors carry their messages; and a table cell without a value reads "–", never "None"."""
from __future__ import annotations

import re
import tomllib
from io import BytesIO
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, assert_clean, run_app
from funnel import audit, error_messages, fmt, forecast, health, i18n, ingest, scoring, store, stored_messages, \
    targets, time_in_stage, versions
from funnel.access import Actor, PermissionDenied
from funnel.errors import ConfigError, FunnelError, ImportValidationError
from i18n_support import render_in_chinese

EDITOR = Actor("Ed Editor", "editor", "ed@example.com")
ADMIN = Actor("Ada Admin", "admin", "ada@example.com")
VIEWER = Actor("Vi Viewer", "viewer", "vi@example.com")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def con(sample_copy):
    i18n.reset_missing()
    c = store.connect(sample_copy)
    yield c
    c.close()


# ---- stored messages -----------------------------------------------------------------------------


def test_a_stored_message_comes_back_with_its_figures_plural_and_nested_parts():
    from datetime import date
    m = i18n.msg("{first} {then}", first=i18n.msg_n("{n} lead", "{n} leads", 3000, n=fmt.Count(3000)),
                 then=i18n.msg("Saved the weekly review of {day}", day=fmt.Date(date(2026, 3, 5))))
    text, msgid, params = stored_messages.to_columns(m)
    assert text == m.render("en") == "3,000 leads Saved the weekly review of 05 Mar 2026"
    assert stored_messages.from_columns(msgid, params) == m
    top = i18n.msg_n("{n} warning.", "{n} warnings.", 2, n="2")       # a plural at the top: its form rides along
    assert stored_messages.from_columns(*stored_messages.to_columns(top)[1:]) == top
    assert stored_messages.to_columns("plain text") == ("plain text", None, None)
    assert stored_messages.render("as stored", None, None, "zh") == "as stored"
    assert stored_messages.render("as stored", "{gone}", "{}", "zh") == "as stored"   # a message that no longer fits
    i18n.reset_missing()
    with pytest.raises(TypeError):
        stored_messages.to_columns(i18n.msg("{x}", x=object()))


# ---- the migration: a database of the release before keeps its rows as they were written ----------


def _as_older_release(path: Path) -> None:
    """Take the message columns away, as a database written by the release before has none, and add a
    row of that release to each table (positional INSERTs of the old column lists)."""
    raw = duckdb.connect(str(path))
    try:
        for table, columns in store.ADDED_COLUMNS.items():
            for column in columns:
                raw.execute(f"ALTER TABLE {table[0]} DROP COLUMN {column}")
        raw.execute("INSERT INTO audit_log VALUES (999, TIMESTAMP '2026-01-02 03:04:05', 'Old Timer', NULL, 'admin', "
                    "'probabilities', 'Changed stage probabilities: Proposal 50% → 40%', NULL, NULL, NULL, 1, 2)")
        raw.execute("INSERT INTO import_runs VALUES (998, TIMESTAMP '2026-01-02 03:00:00', NULL, 'Old Timer', "
                    "'files', 'replace', 'committed', '{}', 'Imported 12 leads.')")
    finally:
        raw.close()


def test_an_older_database_gains_the_message_columns_and_shows_its_rows_as_stored(sample_copy):
    _as_older_release(sample_copy)
    reader = store.open_read_only(sample_copy)
    try:
        assert not store.schema_is_current(reader)          # the app writes once to upgrade it
    finally:
        reader.close()
    con = store.connect(sample_copy)                          # the write that migrates
    try:
        assert store.schema_is_current(con)
        trail = audit.entries(con)
        old = trail[trail["audit_id"] == 999]
        assert old["summary_msgid"].isna().all()
        # rows written before messages were stored read as stored, in either language
        assert audit.summaries(old, "zh") == audit.summaries(old, "en") == [
            "Changed stage probabilities: Proposal 50% → 40%"]
        sample_row = trail[trail["action"] == "sample_created"]
        assert audit.summaries(sample_row, "zh") == ["Filled the empty database with the sample data (3,000 leads, "
                                                     "seed 7)"]
        runs = health.import_history(con, lang="zh")
        assert runs.loc[runs["run_id"] == 998, "message"].tolist() == ["Imported 12 leads."]
        # a change made after the upgrade is kept with its message
        forecast.save_probabilities(con, {"Proposal": 0.3}, actor=EDITOR)
        latest = audit.entries(con, limit=1)
        assert audit.summaries(latest, "zh") == ["修改了阶段赢率：Proposal 50% → 30%"]
        assert audit.summaries(latest, "en") == latest["summary"].tolist() == [
            "Changed stage probabilities: Proposal 50% → 30%"]
    finally:
        con.close()


# ---- golden summaries in both languages ----------------------------------------------------------


def _teams_file() -> tuple[str, bytes]:
    return ("teams.csv", b"owner,team\nAnn,North\nBo,South\n")


def test_every_change_is_summarised_in_both_languages(con):
    forecast.save_probabilities(con, {"Proposal": 0.35, "Discovery": 0.3}, actor=EDITOR)
    time_in_stage.save_sla_targets(con, "lead", {"MQL": 72, "SAL": None}, actor=EDITOR)
    store.rename_stage(con, "lead", "SAL", "Accepted", actor=EDITOR)
    rows = [{**r, "sla_hours": 99.0} if r["stage"] == "Qualify" else r for r in store.stage_config_rows(con)]
    store.save_stage_config(con, rows, actor=EDITOR)
    store.save_stage_config(con, rows, actor=EDITOR)
    rules = scoring.stored_rules(con)
    scoring.save_rules(con, rules[:-1], 55, actor=EDITOR)
    scoring.save_scenario(con, "Strict", rules, 60, actor=EDITOR)
    scoring.save_scenario(con, "Strict", rules, 60, actor=EDITOR)
    scoring.make_scenario_current(con, "Strict", actor=EDITOR)
    fmt.save_currency(con, "EUR", actor=EDITOR)
    fmt.save_currency(con, "EUR", actor=EDITOR)
    targets.save_targets(con, [{"period": "2026-06", "owner": "", "amount": 5}], actor=EDITOR, source="grid")
    targets.save_teams(con, [{"owner": "Ann", "team": "North"}, {"owner": "Bo", "team": "North"}], actor=EDITOR)
    targets.import_targets(con, None, _named(*_teams_file()), actor=EDITOR)
    trail = audit.entries(con).iloc[::-1]        # oldest first
    got = list(zip(audit.summaries(trail, "en"), audit.summaries(trail, "zh")))
    assert got == [
        ("Filled the empty database with the sample data (3,000 leads, seed 7)",
         "用示例数据填充了空数据库（3,000 条线索，随机种子 7）"),
        ("Changed stage probabilities: Discovery 25% → 30%, Proposal 50% → 35%",
         "修改了阶段赢率：Discovery 25% → 30%、Proposal 50% → 35%"),
        ("Changed lead SLA targets (hours): MQL 48 → 72, SAL 120 → no target",
         "修改了线索 SLA 目标（小时）：MQL 48 → 72、SAL 120 → 未设目标"),
        ("Renamed the lead stage 'SAL' to 'Accepted'", "将线索阶段“SAL”重命名为“Accepted”"),
        ("Saved the stage settings (opportunity:Qualify)", "保存了阶段设置（商机：Qualify）"),
        ("Saved the stage settings (no change)", "保存了阶段设置（无变化）"),
        ("Saved the scoring rules: threshold 50 → 55; 1 rule removed or changed",
         "保存了评分规则：阈值 50 → 55；删除或修改了 1 条规则"),
        ("Saved the scenario 'Strict'", "保存了方案“Strict”"),
        ("Saved the scenario 'Strict' (replacing the one of that name)", "保存了方案“Strict”（替换了同名方案）"),
        ("Made the scenario 'Strict' current: threshold 55 → 60; 1 rule added or changed",
         "将方案“Strict”设为当前评分：阈值 55 → 60；新增或修改了 1 条规则"),
        ("Set the currency to EUR (was USD)", "将货币设为 EUR（原为 USD）"),
        ("Kept the currency EUR", "货币保持为 EUR"),
        ("Saved 1 targets row (grid)", "保存了 1 行目标（表格）"),
        ("Saved 2 teams rows (teams)", "保存了 2 行团队（团队）"),
        ("Imported teams.csv", "导入了 teams.csv"),
    ]
    assert audit.summaries(trail, "en") == trail["summary"].tolist()     # the English is the stored text
    assert i18n.missing("zh") == set()
    assert set(trail["action"]) <= set(_audit_action_labels()), "the Data page names every action"


def _audit_action_labels() -> dict:
    """The Data page's AUDIT_ACTIONS (read from the page's source: a page runs only under Streamlit)."""
    import ast
    tree = ast.parse((ROOT / "pages" / "data.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "AUDIT_ACTIONS")
    return {k.value: v.args[0].value for k, v in zip(node.value.keys, node.value.values)}


def test_an_import_log_entry_and_its_audit_row_are_said_in_both_languages(tmp_path):
    con = store.connect(tmp_path / "empty.duckdb")
    try:
        leads = b"lead_id,created_at\nL1,2026-01-05\nL2,not a date\nL3,2026-01-07\n"
        result = ingest.import_files(con, leads=("leads.csv", leads), skip_bad_rows=True, actor=ADMIN)
        run = result.run_id
        assert result.message == f"Imported 2 leads; 1 bad row skipped (see rejected rows, run {run})."
        assert result.message_obj.render("zh") == f"已导入 2 条线索；跳过了 1 行错误数据（见被拒绝的行，导入批次 {run}）。"
        runs = health.import_history(con, lang="zh")
        assert runs["message"].tolist()[0] == result.message_obj.render("zh")
        assert runs["rows"].tolist()[0] == "线索：2（另有 1 行被拒绝）"
        assert health.import_history(con)["rows"].tolist()[0] == "leads: 2 (+1 rejected)"
        assert health.latest_run(con, lang="zh")["message"] == result.message_obj.render("zh")
        assert health.latest_run(con)["message"] == result.message
        row = audit.entries(con, actions=["import"], limit=1)
        assert audit.summaries(row, "zh") == [result.message_obj.render("zh")]
        # a refused import is logged too: its message as the import wrote it
        with pytest.raises(ImportValidationError):
            ingest.import_files(con, leads=("bad.csv", b"lead_id,created_at\nZ1,never\n"), actor=ADMIN)
        assert health.import_history(con, lang="zh")["status"].tolist()[0] == "failed"
    finally:
        con.close()


def test_a_restore_names_the_change_it_undid_in_the_readers_language(sample_copy):
    with versions.writing(sample_copy, "edit") as w:
        forecast.save_probabilities(w, {"Proposal": 0.2}, actor=EDITOR)
    reader = store.open_read_only(versions.reader_path(sample_copy))
    try:
        change = int(audit.entries(reader, actions=["probabilities"], limit=1).iloc[0]["audit_id"])
    finally:
        reader.close()
    audit.restore_before(sample_copy, change, actor=ADMIN)
    reader = store.open_read_only(versions.reader_path(sample_copy))
    try:
        restore = audit.entries(reader, actions=["restore"], limit=1)
        points = audit.restore_points(reader, sample_copy)
    finally:
        reader.close()
    assert audit.summaries(restore, "en") == [
        f"Restored the data as it was before change #{change} (Changed stage probabilities: Proposal 50% → 20%)"]
    assert audit.summaries(restore, "zh") == [
        f"已将数据恢复到更改 #{change} 之前的状态（修改了阶段赢率：Proposal 50% → 20%）"]
    assert "修改了阶段赢率：Proposal 50% → 20%" in audit.summaries(points, "zh")
    with pytest.raises(FunnelError) as e:
        audit.restore_before(sample_copy, 4242, actor=ADMIN)
    assert error_messages.render(e.value, "zh") == "审计记录中没有更改 #4242。请在“数据”页面的审计记录中选择一次更改。"


def test_a_preset_import_says_what_it_did_and_its_prose_notes_in_the_readers_language(con):
    from funnel import limitations, presets
    fix = ROOT / "tests" / "fixtures" / "presets" / "hubspot_contacts.csv"
    result = presets.import_preset(con, "hubspot_contacts", files={"contacts": fix})
    en, zh = result.message, result.message_obj.render("zh")
    assert en.startswith("Imported 6 leads, 14 lead events.") and \
        "This source has no opportunities or opportunity stage history: those tables were emptied." in en
    assert zh.startswith("已导入 6 条线索、14 条线索事件。") and "此数据源没有商机或商机阶段历史：这些表已被清空。" in zh
    assert health.import_history(con, lang="zh")["message"].tolist()[0] == zh
    assert health.import_history(con)["message"].tolist()[0] == en
    notes = limitations.data_limitations(con, "rejections", lang="zh")
    assert any(n.startswith("HubSpot 的 Lead Status（Unqualified、Bad timing 等）没有日期") for n in notes)
    assert any(n.startswith("HubSpot's Lead Status") for n in limitations.data_limitations(con, "rejections"))


# ---- the presets' prose is in the catalogs ------------------------------------------------------------


def test_the_prose_extractor_yields_every_title_description_and_note_of_prose_toml():
    from funnel.presets.prose import extract_prose_toml
    path = ROOT / "funnel" / "presets" / "prose.toml"
    table = tomllib.loads(path.read_text("utf-8"))
    wanted = {e[k] for e in table.values() for k in ("title", "description") if e.get(k)} | \
        {n["text"] for e in table.values() for n in e.get("notes", ())}
    with path.open("rb") as f:
        found = list(extract_prose_toml(f, {}, [], {}))
    assert {m for _, _, m, _ in found} == wanted and len(wanted) > 20
    lines = path.read_text("utf-8").splitlines()
    for lineno, funcname, message, comments in found:   # each sentence on the line of its key
        assert funcname is None and re.match(r"\s*(title|description|text)\s*=", lines[lineno - 1]), (lineno, message)
        assert comments and comments[0].startswith("preset ")


def test_the_prose_of_every_preset_is_translated(sample_db):
    from funnel.presets.prose import _table, prose_entries
    i18n.reset_missing()
    for name, key, text in prose_entries(_table()):
        zh = i18n.translate("zh", text)
        assert zh != text and CJK.search(zh), (name, key)
    assert i18n.missing("zh") == set()


@pytest.mark.parametrize("source", ["preset:olist", "preset:salesforce"])
def test_a_presets_description_and_notes_show_in_chinese_on_the_data_page(sample_db, source):
    at = render_in_chinese(sample_db, "pages/data.py", {"imp_source": source})
    assert_clean(at)
    markdown = " ".join(m.value for m in at.markdown)
    assert ("Olist 的卖家招募漏斗" in markdown) if source == "preset:olist" else ("两种表头风格的 Salesforce 导出" in markdown)
    assert "Olist's seller-acquisition" not in markdown and "Salesforce exports in either" not in markdown
    assert i18n.missing("zh") == set()


# ---- the Data page in Chinese: import log, audit trail, restore points ------------------------------


def test_the_audit_trail_and_the_import_log_read_in_chinese_on_the_data_page(sample_copy):
    with versions.writing(sample_copy, "edit") as w:
        forecast.save_probabilities(w, {"Proposal": 0.35}, actor=ADMIN)
        store.rename_stage(w, "lead", "SAL", "Accepted", actor=ADMIN)
    at = render_in_chinese(sample_copy, "pages/data.py")
    assert_clean(at)
    assert i18n.missing("zh") == set()
    frames = {tuple(d.value.columns): d.value for d in at.dataframe}
    trail = next(df for cols, df in frames.items() if "summary" in cols and "before" in cols)
    assert trail["summary"].tolist()[:3] == ["将线索阶段“SAL”重命名为“Accepted”", "修改了阶段赢率：Proposal 50% → 35%",
                                            "用示例数据填充了空数据库（3,000 条线索，随机种子 7）"]
    log = next(df for cols, df in frames.items() if "message" in cols and "run_id" in cols)
    assert log["message"].tolist() == ["示例数据：3000 条线索，随机种子 7，数据截至 2026-11-20"]
    assert CJK.search(log["rows"].tolist()[0]) and "leads" not in log["rows"].tolist()[0]
    assert set(trail["action"]) <= {"阶段重命名", "阶段赢率", "示例数据（首次启动）"}     # each action named in Chinese
    latest = next(c.value for c in at.caption if c.value.startswith("最近一次导入"))
    assert "示例数据：3000 条线索" in latest and "Sample data" not in latest
    options = at.selectbox(key="restore_pick").options
    assert any("修改了阶段赢率" in o for o in options) and not any("Changed stage" in o for o in options)


# ---- errors said in the reader's language --------------------------------------------------------


def test_a_refused_change_carries_its_message_and_keeps_its_english(con):
    with pytest.raises(PermissionDenied) as e:
        forecast.save_probabilities(con, {"Proposal": 0.3}, actor=VIEWER)
    assert str(e.value) == ("Only editors and admins may change stage settings, probabilities, SLA targets, scoring "
                            "rules, scenarios, reviews, targets or calls; vi@example.com is signed in as viewer. Ask an "
                            "admin to give you that role (the roles are set in .streamlit/secrets.toml, "
                            "[funnelcast.roles]).")
    assert error_messages.render(e.value, "zh") == (
        "只有编辑者和管理员可以修改阶段设置、阶段赢率、SLA 目标、评分规则、评分方案、复盘、目标或经理预测；vi@example.com "
        "当前的身份是查看者。请管理员为你分配该角色（角色在 .streamlit/secrets.toml 的 [funnelcast.roles] 中设置）。")
    with pytest.raises(ConfigError) as e:
        forecast.save_probabilities(con, {"Proposal": 1.5, "Nowhere": 0.2}, actor=EDITOR)
    assert e.value.message == ("The probabilities were not saved: Stage 'Proposal': probability 1.5 must be between 0 "
                               "and 1 (0% to 100%). There is no opportunity stage called 'Nowhere'.")
    assert error_messages.render(e.value, "zh") == (
        "阶段赢率未保存：阶段“Proposal”：赢率 1.5 必须在 0 到 1 之间（0% 到 100%）。没有名为“Nowhere”的商机阶段。"
        "请将每个赢率输入为 0 到 100 之间的百分比。")
    with pytest.raises(ConfigError) as e:
        time_in_stage.save_sla_targets(con, "lead", {"MQL": -1}, actor=EDITOR)
    assert error_messages.render(e.value, "en") == ("The target for 'MQL' is negative. — Type zero or more days, or "
                                                    "leave the cell empty for no target.")
    assert error_messages.render(e.value, "zh") == "“MQL”的目标是负数。请输入 0 或更多天，或将单元格留空表示不设目标。"
    with pytest.raises(ConfigError) as e:
        fmt.save_currency(con, "XYZ", actor=EDITOR)
    assert error_messages.render(e.value, "zh") == "“XYZ”不是货币代码。请使用三个字母的 ISO 4217 代码，例如 CNY、USD 或 EUR。"
    with pytest.raises(store.DatabaseError) as e:
        store.open_read_only(ROOT / "tests")
    assert str(e.value) == f"{ROOT / 'tests'} is a folder, not a database file. Pass the path of a .duckdb file, e.g. " \
                           "--db data/funnel.duckdb."
    assert error_messages.render(e.value, "zh") == f"{ROOT / 'tests'} 是文件夹，不是数据库文件。请指定 .duckdb 文件的路径，" \
                                                   "例如 --db data/funnel.duckdb。"
    earlier = ConfigError("The lead funnel needs at least two stages (Lead and MQL).")
    earlier.messages = [i18n.msg("The lead funnel needs at least two stages (Lead and MQL).")]   # the earlier form
    assert error_messages.render(earlier, "zh") == "线索漏斗至少需要两个阶段（线索和 MQL）。"
    plain = FunnelError("Something English.", hint="Do this.")        # an error without messages: as written
    assert error_messages.render(plain, "zh") == "Something English. — Do this."
    assert i18n.missing("zh") == set()


def test_target_refusals_name_the_row_in_the_readers_language(con):
    bad = b"period,owner,amount\n2026-13,,5\n2026-06,,-5\n2026-07,,12k\n"
    with pytest.raises(ImportValidationError) as e:
        targets.import_targets(con, _named("bad.csv", bad), actor=EDITOR)
    assert e.value.problems[0].startswith("bad.csv row 1 (line 2), column period: '2026-13'")   # English as before
    assert error_messages.render(e.value, "zh") == (
        "目标文件 bad.csv 未导入（3 个问题；未做任何更改）：bad.csv 第 1 行（文件第 2 行），period 列：“2026-13”不是月份或"
        "季度——月份请写作 YYYY-MM（2026-06），季度请写作 YYYY-Qn（2026-Q2）。bad.csv 第 2 行（文件第 3 行），amount 列：-5 "
        "是负数——目标必须大于或等于 0。bad.csv 第 3 行（文件第 4 行），amount 列：“12k”不是数字——请用纯数字填写目标，例如 "
        "250000（不带货币符号或千位分隔符）。请改正这些行，然后重新导入文件。")
    with pytest.raises(ConfigError) as e:
        targets.save_teams(con, [{"owner": "Ann", "team": ""}], actor=EDITOR)
    assert error_messages.render(e.value, "zh") == ("团队未保存：团队 第 1 行（文件第 2 行），team 列：“Ann”的团队为空——请填写"
                                                    "团队。请改正这些行后再保存；未做任何更改。")
    warnings = targets.save_targets(con, [{"period": "2026-06", "owner": "Zed", "amount": 5}], actor=EDITOR)
    assert [str(w) for w in warnings] == [
        "targets row 1 (line 2), column owner: 'Zed' is neither an opportunity owner in the data nor a team — the "
        "target is kept; it counts no deals until that owner has some."]
    assert i18n.render(warnings[0], "zh").startswith("目标 第 1 行（文件第 2 行），owner 列：“Zed”既不是数据中的商机负责人")
    res = targets.import_targets(con, _named("t.csv", b"period,owner,amount\n2026-06,Zed,5\n"), _named(*_teams_file()),
                                 actor=EDITOR)
    assert res.message == "Imported 1 target and 2 team members (the stored ones were replaced). 1 warning."
    assert res.message_obj.render("zh") == "已导入 1 个目标和 2 位团队成员（替换了已存储的内容）。1 条警告。"
    assert [m.render("en") for m in res.warning_messages] == list(res.warnings)
    assert i18n.missing("zh") == set()


def _named(name: str, data: bytes):
    f = BytesIO(data)
    f.name = name
    return f


# ---- empty table cells ----------------------------------------------------------------------------


def test_pages_draw_their_tables_through_ui_so_a_missing_value_reads_as_a_dash():
    """st.dataframe / st.data_editor show "None" for a missing value unless given a placeholder:
    pages draw tables with ui.dataframe / ui.data_editor, which give it."""
    for page in sorted((ROOT / "pages").glob("*.py")):
        callers = re.findall(r"(\w+)\.(?:dataframe|data_editor)\(", page.read_text(encoding="utf-8"))
        assert set(callers) <= {"ui"}, f"{page.name} draws a table with {set(callers) - {'ui'}}"


@pytest.mark.parametrize("page", ["pages/data.py", "pages/forecast.py", "pages/targets.py", "pages/review_history.py",
                                  "pages/rejections.py", "pages/time_in_stage.py", "pages/stage_settings.py",
                                  "pages/scoring.py", "pages/conversion.py", "pages/overview.py"])
def test_every_table_on_a_page_shows_a_dash_for_a_missing_value(request, sample_db, page):
    from test_i18n_review import _with_saved_reviews
    # Review history lists saved reviews: two of them, so it draws its tables
    db = _with_saved_reviews(request.getfixturevalue("sample_copy")) if page == "pages/review_history.py" else sample_db
    at = run_app(db, page)
    assert_clean(at)

    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
    tables = [n.proto for n in walk(at.main) if type(getattr(n, "proto", None)).__name__ == "Dataframe"]
    assert tables, f"{page} draws no table"
    assert {t.placeholder for t in tables} == {"–"}
