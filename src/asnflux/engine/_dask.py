"""The Dask executor of the compiled backend: chunks of members on a cluster's workers.

Each task carries one chunk's values and the model definition (a picklable object); a
worker process compiles the model once — or loads it from the on-disk cache of generated
and machine code — and keeps it for the next chunk. Workers are single-threaded processes
(numba's own threading is set to one thread per task), so a cluster of N workers uses N
cores without oversubscription.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._errors import DataError

__all__ = ["map_chunks", "run_chunks"]

_WORKER_MODELS: dict[str, Any] = {}


def _worker_model(model: Any) -> Any:
    """The model compiled (or loaded from the on-disk cache) once per worker process."""
    import numba

    from ._compiled import CompiledModel

    numba.set_num_threads(1)
    key = repr(model)
    if key not in _WORKER_MODELS:
        if len(_WORKER_MODELS) >= 4:
            _WORKER_MODELS.pop(next(iter(_WORKER_MODELS)))
        _WORKER_MODELS[key] = CompiledModel(model)
    return _WORKER_MODELS[key]


def _map_task(model: Any, fn: Callable[[Any, Any], Any], payload: Any) -> Any:
    return fn(_worker_model(model), payload)


def client_for(scheduler: str) -> tuple[Any, Any]:
    """(client, cluster or None): ``"local"`` starts a LocalCluster of one single-threaded
    worker process per core; an address connects to that scheduler."""
    import os

    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency of the package
        raise DataError("the Dask executor needs the 'distributed' package") from None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        return Client(cluster), cluster
    if not scheduler.startswith(("tcp://", "tls://", "ucx://", "inproc://")):
        raise DataError(
            f"scheduler must be 'local' or an address such as tcp://HOST:8786, got {scheduler!r}"
        )
    try:
        return Client(scheduler, timeout="20s"), None
    except OSError as exc:
        raise DataError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None


def _run_piece(compiled: Any, payload: tuple[Any, ...]) -> Any:
    values, n, t, settings = payload
    return compiled.run_chunk(values, n, t, settings)


def run_chunks(
    model: Any,
    pieces: list[dict[str, Any]],
    sizes: list[int],
    t: np.ndarray,
    settings: tuple[Any, ...],
    scheduler: str,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The chunks' results in order, computed on the cluster."""
    payloads = [(piece, n, t, settings) for piece, n in zip(pieces, sizes, strict=True)]
    return map_chunks(model, _run_piece, payloads, scheduler)


def map_chunks(
    model: Any, fn: Callable[[Any, Any], Any], payloads: list[Any], scheduler: str
) -> Iterator[Any]:
    """``fn(compiled_model, payload)`` for each payload on the cluster's workers, results in
    order: a caller's own reduction of each chunk (a therapy cohort's endpoints) runs where
    the chunk was simulated, so only the reduced result travels back. ``fn`` must be a
    module-level function importable on the workers (asnflux installed there)."""
    client, cluster = client_for(scheduler)
    try:
        shared = client.scatter(model, broadcast=True, hash=False)  # sent once, not per task
        futures = [client.submit(_map_task, shared, fn, p, pure=False) for p in payloads]
        for future in futures:
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
