"""The words segc.yml is written with: the feature types, the aggregates, the words of the
language a feature may not be named, and how a window is written. Both readings of
segc.yml (segc_yml.py, and pydantic's in segc_yml_pydantic.py) use them."""
from __future__ import annotations

import re

from segc.ir import PICKS

TYPES = ("int", "float", "string", "bool", "date", "timestamp")
AGGS = ("count", "count_distinct", "sum", "avg", "min", "max") + PICKS
# Words of the language: a feature named like one could never be referred to.
RESERVED = frozenset(
    "and or not between in is missing present contains starts ends matches with within by top bottom "
    "segment segmentation else true false today where during last next this to holdout seed "
    "count_distinct count sum avg min max exists followed preceded first nth mode".split())

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_name(word: str) -> bool:
    """Whether the language can write `word` as a name: an identifier, no word of its own."""
    return bool(_NAME.fullmatch(word)) and word not in RESERVED


WINDOW = re.compile(r"\s*(\d+)\s*(day|week|month|year)s?\s*$")
