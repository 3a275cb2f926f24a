"""``python -m srsbayes fit OUTCOME``: fit, print a short summary, write posterior.nc and
summary.json (both atomically), exit 3 when the convergence gate fails."""

from __future__ import annotations

import argparse

from ..errors import EXIT_UNCONVERGED, InputError
from ..inference.fitting import FitSettings, fit_outcome, write_fit
from ..inputs.data import default_table
from ..inputs.specs import get_spec, load_specs
from ..priors.distributions import parse_assignment
from ..report.text import describe_fit
from ..resources import default_out


def settings_from_args(args: argparse.Namespace) -> FitSettings:
    for opt in ("draws", "tune", "chains"):
        if getattr(args, opt) < 1:
            raise InputError(f"must be >= 1, got {getattr(args, opt)}", column=f"--{opt}")
    return FitSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)


def cli_main(args: argparse.Namespace) -> int:
    specs = load_specs(args.models)
    spec = get_spec(args.outcome, args.models)
    overrides = dict(parse_assignment(a) for a in args.prior)
    table = default_table(specs, args.data)
    settings = settings_from_args(args)
    result = fit_outcome(table, spec, priors=overrides, settings=settings)
    out = args.out or default_out(spec.id)
    write_fit(result, out)
    print(describe_fit(result.summary))
    print(f"\nwrote {out / 'posterior.nc'} and {out / 'summary.json'}")
    return 0 if result.ok else EXIT_UNCONVERGED
