"""Importing files: every bad-input class of the data contract, formats, mapping, skip and replace.

Each failure test first imports the templates, then checks that a bad file is refused with a
message naming file, row, column and value, and that the database is exactly as before.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from funnel import ingest, store
from funnel.errors import ImportValidationError

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "data" / "templates"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
TABLES = ("leads", "lead_events", "opportunities", "opportunity_events")


def template_files() -> dict[str, Path]:
    return {t: TEMPLATES / f"{t}.csv" for t in TABLES}


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_csv(path: Path, header, rows, *, encoding="utf-8", delimiter=",") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def snapshot(con) -> dict:
    """Everything an import may touch, except the import_runs log."""
    snap = {}
    for t in TABLES + ("rejected_rows", "lead_visits", "lead_reach"):
        try:
            snap[t] = sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
        except Exception:
            snap[t] = None
    snap["leads_columns"] = store.lead_attribute_columns(con)
    snap["data_version"] = store.data_version(con)
    return snap


@pytest.fixture
def con(tmp_path):
    c = store.connect(tmp_path / "t.duckdb")
    yield c
    c.close()


@pytest.fixture
def loaded(con):
    """A database holding the templates."""
    ingest.import_files(con, **template_files())
    return con


def refused(con, **files) -> ImportValidationError:
    before = snapshot(con)
    runs_before = con.execute("SELECT count(*) FROM import_runs").fetchone()[0]
    with pytest.raises(ImportValidationError) as ei:
        ingest.import_files(con, **files)
    assert snapshot(con) == before, "a refused import must leave the database unchanged"
    last = con.execute("SELECT status, message FROM import_runs ORDER BY run_id DESC LIMIT 1").fetchone()
    assert con.execute("SELECT count(*) FROM import_runs").fetchone()[0] == runs_before + 1
    assert last[0] == "failed" and last[1]
    return ei.value


# ---------------------------------------------------------------------------------------------
# The templates


def test_templates_import_cleanly(con):
    res = ingest.import_files(con, **template_files())
    assert res.problems == [] and res.problem_count == 0
    for t in TABLES:
        n = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        assert res.rows[t] == {"read": n, "loaded": n, "rejected": 0} and n >= 5
    cols = store.lead_attribute_columns(con)
    assert cols["page_views"] == "BIGINT" and cols["demo_requested"] == "BOOLEAN"
    assert cols["webinar_attended"] == "BOOLEAN"
    assert con.execute("SELECT status, mode, source FROM import_runs").fetchall() == [("committed", "replace", "files")]
    assert "Imported 8 leads" in res.message
    assert con.execute("SELECT count(*) FROM lead_visits").fetchone()[0] == res.rows["lead_events"]["loaded"]
    # event_seq is the row's position in its file
    assert con.execute("SELECT min(event_seq), max(event_seq) FROM lead_events").fetchone() == (1, 31)
    # Latin characters in UTF-8 survive
    assert con.execute("SELECT account FROM opportunities WHERE opportunity_id = 'O-2005'").fetchone()[0] \
        == "Société Générale Conseil"
    # the example mapping is valid
    assert ingest.validate_mapping(TEMPLATES / "mapping_example.toml") == []


def test_reimport_is_idempotent(loaded):
    before = snapshot(loaded)
    v = store.data_version(loaded)
    res = ingest.import_files(loaded, **template_files())
    after = snapshot(loaded)
    assert store.data_version(loaded) == v + 1
    before.pop("data_version"), after.pop("data_version")
    assert after == before
    assert res.rows["lead_events"]["loaded"] == 31


# ---------------------------------------------------------------------------------------------
# Bad input: refused with a precise message, database unchanged


def test_missing_required_column(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "leads.csv")
    i = header.index("created_at")
    header[i] = "Create Date"
    f = write_csv(tmp_path / "leads.csv", header, rows)
    err = refused(loaded, leads=f)
    (p,) = [p for p in err.problems if p.code == "missing_column"]
    assert p.column == "created_at" and p.file == "leads.csv" and p.row is None
    msg = str(err)
    assert "leads.csv" in msg and "created_at" in msg and '"Create Date"' in msg
    assert 'created_at = "Create Date"' in msg  # the mapping fix is spelled out


def test_missing_required_column_is_fatal_even_when_skipping(loaded, tmp_path):
    f = write_csv(tmp_path / "lead_events.csv", ["lead_id", "entered_at"], [["L-1001", "2025-01-06"]])
    before = snapshot(loaded)
    with pytest.raises(ImportValidationError) as ei:
        ingest.import_files(loaded, lead_events=f, skip_bad_rows=True)
    assert ei.value.problems[0].code == "missing_column" and ei.value.problems[0].column == "stage"
    assert snapshot(loaded) == before


def test_unparseable_timestamp(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "leads.csv")
    rows[2][header.index("created_at")] = "31/02/2025"
    f = write_csv(tmp_path / "leads.csv", header, rows)
    err = refused(loaded, leads=f)
    p = err.problems[0]
    assert (p.code, p.file, p.table, p.row, p.column, p.value) == \
        ("bad_timestamp", "leads.csv", "leads", 3, "created_at", "31/02/2025")
    assert str(p).startswith('leads.csv, row 3 (line 4), column created_at: "31/02/2025" is not a date')
    assert "timestamp_formats" in str(p)
    assert 'leads.csv, row 3 (line 4), column created_at: "31/02/2025"' in str(err)
    # the stored events of that lead would be orphaned by the replace: named too, after it
    assert f"{len(err.problems)} problems found" in str(err)
    assert {q.file for q in err.problems[1:]} == {"(database)"} and "was rejected in leads.csv" in err.problems[1].reason


def test_negative_amount(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "opportunities.csv")
    rows[1][header.index("amount")] = "-36000"
    f = write_csv(tmp_path / "opportunities.csv", header, rows)
    err = refused(loaded, opportunities=f)
    p = err.problems[0]
    assert (p.code, p.row, p.column, p.value) == ("negative_amount", 2, "amount", "-36000")
    assert 'opportunities.csv, row 2 (line 3), column amount: "-36000" is negative' in str(err)


def test_bad_number(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "opportunities.csv")
    rows[0][header.index("amount")] = "84,000.00"
    f = write_csv(tmp_path / "opportunities.csv", header, rows)
    err = refused(loaded, opportunities=f)
    p = err.problems[0]
    assert (p.code, p.row, p.column, p.value) == ("bad_number", 1, "amount", "84,000.00")
    assert 'opportunities.csv, row 1 (line 2), column amount: "84,000.00" is not a number' in str(err)


def test_unknown_stage(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "lead_events.csv")
    rows[3][header.index("stage")] = "Qualified Lead"
    f = write_csv(tmp_path / "lead_events.csv", header, rows)
    err = refused(loaded, lead_events=f)
    p = err.problems[0]
    assert (p.code, p.row, p.column, p.value) == ("unknown_stage", 4, "stage", "Qualified Lead")
    assert 'lead_events.csv, row 4 (line 5), column stage: "Qualified Lead" is not a configured lead stage' in str(err)
    assert "[stages.lead]" in p.reason


def test_opportunity_stage_is_not_a_lead_stage(loaded, tmp_path):
    f = write_csv(tmp_path / "lead_events.csv", ["lead_id", "stage", "entered_at"],
                  [["L-1001", "Lead", "2025-01-06"], ["L-1001", "Closed Won", "2025-01-07"]])
    err = refused(loaded, lead_events=f)
    assert [(p.code, p.row, p.value) for p in err.problems] == [("unknown_stage", 2, "Closed Won")]


def test_stage_names_match_ignoring_case(loaded, tmp_path):
    f = write_csv(tmp_path / "lead_events.csv", ["lead_id", "stage", "entered_at"],
                  [["L-1001", "lead", "2025-01-06"], ["L-1001", " mql ", "2025-01-07"],
                   ["L-1001", "closed won", "2025-01-08"]])
    with pytest.raises(ImportValidationError):
        ingest.import_files(loaded, lead_events=f)
    f = write_csv(tmp_path / "lead_events.csv", ["lead_id", "stage", "entered_at"],
                  [["L-1001", "lead", "2025-01-06"], ["L-1001", " mql ", "2025-01-07"]])
    ingest.import_files(loaded, lead_events=f)
    assert loaded.execute("SELECT stage FROM lead_events ORDER BY event_seq").fetchall() == [("Lead",), ("MQL",)]


def test_orphan_event(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "lead_events.csv")
    rows[4][header.index("lead_id")] = "L-9999"
    f = write_csv(tmp_path / "lead_events.csv", header, rows)
    err = refused(loaded, lead_events=f)
    p = err.problems[0]
    assert (p.code, p.row, p.column, p.value) == ("unknown_lead", 5, "lead_id", "L-9999")
    assert 'lead_events.csv, row 5 (line 6), column lead_id: "L-9999" is not a lead' in str(err)


def test_orphan_opportunity_event(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "opportunity_events.csv")
    rows[0][0] = "O-404"
    f = write_csv(tmp_path / "opportunity_events.csv", header, rows)
    err = refused(loaded, opportunity_events=f)
    assert (err.problems[0].code, err.problems[0].row, err.problems[0].value) == ("unknown_opportunity", 1, "O-404")


def test_replacing_leads_checks_stored_events(loaded, tmp_path):
    """Leads replaced without lead_events: stored events of a vanished lead are problems."""
    header, rows = read_rows(TEMPLATES / "leads.csv")
    f = write_csv(tmp_path / "leads.csv", header, [r for r in rows if r[0] != "L-1006"])
    err = refused(loaded, leads=f)
    probs = err.problems
    assert {p.file for p in probs} == {"(database)"} and {p.table for p in probs} == {"lead_events"}
    assert {p.value for p in probs} == {"L-1006"} and len(probs) == 2
    assert probs[0].code == "unknown_lead"
    assert 'lead_events already in the database (event_seq 24), column lead_id: "L-1006"' in str(err)
    # with skip_bad_rows the stored events move to rejected_rows
    res = ingest.import_files(loaded, leads=f, skip_bad_rows=True)
    assert res.rows["lead_events"]["removed_stored"] == 2
    assert loaded.execute("SELECT count(*) FROM lead_events WHERE lead_id = 'L-1006'").fetchone()[0] == 0
    raw = loaded.execute("SELECT raw_json FROM rejected_rows WHERE file = '(database)'").fetchall()
    assert len(raw) == 2 and json.loads(raw[0][0])["lead_id"] == "L-1006"


def test_duplicate_id(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "leads.csv")
    dup = list(rows[1])
    rows.append(dup)  # row 9 repeats row 2's lead_id
    f = write_csv(tmp_path / "leads.csv", header, rows)
    err = refused(loaded, leads=f)
    p = err.problems[0]
    assert (p.code, p.row, p.column, p.value) == ("duplicate_id", 9, "lead_id", "L-1002")
    assert 'leads.csv, row 9 (line 10), column lead_id: "L-1002" appears more than once; row 2 already has it' \
        in str(err)


def test_missing_required_value(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "opportunities.csv")
    rows[2][header.index("close_date")] = "   "
    f = write_csv(tmp_path / "opportunities.csv", header, rows)
    err = refused(loaded, opportunities=f)
    p = err.problems[0]
    assert (p.code, p.row, p.column) == ("missing_value", 3, "close_date")
    assert "opportunities.csv, row 3 (line 4), column close_date: the value is empty" in str(err)


@pytest.mark.parametrize("content", [b"", b"lead_id,created_at\n", b"lead_id,created_at\r\n\r\n,\r\n"])
def test_empty_file(loaded, tmp_path, content):
    f = tmp_path / "leads.csv"
    f.write_bytes(content)
    err = refused(loaded, leads=f)
    assert [p.code for p in err.problems] == ["empty_file"]
    assert "leads.csv" in str(err)
    with pytest.raises(ImportValidationError):
        ingest.import_files(loaded, leads=f, skip_bad_rows=True)


def test_unreadable_file(loaded, tmp_path):
    f = tmp_path / "leads.xlsx"
    f.write_bytes(b"this is not a workbook")
    err = refused(loaded, leads=f)
    assert err.problems[0].code == "unreadable_file" and "leads.xlsx" in str(err)
    f = tmp_path / "leads.xls"
    f.write_bytes(b"old excel")
    assert refused(loaded, leads=f).problems[0].code == "unreadable_file"
    f = write_csv(tmp_path / "leads.csv", ["lead_id", "created_at"], [["L1", "2025-01-01", "extra", "more"]])
    err = refused(loaded, leads=f)
    assert err.problems[0].code == "unreadable_file"


def test_many_problems_message_counts_them(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "leads.csv")
    for r in rows:
        r[header.index("created_at")] = "soon"
    f = write_csv(tmp_path / "leads.csv", header, rows)
    err = refused(loaded, leads=f)
    # 8 bad leads, and the 31 stored events those leads would leave without a lead
    assert [p.file for p in err.problems].count("leads.csv") == 8 and len(err.problems) == 39
    assert "Nothing was imported: 39 problems found." in str(err) and "(and 36 more problems)" in str(err)
    assert all(str(p).rstrip(".") in str(err) for p in err.problems[:3])


# ---------------------------------------------------------------------------------------------
# Formats and encodings


def test_utf8_bom_and_semicolons(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "leads.csv")
    f = write_csv(tmp_path / "leads.csv", header, rows, encoding="utf-8-sig", delimiter=";")
    assert f.read_bytes().startswith(b"\xef\xbb\xbf")
    res = ingest.import_files(loaded, leads=f)
    assert res.rows["leads"]["loaded"] == 8
    assert "lead_id" in store.lead_attribute_columns(loaded)


def test_latin1_file(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "opportunities.csv")
    rows[0][header.index("account")] = "Société Générale"
    f = write_csv(tmp_path / "opportunities.csv", header, rows, encoding="latin-1")
    with pytest.raises(UnicodeDecodeError):
        f.read_bytes().decode("utf-8")
    res = ingest.import_files(loaded, opportunities=f)
    assert res.problems == []
    assert loaded.execute("SELECT account FROM opportunities WHERE opportunity_id = 'O-2001'").fetchone()[0] \
        == "Société Générale"


def test_tab_separated_and_uploaded_object(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "lead_events.csv")
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t").writerows([header] + rows)

    class Upload:  # what Streamlit's file_uploader hands over
        name = "events export.tsv"

        def getvalue(self):
            return buf.getvalue().encode("utf-8")

    res = ingest.import_files(loaded, lead_events=Upload())
    assert res.rows["lead_events"]["loaded"] == len(rows)
    res = ingest.import_files(loaded, lead_events=("events.csv", buf.getvalue().replace("\t", ",").encode()))
    assert res.rows["lead_events"]["loaded"] == len(rows)


def test_odd_file_names_and_skipped_parent(con, tmp_path):
    leads = ("O'Brien leads (1).csv", b"lead_id,created_at\nA,2025-01-01\nB,not a date\n")
    events = ("d\u00e9j\u00e0 'vu'.csv", "lead_id,stage,entered_at\nA,Lead,2025-01-01\nB,Lead,2025-01-02\n".encode())
    res = ingest.import_files(con, leads=leads, lead_events=events, skip_bad_rows=True)
    assert res.rows["leads"]["rejected"] == 1 and res.rows["lead_events"]["rejected"] == 1
    p = [p for p in res.problems if p.table == "lead_events"][0]
    assert p.file == "d\u00e9j\u00e0 'vu'.csv" and p.code == "unknown_lead"
    assert "is in O'Brien leads (1).csv (row 2) but that row was rejected" in p.reason


def test_xlsx(loaded, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    header, rows = read_rows(TEMPLATES / "leads.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        cells = list(r)
        cells[1] = dt.datetime.fromisoformat(r[1])          # a real Excel date
        cells[6] = int(r[6])                                # numbers as numbers
        cells[10] = int(r[10])
        ws.append(cells)
    f = tmp_path / "leads.xlsx"
    wb.save(f)
    res = ingest.import_files(loaded, leads=f)
    assert res.rows["leads"] == {"read": 8, "loaded": 8, "rejected": 0}
    got = loaded.execute("SELECT created_at, company_size, page_views FROM leads WHERE lead_id = 'L-1001'").fetchone()
    assert got == (dt.datetime(2025, 1, 6), 1200, 14)

    ws.cell(row=4, column=2, value="next week")  # sheet row 4 = data row 3
    wb.save(f)
    err = refused(loaded, leads=f)
    p = err.problems[0]
    assert (p.code, p.row, p.value) == ("bad_timestamp", 3, "next week")
    assert 'leads.xlsx, row 3 (sheet row 4), column created_at: "next week" is not a date' in str(err)


def test_parquet(loaded, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    header, rows = read_rows(TEMPLATES / "opportunities.csv")
    cols = {h: [r[i] or None for r in rows] for i, h in enumerate(header)}
    table = pa.table({
        "opportunity_id": cols["opportunity_id"],
        "lead_id": cols["lead_id"],
        "account": cols["account"],
        "created_at": pa.array([dt.datetime.fromisoformat(v) for v in cols["created_at"]], pa.timestamp("us")),
        "amount": pa.array([float(v) for v in cols["amount"]], pa.float64()),
        "close_date": pa.array([dt.date.fromisoformat(v) for v in cols["close_date"]], pa.date32()),
        "owner": cols["owner"], "segment": cols["segment"], "product": cols["product"],
    })
    f = tmp_path / "opportunities.parquet"
    pq.write_table(table, f)
    res = ingest.import_files(loaded, opportunities=f)
    assert res.problems == [] and res.rows["opportunities"]["loaded"] == 5
    assert loaded.execute("SELECT amount, close_date FROM opportunities WHERE opportunity_id = 'O-2005'").fetchone() \
        == (18500.5, dt.date(2025, 4, 10))

    amounts = table.column("amount").to_pylist()
    amounts[3] = -1.5
    bad = table.set_column(table.schema.get_field_index("amount"), "amount", pa.array(amounts, pa.float64()))
    pq.write_table(bad, f)
    err = refused(loaded, opportunities=f)
    assert (err.problems[0].code, err.problems[0].row, err.problems[0].value) == ("negative_amount", 4, "-1.5")
    assert 'opportunities.parquet, row 4, column amount: "-1.5" is negative' in str(err)


# ---------------------------------------------------------------------------------------------
# Skipping bad rows


def test_skip_bad_rows_stores_rejects_and_loads_the_rest(loaded, tmp_path):
    header, rows = read_rows(TEMPLATES / "leads.csv")
    rows[2][header.index("created_at")] = "yesterday"         # L-1003 is bad
    leads = write_csv(tmp_path / "leads.csv", header, rows)
    eh, erows = read_rows(TEMPLATES / "lead_events.csv")
    erows[0][eh.index("stage")] = "Nope"                       # row 1 bad stage
    events = write_csv(tmp_path / "lead_events.csv", eh, erows)
    n_l1003 = sum(1 for r in erows if r[0] == "L-1003")

    res = ingest.import_files(loaded, leads=leads, lead_events=events, skip_bad_rows=True)
    assert res.rows["leads"] == {"read": 8, "loaded": 7, "rejected": 1}
    assert res.rows["lead_events"] == {"read": 31, "loaded": 31 - 1 - n_l1003, "rejected": 1 + n_l1003}
    assert "2 leads" not in res.message and "skipped" in res.message and "rejected rows" in res.message
    assert res.message.startswith("Imported 7 leads, ")
    assert loaded.execute("SELECT count(*) FROM leads").fetchone()[0] == 7
    assert loaded.execute("SELECT count(*) FROM lead_events WHERE lead_id = 'L-1003'").fetchone()[0] == 0

    rej = loaded.execute("SELECT run_id, file, table_name, row_number, column_name, value, reason, raw_json "
                         "FROM rejected_rows ORDER BY table_name, row_number").fetchall()
    assert {r[0] for r in rej} == {res.run_id}
    lead_rej = [r for r in rej if r[2] == "leads"]
    assert len(lead_rej) == 1
    _, file, _, row, col, value, reason, raw = lead_rej[0]
    assert (file, row, col, value) == ("leads.csv", 3, "created_at", "yesterday") and "is not a date" in reason
    assert json.loads(raw)["lead_id"] == "L-1003" and json.loads(raw)["page_views"] == "4"
    orphans = [r for r in rej if r[2] == "lead_events" and r[5] == "L-1003"]
    assert len(orphans) == n_l1003 and all("was rejected" in r[6] for r in orphans)
    assert any(r[4] == "stage" and r[5] == "Nope" for r in rej)
    # event_seq keeps the file position even with rows left out
    assert loaded.execute("SELECT min(event_seq) FROM lead_events").fetchone()[0] == 2
    run = loaded.execute("SELECT status, rows_json FROM import_runs WHERE run_id = ?", [res.run_id]).fetchone()
    assert run[0] == "committed" and json.loads(run[1])["leads"]["rejected"] == 1


# ---------------------------------------------------------------------------------------------
# Mapping, timestamps, numbers, attributes


def test_mapping_renames_columns_maps_stages_and_parses_formats(con):
    res = ingest.import_files(con, leads=FIXTURES / "crm_leads.csv", lead_events=FIXTURES / "crm_lead_events.csv",
                              mapping=FIXTURES / "crm_mapping.toml")
    assert res.problems == []
    leads = con.execute("SELECT lead_id, created_at, channel, sdr, page_views, asked_for_demo FROM leads "
                        "ORDER BY lead_id").fetchall()
    assert leads[0] == ("P-1", dt.datetime(2025, 1, 6), "paid_search", "Maya Chen", 12, True)
    assert leads[2][1] == dt.datetime(2025, 1, 15) and leads[2][5] is False
    ev = con.execute("SELECT lead_id, stage, entered_at, actor FROM lead_events ORDER BY event_seq").fetchall()
    assert [e[1] for e in ev] == ["Lead", "MQL", "SAL", "Lead", "Disqualified", "Lead"]
    assert ev[1][2] == dt.datetime(2025, 1, 7, 10, 0)
    assert ev[3][2] == dt.datetime(2025, 1, 8, 8, 0)          # ISO still accepted beside the format
    assert ev[4][2] == dt.datetime(2025, 1, 9, 10, 0)
    # the same mapping as a dict
    mapping = {"columns": {"leads": {"lead_id": "Prospect ID", "created_at": "Create Date"}},
               "timestamp_formats": {"*": "%d/%m/%Y"}}
    res = ingest.import_files(con, leads=FIXTURES / "crm_leads.csv", mapping=mapping)
    assert res.rows["leads"]["loaded"] == 3
    assert "lead_source" in store.lead_attribute_columns(con)


def test_mapping_naming_a_missing_column(loaded):
    err = refused(loaded, leads=TEMPLATES / "leads.csv",
                  **{"mapping": {"columns": {"leads": {"created_at": "Create Date"}}}})
    p = err.problems[0]
    assert p.code == "unknown_column_mapping" and '"Create Date"' in str(err) and "leads.csv" in str(err)


def test_invalid_mapping(loaded):
    err = refused(loaded, leads=TEMPLATES / "leads.csv", mapping={"columns": {"deals": {"x": "y"}}})
    assert err.problems[0].code == "invalid_mapping" and "deals" in str(err)
    assert ingest.validate_mapping({"options": {"decimal": ";"}})
    assert ingest.validate_mapping({"timestamp_formats": {"created_at": "dd/mm/yyyy"}})
    assert ingest.validate_mapping({"stages": {"lead": {"New": "Lead"}}}) == []


def test_timezone_offsets_convert_to_utc(con, tmp_path):
    f = write_csv(tmp_path / "leads.csv", ["lead_id", "created_at"], [
        ["A", "2025-01-06T10:00:00+02:00"], ["B", "2025-01-06 10:00:00Z"], ["C", "2025-01-06T10:00:00.250-05:30"],
        ["D", "2025-01-06T00:30:00+0100"], ["E", "2025-01-06"], ["F", "2025-01-06 10:00"]])
    ingest.import_files(con, leads=f)
    got = dict(con.execute("SELECT lead_id, created_at FROM leads").fetchall())
    assert got == {"A": dt.datetime(2025, 1, 6, 8), "B": dt.datetime(2025, 1, 6, 10),
                   "C": dt.datetime(2025, 1, 6, 15, 30, 0, 250000), "D": dt.datetime(2025, 1, 5, 23, 30),
                   "E": dt.datetime(2025, 1, 6), "F": dt.datetime(2025, 1, 6, 10)}


def test_decimal_comma_option(con, tmp_path):
    f = write_csv(tmp_path / "opportunities.csv", ["opportunity_id", "created_at", "amount", "close_date"],
                  [["O1", "2025-01-01", "1.234,50", "2025-02-01"], ["O2", "2025-01-01", "99", "2025-02-01"]],
                  delimiter=";")
    ingest.import_files(con, opportunities=f, mapping={"options": {"decimal": ","}})
    assert dict(con.execute("SELECT opportunity_id, amount FROM opportunities").fetchall()) == {"O1": 1234.5, "O2": 99.0}


def test_attribute_types_and_replacing_leads_drops_old_attributes(loaded, tmp_path):
    f = write_csv(tmp_path / "leads.csv", ["Lead ID", "Created At", "Is Partner", "Score", "Ratio", "Note", "Flag01"],
                  [["L-1001", "2025-01-01", "Yes", "10", "0.5", "a", "1"],
                   ["L-1002", "2025-01-02", "no", "", "2", "", "0"],
                   ["L-1003", "2025-01-03", "", "-3", "1e2", "7", ""]]
                  + [[f"L-100{i}", "2025-01-04", "", "", "", "", ""] for i in range(4, 9)])
    ingest.import_files(loaded, leads=f)
    cols = store.lead_attribute_columns(loaded)
    assert {k: cols[k] for k in ("is_partner", "score", "ratio", "note", "flag01")} == \
        {"is_partner": "BOOLEAN", "score": "BIGINT", "ratio": "DOUBLE", "note": "VARCHAR", "flag01": "BIGINT"}
    assert "page_views" not in cols and set(store.LEAD_CORE_COLUMNS) <= set(cols)
    row = loaded.execute("SELECT is_partner, score, ratio, note, channel FROM leads WHERE lead_id = 'L-1003'").fetchone()
    assert row == (None, -3, 100.0, "7", None)


def test_read_table_file_and_guess_mapping(tmp_path):
    df = ingest.read_table_file(FIXTURES / "crm_lead_events.csv")
    assert list(df.columns) == ["Prospect ID", "Lead Status", "Changed On", "Changed By"]
    assert df.iloc[0].tolist() == ["P-1", "New", "01/06/2025 09:15", "system"]
    assert ingest.guess_mapping(df, "lead_events") == {
        "lead_id": "Prospect ID", "stage": "Lead Status", "entered_at": "Changed On", "actor": "Changed By"}
    opp = ingest.guess_mapping(["Deal ID", "Account Name", "Created", "Amount", "Close Date", "Owner", "Stage"],
                               "opportunities")
    assert opp == {"opportunity_id": "Deal ID", "account": "Account Name", "created_at": "Created",
                   "amount": "Amount", "close_date": "Close Date", "owner": "Owner"}
    leads = ingest.read_table_file(TEMPLATES / "leads.csv", nrows=2)
    assert len(leads) == 2 and leads.loc[1, "ae"] == "Priya Nair"
    assert ingest.guess_mapping(["Lead ID", "Create Date", "Owner"], "leads") == \
        {"lead_id": "Lead ID", "created_at": "Create Date", "sdr": "Owner"}


def test_problem_str_forms():
    p = ingest.Problem("leads.csv", "leads", 12, "created_at", "31/02/2025",
                       '"31/02/2025" is not a date. Use YYYY-MM-DD or name the format in the mapping (timestamp_formats).',
                       "bad_timestamp")
    assert str(p) == ('leads.csv, row 12 (line 13), column created_at: "31/02/2025" is not a date. '
                      'Use YYYY-MM-DD or name the format in the mapping (timestamp_formats).')
    q = ingest.Problem("crm.csv", "leads", 2, "created_at", "x", "bad.", "bad_timestamp", source_column="Create Date")
    assert str(q) == 'crm.csv, row 2 (line 3), column "Create Date" (created_at): bad.'
