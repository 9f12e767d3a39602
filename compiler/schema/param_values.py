"""A parameter's value, from its `default:` in segc.yml or `--param name=value`, as a value
of its declared type (segc_yml.py, project.py)."""
from __future__ import annotations

import datetime as dt
import math
import re


class ZoneError(ValueError):
    """A timestamp with a time zone; `hint` says how to write it."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def coerce_param(type_: str, value, written: str | None = None) -> object:
    """A parameter value (from YAML or `--param k=v`) as a value of its declared type;
    `written`: its text in the file, for messages (else the value's)."""
    if isinstance(value, str):
        text = value.strip()
        if type_ == "int":
            if not re.fullmatch(r"-?[0-9]+", text):  # \d would take ٣ and １２ (Python's int reads them)
                raise ValueError(f"`{value}` is not an int")
            return int(text)
        if type_ == "float":
            # as a number is written in the language: Python's float also reads 1_0, ٣ and １２
            if not re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", text,
                                re.IGNORECASE):
                raise ValueError(f"`{value}` is not a number")
            return finite_float(text)
        if type_ == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError(f"`{value}` is not true or false")
            return text.lower() == "true"
        if type_ == "date":
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"`{value}` is not a date (YYYY-MM-DD)") from None
        if type_ == "timestamp":
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"`{value}` is not a timestamp (YYYY-MM-DDTHH:MM:SS)") from None
            return naive(parsed, value)
        return value
    ok = {"int": (int,), "float": (int, float), "bool": (bool,), "string": (str,),
          "date": (dt.date,), "timestamp": (dt.datetime,)}[type_]
    if isinstance(value, bool) and type_ != "bool" or not isinstance(value, ok) \
            or type_ == "date" and isinstance(value, dt.datetime):
        raise ValueError(f"`{written or value}` is not a {type_}")
    if type_ == "timestamp":
        return naive(value, written or value)
    return finite_float(value) if type_ == "float" else value


def naive(value: dt.datetime, written) -> dt.datetime:
    """A timestamp without a time zone, as segc's are; one with a zone (`+05:00`, `Z`)
    would silently lose it in the SQL (`CAST(... AS TIMESTAMP)` drops it), so it is refused
    with its UTC wall time."""
    if value.tzinfo is None:
        return value
    try:
        utc = value.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat()
    except OverflowError:  # beyond year 1 or 9999 in UTC
        utc = "the UTC wall time"
    raise ZoneError(f"`{written}` has a time zone, which the engines would drop",
                    f"segc timestamps have no time zone: write the UTC wall time, `{utc}`")


def finite_float(value) -> float:
    """A number as a float, refusing NaN and the infinities (`nan`, `inf`, `1e400`): SQL
    has no literal for them (sqlglot would write a bare `nan`, an identifier)."""
    try:
        out = float(value)
    except OverflowError:  # an int beyond the floats
        out = math.inf
    if not math.isfinite(out):
        raise ValueError(f"`{value}` is not a finite number")
    return out
