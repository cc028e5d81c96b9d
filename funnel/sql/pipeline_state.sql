-- pipeline_state: every opportunity's stage, amount and close date as known at one or more
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
-- Expects two CTEs in scope (funnel/forecast.py defines them):
--   opps(opportunity_id, lead_id, account, created_at, amount, close_date, owner, segment, product)
--   moments(moment_no, state_end, overdue_before, overdue_period, window_start)
WITH oc AS (
    SELECT stage, position, kind, probability, category
    FROM stage_config WHERE funnel = 'opportunity'
),
fs AS (
    SELECT min(position) AS first_position FROM oc
    WHERE position IS NOT NULL AND kind IN ('open', 'won')
),
first_stage AS (
    SELECT min(oc.stage) AS stage FROM oc, fs
    WHERE oc.position = fs.first_position AND oc.kind IN ('open', 'won')
),
ev AS (
    SELECT e.opportunity_id, e.stage, e.entered_at, e.amount, e.close_date,
           -- (entered_at, event_seq) as one number, so arg_max compares integers instead of
           -- structs (about twice as fast at 400k events); event_seq < 2^32 by construction.
           CAST(epoch_us(e.entered_at) AS HUGEINT) * 4294967296 + e.event_seq AS event_key,
           CASE WHEN oc.kind IN ('open', 'won') THEN oc.position END AS funnel_position
    FROM opportunity_events e
    LEFT JOIN oc ON oc.stage = e.stage
),
latest AS (
    -- aggregate the events first and join the (smaller) result to the deals in scope
    SELECT m.moment_no, ev.opportunity_id,
           arg_max(ev.stage, ev.event_key) AS stage,
           max(ev.entered_at) AS last_event_at,
           arg_max(ev.amount, ev.event_key) FILTER (WHERE ev.amount IS NOT NULL) AS amount,
           arg_max(ev.close_date, ev.event_key) FILTER (WHERE ev.close_date IS NOT NULL) AS close_date,
           max(ev.funnel_position) AS max_position
    FROM ev JOIN moments m ON ev.entered_at < m.state_end
    GROUP BY m.moment_no, ev.opportunity_id
),
state AS (
    -- only what the figures need: descriptive columns (account, owner, …) are joined back by the
    -- deal listings, which keeps this CTE narrow when it is materialised for several moments
    SELECT m.moment_no, o.opportunity_id, o.created_at,
           coalesce(l.stage, (SELECT stage FROM first_stage)) AS stage,
           coalesce(l.amount, o.amount) AS amount,
           coalesce(l.close_date, o.close_date) AS close_date,
           coalesce(greatest(l.max_position, fs.first_position), fs.first_position) AS max_position,
           l.last_event_at,
           m.state_end, m.overdue_before, m.overdue_period, m.window_start
    FROM moments m
    JOIN opps o ON o.created_at < m.state_end
    CROSS JOIN fs
    LEFT JOIN latest l ON l.moment_no = m.moment_no AND l.opportunity_id = o.opportunity_id
)
SELECT st.*, oc.kind, oc.position, oc.probability, oc.category,
       CASE WHEN oc.kind IN ('won', 'lost') THEN st.last_event_at END AS closed_at,
       st.close_date < st.overdue_before AS overdue,
       CASE WHEN st.close_date < st.overdue_before THEN st.overdue_period
            ELSE CAST(date_trunc('month', st.close_date) AS DATE) END AS period
FROM state st
LEFT JOIN oc ON oc.stage = st.stage
