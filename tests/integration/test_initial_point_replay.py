"""The compile cache's replay of PyMC's initial-point function (issue 15, item 3).

A cache hit replaces PyMC's compiled initial-point function by recorded support values and
jitter streams; nutpie starts every chain there, so the replay must equal PyMC's function
bit for bit at every seed, and must refuse models where it cannot.
"""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import pytest
from pymc.initial_point import make_initial_point_fn

from srsbayes.families import FAMILIES, get_family
from srsbayes.inference import compile_cache as cc
from srsbayes.inference.fitting import _PLACEHOLDER


def _noncentred() -> pm.Model:
    with pm.Model(coords={"study": np.arange(3)}) as model:
        y = pm.Data("y", np.zeros(3), dims="study")
        mu = pm.Normal("mu", 0.3, 1.0)
        tau = pm.HalfNormal("tau", 2.0)  # log-transformed; support point loc + sigma = 2
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        pm.Normal("obs", mu + tau * z, 1.0, observed=y, dims="study")
    return model


def _centred() -> pm.Model:
    """The study effects' support point is ``mu``'s jittered initial value."""
    with pm.Model(coords={"study": np.arange(3)}) as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        theta = pm.Normal("theta", mu, 1.0, dims="study")
        pm.Normal("obs", theta, 1.0, observed=np.zeros(3), dims="study")
    return model


def _names(model: pm.Model) -> list[str]:
    return [model.rvs_to_values[rv].name for rv in model.free_RVs]


def _pymc_points(model: pm.Model):
    return make_initial_point_fn(model=model, overrides=None, default_strategy="support_point",
                                 jitter_rvs=set(model.free_RVs), return_transformed=True)


@pytest.mark.parametrize("build", [_noncentred, lambda: get_family("binomial").build_model(
    4, {s: _PLACEHOLDER[sup] for s, sup in FAMILIES["binomial"].slots.items()})],
    ids=["noncentred", "binomial-k4"])
def test_replay_equals_pymcs_initial_points_bit_for_bit(build):
    model = build()
    replay = cc.initial_point_replay(model, _names(model))
    assert replay is not None
    json.loads(json.dumps(replay))  # stored in layout.json as it is
    want, got = _pymc_points(model), cc.replayed_initial_point_fn(replay)
    for seed in [3, 99, 123456789, 2**63 + 11]:  # none of REPLAY_CHECK_SEEDS
        a, b = want(seed), got(seed)
        assert sorted(a) == sorted(b)
        for name in a:
            assert np.asarray(a[name]).tobytes() == np.asarray(b[name]).tobytes(), name
            assert np.shape(a[name]) == np.shape(b[name])
    assert len(set(json.dumps(got(s)["mu" if "mu" in a else _names(model)[0]].tolist())
                   for s in range(5))) == 5  # jittered: every seed starts elsewhere


def test_transformed_support_is_recorded_in_the_unconstrained_space():
    model = _noncentred()
    replay = cc.initial_point_replay(model, _names(model))
    support = dict(zip(replay["names"], replay["support"], strict=True))
    assert support["mu"] == pytest.approx(0.3)
    assert support["tau_log__"] == pytest.approx(np.log(2.0))  # PyMC's support point 2
    assert support["z"] == [0.0, 0.0, 0.0]


def test_replay_refuses_a_support_point_that_depends_on_a_jittered_parent():
    model = _centred()
    assert cc.initial_point_replay(model, _names(model)) is None
