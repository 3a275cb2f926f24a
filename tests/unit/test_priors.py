"""Priors: parsing, merging, Turner and unit-information priors, and the model-side density.

The most important check is the last one: the hand-written PyTensor density of every
prior slot must equal scipy's log density plus the log-Jacobian of the slot's map from
its unconstrained variable, and swapping priors through ``pm.Data`` must change that
density without rebuilding or recompiling the model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from srsbayes.errors import InputError
from srsbayes.families import FAMILIES
from srsbayes.priors.distributions import (
    DISTRIBUTIONS,
    Prior,
    check_support,
    merge_priors,
    parse_assignment,
    parse_prior,
    slot_data,
)
from srsbayes.priors.heterogeneity import (
    COMPARISONS,
    TURNER_2015,
    TURNER_GENERAL,
    log_or_se,
    resolve_uisd,
    turner_prior,
    unit_information_sd,
)

# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("halfnormal(0.5)", Prior("halfnormal", (0.5,))),
        ("normal(0, 1.5)", Prior("normal", (0.0, 1.5))),
        ("  Normal( -1 ,2.5e-1 )  ", Prior("normal", (-1.0, 0.25))),
        ("studentt(3, 0, 2.5)", Prior("studentt", (3.0, 0.0, 2.5))),
        ("uniform(0, 2)", Prior("uniform", (0.0, 2.0))),
        ("halfcauchy(1)", Prior("halfcauchy", (1.0,))),
        ("halfstudentt(3, 0.5)", Prior("halfstudentt", (3.0, 0.5))),
        ("lognormal(0.3, 0.3)", Prior("lognormal", (0.3, 0.3))),
        ("turner(-2.56, 1.74)", Prior("turner", (-2.56, 1.74))),
        ("uisd(0.5)", Prior("uisd", (0.5,))),
    ],
)
def test_parse(text, expected):
    prior = parse_prior(text)
    assert prior == expected
    assert parse_prior(str(prior)) == prior
    assert str(parse_prior(str(prior))) == str(prior)


def test_canonical_text():
    assert str(parse_prior("halfnormal(0.50)")) == "halfnormal(0.5)"
    assert str(parse_prior("normal(0.0, 1.5)")) == "normal(0, 1.5)"
    assert str(parse_prior("normal(0, 1.23456789)")) == "normal(0, 1.23456789)"
    assert parse_prior("halfnormal(0.5)").display == "halfnormal(0.5)"
    assert Prior("halfnormal", (0.5,), label="weak").display == "weak"


def _valid_prior() -> st.SearchStrategy[Prior]:
    # the admissible ranges of docs/priors.md: locations, scales, degrees of freedom
    real = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
    pos = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
    nu = st.floats(0.5, 1e3, allow_nan=False, allow_infinity=False)
    by_name = {
        "normal": st.tuples(real, pos), "studentt": st.tuples(nu, real, pos),
        "halfnormal": st.tuples(pos), "halfcauchy": st.tuples(pos),
        "halfstudentt": st.tuples(nu, pos), "lognormal": st.tuples(real, pos),
        "turner": st.tuples(real, pos), "uisd": st.tuples(pos),
        "uniform": st.tuples(real, real).filter(lambda p: abs(p[0] - p[1]) >= 1e-3)
        .map(sorted).map(tuple),
    }
    assert set(by_name) == set(DISTRIBUTIONS)
    return st.sampled_from(sorted(by_name)).flatmap(
        lambda name: by_name[name].map(lambda p: Prior(name, tuple(float(x) for x in p))))


@settings(max_examples=60, deadline=None)
@given(_valid_prior())
def test_round_trip_any_valid_prior(prior):
    assert parse_prior(str(prior)) == prior


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("gamma(2, 1)", "unknown distribution 'gamma'; known: normal, studentt"),
        ("normal(0)", "normal takes 2 number(s) (mu, sigma), got 'normal(0)'"),
        ("halfnormal(0.5, 1)", "halfnormal takes 1 number(s) (sigma)"),
        ("studentt(3, 0)", "studentt takes 3 number(s) (nu, mu, sigma)"),
        ("normal(0, abc)", "normal takes 2 number(s)"),
        ("normal(0, inf)", "normal takes 2 number(s)"),
        ("normal(0, nan)", "normal takes 2 number(s)"),
        ("normal(0,)", "normal takes 2 number(s)"),
        ("halfnormal()", "halfnormal takes 1 number(s)"),
        ("halfnormal(0)", "halfnormal: sigma must be > 0, got 0"),
        ("halfnormal(-0.5)", "halfnormal: sigma must be > 0, got -0.5"),
        ("normal(0, -1)", "normal: sigma must be > 0"),
        ("studentt(0, 0, 1)", "studentt: nu must be > 0"),
        ("studentt(3, 0, 0)", "studentt: sigma must be > 0"),
        ("halfcauchy(0)", "halfcauchy: beta must be > 0"),
        ("halfstudentt(3, 0)", "halfstudentt: sigma must be > 0"),
        ("halfstudentt(-1, 1)", "halfstudentt: nu must be > 0"),
        ("lognormal(0, 0)", "lognormal: sigma must be > 0"),
        ("turner(-2.56, 0)", "turner: sigma must be > 0"),
        ("uisd(0)", "uisd: fraction must be > 0"),
        ("uniform(1, 1)", "uniform: lower must be < upper"),
        ("uniform(2, 1)", "uniform: lower must be < upper"),
        ("halfnormal 0.5", "cannot parse prior 'halfnormal 0.5'"),
        ("halfnormal(0.5", "cannot parse prior"),
        ("", "cannot parse prior ''"),
        ("0.5", "cannot parse prior"),
        ("turner(cause_specific)", "unknown Turner comparison None"),
        ("turner(foo, pharma_placebo)", "unknown Turner outcome type 'foo'"),
        ("turner(mortality, pharma_vs_placebo)", "unknown Turner comparison 'pharma_vs_placebo'"),
        ("turner(general, pharma_placebo)", "unknown Turner outcome type 'general'"),
    ],
)
def test_parse_errors(text, fragment):
    with pytest.raises(InputError) as info:
        parse_prior(text, where="priors.tau", file="spec.toml")
    assert fragment in info.value.message
    assert str(info.value).startswith("spec.toml: column 'priors.tau': ")
    assert "\n" not in str(info.value)


def test_parse_assignment():
    assert parse_assignment("tau=halfnormal(1)") == ("tau", Prior("halfnormal", (1.0,)))
    assert parse_assignment(" tau = turner(general) ")[1] == Prior("turner", TURNER_GENERAL)
    for bad in ("tau", "=halfnormal(1)", "tau:halfnormal(1)"):
        with pytest.raises(InputError, match="expected NAME=DIST") as info:
            parse_assignment(bad)
        assert info.value.column == "--prior"
    with pytest.raises(InputError) as info:
        parse_assignment("tau=halfnormal(-1)")
    assert str(info.value) == "column '--prior tau': halfnormal: sigma must be > 0, got -1"


# -- merging and support -----------------------------------------------------------------

BINOMIAL = FAMILIES["binomial"].slots
DEFAULTS = {"effect": Prior("normal", (0.0, 1.5)), "tau": Prior("halfnormal", (0.5,)),
            "baseline": Prior("normal", (0.0, 2.5))}


def test_merge_overrides_by_key():
    merged = merge_priors(DEFAULTS, {"tau": Prior("halfcauchy", (1.0,))}, BINOMIAL)
    assert merged == {**DEFAULTS, "tau": Prior("halfcauchy", (1.0,))}
    assert merge_priors(DEFAULTS, {}, BINOMIAL) == DEFAULTS
    assert merge_priors(DEFAULTS, {"tau": Prior("uisd", (0.5,))}, BINOMIAL)["tau"].dist == "uisd"


def test_merge_unknown_key():
    with pytest.raises(InputError) as info:
        merge_priors(DEFAULTS, {"sigma": Prior("halfnormal", (1.0,))}, BINOMIAL)
    assert str(info.value) == ("column '--prior': unknown prior name 'sigma'; "
                               "known: effect, tau, baseline")
    with pytest.raises(InputError) as info:
        merge_priors(DEFAULTS, {"se_inflation": Prior("lognormal", (0.0, 1.0))}, BINOMIAL,
                     source="grid.toml")
    assert str(info.value) == ("grid.toml: column 'se_inflation': unknown prior name "
                               "'se_inflation'; known: effect, tau, baseline")


@pytest.mark.parametrize(
    ("slot", "text", "fragment"),
    [
        ("tau", "normal(0, 1)", "needs a prior on positive values"),
        ("tau", "studentt(3, 0, 1)", "needs a prior on positive values"),
        ("tau", "uniform(-1, 2)", "lower must be >= 0"),
        ("effect", "halfnormal(1)", "needs a prior on the whole real line"),
        ("effect", "lognormal(0, 1)", "needs a prior on the whole real line"),
        ("effect", "turner(general)", "needs a prior on the whole real line"),
        ("effect", "uisd(0.5)", "needs a prior on the whole real line"),
    ],
)
def test_merge_checks_support(slot, text, fragment):
    with pytest.raises(InputError) as info:
        merge_priors(DEFAULTS, {slot: parse_prior(text)}, BINOMIAL)
    assert fragment in info.value.message
    assert info.value.column == slot


def test_uniform_fits_either_support():
    check_support("effect", parse_prior("uniform(-3, 3)"), "real")
    check_support("tau", parse_prior("uniform(0, 2)"), "positive")


def test_uisd_must_be_resolved_before_use():
    with pytest.raises(InputError, match="resolve against data first"):
        slot_data("tau", Prior("uisd", (0.5,)))
    resolved = resolve_uisd(Prior("uisd", (0.5,)), 2.0)
    assert resolved == Prior("halfnormal", (1.0,))
    assert "UISD" in resolved.display
    assert resolve_uisd(Prior("halfnormal", (0.3,)), 2.0) == Prior("halfnormal", (0.3,))


# -- Turner et al. (2015) and unit-information priors ------------------------------------


def test_turner_general():
    prior = parse_prior("turner(general)")
    assert prior == Prior("turner", (-2.56, 1.74)) == turner_prior("general")
    assert prior.label.startswith("Turner 2015, general")
    tau = prior.scipy()
    assert tau.median() == pytest.approx(math.exp(-1.28), abs=1e-12)
    # tau^2 is log-normal(-2.56, 1.74): compare quantiles of tau^2 directly.
    tau2 = stats.lognorm(s=1.74, scale=math.exp(-2.56))
    for q in (0.025, 0.25, 0.5, 0.75, 0.975):
        assert tau.ppf(q) ** 2 == pytest.approx(tau2.ppf(q), rel=1e-10)
    assert prior.canonical() == (DISTRIBUTIONS["lognormal"].code, (-1.28, 0.87, 1.0))


def test_turner_named():
    prior = parse_prior("turner(cause_specific, nonpharma_nonpharma)")
    assert prior == Prior("turner", (-3.27, 1.68))
    assert parse_prior("turner( cause_specific , nonpharma_nonpharma )") == prior
    assert prior.label == ("Turner 2015, cause specific, nonpharma nonpharma: "
                           "log τ² ~ N(-3.27, 1.68²)")
    assert str(prior) == "turner(-3.27, 1.68)"


def test_turner_density_matches_bayesmeta_formula():
    """bayesmeta's dprior(tau) = log 2 + log tau + dlnorm(tau^2, mu, sigma, log=TRUE)."""
    mu, sigma = TURNER_2015["mortality"][COMPARISONS.index("pharma_placebo")]
    tau = np.array([0.01, 0.1, 0.3, 1.0, 2.5])
    expected = (math.log(2) + np.log(tau)
                + stats.lognorm(s=sigma, scale=math.exp(mu)).logpdf(tau**2))
    np.testing.assert_allclose(turner_prior("mortality", "pharma_placebo").scipy().logpdf(tau),
                               expected, rtol=0, atol=1e-10)


# Table IV of Turner et al. (2015) as transcribed in the R package bayesmeta
# (TurnerEtAlParameters): one row per outcome type, columns in COMPARISONS order.
BAYESMETA_MU = -np.array([
    [3.95, 3.52, 3.71, 2.34, 2.14, 2.99, 2.71, 2.29, 1.87, 2.49, 2.06, 1.83, 2.54, 2.12, 1.77,
     2.70],
    [4.18, 3.75, 3.95, 2.58, 2.37, 3.23, 2.94, 2.53, 2.10, 2.73, 2.29, 2.06, 2.78, 2.35, 2.00,
     2.93],
    [4.17, 3.74, 3.93, 2.56, 2.36, 3.21, 2.93, 2.51, 2.10, 2.71, 2.28, 2.05, 2.77, 2.34, 1.99,
     2.92],
    [2.92, 2.49, 2.68, 1.31, 1.11, 1.96, 1.67, 1.26, 0.84, 1.46, 1.03, 0.80, 1.51, 1.09, 0.74,
     1.67],
    [3.50, 3.08, 3.27, 1.90, 1.69, 2.55, 2.26, 1.85, 1.43, 2.05, 1.61, 1.38, 2.10, 1.67, 1.33,
     2.26],
]).T
BAYESMETA_SIGMA = np.array([
    [1.34, 1.74, 1.74, 1.74, 1.74, 1.74, 1.74, 1.53, 1.52, 1.52, 1.51, 1.52, 1.54, 1.53, 1.52,
     1.52],
    [1.41, 1.79, 1.79, 1.79, 1.79, 1.79, 1.79, 1.58, 1.58, 1.58, 1.58, 1.58, 1.60, 1.60, 1.58,
     1.58],
    [1.55, 1.91, 1.91, 1.91, 1.91, 1.91, 1.92, 1.72, 1.71, 1.71, 1.71, 1.71, 1.73, 1.72, 1.71,
     1.71],
    [1.02, 1.50, 1.51, 1.50, 1.50, 1.51, 1.51, 1.25, 1.24, 1.24, 1.24, 1.25, 1.27, 1.27, 1.24,
     1.25],
    [1.26, 1.68, 1.68, 1.68, 1.68, 1.68, 1.68, 1.46, 1.45, 1.45, 1.45, 1.45, 1.47, 1.47, 1.45,
     1.45],
]).T


def test_turner_table_matches_bayesmeta():
    assert len(TURNER_2015) == 16
    for i, outcome in enumerate(TURNER_2015):
        for j, comparison in enumerate(COMPARISONS):
            assert turner_prior(outcome, comparison).params == (
                BAYESMETA_MU[i, j], BAYESMETA_SIGMA[i, j]), (outcome, comparison)


def test_unit_information_sd_by_hand():
    # sum(n) = 30, sum(se^-2) = 4 + 16 = 20  ->  sqrt(30 / 20)
    assert unit_information_sd([10, 20], [0.5, 0.25]) == pytest.approx(math.sqrt(1.5), abs=1e-14)
    # if every se is sigma / sqrt(n), the UISD recovers sigma
    n = np.array([4, 16, 25])
    assert unit_information_sd(n, 2 / np.sqrt(n)) == pytest.approx(2.0, abs=1e-14)


def test_log_or_se_by_hand():
    np.testing.assert_allclose(log_or_se([1], [10], [2], [10]),
                               [math.sqrt(1 / 1 + 1 / 9 + 1 / 2 + 1 / 8)], atol=1e-14)
    # a zero cell adds 0.5 to every cell of that study only
    np.testing.assert_allclose(
        log_or_se([0, 1], [10, 10], [2, 2], [10, 10]),
        [math.sqrt(1 / 0.5 + 1 / 10.5 + 1 / 2.5 + 1 / 8.5),
         math.sqrt(1 / 1 + 1 / 9 + 1 / 2 + 1 / 8)], atol=1e-14)


# -- the model-side density --------------------------------------------------------------

REAL_PRIORS = ["normal(0, 1.5)", "normal(-1, 0.3)", "studentt(3, 0.5, 2)", "studentt(1, 0, 1)",
               "studentt(30, -2, 0.7)", "uniform(-2, 3)"]
POSITIVE_PRIORS = ["halfnormal(0.5)", "halfnormal(2.5)", "halfcauchy(1)", "halfcauchy(0.3)",
                   "halfstudentt(3, 0.5)", "halfstudentt(1, 2)", "lognormal(0.3, 0.3)",
                   "lognormal(-1, 2)", "turner(general)",
                   "turner(cause_specific, nonpharma_nonpharma)", "uniform(0, 2)",
                   "uniform(0.5, 4)"]
RAW = np.array([-3.0, -0.7, 0.0, 0.4, 2.5])
TOL = 1e-8


def expected_logp(prior: Prior, support: str, raw: float) -> tuple[float, float]:
    """(value, scipy log density of value + log |d value / d raw|)."""
    if prior.dist == "uniform":
        lo, hi = prior.params
        s = special.expit(raw)
        value = lo + (hi - lo) * s
        log_jac = math.log((hi - lo) * s * (1 - s))
    elif support == "positive":
        value, log_jac = math.exp(raw), raw
    else:
        value, log_jac = raw, 0.0
    return value, float(prior.scipy().logpdf(value)) + log_jac


class Slot:
    """A one-slot model, compiled once: its log density and its parameter value."""

    def __init__(self, prior: Prior, support: str, dims: int | None = None) -> None:
        import pymc as pm
        import pytensor

        from srsbayes.priors.distributions import prior_slot

        coords = {"k": range(dims)} if dims else None
        with pm.Model(coords=coords) as self.model:
            prior_slot("x", prior, support, dims="k" if dims else None)
        self.logp = self.model.compile_logp()
        outs = self.model.replace_rvs_by_values([self.model["x"], self.model["x_prior"]])
        self._fn = pytensor.function(self.model.value_vars, outs)

    def __call__(self, raw) -> tuple[np.ndarray, float, float]:
        raw = np.asarray(raw, dtype=float)
        value, potential = self._fn(raw)
        return value, float(potential), float(self.logp({"x_raw": raw}))

    def set_prior(self, prior: Prior) -> None:
        for key, val in slot_data("x", prior).items():
            self.model.set_data(key, val)


def _check(slot: Slot, prior: Prior, support: str) -> None:
    for r in RAW:
        want_value, want_lp = expected_logp(prior, support, r)
        value, potential, logp = slot(r)
        assert float(value) == pytest.approx(want_value, abs=TOL, rel=TOL), (prior, r)
        assert abs(potential - want_lp) < TOL, (str(prior), r, potential, want_lp)
        assert abs(logp - want_lp) < TOL, (str(prior), r, logp, want_lp)  # Flat adds nothing


@pytest.mark.parametrize(
    ("text", "support"),
    [*((t, "real") for t in REAL_PRIORS), *((t, "positive") for t in POSITIVE_PRIORS)],
)
def test_slot_density_equals_scipy(text, support):
    prior = parse_prior(text)
    _check(Slot(prior, support), prior, support)


@pytest.mark.parametrize("support", ["real", "positive"])
def test_swapping_priors_needs_no_rebuild(support):
    texts = REAL_PRIORS if support == "real" else POSITIVE_PRIORS
    slot = Slot(parse_prior(texts[0]), support)
    model, logp, fn = slot.model, slot.logp, slot._fn
    first = slot(0.4)
    for text in [*texts[1:], texts[0]]:
        prior = parse_prior(text)
        slot.set_prior(prior)
        _check(slot, prior, support)
        assert (slot.model, slot.logp, slot._fn) == (model, logp, fn)  # same compiled objects
    assert slot(0.4) == first  # back where it started


def test_vector_slot_sums_elementwise_density():
    prior = parse_prior("halfstudentt(3, 0.5)")
    slot = Slot(prior, "positive", dims=len(RAW))
    value, potential, logp = slot(RAW)
    want = [expected_logp(prior, "positive", r) for r in RAW]
    np.testing.assert_allclose(value, [v for v, _ in want], rtol=TOL, atol=TOL)
    assert abs(potential - sum(lp for _, lp in want)) < TOL
    assert abs(logp - potential) < TOL
    other = parse_prior("uniform(0.5, 4)")
    slot.set_prior(other)
    _, potential, _ = slot(RAW)
    assert abs(potential - sum(expected_logp(other, "positive", r)[1] for r in RAW)) < TOL


@pytest.mark.parametrize("text", ["halfnormal(2.5)", "halfcauchy(1)", "lognormal(0.3, 0.3)",
                                  "turner(general)", "uniform(0.5, 4)", "uniform(1.5, 4)"])
def test_bounded_slot_is_the_prior_truncated_at_its_bound(text):
    """A positive slot with ``bound=1`` (the median family's SE inflation) holds the stated
    density on (1, inf), up to the truncation's normalising constant, which is 0 here in
    log terms for every family because the slot never renormalises."""
    import pymc as pm
    import pytensor

    from srsbayes.priors.distributions import prior_slot

    prior = parse_prior(text)
    with pm.Model() as model:
        prior_slot("x", prior, "positive", bound=1.0)
    fn = pytensor.function(model.value_vars,
                           model.replace_rvs_by_values([model["x"], model["x_prior"]]))
    for r in RAW:
        value, potential = (float(v) for v in fn(np.asarray(r)))
        if prior.dist == "uniform":
            lo, hi = max(prior.params[0], 1.0), prior.params[1]
            s = special.expit(r)
            assert value == pytest.approx(lo + (hi - lo) * s, rel=TOL)
            want = math.log(s * (1 - s))  # raw's density when the value is uniform on (lo, hi)
        else:
            assert value == pytest.approx(1.0 + math.exp(r), rel=TOL)
            want = float(prior.scipy().logpdf(value)) + r  # d value / d raw = exp(raw)
        assert value > 1.0
        assert abs(potential - want) < TOL, (text, r, potential, want)
