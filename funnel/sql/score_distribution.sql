-- name: score_distribution
-- uses: scenario_groups
-- Histogram of a scenario's scores by outcome (metrics.md §5): score_bin (lower edge),
-- bin_width, outcome (0/1), leads, share_of_group (leads / all leads with that outcome), so the
-- two groups' shapes compare whatever their sizes.
-- Bin edges are multiples of a round width (1, 2, 2.5, 5 × 10^k, at most about $bins bins), so
-- with whole-number points every bin holds the same number of possible scores and a threshold on
-- a round number falls on an edge. The small tolerances keep a width that is exactly round (and
-- a score exactly on an edge) from slipping to the next one through float rounding.
-- Parameters: $bins, and those of scored_leads.
WITH g AS (SELECT score, outcome, sum(n) AS n FROM scenario_groups GROUP BY score, outcome),
raw AS (SELECT (max(score) - min(score)) / $bins AS raw FROM g),
mag AS (SELECT raw, CASE WHEN raw > 0 THEN pow(10, floor(log10(raw))) END AS mag FROM raw),
w AS (
    SELECT CASE WHEN raw IS NULL OR raw <= 0 THEN 1.0
                WHEN raw <= mag * 1.000000001 THEN mag
                WHEN raw <= 2 * mag * 1.000000001 THEN 2 * mag
                WHEN raw <= 2.5 * mag * 1.000000001 THEN 2.5 * mag
                WHEN raw <= 5 * mag * 1.000000001 THEN 5 * mag
                ELSE 10 * mag END AS width
    FROM mag
),
h AS (
    SELECT round(floor(score / w.width + 1e-9) * w.width, 9) AS score_bin, any_value(w.width) AS bin_width,
           outcome, sum(n)::BIGINT AS leads
    FROM g, w
    GROUP BY 1, outcome
)
SELECT score_bin, bin_width, outcome, leads,
       leads / sum(leads) OVER (PARTITION BY outcome)::DOUBLE AS share_of_group
FROM h
ORDER BY score_bin, outcome
