"""``python -m srsbayes trial OUTCOME``: assurance, preposterior and EVSI/EVPI of a trial.

Every input (design, sizes, success rule, weights, population) is checked before the fit;
``trial.json`` is written atomically; exit 3 when the fit fails its convergence gate (then
no number is reported).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import EXIT_UNCONVERGED, InputError
from ..inputs.data import default_table
from ..inputs.specs import get_spec, load_specs
from ..outputs import OutputUnit, check_output_path, write_json
from ..parallel import backend_from
from ..resources import default_out
from .fit import import_sampler


def cli_main(args: argparse.Namespace) -> int:
    from ..certainty.weights import load_weights
    from ..trials.assurance import parse_rule
    from ..trials.design import arm_sizes, get_design

    specs = load_specs(args.models)
    spec = get_spec(args.outcome, args.models)
    table = default_table(specs, args.data)
    design = get_design(args.design, args.trials) if args.design else None
    n_preop, n_postop, how = arm_sizes(design, tuple(args.n_per_arm) if args.n_per_arm
                                       else None)
    rule = parse_rule(args.success)
    out = Path(args.out or default_out(spec.id, "trial", data=args.data))
    check_output_path(out)  # before anything is sampled
    weights = load_weights(args.weights)
    if args.sims < 100:
        raise InputError(f"must be >= 100, got {args.sims}", column="--sims")
    if args.max_refits < 0:
        raise InputError(f"must be >= 0, got {args.max_refits}", column="--max-refits")
    if args.se is not None and not args.se > 0:
        raise InputError(f"must be > 0, got {args.se:g}", column="--se")
    try:
        backend = backend_from(args.scheduler, args.workers)
    except ValueError as exc:
        raise InputError(str(exc), column="--scheduler") from None
    bias = None
    if args.bias_adjusted is not None:
        from ..priors.bias import load_bias_priors

        bias = load_bias_priors(args.bias_adjusted)  # "bundled", "wide" or a file
    from ..trials.run import population_size

    population = population_size(args.patients_per_year, args.horizon_months)
    import_sampler()
    from ..inference.fitting import FitSettings
    from ..trials.run import trial_outcome
    from ..trials.wording import lines

    fit, result = trial_outcome(
        table, specs, spec, settings=FitSettings(seed=args.seed), bias=bias,
        n_preop=n_preop, n_postop=n_postop, size_source=how, design=design, se=args.se,
        success=rule, sims=args.sims, weights=weights, population=population,
        max_refits=args.max_refits, progress=not args.no_progress and not args.json,
        backend=backend)
    if result is None:
        print(f"NOT TRUSTWORTHY: the fit of {spec.id} failed its convergence gate ("
              + "; ".join(fit.diagnostics.as_dict().get("failures", [])) + "); no trial "
              "analysis is reported", file=sys.stderr)
        return EXIT_UNCONVERGED
    payload = result.as_dict()
    with OutputUnit(out, "trial", payload["provenance"]) as unit:
        write_json(unit.folder() / "trial.json", payload)
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    if design is not None and spec.id not in design.outcomes:
        print(f"note: {design.id}'s primary endpoint is not {spec.id} (its outcomes: "
              f"{', '.join(design.outcomes) or 'none listed'}); this is a secondary analysis",
              file=sys.stderr)
    if design is not None and design.endpoint_match:
        print(f"{design.id}: {design.endpoint_match}.")
    print(f"Trial size: {n_preop} + {n_postop} patients ({how}).")
    print("\n".join(lines(payload)))
    print(f"\nwrote {out / 'trial.json'}")
    return 0
