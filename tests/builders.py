"""Build tiny hand-made databases for golden tests (rows go straight into the canonical tables)."""
from __future__ import annotations

from datetime import date, datetime

from funnel import store


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


def build_db(path, *, leads=(), lead_events=(), opportunities=(), opportunity_events=(),
             attributes: dict[str, str] | None = None):
    """leads: (lead_id, created_at, channel, segment, sdr, ae, **attrs as dict or nothing)
    lead_events: (lead_id, stage, entered_at[, actor, reason]) in input order
    opportunities: (opportunity_id, lead_id, created_at, amount, close_date[, owner])
    opportunity_events: (opportunity_id, stage, entered_at[, amount, close_date])"""
    con = store.connect(path)
    for name, dtype in (attributes or {}).items():
        con.execute(f"ALTER TABLE leads ADD COLUMN IF NOT EXISTS {store.quote_ident(name)} {dtype}")
    for row in leads:
        lead_id, created, channel, segment, sdr, ae, *rest = row
        attrs = rest[0] if rest else {}
        cols = ["lead_id", "created_at", "channel", "segment", "sdr", "ae", *attrs]
        vals = [lead_id, ts(created), channel, segment, sdr, ae, *attrs.values()]
        con.execute(f"INSERT INTO leads ({', '.join(store.quote_ident(c) for c in cols)}) "
                    f"VALUES ({', '.join('?' for _ in vals)})", vals)
    for seq, row in enumerate(lead_events, start=1):
        lead_id, stage, entered, *rest = row
        actor = rest[0] if len(rest) > 0 else None
        reason = rest[1] if len(rest) > 1 else None
        con.execute("INSERT INTO lead_events VALUES (?, ?, ?, ?, ?, ?)", [lead_id, stage, ts(entered), actor, reason, seq])
    for row in opportunities:
        oid, lead_id, created, amount, close, *rest = row
        owner = rest[0] if rest else None
        con.execute("INSERT INTO opportunities (opportunity_id, lead_id, created_at, amount, close_date, owner) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [oid, lead_id, ts(created), amount, date.fromisoformat(close), owner])
    for seq, row in enumerate(opportunity_events, start=1):
        oid, stage, entered, *rest = row
        amount = rest[0] if len(rest) > 0 else None
        close = date.fromisoformat(rest[1]) if len(rest) > 1 and rest[1] else None
        con.execute("INSERT INTO opportunity_events VALUES (?, ?, ?, ?, ?, ?)", [oid, stage, ts(entered), amount, close, seq])
    store.refresh_derived(con)
    store.bump_data_version(con)
    return con
