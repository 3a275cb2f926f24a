"""The compile cache across processes (issue 15, item 1) and the ``fit`` import set (item 2).

Each sampling check runs a small hierarchical model in a fresh Python process, because
the point is what a *second process* finds on disk. Draws are compared for exact
equality: every process runs on this machine with the same seed and one core per chain
and executes the same machine code, so nutpie's sampler is bit-for-bit deterministic;
any difference means the cached wrappers are not the ones nutpie would have compiled.

"The same machine code" needs PyTensor's own numba cache to be warm for the graph: a
process that compiles PyTensor's inner function afresh runs code that differs in
floating-point detail from what numba caches, so its draws differ (equally valid, but not
bit-equal) from every later process's. nutpie's ordinary compile shows the same: with a
fresh PyTensor cache, then a warm one, the posterior mean of ``mu`` was 0.285, then 0.337.
The fixture therefore first runs one ordinary and one cached compile (into a throwaway
cache) whose draws it does not examine.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from srsbayes.inference import compile_cache as cc
from srsbayes.inference.cache import keys
from srsbayes.inference.graph_key import Unkeyable, describe, model_graph_key

ROOT = Path(__file__).resolve().parents[2]

CHILD = r'''
import hashlib, json, sys, time
import numpy as np
import nutpie
import pymc as pm
from srsbayes.inference import compile_cache as cc

mode, root = sys.argv[1], sys.argv[2]
with pm.Model(coords={"study": np.arange(3)}) as model:
    y = pm.Data("y", np.zeros(3), dims="study")
    se = pm.Data("se", np.ones(3), dims="study")
    mu = pm.Normal("mu", 0.0, 1.0)
    tau = pm.HalfNormal("tau", 1.0)  # a transformed free variable
    z = pm.Normal("z", 0.0, 1.0, dims="study")
    theta = pm.Deterministic("theta", mu + tau * z, dims="study")
    pm.Normal("obs", theta, se, observed=y, dims="study")
start = time.perf_counter()
compiled = cc.compile_model(model, root=None if mode == "plain" else root)
seconds = time.perf_counter() - start
compiled = compiled.with_data(y=[0.3, -0.1, 0.8], se=[0.2, 0.3, 0.25])
idata = nutpie.sample(compiled, draws=200, tune=200, chains=2, seed=7, cores=1,
                      progress_bar=False)
post = idata["posterior"].to_dataset()
blob = b"".join(np.ascontiguousarray(post[v].values).tobytes() for v in sorted(post.data_vars))
print(json.dumps({"stats": dict(cc.STATS), "seconds": seconds,
                  "digest": hashlib.sha256(blob).hexdigest(),
                  "mu": float(post["mu"].mean()), "vars": sorted(post.data_vars)}))
'''


def run_child(tmp: Path, mode: str, root: Path) -> dict:
    """Compile and sample the small model in a new process; its JSON line and stderr."""
    script = tmp / "child.py"
    if not script.exists():
        script.write_text(CHILD)
    env = {k: v for k, v in os.environ.items() if k != cc.CACHE_ENV}
    proc = subprocess.run([sys.executable, str(script), mode, str(root)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["stderr"] = proc.stderr
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Two cold processes at once on an empty cache, then a warm one, then nutpie's own."""
    tmp = tmp_path_factory.mktemp("compile_cache")
    root = tmp / "cache"
    for mode in ("plain", "cached"):  # warm PyTensor's cache (see the module docstring)
        run_child(tmp, mode, tmp / "throwaway")
    with ThreadPoolExecutor(2) as pool:
        cold = list(pool.map(lambda _: run_child(tmp, "cached", root), range(2)))
    warm = run_child(tmp, "cached", root)
    plain = run_child(tmp, "plain", root)
    return {"tmp": tmp, "root": root, "cold": cold, "warm": warm, "plain": plain}


def entry_of(root: Path) -> Path:
    (entry,) = [p for p in root.iterdir() if p.is_dir()]
    return entry


# -- across processes ------------------------------------------------------------------------


def test_two_processes_compiling_at_once_compile_once(runs):
    # The second waits on the entry's lock and then loads what the first saved.
    assert sorted(json.dumps(r["stats"]) for r in runs["cold"]) == [
        json.dumps({"hit": 1}), json.dumps({"miss": 1})]
    assert len([p for p in runs["root"].iterdir() if p.is_dir()]) == 1


def test_second_process_does_not_recompile(runs):
    warm, miss = runs["warm"], next(r for r in runs["cold"] if r["stats"] == {"miss": 1})
    assert warm["stats"] == {"hit": 1}
    # In-process compile step only (not the whole process): the hit skips PyTensor's
    # rewriting and both numba compilations.
    assert warm["seconds"] < miss["seconds"]


def test_cached_draws_equal_nutpies_own_compile(runs):
    digests = {r["digest"] for r in [*runs["cold"], runs["warm"], runs["plain"]]}
    assert runs["plain"]["stats"] == {"uncached": 1}
    assert len(digests) == 1, [(r["stats"], r["digest"][:12], r["vars"])
                               for r in [*runs["cold"], runs["warm"], runs["plain"]]]
    assert runs["warm"]["vars"] == ["mu", "tau", "theta", "z"]
    assert -1.0 < runs["warm"]["mu"] < 1.5  # a real posterior, not an empty trace


def test_entry_is_complete_and_described(runs):
    entry = entry_of(runs["root"])
    names = {p.name for p in entry.iterdir()}
    assert {"logp.py", "expand.py", "layout.json", "manifest.json"} <= names
    assert len([n for n in names if n.endswith(".nbi")]) == 2
    layout = json.loads((entry / "layout.json").read_text())
    assert layout["versions"] == cc.versions()
    assert layout["n_dim"] == 5  # mu, log tau, three z
    assert sorted(s["name"] for s in layout["shared"]) == ["se", "y"]
    assert cc._entry_complete(entry)


def test_corrupt_cache_file_is_rebuilt_with_same_draws(runs, tmp_path):
    root = tmp_path / "cache"
    shutil.copytree(runs["root"], root)
    nbc = next(entry_of(root).glob("logp*.nbc"))
    nbc.write_bytes(nbc.read_bytes()[:1000])  # a truncated write
    again = run_child(runs["tmp"], "cached", root)
    assert again["stats"] == {"miss": 1}  # the manifest caught it before numba read it
    assert again["digest"] == runs["plain"]["digest"]
    assert cc._entry_complete(entry_of(root))


def test_failing_cache_falls_back_to_ordinary_compile(runs, tmp_path):
    root = tmp_path / "cache"
    shutil.copytree(runs["root"], root)
    entry = entry_of(root)
    layout = json.loads((entry / "layout.json").read_text())
    layout["shared"][0]["name"] = "no_such_data"
    (entry / "layout.json").write_text(json.dumps(layout))
    cc._write_manifest(entry)  # damage the manifest cannot see
    again = run_child(runs["tmp"], "cached", root)
    assert again["stats"] == {"fallback": 1}
    assert "compile cache failed" in again["stderr"]
    assert again["digest"] == runs["plain"]["digest"]
    assert not entry.exists()  # removed, so the next process rebuilds it


def test_direct_load_links_the_cached_wrappers_and_refuses_other_functions(runs):
    from srsbayes.inference.cache import store, wrappers

    entry = entry_of(runs["root"])
    meta = store.read_meta(entry)
    logp_src, expand_src = wrappers.sources(meta)
    sig_logp, sig_expand = wrappers.signatures()
    loaded = wrappers.load_cached(logp_src, "logp", sig_logp, None, entry, meta["key"])
    assert loaded.address > 0 and loaded.name == "logp"
    with pytest.raises(LookupError):  # another signature: not what numba cached
        wrappers.load_cached(logp_src, "logp", sig_expand, None, entry, meta["key"])
    with pytest.raises(LookupError):  # another function body (bytecode)
        wrappers.load_cached(logp_src.replace("return 0\n", "return 5 + dim\n"), "logp",
                             sig_logp, None, entry, meta["key"])
    with pytest.raises(LookupError):  # another key: no index file of that name
        wrappers.load_cached(expand_src, "expand", sig_expand, None, entry, "0" * 64)


def test_placeholders_stand_in_only_for_absent_packages_and_leave_no_trace():
    from srsbayes.cli.fit import placeholders

    absent = "srsbayes_no_such_package"
    with placeholders(absent, "json"):
        stub = sys.modules[absent]
        assert isinstance(stub.Array, type) and not issubclass(int, stub.Array)
        assert sys.modules["json"] is json  # installed: left alone
    assert absent not in sys.modules and sys.modules["json"] is json
    # an installed module that is not imported (another test of this worker may have
    # imported it: set aside, and put back afterwards) is replaced only when asked
    saved = sys.modules.pop("colorsys", None)
    try:
        with placeholders("colorsys", installed_too=True):
            assert isinstance(sys.modules["colorsys"].rgb_to_hsv, type)  # the stand-in's class
        assert "colorsys" not in sys.modules
    finally:
        if saved is not None:
            sys.modules["colorsys"] = saved


def test_xarray_forgets_the_dask_array_stand_in_after_a_fit():
    code = (
        "import numpy as np, xarray as xr\n"
        "from srsbayes.cli.fit import forget_stand_ins, placeholders\n"
        "with placeholders('dask.array', installed_too=True):\n"
        "    xr.DataArray(np.zeros(2))  # xarray looks dask arrays up here\n"
        "from xarray.namedarray.pycompat import array_type\n"
        "print(array_type('dask'))\n"
        "forget_stand_ins()\n"
        "print(array_type('dask'))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    during, after = proc.stdout.strip().splitlines()[-2:]
    assert "_Absent" in during  # what xarray remembered while the stand-in was there
    assert after == "(<class 'dask.array.core.Array'>,)"


# -- where and under which key ---------------------------------------------------------------


def test_cache_root_follows_the_documented_order(tmp_path):
    home = Path.home()
    assert cc.cache_root({}) == home / ".cache" / "srsbayes"
    assert cc.cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "srsbayes"
    assert cc.cache_root({"XDG_CACHE_HOME": str(tmp_path),
                          cc.CACHE_ENV: str(tmp_path / "x")}) == tmp_path / "x"
    for off in ("off", "OFF", "0", "no", "false"):
        assert cc.cache_root({cc.CACHE_ENV: off}) is None


def test_key_changes_with_every_version(monkeypatch):
    base = cc.versions()
    assert set(base) == {"python", "format", "cache_code", "numba", "llvmlite", "numpy",
                         "pytensor", "pymc", "nutpie", "srsbayes"}
    assert "unknown" not in base.values()
    key = cc.entry_key("g")
    assert cc.entry_key("h") != key
    for name in base:
        monkeypatch.setattr(keys, "versions", lambda n=name: {**base, n: base[n] + "+1"})
        assert cc.entry_key("g") != key, name


def test_version_range_check():
    assert cc.nutpie_supported("0.16.11")
    assert not cc.nutpie_supported("0.16.10")
    assert not cc.nutpie_supported("0.17.0")
    assert cc.nutpie_supported()


# -- the model-graph key ---------------------------------------------------------------------


def _family_model(family: str, k: int):
    from srsbayes.families import FAMILIES, get_family
    from srsbayes.inference.fitting import _PLACEHOLDER

    slots = FAMILIES[family].slots
    return get_family(family).build_model(k, {s: _PLACEHOLDER[p] for s, p in slots.items()})


def test_graph_key_is_a_function_of_the_graph():
    from srsbayes.families import FAMILIES

    keys = {(f, k): model_graph_key(_family_model(f, k)) for f in FAMILIES for k in (3, 4)}
    assert len(set(keys.values())) == len(keys)  # structure and size both count
    assert model_graph_key(_family_model("binomial", 4)) == keys["binomial", 4]  # rebuilt


def test_graph_key_sees_constants_and_data():
    import numpy as np
    import pymc as pm

    def model(scale: float, data: float):
        with pm.Model() as m:
            x = pm.Normal("x", 0.0, scale)
            pm.Normal("y", x, 1.0, observed=pm.Data("d", np.array([data, 1.0])))
        return m

    key = model_graph_key(model(1.0, 0.0))
    assert model_graph_key(model(1.0, 0.0)) == key
    assert model_graph_key(model(2.0, 0.0)) != key
    assert model_graph_key(model(1.0, 0.5)) != key


def test_unstable_descriptions_refuse_a_key():
    class Opaque:
        __slots__ = ()

    with pytest.raises(Unkeyable):
        describe(Opaque())
    assert describe((1, "a", None)) == "tuple(1,'a',None)"


# -- the nutpie internals this relies on -----------------------------------------------------


def test_nutpie_is_the_version_the_lock_pins():
    from importlib.metadata import version

    installed = version("nutpie")
    assert cc.nutpie_supported(installed)
    lock = ROOT / "uv.lock"
    if lock.exists():
        pinned = [p["version"] for p in tomllib.loads(lock.read_text())["package"]
                  if p["name"] == "nutpie"]
        assert pinned == [installed]
        assert cc.nutpie_supported(pinned[0])


def test_nutpie_internals_are_the_ones_mirrored():
    """Fails on any change to nutpie's compile_pymc.py: re-read it, then update the hash."""
    from nutpie import compile_pymc as cp

    assert cc.nutpie_source_sha256() == cc.NUTPIE_SOURCE_SHA256
    params = {
        "_make_functions": ["model", "mode", "compute_grad", "join_expanded",
                            "pymc_initial_point_fn", "var_names"],
        "_wrap_with_lock": ["func"],
        "_prepare_dims_and_coords": ["model", "shape_info", "reparameterized_names"],
        "make_user_data": ["shared_var_keys", "shared_data"],
        "_rv_dict_to_flat_array_wrapper": ["fn", "names", "shapes"],
    }
    for name, expected in params.items():
        assert list(inspect.signature(getattr(cp, name)).parameters) == expected, name
    fields = {f.name for f in dataclasses.fields(cp.CompiledPyMCModel)}
    assert {"compiled_logp_func", "compiled_expand_func", "initial_point_func", "shared_data",
            "shared_var_keys", "user_data", "n_expanded", "shape_info", "logp_func",
            "expand_func", "_n_dim", "_shapes", "_coords", "dims",
            "reparameterized_names"} <= fields
    assert callable(cp.address_as_void_pointer)


def test_numba_and_pytensor_hooks_exist():
    from numba.core.caching import CacheImpl, _CacheLocator
    from numba.core.ccallback import CFunc
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    assert isinstance(CacheImpl._locator_classes, list)
    assert {"get_cache_path", "get_source_stamp", "get_disambiguator",
            "from_function"} <= set(dir(_CacheLocator))
    assert isinstance(CFunc.cache_hits, property)
    assert hasattr(CACHED_SRC_FUNCTIONS, "get")


def test_generated_wrappers_mirror_nutpies_return_codes():
    src = cc.logp_source(2, ["s0"], {"s0": 1}, {"s0": "float64"})
    compile(src, "<test>", "exec")
    assert "return 3" in src and "return 4" in src and "return 1" in src
    exp = cc.expand_source(2, 5, ["s0"], {"s0": 1}, {"s0": "float64"})
    compile(exp, "<test>", "exec")
    assert "if expanded != 5" in exp and "return -2" in exp


# -- what `fit` imports ----------------------------------------------------------------------


def test_fit_imports_no_matplotlib_report_or_sweep():
    code = (
        "import json, sys\n"
        "from srsbayes.cli.main import build_parser\n"
        "from srsbayes.cli import fit\n"
        "fit.import_sampler()\n"
        # everything cli_main and fit_outcome import on the way to a posterior
        "import nutpie, pymc, arviz\n"
        "from srsbayes.inference import fitting, compile_cache, graph_key, summaries\n"
        "from srsbayes.inference import diagnostics, derived\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    mods = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert "nutpie" in mods and "arviz" in mods
    assert not {m for m in mods if m.split(".")[0] == "matplotlib"}
    heavy = ("srsbayes.report.build", "srsbayes.report.render", "srsbayes.sensitivity",
             "srsbayes.plots", "srsbayes.validation", "srsbayes.audit")
    assert not {m for m in mods if m.startswith(heavy)}


# -- a hit without PyMC (issue 25, item 2) ---------------------------------------------------


def _description(**change) -> dict:
    return {"family": "binomial", "module": "srsbayes.families.binomial", "k": 4,
            "structure": "()", "placeholders": {"effect": "normal(0, 1)"}, **change}


def test_structure_key_changes_with_source_shape_structure_and_versions(tmp_path, monkeypatch):
    family = tmp_path / "fam.py"
    family.write_text("def build_model(k, priors):\n    pass\n")
    env = {"PYTENSOR_FLAGS": ""}
    base = cc.structure_key(_description(), family, env)
    assert cc.structure_key(_description(), family, env) == base  # a function of its inputs
    changed = [cc.structure_key(_description(k=5), family, env),
               cc.structure_key(_description(structure="(('pairs', True),)"), family, env),
               cc.structure_key(_description(placeholders={"effect": "normal(0, 2)"}), family,
                                env),
               cc.structure_key(_description(), family, {"PYTENSOR_FLAGS": "floatX=float32"})]
    family.write_text("def build_model(k, priors):\n    return None\n")  # the family's source
    changed.append(cc.structure_key(_description(), family, env))
    family.write_text("def build_model(k, priors):\n    pass\n")
    assert cc.structure_key(_description(), family, env) == base
    monkeypatch.setattr(keys, "model_source_sha256", lambda f: "another priors module")
    changed.append(cc.structure_key(_description(), family, env))
    monkeypatch.undo()
    real = cc.versions()
    monkeypatch.setattr(keys, "versions", lambda: {**real, "pymc": "99.0"})
    changed.append(cc.structure_key(_description(), family, env))
    assert len({base, *changed}) == len(changed) + 1


def test_model_source_covers_every_families_and_priors_module():
    from srsbayes.families import bias_term

    before = cc.model_source_sha256(bias_term.__file__)
    package = Path(cc.__file__).resolve().parents[1]
    assert {p.name for p in (package / "priors").glob("*.py")} >= {"distributions.py", "bias.py"}
    # the same digest from any family module of the package: all of them are hashed
    from srsbayes.families import binomial, contrast

    assert cc.model_source_sha256(binomial.__file__) == before
    assert cc.model_source_sha256(contrast.__file__) == before


WARM_FIT = ["-m", "srsbayes", "fit", "lmd", "--draws", "300", "--seed", "5"]


def test_warm_fit_never_imports_pymc_or_pytensor_and_gives_the_cold_fits_draws(tmp_path):
    """A first ``fit`` builds and caches the model; the second loads it by its structure
    key: neither PyMC nor PyTensor is imported (not even for numba to rebuild the cached
    functions' environments) and the posterior is the first's, draw for draw."""
    env = {**os.environ, cc.CACHE_ENV: str(tmp_path / "cache")}
    runs = []
    for i in range(2):
        modules = tmp_path / f"modules{i}.txt"
        out = tmp_path / f"fit{i}"
        proc = subprocess.run([sys.executable, *WARM_FIT, "--out", str(out)], cwd=tmp_path,
                              env={**env, "SRSBAYES_DEBUG_MODULES": str(modules)},
                              capture_output=True, text=True, timeout=900, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs.append((set(modules.read_text().split()), out))
    (cold, cold_out), (warm, warm_out) = runs
    assert "pymc" in cold and "nutpie" in warm
    assert "pytensor" in cold
    assert not {m for m in warm if m.split(".")[0] in ("pymc", "pytensor")}
    # the wrappers were linked directly (wrappers.load_cached), not through numba.cfunc,
    # which would have initialised numba's CPU target and imported its list lowering
    assert "numba.cpython.listobj" not in warm
    # nor dask.array, which xarray imports to recognise dask arrays (cli.fit: placeholders)
    assert not {m for m in warm if m.startswith(("dask.array", "distributed"))}
    import xarray as xr

    with xr.open_datatree(cold_out / "posterior.nc") as a, \
            xr.open_datatree(warm_out / "posterior.nc") as b:
        for var in ("effect", "tau", "delta"):
            assert (a["posterior"][var].values == b["posterior"][var].values).all(), var
    assert json.loads((warm_out / "summary.json").read_text())["ok"] is True
