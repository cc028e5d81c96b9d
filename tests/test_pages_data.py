"""AppTest of the Data page, and of every page on each imported public data set.

The import flows are driven through the "folder on this server" option (AppTest cannot upload
files). Pages on data that lacks something must say so instead of failing or drawing empty charts.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import assert_clean, run_app
from funnel import store
from test_presets import FIX, PUBLIC, _need_datasets, public_db  # noqa: F401  (public_db: session fixture)

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


def _texts(at, *kinds) -> str:
    return " ".join(str(x.value) for k in kinds for x in getattr(at, k))


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _has(at, kind: str, key: str) -> bool:
    return any(w.key == key for w in getattr(at, kind))


def test_data_page_shows_health_on_sample_data(sample_copy):
    at = run_app(sample_copy, "pages/data.py")
    assert_clean(at)
    assert at.title[0].value == "Data"
    assert _metric(at, "Leads") == "3,000"
    con = store.connect(sample_copy)
    n_opp = con.execute("SELECT count(*) FROM opportunities").fetchone()[0]
    con.close()
    assert _metric(at, "Opportunities") == f"{n_opp:,}"
    assert "Nothing missing" in _texts(at, "caption")
    assert _has(at, "selectbox", "imp_source") and _has(at, "button", "reset_ask")


def test_presentation_mode_shows_only_the_health(sample_copy):
    at = run_app(sample_copy, "pages/data.py", query={"present": "true"})
    assert_clean(at)
    assert _metric(at, "Leads") == "3,000"
    assert not _has(at, "selectbox", "imp_source") and not _has(at, "button", "reset_ask")


def test_saved_mappings_are_listed_next_to_the_presets(sample_copy):
    from funnel import presets
    mapping = presets.build_mapping({"leads": {"lead_id": "Prospect ID", "created_at": "Create Date"}})
    presets.save_mapping(presets.mappings_dir(sample_copy), "my-crm", mapping, files={"leads": "crm_leads.csv"})
    at = run_app(sample_copy, "pages/data.py")
    assert "Saved mapping: my-crm" in at.selectbox(key="imp_source").options
    at.selectbox(key="imp_source").set_value("saved:my-crm").run()
    assert_clean(at)
    assert "Saved mapping **my-crm**" in _texts(at, "markdown")


@pytest.fixture(autouse=True)
def _import_folders(monkeypatch, tmp_path):
    """The app reads only folders an admin set up: these tests' fixture folders are."""
    monkeypatch.setenv("FUNNEL_IMPORT_DIRS", os.pathsep.join([str(FIX), str(tmp_path)]))


def _hubspot_from_folder(at, folder: Path):
    at.selectbox(key="imp_source").set_value("preset:hubspot_contacts").run()
    at.radio(key="pmode_hubspot_contacts").set_value("In a folder on this server").run()
    at.selectbox(key="dir_hubspot_contacts").set_value(str(Path(folder).resolve())).run()
    return at


def test_validate_then_import_a_preset_from_a_folder(sample_copy):
    at = _hubspot_from_folder(run_app(sample_copy, "pages/data.py"), FIX)
    at.button(key="imp_check_hubspot_contacts").click().run()
    assert_clean(at)
    assert "Validation passed" in _texts(at, "success")
    assert _metric(at, "Leads") == "3,000"  # a validation writes nothing
    at.button(key="imp_go_hubspot_contacts").click().run()
    assert_clean(at)
    assert "Imported 6 leads, 14 lead events" in _texts(at, "success")
    assert _metric(at, "Leads") == "6" and _metric(at, "Opportunities") == "0"
    info = _texts(at, "info")
    assert "Lead Status" in info and "no deals" in info  # what this data cannot show


def test_a_bad_file_lists_its_problems_and_changes_nothing(sample_copy, tmp_path):
    bad = (FIX / "hubspot_contacts.csv").read_text().replace("2025-01-09 08:30", "2025-13-45 08:30")
    (tmp_path / "hubspot_contacts.csv").write_text(bad)
    at = _hubspot_from_folder(run_app(sample_copy, "pages/data.py"), tmp_path)
    at.button(key="imp_go_hubspot_contacts").click().run()
    assert not at.exception
    err = _texts(at, "error")
    assert "Nothing was imported" in err and "2025-13-45 08:30" in err
    problems = next(df.value for df in at.dataframe if "Problem" in df.value.columns)
    assert problems.iloc[0]["Value"] == "2025-13-45 08:30"
    assert _metric(at, "Leads") == "3,000"
    # With "skip bad rows" the good rows load and the bad one is listed on the page.
    at.checkbox(key="imp_skip").check().run()
    at.button(key="imp_go_hubspot_contacts").click().run()
    assert_clean(at)
    assert _metric(at, "Leads") == "6"
    assert any("raw_json" in df.value.columns or "Whole row" in df.value.columns for df in at.dataframe)


def test_reset_to_sample_data_asks_first(sample_copy):
    shutil.copy(sample_copy, sample_copy.with_name("keep.duckdb"))
    at = _hubspot_from_folder(run_app(sample_copy, "pages/data.py"), FIX)
    at.button(key="imp_go_hubspot_contacts").click().run()
    assert _metric(at, "Leads") == "6"
    at.button(key="reset_ask").click().run()
    assert "cannot be undone" in _texts(at, "warning")
    at.button(key="reset_no").click().run()
    assert _metric(at, "Leads") == "6"
    at.button(key="reset_ask").click().run()
    at.button(key="reset_yes").click().run()
    assert_clean(at)
    assert _metric(at, "Leads") == "20,000"
    assert "Lead Status" not in _texts(at, "info")  # the HubSpot notes no longer apply


# ---------------------------------------------------------------------------------------------
# Every page on each imported data set: the three public ones through their presets, and the
# HubSpot and Salesforce fixture exports. No exception, no error element; the page says in a note
# what this data cannot show (golden phrases below, one per page and data set); and no chart is
# empty without saying why.

KEY_NOTE = {"olist": "no lost deals", "maven_crm": "has no leads", "x_education": "no dates"}
CRM = {"hubspot": ("hubspot_contacts", {"contacts": FIX / "hubspot_contacts.csv"}),
       "salesforce": ("salesforce_opportunity_history", {"history": FIX / "sf_opportunity_history.csv",
                                                         "opportunities": FIX / "sf_opportunities.csv"})}
DATASETS = [*PUBLIC, *CRM]

# (data set, page) → a phrase that must be on the page, in a warning, an info box or the finding.
# A page missing here must only run clean (e.g. Stage settings needs no data at all).
SAYS = {
    ("olist", "overview.py"): "no lost deals and no open pipeline",
    ("olist", "review_history.py"): "no lost deals and no open pipeline",
    ("olist", "conversion.py"): "SAL, SQL and Opportunity count only the leads that were won",
    ("olist", "time_in_stage.py"): "Only MQL has a time in stage",
    ("olist", "rejections.py"): "records no rejections",
    ("olist", "forecast.py"): "no lost deals and no open pipeline",
    ("olist", "scoring.py"): "known only for won deals",
    ("olist", "data.py"): "no lost deals",
    ("maven_crm", "overview.py"): "Maven CRM has no leads",
    ("maven_crm", "review_history.py"): "no expected close date",
    ("maven_crm", "conversion.py"): "This data has no leads, so there is no lead funnel to measure.",
    ("maven_crm", "time_in_stage.py"): "This data has no leads, so lead time in stage cannot be measured.",
    ("maven_crm", "rejections.py"): "Maven CRM has no leads",
    ("maven_crm", "forecast.py"): "no expected close date",
    ("maven_crm", "scoring.py"): "This data has no leads, so there is nothing to score.",
    ("maven_crm", "data.py"): "has no leads",
    ("x_education", "overview.py"): "X Education has no dates",
    ("x_education", "review_history.py"): "There are no opportunities",
    ("x_education", "conversion.py"): "no monthly or weekly cohorts",
    ("x_education", "time_in_stage.py"): "X Education records no dates",
    ("x_education", "rejections.py"): "records no rejections",
    ("x_education", "forecast.py"): "needs deal data",
    ("x_education", "scoring.py"): "leak the outcome",
    ("x_education", "data.py"): "no dates",
    ("hubspot", "overview.py"): "A contacts export has no deals",
    ("hubspot", "conversion.py"): "out of stage order",
    ("hubspot", "rejections.py"): "Lead Status",
    ("hubspot", "forecast.py"): "needs deal data",
    ("salesforce", "conversion.py"): "This data has no leads",
    ("salesforce", "time_in_stage.py"): "This data has no leads",
    ("salesforce", "scoring.py"): "This data has no leads",
    ("salesforce", "forecast.py"): "Salesforce's own probability",
}


@pytest.fixture(scope="module")
def imported_db(public_db, tmp_path_factory):  # noqa: F811
    """``imported_db(name)``: a database holding one imported data set (each built once)."""
    built: dict[str, Path] = {}

    def _get(name: str) -> Path:
        if name in PUBLIC:
            return public_db(name)
        if name not in built:
            preset, files = CRM[name]
            path = tmp_path_factory.mktemp(f"crm_{name}") / f"{name}.duckdb"
            con = store.connect(path)
            from funnel import presets
            presets.import_preset(con, preset, files=files)
            con.close()
            built[name] = path
        return built[name]
    return _get


def _said(at) -> str:
    """Everything a page says in words: notes, info boxes, the finding, captions."""
    return _texts(at, "warning", "info", "markdown", "caption", "success")


def _decode(values) -> list:
    """A Plotly trace array as a list (Plotly 6+ ships numbers as {"dtype", "bdata"})."""
    import base64

    import numpy as np
    if isinstance(values, dict) and "bdata" in values:
        arr = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return arr.tolist()
    return list(values) if isinstance(values, (list, tuple)) else []


def blank_charts(at) -> list[str]:
    """Charts that would be empty on screen with nothing saying why: no trace carries a non-zero
    number, and no annotation (theme.empty_figure's message) explains it."""
    import json
    import math
    out = []
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        numbers = [v for t in spec.get("data", []) for k in ("x", "y", "z", "values")
                   for v in _decode(t.get(k, [])) if isinstance(v, (int, float)) and not isinstance(v, bool)]
        drawn = any(math.isfinite(v) and v != 0 for v in numbers)
        explained = any(a.get("text") for a in spec.get("layout", {}).get("annotations", []))
        if not drawn and not explained:
            out.append(el.proto.id.rsplit("-", 1)[-1])
    return out


@pytest.mark.parametrize("dataset", list(PUBLIC))
def test_data_page_names_what_each_public_data_set_cannot_show(public_db, dataset):  # noqa: F811
    at = run_app(public_db(dataset), "pages/data.py")
    assert_clean(at)
    assert KEY_NOTE[dataset] in _texts(at, "info")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_every_page_runs_on_each_imported_data_set(imported_db, dataset, page):
    if dataset in PUBLIC:
        _need_datasets(dataset)
    at = run_app(imported_db(dataset), f"pages/{page}")
    assert_clean(at)
    phrase = SAYS.get((dataset, page))
    if phrase:
        assert phrase in _said(at), f"{page} on {dataset} does not say “{phrase}”"
    assert not blank_charts(at), f"{page} on {dataset}: empty chart(s) without a word why: {blank_charts(at)}"


def test_conversion_on_x_education_shows_no_cohort_or_timing_chart(imported_db):
    _need_datasets("x_education")
    at = run_app(imported_db("x_education"), "pages/conversion.py")
    assert_clean(at)
    keys = [el.proto.id.rsplit("-", 1)[-1] for el in at.get("plotly_chart")]
    # One creation date and no durations: the funnel and the breakdown only, no heatmap / trend / timing.
    assert keys == ["conv_funnel", "conv_breakdown_chart"]
    assert "Not shown for this data" in _texts(at, "info")
    funnel_table = next(df.value for df in at.dataframe if "stage" in df.value.columns)
    assert "median_days_to_reach" not in funnel_table.columns   # every "time to reach" would read 0 h


def test_time_in_stage_switches_funnel_on_data_without_leads(imported_db):
    _need_datasets("maven_crm")
    at = run_app(imported_db("maven_crm"), "pages/time_in_stage.py")
    assert_clean(at)
    assert "Switch to Opportunities above" in _texts(at, "info")
    assert not at.get("plotly_chart")
    at.segmented_control(key="tis_funnel").set_value("opportunity").run()
    assert_clean(at)
    assert at.segmented_control(key="tis_funnel").value == "opportunity"
    assert "time in Prospecting cannot be measured" in _texts(at, "warning")
    assert at.get("plotly_chart") and not blank_charts(at)   # Engaging stays are real: they are drawn


def test_time_in_stage_on_olist_deals_says_why_there_is_nothing(imported_db):
    _need_datasets("olist")
    at = run_app(imported_db("olist"), "pages/time_in_stage.py")
    at.segmented_control(key="tis_funnel").set_value("opportunity").run()
    assert_clean(at)
    assert "Deals are recorded only when won" in _texts(at, "warning")
    assert "Switch to Leads above" in _texts(at, "info") and not at.get("plotly_chart")


# ---------------------------------------------------------------------------------------------
# The import in the reader's language (issue #14)


def test_a_refused_import_is_said_in_chinese_with_file_row_and_column(sample_copy, tmp_path):
    """A bad CSV imported on the Chinese page: the refusal names the file, the row (and the line a
    person finds it at) and the column in Chinese, with no English sentence; the problem table's
    headers and reasons are Chinese too. The file's own header and values stay as the file has them."""
    from funnel import i18n, markup
    from i18n_support import english_words, render_in_chinese

    bad = (FIX / "hubspot_contacts.csv").read_text().replace("2025-01-09 08:30", "2025-13-45 08:30")
    (tmp_path / "hubspot_contacts.csv").write_text(bad)
    at = render_in_chinese(sample_copy, "pages/data.py",
                           {"imp_source": "preset:hubspot_contacts", "pmode_hubspot_contacts": "In a folder on this server",
                            "dir_hubspot_contacts": str(tmp_path.resolve())},
                           clicks=("imp_go_hubspot_contacts",))
    assert not at.exception
    errors = [markup.md_plain(e.value) for e in at.error]
    assert errors == [
        "未导入任何数据：发现 1 个问题。文件 hubspot_contacts.csv 第 2 行（第 3 行文本），"
        "“Became a Marketing Qualified Lead Date” 列（entered_at）：“2025-13-45 08:30”不是可以读取的日期。请将日期导出为 "
        "YYYY-MM-DD HH:MM，或选择日期格式（日在前、月在前，或 %d.%m.%Y %H:%M 这样的格式）后重新导入。"
        "请修正这些行后重新导入，或开启“跳过错误行”再导入：正确的行会载入，错误的行保留在被拒绝的行列表中；数据库未作任何更改。"]
    problems = next(df.value for df in at.dataframe if "问题" in df.value.columns)
    assert list(problems.columns) == ["文件", "表", "行", "列", "值", "问题"]
    row = problems.iloc[0]
    assert (row["文件"], row["表"], row["行"], row["值"]) == ("hubspot_contacts.csv", "线索阶段历史", 2, "2025-13-45 08:30")
    assert row["问题"].startswith("“2025-13-45 08:30”不是可以读取的日期。")
    # Nothing English but the file's own words (its name, header, value) and notation (date formats, ids)
    data = {"hubspot_contacts.csv", "Became a Marketing Qualified Lead Date", "2025-13-45 08:30", "entered_at",
            "YYYY-MM-DD HH:MM", "%d.%m.%Y %H:%M"}
    assert english_words(errors + [str(v) for v in row.values], data) == []
    assert i18n.missing("zh") == set()
    assert _metric(at, "线索") == "3,000"   # nothing was imported
