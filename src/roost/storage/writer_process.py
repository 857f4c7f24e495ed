"""The ingest writer in a process of its own: group commit without sharing the event loop's GIL.

Why a process. Under ingest load the event loop and the writer thread took turns on one GIL:
the writer's Python (running jobs, binding statements) and the hand-offs around each SQLite
call cost about as much per request as the event loop's own work, so the two added up
instead of overlapping. A child process has an interpreter of its own.

What crosses the pipes. Each event-loop iteration's ingest jobs, pickled together (they are
``functools.partial`` of module-level functions over plain data; see ``Store.ingest``), and
back each job's result or exception. The child runs them with the thread writer's group
commit (``writer.execute_batch``) and answers only after COMMIT, so a 2xx still means
committed.

No thread in between, as far as possible: the event loop writes a frame itself when the pipe
has room for all of it (a sender thread takes the rest), and reads the answers as a reader
of its own. Each thread hop cost a wake-up and a GIL hand-off per frame; the sender thread
alone held /v1/start+end at 0.56x the bare app against 0.77x without it.

On SQLite the thread writer (every write that is not ingest) and the child take turns through
a lock held around each transaction (``WriteTurn``): SQLite's own busy handler sleeps and
polls, and under sustained ingest it would seldom find the write lock free.

If the child dies, the requests it held fail with ``WriterStopped`` (503, retryable) and a new
child starts. As with any answer lost on the way, a request whose COMMIT had just happened is
stored even so; no acknowledged one is ever lost.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import termios
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from roost.domain.errors import RoostError
from roost.settings import Settings
from roost.storage.writer import Gatherer, Job, WriterStopped, _Pending, deliver, execute_batch

log = logging.getLogger(__name__)

# A frame of jobs is this sequence number (little-endian) followed by the pickled job list; an
# empty frame asks the child to finish what it has and exit.
_SEQ_BYTES = 8
_STOP = object()
# multiprocessing's length prefix of each message.
_HEADER_BYTES = 4
# The jobs pipe's size (Linux's default most an unprivileged process may ask for).
_PIPE_BYTES = 1 << 20
# Answers the owner loop reads per wake-up before it serves sockets again.
_ANSWERS_PER_WAKE = 64
STOP_TIMEOUT_S = 30.0


@dataclass
class _Child:
    process: BaseProcess
    jobs: Pipe  # the parent's sending end
    outcomes: Pipe  # the parent's receiving end


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _room(pipe: Pipe) -> int:
    """Bytes the pipe takes now without blocking: its size less what is unread in it."""
    fd = pipe.fileno()
    unread = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, unread)
    return int(fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)) - unread[0]


def spawn_context() -> Any:
    # Spawn, not fork: the server has threads (and an event loop) that a fork would copy
    # mid-flight.
    return multiprocessing.get_context("spawn")


class WriteTurn:
    """The turn on SQLite's write lock that the server's thread writer and the child share.

    An exclusive ``flock`` on a file beside the database: a waiter is woken when the holder
    lets go, and the kernel lets go for a holder that dies. Threads of one process share
    their descriptor, so a thread lock orders them first.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.Lock()
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._local.acquire()
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._local.release()
            raise

    def __exit__(self, *_: object) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._local.release()

    def close(self) -> None:
        with self._local:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __reduce__(self) -> tuple[Any, ...]:
        # A process gets its own descriptor (a lock on a shared one would not exclude).
        return (WriteTurn, (self.path,))


class ProcessWriter(Gatherer):
    def __init__(self, settings: Settings, *, turn: WriteTurn | None = None) -> None:
        super().__init__(queue_size=settings.write_queue_size)
        self._settings = settings
        self._turn = turn
        # (seq, frame) or _STOP, for the sender thread: frames the event loop could not write
        # without blocking (the pipe full while the child commits), and the end.
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._inflight: dict[int, list[_Pending]] = {}
        self._guard = threading.Lock()  # _inflight, _seq, _taken, _child
        self._send_lock = threading.Lock()  # one writer of the jobs pipe at a time
        self._seq = 0
        self._child: _Child | None = None
        self._threads: list[threading.Thread] = []
        # The event loop that reads the child's answers (the one start() ran on), or None: a
        # thread reads them. On the loop, answers cost no thread wake-up or GIL hand-off.
        self._owner: asyncio.AbstractEventLoop | None = None
        self._finished = threading.Event()  # the last child has exited and been read to EOF
        self.commits = 0  # transactions the child committed
        self.restarts = 0  # children started after one died

    @property
    def child_pid(self) -> int | None:
        child = self._child
        return child.process.pid if child is not None else None

    def start(self) -> None:
        """Start the child; on a running event loop, that loop reads its answers."""
        self._stopping = False
        self._finished.clear()
        self._child = self._spawn()
        self._owner = _running_loop()
        self._threads = [
            threading.Thread(target=self._send_loop, name="roost-ingest-send", daemon=True)
        ]
        if self._owner is None:
            receiver = threading.Thread(
                target=self._receive_loop, name="roost-ingest-receive", daemon=True
            )
            self._threads.append(receiver)
        else:
            self._watch(self._child)
        for thread in self._threads:
            thread.start()
        self._running = True

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Finish every job already accepted, then stop the child and the threads."""
        if not self._running:
            return
        self._stopping = True
        self._hand_over_all()
        self._outbox.put(_STOP)
        owner = self._owner
        if owner is not None and (_running_loop() is owner or not owner.is_running()):
            # The owner loop cannot read for us (we are blocking it, or it stopped): the last
            # answers are read here.
            if self._child is not None:
                with contextlib.suppress(RuntimeError, ValueError, OSError):
                    owner.remove_reader(self._child.outcomes.fileno())
            self._receive_loop()
        self._finished.wait(timeout)
        for thread in self._threads:
            thread.join(timeout)
        child = self._child
        if child is not None:
            child.process.join(timeout)
            if child.process.is_alive():
                child.process.terminate()
                child.process.join(timeout)
            child.jobs.close()
            child.outcomes.close()
        self._running = False

    def _spawn(self) -> _Child:
        context = spawn_context()
        jobs_read, jobs_write = context.Pipe(duplex=False)
        outcomes_read, outcomes_write = context.Pipe(duplex=False)
        process = context.Process(
            target=child_main,
            args=(self._settings, jobs_read, outcomes_write, self._turn),
            name="roost-ingest-writer",
            daemon=True,
        )
        process.start()
        # Room for many frames while the child commits (see _send_now).
        with contextlib.suppress(OSError):
            fcntl.fcntl(jobs_write.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        # Only the child holds these ends now: its exit closes them, which the parent sees.
        jobs_read.close()
        outcomes_write.close()
        return _Child(process, jobs_write, outcomes_read)

    # -- the event loop's side -----------------------------------------------------------

    def _dispatch(self, gathered: list[_Pending]) -> None:
        try:
            frame = pickle.dumps([pending.job for pending in gathered], pickle.HIGHEST_PROTOCOL)
        except Exception:
            gathered = self._drop_unpicklable(gathered)
            if not gathered:
                return
            frame = pickle.dumps([pending.job for pending in gathered], pickle.HIGHEST_PROTOCOL)
        with self._guard:
            self._seq += 1
            seq = self._seq
            self._inflight[seq] = gathered
        data = seq.to_bytes(_SEQ_BYTES, "little") + frame
        if not self._send_now(data):
            self._outbox.put_nowait((seq, data))

    def _send_now(self, data: bytes) -> bool:
        """Write the frame from this (event-loop) thread if the pipe has room for all of it,
        so the write cannot block; False leaves it to the sender thread. Frames need not
        keep their order: each holds requests that were in flight together."""
        if not self._outbox.empty() or not self._send_lock.acquire(blocking=False):
            return False
        try:
            child = self._child
            if child is None or _room(child.jobs) < len(data) + _HEADER_BYTES:
                return False
            try:
                child.jobs.send_bytes(data)
            except OSError:  # the child died: the sender thread meets the same and fails it
                return False
            return True
        finally:
            self._send_lock.release()

    def _drop_unpicklable(self, gathered: list[_Pending]) -> list[_Pending]:
        """Fail, on the spot, each job that cannot cross to the child (a programming error:
        only plain-data jobs may be ingest jobs); the others go on."""
        kept = []
        for pending in gathered:
            try:
                pickle.dumps(pending.job, pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                self._accepted -= 1
                if not pending.future.done():
                    problem = TypeError(f"an ingest job must be picklable: {exc}")
                    pending.future.set_exception(problem)
            else:
                kept.append(pending)
        return kept

    # -- the parent's pipe threads -------------------------------------------------------

    def _send_loop(self) -> None:
        while True:
            item = self._outbox.get()
            with self._guard:
                child = self._child
            assert child is not None
            if item is _STOP:
                with self._send_lock, contextlib.suppress(OSError):
                    child.jobs.send_bytes(b"")
                return
            seq, data = item
            try:
                with self._send_lock:
                    child.jobs.send_bytes(data)
            except OSError:  # the child died; the receiver starts a new one
                self._fail([seq])

    def _receive_loop(self) -> None:
        """Read answers until the last child's end (the receiver thread, or stop())."""
        while True:
            with self._guard:
                child = self._child
            assert child is not None
            try:
                answer = child.outcomes.recv_bytes()
            except (EOFError, OSError):
                if not self._replace(child):
                    return
                continue
            self._take(answer)

    def _watch(self, child: _Child) -> None:
        assert self._owner is not None
        fd = child.outcomes.fileno()
        self._owner.add_reader(fd, self._on_readable, child)
        # The loop made the descriptor non-blocking; an answer larger than the pipe arrives
        # in parts, and recv_bytes must wait for the rest (the child is writing it now).
        os.set_blocking(fd, True)

    def _on_readable(self, child: _Child) -> None:
        """The owner loop's reader: every answer ready now."""
        assert self._owner is not None
        try:
            for _ in range(_ANSWERS_PER_WAKE):
                self._take(child.outcomes.recv_bytes())
                if not child.outcomes.poll():
                    return
        except (EOFError, OSError):
            self._owner.remove_reader(child.outcomes.fileno())
            if self._replace(child):
                assert self._child is not None
                self._watch(self._child)

    def _take(self, answer: bytes) -> None:
        answers, commits = pickle.loads(answer)
        self.commits += commits
        for seq, outcomes in answers:
            with self._guard:
                batch = self._inflight.pop(seq, None)
                if batch is not None:
                    self._taken += len(batch)
            if batch is None:
                continue
            if isinstance(outcomes, BaseException):  # the frame could not be read
                outcomes = [outcomes] * len(batch)
            deliver(batch, outcomes)

    def _replace(self, child: _Child) -> bool:
        """The child's pipe closed: fail what it held and, unless stopping, start a new one.
        True when there is a new child to read from."""
        child.process.join(STOP_TIMEOUT_S)
        with self._guard:
            lost = list(self._inflight)
        if self._stopping and not lost:
            self._finished.set()
            return False
        log.error(
            "the ingest writer process exited (code %s) with %d request(s) pending",
            child.process.exitcode,
            len(lost),
        )
        replaced = False
        if not self._stopping:
            # The replacement first, so a client retrying at once finds it.
            child.jobs.close()
            child.outcomes.close()
            replacement = self._spawn()
            with self._guard:
                self._child = replacement
                self.restarts += 1
            replaced = True
        self._fail(lost)
        if not replaced:
            self._finished.set()
        return replaced

    def _fail(self, seqs: Sequence[int]) -> None:
        for seq in seqs:
            with self._guard:
                batch = self._inflight.pop(seq, None)
                if batch is not None:
                    self._taken += len(batch)
            if batch:
                stopped = WriterStopped("the ingest writer process stopped; retry")
                deliver(batch, [stopped] * len(batch))


# -- the child -------------------------------------------------------------------------------


def child_main(settings: Settings, jobs: Pipe, outcomes: Pipe, turn: WriteTurn | None) -> None:
    """The child's whole life: run frames of jobs until the empty frame or the pipe's end."""
    # Ctrl-C (or a signal to the process group) must not cut the child short: the parent
    # stops it with the empty frame once its last accepted request is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s roost-ingest-writer %(message)s"
    )
    from roost.storage.engine import create_store_engine

    engine = create_store_engine(settings, writer=True)
    runner = _BatchRunner(engine, settings, turn or contextlib.nullcontext())
    try:
        while True:
            try:
                frames = [jobs.recv_bytes()]
                # Whatever else is already waiting joins this group commit.
                while frames[-1] and len(frames) < settings.write_batch_max and jobs.poll():
                    frames.append(jobs.recv_bytes())
            except (EOFError, OSError):
                return  # the parent is gone
            stopping = not frames[-1]
            entries = [_read_frame(frame) for frame in frames if frame]
            if entries:
                outcomes.send_bytes(runner.run(entries))
            if stopping:
                return
    finally:
        runner.close()
        engine.dispose()
        if turn is not None:
            turn.close()


def _read_frame(frame: bytes) -> tuple[int, list[Job] | BaseException]:
    seq = int.from_bytes(frame[:_SEQ_BYTES], "little")
    try:
        return seq, pickle.loads(memoryview(frame)[_SEQ_BYTES:])
    except Exception as exc:
        log.exception("could not read a frame of ingest jobs")
        return seq, RuntimeError(f"the ingest writer could not read the request: {exc!r}")


class _BatchRunner:
    def __init__(self, engine: Any, settings: Settings, turn: Any) -> None:
        self._engine = engine
        self._batch_max = settings.write_batch_max
        self._messages = settings.agent_messages
        self._turn = turn
        self._conn: Any = None

    def run(self, entries: list[tuple[int, list[Job] | BaseException]]) -> bytes:
        """Run every entry's jobs (group commits of at most ``batch_max``); the answer frame."""
        jobs = [job for _, found in entries if isinstance(found, list) for job in found]
        results: list[Any] = []
        commits = 0
        for start in range(0, len(jobs), self._batch_max):
            chunk = jobs[start : start + self._batch_max]
            try:
                if self._conn is None:
                    self._conn = self._engine.connect()
                with self._turn:
                    outcomes, committed = execute_batch(self._conn, chunk, self._messages)
            except Exception as exc:  # the connection or COMMIT failed: nothing was written
                log.exception("write transaction failed")
                outcomes, committed = [exc] * len(chunk), 0
                if self._conn is not None:
                    self._conn.invalidate()
                    self._conn.close()
                    self._conn = None
            results.extend(outcomes)
            commits += committed
        answers: list[tuple[int, Any]] = []
        position = 0
        for seq, found in entries:
            if isinstance(found, BaseException):
                answers.append((seq, found))
                continue
            answers.append((seq, [_portable(r) for r in results[position : position + len(found)]]))
            position += len(found)
        try:
            return pickle.dumps((answers, commits), pickle.HIGHEST_PROTOCOL)
        except Exception:  # a job returned something that cannot cross: say so for it alone
            answers = [(seq, [_picklable(r) for r in found]) for seq, found in answers]
            return pickle.dumps((answers, commits), pickle.HIGHEST_PROTOCOL)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _portable(outcome: Any) -> Any:
    """Expected errors (RoostError) and results as they are; any other exception is logged
    here, where its traceback still is, and sent on only if the parent can rebuild it."""
    if not isinstance(outcome, BaseException) or isinstance(outcome, RoostError):
        return outcome
    log.error("ingest job failed", exc_info=outcome)
    return _picklable(outcome)


def _picklable(outcome: Any) -> Any:
    try:
        pickle.loads(pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL))
    except Exception:
        return RuntimeError(f"{type(outcome).__name__}: {outcome}")
    return outcome
