"""Outcome specs: the bundled ones, and every way a spec file can be wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import MODELS_DIR, files_under
from srsbayes.errors import EXIT_INPUT, InputError
from srsbayes.inputs.specs import default_models_dir, get_spec, load_spec_file, load_specs
from srsbayes.priors.distributions import Prior

# The whole [[thresholds]] table of models/dbf.toml, to replace it by a scalar.
_DBF = (MODELS_DIR / "dbf.toml").read_text(encoding="utf-8")
THRESHOLD_BLOCK = _DBF[_DBF.index("[[thresholds]]"):_DBF.index("[priors.effect]")]

# -- bundled specs ---------------------------------------------------------------------------


def test_bundled_specs(specs):
    assert list(specs) == ["dbf", "lc", "lmd", "os", "rn"]
    assert {k: s.family for k, s in specs.items()} == {
        "dbf": "binomial", "lc": "binomial", "lmd": "binomial", "os": "lognormal_median",
        "rn": "binomial"}
    assert {k: s.benefit for k, s in specs.items()} == {
        "dbf": "lower", "lc": "higher", "lmd": "lower", "os": "higher", "rn": "lower"}
    assert {k: s.sign for k, s in specs.items()} == {
        "dbf": -1, "lc": 1, "lmd": -1, "os": 1, "rn": -1}
    for key, spec in specs.items():
        assert spec.id == key
        assert spec.decision_probability == 0.95
        assert Path(spec.path) == MODELS_DIR / f"{key}.toml"
        assert spec.text == (MODELS_DIR / f"{key}.toml").read_text(encoding="utf-8")
        assert all(spec.rationales[name] for name in spec.priors), key


def test_bundled_priors_and_thresholds(specs):
    lmd = specs["lmd"]
    assert lmd.priors == {"effect": Prior("normal", (0, 1.5)),
                          "tau": Prior("halfnormal", (0.5,)),
                          "baseline": Prior("normal", (0, 2.5))}
    assert [(t.measure, t.threshold) for t in lmd.thresholds] == [("risk_difference", 5)]
    assert [(t.measure, t.threshold) for t in specs["lc"].thresholds] == [
        ("risk_difference", 3)]
    os_ = specs["os"]
    assert set(os_.priors) == {"effect", "tau", "baseline", "se_inflation"}
    assert os_.priors["se_inflation"] == Prior("lognormal", (0.3, 0.3))
    assert [(t.measure, t.threshold) for t in os_.thresholds] == [("ratio", 1.1),
                                                                   ("months", 1)]
    assert lmd.event == "leptomeningeal disease"


def test_default_models_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("SRSBAYES_MODELS", raising=False)
    assert default_models_dir() == MODELS_DIR
    monkeypatch.setenv("SRSBAYES_MODELS", str(tmp_path))
    assert default_models_dir() == tmp_path


# -- broken specs ----------------------------------------------------------------------------


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """A private copy of the bundled models/ folder, to break."""
    d = tmp_path / "models"
    d.mkdir()
    for p in MODELS_DIR.glob("*.toml"):
        shutil.copy(p, d / p.name)
    return d


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not unique in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def load_error(models: Path, monkeypatch, *, via_env: bool = False) -> InputError:
    if via_env:
        monkeypatch.setenv("SRSBAYES_MODELS", str(models))
        call = load_specs
    else:
        call = lambda: load_specs(models)  # noqa: E731
    with pytest.raises(InputError) as info:
        call()
    return info.value


def test_copy_loads(models, specs):
    copy = load_specs(models)
    assert {k: (s.family, s.priors) for k, s in copy.items()} == {
        k: (s.family, s.priors) for k, s in specs.items()}


def test_env_var_selects_models(models, monkeypatch):
    (models / "rn.toml").unlink()
    monkeypatch.setenv("SRSBAYES_MODELS", str(models))
    assert list(load_specs()) == ["dbf", "lc", "lmd", "os"]


# Each case: (file, old text, new text, column, message fragment).
BROKEN = {
    "unknown-family": ("lmd", 'family = "binomial"', 'family = "poisson"', "family",
                       "unknown family 'poisson'; known: binomial, lognormal_median"),
    "family-not-a-string": ("lmd", 'family = "binomial"', 'family = ["binomial"]', "family",
                            "unknown family"),
    "bad-benefit": ("rn", 'benefit = "lower"', 'benefit = "less"', "benefit",
                    "must be 'lower' or 'higher'"),
    "unknown-prior-name": ("lc", "[priors.tau]", "[priors.sigma]\ndist = \"halfnormal(1)\"\n\n"
                           "[priors.tau]", "priors.sigma",
                           "unknown prior name 'sigma'; binomial has: effect, tau, baseline"),
    "se-inflation-on-binomial": ("lc", "[priors.tau]", "[priors.se_inflation]\n"
                                 "dist = \"lognormal(0, 1)\"\n\n[priors.tau]",
                                 "priors.se_inflation", "unknown prior name 'se_inflation'"),
    "unknown-distribution": ("lmd", 'dist = "halfnormal(0.5)"', 'dist = "gamma(2, 1)"',
                             "priors.tau", "unknown distribution 'gamma'"),
    "wrong-support-tau": ("lmd", 'dist = "halfnormal(0.5)"', 'dist = "normal(0, 1)"', "tau",
                          "normal(0, 1) does not fit 'tau', which needs a prior on positive"),
    "wrong-support-effect": ("lmd", 'dist = "normal(0, 1.5)"', 'dist = "halfnormal(1)"',
                             "effect", "does not fit 'effect', which needs a prior on the "
                             "whole real line"),
    "uisd-on-effect": ("lmd", 'dist = "normal(0, 1.5)"', 'dist = "uisd(0.5)"', "effect",
                       "uisd(0.5) does not fit 'effect'"),
    "uniform-negative-on-tau": ("lmd", 'dist = "halfnormal(0.5)"', 'dist = "uniform(-1, 2)"',
                                "tau", "lower must be >= 0"),
    "bad-prior-params": ("lmd", 'dist = "halfnormal(0.5)"', 'dist = "halfnormal(-0.5)"',
                         "priors.tau", "halfnormal: sigma must be > 0, got -0.5"),
    "prior-without-dist": ("lmd", 'dist = "halfnormal(0.5)"', 'law = "halfnormal(0.5)"',
                           "priors.tau", "needs dist"),
    "id-not-file-name": ("rn", 'id = "rn"', 'id = "necrosis"', "id",
                         "id 'necrosis' must match the file name"),
    "bad-threshold-measure": ("lmd", 'measure = "risk_difference"', 'measure = "hazard_ratio"',
                              "thresholds[0]",
                              "measure must be one of risk_difference, odds_ratio"),
    "binomial-measure-on-os": ("os", 'measure = "months"', 'measure = "risk_difference"',
                               "thresholds[1]", "measure must be one of ratio, months"),
    "threshold-not-a-number": ("lmd", "threshold = 5", 'threshold = "five"', "thresholds[0]",
                               "threshold must be a finite number"),
    "threshold-boolean": ("lmd", "threshold = 5", "threshold = true", "thresholds[0]",
                          "threshold must be a finite number"),
    "threshold-nan": ("lmd", "threshold = 5", "threshold = nan", "thresholds[0]",
                      "threshold must be a finite number"),
    "threshold-huge-integer": ("lmd", "threshold = 5", "threshold = " + "9" * 400,
                               "thresholds[0]", "threshold must be a finite number"),
    "ratio-threshold-not-positive": ("os", "threshold = 1.10", "threshold = 0", "thresholds[0]",
                                     "a ratio threshold must be > 0, got 0"),
    "label-not-a-string": ("lc", 'label = "Local control"', "label = 3", "label",
                           "must be a string"),
    "rationale-not-a-string": ("lc", 'rationale = "Weakly informative on the log odds ratio: '
                               '95% prior mass on OR 0.05-19; rules out implausibly huge '
                               'effects only."', 'rationale = ["weakly informative"]',
                               "priors.effect", "rationale must be a string"),
    "decision-probability-nan": ("lc", "decision_probability = 0.95",
                                 "decision_probability = nan", "decision_probability",
                                 "must be a number in [0.5, 1)"),
    "key-with-line-break": ("lc", "[priors.tau]", '[priors."ta\u2028u"]\ndist = "halfnormal(1)"'
                            "\n\n[priors.tau]", "priors.ta\\u2028u", "unknown prior name"),
    "thresholds-not-an-array": ("dbf", THRESHOLD_BLOCK, "thresholds = 5\n\n",
                                "thresholds", "must be an array"),
    "decision-probability-1": ("lc", "decision_probability = 0.95", "decision_probability = 1",
                               "decision_probability", "must be a number in [0.5, 1)"),
    "decision-probability-low": ("lc", "decision_probability = 0.95",
                                 "decision_probability = 0.3", "decision_probability",
                                 "must be a number in [0.5, 1)"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
@pytest.mark.parametrize("via_env", [False, True], ids=["arg", "env"])
def test_broken_spec(models, monkeypatch, case, via_env):
    stem, old, new, column, fragment = BROKEN[case]
    path = edit(models / f"{stem}.toml", old, new)
    err = load_error(models, monkeypatch, via_env=via_env)
    assert err.file == str(path)
    assert err.column == column
    assert fragment in err.message
    assert str(err).startswith(f"{path}: column '{column}': ")


@pytest.mark.parametrize("key", ["id", "label", "family", "benefit"])
def test_missing_required_key(models, monkeypatch, key):
    path = models / "lmd.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(ln for ln in lines if not ln.startswith(f"{key} ")) + "\n",
                    encoding="utf-8")
    err = load_error(models, monkeypatch)
    assert str(err) == f"{path}: column '{key}': missing required key"


def test_missing_priors_table(models, monkeypatch):
    path = models / "lmd.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[priors.")], encoding="utf-8")
    assert str(load_error(models, monkeypatch)) == (
        f"{path}: column 'priors': missing required key")


def test_missing_default_prior(models, monkeypatch):
    path = models / "os.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[priors.se_inflation]")], encoding="utf-8")
    assert str(load_error(models, monkeypatch)) == (
        f"{path}: column 'priors.se_inflation': no default prior")


def test_malformed_toml(models, monkeypatch):
    path = edit(models / "lc.toml", 'label = "Local control"', 'label = = "Local control"')
    err = load_error(models, monkeypatch)
    assert err.file == str(path)
    assert str(err).startswith(f"{path}: malformed TOML: ")
    assert "(at line 3, column 9)" in str(err)  # tomllib's own location is kept
    assert "\n" not in str(err)


def test_not_utf8_spec(models, monkeypatch):
    path = models / "lc.toml"
    path.write_bytes(path.read_bytes().replace(b"Local control", "Lokal Müller".encode(
        "latin-1"), 1))
    assert str(load_error(models, monkeypatch)) == f"{path}: spec file is not UTF-8 text"


def test_spec_file_not_found(tmp_path):
    with pytest.raises(InputError, match="spec file not found"):
        load_spec_file(tmp_path / "nope.toml")


def test_models_dir_not_found(tmp_path):
    with pytest.raises(InputError) as info:
        load_specs(tmp_path / "nowhere")
    assert str(info.value) == f"{tmp_path / 'nowhere'}: models directory not found"


def test_get_spec(models):
    assert get_spec("os", models).family == "lognormal_median"
    with pytest.raises(InputError) as info:
        get_spec("xyz", models)
    assert str(info.value) == ("column 'OUTCOME': unknown outcome 'xyz'; "
                               "specs exist for: dbf, lc, lmd, os, rn")


def test_spec_with_named_turner_prior(models):
    edit(models / "lmd.toml", 'dist = "halfnormal(0.5)"',
         'dist = "turner(cause_specific, nonpharma_nonpharma)"')
    assert load_specs(models)["lmd"].priors["tau"] == Prior("turner", (-3.27, 1.68))


def test_broken_spec_via_cli(models, tmp_path, monkeypatch, run_cli):
    path = edit(models / "lmd.toml", 'dist = "halfnormal(0.5)"', 'dist = "normal(0, 1)"')
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path)
    status, _, err = run_cli(["audit", "--models", models])
    assert status == EXIT_INPUT
    assert err.strip() == (f"srsbayes: error: {path}: column 'tau': normal(0, 1) does not "
                           "fit 'tau', which needs a prior on positive values")
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("old, new, column", [
    ('decision_probability = 0.95', 'decision_probabilty = 0.95', "decision_probabilty"),
    ('dist = "halfnormal(0.5)"', 'dist = "halfnormal(0.5)"\nscale = 2', "priors.tau.scale"),
    ('threshold = 5\n', 'threshold = 5\nunits = "pp"\n', "thresholds[0].units"),
])
def test_unknown_spec_keys_are_errors(tmp_path, old, new, column):
    """Like pymc-marketing's priors: a misspelt key is an error, never silently ignored."""
    import shutil

    from srsbayes.errors import InputError
    from srsbayes.inputs.specs import load_specs

    for p in MODELS_DIR.glob("*.toml"):
        shutil.copy(p, tmp_path / p.name)
    path = tmp_path / "lmd.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as exc:
        load_specs(tmp_path)
    assert exc.value.column == column and "unknown key" in exc.value.message
    assert exc.value.file == str(path)
