-- time_in_stage: visits per stage with completed/censored durations (metrics.md §2).
-- A visit is an explicit event into an open, rejected or recycled stage; it ends at the item's
-- next event known by the end of the as-of day, else it is censored at that midnight.
-- The Kaplan–Meier median is the first duration at which the survival curve is at or below 0.5
-- (lifelines' convention). The product of (1 - d/n) is summed in log space; a tolerance of 1e-9
-- keeps an exact 0.5 from reading as 0.5000000001. A step with d = n drops survival to zero.
-- Slots: {visits} — a CTE "visits(item_id, stage, entered_at, next_at)" for the chosen funnel.
WITH {visits},
st AS (
    SELECT stage, position, kind FROM stage_config
    WHERE funnel = $funnel AND kind IN ('open', 'rejected', 'recycled')
),
v AS (
    SELECT v.stage,
           CASE WHEN v.next_at < $as_end THEN 1 ELSE 0 END AS completed,
           (epoch(CASE WHEN v.next_at < $as_end THEN v.next_at ELSE $as_end END) - epoch(v.entered_at)) / 3600.0 AS hours
    FROM visits v JOIN st ON st.stage = v.stage
    WHERE v.entered_at < $as_end
),
summary AS (
    SELECT stage, count(*) AS visits, CAST(sum(completed) AS BIGINT) AS completed,
           CAST(count(*) - sum(completed) AS BIGINT) AS censored,
           -- percentile_cont rather than quantile_cont: the portable spelling (Spark has no quantile_cont)
           percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) FILTER (WHERE completed = 1) AS median_hours,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) FILTER (WHERE completed = 1) AS p90_hours
    FROM v GROUP BY stage
),
km_t AS (
    SELECT stage, hours, sum(completed) AS d, count(*) AS n_t FROM v GROUP BY stage, hours
),
km_r AS (
    SELECT stage, hours, d,
           sum(n_t) OVER (PARTITION BY stage ORDER BY hours DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS at_risk
    FROM km_t
),
km_s AS (
    SELECT stage, hours, d,
           sum(CASE WHEN d = at_risk THEN 1 ELSE 0 END)
               OVER (PARTITION BY stage ORDER BY hours ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS wiped,
           exp(sum(CASE WHEN d < at_risk THEN ln(1.0 - d / at_risk::DOUBLE) ELSE 0.0 END)
               OVER (PARTITION BY stage ORDER BY hours ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS survival
    FROM km_r
),
km AS (
    SELECT stage, min(hours) AS km_median_hours FROM km_s
    WHERE d > 0 AND (wiped > 0 OR survival <= 0.5 + 1e-9)
    GROUP BY stage
)
SELECT st.stage, st.position, st.kind,
       CAST(coalesce(s.visits, 0) AS BIGINT) AS visits, CAST(coalesce(s.completed, 0) AS BIGINT) AS completed,
       CAST(coalesce(s.censored, 0) AS BIGINT) AS censored,
       s.median_hours, s.p90_hours, km.km_median_hours
FROM st LEFT JOIN summary s ON s.stage = st.stage LEFT JOIN km ON km.stage = st.stage
ORDER BY st.position IS NULL, st.position, st.stage
