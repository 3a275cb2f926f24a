"""Each kind of extension is one registration, made here without editing the package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from srsbayes.errors import InputError
from srsbayes.families import get_family
from srsbayes.priors import NAMED_PRIORS, Prior, parse_prior, register_named_prior
from srsbayes.priors.distributions import merge_priors


@pytest.fixture
def sceptic():
    """A named prior of a team's own: 'sceptic(lmd)' is their agreed sceptical log-OR prior."""
    table = {"lmd": 0.35, "rn": 0.5}

    def factory(outcome: str) -> Prior:
        return Prior("normal", (0.0, table[outcome]), label=f"team sceptic for {outcome}")

    register_named_prior("sceptic", factory)
    yield
    del NAMED_PRIORS["sceptic"]


def test_named_prior_registered_from_outside(sceptic, specs, tmp_path):
    p = parse_prior("sceptic(lmd)")
    assert p == Prior("normal", (0.0, 0.35)) and p.display == "team sceptic for lmd"
    merged = merge_priors(specs["lmd"].priors, {"effect": parse_prior("sceptic(rn)")},
                          {"effect": "real", "tau": "positive", "baseline": "real"})
    assert merged["effect"].params == (0.0, 0.5)
    with pytest.raises(InputError, match="nsclc"):
        parse_prior("sceptic(nsclc)", where="effect")


def test_builtin_named_priors_are_registrations():
    assert "turner" in NAMED_PRIORS
    assert parse_prior("turner(general)").params == (-2.56, 1.74)
    # with numbers, the name is the distribution
    assert parse_prior("turner(-2.56, 1.74)") == Prior("turner", (-2.56, 1.74))
    with pytest.raises(InputError, match=r"known: .*turner"):
        parse_prior("nosuch(1)")


@pytest.fixture
def toy_family(monkeypatch):
    """Register ``tests/integration/toy_family.py`` as the family ``toy_log_ratio``."""
    from srsbayes.families import FAMILIES, FamilyInfo, register_family

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    info = register_family(FamilyInfo(
        "toy_log_ratio", "toy_family", "ratio_of_medians", {"effect": "real", "tau": "positive"},
        ("ratio", "percent"), "percent", axis="Ratio of median OS",
        title="Toy: normal-normal model of log ratios", audit_column="median_months",
        audit_unit=" months", audit_kind="medians", count_data=False, sbc_outcome="",
        default_grid={"sceptical": "normal(0, 0.1)", "vague": "normal(0, 10)",
                      "tau": ("halfnormal(0.1)", "halfnormal(0.3)")}))
    yield info
    del FAMILIES[info.name]


def test_family_registered_from_outside(toy_family, tmp_path):
    """A new family is a module plus one registration: specs accept it, the bundled table
    validates against it and it fits under the convergence gate, where NUTS agrees with the
    exact normal-normal posterior within Monte Carlo error."""
    from arviz_stats import mcse

    from srsbayes.families import FAMILIES
    from srsbayes.inference.exact import normal_normal_posterior
    from srsbayes.inference.fitting import FitSettings, fit_outcome
    from srsbayes.inputs.data import DEFAULT_DATA, read_table
    from srsbayes.inputs.specs import load_specs
    from srsbayes.resources import BUNDLED_MODELS

    models = tmp_path / "models"
    shutil.copytree(BUNDLED_MODELS, models)
    (models / "os.toml").write_text(TOY_SPEC)
    specs = load_specs(models)
    assert specs["os"].family == "toy_log_ratio"
    table = read_table(DEFAULT_DATA, specs)
    res = fit_outcome(table, specs["os"], settings=FitSettings(seed=4))
    assert res.ok
    data = get_family("toy_log_ratio").model_data(res.wide)
    exact = normal_normal_posterior(data["y"], data["s"], 0.5, parse_prior("halfnormal(0.3)"))
    theta = res.idata["posterior"]["effect"]
    err = float(mcse(res.idata, var_names=["effect"])["effect"])
    assert float(theta.mean()) == pytest.approx(exact.mu_mean_total(), abs=4 * err)
    assert res.summary["thresholds"][0]["measure"] == "ratio"
    # everything the module does not define is the contract's default: "not offered"
    fam = get_family("toy_log_ratio")
    assert fam.check_stated_baseline(0.2, specs["os"]) == (
        "outcome 'os' has no absolute effects at a stated baseline")
    assert fam.bias_scale(specs["os"]) is None and fam.normal_normal(data) is None
    assert fam.pooled_absolute("median_months") == ("", "")
    assert "baseline_sd_sensitivity" not in res.summary and "se_inflation" not in res.summary
    # the report's figures draw it from the contract alone
    from srsbayes.plots.figures import ppc_plot

    assert ppc_plot(res.summary, res.idata)[:8] == b"\x89PNG\r\n\x1a\n"
    panel = fam.ppc_panel("log_ratio", None, len(res.wide), FAMILIES["toy_log_ratio"])
    assert (panel.unit, panel.title) == ("log ratio of medians", "log ratio")


TOY_SPEC = '''id = "os"
label = "Median overall survival (toy model)"
family = "toy_log_ratio"
event = "death"
benefit = "higher"

[[thresholds]]
measure = "ratio"
threshold = 1.1

[priors.effect]
dist = "normal(0, 0.5)"
rationale = "as the bundled OS spec"

[priors.tau]
dist = "halfnormal(0.3)"
rationale = "as the bundled OS spec"
'''
