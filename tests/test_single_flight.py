"""After a write, one request recomputes a figure or a page; the others wait for it or get the last one."""

import threading

import pytest
from django.core.cache import cache

from incidents import cache as page_cache

WORKERS = 6


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    # The lock is the cache's atomic add: the same in memory as in the database cache
    # (an INSERT that loses to another's) or Redis (SET NX); memory needs no database here.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


class Recomputation:
    """A compute() that holds on until every other worker is waiting, counting its runs."""

    def __init__(self, monkeypatch, waiting_for):
        self.runs, self.waiting, self.release = 0, 0, threading.Event()
        self.lock, self.waiting_for = threading.Lock(), waiting_for
        real_pause = page_cache.pause

        def counted_pause():
            with self.lock:
                self.waiting += 1
                if self.waiting >= self.waiting_for:
                    self.release.set()
            real_pause()

        monkeypatch.setattr(page_cache, "pause", counted_pause)

    def __call__(self):
        with self.lock:
            self.runs += 1
        self.release.wait(timeout=30)
        return {"figure": 42}


def run_together(target, answered=None):
    barrier, answers = threading.Barrier(WORKERS), []

    def worker():
        barrier.wait()
        answers.append(target())
        if answered:
            answered(len(answers))

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_it_computes_a_figure_once_while_others_wait(monkeypatch):
    compute = Recomputation(monkeypatch, waiting_for=WORKERS - 1)
    answers = run_together(lambda: page_cache.single_flight("figure", compute))
    assert compute.runs == 1
    assert answers == [{"figure": 42}] * WORKERS
    assert cache.get("figure") == {"figure": 42}


def test_others_get_the_last_value_without_waiting(monkeypatch):
    cache.set("latest", {"figure": 41})
    compute = Recomputation(monkeypatch, waiting_for=WORKERS)  # nobody waits: released below

    def answered(count):
        if count == WORKERS - 1:  # everyone but the one computing has its answer
            compute.release.set()

    stale_answers = run_together(lambda: page_cache.single_flight("figure", compute, "latest"), answered)
    assert compute.runs == 1
    assert sorted(a["figure"] for a in stale_answers) == [41] * (WORKERS - 1) + [42]
    assert cache.get("latest") == {"figure": 42}


def test_a_failed_recomputation_frees_the_lock():
    def broken():
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        page_cache.single_flight("figure", broken)
    assert page_cache.single_flight("figure", lambda: 7) == 7


def test_a_newer_version_waits_for_the_running_recomputation(monkeypatch):
    """Writes faster than a recomputation: one recomputes at a time, not one per write."""
    older = Recomputation(monkeypatch, waiting_for=1)  # released once the newer one waits
    newer_runs = []
    first = threading.Thread(target=lambda: page_cache.single_flight("v1", older, lock="figure:lock"))
    first.start()
    while not older.runs:
        page_cache.time.sleep(0.001)
    assert page_cache.single_flight("v2", lambda: newer_runs.append(1) or 2, lock="figure:lock") == 2
    first.join()
    assert older.waiting >= 1 and newer_runs == [1]
