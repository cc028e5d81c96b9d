-- limits_deals: one row of facts about the opportunities and their stage history, for the "what
-- this data cannot show" checks (funnel/limitations.py). Findings about deals hold only when there
-- are deals; a deal without events counts as open (it sits in the first stage).
WITH counts AS (
    SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM opportunities) AS deals
),
kinds AS (
    SELECT count(*) FILTER (WHERE s.kind = 'won') AS won, count(*) FILTER (WHERE s.kind = 'lost') AS lost,
           count(*) FILTER (WHERE s.kind = 'open') AS open_visits
    FROM opportunity_events e JOIN stage_config s ON s.funnel = 'opportunity' AND s.stage = e.stage
),
last AS (
    SELECT opportunity_id, arg_max(stage, (entered_at, event_seq)) AS stage FROM opportunity_events GROUP BY 1
),
open_now AS (
    SELECT count(*) AS deals
    FROM opportunities o LEFT JOIN last USING (opportunity_id)
    LEFT JOIN stage_config s ON s.funnel = 'opportunity' AND s.stage = last.stage
    WHERE last.stage IS NULL OR s.kind = 'open'
),
linked AS (
    SELECT count(*) AS deals FROM opportunities o JOIN leads l USING (lead_id)
)
SELECT c.deals = 0 AS no_opportunities,
       c.deals > 0 AND k.lost = 0 AS no_lost,
       c.deals > 0 AND k.won = 0 AS no_won,
       c.deals > 0 AND n.deals = 0 AS no_open,
       c.deals > 0 AND c.leads > 0 AND li.deals = 0 AS unlinked,
       c.deals > 0 AND k.open_visits = 0 AS no_deal_stages
FROM counts c CROSS JOIN kinds k CROSS JOIN open_now n CROSS JOIN linked li
