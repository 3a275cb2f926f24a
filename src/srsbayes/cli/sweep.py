"""``python -m srsbayes sweep OUTCOME``: prior- and data-sensitivity sweep of one outcome.

As ``fit`` does (:mod:`.fit`), the command imports ArviZ's base with stand-ins for JAX and
NumPyro (which it would otherwise look for by walking the call stack, ~0.15 s), and, when
the rows are sampled in threads of this process, lets xarray find a stand-in for
``dask.array`` (which it imports, ~0.15-0.7 s, only to recognise dask arrays; a sweep's
arrays are NumPy's). A sweep on Dask workers imports the real one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import nullcontext
from typing import IO, Any

from ..errors import EXIT_UNCONVERGED, InputError
from ..inputs.data import default_table
from ..inputs.specs import get_spec, load_specs
from ..outputs import check_output_path
from ..parallel import backend_from
from ..resources import default_out
from .fit import forget_stand_ins, placeholders, settings_from_args


def progress_bar(stream: IO[str]) -> Callable[[int, int, Any], None] | None:
    """A one-line progress bar on ``stream`` advanced as each task finishes (``None`` when
    ``stream`` is not a terminal)."""
    if not stream.isatty():
        return None

    def show(done: int, total: int, _row: Any) -> None:
        filled = round(30 * done / max(total, 1))
        stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} settings")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


def cli_main(args: argparse.Namespace) -> int:
    """Print the sweep table and verdict; exit 3 when the default setting (or every
    setting) fails the convergence gate, so that no verdict can be given."""
    with placeholders("jax", "numpyro"):  # only while ArviZ's base is imported
        import arviz_base  # noqa: F401
    from ..sensitivity.sweep import default_grid, format_table, load_grid, run_sweep

    specs = load_specs(args.models)
    spec = get_spec(args.outcome, args.models)
    grid = load_grid(args.grid, spec) if args.grid else default_grid(spec)
    table = default_table(specs, args.data)
    settings = settings_from_args(args)
    out = args.out or default_out(spec.id, "sweep", data=args.data)
    check_output_path(out)  # before anything is sampled
    try:
        backend = backend_from(args.scheduler, args.workers)
    except ValueError as exc:
        raise InputError(str(exc), column="--scheduler") from None
    if args.workers is not None and args.workers < 1:
        raise InputError(f"must be >= 1, got {args.workers}", column="--workers")
    try:
        with (placeholders("dask.array", installed_too=True) if backend.kind == "threads"
              else nullcontext()):
            result = run_sweep(table, spec, grid, settings, workers=args.workers,
                               progress=progress_bar(sys.stderr), backend=backend,
                               refit_all=args.refit_all)
    finally:
        forget_stand_ins()
    paths = result.write(out)
    print(f"{spec.label} ({spec.id}): {len(result.rows)} settings, decision rule "
          f"{result.verdict['rule']}")
    print(format_table(result.rows))
    print()
    print(result.verdict["text"])
    from ..certainty.tipping import reverse_bayes_sentence, tipping_sentence

    for line in (tipping_sentence(result.tolerance or {}),
                 reverse_bayes_sentence(result.tolerance or {})):
        if line:
            print(line[0].upper() + line[1:] + ".")
    if result.psense:
        for flag in result.psense.get("flags", []):
            print(f"power-scaling: {flag}")
        if not result.psense.get("flags") and "variables" in result.psense:
            print("power-scaling: no parameter is sensitive to its prior (all < 0.05)")
    print(f"\nwrote {paths['csv']}, {paths['json']} and {paths['png']}")
    ref_ok = bool(result.rows.loc[result.rows["setting"] == result.reference, "ok"].iloc[0])
    return 0 if ref_ok and result.verdict["assessable"] else EXIT_UNCONVERGED
