"""Auto-detection: which preset and which file role each file is, from its columns alone; the CLI's
``import --dir FOLDER`` without --preset; the public data sets detected to their presets with the
same figures; and every page on each new export shape (AppTest), saying what the shape lacks.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import assert_clean, run_app
from funnel import conversion, forecast, ingest, presets, store
from funnel.mapping import guess_mapping
from test_pages_data import _said, blank_charts
from test_presets import DATASETS, PUBLIC, _need_datasets

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CRM = FIXTURES / "crm"
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))

# file → (preset, role) it must be recognised as, from its header alone.
ROLES = {
    CRM / "salesforce_api" / "Opportunity.csv": ("salesforce", "opportunities"),
    CRM / "salesforce_api" / "OpportunityHistory.csv": ("salesforce", "history"),
    CRM / "salesforce_api" / "Lead.csv": ("salesforce", "leads"),
    CRM / "salesforce_api" / "LeadHistory.csv": ("salesforce", "lead_history"),
    CRM / "salesforce_api" / "User.csv": ("salesforce", "users"),
    CRM / "salesforce_uk_report" / "opportunities_report.csv": ("salesforce", "opportunities"),
    CRM / "salesforce_uk_report" / "opportunity_field_history_report.csv": ("salesforce", "field_history"),
    FIXTURES / "presets" / "sf_opportunity_history.csv": ("salesforce", "history"),
    FIXTURES / "presets" / "sf_opportunities.csv": ("salesforce", "opportunities"),
    CRM / "hubspot_ui" / "hubspot-crm-exports-all-deals-2025-03-10.csv": ("hubspot_deals", "deals"),
    CRM / "hubspot_api" / "deals.csv": ("hubspot_deals", "deals"),
    FIXTURES / "presets" / "hubspot_contacts_uk.csv": ("hubspot_contacts", "contacts"),
    ROOT / "data" / "templates" / "lead_events.csv": ("canonical", "lead_events"),
    ROOT / "data" / "templates" / "opportunities.csv": ("canonical", "opportunities"),
}


@pytest.mark.parametrize("path", list(ROLES), ids=lambda p: p.name)
def test_each_file_is_recognised_by_its_columns(path):
    headers = list(ingest.read_table_file(path, nrows=1).columns)
    assert presets.recognise(headers)[0] == ROLES[path]


def test_an_opportunity_file_is_never_taken_for_its_history():
    # OpportunityFieldHistory has OpportunityId and CreatedDate too; the Opportunity export has a Name.
    hits = presets.recognise(["Id", "OpportunityId", "CreatedDate", "Field", "OldValue", "NewValue"])
    assert hits == [("salesforce", "field_history")]
    assert ("salesforce", "history") not in presets.recognise(["Id", "Name", "StageName", "CloseDate", "CreatedDate",
                                                               "Amount", "Probability"])


def test_files_of_another_shape_are_named_and_left_to_the_assistant():
    det = presets.detect_folder(FIXTURES / "presets")
    # The Salesforce pair takes the most files; the HubSpot contacts files are a second export.
    assert det.preset == "salesforce" and set(det.files) == {"opportunities", "history"}
    left = dict(det.left_out)
    assert "recognised as HubSpot contacts export" in left["hubspot_contacts.csv"]
    det = presets.detect_folder(FIXTURES / "import")      # a CRM export with its own column names
    assert det.preset is None
    assert all("mapping assistant" in why for _, why in det.left_out)


def test_canonical_files_import_as_they_are(tmp_path):
    det = presets.detect_folder(ROOT / "data" / "templates")
    assert det.preset == "canonical" and set(det.files) == {"leads", "lead_events", "opportunities",
                                                            "opportunity_events"}
    con = store.connect(tmp_path / "c.duckdb")
    result = presets.import_detected(con, det)
    assert result.rows["leads"]["loaded"] > 0


@pytest.mark.parametrize("name", list(PUBLIC))
def test_public_data_sets_detect_to_their_preset_with_the_same_figures(tmp_path, name):
    folder = _need_datasets(name)
    det = presets.detect_folder(folder)
    assert det.preset == name
    a = store.connect(tmp_path / "preset.duckdb")
    presets.import_preset(a, name, DATASETS)
    b = store.connect(tmp_path / "detected.duckdb")
    presets.import_detected(b, det)
    for q in ("SELECT count(*) FROM leads", "SELECT count(*) FROM lead_events", "SELECT count(*) FROM opportunities",
              "SELECT count(*), sum(amount) FROM opportunity_events"):
        assert a.execute(q).fetchall() == b.execute(q).fetchall(), q
    if name != "maven_crm":
        assert conversion.stage_conversion(a).equals(conversion.stage_conversion(b))
    if name != "x_education":
        assert forecast.weighted_forecast(a).equals(forecast.weighted_forecast(b))


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "funnel", "import", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_cli_import_dir_without_preset_says_what_it_recognised(tmp_path):
    out = _cli("--db", str(tmp_path / "cli.duckdb"), "--dir", str(CRM / "hubspot_ui"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "hubspot-crm-exports-all-deals-2025-03-10.csv: Deals export — HubSpot deals export (with contacts)." in lines
    assert any(line.startswith("Imported 6 leads, 14 lead events, 5 opportunities, 14 opportunity events") for line in lines)


def test_cli_import_dir_of_unknown_files_fails_with_one_sentence(tmp_path):
    out = _cli("--db", str(tmp_path / "cli.duckdb"), "--dir", str(FIXTURES / "import"))
    assert out.returncode == 2
    assert "None of the files is a known export" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


def test_mapping_assistant_guesses_api_style_columns():
    assert guess_mapping(["OppID", "StageName", "CreatedDate", "Amount", "CloseDate"], "opportunity_events") == {
        "opportunity_id": "OppID", "stage": "StageName", "entered_at": "CreatedDate", "amount": "Amount",
        "close_date": "CloseDate"}
    got = guess_mapping(["Opportunity_ID__c", "CreatedDate", "Amount", "CloseDate", "OwnerId", "AccountId"],
                        "opportunities")
    assert got["opportunity_id"] == "Opportunity_ID__c" and got["owner"] == "OwnerId" and got["account"] == "AccountId"
    # Labels still win where they are there.
    assert guess_mapping(["Opportunity ID", "Stage", "Created Date"], "opportunity_events")["stage"] == "Stage"


# ---------------------------------------------------------------------------------------------
# Every page on each new shape, imported through auto-detection

SHAPES = {"salesforce_api": CRM / "salesforce_api", "salesforce_uk": CRM / "salesforce_uk_report",
          "hubspot_ui": CRM / "hubspot_ui", "hubspot_api": CRM / "hubspot_api"}
# (shape, page) → a phrase the page must say about what this shape lacks or how it was read.
SAYS = {
    ("salesforce_uk", "conversion.py"): "This data has no leads",
    ("salesforce_uk", "forecast.py"): "OpportunityFieldHistory",
    ("salesforce_api", "forecast.py"): "has no amount anywhere in the export",
    ("salesforce_api", "conversion.py"): "LeadHistory",
    ("hubspot_ui", "rejections.py"): "Lead Status",
    ("hubspot_ui", "forecast.py"): "both the won and the lost stage",
    ("hubspot_api", "scoring.py"): "This data has no leads",
    ("hubspot_api", "data.py"): "A deals export has no contacts",
}


def _blank(at) -> list[str]:
    """blank_charts, reading a Sankey's numbers where it keeps them (link.value)."""
    import json
    drawn = set()
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        if any(t.get("type") == "sankey" and any(v for v in t.get("link", {}).get("value", []) if v)
               for t in spec.get("data", [])):
            drawn.add(el.proto.id.rsplit("-", 1)[-1])
    return [k for k in blank_charts(at) if k not in drawn]


@pytest.fixture(scope="module")
def shape_db(tmp_path_factory):
    built: dict[str, Path] = {}

    def _get(shape: str) -> Path:
        if shape not in built:
            path = tmp_path_factory.mktemp(shape) / f"{shape}.duckdb"
            con = store.connect(path)
            presets.import_detected(con, presets.detect_folder(SHAPES[shape]))
            con.close()
            built[shape] = path
        return built[shape]
    return _get


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_page_runs_on_each_new_shape(shape_db, shape, page):
    at = run_app(shape_db(shape), f"pages/{page}")
    assert_clean(at)
    phrase = SAYS.get((shape, page))
    if phrase:
        assert phrase in _said(at), f"{page} on {shape} does not say “{phrase}”"
    assert not _blank(at), f"{page} on {shape}: empty chart(s) without a word why: {_blank(at)}"
