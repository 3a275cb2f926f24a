"""The floors under issue 25's two speed targets: what no code of srsbayes can go below.

(1) **Import floor of a warm fit.** A warm ``fit`` imports the decided stack (NumPy, pandas,
    xarray, SciPy's statistics through ArviZ's diagnostics, numba and nutpie for the cached
    compiled model, h5py/h5netcdf for ``posterior.nc``), under the stand-ins the fit uses
    (matplotlib hidden; JAX, NumPyro and ``dask.array`` as empty placeholders). The child
    ``--import FILE`` imports, in the recorded order, every module a warm fit loaded
    (``SRSBAYES_DEBUG_MODULES``) except srsbayes' own, and does nothing else: its time
    over ``python -c "import pymc"`` is the lowest ratio this fit can reach, whatever
    srsbayes does after its imports. The child ``--stack`` imports only :data:`STACK`, the
    least any warm fit on the decided stack must load: the floor of every implementation.

    A fit must also sample and write its draws: the child ``--work OUTCOME`` measures, in a
    process that has imported everything, the wall time of one NUTS run of the outcome's model
    with ``fit``'s settings and of writing the sampler's own groups (``posterior``,
    ``sample_stats``) as netCDF. Stack imports plus these two are the floor of a warm fit.

(2) **Refit floor of the default sweep.** Importance sampling cannot serve a row whose model
    differs from the reference model, nor one with Pareto k-hat > 0.7 or a weighted ESS
    below 400 (issue 25's own rule; :mod:`srsbayes.sensitivity.importance`): each needs a
    full NUTS run. :func:`required_refits` counts them in a sweep's ``sweep.json`` (leaving
    out the refits of borderline rows, which srsbayes adds to sharpen a verdict); the child
    ``--refit-cpu OUTCOME`` measures the CPU seconds of one such run (nutpie's sampling of
    the outcome's model with the sweep's settings, converted to a DataTree, nothing else).
    A sweep also draws ``sweep.png``, so it imports matplotlib, which a fit never does; the
    same child measures that import. The sweep then costs at least one fit plus
    ``refits x cpu / cores`` seconds plus the matplotlib import, whatever srsbayes does
    around them.

Used by ``bench_warm_fit.py`` and ``bench_all.py``; run as a script only as their child.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
import types
from pathlib import Path

STAND_INS = ("jax", "numpyro", "dask.array")
"""Packages the warm fit replaces by empty placeholders while ArviZ and xarray look for them
(``srsbayes.cli.fit.placeholders``)."""
HIDDEN = ("matplotlib",)
"""Packages the warm fit hides while it imports nutpie and ArviZ (``srsbayes.cli.fit``)."""
STACK = ("numpy", "pandas", "xarray", "scipy.stats", "arviz_base", "arviz_stats", "numba",
         "pyarrow", "h5netcdf", "nutpie")
"""The least a warm fit needs on the decided stack: results as an ``xarray.DataTree``
(xarray, pandas), ArviZ's diagnostics (arviz_stats, which needs ``scipy.stats`` for its
rank normalisation), numba for the cached compiled model, nutpie's sampler (its arrow trace,
pyarrow) and h5netcdf for ``posterior.nc``. nutpie's own ``import arviz`` (the umbrella
package, whose plotting half a fit never uses) is stood in for while nutpie is imported."""
BORDERLINE_WORDS = "importance-sampling SEs"
"""The words of a refit reason that is srsbayes' borderline refit, not the issue's rule
(``srsbayes.sensitivity.importance``)."""


def import_modules(names: list[str]) -> tuple[int, int]:
    """Import ``names`` in order (srsbayes' own left out) under the fit's stand-ins.

    Returns the numbers of modules imported and of names that cannot be imported on their
    own (aliases some packages register in ``sys.modules``; their code ran with their
    parent's)."""
    wanted = set(names)
    for name in HIDDEN:
        if name not in wanted:
            sys.modules[name] = None  # type: ignore[assignment]
    added = [n for n in STAND_INS if n not in wanted and n not in sys.modules]
    for name in added:
        sys.modules[name] = types.ModuleType(name)
    done = failed = 0
    for name in names:
        if name.split(".")[0] == "srsbayes" or name == "__main__" or name in sys.modules:
            continue
        try:
            importlib.import_module(name)
            done += 1
        except Exception:  # an alias that is not importable by its name
            failed += 1
    return done, failed


def import_stack() -> None:
    """Import :data:`STACK` under the fit's stand-ins, ArviZ's umbrella package stood in
    for while nutpie is imported."""
    for name in HIDDEN:
        sys.modules[name] = None  # type: ignore[assignment]
    for name in (*STAND_INS, "arviz"):
        sys.modules[name] = types.ModuleType(name)
    for name in STACK:
        if name == "nutpie":
            importlib.import_module(name)
            del sys.modules["arviz"]
        else:
            importlib.import_module(name)


def required_refits(sweep_json: Path) -> dict[str, int]:
    """The refitted rows of a sweep that issue 25's rule requires, by reason."""
    doc = json.loads(Path(sweep_json).read_text())
    counts: dict[str, int] = {}
    for row in doc["rows"]:
        reason = row.get("refit_reason") or ""
        if row.get("method") != "refit" or BORDERLINE_WORDS in reason:
            continue
        key = ("model differs" if "model differs" in reason
               else "Pareto k-hat > 0.7" if "k-hat" in reason
               else "weighted ESS < 400" if "ESS" in reason else reason)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _outcome(outcome: str) -> tuple[str, dict, dict]:
    """The family, model data and priors of a bundled outcome, with the sampler imported as
    ``fit`` imports it."""
    from srsbayes.cli.fit import import_sampler

    import_sampler()
    from srsbayes.inference.fitting import model_data, resolve_priors
    from srsbayes.inputs.data import default_table, outcome_table
    from srsbayes.inputs.specs import load_specs

    specs = load_specs()
    spec = specs[outcome]
    wide = outcome_table(default_table(specs), spec)
    return spec.family, model_data(spec, wide), resolve_priors(spec, wide)


def refit_cpu(outcome: str, runs: int = 3) -> dict[str, float]:
    """CPU and wall seconds of one NUTS run of ``outcome``'s model with a sweep's settings
    (medians of ``runs`` after one unmeasured run), in this process; then the wall seconds
    of importing matplotlib for the sweep's figure."""
    family, data, priors = _outcome(outcome)
    from srsbayes.inference.fitting import sample_posterior
    from srsbayes.sensitivity.sweep import _sweep_settings

    settings, workers = _sweep_settings(None, None)
    sample_posterior(family, data, priors, settings)
    cpu, wall = [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        sample_posterior(family, data, priors, settings)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    w0 = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    return {"cpu": statistics.median(cpu), "wall": statistics.median(wall),
            "cores_per_refit": settings.cores or 1, "workers": workers,
            "matplotlib_import": time.perf_counter() - w0}


def fit_work(outcome: str, runs: int = 3) -> dict[str, float]:
    """Wall seconds of the least work a warm fit of ``outcome`` does after its imports: one
    NUTS run with ``fit``'s default settings, and writing the sampler's groups as netCDF
    (medians of ``runs`` after one unmeasured run)."""
    family, data, priors = _outcome(outcome)
    import xarray as xr

    from srsbayes.inference.fitting import FitSettings, sample_posterior

    def write(tree: xr.DataTree) -> bytes:
        own = xr.DataTree.from_dict({g: tree[g].to_dataset() for g in ("posterior",
                                                                     "sample_stats")})
        return bytes(own.to_netcdf(engine="h5netcdf"))

    settings = FitSettings()
    write(sample_posterior(family, data, priors, settings))
    sampling, writing = [], []
    for _ in range(runs):
        w0 = time.perf_counter()
        tree = sample_posterior(family, data, priors, settings)
        w1 = time.perf_counter()
        write(tree)
        sampling.append(w1 - w0)
        writing.append(time.perf_counter() - w1)
    return {"sampling": statistics.median(sampling), "writing": statistics.median(writing)}


def sweep_floor(fit_seconds: float, refits: int, cpu: float, cores: int,
                figure_import: float = 0.0) -> float:
    """The lowest default sweep / warm fit ratio: one fit plus ``refits`` NUTS runs of
    ``cpu`` CPU seconds each spread over ``cores`` cores plus the figure's matplotlib
    import, over one fit."""
    return 1 + (refits * cpu / cores + figure_import) / fit_seconds


def main(argv: list[str]) -> int:
    if argv[:1] == ["--import"]:
        names = Path(argv[1]).read_text().split()
        done, failed = import_modules(names)
        print(json.dumps({"imported": done, "not_importable_by_name": failed}))
        return 0
    if argv[:1] == ["--stack"]:
        import_stack()
        return 0
    if argv[:1] == ["--work"]:
        print(json.dumps(fit_work(argv[1])))
        return 0
    if argv[:1] == ["--refit-cpu"]:
        print(json.dumps(refit_cpu(argv[1])))
        return 0
    raise SystemExit("usage: floors.py --import MODULES_FILE | --stack | --work OUTCOME | "
                     "--refit-cpu OUTCOME")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
