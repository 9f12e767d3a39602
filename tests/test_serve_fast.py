"""The playground's quick profile and overlap (apps/serve/fast.py) give the figures of
`segc profile` (preview.profile) and of the full overlap query, on the example project:
numbers, top values (min_group, order, "(other)"), and each segment's size and overlap,
including after the population's figures and the segments' sizes were cached."""
from __future__ import annotations

import shutil

import pytest

from segc.apps.serve.fast import matrix_overlap, matrix_profile
from segc.apps.serve.state import open_playground, overlap_with
from tests.conftest import EXAMPLE

# the last three: one member, three members, all but one (fewer than min_group in or out:
# figures withheld; the last by difference with the population's beside it)
TEXTS = ['age >= 30 and country = "FR"', "not email_optin", 'city = "Lyon" or age < 25', "age > 1000",
         'age = 88 and country = "BE"', 'age = 90 and country = "BE"', 'not (age = 88 and country = "BE")']


@pytest.fixture(scope="module")
def playground(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve_fast") / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build", "site", "*.duckdb"))
    return open_playground(root)


def _close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("text", TEXTS)
def test_profile_on_the_matrix_is_segc_profile(playground, text):
    p = playground.project()
    target = p.expression(text)
    view = playground.matrix().view
    for _ in range(2):  # the second time from the cached population figures
        fast = matrix_profile(view, target, p.as_of).to_dict()
        full = p.profile(target, p.as_of).to_dict()
        assert fast["categorical"] and fast["numeric"]
        assert _close(fast, full), (fast, full)


@pytest.mark.parametrize("text", TEXTS)
def test_overlap_on_the_matrix_is_the_full_query(playground, text):
    p = playground.project()
    target = p.expression(text)
    view = playground.matrix().view
    for _ in range(2):  # the second time from the cached segment sizes
        assert matrix_overlap(view, target, p.as_of) == overlap_with(p, target, p.as_of)


def test_the_api_answers_from_the_matrix(playground):
    assert playground.profile(TEXTS[0])["via"] == "matrix"
    assert playground.overlap(TEXTS[0])["via"] == "matrix"


@pytest.mark.parametrize("text", TEXTS[-3:])
def test_a_profile_of_fewer_than_min_group_shows_nothing_of_its_members(playground, text):
    """A one-member segment's mean age was that member's age, its top city theirs at 100%."""
    p = playground.project()
    target = p.expression(text)
    profile = p.profile(target, p.as_of)
    assert profile.withheld and (0 < profile.size < p.schema.min_group
                                 or 0 < profile.population - profile.size < p.schema.min_group)
    assert all(n.mean is None and n.stddev is None and n.missing is None for n in profile.numeric)
    assert all(n.population_mean is not None for n in profile.numeric if n.feature == "age")
    everyone = p.profile(p.expression("age > 0 or age is missing"), p.as_of)
    for mine, all_ in zip(profile.categorical, everyone.categorical):
        assert all(share is None for _v, share, _pop in mine.values)
        # the values shown are the population's top, not the members' own
        assert [v for v, _s, _p in mine.values] == [v for v, _s, _p in all_.values]
