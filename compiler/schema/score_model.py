"""The model file of a fitted score (models/<name>.yml): reading, writing, the hash of the
definition it was fitted on, and the score as a value of the checked program.

The file is small and meant to be reviewed in git: stable key order, floats written with
repr precision (they read back bit for bit), written atomically. The score it defines is

    potential = 1 / (1 + exp(-z)),  z = intercept + sum_i coefficient_i * (x_i - mean_i) / scale_i

where a missing x_i is replaced by its training median (`impute`) and a bool counts 0/1.
That is scikit-learn's pipeline (median imputer, standard scaler, logistic regression)
written out, so the SQL needs no Python at query time."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, field
from pathlib import Path

from segc import ir
from segc.front.errors import Diagnostic, SegcError
from segc.front.parse_cache import cached
from segc.front.printable import one_line
from segc.front.source import Source
from segc.records import record

MODELS = "models"  # the folder of a project holding the model files
SCORE_INPUT_TYPES = ("int", "float", "bool")
HEADER = ("# The fitted model of the score `{name}`, written by `segc score fit {name}`.\n"
          "# Review it in git. Do not edit it: change the score in segc.yml and refit.\n")


@record
class ModelFeature:
    name: str
    coefficient: float  # per standard deviation (of the training rows)
    impute: float  # training median, for a missing value
    mean: float
    scale: float  # standard deviation (1.0 for a constant feature)


@record
class Decile:
    """One tenth of the validation rows, highest scores first: calibration and lift."""
    decile: int
    rows: int
    positives: int
    predicted: float  # mean score
    observed: float  # share of positives
    lift: float  # observed / the share of positives of all rows


@record
class Sample:
    """The rows a model was fitted or validated on, and how well it ranks them."""
    as_of: dt.date
    target_at: dt.date  # as_of + horizon: where the target is evaluated
    rows: int
    positives: int
    auc: float
    deciles: tuple[Decile, ...] = ()


@record
class FittedScore:
    name: str
    definition: str  # sha256 of what it was fitted on (definition_hash)
    target: str
    horizon: str
    intercept: float
    features: tuple[ModelFeature, ...]
    training: Sample
    validation: Sample
    settings: dict = field(default_factory=dict)  # solver, C, max_iter, converged, iterations
    fitted_with: dict = field(default_factory=dict)  # library versions

    def to_dict(self) -> dict:
        """The content of the model file, in its order."""
        def sample(s: Sample) -> dict:
            out = {"as_of": s.as_of, "target_at": s.target_at, "rows": s.rows, "positives": s.positives,
                   "auc": s.auc}
            if s.deciles:
                out["deciles"] = [_Flow(asdict(d)) for d in s.deciles]
            return out

        return {
            "score": self.name,
            "definition": self.definition,
            "target": self.target,
            "horizon": self.horizon,
            "model": "logistic_regression",
            "settings": _Flow(self.settings),
            "fitted_with": _Flow(self.fitted_with),
            "intercept": self.intercept,
            "features": [asdict(f) for f in self.features],
            "training": sample(self.training),
            "validation": sample(self.validation),
        }

    def to_json(self) -> dict:
        def plain(v):
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, list):
                return [plain(x) for x in v]
            return v.isoformat() if isinstance(v, dt.date) else v
        return plain(self.to_dict())


class _Flow(dict):
    """A mapping written on one line (a decile, the settings)."""


def model_text(model: FittedScore) -> str:
    import yaml  # here, not at the top: reading a project's models needs it only on a cache miss

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(),
                                                                      flow_style=True))
    # PyYAML writes floats with repr (adding `.0` before an exponent), which reads back exactly
    body = yaml.dump(model.to_dict(), Dumper=Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)
    return HEADER.format(name=model.name) + body


def model_path(root: Path, name: str) -> Path:
    return Path(root) / MODELS / f"{name}.yml"


def write_model(root: Path, model: FittedScore) -> Path:
    """Write models/<name>.yml atomically (a temp file next to it, then os.replace), under
    the rule of every output (files.check_output; E822/E824): a plain file there is this
    score's model, even damaged (refitting is how it is repaired), but never a link, a FIFO
    or a folder."""
    from segc.front.files import check_output, write_atomic

    path = model_path(root, model.name)

    def refuse(target: Path) -> None:
        check_output(target, lambda _file: True, root=root)

    write_atomic(path, model_text(model), refuse=refuse, parents=True)
    return path


def read_model(path: Path, display: str) -> FittedScore:
    """A model file back; any damage is E938 (refit to repair it)."""
    def bad(why: str) -> SegcError:
        return SegcError(Diagnostic("E938", f"the model file is damaged: {why}", file=display,
                                    hints=(f"refit it: `segc score fit {path.stem}`",)))

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read it ({getattr(e, 'strerror', None) or 'not UTF-8'})") from None

    def parse():  # the one YAML reader: its bound on what aliases expand to holds here too
        from segc.front.yamlpos import load_yaml

        try:
            return load_yaml(Source(display, text)).data
        except SegcError as e:
            raise bad(f"invalid YAML ({e.diagnostics[0].message})") from None

    data = cached("model", Source(display, text), parse)
    try:
        def sample(d: dict) -> Sample:
            deciles = tuple(Decile(int(x["decile"]), int(x["rows"]), int(x["positives"]), float(x["predicted"]),
                                   float(x["observed"]), float(x["lift"])) for x in d.get("deciles", ()))
            return Sample(_date(d["as_of"]), _date(d["target_at"]), int(d["rows"]), int(d["positives"]),
                          float(d["auc"]), deciles)

        features = tuple(ModelFeature(str(f["name"]), _float(f["coefficient"]), _float(f["impute"]),
                                      _float(f["mean"]), _float(f["scale"])) for f in data["features"])
        model = FittedScore(str(data["score"]), str(data["definition"]), str(data["target"]),
                            str(data["horizon"]), _float(data["intercept"]), features,
                            sample(data["training"]), sample(data["validation"]),
                            dict(data.get("settings") or {}), dict(data.get("fitted_with") or {}))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise bad(f"missing or wrong value ({type(e).__name__}: {_short(str(e))})") from None
    if model.name != path.stem:
        raise bad(f"it holds the score `{_short(model.name)}`, not `{path.stem}`")
    if not features or any(f.scale == 0 for f in features):
        raise bad("no features, or a zero scale")
    return model


def _short(text: str, most: int = 80) -> str:
    """A value of the file in a message: on one line, cut (a damaged file may hold anything)."""
    text = one_line(text)
    return text if len(text) <= most else text[:most] + "…"


def _float(v) -> float:
    import math

    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"not a finite number: {v!r}" if isinstance(v, float) else
                         f"not a number: {type(v).__name__}")
    return float(v)


def _date(v) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def definition_hash(schema, name: str, train_as_of: dt.date, validate_as_of: dt.date,
                    left_out: tuple[str, ...] = ("description", "ignore_warnings")) -> str:
    """sha256 of everything the fit depends on in segc.yml: the score's entry (with the
    as-of dates actually used), the population, and the definitions of its input features
    and of the features its target names, descriptions and `ignore_warnings:` left out.
    `segc check` warns (W930) when it no longer matches (fitted_on)."""
    raw = schema.located.data if schema.located else {}
    def meaning(entry) -> dict:  # descriptions and silenced warnings change no number
        return {k: v for k, v in (entry or {}).items() if k not in left_out}

    score = meaning(raw.get("scores", {}).get(name))
    score["train_as_of"], score["validate_as_of"] = train_as_of, validate_as_of
    score_def = schema.scores[name]
    names = set(score_def.features) | {f for f in schema.features if _mentions(score_def.target.text, f)}
    features = {f: meaning(raw.get("features", {}).get(f)) for f in sorted(names)}
    body = {"score": score, "population": raw.get("population"), "features": features}
    text = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fitted_on(stored: str, schema, name: str, train_as_of: dt.date, validate_as_of: dt.date) -> bool:
    """Whether a model file's definition hash is the score's as segc.yml defines it now:
    definition_hash, or its form before `ignore_warnings:` was left out (a model fitted by
    an older segc while a feature it reads silenced a warning is not stale)."""
    return stored in (definition_hash(schema, name, train_as_of, validate_as_of),
                      definition_hash(schema, name, train_as_of, validate_as_of, left_out=("description",)))


def _mentions(text: str, word: str) -> bool:
    import re

    return re.search(rf"(?<![A-Za-z0-9_$]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


def load_models(root: Path, schema, display) -> tuple[dict[str, FittedScore], list[Diagnostic]]:
    """The model files of the declared scores that have one; `display` names a path as
    the user sees it."""
    models, diags = {}, []
    for name in schema.scores:
        path = model_path(root, name)
        if not path.is_file():
            continue
        try:
            models[name] = read_model(path, display(path))
        except SegcError as e:
            diags.extend(e.diagnostics)
    return models, diags


# ---- the score as a value ---------------------------------------------------------------

def formula(model: FittedScore, values: dict[str, ir.Value]) -> ir.Value:
    """The model as a float value of the checked program, from the features' values:
    `logistic(intercept, term, ...)`, a term per feature, negated (ir.Neg) when its
    coefficient is negative, so that the SQL reads `z = -1.2 + 0.8 * (...) - 0.1 * (...)`.
    backend/lower.py sums the terms and applies the logistic function with its clamp."""
    terms: list[ir.Value] = [ir.Const(model.intercept, "float")]
    for f in model.features:
        x = ir.Func("to_float", (values[f.name],), "float")
        x = ir.Func("coalesce", (x, ir.Const(f.impute, "float")), "float")
        # x - mean, written x + |mean| for a negative mean (the same double, a - (-b) = a + b)
        centred = ir.Arith("-" if f.mean >= 0 else "+", x, ir.Const(abs(f.mean), "float"), "float")
        scaled = ir.Arith("/", centred, ir.Const(f.scale, "float"), "float")
        term = ir.Arith("*", ir.Const(abs(f.coefficient), "float"), scaled, "float")
        terms.append(term if f.coefficient >= 0 else ir.Neg(term))
    return ir.Func("logistic", tuple(terms), "float")
