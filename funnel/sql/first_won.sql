-- name: first_won
-- Per opportunity in scope, its first won event before $as_end and the deal's amount
-- as of that event — the "actual" a backtest compares with (metrics.md §4, Backtest).
-- Amount as of the won event = the latest non-null amount among its events up to and including
-- that event (event order: entered_at, then input order), else the opportunities row — which
-- deal_history (funnel/store.py) carries on that event's row.
-- Binds $as_end (exclusive end of the as-of day). When a dimension filter is set, funnel/forecast.py
-- joins won to the deals in scope (opportunity_scope; `opps` in funnel/targets.py's queries).
WITH won_stages AS (
    SELECT stage FROM stage_config WHERE funnel = 'opportunity' AND kind = 'won'
),
won AS (
    SELECT h.opportunity_id, h.entered_at, h.amount,
           CAST(epoch_us(h.entered_at) AS HUGEINT) * 4294967296 + h.event_seq AS event_key
    FROM deal_history h JOIN won_stages w ON w.stage = h.stage
    WHERE h.entered_at < $as_end AND h.created_at < $as_end
),
first_key AS (SELECT opportunity_id, min(event_key) AS event_key FROM won GROUP BY opportunity_id)
SELECT won.opportunity_id, won.entered_at AS won_at, won.amount
FROM won JOIN first_key f ON f.opportunity_id = won.opportunity_id AND f.event_key = won.event_key
