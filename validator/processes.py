"""A return's rules on two or more processes.

Once the tables are read, the process forks. The parent and its children take the rules one at a time from a shared
list (:class:`_Tasks`): the parent from the front, the children from the back, so that a slow rule does not hold
up the others and rules next to each other (the caller puts the rules of one table together) mostly run in the same
process, which works out once what they share. A child sends its outcomes back, pickled, when none is left. Fork shares the tables with the children without copying or pickling them; the garbage collector
is frozen first so that it does not touch, and so copy, every object's page in the children.

Findings and statuses are those of a run in one process: every rule reads the same read-only tables (a rule's
result never depends on which rules ran before it), the outcomes are put back in the rules' order, and a child
that dies (killed, out of memory) loses nothing: the rules it had taken are run again in the parent.

Fork is used only where it is safe and pays: on Linux, with two or more CPUs, on a return with enough records
(:data:`MIN_RECORDS`); elsewhere, and whenever a caller asks for one process, the rules run in this process. A
child never writes to the terminal (its stdout and stderr go to /dev/null) and leaves with ``os._exit``, so it never
runs the parent's clean-up code.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import os
import pickle
import signal
import struct
import sys
import threading
import warnings
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Below this many records in a return (a few hundred children), one process: the run takes about a second either
# way. Above it the second process takes a third or more off the rules' time (docs/performance.md, "Two processes
# for one return").
MIN_RECORDS = 5_000


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def available_processes() -> int:
    """Two processes on Linux with two or more CPUs, else one: what a large piece of work is given. One when
    called from a thread other than the main one (a web server's worker, a library caller's pool): forking is
    then left to whoever runs the threads."""
    if not can_fork() or threading.current_thread() is not threading.main_thread():
        return 1
    return min(2, usable_cpus())


def auto_processes(records: int) -> int:
    """How many processes run a return's rules when the caller does not say: :func:`available_processes` for a
    return of at least MIN_RECORDS records, else one."""
    return available_processes() if records >= MIN_RECORDS else 1


def run_tasks(
    count: int,
    work: Callable[[int], T],
    processes: int,
    done: Callable[[], None] | None = None,
) -> list[T]:
    """``[work(0), work(1), ... work(count - 1)]``, worked out on ``processes`` processes (forked children of this
    one) when it can, else here. ``work``'s results must pickle. ``done`` is called once per finished task, in this
    process. The first task always runs in this process (a caller may do there what it needs done here)."""
    processes = min(processes, count)
    _reap_ended()
    if processes <= 1 or not can_fork():
        return _here(range(count), work, done)
    tasks = _Tasks(count)
    task = tasks.take(from_back=False)  # taken before the fork: the first task always runs in this process
    children: list[_Child] = []
    results: dict[int, T] = {}
    # A process that keeps its long-lived objects frozen already (the command line: validator.cli.run) keeps them
    # so; otherwise what is frozen here is given back to the collector at the end.
    frozen_before = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        for _ in range(processes - 1):
            children.append(_fork_child(tasks, work))
        while task is not None:
            results[task] = work(task)
            _report(done, 1 + sum(child.progress() for child in children))
            task = tasks.take(from_back=False)
        for child in children:
            results.update(child.collect())
            _report(done, child.progress())
    finally:
        tasks.close()
        for child in children:
            child.end()
        if not frozen_before:
            gc.unfreeze()
    missing = [i for i in range(count) if i not in results]  # a child that died: its rules again, here
    results.update(zip(missing, _here(missing, work, done), strict=True))
    return [results[i] for i in range(count)]


# Children that had sent their outcomes but not yet ended when the parent went on; reaped by the next run_tasks (a
# process that exits first leaves them to the system, which reaps them).
_NOT_REAPED: set[int] = set()


def _reap_ended() -> None:
    for pid in list(_NOT_REAPED):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                continue
        _NOT_REAPED.discard(pid)


def _here(which: range | list[int], work: Callable[[int], T], done: Callable[[], None] | None) -> list[T]:
    out = []
    for i in which:
        out.append(work(i))
        _report(done, 1)
    return out


def _report(done: Callable[[], None] | None, n: int) -> None:
    if done is not None:
        for _ in range(n):
            done()


class _Tasks:
    """The tasks not yet taken, in order: the parent takes them from the front, the children from the back, so that
    neighbouring tasks (which the caller orders to share work, e.g. rules on one table) mostly stay in one process
    until the two ends meet. Two counters in a memory file shared across the fork, guarded by a POSIX record lock on
    that file, which the system releases if the process holding it dies."""

    _ENDS = struct.Struct("<ii")  # the next task at the front, and the end (one past the last task left)

    def __init__(self, count: int) -> None:
        import fcntl  # POSIX only, as fork is: imported here so that the module imports on Windows

        self._lockf, self._exclusive, self._unlock = fcntl.lockf, fcntl.LOCK_EX, fcntl.LOCK_UN
        self.fd = os.memfd_create("csc-validator-tasks")
        os.ftruncate(self.fd, self._ENDS.size)
        self.shared = mmap.mmap(self.fd, self._ENDS.size)
        self._ENDS.pack_into(self.shared, 0, 0, count)

    def take(self, from_back: bool) -> int | None:
        """The next task from the front (or back), or None when none is left."""
        self._lockf(self.fd, self._exclusive)
        try:
            front, end = self._ENDS.unpack_from(self.shared)
            if front >= end:
                return None
            task = end - 1 if from_back else front
            self._ENDS.pack_into(self.shared, 0, front + (not from_back), end - from_back)
            return task
        finally:
            self._lockf(self.fd, self._unlock)

    def close(self) -> None:
        self.shared.close()
        os.close(self.fd)


class _Child:
    """A forked child as the parent sees it: its pid, the pipe its outcomes come back on, and the pipe it writes one
    byte to per finished task."""

    def __init__(self, pid: int, results: int, progress: int) -> None:
        self.pid, self.results, self.progress_pipe = pid, results, progress
        os.set_blocking(progress, False)
        self.reaped = False

    def progress(self) -> int:
        """How many tasks the child finished since last asked."""
        try:
            return len(os.read(self.progress_pipe, 65536))
        except BlockingIOError:
            return 0

    def collect(self) -> dict[int, object]:
        """The child's outcomes; nothing when it died or sent something that does not unpickle. Read as a stream:
        the outcomes are never held twice, as bytes and as objects.

        The child writes its outcomes only once every task it took is done, so outcomes that unpickle whole are all
        of them: the parent goes on without waiting for the child to end (tearing down a process of a few hundred
        MB takes the system milliseconds). A child not yet ended is reaped later (:func:`_reap_ended`)."""
        try:
            with os.fdopen(self.results, "rb", closefd=False) as stream:
                found = pickle.load(stream)
        except Exception:
            found = None
        if not isinstance(found, dict):
            os.waitpid(self.pid, 0)
            self.reaped = True
            return {}
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        self.reaped = True
        if pid == 0:
            _NOT_REAPED.add(self.pid)
        elif not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return {}
        return found

    def end(self) -> None:
        """Close the pipes; a child still running (the parent was interrupted) is killed and reaped."""
        for fd in (self.results, self.progress_pipe):
            with contextlib.suppress(OSError):
                os.close(fd)
        if not self.reaped:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.reaped = True


def _fork_child(tasks: _Tasks, work: Callable[[int], T]) -> _Child:
    results_read, results_write = os.pipe()
    progress_read, progress_write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns when a process with other threads forks (e.g. a progress bar's refresh thread): a lock
        # another thread holds stays held in the child. The child only runs rules and writes to its own pipes; its
        # stdout and stderr are replaced before it does anything, so no lock of the parent's streams is needed.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        os.close(results_read)
        os.close(progress_read)
        _child_main(tasks, results_write, progress_write, work)  # never returns
    os.close(results_write)
    os.close(progress_write)
    return _Child(pid, results_read, progress_read)


def _child_main(tasks: _Tasks, results_write: int, progress_write: int, work: Callable[[int], T]) -> None:
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child; the parent runs its rules again
        sink = open(os.devnull, "w")  # noqa: SIM115 - the child leaves with os._exit, closing every file
        sys.stdout = sys.stderr = sink
        found: dict[int, T] = {}
        while (i := tasks.take(from_back=True)) is not None:
            found[i] = work(i)
            os.write(progress_write, b".")
        with os.fdopen(results_write, "wb") as stream:  # written as it is pickled, never whole in memory
            pickle.dump(found, stream, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    except BaseException:  # whatever happens, the parent runs the missing rules itself
        status = 1
    finally:
        os._exit(status)
