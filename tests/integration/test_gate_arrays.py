"""The convergence gate on stacked arrays equals the ArviZ DataTree wrappers it replaced (issue 15).

``check_convergence`` calls arviz_stats' array functions once per statistic on the gated draws
stacked into one (chain, draw, element) array. It is the same arithmetic on the same numbers
as ``az.rhat(idata, var_names=...)``, ``az.ess`` and ``az.bfmi``, so every statistic, the
extremes and the messages are compared with ``==`` (NaN only where both are NaN).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import arviz as az
import numpy as np
import pytest
import xarray as xr

from srsbayes.inference import diagnostics as dg
from srsbayes.inference.fitting import FitSettings, model_data, resolve_priors, sample_posterior
from srsbayes.inputs.data import StudyTable, outcome_table
from srsbayes.inputs.specs import OutcomeSpec

# -- the gate as it was: ArviZ's DataTree-level wrappers ------------------------------------------


def _wrapper_nan_names(ds: xr.Dataset) -> tuple[str, ...]:
    out = []
    for name, v in ds.data_vars.items():
        values = np.asarray(v.values, dtype=float)
        if values.ndim == 0:
            out.extend([str(name)] if np.isnan(values) else [])
            continue
        out.extend(f"{name}[{', '.join(str(i) for i in idx)}]"
                   for idx in np.argwhere(np.isnan(values)))
    return tuple(out)


def _wrapper_values(tree: xr.DataTree) -> np.ndarray:
    ds = tree.to_dataset()
    return np.concatenate([np.asarray(v.values, dtype=float).ravel()
                           for v in ds.data_vars.values()])


def _wrapper_statistics(idata: xr.DataTree, names: list[str]) -> dict[str, xr.DataTree]:
    return {"rhat": az.rhat(idata, var_names=names),
            "bulk": az.ess(idata, var_names=names, method="bulk"),
            "tail": az.ess(idata, var_names=names, method="tail")}


def _wrapper_gate(idata: xr.DataTree, var_names: Sequence[str]) -> dg.Diagnostics:
    """``check_convergence`` before issue 15, verbatim but for the helpers' names."""
    stats = _wrapper_statistics(idata, list(var_names))

    def extreme(tree: xr.DataTree, reduce: Callable[[np.ndarray], Any]):
        return float(reduce(_wrapper_values(tree))), _wrapper_nan_names(tree.to_dataset())

    rhat, rhat_nan = extreme(stats["rhat"], np.max)
    ess_bulk, bulk_nan = extreme(stats["bulk"], np.min)
    ess_tail, tail_nan = extreme(stats["tail"], np.min)
    divergences = int(idata["sample_stats"]["diverging"].sum())
    energy = np.asarray(az.bfmi(idata).to_dataset()["energy"].values, dtype=float).ravel()
    bfmi = float(np.min(energy))
    bfmi_nan = [f"chain {i}" for i in np.flatnonzero(np.isnan(energy))]
    failures = [
        *dg._bound_failure("R-hat", rhat, rhat_nan, dg.RHAT_MAX, upper=True, fmt=".3f"),
        *dg._bound_failure("bulk ESS", ess_bulk, bulk_nan, dg.ESS_MIN, upper=False, fmt=".0f"),
        *dg._bound_failure("tail ESS", ess_tail, tail_nan, dg.ESS_MIN, upper=False, fmt=".0f"),
        *([f"{divergences} divergent transition(s)"] if divergences else []),
        *dg._bound_failure("E-BFMI", bfmi, bfmi_nan, dg.BFMI_MIN, upper=False, fmt=".2f"),
    ]
    return dg.Diagnostics(rhat, ess_bulk, ess_tail, divergences, bfmi, tuple(failures))


# -- comparisons ---------------------------------------------------------------------------------


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-equal arrays, NaN where both are NaN."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def _assert_same_gate(idata: xr.DataTree, names: Sequence[str]) -> dg.Diagnostics:
    new, old = dg.check_convergence(idata, names), _wrapper_gate(idata, names)
    for key, value in old.as_dict().items():
        got = new.as_dict()[key]
        assert got == value or (isinstance(value, float) and math.isnan(value)
                                and math.isnan(got)), (key, got, value)
    return new


def _assert_same_statistics(idata: xr.DataTree, names: Sequence[str]) -> None:
    """Every element's statistic, not only the extremes, equals the wrapper's."""
    gated = dg._gated_draws(idata["posterior"], list(names))
    draws = [d for _, _, d in gated]
    axes = {"chain_axis": 0, "draw_axis": 1}
    prob = az.rcParams["stats.ci_prob"]
    new = {"rhat": dg._per_element(lambda a: dg.array_stats.rhat(a, **axes), draws),
           "bulk": dg._per_element(lambda a: dg.array_stats.ess(a, method="bulk", **axes),
                                   draws),
           "tail": dg._per_element(
               lambda a: dg.array_stats.ess(a, method="tail", prob=prob, **axes), draws)}
    for key, tree in _wrapper_statistics(idata, list(names)).items():
        assert _same(new[key], _wrapper_values(tree)), key
        nan = np.flatnonzero(np.isnan(new[key]))
        assert dg._element_names(gated, nan) == _wrapper_nan_names(tree.to_dataset()), key


# -- seeded synthetic trees ----------------------------------------------------------------------


def _synthetic(rng: np.random.Generator, draws: int = 400) -> xr.DataTree:
    """A scalar, a vector (``study``), a matrix (``site`` x ``arm``) and a float32 vector,
    autocorrelated (AR(1)) so that the ESS are not all near the number of draws."""
    def ar1(*shape: int) -> np.ndarray:
        eps = rng.standard_normal((4, draws, *shape))
        out = np.empty_like(eps)
        out[:, 0] = eps[:, 0]
        for t in range(1, draws):
            out[:, t] = 0.8 * out[:, t - 1] + eps[:, t]
        return out

    post = xr.Dataset({
        "mu": (("chain", "draw"), ar1()),
        "theta": (("chain", "draw", "study"), ar1(5)),
        "cell": (("chain", "draw", "site", "arm"), ar1(3, 2)),
        "w": (("chain", "draw", "study"), ar1(5).astype(np.float32)),
    })
    stats_ = xr.Dataset({"diverging": (("chain", "draw"), rng.random((4, draws)) < 0.002),
                         "energy": (("chain", "draw"), ar1())})
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats_})


def _edited(tree: xr.DataTree, group: str, name: str, edit: Callable[[np.ndarray], None]
            ) -> xr.DataTree:
    da = tree[group][name]
    values = da.values.copy()
    edit(values)
    out = tree.copy()
    out[group] = tree[group].to_dataset().assign({name: (da.dims, values)})
    return out


NAMES = ("theta", "mu", "cell")
"""Not the posterior's order: the NaN messages list variables in ``var_names`` order."""


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_healthy_synthetic_tree_matches_wrappers(seed):
    tree = _synthetic(np.random.default_rng(seed))
    _assert_same_statistics(tree, NAMES)
    d = _assert_same_gate(tree, NAMES)
    assert 1.0 < d.rhat_max < 1.05 and 50 < d.ess_bulk_min < 400  # AR(1) with phi = 0.8


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_draw_stuck_element_and_constant_chain_match_wrappers():
    def theta(v):
        v[1, 33, 2] = np.nan          # a non-finite draw: theta[2]
        v[:, :, 4] = 0.25             # stuck at one value in every chain: theta[4]

    def cell(v):
        v[3, :, 1, 0] = -1.0          # one chain constant: cell[1, 0]
        v[:, :, 2, 1] = 7.0           # stuck everywhere: cell[2, 1]

    tree = _edited(_synthetic(np.random.default_rng(21)), "posterior", "theta", theta)
    tree = _edited(tree, "posterior", "cell", cell)
    tree = _edited(tree, "sample_stats", "energy", lambda v: v.__setitem__((2, 9), np.nan))
    _assert_same_statistics(tree, NAMES)
    d = _assert_same_gate(tree, NAMES)
    assert math.isnan(d.rhat_max) and math.isnan(d.bfmi_min)
    assert d.failures[0] == ("R-hat is NaN for theta[2], theta[4], cell[2, 1] "
                             "(a stuck chain or non-finite draws)")
    assert d.failures[-1] == "E-BFMI is NaN for chain 2 (a stuck chain or non-finite draws)"


def test_mixed_dtypes_and_dim_order_match_wrappers():
    # float32 beside float64 is not stacked (promotion would move ties); a variable whose
    # sample dims are not first is transposed as apply_ufunc transposes it.
    tree = _synthetic(np.random.default_rng(31))
    post = tree["posterior"].to_dataset()
    tree["posterior"] = post.assign(theta=post["theta"].transpose("study", "chain", "draw"))
    names = ("w", "theta", "mu")
    _assert_same_statistics(tree, names)
    _assert_same_gate(tree, names)


# -- one real nutpie fit -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lmd_posterior(specs: dict[str, OutcomeSpec], bundled_table: StudyTable) -> xr.DataTree:
    spec = specs["lmd"]
    wide = outcome_table(bundled_table, spec)
    return sample_posterior(spec.family, model_data(spec, wide), resolve_priors(spec, wide),
                            FitSettings(draws=300, tune=300, seed=15))


def test_real_fit_matches_wrappers(lmd_posterior):
    from srsbayes.families import get_family

    names = get_family("binomial").DIAGNOSTIC_VARS
    _assert_same_statistics(lmd_posterior, names)
    d = _assert_same_gate(lmd_posterior, names)
    assert d.divergences == 0 and 0.3 < d.bfmi_min and d.rhat_max < 1.05
