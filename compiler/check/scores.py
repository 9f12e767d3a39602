"""Scores in the checker: each score of segc.yml checked against the project (its
features, its target, its dates, its model file), and a score's name in an expression
turned into its formula (score_model.formula), so that lowering sees only ordinary
values plus the logistic function.

The functions take the Checker (checker.py), as kpis.py does; they report through it."""
from __future__ import annotations

import datetime as dt

from segc import ir
from segc.check.policy import sensitive_reads
from segc.check.reporter import Reported
from segc.front.errors import suggest
from segc.schema.segc_yml import ScoreDef
from segc.schema.score_model import SCORE_INPUT_TYPES, definition_hash, fitted_on


def horizon_end(as_of: dt.date, score: ScoreDef) -> dt.date:
    """Where the target is evaluated: `horizon` after the as-of."""
    return ir.shift_date(as_of, score.horizon.amount, score.horizon.unit)


def validation_as_of(score: ScoreDef, train_as_of: dt.date | None = None) -> dt.date:
    """The validation as-of: as written, else the first date whose period does not overlap
    the training period (train_as_of + horizon)."""
    if score.validate_as_of is not None:
        return score.validate_as_of
    return horizon_end(train_as_of or score.train_as_of, score)


def check_scores(checker) -> dict[str, ir.Pred]:
    """Every score of the schema checked; returns the checked targets by score name.
    Problems are recorded on the checker (scores with one go to `broken_scores`)."""
    schema = checker.schema
    targets: dict[str, ir.Pred] = {}
    for s in schema.scores.values():
        errors_before = sum(d.is_error for d in checker.diags)
        _check_features(checker, s)
        train_end = _periods_end(checker, s)
        if train_end is not None and s.validate_as_of is not None and s.validate_as_of < train_end:
            checker.error("E934", f"score `{s.name}`: the validation as-of {s.validate_as_of} is inside the "
                           f"training period ({s.train_as_of} + {s.horizon.text} = {train_end})",
                           schema.key_span("scores", s.name, "validate_as_of"),
                           f"validate on {train_end} or later, so that the two periods do not overlap")
        checker.score_context = f"the target of the score `{s.name}`"
        scope = checker.features_scope()
        try:
            pred = checker.embedded_pred(s.target, scope)
        except Reported:  # pragma: no cover - _embedded_pred reports and returns None
            pred = None
        finally:
            checker.score_context = None
        checker.score_policy(s, f"the target of the score `{s.name}`", sensitive_reads(schema, scope.used, pred),
                             s.target.span)
        if pred is not None:
            targets[s.name] = pred
        model = checker.models.get(s.name)
        if model is not None and train_end is not None:
            _check_model(checker, s, model)
        if pred is None or sum(d.is_error for d in checker.diags) > errors_before:
            checker.broken_scores.add(s.name)
    return targets


def _periods_end(checker, s: ScoreDef) -> dt.date | None:
    """The end of the training period (train_as_of + horizon); None when a date is out of
    the supported range: an as-of or a horizon segc.yml's reading already refused (E309),
    or, E934 at the horizon, a period's end (the validation as-of + horizon, that as-of
    train_as_of + horizon when not written) past the supported dates."""
    if any(ir.as_of_problem(d) for d in (s.train_as_of, s.validate_as_of)) or \
            ir.shift_years(s.horizon.amount, s.horizon.unit) > ir.MAX_SHIFT_YEARS:
        return None  # E309 from segc_yml._check_dates
    span = checker.schema.key_span("scores", s.name, "horizon")
    hint = f"choose a shorter horizon or earlier as-of dates; {ir.DATE_RANGE_HINT}"
    try:
        train_end = horizon_end(s.train_as_of, s)
        validate = validation_as_of(s)
        validate_end = horizon_end(validate, s)
    except ir.DateOutOfRange as e:
        checker.error("E934", f"score `{s.name}`: {e}: the target would be evaluated after the last supported "
                      "date", span, hint)
        return None
    # the dates the target (and, not written, the validation as-of) are evaluated at are as-ofs too
    for what, d in (("the end of the training period", train_end), ("the validation as-of", validate),
                    ("the end of the validation period", validate_end)):
        if ir.as_of_problem(d):
            checker.error("E934", f"score `{s.name}`: {what}, {d}, is outside the supported as-of range", span, hint)
            return None
    return train_end


def _check_features(checker, s: ScoreDef) -> None:
    schema = checker.schema
    seen = set()
    for i, name in enumerate(s.features):
        span = schema.key_span("scores", s.name, "features", i)
        f = schema.features.get(name)
        if name in seen:
            checker.error("E931", f"score `{s.name}`: the feature `{name}` is listed twice", span,
                          "list each feature once")
        elif f is None:
            close = suggest(name, schema.features)
            hint = (f"did you mean `{close}`?" if close else
                    "a score's features are features declared under `features:` in segc.yml")
            if name in schema.scores:
                hint = "a score cannot be a feature of a score"
            checker.error("E931", f"score `{s.name}`: unknown feature `{name}`", span, hint)
        elif f.type not in SCORE_INPUT_TYPES:
            checker.error("E932", f"score `{s.name}`: the feature `{name}` is {f.type}, not a number",
                           span, "a score takes int, float and bool features (a bool counts 1/0); for "
                           "a string, declare a bool feature such as `sql: \"country = 'FR'\"`")
        else:
            checker.score_policy(s, f"score `{s.name}`", sensitive_reads(schema, [name]), span)
        seen.add(name)


def _check_model(checker, s: ScoreDef, model) -> None:
    """The model file against the current segc.yml: it must still compute (its features
    exist and are numbers), and should be what the score's definition gives (else W930)."""
    schema = checker.schema
    for f in model.features:
        fd = schema.features.get(f.name)
        if fd is None or fd.type not in SCORE_INPUT_TYPES:
            what = "no longer declared" if fd is None else f"now {fd.type}"
            checker.error("E938", f"the model of the score `{s.name}` uses the feature `{f.name}`, which is "
                           f"{what}", s.span, f"refit it: `segc score fit {s.name}`")
            return
    current = definition_hash(schema, s.name, model.training.as_of, model.validation.as_of)
    configured = definition_hash(schema, s.name, s.train_as_of, validation_as_of(s))
    # changed since the fit, or fitted on other dates than those of segc.yml (--as-of)
    if not fitted_on(model.definition, schema, s.name, model.training.as_of, model.validation.as_of) \
            or current != configured:
        checker.warn("W930", f"the score `{s.name}` changed in segc.yml since its model was fitted",
                      s.span, f"segments use the model in models/{s.name}.yml as it is; refit it: "
                      f"`segc score fit {s.name}`")


def score_value(checker, node, scope) -> ir.Value:
    """The value of a score's name in an expression: its fitted formula."""
    name = node.name
    context = checker.score_context or _population_context(checker, node)
    if context is not None:
        checker.error("E939", f"the score `{name}` cannot be used in {context}", node.span,
                       "a score is fitted on the population and its target: they cannot depend on it")
        raise Reported
    if checker.fitting:
        # the project is loaded to fit a score: references to scores are not needed, and
        # must not stop the fit of the very model they are waiting for
        return ir.Const(0.5, "float")
    if name in checker.broken_scores:
        raise Reported  # its definition's problems are reported already
    model = checker.models.get(name)
    if model is None:
        checker.error("E937", f"the score `{name}` is not fitted yet", node.span,
                       f"fit it: `segc score fit {name}` (it writes models/{name}.yml)")
        raise Reported
    values = {}
    for f in model.features:
        values[f.name] = checker.feature_value(checker.schema.features[f.name], node.span)
        scope.used.add(f.name)
    from segc.schema.score_model import formula

    return formula(model, values)


def _population_context(checker, node) -> str | None:
    pop = checker.schema.population
    span = getattr(node, "span", None)
    if pop is None or span is None or span.source is not pop.span.source:
        return None
    return "the population" if pop.span.start <= span.start < pop.span.end else None
