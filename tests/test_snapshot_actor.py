"""A saved weekly review names the person who saved it (issue #18): the session's actor as ui sees
it — the signed-in person's e-mail, or on a local install the name $FUNNEL_USER gives — not the
account the server process runs under ("saved by root")."""
from __future__ import annotations

import getpass

import duckdb
import pytest

from conftest import assert_clean, run_app
from funnel import access


def _saved_by(db) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT saved_by FROM review_snapshots").fetchall()]
    finally:
        con.close()


def _save_review(db):
    at = run_app(db)
    assert_clean(at)
    at.button(key="save_review").click().run()
    assert_clean(at)
    return at


def test_a_review_saved_when_signed_in_names_the_signed_in_person(sample_copy, monkeypatch):
    import ui

    ed = access.Actor("Ed Editor", "editor", "ed@example.com")
    monkeypatch.setattr(ui, "sign_in_mode", lambda: "oidc")
    monkeypatch.setattr(ui, "signed_in", lambda: True)
    monkeypatch.setattr(ui, "actor", lambda: ed)
    _save_review(sample_copy)
    assert _saved_by(sample_copy) == ["ed@example.com"]
    assert getpass.getuser() not in _saved_by(sample_copy)


@pytest.mark.skipif(getpass.getuser() == "Ann Local", reason="the OS user must differ from the name set here")
def test_a_review_saved_on_a_local_install_names_the_local_user(sample_copy, monkeypatch):
    monkeypatch.setenv("FUNNEL_USER", "Ann Local")
    at = _save_review(sample_copy)
    assert _saved_by(sample_copy) == ["Ann Local"]
    # the sidebar says who that is, the same name
    assert any(t.value.startswith("Ann Local · admin") for t in at.text)
