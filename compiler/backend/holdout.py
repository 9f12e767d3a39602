"""Control groups: `holdout 10% seed "spring"`, a deterministic split of the customers
that every engine computes the same way.

The rule (the whole definition; tests/reference.py implements it independently):

    h = the first 8 hex digits of md5(UTF-8 bytes of seed + ":" + key as text),
        read as a number in [0, 16^8)
    member  <=>  h < floor(share × 16^8)

It depends only on the seed and the key: a customer stays in the same group across runs
and engines, and when other conditions of the segment change. Distinct seeds give
independent splits (one seed per experiment).

Why md5 and hex text: it is the one hash that DuckDB, PostgreSQL, Spark, Snowflake,
BigQuery, Trino, MySQL, Redshift, Databricks and T-SQL all offer, with the same bytes in
and out (sqlglot spells it per dialect); their integer hashes (`hash()`, `hashtext`,
`FARM_FINGERPRINT`...) all differ. Reading hex as a number differs per engine too, so the
8-digit prefix is compared as text with the threshold written the same way (see
`threshold_hex`).
"""
from __future__ import annotations

from segc.ir import HOLDOUT_HEX_DIGITS, holdout_threshold


def threshold_hex(percent: float) -> str:
    """The threshold as 8 lowercase hex digits. Two strings of the same length made of
    0-9 and a-f compare like the numbers they write, whatever the collation: every
    collation orders the digits 0 < 1 < ... < 9, the letters a < b < ... < f, and digits
    before letters (binary, ICU/UCA and glibc locales, MySQL's *_ci), and with equal
    lengths the first differing character decides. (Only a collation that reads digit
    runs as numbers, e.g. ICU with `numeric` ordering, would break this; no engine
    defaults to one.)"""
    return f"{holdout_threshold(percent):0{HOLDOUT_HEX_DIGITS}x}"


def holdout_condition(percent: float, seed: str, key):
    """`SUBSTRING(MD5(seed || ':' || CAST(key AS TEXT)), 1, 8) < 'threshold'` (a sqlglot
    tree). The key is never NULL, so neither is the condition: `not holdout` is exactly
    the rest."""
    from sqlglot import exp

    text = exp.Cast(this=key, to=exp.DataType(this=exp.DataType.Type.TEXT))
    hashed = exp.MD5(this=exp.Concat(expressions=[exp.Literal.string(seed + ":"), text], safe=True))
    prefix = exp.Substring(this=hashed, start=exp.Literal.number(1), length=exp.Literal.number(HOLDOUT_HEX_DIGITS))
    return exp.LT(this=prefix, expression=exp.Literal.string(threshold_hex(percent)))
