"""Validation run: the metadat battery (``tests/data/metadat``) at any number of seeds.

For every dataset and seed: one gated fit as ``tests/published/test_metadat.py`` makes it (the
family's default settings, the retry included), and one line with the gate's verdict, the attempts,
R-hat, the smallest bulk ESS, divergences, the posterior medians of theta and tau beside
metafor's estimates, and the wall time (compilation included for the first fit of a
structure). Ends with the count of fits that passed the gate, per attempt. No test depends
on its timings.

Usage::

    .venv/bin/python benchmarks/bench_metadat.py                    # seeds 1-3, every dataset
    .venv/bin/python benchmarks/bench_metadat.py --seeds 1-10 --only bcg,egger2001
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "published"))

import numpy as np

import metadat_battery as mb


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = (int(x) for x in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(x) for x in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1-3", help="e.g. 1-10 or 1,11,20260226")
    ap.add_argument("--only", default="", help="comma-separated dataset names")
    args = ap.parse_args()
    specs, binary, contrast = mb.load(Path(tempfile.mkdtemp()))
    tables = {"binomial": binary, "contrast": contrast}
    ref = mb.reference()
    names = args.only.split(",") if args.only else list(ref)
    passed = {1: 0, 2: 0, "failed": 0}
    for name in names:
        r = ref[name]
        est, tau_hat = ((r["glmm_est"], r["glmm_tau"]) if r["family"] == "binomial"
                        else (r["reml_est"], r["reml_tau"]))
        for seed in _seeds(args.seeds):
            t0 = time.perf_counter()
            res = mb.fit(specs, tables, name, seed)
            d = res.diagnostics
            post = res.idata["posterior"]
            passed[d.attempts if res.ok else "failed"] += 1
            theta, sd = float(post["effect"].median()), float(post["effect"].std())
            lo, med, hi = np.quantile(post["tau"].values, [0.025, 0.5, 0.975])
            print(f"{name:18s} seed {seed:3d} ok={res.ok!s:5s} attempts={d.attempts} "
                  f"rhat={d.rhat_max:.4f} ess_bulk={d.ess_bulk_min:6.0f} div={d.divergences:3d} "
                  f"theta {theta:+.3f} (metafor {est:+.3f}, {(theta - est) / sd:+.2f} SD) "
                  f"tau {med:.3f} [{lo:.3f}, {hi:.3f}] (metafor {tau_hat:.3f}) "
                  f"{time.perf_counter() - t0:6.1f} s", flush=True)
    print(f"passed at the first attempt: {passed[1]}, after the retry: {passed[2]}, "
          f"refused: {passed['failed']}")


if __name__ == "__main__":
    main()
