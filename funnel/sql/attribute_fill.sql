-- name: attribute_fill
-- How many leads have a value in each lead column (metrics.md §5: a null attribute matches no
-- rule, so the rule editor offers only the columns some lead fills).
-- funnel/scoring.py (usable_attributes) writes one count per column of leads, c0, c1, … in the
-- table's column order (names from the table's own column list); this default counts two.
SELECT count(l.channel) AS c0, count(l.segment) AS c1
FROM leads l
