"""``python -m srsbayes fit OUTCOME``: fit, print a short summary, write posterior.nc and
summary.json (both atomically), exit 3 when the convergence gate fails."""

from __future__ import annotations

import argparse
from pathlib import Path

from .data import default_table
from .errors import EXIT_UNCONVERGED, InputError
from .fitting import FitResult, FitSettings, fit_outcome
from .outputs import write_json, write_with
from .priors import parse_assignment
from .specs import REPO_ROOT, get_spec, load_specs
from .text import describe_fit


def settings_from_args(args: argparse.Namespace) -> FitSettings:
    for opt in ("draws", "tune", "chains"):
        if getattr(args, opt) < 1:
            raise InputError(f"must be >= 1, got {getattr(args, opt)}", column=f"--{opt}")
    return FitSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)


def write_fit(result: FitResult, out: Path) -> None:
    """Write ``posterior.nc`` and ``summary.json`` into ``out`` (each atomically)."""
    write_with(out / "posterior.nc",
               lambda tmp: result.idata.to_netcdf(tmp, engine="h5netcdf"))
    write_json(out / "summary.json", result.summary)


def cli_main(args: argparse.Namespace) -> int:
    specs = load_specs(args.models)
    spec = get_spec(args.outcome, args.models)
    overrides = dict(parse_assignment(a) for a in args.prior)
    table = default_table(specs, args.data)
    settings = settings_from_args(args)
    result = fit_outcome(table, spec, priors=overrides, settings=settings)
    out = args.out or REPO_ROOT / "reports" / spec.id
    write_fit(result, out)
    print(describe_fit(result.summary))
    print(f"\nwrote {out / 'posterior.nc'} and {out / 'summary.json'}")
    return 0 if result.ok else EXIT_UNCONVERGED
