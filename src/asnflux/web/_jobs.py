"""Long runs (cohorts, regimen comparisons, cell scenarios) in the background.

A run is a :class:`~asnflux.web._store.Simulation` row: queued → running → done or failed,
with its progress (0-1) updated as the library reports it, so a page can poll it. Runs go
one at a time on a worker thread of the server process that took them (each is CPU-bound
and the library vectorises inside a run). A run whose process is gone (a stopped or
restarted server on this host) is marked failed when a server process starts; runs of
other live processes (``asnflux serve --workers``) are left alone.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select, update

from .. import __version__
from .._errors import AsnfluxError
from ._store import Simulation, Store, plain_json

__all__ = ["Jobs"]

log = logging.getLogger("asnflux.web")
_PROGRESS_EVERY_S = 0.5


def _gone(owner: str) -> bool:
    """Whether the process ``host:pid`` that took a run has ended (on this host)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's process: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return int(pid) == os.getpid()  # our own pid from before a restart in a new container


class Jobs:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asnflux-job")
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        with store.session() as s:
            unfinished = s.execute(
                select(Simulation.id, Simulation.owner).where(
                    Simulation.status.in_(("queued", "running"))
                )
            ).all()
            orphans = [i for i, owner in unfinished if _gone(owner)]
            if orphans:
                s.execute(
                    update(Simulation)
                    .where(Simulation.id.in_(orphans))
                    .values(status="failed", error="interrupted: the server stopped during the run")
                )

    def submit(
        self,
        username: str,
        kind: str,
        parameters: dict[str, Any],
        work: Callable[[Callable[[int, int], None]], dict[str, Any]],
    ) -> int:
        """Queue ``work(progress)``; returns the run's id. ``work`` returns the results."""
        with self.store.session() as s:
            sim = Simulation(
                username=username,
                kind=kind,
                parameters=parameters,
                status="queued",
                progress=0.0,
                version=__version__,
                owner=self.owner,
            )
            s.add(sim)
            s.flush()
            run_id = sim.id
        self._pool.submit(self._run, run_id, work)
        return run_id

    def _set(self, run_id: int, **values: Any) -> None:
        with self.store.session() as s:
            s.execute(update(Simulation).where(Simulation.id == run_id).values(**values))

    def _run(self, run_id: int, work: Callable[..., dict[str, Any]]) -> None:
        self._set(run_id, status="running")
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if total > 0 and (now - last[0] > _PROGRESS_EVERY_S or done >= total):
                last[0] = now
                self._set(run_id, progress=min(1.0, done / total))

        try:
            results = work(progress)
        except AsnfluxError as exc:
            self._set(run_id, status="failed", error=str(exc))
        except Exception as exc:  # a bug: keep the server up, record it loudly
            log.error("run %d failed: %s", run_id, traceback.format_exc())
            self._set(
                run_id,
                status="failed",
                error=f"internal error ({type(exc).__name__}); see the server log",
            )
        else:
            self._set(run_id, status="done", progress=1.0, results=plain_json(results))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
