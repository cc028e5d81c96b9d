"""Targets and teams as data: the validated import (CSV and XLSX, all-or-nothing, every bad row
named), the library write functions (each bumps the data version) and the CLI commands."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from builders import build_db
from funnel.access import Actor
from funnel import store, targets
from funnel.__main__ import main
from funnel.errors import ConfigError, ImportValidationError

OPPS = [("O1", None, "2026-05-01 09:00", 1000, "2026-06-30", "Ann"),
        ("O2", None, "2026-05-01 09:00", 2000, "2026-06-30", "Bob")]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "t.duckdb"
    build_db(path, opportunities=OPPS, opportunity_events=[("O1", "Qualify", "2026-05-01 09:00")]).close()
    return path


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_period():
    assert targets.parse_period("2026-06").start.isoformat() == "2026-06-01"
    assert targets.parse_period("2026-06").end.isoformat() == "2026-06-30"
    q = targets.parse_period(" 2024-q1 ")
    assert (q.label, q.start.isoformat(), q.end.isoformat(), len(q.months)) == ("2024-Q1", "2024-01-01", "2024-03-31", 3)
    for bad in ("2026-13", "2026-6", "2026-Q5", "June 2026", "", None, "2026-06-01"):
        with pytest.raises(ValueError):
            targets.parse_period(bad)


def test_bad_targets_file_is_refused_naming_each_row(db, tmp_path):
    con = store.connect(db)
    targets.save_targets(con, [{"period": "2026-06", "owner": "", "amount": 5}])
    f = _write(tmp_path / "bad.csv", "period,owner,amount\n2026-13,,100\n2026-06,Ann,-5\n2026-06,Bob,12k\n"
                                     "2026-Q2,Ann,10\n2026-q2,Ann,20\n")
    with pytest.raises(ImportValidationError) as e:
        targets.import_targets(con, f)
    problems = e.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("bad.csv row 1 (line 2), column period: '2026-13'")
    assert "column amount: -5 is negative" in problems[1] and "row 2 (line 3)" in problems[1]
    assert "column amount: '12k' is not a number" in problems[2]
    assert "row 5 (line 6), columns period+owner" in problems[3] and "row 4" in problems[3]   # 2026-q2 = 2026-Q2
    # nothing was lost: the stored target is still there
    assert targets.stored_targets(con).to_dict("records") == [{"period": "2026-06", "owner": "", "amount": 5.0}]


def test_empty_amount_is_named_as_empty(db, tmp_path):
    con = store.connect(db)
    f = _write(tmp_path / "e.csv", "period,owner,amount\n2026-06,Ann,\n")
    with pytest.raises(ImportValidationError) as e:
        targets.import_targets(con, f)
    assert e.value.problems == ["e.csv row 1 (line 2), column amount: is empty — write the target as plain digits, "
                                "e.g. 250000 (no currency sign or thousands separator)."]


def test_missing_column_is_refused(db, tmp_path):
    con = store.connect(db)
    f = _write(tmp_path / "t.csv", "period,amount\n2026-06,100\n")
    with pytest.raises(ImportValidationError, match="no column 'owner'"):
        targets.import_targets(con, f)


def test_unknown_owner_is_a_warning_and_teams_count_as_known(db, tmp_path):
    con = store.connect(db)
    v0 = store.data_version(con)
    t = _write(tmp_path / "t.csv", "Period,Owner,Amount\n2026-06,,100\n2026-06,North,50\n2026-06,Zed,1\n2026-Q2,Ann,0\n")
    teams = _write(tmp_path / "teams.csv", "owner,team\nAnn,North\nBob,North\n")
    res = targets.import_targets(con, t, teams)
    assert (res.targets, res.teams) == (4, 2)
    assert len(res.warnings) == 1 and "'Zed'" in res.warnings[0] and "row 3 (line 4)" in res.warnings[0]
    assert store.data_version(con) == v0 + 1
    assert list(targets.stored_targets(con)["owner"]) == ["", "North", "Zed", "Ann"]
    assert set(targets.stored_teams(con)["owner"]) == {"Ann", "Bob"}


def test_xlsx_targets(db, tmp_path):
    con = store.connect(db)
    path = tmp_path / "t.xlsx"
    pd.DataFrame({"period": ["2026-06", "2026-Q3"], "owner": ["Ann", ""], "amount": [100, -1]}).to_excel(path, index=False)
    with pytest.raises(ImportValidationError) as e:
        targets.import_targets(con, path)
    assert e.value.problems[0].startswith("t.xlsx row 2 (sheet row 3), column amount")


def test_teams_file_refuses_an_owner_in_two_teams(db, tmp_path):
    con = store.connect(db)
    teams = _write(tmp_path / "teams.csv", "owner,team\nAnn,North\nAnn,South\nBob,\n")
    with pytest.raises(ImportValidationError) as e:
        targets.import_targets(con, None, teams)
    assert len(e.value.problems) == 2
    assert "'Ann' is already in a team on row 1" in e.value.problems[0]
    assert "column team" in e.value.problems[1]


def test_save_functions_bump_the_version_and_are_all_or_nothing(db):
    con = store.connect(db)
    v0 = store.data_version(con)
    targets.save_targets(con, [{"period": "2026-06", "owner": "Ann", "amount": 10}], actor=Actor("manager", "editor"))
    assert store.data_version(con) == v0 + 1
    with pytest.raises(ConfigError, match="not saved"):
        targets.save_targets(con, [{"period": "2026-07", "owner": "Ann", "amount": 10},
                                   {"period": "soon", "owner": "Ann", "amount": 10}], actor=Actor("manager", "editor"))
    assert store.data_version(con) == v0 + 1
    assert len(targets.stored_targets(con)) == 1
    targets.save_teams(con, [{"owner": "Ann", "team": "North"}], actor=Actor("manager", "editor"))
    assert store.data_version(con) == v0 + 2


def test_cli_import_and_report_targets(db, tmp_path, capsys):
    t = _write(tmp_path / "t.csv", "period,owner,amount\n2026-06,,5000\n2026-06,Ann,500\n")
    assert main(["import", "--db", str(db), "--targets", str(t)]) == 0
    assert "Imported 2 targets" in capsys.readouterr().out
    other = _write(tmp_path / "o.csv", "period,owner,amount\n2026-06,Bob,700\n")
    assert main(["report", "--db", str(db), "--json", "--as-of", "2026-06-15", "--targets", str(other)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [(r["period"], r["owner"], r["amount"]) for r in rep["targets"]] == [("2026-06", "Bob", 700.0)]
    assert [p["owner"] for p in rep["plan"]] == ["Bob"]
    bad = _write(tmp_path / "b.csv", "period,owner,amount\n2026-06,,x\n")
    assert main(["import", "--db", str(db), "--targets", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "b.csv row 1 (line 2), column amount: 'x'" in err and len(err.strip().splitlines()) == 1
    con = store.connect(db)
    assert len(targets.stored_targets(con)) == 2          # the failed import changed nothing
