-- first_won: per opportunity in scope, its first won event before $as_end and the deal's amount
-- as of that event — the "actual" a backtest compares with (metrics.md §4, Backtest).
-- Amount as of the won event = the latest non-null amount among its events up to and including
-- that event (event order: entered_at, then input order), else the opportunities row.
-- Expects CTE opps in scope; binds $as_end (exclusive end of the as-of day).
WITH won_stages AS (
    SELECT stage FROM stage_config WHERE funnel = 'opportunity' AND kind = 'won'
),
ev AS (
    SELECT e.opportunity_id, e.stage, e.entered_at, e.amount,
           CAST(epoch_us(e.entered_at) AS HUGEINT) * 4294967296 + e.event_seq AS event_key
    FROM opportunity_events e
    WHERE e.entered_at < $as_end
),
fw AS (
    SELECT ev.opportunity_id, min(ev.event_key) AS won_key, min(ev.entered_at) AS won_at
    FROM ev JOIN won_stages w ON w.stage = ev.stage
    GROUP BY ev.opportunity_id
),
amt AS (
    SELECT fw.opportunity_id, fw.won_at,
           arg_max(ev.amount, ev.event_key) FILTER (WHERE ev.amount IS NOT NULL) AS amount
    FROM fw JOIN ev ON ev.opportunity_id = fw.opportunity_id AND ev.event_key <= fw.won_key
    GROUP BY fw.opportunity_id, fw.won_at
)
SELECT amt.opportunity_id, amt.won_at, coalesce(amt.amount, o.amount) AS amount
FROM amt JOIN opps o ON o.opportunity_id = amt.opportunity_id
WHERE o.created_at < $as_end
