"""Log every model compilation of every Python process (pytest, its xdist workers and the
CLI subprocesses the tests start) to ``$SRSBAYES_COMPILE_LOG``, one JSON line each.

Put this folder first on ``PYTHONPATH`` (``benchmarks/bench_test_compiles.py`` does) and
Python imports it at start-up. It wraps ``srsbayes.inference.compile_cache._compile_model``
(the graph-keyed path every compile goes through) and ``compile_structure`` once that
module is imported, recording the wall time, the cache status (``hit``/``miss``/
``uncached``/``fallback`` from the module's ``STATS``), the process id and the running test
(``$PYTEST_CURRENT_TEST``). Wall time grows with the machine's load; ``cpu_seconds`` (the
process's CPU time, all threads) far less, and a wait for another process's lock costs none.
Nothing happens without ``$SRSBAYES_COMPILE_LOG``.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import os
import sys
import time

_TARGET = "srsbayes.inference.compile_cache"


def _write(record: dict) -> None:
    record.update(pid=os.getpid(), test=os.environ.get("PYTEST_CURRENT_TEST", ""),
                  argv=" ".join(sys.argv[:4]))
    with open(os.environ["SRSBAYES_COMPILE_LOG"], "a") as fh:  # one short append per line
        fh.write(json.dumps(record) + "\n")


def _timed(module, name: str):
    inner = getattr(module, name)

    def wrapper(*args, **kwargs):
        before = dict(module.STATS)
        start, cpu = time.perf_counter(), time.process_time()
        out = None
        try:
            out = inner(*args, **kwargs)
            return out
        finally:
            delta = {k: v - before.get(k, 0) for k, v in module.STATS.items()
                     if v != before.get(k, 0)}
            record = {"fn": name, "seconds": round(time.perf_counter() - start, 3),
                      "cpu_seconds": round(time.process_time() - cpu, 3), "status": delta}
            if name == "compile_structure" and args:
                record["model"] = args[0]  # the structure's description
            if name == "_compile_model" and isinstance(out, tuple) and out[1] is not None:
                record["entry"] = out[1].name
            _write(record)

    wrapper.__wrapped__ = inner
    setattr(module, name, wrapper)


class _Loader(importlib.abc.Loader):
    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        _timed(module, "_compile_model")
        _timed(module, "compile_structure")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


if os.environ.get("SRSBAYES_COMPILE_LOG"):
    sys.meta_path.insert(0, _Finder())
