"""The rows a sweep plans, and what they share (the bundled LMD outcome's default grid)."""

from __future__ import annotations

import pytest

from srsbayes.inputs.data import outcome_table
from srsbayes.sensitivity.grid import default_grid
from srsbayes.sensitivity.plan import plan_jobs
from srsbayes.sensitivity.refit import Refit
from srsbayes.sensitivity.sweep import _longest_first


@pytest.fixture(scope="module")
def lmd_jobs(bundled_table, specs):
    spec = specs["lmd"]
    wide = outcome_table(bundled_table, spec)
    return plan_jobs(spec, wide, default_grid(spec), True)


def test_rows_share_derived_quantities_exactly_when_their_model_data_agree(lmd_jobs):
    # prior rows and model variants (a bias term, another arm coding: model overrides) have
    # the reference's data, and so its baseline model; rows without a study or with other
    # counts have data of their own
    jobs, ref_idx = lmd_jobs
    ref = jobs[ref_idx]
    by_route = {}
    for j in jobs:
        by_route.setdefault(j.route, set()).add(j.share == ref.share)
    assert by_route["prior"] == {True}
    assert by_route["refit"] == {True}  # 0/1 arm coding and the two bias-adjusted rows
    assert by_route["loo"] == {False} and by_route["data"] == {False}
    loo = [j.share for j in jobs if j.route == "loo"]
    assert len(set(loo)) == len(loo) == 4


def test_refits_go_to_the_workers_costliest_first(lmd_jobs):
    # rows with data of their own first (another likelihood, another baseline model), then
    # the rest, each in table order
    jobs, ref_idx = lmd_jobs
    todo = [Refit(j, "test") for j in jobs if j.index != ref_idx]
    order = [r.job for r in _longest_first(todo, jobs[ref_idx])]
    own = [j for j in order if j.share != jobs[ref_idx].share]
    assert order[:len(own)] == own
    assert [j.route for j in own] == ["data", "data", "loo", "loo", "loo", "loo"]
    assert [j.index for j in own] == sorted(j.index for j in own)
    rest = order[len(own):]
    assert [j.index for j in rest] == sorted(j.index for j in rest)
    assert len(order) == len(jobs) - 1
