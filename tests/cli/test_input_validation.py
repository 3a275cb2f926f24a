"""Issue 20, input validation: every bad value that reaches a command is refused up front,
in one line with exit status 2, and every value inside its documented range is accepted.

Each failure the issue reported has a test here that failed before the fix (prior
parameters, seeds, CSV injection, outcome ids, infinite baselines and JSON, sampler sizes,
huge counts, a BOM in a spec, argparse messages, non-ASCII digits, invisible characters in
study names, long names in figures), and each class of value that reaches a command has a
property test (hypothesis): prior strings and their parameters, seeds, sizes, outcome ids
and the output paths they name, numeric cells, JSON values and CSV cells. Examples are
derandomized (no example database), so CI sees the same inputs every run.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MODELS_DIR, nothing_written, write_csv
from srsbayes.cli import types
from srsbayes.errors import EXIT_INPUT, InputError
from srsbayes.inference.budget import check_memory, memory_estimate
from srsbayes.inputs.cells import parse_number
from srsbayes.inputs.data import read_table
from srsbayes.inputs.specs import get_spec, load_spec_file, load_specs
from srsbayes.outputs import FORMULA_START, csv_cell, csv_text, json_text, write_json
from srsbayes.plots.figures import LABEL_WIDTH, study_label
from srsbayes.priors.distributions import (
    DISTRIBUTIONS,
    LOCATION_MAX,
    NU_RANGE,
    SCALE_RANGE,
    parse_prior,
)
from srsbayes.sensitivity.grid import default_grid
from srsbayes.values import SEED_MAX, clean_name, is_slug

SPECS = load_specs(MODELS_DIR)
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def one_line_error(status: int, err: str) -> str:
    """The single stderr line of an input error (exit 2), without its prefix."""
    assert status == EXIT_INPUT, err
    assert err.count("\n") == 1 and err.startswith("srsbayes: error: "), err
    return err.strip().removeprefix("srsbayes: error: ")


# -- 1. prior parameters ------------------------------------------------------------------------

EXTREME_PRIORS = ["normal(0, 1e-300)", "normal(1e308, 1)", "halfnormal(1e-320)",
                  "uniform(0, 1e308)", "studentt(1e-300, 0, 1)", "normal(0, 1e5)",
                  "halfcauchy(1e-9)", "lognormal(-1000, 1)", "uniform(-1e3, 0)",
                  "studentt(1e9, 0, 1)", "turner(0, 1e-7)", "uniform(0, 1e-9)"]


@pytest.mark.parametrize("text", EXTREME_PRIORS)
def test_extreme_prior_parameters_are_refused(text):
    with pytest.raises(InputError, match="admissible") as info:
        parse_prior(text, where="effect")
    assert info.value.column == "effect"
    assert "docs/priors.md" in str(info.value)


def test_extreme_prior_on_the_command_line_exits_2_before_sampling(run_cli, tmp_path):
    with nothing_written(tmp_path):
        status, out, err = run_cli(["fit", "lmd", "--prior", "effect=normal(0, 1e-300)",
                                    "--out", tmp_path / "out"])
    msg = one_line_error(status, err)
    assert msg == ("column '--prior effect': normal: sigma = 1e-300 is outside its admissible "
                   "range (scales must be between 0.001 and 1000; docs/priors.md)")
    assert out == ""


def test_extreme_prior_in_a_spec_names_file_and_key(tmp_path):
    text = (MODELS_DIR / "lmd.toml").read_text(encoding="utf-8")
    assert 'dist = "normal(0, 1.5)"' in text
    path = tmp_path / "lmd.toml"
    path.write_text(text.replace('dist = "normal(0, 1.5)"', 'dist = "normal(1e308, 1.5)"'),
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"mu = 1e\+308 is outside its admissible") as info:
        load_spec_file(path)
    assert info.value.file == str(path) and info.value.column == "priors.effect"


def test_the_admissible_corners_are_accepted():
    for text in ["normal(100, 0.001)", "normal(-100, 1000)", "halfnormal(0.001)",
                 "uniform(-100, 100)", "uniform(0, 0.001)", "studentt(0.5, 0, 1000)",
                 "halfstudentt(1000, 0.001)", "turner(-100, 1000)", "uisd(0.001)"]:
        prior = parse_prior(text)
        assert parse_prior(str(prior)) == prior


def _in_range(name: str, params: tuple[float, ...]) -> bool:
    """The documented admissible ranges (docs/priors.md), written out independently."""
    for p, x in zip(DISTRIBUTIONS[name].params, params, strict=True):
        if p in ("mu", "lower", "upper"):
            ok = -LOCATION_MAX <= x <= LOCATION_MAX
        elif p == "nu":
            ok = NU_RANGE[0] <= x <= NU_RANGE[1]
        else:
            ok = SCALE_RANGE[0] <= x <= SCALE_RANGE[1]
        if not ok:
            return False
    if name == "uniform":
        return params[1] - params[0] >= SCALE_RANGE[0]
    return True


finite = st.floats(allow_nan=False, allow_infinity=False)
param_values = st.one_of(finite, st.sampled_from([0.0, 1e-3, 1e3, 100.0, -100.0, 0.5, 1e-300,
                                                  1e308, -1e-320]),
                         st.floats(-200, 200), st.floats(1e-4, 2e3))


@PROPS
@given(st.sampled_from(sorted(DISTRIBUTIONS)), st.lists(param_values, min_size=1, max_size=3))
def test_prior_parameters_property(name, values):
    """A prior parses exactly when its parameters are in range; its text round-trips."""
    text = f"{name}({', '.join(repr(v) for v in values)})"
    arity = len(DISTRIBUTIONS[name].params)
    try:
        prior = parse_prior(text)
    except InputError as exc:
        assert "\n" not in str(exc)
        assert len(values) != arity or not _in_range(name, tuple(values))
        return
    assert len(values) == arity and _in_range(name, tuple(values))
    assert parse_prior(str(prior)) == prior


prior_text = st.text(alphabet=st.sampled_from("normaluifhcystdkep(),.-+0123456789e_ ٤４\u200b"),
                     max_size=30)


@PROPS
@given(prior_text)
def test_any_prior_string_parses_or_is_one_input_error(text):
    try:
        prior = parse_prior(text)
    except InputError as exc:
        assert "\n" not in exc.oneline()
        return
    assert _in_range(prior.dist, prior.params)


@pytest.mark.parametrize("text", ["normal(0, 1_5)", "normal(0, ١)", "normal(0, １)",
                                  "normal(0, inf)", "halfnormal(nan)"])
def test_prior_parameters_take_ascii_decimals_only(text):
    with pytest.raises(InputError, match=r"takes [12] number"):
        parse_prior(text)


# -- 2. seeds ------------------------------------------------------------------------------------

SEED_COMMANDS = [["fit", "lmd"], ["sweep", "lmd"], ["report"], ["certainty"], ["validate"]]


@pytest.mark.parametrize("command", SEED_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("seed", ["-1", str(2**64), str(10**30)])
def test_bad_seed_is_one_line_exit_2(run_cli, tmp_path, command, seed):
    with nothing_written(tmp_path):
        status, out, err = run_cli([*command, "--seed", seed, "--out", tmp_path / "out"])
    msg = one_line_error(status, err)
    assert msg.startswith("argument --seed: a seed must be between 0 and 2^64 - 1")
    assert f"see 'python -m srsbayes {command[0]} --help'" in msg
    assert out == ""


@PROPS
@given(st.one_of(st.integers(-2**70, 2**70), st.sampled_from([0, SEED_MAX, SEED_MAX + 1, -1])))
def test_seed_property(n):
    if 0 <= n <= SEED_MAX:
        assert types.seed(str(n)) == n
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            types.seed(str(n))


@PROPS
@given(st.text(max_size=25))
def test_seed_text_property(text):
    """Any text is a seed in range written in ASCII digits, or refused."""
    try:
        value = types.seed(text)
    except argparse.ArgumentTypeError:
        return
    assert 0 <= value <= SEED_MAX
    assert text.strip().lstrip("+").isascii() and text.strip().lstrip("+").isdigit()


# -- 8. CSV injection ----------------------------------------------------------------------------

def test_formula_cells_are_neutralised_and_numbers_stay_numbers():
    frame = pd.DataFrame({
        "setting": ["=cmd|' /C calc'!A0 left out", "+SUM(1,1)", "-2+3", "@SUM(A1)", "\tx",
                    "\rx", "Study A left out"],
        "median": [-0.5, 1.0, -2.0, 0.0, 3.5, -1e-9, 2.0],
        "ok": [True] * 7})
    rows = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    assert rows[0] == ["setting", "median", "ok"]
    assert [r[0] for r in rows[1:]] == ["'=cmd|' /C calc'!A0 left out", "'+SUM(1,1)", "'-2+3",
                                        "'@SUM(A1)", "'\tx", "'\rx", "Study A left out"]
    assert [r[1] for r in rows[1:]] == ["-0.5", "1.0", "-2.0", "0.0", "3.5", "-1e-09", "2.0"]


def test_sweep_csv_is_written_neutralised(tmp_path):
    from srsbayes.sensitivity.sweep import SweepResult

    rows = pd.DataFrame({"setting": ["default", "=cmd|' /C calc'!A0 left out"],
                         "p_benefit": [0.99, -0.5]})
    fake = SimpleNamespace(rows=rows, as_dict=lambda: {"rows": []}, provenance=None,
                           figure_png=lambda question=None: b"\x89PNG")
    paths = SweepResult.write(fake, tmp_path)
    back = pd.read_csv(paths["csv"])
    assert list(back["setting"]) == ["default", "'=cmd|' /C calc'!A0 left out"]
    assert list(back["p_benefit"]) == [0.99, -0.5]


@PROPS
@given(st.text(max_size=20))
def test_csv_cell_property(text):
    cell = csv_cell(text)
    assert not cell.startswith(FORMULA_START)
    assert cell == text or cell == "'" + text


# -- 9. outcome ids and output paths -------------------------------------------------------------

def _models_with(tmp_path: Path, name: str, spec_id: str) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    text = (MODELS_DIR / "lmd.toml").read_text(encoding="utf-8")
    (models / name).write_text(text.replace('id = "lmd"', f'id = "{spec_id}"'),
                               encoding="utf-8")
    return models


def test_spec_id_dot_dot_is_refused(tmp_path):
    models = _models_with(tmp_path, "...toml", "..")
    with pytest.raises(InputError, match="is not an outcome id") as info:
        load_specs(models)
    assert info.value.column == "id"


def test_upper_case_spec_id_is_refused_with_a_hint(tmp_path):
    models = _models_with(tmp_path, "LMD.toml", "LMD")
    with pytest.raises(InputError, match=r"\(ids are lower case\)"):
        load_specs(models)


def test_fit_dot_dot_exits_2_and_writes_nothing(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with nothing_written(tmp_path):
        status, _, err = run_cli(["fit", ".."])
    assert one_line_error(status, err).startswith("argument OUTCOME: not an outcome id: '..'")


def test_get_spec_refuses_a_path():
    with pytest.raises(InputError, match="not an outcome id"):
        get_spec("../lmd", MODELS_DIR)


@PROPS
@given(st.text(alphabet=st.sampled_from("abz09_-./\\Aé \x00"), min_size=1, max_size=8))
def test_outcome_ids_name_folders_inside_out(text):
    """Whatever the text, it is refused or names a folder directly inside ``--out``."""
    out = Path("/tmp/srsbayes-out")
    try:
        oid = types.outcome_id(text)
    except argparse.ArgumentTypeError:
        assert not is_slug(text)
        return
    path = (out / oid).resolve()
    assert path.parent == out.resolve() and path.name == oid


# -- 11. infinite baselines and strict JSON ------------------------------------------------------

@pytest.mark.parametrize(("outcome", "value", "want"), [
    ("os", "inf", "argument --baseline/--baseline-risk: not a finite number: 'inf'"),
    ("os", "nan", "argument --baseline/--baseline-risk: not a finite number: 'nan'"),
    ("os", "1e308", "column '--baseline': a postop median must be > 0 and at most 1200 months, "
                    "got 1e+308"),
    ("lmd", "-inf", "argument --baseline/--baseline-risk: not a finite number: '-inf'"),
])
def test_bad_baseline_exits_2(run_cli, tmp_path, outcome, value, want):
    with nothing_written(tmp_path):
        status, _, err = run_cli(["fit", outcome, f"--baseline={value}", "--out",
                                  tmp_path / "out"])
    msg = one_line_error(status, err)
    assert msg.split("; see ")[0] == want


def _strict(text: str):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=10)


@PROPS
@given(json_values)
def test_json_is_strict_property(value):
    """NaN and infinities become null; everything else survives."""
    back = _strict(json_text(value))

    def expect(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, list):
            return [expect(x) for x in v]
        if isinstance(v, dict):
            return {str(k): expect(x) for k, x in v.items()}
        return v
    assert back == expect(value)


def test_write_json_never_writes_infinity(tmp_path):
    write_json(tmp_path / "s.json", {"a": math.inf, "b": [-math.inf, math.nan, 1.5]})
    text = (tmp_path / "s.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert _strict(text) == {"a": None, "b": [None, None, 1.5]}


# -- 12. sampler sizes ---------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "want"), [
    (["--draws", "1000000000000"], "argument --draws: must be between 25 and 10,000,000"),
    (["--draws", "2"], "argument --draws: must be between 25 and 10,000,000, got 2 "
                       "(at least 25, which PSIS-LOO needs)"),
    (["--draws", "0"], "argument --draws: must be between 25"),
    (["--chains", "100000000"], "argument --chains: must be between 1 and 256"),
    (["--chains", "0"], "argument --chains: must be between 1 and 256"),
    (["--tune", "-5"], "argument --tune: must be between 1 and 10,000,000"),
    (["--draws", "1e3"], "argument --draws: not a whole number: '1e3'"),
])
def test_bad_sizes_exit_2(run_cli, tmp_path, argv, want):
    with nothing_written(tmp_path):
        status, _, err = run_cli(["sweep", "lmd", *argv, "--out", tmp_path / "out"])
    assert one_line_error(status, err).startswith(want)


def test_validate_sims_bounds(run_cli, tmp_path):
    status, _, err = run_cli(["validate", "--sims", "0", "--out", tmp_path])
    assert one_line_error(status, err).startswith("argument --sims: must be between 1 and")


def test_memory_estimate_refuses_what_cannot_fit():
    # 256 chains x 10^7 draws x 2 (retry) x (64 + 16 * 4) values x 32 bytes
    assert memory_estimate(10**7, 256, 4) == 2 * 10**7 * 256 * 128 * 32
    with pytest.raises(InputError, match=r"need about 21\.0 TB of memory .* more than the "
                                         r"8\.0 GB available"):
        check_memory(10**7, 256, 4, available=8 * 10**9)
    check_memory(1000, 4, 4, available=8 * 10**9)  # the defaults: 33 MB


def test_memory_check_runs_before_sampling(bundled_table, specs, monkeypatch):
    from srsbayes.inference import budget
    from srsbayes.inference.fitting import FitSettings, fit_outcome

    monkeypatch.setattr(budget, "available_memory", lambda: 10**6)  # 1 MB
    with pytest.raises(InputError, match=r"more than the 1\.0 MB available"):
        fit_outcome(bundled_table, specs["lmd"], settings=FitSettings(draws=1000))


@PROPS
@given(st.one_of(st.integers(-10, 10**13), st.text(max_size=12)))
def test_size_property(value):
    text = str(value)
    try:
        n = types.draws(text)
    except argparse.ArgumentTypeError:
        assert not (isinstance(value, int) and types.MIN_DRAWS <= value <= types.MAX_DRAWS)
        return
    assert types.MIN_DRAWS <= n <= types.MAX_DRAWS


# -- 13. messages and lenient input --------------------------------------------------------------

HEADER = "study,outcome,arm,n,events,percent\n"


def test_huge_n_with_a_percent_names_file_and_line(tmp_path):
    path = write_csv(tmp_path, HEADER + "A,lmd,preop,2e15,,3.5\nA,lmd,postop,100,,10\n"
                                        "B,lmd,preop,50,5,\nB,lmd,postop,50,8,\n")
    with pytest.raises(InputError) as info:
        read_table(path, SPECS)
    assert str(info.value) == (f"{path}:2: column 'percent': 3.5% of n = 2000000000000000 "
                               "allows 2000000000001 event counts (at most 200); report the "
                               "events")


def test_spec_with_a_byte_order_mark_is_read(tmp_path):
    raw = (MODELS_DIR / "lmd.toml").read_bytes()
    path = tmp_path / "lmd.toml"
    path.write_bytes(b"\xef\xbb\xbf" + raw)
    spec = load_spec_file(path)
    assert spec.priors == SPECS["lmd"].priors and spec.id == "lmd"
    assert not spec.text.startswith("\ufeff")
    assert default_grid(spec) == default_grid(SPECS["lmd"])  # the sweep re-reads spec.text


def test_bias_priors_with_a_byte_order_mark_are_read(tmp_path):
    from srsbayes.priors.bias import DEFAULT_BIAS_PRIORS, load_bias_priors

    path = tmp_path / "bias.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DEFAULT_BIAS_PRIORS.read_bytes())
    assert load_bias_priors(path).rules == load_bias_priors(None).rules


@pytest.mark.parametrize("value", ["0_1", "٠.١", "０.１", "inf"])
def test_certainty_baseline_risk_takes_ascii_numbers(value):
    from srsbayes.cli.certainty import parse_baseline_risks

    with pytest.raises(InputError, match="not a number") as info:
        parse_baseline_risks([f"lmd={value}"], SPECS)
    assert info.value.column == "--baseline-risk"


def test_argparse_errors_are_one_line_with_a_hint(run_cli):
    status, _, err = run_cli(["fit", "lmd", "--drawz", "3"])
    assert one_line_error(status, err) == ("unrecognized arguments: --drawz 3; see "
                                           "'python -m srsbayes --help'")
    status, _, err = run_cli(["fit"])
    assert one_line_error(status, err) == ("the following arguments are required: OUTCOME; "
                                           "see 'python -m srsbayes fit --help'")


@pytest.mark.parametrize("cell", ["٤٥", "４５", "4_5", "45\u200b", "⁴⁵"])
def test_numeric_cells_take_ascii_digits_only(tmp_path, cell):
    path = write_csv(tmp_path, HEADER + f"A,lmd,preop,{cell},4,\nA,lmd,postop,50,10,\n"
                                        "B,lmd,preop,50,5,\nB,lmd,postop,50,8,\n")
    with pytest.raises(InputError, match="not a number") as info:
        read_table(path, SPECS)
    assert (info.value.row, info.value.column) == (2, "n")


numeric_text = st.text(alphabet=st.sampled_from("0123456789.eE+-_ ٤４\u200bnaif"), max_size=8)


@PROPS
@given(numeric_text)
def test_numeric_cell_property(text):
    """A cell is refused, or it is an ASCII decimal number and reads as ``float`` does."""
    try:
        x = parse_number(text.strip(), f="t.csv", row=2, col="percent")
    except InputError as exc:
        assert (exc.file, exc.row, exc.column) == ("t.csv", 2, "percent")
        return
    if text.strip() == "":
        assert math.isnan(x)
        return
    assert text.strip().isascii() and "_" not in text
    assert x == float(text)


def test_invisible_characters_do_not_make_a_second_study(tmp_path):
    path = write_csv(tmp_path, HEADER + "Study A,lmd,preop,50,4,\n"
                                        "Study A\u200b,lmd,postop,50,10,\n"
                                        "Ｓtudy B,lmd,preop,50,5,\n"
                                        "Study\u00a0B\ufeff,lmd,postop,50,8,\n")
    table = read_table(path, SPECS)
    assert list(dict.fromkeys(table.frame["study"])) == ["Study A", "Study B"]


@PROPS
@given(st.text(max_size=12))
def test_clean_name_property(text):
    name = clean_name(text)
    assert clean_name(name) == name  # idempotent: equal names stay equal
    assert clean_name(text + "\u200b") == name and clean_name("\ufeff" + text) == name


def test_long_study_names_are_shortened_in_figures_only(tmp_path):
    name = "S" * 10_000
    label = study_label({"study": name, "design": "retrospective", "rob": "serious"})
    assert label == "S" * (LABEL_WIDTH - 1) + "… (retrospective; RoB serious)"
    path = write_csv(tmp_path, HEADER + f"{name},lmd,preop,50,4,\n{name},lmd,postop,50,10,\n"
                                        "B,lmd,preop,50,5,\nB,lmd,postop,50,8,\n")
    assert read_table(path, SPECS).frame["study"].iloc[0] == name  # tables keep it whole


def test_bundled_models_are_slugs():
    # the bundled outcomes pass the new rule (a copy of the folder loads unchanged)
    assert all(is_slug(k) for k in SPECS)


def test_copy_of_bundled_models_loads(tmp_path):
    shutil.copytree(MODELS_DIR, tmp_path / "m")
    assert load_specs(tmp_path / "m").keys() == SPECS.keys()


@pytest.mark.parametrize("kwargs", [{"seed": -1}, {"seed": 2**64}, {"seed": True},
                                    {"draws": 0}, {"chains": 1.5}, {"tune": -3}])
def test_fit_settings_refuse_what_the_sampler_cannot_take(kwargs):
    from srsbayes.inference.fitting import FitSettings

    with pytest.raises(InputError) as info:
        FitSettings(**kwargs)
    assert info.value.column == next(iter(kwargs))
    assert FitSettings(seed=SEED_MAX).retry().seed == SEED_MAX


option_values = st.one_of(st.text(max_size=12), st.integers(-10, 2**65).map(str),
                          st.sampled_from(["1e3", "٤٥", "４５", "4_5", "inf", "nan", "0x10"]))


@PROPS
@given(st.sampled_from(["--seed", "--draws", "--tune", "--chains"]), option_values)
def test_any_option_value_parses_in_range_or_is_one_line(option, text):
    from srsbayes.cli.main import build_parser

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = build_parser().parse_args(["sweep", "lmd", f"{option}={text}"])
    except SystemExit as exc:
        assert exc.code == EXIT_INPUT
        assert err.getvalue().count("\n") == 1
        assert err.getvalue().endswith("see 'python -m srsbayes sweep --help'\n")
        return
    value = getattr(args, option[2:])
    lo, hi = {"--seed": (0, SEED_MAX), "--draws": (types.MIN_DRAWS, types.MAX_DRAWS),
              "--tune": (1, types.MAX_DRAWS), "--chains": (1, types.MAX_CHAINS)}[option]
    assert isinstance(value, int) and lo <= value <= hi


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_a_10000_character_name_draws_an_ordinary_forest_plot(tmp_path):
    """The bundled data with "Study A" renamed to 10,000 characters: the forest plot is
    narrower than 3,000 pixels (it was 104,539), and the summary keeps the whole name."""
    from srsbayes.inference.fitting import FitSettings, fit_outcome
    from srsbayes.inputs.data import DEFAULT_DATA
    from srsbayes.plots.figures import forest_plot

    name = "A" * 10_000
    text = DEFAULT_DATA.read_text(encoding="utf-8")
    assert "Study A," in text
    path = write_csv(tmp_path, text.replace("Study A,", f"{name},"))
    result = fit_outcome(read_table(path, SPECS), SPECS["lmd"], checks=False,
                         settings=FitSettings(draws=200, tune=200, seed=3))
    assert name in result.summary["studies"]
    width, height = _png_size(forest_plot(result.summary))
    assert width < 3000 and height < 3000
    long_label = {**result.summary, "label": "L" * 10_000}  # a spec's label: the title
    assert _png_size(forest_plot(long_label))[0] < 3000


def test_the_largest_seed_samples(bundled_table):
    """2^64 - 1, the top of the documented range, reaches nutpie and every random stream."""
    from srsbayes.inference.fitting import FitSettings, fit_outcome

    result = fit_outcome(bundled_table, SPECS["lmd"], checks=False,
                         settings=FitSettings(draws=100, tune=100, seed=SEED_MAX))
    assert result.settings.seed == SEED_MAX and result.summary["seed"] == SEED_MAX
    effect = result.idata.posterior["effect"]
    assert effect.sizes["draw"] >= 100 and bool(effect.notnull().all())
