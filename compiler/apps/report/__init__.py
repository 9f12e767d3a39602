"""`segc report`: the KPI figures (measure), their JSON/CSV (formats) and the HTML page."""
