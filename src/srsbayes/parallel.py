"""Where independent tasks run: threads in this process, a local Dask cluster, or a cluster.

Sweeps (and, through the same interface, SBC data sets, a report's fits and trial
simulations) are many independent fits. :func:`map_tasks` runs ``fn(*args)`` for each task
on a :class:`Backend`:

- ``threads`` (the default): a thread pool in this process (nutpie samples without the GIL);
- ``local``: a ``dask.distributed.LocalCluster`` of worker processes on this machine, one
  thread each, sharing the compile cache on disk (``~/.cache/srsbayes``: a structure
  compiled once is a cache hit in every worker);
- ``tcp://HOST:PORT``: an existing Dask scheduler (``--scheduler`` or
  ``$SRSBAYES_SCHEDULER``), e.g. started by ``dask-jobqueue`` on SLURM or by the Dask
  Kubernetes operator (``docs/performance.md``). Every worker needs srsbayes installed at
  the same version; workers on other machines each warm their own compile cache.

Results come back in task order whatever the backend and the number of workers: a task's
randomness comes from its arguments (a sweep row's seed, or :func:`task_seed` of the run's
seed and the task's key), never from where or when it ran, and a model compiled in any
process gives the same draws (``srsbayes.inference.compile_cache.ieee_math``). A task that
raises, or whose worker dies, becomes a :class:`TaskResult` with its ``error``: a failed
row, never a hung run (on Dask the tasks of a worker that died are each run once more on
their own, so that only the task that kills its worker is reported).
"""

from __future__ import annotations

import hashlib
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SCHEDULER_ENV = "SRSBAYES_SCHEDULER"
"""Environment variable giving the default backend: ``threads``, ``local`` or a scheduler
address such as ``tcp://10.0.0.5:8786``."""


@dataclass(frozen=True)
class Backend:
    """Where :func:`map_tasks` runs its tasks.

    ``kind`` is ``threads``, ``local`` (a new ``LocalCluster`` of ``workers`` processes) or
    ``scheduler`` (the Dask scheduler at ``address``); ``workers`` is the number of threads
    or processes (None: one per core, at most 2 threads, as a sweep's default).
    """

    kind: str = "threads"
    workers: int | None = None
    address: str | None = None

    @property
    def label(self) -> str:
        """How the backend is recorded in provenance."""
        if self.kind == "scheduler":
            return f"dask scheduler {self.address}"
        if self.kind == "local":
            return f"dask LocalCluster, {self.workers or os.cpu_count() or 1} processes"
        return f"threads ({self.workers or 'default'})"


def backend_from(scheduler: str | None = None, workers: int | None = None,
                 environ: dict[str, str] | None = None) -> Backend:
    """The backend named by ``scheduler`` (``--scheduler``), else ``$SRSBAYES_SCHEDULER``,
    else threads.

    Raises
    ------
    ValueError
        A name that is neither ``threads``, ``local`` nor a ``tcp://``/``tls://``/``inproc://``
        address.
    """
    env = os.environ if environ is None else environ
    name = (scheduler or env.get(SCHEDULER_ENV, "") or "threads").strip()
    if name in ("threads", "local"):
        return Backend(name, workers)
    if name.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        return Backend("scheduler", workers, name)
    raise ValueError(f"scheduler must be 'threads', 'local' or an address such as "
                     f"tcp://HOST:PORT, got {name!r}")


@dataclass(frozen=True)
class TaskResult:
    """One task's outcome: its ``value``, or the ``error`` (one line) it failed with."""

    key: str
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def task_seed(seed: int, key: str) -> int:
    """A task's seed from the run's ``seed`` and the task's ``key``: the same in every
    process and on every machine (SHA-256, not Python's salted ``hash``), whatever the
    number of workers or the order tasks finish in."""
    digest = hashlib.sha256(f"{seed}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1  # fits an int64


def _one_line(exc: BaseException) -> str:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return last.splitlines()[0] if last else type(exc).__name__


def map_tasks(fn: Callable[..., Any], tasks: Sequence[tuple[str, tuple]], *,
              backend: Backend | None = None,
              progress: Callable[[int, int, TaskResult], None] | None = None
              ) -> list[TaskResult]:
    """``fn(*args)`` for every ``(key, args)`` of ``tasks``, on ``backend``.

    Parameters
    ----------
    fn
        A module-level function (Dask pickles it by reference), pure in its arguments.
    tasks
        ``(key, args)`` pairs; keys are unique and name the task in errors and on Dask.
    backend
        Threads by default.
    progress
        Called as ``progress(done, total, result)`` as each task finishes (in finishing
        order): what drives the command line's progress bar.

    Returns
    -------
    list[TaskResult]
        In the order of ``tasks``.
    """
    backend = backend or Backend()
    keys = [k for k, _ in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("task keys must be unique")
    if not tasks:
        return []
    if backend.kind == "threads":
        return _map_threads(fn, tasks, backend.workers or min(os.cpu_count() or 1, 2), progress)
    with dask_client(backend) as client:
        return map_on_client(client, fn, tasks, progress)


def _map_threads(fn, tasks, workers: int, progress) -> list[TaskResult]:
    results: dict[str, TaskResult] = {}

    def finish(key: str, result: TaskResult) -> None:
        results[key] = result
        if progress:
            progress(len(results), len(tasks), result)

    if workers <= 1:
        for key, args in tasks:
            try:
                finish(key, TaskResult(key, fn(*args)))
            except Exception as exc:  # a failed task is a failed row
                finish(key, TaskResult(key, error=_one_line(exc)))
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="srsbayes-task") as ex:
            futures = {ex.submit(fn, *args): key for key, args in tasks}
            for fut in as_completed(futures):
                key = futures[fut]
                exc = fut.exception()
                finish(key, TaskResult(key, error=_one_line(exc)) if exc is not None
                       else TaskResult(key, fut.result()))
    return [results[k] for k, _ in tasks]


@contextmanager
def dask_client(backend: Backend) -> Iterator[Any]:
    """A ``distributed.Client`` for ``backend``: a new ``LocalCluster`` of processes (closed
    afterwards) or a connection to the scheduler at ``backend.address``."""
    import dask
    from distributed import Client, LocalCluster

    # A task whose worker dies is retried once, then reported (never retried forever).
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        if backend.kind == "local":
            n = backend.workers or os.cpu_count() or 1
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                yield client
        else:
            with Client(backend.address, timeout="30s") as client:
                yield client


def map_on_client(client, fn: Callable[..., Any], tasks: Sequence[tuple[str, tuple]],
                  progress: Callable[[int, int, TaskResult], None] | None = None
                  ) -> list[TaskResult]:
    """:func:`map_tasks` on an open ``distributed.Client`` (for callers that keep one)."""
    from distributed import KilledWorker
    from distributed import as_completed as dask_completed

    token = hashlib.sha256(os.urandom(16)).hexdigest()[:12]  # new keys: never a stale result
    futures = {client.submit(fn, *args, key=f"srsbayes-{token}-{i}", pure=False): key
               for i, (key, args) in enumerate(tasks)}
    results: dict[str, TaskResult] = {}
    killed: list[int] = []
    for fut in dask_completed(list(futures)):
        key = futures[fut]
        try:
            results[key] = TaskResult(key, fut.result())
        except KilledWorker:  # this task, or another on the same worker, killed it
            killed.append(next(i for i, (k, _) in enumerate(tasks) if k == key))
            continue
        except Exception as exc:  # raised by the task
            results[key] = TaskResult(key, error=_one_line(exc))
        if progress:
            progress(len(results), len(tasks), results[key])
    # A worker that dies takes the tasks it held with it: run each such task once more on
    # its own, so only the one that kills its worker is reported as failed.
    for i in sorted(killed):
        key, args = tasks[i]
        try:
            results[key] = TaskResult(key, client.submit(
                fn, *args, key=f"srsbayes-{token}-{i}-alone", pure=False).result())
        except Exception as exc:
            results[key] = TaskResult(key, error=_one_line(exc))
        if progress:
            progress(len(results), len(tasks), results[key])
    return [results[k] for k, _ in tasks]
