"""The Dask executor of the compiled backend: chunks of members on a cluster's workers.

Each task carries one chunk's values and the model definition (a picklable object); a
worker process compiles the model once — or loads it from the on-disk cache of generated
and machine code — and keeps it for the next chunk. Workers are single-threaded processes
(numba's own threading is set to one thread per task), so a cluster of N workers uses N
cores without oversubscription.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._errors import DataError

__all__ = ["run_chunks"]

_WORKER_MODELS: dict[str, Any] = {}


def _task(
    model: Any, values: dict[str, Any], n: int, t: np.ndarray, settings: tuple[Any, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import numba

    from ._compiled import CompiledModel

    numba.set_num_threads(1)
    key = repr(model)
    if key not in _WORKER_MODELS:
        if len(_WORKER_MODELS) >= 4:
            _WORKER_MODELS.pop(next(iter(_WORKER_MODELS)))
        _WORKER_MODELS[key] = CompiledModel(model)
    return _WORKER_MODELS[key].run_chunk(values, n, t, settings)


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


def run_chunks(
    model: Any,
    pieces: list[dict[str, Any]],
    sizes: list[int],
    t: np.ndarray,
    settings: tuple[Any, ...],
    scheduler: str,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The chunks' results in order, computed on the cluster."""
    client, cluster = client_for(scheduler)
    try:
        futures = [
            client.submit(_task, model, piece, n, t, settings, pure=False)
            for piece, n in zip(pieces, sizes, strict=True)
        ]
        for future in futures:
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
