"""Fitting a score: a logistic regression of the score's target on its features, both
read through the project's engine at point-in-time as-of dates, then validated on a
later, non-overlapping as-of (AUC, lift and calibration by decile).

    rows      the population at the as-of (ordered by key)
    features  their values at the as-of (numbers; a bool counts 1/0; missing stays missing)
    target    the target condition evaluated at as-of + horizon (1 when it holds)

The fit is scikit-learn's pipeline: missing values replaced by the training median,
standardised with the training mean and standard deviation, LogisticRegression (lbfgs,
L2 with the score's C). Deterministic: the same data gives the same model file. Nothing
here prints; problems are SegcError (E930-E939)."""
from __future__ import annotations

import datetime as dt
import warnings

from sqlglot import exp

from segc import __version__

from segc import ir
from segc.front.files import display_path
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.backend.lower import KEY, Lowerer
from segc.backend.trees import col, flag, ident
from segc.preview import too_few
from segc.schema.segc_yml import ScoreDef
from segc.check.scores import horizon_end, validation_as_of
from segc.schema.score_model import Decile, FittedScore, ModelFeature, Sample, definition_hash, fitted_on, model_path, read_model
from segc.backend.rewrites import binary_order

MAX_ITER = 1000
DECILES = 10


def score_def(project, name: str) -> ScoreDef:
    """The score `name` of the project's segc.yml (E930 when there is none)."""
    scores = project.schema.scores
    if name in scores:
        return scores[name]
    close = suggest(name, scores)
    if close:
        hint = f"did you mean `{close}`?"
    elif scores:
        hint = "scores: " + ", ".join(scores)
    else:
        hint = "declare it under `scores:` in segc.yml (see docs/language.md, Scores)"
    raise SegcError(Diagnostic("E930", f"unknown score `{name}`", file=project.schema.file, hints=(hint,)))


def fit_score(project, name: str, train_as_of=None, validate_as_of=None) -> FittedScore:
    """Fit the score on the project's engine; the result is written by write_model."""
    s = score_def(project, name)
    target = project.checked.scores.get(name)
    if target is None:  # pragma: no cover - a broken target fails loading the project
        raise SegcError(Diagnostic("E930", f"the target of the score `{name}` does not check", s.target.span,
                                   hints=("run `segc check` and fix the target first",)))
    train = _date(train_as_of, "--as-of") or s.train_as_of
    validate = _date(validate_as_of, "--validate-as-of")
    try:  # as segc check does for segc.yml's dates (check/scores.py), for the dates given here
        validate = validate or validation_as_of(s, train)
        horizon_end(train, s), horizon_end(validate, s)
    except ir.DateOutOfRange as e:
        raise SegcError(Diagnostic("E934", f"score `{name}`: {e}: the target would be evaluated after the last "
                                   "supported date", s.span, hints=(f"choose earlier as-of dates; {ir.DATE_RANGE_HINT}",))
                        ) from None
    if validate < horizon_end(train, s):
        raise SegcError(Diagnostic(
            "E934", f"score `{name}`: the validation as-of {validate} is inside the training period "
            f"({train} to {horizon_end(train, s)})", s.span,
            hints=(f"validate on {horizon_end(train, s)} or later, so that the two periods do not overlap",)))
    _keys, x, y = _rows(project, s, target, train)
    _usable(s, x, y, train, "training", min_group=project.schema.min_group)
    model, converged, iterations = _fit(x, y, s.C)
    imputer, scaler, logit = model.steps[0][1], model.steps[1][1], model.steps[2][1]
    train_p = model.predict_proba(x)[:, 1]
    _vkeys, vx, vy = _rows(project, s, target, validate)
    _usable(s, vx, vy, validate, "validation", need_values=False)
    val_p = model.predict_proba(vx)[:, 1]
    features = tuple(ModelFeature(f, float(c), float(m), float(mu), float(sd)) for f, c, m, mu, sd in
                     zip(s.features, logit.coef_[0], imputer.statistics_, scaler.mean_, scaler.scale_))
    import sklearn

    return FittedScore(
        name=name,
        definition=definition_hash(project.schema, name, train, validate),
        target=s.target.text,
        horizon=s.horizon.text,
        intercept=float(logit.intercept_[0]),
        features=features,
        training=Sample(train, horizon_end(train, s), len(y), int(y.sum()), _auc(y, train_p)),
        validation=Sample(validate, horizon_end(validate, s), len(vy), int(vy.sum()), _auc(vy, val_p),
                          deciles(vy, val_p)),
        settings={"solver": "lbfgs", "C": float(s.C), "max_iter": MAX_ITER, "converged": converged,
                  "iterations": iterations},
        fitted_with={"segc": __version__, "scikit-learn": sklearn.__version__},
    )


def read_score_model(project, name: str) -> FittedScore:
    """The model file of a declared score (E937 when it was never fitted)."""
    score_def(project, name)
    path = model_path(project.root, name)
    if not path.is_file():
        raise SegcError(Diagnostic("E937", f"the score `{name}` is not fitted yet", project.schema.scores[name].span,
                                   hints=(f"fit it: `segc score fit {name}` (it writes models/{name}.yml)",)))
    return read_model(path, display_path(path))


def score_query(project, name: str, as_of=None):
    """A query (sqlglot tree) of the population's keys and scores at the as-of, ordered by
    key: the score as the segments see it, e.g. to export it or to check it on an engine."""
    from segc.schema.score_model import formula

    model = read_score_model(project, name)
    values = project.feature_values([f.name for f in model.features])
    value = formula(model, values)
    key = project.schema.key

    def select(lw: Lowerer):
        return [exp.alias_(col(KEY), ident(key)), exp.alias_(lw.value(value), ident(name))], None

    return project.lowerer(as_of).query(project.checked.population, select).order_by(binary_order(col(key)))


def is_current(project, model: FittedScore) -> bool:
    """Whether the model was fitted on the score as segc.yml defines it now."""
    s = project.schema.scores[model.name]
    return fitted_on(model.definition, project.schema, model.name, s.train_as_of, validation_as_of(s))


# ---- reading the rows -----------------------------------------------------------------

def _rows(project, s: ScoreDef, target: ir.Pred, as_of: dt.date):
    """Keys, feature matrix (NaN = missing) and target vector of the population at `as_of`."""
    import numpy as np

    key = project.schema.key
    keys, x = project.feature_matrix(s.features, as_of)

    def outcome(lw: Lowerer):
        return [exp.alias_(col(KEY), ident(key)), exp.alias_(flag(lw.pred(target)), ident("segc_y"))], None

    # every customer of the base: whoever is in the population at the as-of has a target
    flags = dict(project.run(project.lowerer(horizon_end(as_of, s)).query(ir.TRUE, outcome)))
    y = np.array([int(flags.get(k, 0) or 0) for k in keys], dtype=int)
    return keys, x, y


def _usable(s: ScoreDef, x, y, as_of: dt.date, what: str, need_values: bool = True, min_group: int = 1) -> None:
    """No rows, one class only, a feature without any value: no model can be fitted (or
    validated) on that. A feature with a value for fewer than `min_group` rows (segc.yml,
    the rule of profile: preview.too_few) is refused too: its imputation median and its
    scaling mean, written into the model file, would be one of a few people's values."""
    import numpy as np

    where = f"at the {what} as-of {as_of}"
    if len(y) == 0:
        raise SegcError(Diagnostic("E935", f"score `{s.name}`: no customer of the population {where}", s.span,
                                   hints=("check the as-of dates and the population; the preview data must "
                                          "cover them",)))
    positives = int(y.sum())
    if positives in (0, len(y)):
        which = "no customer" if positives == 0 else "every customer"
        raise SegcError(Diagnostic(
            "E936", f"score `{s.name}`: the target holds for {which} {where} ({len(y)} rows): "
            "a model needs both outcomes", s.target.span,
            hints=(f"the target is evaluated {s.horizon.text} after the as-of: check that the data "
                   "covers that period, and that the target can be false and true",)))
    if need_values:
        for i, f in enumerate(s.features):
            if np.isnan(x[:, i]).all():
                raise SegcError(Diagnostic("E935", f"score `{s.name}`: the feature `{f}` is missing for every "
                                           f"customer {where}", s.span,
                                           hints=("drop it from the score's features, or fix the data",)))
            present = int((~np.isnan(x[:, i])).sum())
            if too_few(present, present, min_group):
                raise SegcError(Diagnostic(
                    "E935", f"score `{s.name}`: the feature `{f}` has a value for only {present} "
                    f"customer{'s' if present != 1 else ''} {where}, fewer than min_group ({min_group}): its "
                    "imputation median and scaling mean, written into the model file, would be theirs", s.span,
                    hints=("drop it from the score's features, or choose a training as-of where more "
                           "customers have it (min_group is in segc.yml)",)))


def _fit(x, y, C: float):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    model = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler()),
                      ("logit", LogisticRegression(C=C, solver="lbfgs", max_iter=MAX_ITER))])
    with warnings.catch_warnings(record=True) as caught:  # the compiler never prints
        warnings.simplefilter("always")
        model.fit(x, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return model, converged, int(model.steps[2][1].n_iter_[0])


# ---- validation figures -----------------------------------------------------------------

def _auc(y, p) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def deciles(y, p) -> tuple[Decile, ...]:
    """Rows by descending score (ties by key order) cut into ten near-equal groups: the
    mean score (calibration), the observed rate and the lift over the overall rate."""
    import numpy as np

    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    order = np.lexsort((np.arange(len(p)), -p))
    base = y.mean()
    out = []
    for i, part in enumerate(np.array_split(order, DECILES)):
        if len(part) == 0:
            continue
        observed = float(y[part].mean())
        out.append(Decile(i + 1, int(len(part)), int(y[part].sum()), float(p[part].mean()), observed,
                          float(observed / base) if base else 0.0))
    return tuple(out)


# ---- small helpers ----------------------------------------------------------------------

def _date(value, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SegcError(Diagnostic("E009", f"{option} `{value}` is not a date",
                                   hints=("write YYYY-MM-DD",))) from None
