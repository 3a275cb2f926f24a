"""The rounding-aware binomial likelihood for rows that give only a percentage.

A percent-only row's count is unknown within ``K(p, n)``, the whole counts whose percentage
of ``n`` rounds to the reported ``p``; the likelihood is ``sum_{k in K} Binomial(k | n, pi)``
(the two neighbouring counts when ``K`` is empty, a GRIM failure). Checked against the GRIM
rule by enumeration, against scipy for the compiled model and for ``loglik``, and for the
posterior-predictive replicates.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from srsbayes.errors import InputError
from srsbayes.families import binomial as b
from srsbayes.inference.diagnostics import ppc_pvalues
from srsbayes.inputs.data import outcome_table


def _brute(percent: float, n: int, decimals: int) -> list[int]:
    return [k for k in range(n + 1) if b.reproduces(k, n, percent, decimals)]


def _set_logprob(n: int, lo: int, hi: int, p: float) -> float:
    return float(np.log(stats.binom.pmf(np.arange(lo, hi + 1), n, p).sum()))


# -- the count sets ----------------------------------------------------------------------------

def test_rounding_set_is_the_grim_set_or_its_two_neighbours():
    """Every n = 1..120 and whole percentage 0..100 (and one-decimal percentages for a few
    n): the set is exactly the counts that reproduce the percentage; where none does, the
    two counts either side of p n / 100, neither of which reproduces it."""
    cases = [(p, n, 0) for n in range(1, 121) for p in range(101)]
    cases += [(p / 10, n, 1) for n in (7, 45, 333, 1000) for p in range(0, 1001, 7)]
    grim_failures = 0
    for p, n, d in cases:
        lo, hi = b.rounding_set(p, n, d)
        ks = _brute(p, n, d)
        if ks:
            assert (lo, hi) == (ks[0], ks[-1]) and ks == list(range(lo, hi + 1)), (p, n, d)
        else:
            grim_failures += 1
            assert hi == lo + 1 and lo <= p * n / 100 <= hi, (p, n, d)
            assert not b.reproduces(lo, n, p, d) and not b.reproduces(hi, n, p, d)
    assert grim_failures > 1000  # small n: most whole percentages are unreachable


def test_bundled_sets_by_hand(bundled_table, specs):
    # LC Study A preop 91% of 45: 41/45 = 91.1% only (40 = 88.9%, 42 = 93.3%).
    # LC Study B preop 94% of 60: 56 = 93.3%, 57 = 95.0%: a GRIM failure -> {56, 57}.
    # LMD Study A preop 2% of 45: 1/45 = 2.2% only (0%, 4.4%).
    # LMD Study A postop 11% of 48: 5 = 10.4%, 6 = 12.5%: a GRIM failure -> {5, 6}.
    lc = b.model_data(outcome_table(bundled_table, specs["lc"]))
    lmd = b.model_data(outcome_table(bundled_table, specs["lmd"]))

    def bounds(data, arm, i):
        lo = data[f"y_{arm}"][i] - data[f"k_below_{arm}"][i]
        return int(lo), int(lo + data[f"k_width_{arm}"][i] - 1)

    assert bounds(lc, "preop", 0) == (41, 41)
    assert bounds(lc, "preop", 1) == (56, 57)
    assert bounds(lmd, "preop", 0) == (1, 1)
    assert bounds(lmd, "postop", 0) == (5, 6)
    # the nearest count (the old point value) stays the observed y, inside its set
    assert lmd["y_preop"].tolist() == [1, 2, 2, 2] and lmd["y_postop"].tolist() == [5, 8, 6, 7]
    assert lmd["k_width_postop"].tolist() == [2, 2, 2, 2]  # every LMD postop % is a GRIM failure


def test_reported_events_keep_the_exact_binomial(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["lmd"])
    for arm in ("preop", "postop"):
        wide[f"events_rule_{arm}"] = "reported"
    data = b.model_data(wide)
    for arm in ("preop", "postop"):
        assert data[f"k_width_{arm}"].tolist() == [1, 1, 1, 1]
        assert data[f"k_below_{arm}"].tolist() == [0, 0, 0, 0]


def test_reported_decimals_set_the_precision(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["lc"]).iloc[:1].copy()
    wide["percent_preop"] = 91.0  # 91 % of 45 -> {41}
    assert b.count_set(91.0, 45, b._decimals(wide, "preop", 0)) == (41, 41)
    wide["percent_decimals_preop"] = 1  # "91.0": 91.11 % does not round to 91.0 -> {40, 41}
    assert b.count_set(91.0, 45, b._decimals(wide, "preop", 0)) == (40, 41)
    wide = wide.drop(columns="percent_decimals_preop")
    wide["percent_preop"] = 11.1  # written with one decimal: 5 / 45 = 11.11 %
    assert b._decimals(wide, "preop", 0) == 1 and b.count_set(11.1, 45, 1) == (5, 5)


def test_too_wide_a_set_is_an_input_error(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["lmd"])
    wide.loc[0, ["n_preop", "percent_preop", "events_preop"]] = [50_000, 50, 25_000]
    with pytest.raises(InputError, match="allows 501 event counts"):
        b.model_data(wide)


# -- the likelihood against scipy ----------------------------------------------------------------

N = np.array([45, 48, 60, 7])
LO = np.array([41, 5, 56, 0])
HI = np.array([41, 6, 57, 3])
LOGIT = np.array([2.1, -2.0, 2.6, 0.3])


@pytest.mark.parametrize("mode", ["FAST_RUN", "NUMBA"])  # NUMBA: what nutpie runs
def test_compiled_set_logp_matches_scipy(mode):
    """Sets above the mean (survival branch), below it (CDF branch), a whole arm (0..n),
    and far tails (log probabilities -42 and -316)."""
    import pytensor
    import pytensor.tensor as pt

    n = np.r_[N, 65, 65, 7]
    lo, hi = np.r_[LO, 8, 0, 0], np.r_[HI, 8, 1, 7]
    logit = np.r_[LOGIT, -8.0, 5.0, -1.0]
    args = [pt.vector(dtype="int64") for _ in range(3)] + [pt.vector()]
    fn = pytensor.function(args, b._count_set_logp(*args[:3], args[3]), mode=mode)
    got = fn(n, lo, hi - lo + 1, logit)
    p = 1 / (1 + np.exp(-logit))
    want = [_set_logprob(*a) for a in zip(n, lo, hi, p, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert want[4] < -40 and want[5] < -200 and abs(want[6]) < 1e-12
    # the one-count set is the binomial log pmf itself
    assert got[0] == pytest.approx(stats.binom.logpmf(41, 45, p[0]), rel=1e-10)


@pytest.mark.parametrize("mode", ["FAST_RUN", "NUMBA"])
def test_pair_form_matches_scipy_and_the_general_form(mode):
    """Sets of one and two counts (the ``pairs`` structure): both tails, the whole of a
    one-patient arm, a set ending at ``n`` and far tails, in value and gradient; a set of
    three counts is refused (-inf)."""
    import pytensor
    import pytensor.tensor as pt

    n = np.array([45, 48, 60, 7, 65, 65, 1, 52, 30])
    lo = np.array([41, 5, 56, 0, 8, 0, 0, 51, 3])
    width = np.array([1, 2, 2, 1, 2, 1, 2, 2, 3])
    logit = np.array([2.1, -2.0, 2.6, 0.3, -8.0, 5.0, -1.0, 1.5, 0.0])
    args = [pt.vector(dtype="int64") for _ in range(3)] + [pt.vector()]
    pair, general = b._pair_logp(*args), b._count_set_logp(*args)
    outs = [pair, general, pt.grad(pair[:-1].sum(), args[3]),
            pt.grad(general[:-1].sum(), args[3])]
    got, ref, g_pair, g_ref = pytensor.function(args, outs, mode=mode)(n, lo, width, logit)
    p = 1 / (1 + np.exp(-logit))
    want = [_set_logprob(*a) for a in zip(n[:-1], lo[:-1], (lo + width - 1)[:-1], p[:-1],
                                          strict=True)]
    np.testing.assert_allclose(got[:-1], want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[:-1], ref[:-1], rtol=1e-9, atol=1e-12)
    assert want[4] < -40 and abs(want[6]) < 1e-12 and got[-1] == -np.inf
    np.testing.assert_allclose(g_pair, g_ref, rtol=1e-7, atol=1e-10)
    assert np.all(np.isfinite(g_pair))


def test_structure_picks_the_pair_form_only_for_sets_of_at_most_two_counts(specs,
                                                                            bundled_table):
    data = b.model_data(outcome_table(bundled_table, specs["lmd"]))
    assert b.structure(data) == {"count_sets": True, "pairs": True}
    assert int(np.max(data["k_width_postop"])) == 2
    wider = {**data, "k_width_preop": np.array([1, 3, 1, 1])}
    assert b.structure(wider) == {"count_sets": True, "pairs": False}


def test_model_potentials_match_scipy_at_a_point():
    """The built model's likelihood terms, at its initial point, on constructed data."""
    import pymc as pm

    from srsbayes.priors.distributions import Prior

    priors = {"effect": Prior("normal", (0.0, 1.0)), "tau": Prior("halfnormal", (0.5,)),
              "baseline": Prior("normal", (0.0, 2.5))}
    model = b.build_model(4, priors)
    post_n, post_lo, post_hi = np.array([48, 65, 40, 55]), np.array([5, 8, 6, 6]),\
        np.array([6, 9, 6, 7])
    data = {"n_preop": N, "y_preop": LO, "k_below_preop": LO - LO, "k_width_preop": HI - LO + 1,
            "n_postop": post_n, "y_postop": post_hi, "k_below_postop": post_hi - post_lo,
            "k_width_postop": post_hi - post_lo + 1}
    with model:
        pm.set_data(data)
    point = model.initial_point(random_seed=3)
    pots = {p.name: p for p in model.potentials}
    outs = model.replace_rvs_by_values([pots["events_preop"], pots["events_postop"],
                                        model["logit_postop"], model["effect"], model["delta"]])
    fn = model.compile_fn(outs, inputs=model.value_vars, point_fn=True)
    lp_t, lp_c, logit_c, theta, delta = fn(point)
    p_c, p_t = 1 / (1 + np.exp(-logit_c)), 1 / (1 + np.exp(-(logit_c + theta + delta)))
    want_t = sum(_set_logprob(*a) for a in zip(N, LO, HI, p_t, strict=True))
    want_c = sum(_set_logprob(*a) for a in zip(post_n, post_lo, post_hi, p_c, strict=True))
    assert lp_t == pytest.approx(want_t, rel=1e-9)
    assert lp_c == pytest.approx(want_c, rel=1e-9)


def _post(logit_c: np.ndarray, effect: float = 0.4) -> xr.Dataset:
    """A 'posterior' of 2 chains x 3 draws with the given postop logits (dims study)."""
    shape = (2, 3, len(logit_c))
    rng = np.random.default_rng(0)
    jitter = rng.normal(0, 0.1, shape)
    return xr.Dataset({
        "logit_postop": (("chain", "draw", "study"), logit_c + jitter),
        "effect": (("chain", "draw"), np.full(shape[:2], effect)),
        "delta": (("chain", "draw", "study"), rng.normal(0, 0.2, shape)),
    })


def test_loglik_matches_scipy():
    data = {"n_preop": N, "y_preop": LO, "k_below_preop": np.zeros(4, int),
            "k_width_preop": HI - LO + 1, "n_postop": N, "y_postop": HI,
            "k_below_postop": HI - LO, "k_width_postop": HI - LO + 1}
    post = _post(LOGIT)
    ll = b.loglik(post, data)
    logit_c = post["logit_postop"].values
    logit_t = logit_c + post["effect"].values[..., None] + post["delta"].values
    for name, logit in (("events_postop", logit_c), ("events_preop", logit_t)):
        p = 1 / (1 + np.exp(-logit))
        want = np.vectorize(_set_logprob)(N, LO, HI, p)
        np.testing.assert_allclose(ll[name].transpose("chain", "draw", "study").values, want,
                                   rtol=1e-10)


def test_replicates_are_coarsened_like_the_data():
    """A replicate inside K is recorded as the observed y, so the PPC mid-p is
    P(k > k_hi) + P(k in K) / 2; checked against the exact binomial values within 4 Monte
    Carlo SEs (600 x 200 draws)."""
    n, lo, hi, y = np.array([48]), np.array([5]), np.array([6]), np.array([6])
    data = {"n_preop": n, "y_preop": y, "k_below_preop": y - lo, "k_width_preop": hi - lo + 1,
            "n_postop": n, "y_postop": y, "k_below_postop": y - lo,
            "k_width_postop": hi - lo + 1}
    p = 0.12
    post = xr.Dataset({
        "logit_postop": (("chain", "draw", "study"), np.full((600, 200, 1), np.log(p / (1 - p)))),
        "effect": (("chain", "draw"), np.zeros((600, 200))),
        "delta": (("chain", "draw", "study"), np.zeros((600, 200, 1))),
    })
    rep = b.simulate(post, data, np.random.default_rng(7))
    vals = rep["events_postop"].values
    assert not np.any(vals == 5)  # 5 is in K: recorded as y = 6
    inside = stats.binom.cdf(6, 48, p) - stats.binom.cdf(4, 48, p)
    want = stats.binom.sf(6, 48, p) + inside / 2
    got = ppc_pvalues(b.observed(data), rep)["events_postop"][0]
    assert got == pytest.approx(want, abs=4 * np.sqrt(want * (1 - want) / vals.size))
