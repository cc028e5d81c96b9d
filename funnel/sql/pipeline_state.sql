-- pipeline_state: every opportunity's stage, amount and close date as known at a moment
-- (metrics.md §4). Stage = the stage of its latest event before $state_end (event order:
-- entered_at, then input order); none yet → the first positioned opportunity stage. Amount and
-- close date = the latest non-null values among those events, else the opportunities row.
-- max_position is the furthest positioned stage it entered (at least the first one), which the
-- historical win rates need; closed_at is when its current won/lost state began.
-- Slots: {opps} — a CTE "opps" of the opportunities in scope (created before $state_end).
WITH {opps},
fs AS (SELECT min(position) AS first_position FROM stage_config
       WHERE funnel = 'opportunity' AND position IS NOT NULL AND kind IN ('open', 'won')),
first_stage AS (SELECT stage FROM stage_config, fs
                WHERE funnel = 'opportunity' AND position = fs.first_position AND kind IN ('open', 'won')),
ev AS (
    SELECT e.opportunity_id, e.stage, e.entered_at, e.event_seq, e.amount, e.close_date, s.position, s.kind
    FROM opportunity_events e
    JOIN opps o ON o.opportunity_id = e.opportunity_id
    LEFT JOIN stage_config s ON s.funnel = 'opportunity' AND s.stage = e.stage
    WHERE e.entered_at < $state_end
),
latest AS (
    SELECT opportunity_id,
           arg_max(stage, (entered_at, event_seq)) AS stage,
           max(entered_at) AS last_event_at,
           arg_max(amount, (entered_at, event_seq)) FILTER (WHERE amount IS NOT NULL) AS amount,
           arg_max(close_date, (entered_at, event_seq)) FILTER (WHERE close_date IS NOT NULL) AS close_date,
           max(position) FILTER (WHERE kind IN ('open', 'won')) AS max_position
    FROM ev GROUP BY opportunity_id
),
state AS (
    SELECT o.opportunity_id, o.lead_id, o.account, o.owner, o.segment, o.product, o.created_at,
           coalesce(l.stage, (SELECT stage FROM first_stage)) AS stage,
           coalesce(l.amount, o.amount) AS amount,
           coalesce(l.close_date, o.close_date) AS close_date,
           greatest(coalesce(l.max_position, fs.first_position), fs.first_position) AS max_position,
           l.last_event_at
    FROM opps o CROSS JOIN fs LEFT JOIN latest l ON l.opportunity_id = o.opportunity_id
)
SELECT st.*, s.kind, s.position, s.probability, s.category,
       CASE WHEN s.kind IN ('won', 'lost') THEN st.last_event_at END AS closed_at
FROM state st LEFT JOIN stage_config s ON s.funnel = 'opportunity' AND s.stage = st.stage
