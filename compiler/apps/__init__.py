"""What is built on compiling and previewing: build (views, tables, dbt), the catalogue,
diff, discover, scores, segment tests, count rules, the KPI report."""
