"""``python -m srsbayes fit OUTCOME``: fit, print a short summary, write posterior.nc and
summary.json (both atomically), exit 3 when the convergence gate fails.

A fit draws no figures, so the command imports nutpie (and through it ArviZ) with
matplotlib hidden: ``arviz_plots`` then skips registering its matplotlib styles, which
would otherwise import ``matplotlib.pyplot`` (about 0.4 s) into every ``fit``. Nothing of
the report, sweep, plotting or validation packages is imported before sampling
(``tests/cli/test_fit_imports.py``); the summary's wording (``report.text``) is imported to
print it.
With a warm compile cache neither PyMC nor PyTensor is imported either
(:mod:`srsbayes.inference.cache`); ``benchmarks/bench_warm_fit.py`` measures what is left.
"""

from __future__ import annotations

import argparse
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import EXIT_UNCONVERGED, InputError
from ..inputs.data import default_table
from ..inputs.specs import get_spec, load_specs
from ..outputs import check_output_path
from ..priors.distributions import parse_assignment
from ..resources import default_out

if TYPE_CHECKING:
    from ..inference.fitting import FitSettings


@contextmanager
def hidden(package: str) -> Iterator[None]:
    """While the block runs, ``package`` (if not yet imported) looks uninstalled.

    A ``None`` entry in ``sys.modules`` makes ``import package`` raise
    ``ModuleNotFoundError`` and ``importlib.util.find_spec(package)`` return ``None``.
    """
    if package in sys.modules:
        yield
        return
    sys.modules[package] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get(package, 0) is None:
            del sys.modules[package]


class _Absent:
    """The class of nothing: every attribute of a :func:`placeholders` module."""


def _absent_attribute(name: str) -> type:
    return _Absent


@contextmanager
def placeholders(*packages: str, installed_too: bool = False) -> Iterator[None]:
    """While the block runs, each of ``packages`` that is not installed is an empty module.

    ``arviz_base.io_numpyro`` asks ``lazy_loader.load`` for JAX and NumPyro when it is
    imported; for a package that is not installed ``load`` walks the whole call stack with
    ``inspect.stack()`` (0.15-0.4 s, reading the source of every frame) to say where the
    import was. A placeholder answers at once; any attribute of it is :class:`_Absent`,
    so a check such as "is this a JAX array" run meanwhile answers no. ``from_numpyro``
    (never used by srsbayes) would fail on it instead of naming the missing package;
    ``sys.modules`` is as before after the block. ``installed_too``: stand in for packages
    that are installed but not yet imported as well (the block must not use them).
    """
    from importlib.util import find_spec

    added = [name for name in packages if name not in sys.modules
             and (installed_too or find_spec(name) is None)]
    for name in added:
        module = types.ModuleType(name)
        module.__getattr__ = _absent_attribute  # type: ignore[method-assign]
        sys.modules[name] = module
    try:
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)


def forget_stand_ins() -> None:
    """Make xarray forget the dask array type it found while :func:`placeholders` stood in
    for ``dask.array`` (it remembers the first answer for the process), so that a process
    that goes on after a fit (a test, a notebook) recognises dask arrays again."""
    try:
        from xarray.namedarray import pycompat

        remembered = pycompat._cached_duck_array_modules
    except (ImportError, AttributeError):  # another xarray: nothing of ours remembered
        return
    entry = remembered.get("dask")
    if entry is not None and any(t is _Absent for t in getattr(entry, "type", ())):
        del remembered["dask"]


def import_sampler() -> None:
    """Import nutpie (and ArviZ) without matplotlib, unless ArviZ is already loaded.

    ``arviz_plots`` then lacks its matplotlib styles and colormaps, and ArviZ's default
    plotting backend is not matplotlib, for the rest of the process; a fit draws nothing.
    """
    if "arviz" in sys.modules or "matplotlib" in sys.modules:
        return
    with hidden("matplotlib"):
        with placeholders("jax", "numpyro"):  # only while ArviZ's base is imported
            import arviz_base  # noqa: F401
        import nutpie  # noqa: F401


def settings_from_args(args: argparse.Namespace) -> FitSettings:
    from ..inference.fitting import FitSettings

    for opt in ("draws", "tune", "chains"):
        if getattr(args, opt) is not None and getattr(args, opt) < 1:
            raise InputError(f"must be >= 1, got {getattr(args, opt)}", column=f"--{opt}")
    return FitSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)


def default_baselines(table: Any, spec: Any) -> list[float]:
    """The SoF's default baseline (the pooled postop level of the studies,
    :func:`srsbayes.families.baseline.pooled_level`), so that ``summary.json`` carries the
    primary absolute effect the report and ``certainty`` show."""
    from ..families.baseline import pooled_level
    from ..inputs.data import outcome_table

    level = pooled_level(outcome_table(table, spec), spec.family)
    return [] if level is None else [level[0]]


def cli_main(args: argparse.Namespace) -> int:
    specs = load_specs(args.models)
    spec = get_spec(args.outcome, args.models)
    overrides = dict(parse_assignment(a) for a in args.prior)
    table = default_table(specs, args.data)
    bias = None
    if args.bias_adjusted is not None:  # read (and checked) before anything is sampled
        from ..priors.bias import load_bias_priors

        bias = load_bias_priors(args.bias_adjusted)  # "bundled", "wide" or a file
    out = args.out or default_out(spec.id, data=args.data)
    check_output_path(out)  # before anything is sampled
    import_sampler()  # before anything imports ArviZ
    from ..inference.fitting import fit_outcome, write_fit

    settings = settings_from_args(args)
    # A fit's arrays are NumPy's. xarray imports dask.array (0.2-0.7 s) to recognise dask
    # arrays when it first builds a variable: a placeholder (whose Array no value is an
    # instance of) answers instead. Its netCDF writer imports dask.distributed (0.3-0.4 s)
    # only to ask whether a distributed scheduler is active: hidden, it is taken for absent.
    try:
        with placeholders("dask.array", installed_too=True):
            result = fit_outcome(table, spec, priors=overrides, settings=settings,
                                 baselines=args.baseline or default_baselines(table, spec),
                                 bias=bias)
            with hidden("distributed"):
                write_fit(result, out)
    finally:
        forget_stand_ins()
    from ..report.text import describe_fit  # the wording only; nothing else of the report

    print(describe_fit(result.summary))
    if (adj := result.summary.get("bias_adjustment")) is not None:
        rules = "; ".join(f"{r['rule']} ({r['source']}: mean {r['mean']:+.3f}, shared SD "
                          f"{r['shared_sd']:.3f}, own SD {r['study_sd']:.3f})"
                          for r in adj["rules"])
        print(f"bias-adjusted on the {adj['scale']} scale (mean positive favours preop): "
              f"{rules}")
        for r in adj["rules"]:
            if r.get("caveat"):
                print(f"  {r['rule']}: {r['caveat']}")
    print(f"\nwrote {out / 'posterior.nc'} and {out / 'summary.json'}")
    return 0 if result.ok else EXIT_UNCONVERGED
