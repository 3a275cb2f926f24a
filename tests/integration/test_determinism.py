"""Same seed, same draws, whatever the compile path (issue 23, item 2).

A contrast fit gave other numbers on its first run with an empty compile cache than on every
later run, and a fallback compile once gave another result again: PyTensor compiled with
fast-math, whose result depends on what the optimiser inlined, which depends on the compile's
history. ``compile_cache.ieee_math`` compiles without it. Here each family's model is sampled
after every way a compile can go, forced:

- a first compile in a process whose PyTensor cache and srsbayes cache are both empty (miss);
- a cache hit in the same process (a fresh ``ModelCache``) and in a second process (both
  model-free: found by the structure key, the PyMC model never built);
- the ordinary compile when the cache is off, when an entry is damaged in a way its manifest
  cannot see (the fallback), and when another process holds the entry's lock past
  ``LOCK_TIMEOUT`` (the fallback after a lock timeout); one such path per family, each
  running ``nutpie.compile_pymc_model``.

Draws are compared for exact equality: one machine, one seed, one core per chain; any
difference is a compile path that runs other arithmetic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAMILY_OUTCOMES = {"binomial": "lmd", "lognormal_median": "os", "contrast": "schools_hr"}
PLAIN_PATH = {"binomial": "fallback", "lognormal_median": "off", "contrast": "timeout"}

CHILD = r'''
import hashlib, json, shutil, sys, threading
from pathlib import Path
import numpy as np
# tests/integration, for the eight schools as hazard ratios, and tests/, for its conftest
sys.path[:0] = [str(Path(sys.argv[3]) / "integration"), sys.argv[3]]
from filelock import FileLock
from test_contrast_fit import MODELS, _hr_rows, _write
from srsbayes.inference import compile_cache as cc
from srsbayes.inference.cache import store
from srsbayes.inference.fitting import (FitSettings, ModelCache, model_data, resolve_priors,
                                        sample_posterior)
from srsbayes.inputs.data import default_table, outcome_table, read_table
from srsbayes.inputs.specs import load_specs

mode, root, tmp = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[4])
plain = json.loads(sys.argv[5])
bundled = load_specs()
contrast = load_specs(MODELS)
tables = {"lmd": default_table(bundled), "os": default_table(bundled),
          "schools_hr": read_table(_write(tmp / "hr.csv", _hr_rows()), contrast)}
specs = {"lmd": bundled["lmd"], "os": bundled["os"], "schools_hr": contrast["schools_hr"]}
SETTINGS = FitSettings(draws=150, tune=150, chains=2, seed=11, cores=1)

def draws(outcome, cache):
    spec = specs[outcome]
    wide = outcome_table(tables[outcome], spec)
    before = dict(cc.STATS)
    idata = sample_posterior(spec.family, model_data(spec, wide), resolve_priors(spec, wide),
                             SETTINGS, cache)
    post = idata["posterior"].to_dataset()
    blob = b"".join(np.ascontiguousarray(post[v].values).tobytes()
                    for v in sorted(post.data_vars))
    status = [k for k in cc.STATS if cc.STATS[k] != before.get(k, 0)]
    return {"digest": hashlib.sha256(blob).hexdigest(), "status": status,
            "effect": float(post["effect"].mean())}

def entry(family_k):
    (folder,) = [p for p in root.iterdir() if p.is_dir() and p.name not in family_k]
    return folder

out = {}
for outcome, family in [("lmd", "binomial"), ("os", "lognormal_median"),
                        ("schools_hr", "contrast")]:
    runs = out[family] = {}
    if mode == "warm":
        runs["hit, second process"] = draws(outcome, ModelCache(root))
        continue
    seen = {p.name for p in root.iterdir()} if root.exists() else set()
    runs["first compile"] = draws(outcome, ModelCache(root))
    (folder,) = [p for p in root.iterdir() if p.is_dir() and p.name not in seen]
    runs["hit, same process"] = draws(outcome, ModelCache(root))
    how = plain[family]
    if how == "off":
        runs["cache off"] = draws(outcome, ModelCache(None))
    elif how == "fallback":
        backup = tmp / "backup"
        shutil.copytree(folder, backup)
        layout = json.loads((folder / "layout.json").read_text())
        layout["record"] = "damaged"  # both the model-free and the model's load refuse it
        (folder / "layout.json").write_text(json.dumps(layout))
        cc._write_manifest(folder)
        runs["fallback after a damaged entry"] = draws(outcome, ModelCache(root))
        shutil.copytree(backup, folder)  # for the second process
    else:
        held, release = threading.Event(), threading.Event()
        def hold():
            with FileLock(str(root / f"{folder.name}.lock")):
                held.set()
                release.wait()
        t = threading.Thread(target=hold)
        t.start()
        held.wait()
        store.LOCK_TIMEOUT = 0.2
        try:
            runs["fallback after a lock timeout"] = draws(outcome, ModelCache(root))
        finally:
            release.set()
            t.join()
            store.LOCK_TIMEOUT = 600.0
print(json.dumps(out))
'''


def run_child(tmp: Path, mode: str, env: dict[str, str]) -> dict:
    script = tmp / "child.py"
    script.write_text(CHILD)
    proc = subprocess.run([sys.executable, str(script), mode, str(tmp / "cache"),
                           str(ROOT / "tests"), str(tmp), json.dumps(PLAIN_PATH)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict:
    """Every compile path of each family: a cold process, then a warm one."""
    tmp = tmp_path_factory.mktemp("determinism")
    env = {k: v for k, v in os.environ.items() if k != "SRSBAYES_CACHE_DIR"}
    # An empty PyTensor cache too: the first run of a new user, where the bug showed.
    env["PYTENSOR_FLAGS"] = ",".join(
        f for f in [env.get("PYTENSOR_FLAGS", ""), f"compiledir={tmp / 'compiledir'}"] if f)
    cold = run_child(tmp, "cold", env)
    warm = run_child(tmp, "warm", env)
    return {family: {**cold[family], **warm[family]} for family in FAMILY_OUTCOMES}


@pytest.mark.parametrize("family", sorted(FAMILY_OUTCOMES))
def test_every_compile_path_gives_the_same_draws(paths, family):
    runs = paths[family]
    statuses = {name: run["status"] for name, run in runs.items()}
    plain = {"off": "uncached", "fallback": "fallback", "timeout": "fallback"}[
        PLAIN_PATH[family]]
    assert statuses["first compile"] == ["miss"]
    assert statuses["hit, same process"] == ["hit"]
    assert statuses["hit, second process"] == ["hit"]
    assert len(runs) == 4 and [plain] in statuses.values(), statuses
    digests = {name: run["digest"][:16] for name, run in runs.items()}
    assert len(set(digests.values())) == 1, digests
    assert -3.0 < runs["first compile"]["effect"] < 3.0  # a real posterior
