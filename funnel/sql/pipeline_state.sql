-- name: pipeline_state
-- Every opportunity's stage, amount and close date as known at one or more
-- moments (metrics.md §4).
--
-- A moment is a forecast date: its state_end (exclusive — the midnight after D, or the 1st of the
-- month M in a backtest), the date before which an open deal's close date makes it overdue and
-- the month such a deal then counts in, and the start of its 365-day win-rate window.
--
-- Per moment and opportunity (created before state_end):
--   stage      = stage of its latest event before state_end (event order: entered_at, then input
--                order event_seq); no event yet → the first positioned opportunity stage;
--   amount, close_date = the latest non-null values among those events, else the opportunities row;
--   max_position = the furthest positioned stage (kind open or won) it has entered, at least the
--                first one — a skipped stage counts as passed (the historical win rates need it);
--   closed_at  = when its current won/lost state began (the latest event), NULL while open;
--   overdue    = its close date lies before the moment's overdue_before date;
--   period     = the month of its close date, or the moment's month when overdue.
--
-- Reads the derived table deal_history (funnel/store.py, rebuilt on every import and stage edit):
-- each deal's timeline as spans with the state above already carried forward, so the state at a
-- moment is the one span per deal that contains the moment's last instant.
-- Reads moments(moment_no, state_end, overdue_before, overdue_period, window_start): by default
-- the one moment D ($as_end is the midnight after D). funnel/forecast.py replaces the moments with
-- its own (bound values: D, D and D − 7 for the waterfall, the starts of twelve months for the
-- backtest) and, when a dimension filter is set, joins state to opportunity_scope (the deals in
-- scope) — in every query that uses this one.
WITH moments AS (
    SELECT 0 AS moment_no, CAST($as_end AS TIMESTAMP) AS state_end,
           CAST($as_end AS DATE) - 1 AS overdue_before,
           CAST(date_trunc('month', CAST($as_end AS DATE) - 1) AS DATE) AS overdue_period,
           CAST($as_end AS TIMESTAMP) - INTERVAL 365 DAY AS window_start
),
oc AS (
    SELECT stage, position, kind, probability, category
    FROM stage_config WHERE funnel = 'opportunity'
),
state AS (
    -- only what the figures need: descriptive columns (account, owner, …) are joined back by the
    -- deal listings, which keeps this CTE narrow when it is materialised for several moments
    SELECT m.moment_no, h.opportunity_id, h.created_at, h.stage, h.amount, h.close_date, h.max_position,
           h.entered_at AS last_event_at,
           m.state_end, m.overdue_before, m.overdue_period, m.window_start
    FROM deal_history h
    JOIN moments m
      ON h.created_at < m.state_end
     AND (h.entered_at IS NULL OR h.entered_at < m.state_end)
     AND (h.next_at IS NULL OR h.next_at >= m.state_end)
)
SELECT st.*, oc.kind, oc.position, oc.probability, oc.category,
       CASE WHEN oc.kind IN ('won', 'lost') THEN st.last_event_at END AS closed_at,
       st.close_date < st.overdue_before AS overdue,
       CASE WHEN st.close_date < st.overdue_before THEN st.overdue_period
            ELSE CAST(date_trunc('month', st.close_date) AS DATE) END AS period
FROM state st
LEFT JOIN oc ON oc.stage = st.stage
