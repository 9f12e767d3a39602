"""The words segc.yml is written with: the feature types, the aggregates, the words of the
language a feature may not be named, and how a window is written. Both readings of
segc.yml (segc_yml.py, and pydantic's in segc_yml_pydantic.py) use them."""
from __future__ import annotations

import re

TYPES = ("int", "float", "string", "bool", "date", "timestamp")
AGGS = ("count", "count_distinct", "sum", "avg", "min", "max")
# Words of the language: a feature named like one could never be referred to.
RESERVED = frozenset(
    "and or not between in is missing present contains starts ends matches with within by top bottom "
    "segment segmentation else true false today where during last next this to holdout seed "
    "count_distinct count sum avg min max exists".split())

WINDOW = re.compile(r"\s*(\d+)\s*(day|week|month|year)s?\s*$")
