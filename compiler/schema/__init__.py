"""The project's declarations: segc.yml (sources, features, params, KPIs, scores) and the
model files of fitted scores."""
