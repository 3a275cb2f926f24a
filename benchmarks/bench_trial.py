"""Time ``trial`` on the bundled LMD design (issue 24: >= 2,000 simulated trials in under a
minute on two cores). Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_trial.py [--sims 2000] [--runs 3]

Each run is one whole process, ``python -m srsbayes trial lmd --design NCT03741673 --sims N``
(the fit with a warm compile cache, the simulations, the reweighting, the refits of trials
whose Pareto k exceeds 0.7 and ``trial.json``), after one unmeasured run that fills the
compile cache (the refits' five-study structure included). A second figure times the
simulations alone in this process (``run_trial`` on a fit made beforehand).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def whole_command(sims: int, out: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "srsbayes", "trial", "lmd", "--design", "NCT03741673",
                    "--sims", str(sims), "--no-progress", "--out", out], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def simulations_only(sims: int) -> tuple[float, dict]:
    from srsbayes.inference.fitting import fit_outcome
    from srsbayes.inputs.data import default_table
    from srsbayes.inputs.specs import load_specs
    from srsbayes.trials.run import run_trial

    specs = load_specs(None)
    table = default_table(specs, None)
    fit = fit_outcome(table, specs["lmd"], checks=False)
    t = time.perf_counter()
    res = run_trial(fit, table, specs, n_preop=90, n_postop=90, sims=sims)
    return time.perf_counter() - t, res.khat()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        whole_command(args.sims, tmp)  # fills the compile cache
        times = [whole_command(args.sims, tmp) for _ in range(args.runs)]
    print(f"trial lmd --design NCT03741673 --sims {args.sims} (whole process): median "
          f"{statistics.median(times):.1f} s [{', '.join(f'{x:.1f}' for x in times)}] "
          "(target < 60 s)")
    secs, khat = simulations_only(args.sims)
    print(f"simulations, reweighting and refits only: {secs:.1f} s; Pareto k: {khat}")


if __name__ == "__main__":
    main()
