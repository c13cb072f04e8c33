"""A large day's reprints merged in a second process while this one matches the topics.

Matching every topic over the day's items and merging the items' reprints do not depend on each
other, and each is a large share of a digest's build (5,000 items, 50 topics: about 0.6 s and
0.35 s on a two-core machine): with a core to spare, they run side by side. The reprints are
looked for among all of the day's items, not only those a topic matched, so the second process
can start before matching ends; that also counts a day's boilerplate (a template in every post of
a feed) over the whole day rather than over the few posts a topic kept, and gives every chat the
same merges, whatever its topics.

The worker comes from multiprocessing's "forkserver": a server process started once, clean and
single-threaded (the service runs threads, which makes a plain fork unsafe), with
:mod:`digests.cluster` loaded, forks it in milliseconds where "spawn" would start an interpreter
(a fifth of a second). Only titles and texts are sent, lists of indices come back.

A small day, or a machine with one core, is merged in this process. When the worker cannot be
started or dies, the day is merged here instead, with a warning: a digest never fails for want of
a process. When this process is killed, the worker ends too (:mod:`bot.processes`).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from functools import cache
from multiprocessing.context import BaseContext

from bot.domain.models import Item
from bot.processes import end_with_parent
from digests.cluster import cluster_items, ordered_groups, reprint_groups

log = logging.getLogger(__name__)

# Below this many items the worker gains nothing: it returns 30-60 ms later than merging here
# would take (starting it, sending the texts), which is about what matching the eight default
# topics costs. Measured on two cores, benchmark days: 500 items merge in 24 ms here and come back
# from the worker in 50 ms, matching them takes 30 ms; 1,000 items: 54 ms, 88 ms, matching 58 ms.
MIN_ITEMS = 1000

Groups = list[list[int]]


@cache
def _context() -> BaseContext | None:
    """The forkserver context with this module's work preloaded; None where there is none."""
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:  # Windows
        return None
    context.set_forkserver_preload(["digests.cluster", "bot.processes"])
    return context


def _cores() -> int:
    """The cores this process may run on (its affinity, which a container or taskset narrows)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _merge_in_worker(documents: Sequence[tuple[str, str]]) -> Groups:
    # The worker does this one task and ends: the collector has nothing to reclaim meanwhile and
    # would only traverse the growing sets again and again (see digests.build.collector_paused).
    gc.disable()
    return reprint_groups(documents)


@contextmanager
def reprints_aside(items: Sequence[Item], *, min_items: int | None = None) -> Iterator[Callable[[], Groups]]:
    """Start merging the reprints of ``items`` (:func:`digests.cluster.cluster_items`) in a
    worker when they are at least ``min_items`` (default :data:`MIN_ITEMS`); the block gets a
    function that returns the groups, waiting for them if need be."""
    context = _context()
    if len(items) < (MIN_ITEMS if min_items is None else min_items) or context is None or _cores() < 2:
        yield lambda: cluster_items(items)
        return
    documents = [(item.title, item.text) for item in items]
    pool: ProcessPoolExecutor | None = None
    future: Future[Groups] | None = None
    try:
        pool = ProcessPoolExecutor(1, context, initializer=end_with_parent)
        future = pool.submit(_merge_in_worker, documents)
    except Exception as error:  # no process could be started (limits, no /dev/shm, shutting down)
        log.warning("无法启动合并转载的进程，改在本进程合并 (reprints merged here: %s)", error)

    def groups() -> Groups:
        if future is not None:
            try:
                return ordered_groups(items, future.result())
            except Exception as error:
                # The worker died (killed, out of memory) or failed: merged here, a failure of the
                # merging itself is raised from here, where it says what went wrong.
                log.warning("合并转载的进程中断，改在本进程合并 (reprints merged here: %s)", error)
        return cluster_items(items)

    try:
        yield groups
    finally:
        if pool is not None:
            # The worker is done (or its result unwanted): nothing is left running behind.
            pool.shutdown(wait=True, cancel_futures=True)
