-- limits_lead_owners: for each filter dimension, whether it is filled only for leads that were won
-- (then a conversion rate by it is 100% by construction). Needs at least one lead not won.
WITH won AS (
    SELECT DISTINCT e.lead_id
    FROM lead_events e JOIN stage_config s ON s.funnel = 'lead' AND s.stage = e.stage AND s.kind = 'won'
),
l AS (
    SELECT l.channel, l.segment, l.region, l.sdr, l.ae, w.lead_id IS NOT NULL AS is_won
    FROM leads l LEFT JOIN won w USING (lead_id)
),
f AS (
    SELECT count(*) FILTER (WHERE NOT is_won) AS not_won,
           count(channel) AS channel, count(channel) FILTER (WHERE NOT is_won) AS channel_not_won,
           count(segment) AS segment, count(segment) FILTER (WHERE NOT is_won) AS segment_not_won,
           count(region) AS region, count(region) FILTER (WHERE NOT is_won) AS region_not_won,
           count(sdr) AS sdr, count(sdr) FILTER (WHERE NOT is_won) AS sdr_not_won,
           count(ae) AS ae, count(ae) FILTER (WHERE NOT is_won) AS ae_not_won
    FROM l
)
SELECT not_won > 0 AND channel > 0 AND channel_not_won = 0 AS won_only_channel,
       not_won > 0 AND segment > 0 AND segment_not_won = 0 AS won_only_segment,
       not_won > 0 AND region > 0 AND region_not_won = 0 AS won_only_region,
       not_won > 0 AND sdr > 0 AND sdr_not_won = 0 AS won_only_sdr,
       not_won > 0 AND ae > 0 AND ae_not_won = 0 AS won_only_ae
FROM f
