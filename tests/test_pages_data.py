"""AppTest of the Data page, and of every page on each imported public data set.

The import flows are driven through the "folder on this server" option (AppTest cannot upload
files). Pages on data that lacks something must say so instead of failing or drawing empty charts.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import assert_clean, run_app
from funnel import store
from test_presets import FIX, PUBLIC, public_db  # noqa: F401  (public_db is a session fixture)

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


def _hubspot_from_folder(at, folder: Path):
    at.selectbox(key="imp_source").set_value("preset:hubspot_contacts").run()
    at.radio(key="pmode_hubspot_contacts").set_value("In a folder on this server").run()
    at.text_input(key="dir_hubspot_contacts").input(str(folder)).run()
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
# Every page on each public data set

KEY_NOTE = {"olist": "no lost deals", "maven_crm": "has no leads", "x_education": "no dates"}
# Pages whose subject the data set lacks: they must explain (an info or warning), not draw blanks.
LACKING = {"olist": ("rejections.py",), "maven_crm": ("conversion.py", "time_in_stage.py", "rejections.py",
                                                       "scoring.py"),
           "x_education": ("forecast.py", "rejections.py")}


@pytest.mark.parametrize("dataset", list(PUBLIC))
def test_data_page_names_what_each_public_data_set_cannot_show(public_db, dataset):  # noqa: F811
    at = run_app(public_db(dataset), "pages/data.py")
    assert_clean(at)
    assert KEY_NOTE[dataset] in _texts(at, "info")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("dataset", list(PUBLIC))
def test_every_page_runs_on_each_public_data_set(public_db, dataset, page):  # noqa: F811
    at = run_app(public_db(dataset), f"pages/{page}")
    assert_clean(at)
    if page in LACKING[dataset]:
        assert at.info or at.warning, f"{page} on {dataset} shows no note about what is missing"
