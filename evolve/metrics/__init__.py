"""Metrics of a candidate: quality over (scores, labels) arrays, one file per metric, and the checks and
registry that tie them to the built-in metric table (stitchc.grammar.metric_table)."""
