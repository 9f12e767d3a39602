"""Checked program -> SQL: the dialect table, the lowering to sqlglot trees, the rewrites of
what sqlglot renders wrong per dialect, rendering, the holdout split."""
