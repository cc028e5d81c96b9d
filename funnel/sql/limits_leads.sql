-- limits_leads: one row of facts about the leads and their stage history, for the "what this data
-- cannot show" checks (funnel/limitations.py). Each boolean column is one finding; a finding
-- about the history holds only when there are leads, one about progress only when there are events.
WITH counts AS (
    SELECT (SELECT count(*) FROM leads) AS leads,
           (SELECT count(*) FROM lead_events) AS lead_events,
           (SELECT min(position) FROM stage_config
            WHERE funnel = 'lead' AND position IS NOT NULL AND kind IN ('open', 'won')) AS first_position
),
kinds AS (
    -- one scan of the events for every stage-kind question
    SELECT count(*) FILTER (WHERE s.kind IN ('open', 'won') AND s.position > coalesce(c.first_position, 0)) AS moved,
           count(*) FILTER (WHERE s.kind = 'rejected') AS rejected,
           count(*) FILTER (WHERE s.kind = 'recycled') AS recycled,
           count(*) FILTER (WHERE s.kind = 'won') AS won
    FROM lead_events e
    JOIN stage_config s ON s.funnel = 'lead' AND s.stage = e.stage
    CROSS JOIN counts c
),
timed AS (
    -- does any event sit elsewhere than on its lead's creation time? (stops at the first one)
    SELECT count(*) AS events_off_creation
    FROM (SELECT 1 FROM lead_events e JOIN leads l USING (lead_id) WHERE e.entered_at <> l.created_at LIMIT 1)
),
days AS (
    SELECT count(DISTINCT CAST(created_at AS DATE)) AS creation_days, min(created_at) AS first_created FROM leads
)
SELECT c.leads = 0 AS no_leads,
       c.leads > 0 AND c.lead_events = 0 AS no_lead_events,
       c.lead_events > 0 AND k.moved = 0 AS no_progress,
       c.lead_events > 0 AND k.rejected = 0 AND k.recycled = 0 AS no_rejections_or_recycling,
       c.lead_events > 0 AND k.rejected = 0 AND k.recycled > 0 AS no_rejections_but_recycling,
       c.lead_events > 0 AND k.won = 0 AS no_won_leads,
       c.lead_events > 0 AND t.events_off_creation = 0 AS no_durations,
       c.leads > 0 AND d.creation_days = 1 AS one_date,
       d.first_created
FROM counts c CROSS JOIN kinds k CROSS JOIN timed t CROSS JOIN days d
