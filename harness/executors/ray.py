"""The Ray executor: the stage functions of :mod:`harness.stages` as a Ray Data pipeline.

A Dataset with one row per block, ``map_batches`` over an actor pool whose actors build the scorers once
(one model copy per actor, ``num_gpus`` per actor on cuda); Ray restarts a lost actor and retries its
block. Results stream back to the driver, which writes them with the same writer as the local executor.
The output cache is not used here (see docs/scaling.md).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import logging
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

from harness.config import ConfigError, RunConfig
from harness.executors.blocks import Block, pair_from_json, pair_to_json
from harness.stages import BlockOutput, kept_export_folder

__all__ = ["INSTALL_HINT", "BlockScorer", "check_available", "run_blocks"]

INSTALL_HINT = 'runtime.executor "ray" needs Ray, which is not installed: pip install "harness[ray]"'


ADDRESS_TIMEOUT_S = 5.0
"""How long a ``host:port`` cluster address may take to accept a TCP connection before the run gives up (Ray's
own client retried for ~14 minutes against an unreachable address)."""


def check_available(cfg: RunConfig) -> None:
    """Fail at start, in one line, when Ray is missing or a ``host:port`` address does not answer."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    check_address(cfg.runtime.ray.address)


def check_address(address: str | None, timeout: float = ADDRESS_TIMEOUT_S) -> None:
    """A ``host:port`` (or ``ray://host:port``) address must accept a TCP connection within ``timeout``;
    ``None`` (a local instance) and ``auto`` (the cluster this machine joined) are not probed."""
    import socket

    if not address or address == "auto":
        return
    hostport = address.split("://", 1)[-1].rsplit("@", 1)[-1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"runtime.ray.address {address!r}: expected host:port, ray://host:port or auto")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as e:
        shown = redact(address)
        raise ConfigError(f"runtime.ray.address {shown}: no Ray cluster answers there ({e.strerror or e}; waited "
                          f"at most {timeout:.0f} s); start one with `ray start --head` or fix the address") from None


def redact(address: str) -> str:
    """``address`` with any credentials (``user:secret@``) replaced, for messages and run.json."""
    if "@" not in address:
        return address
    scheme, _, rest = address.rpartition("://")
    return (scheme + "://" if scheme else "") + "<redacted>@" + rest.rsplit("@", 1)[-1]


NOISE_LOG = "harness-ray-{uid}.log"
"""Under the temporary directory: what Ray's C++ core wrote to the terminal during a run (see _ray_noise_to_log)."""


@contextlib.contextmanager
def _ray_noise_to_log() -> Iterator[None]:
    """Ray's C++ core writes straight to file descriptor 2 (the token-authentication notice at start, an E-level
    "actor restart will fail" line for every actor whose constructor arguments sit in the object store, which
    Ray Data's always do). Unless ``HARNESS_DEBUG`` is set, descriptor 2 points at :data:`NOISE_LOG` while Ray
    runs, and Python's ``sys.stderr`` (the run's own lines, progress, errors) keeps writing to the terminal
    through a copy of the original descriptor."""
    if os.environ.get("HARNESS_DEBUG"):
        yield
        return
    import tempfile

    try:
        python_on_fd2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # captured (pytest's capsys, a StringIO): not descriptor 2
        python_on_fd2 = False
    from pathlib import Path

    from harness.results.safe_io import open_append

    path = Path(tempfile.gettempdir()) / NOISE_LOG.format(uid=os.getuid())
    log = open_append(path, "Ray's log")  # a shared folder: never written through a link planted there
    sys.stderr.flush()
    saved = os.dup(2)
    old_stderr = sys.stderr
    with log:
        os.dup2(log.fileno(), 2)
        if python_on_fd2:
            sys.stderr = open(os.dup(saved), "w", buffering=1, encoding=old_stderr.encoding,  # noqa: SIM115
                              errors=old_stderr.errors or "backslashreplace")
        try:
            yield
        finally:
            if python_on_fd2:
                sys.stderr.close()
                sys.stderr = old_stderr
            os.dup2(saved, 2)
            os.close(saved)


class ActorLog:
    """What the scoring actors did, kept by one small Ray actor the driver owns: each actor's (re)starts and
    each block's start and finish. The driver reads it while blocks run (restart lines on stderr) and at the
    end (run.json ``executor``: blocks per actor, busy and idle seconds, restarts)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.read = 0
        self.in_flight: dict[str, int] = {}
        self.actors: dict[str, dict[str, Any]] = {}

    def started(self, actor: str, pid: int, node: str, restarted: bool, at: float) -> None:
        row = self.actors.setdefault(actor, {"pid": pid, "node": node, "ready": at, "blocks": [], "busy_s": 0.0,
                                             "restarts": 0})
        row["pid"] = pid
        if restarted:
            row["restarts"] += 1
            self.events.append({"event": "restart", "actor": actor, "pid": pid, "restarts": row["restarts"],
                                "block": self.in_flight.get(actor)})

    def block_started(self, actor: str, index: int) -> None:
        self.in_flight[actor] = index

    def block_finished(self, actor: str, index: int, seconds: float, at: float) -> None:
        self.in_flight.pop(actor, None)
        row = self.actors.get(actor)
        if row is not None:
            row["blocks"].append(index)
            row["busy_s"] += seconds
            row["last_finish"] = at

    def new_events(self) -> list[dict[str, Any]]:
        out = self.events[self.read:]
        self.read = len(self.events)
        return out

    def summary(self) -> dict[str, dict[str, Any]]:
        return self.actors


class BlockScorer:
    """A Ray Data actor: builds the scorers once from the config, then scores one block per call.

    Its constructor arguments are plain values (the config as JSON, the thread count, the log's handle and an
    export folder), so that Ray can rebuild a lost actor from them; a rebuilt actor tells the log it was
    restarted, and keeps its ONNX export in ``export_dir`` (one per model and machine, found again by the
    restarted actor) rather than in a private temporary folder that a killed process would leave behind."""

    def __init__(self, config_json: str, threads: int, log: Any, export_dir: str | None) -> None:
        import ray

        from harness.stages import build_context

        rt = ray.get_runtime_context()
        self.actor = rt.get_actor_id() or f"pid-{os.getpid()}"
        self.log = log
        log.started.remote(self.actor, os.getpid(), rt.get_node_id(), rt.was_current_actor_reconstructed,
                           time.time())
        self.cfg = RunConfig.model_validate_json(config_json)
        self.ctx = build_context(self.cfg, cache=None, threads=threads, progress=False,
                                 export_dir=_usable_folder(export_dir))

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        import ray

        from harness import stages

        out: dict[str, list[Any]] = {"index": [], "result": []}
        for index, pairs_json in zip(batch["index"], batch["pairs"], strict=True):
            t = time.perf_counter()
            # waited for: if this block kills the actor, the log must know which block it was
            ray.get(self.log.block_started.remote(self.actor, int(index)))
            pairs = [pair_from_json(d) for d in json.loads(str(pairs_json))]
            res = stages.score_block(self.ctx, pairs)
            out["index"].append(int(index))
            out["result"].append(json.dumps({"claims": res.claims, "pairs": res.pairs, "stats": res.stats},
                                            ensure_ascii=False, allow_nan=True))
            self.log.block_finished.remote(self.actor, int(index), time.perf_counter() - t, time.time())
        return out


def _usable_folder(path: str | None) -> str:
    """``path`` if this machine can create it (the driver's folder, on the driver's node), else a folder under
    this machine's temporary directory: kept ONNX exports need a writable place on every node."""
    import tempfile

    for candidate in (path, os.path.join(tempfile.gettempdir(), f"harness-onnx-kept-{os.getuid()}")):
        if candidate:
            try:
                os.makedirs(candidate, exist_ok=True)
                if os.access(candidate, os.W_OK):
                    return candidate
            except OSError:
                continue
    return tempfile.mkdtemp(prefix="harness-onnx-kept-")


_ERROR_LINE = re.compile(r"^(harness(?:\.\w+)*)\.(\w+): (.+)$")


def _unwrap(e: BaseException) -> BaseException:
    """Ray passes an actor's exception on as text inside its own error (e.g. ``ActorDiedError`` when the
    scorers cannot be built). Recreate the harness error named on its last line, so that the CLI reports it
    like a local run would (a missing model: exit 2, one line); anything else becomes one RuntimeError."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    for line in reversed(lines):
        m = _ERROR_LINE.match(line)
        if not m:
            continue
        try:
            cls = getattr(importlib.import_module(m.group(1)), m.group(2))
            if isinstance(cls, type) and issubclass(cls, Exception):
                err: BaseException = cls(m.group(3))
                return err
        except Exception:  # not importable or not constructible from a message: fall through
            break
    last = lines[-1] if lines else type(e).__name__
    return RuntimeError(f"scoring on Ray failed: {last} (Ray's worker logs: /tmp/ray/session_latest/logs)")


def _quiet(ray: Any, show_progress: bool) -> None:
    """Ray Data's progress bars on a terminal when ``runtime.progress`` is on; its INFO log lines never
    (in logs and CI they would drown the run's own output; Ray keeps them under /tmp/ray)."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = show_progress
    logging.getLogger("ray").setLevel(logging.WARNING)
    # a failure is re-raised as one harness error line (see _unwrap); Ray's stack traces only on request
    logging.getLogger("ray.data").setLevel(logging.WARNING if os.environ.get("HARNESS_DEBUG") else logging.CRITICAL)


def _pool(cfg: RunConfig, ray: Any, n_blocks: int) -> tuple[int, float, int]:
    """(actors, gpus per actor, cpus per actor)."""
    rc = cfg.runtime.ray
    resources = ray.cluster_resources()
    gpus_in_cluster = float(resources.get("GPU", 0))
    on_gpu = cfg.runtime.device == "cuda" or (cfg.runtime.device == "auto" and gpus_in_cluster > 0)
    gpus = (rc.gpus_per_actor or 1.0) if on_gpu else 0.0
    cpus_in_cluster = float(resources.get("CPU", 0))
    if on_gpu and gpus_in_cluster < gpus:
        raise ConfigError(f"runtime.device cuda: the Ray cluster has {gpus_in_cluster:g} GPUs, each actor asks for "
                          f"{gpus:g} (runtime.ray.gpus_per_actor); the actors would wait forever")
    if rc.cpus_per_actor > cpus_in_cluster:
        raise ConfigError(f"runtime.ray.cpus_per_actor {rc.cpus_per_actor}: the Ray cluster has {cpus_in_cluster:g} "
                          "CPUs; no actor could ever start")
    if rc.actors is not None and rc.actors * rc.cpus_per_actor > cpus_in_cluster:
        raise ConfigError(f"runtime.ray.actors {rc.actors} x cpus_per_actor {rc.cpus_per_actor}: the Ray cluster "
                          f"has {cpus_in_cluster:g} CPUs; lower one of them")
    if rc.actors is not None:
        actors = rc.actors
    elif on_gpu:
        actors = max(1, int(gpus_in_cluster // gpus))
    else:
        actors = max(1, int(float(resources.get("CPU", 1)) // rc.cpus_per_actor))
    return max(1, min(actors, n_blocks)), gpus, rc.cpus_per_actor


def run_blocks(
    cfg: RunConfig, blocks: Iterable[Block], info: dict[str, Any]
) -> Iterator[tuple[Block, BlockOutput]]:
    """Score ``blocks`` on Ray; yields (block, output) as blocks finish, in any order. ``info`` receives the
    timings ``ray_init`` and ``ray_first_block`` and, under ``executor``, what the actors did."""
    import ray
    import ray.data

    pending = iter(blocks)
    first = next(pending, None)
    if first is None:  # every block was finished by an earlier run: no cluster needed
        return

    t0 = time.perf_counter()
    _quiet(ray, show_progress=cfg.runtime.progress and sys.stderr.isatty())
    with _ray_noise_to_log():
        yield from _run_on_ray(ray, cfg, first, pending, info, t0)


def _run_on_ray(ray: Any, cfg: RunConfig, first: Block, pending: Iterator[Block], info: dict[str, Any],
                t0: float) -> Iterator[tuple[Block, BlockOutput]]:
    rc = cfg.runtime.ray
    started = not ray.is_initialized()
    if started:
        ray.init(address=rc.address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    info["ray_init"] = time.perf_counter() - t0
    watcher: _Watcher | None = None
    try:
        # One object per block, put as the inputs are read: the driver keeps references, the object store
        # holds the texts (and spills them to disk when it is full).
        import pyarrow as pa

        todo: dict[int, Block] = {}
        names: dict[int, str] = {}
        refs: list[Any] = []
        for b in itertools.chain([first], pending):
            todo[b.index] = b.without_pairs()
            names[b.index] = (f"block {b.index} ({len(b.pairs)} pairs, ids {b.pairs[0].id!r}..{b.pairs[-1].id!r})"
                              if b.pairs else f"block {b.index}")
            pairs = json.dumps([pair_to_json(p) for p in b.pairs], ensure_ascii=False)
            refs.append(ray.put(pa.table({"index": [b.index], "pairs": [pairs]})))
        actors, gpus, cpus = _pool(cfg, ray, len(todo))
        log = ray.remote(num_cpus=0)(ActorLog).remote()
        watcher = _Watcher(ray, log, names, rc.max_restarts)
        export_dir = kept_export_folder(cfg)
        # Ray waits without limit for resources other jobs hold (Ray Data's own tasks and actors alike): bounded
        _wait_for_free(ray, cpus, gpus, actors, rc.actor_start_timeout_s)
        ray.data.DataContext.get_current().wait_for_min_actors_s = max(1, math.ceil(rc.actor_start_timeout_s))
        ds = ray.data.from_arrow_refs(refs)
        with warnings.catch_warnings():  # Ray 2.60 deprecates ray_remote_args but names no max_restarts argument
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
            scored = ds.map_batches(
                BlockScorer,
                fn_constructor_kwargs={"config_json": cfg.model_dump_json(), "threads": cpus, "log": log,
                                       "export_dir": export_dir},
                # One block in flight per actor: Ray Data's default queues 2, so one actor ran two blocks back to
                # back while another sat idle (issue 22); a block is minutes of model work, queueing saves nothing.
                batch_size=1, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1),
                num_cpus=cpus, num_gpus=gpus or None,
                # Ray Data restarts a dead actor and retries its block without limit by default: a block that
                # always crashes its actor would loop forever. Bounded here, and each restart is reported.
                max_restarts=rc.max_restarts, max_task_retries=rc.max_restarts,
            )
        watcher.start()
        rows_out = iter(scored.iter_rows())
        while True:
            try:
                row = next(rows_out)
            except StopIteration:
                break
            except ray.exceptions.GetTimeoutError as e:  # DataContext.wait_for_min_actors_s ran out
                watcher.stop()
                raise _start_timeout(ray, cpus, gpus, actors, rc.actor_start_timeout_s) from e
            except Exception as e:  # Ray wraps the actor's exception; surface the harness error in one line
                watcher.stop()
                raise watcher.explain(e) or _unwrap(e) from e
            info.setdefault("ray_first_block", time.perf_counter() - t0)
            res = json.loads(row["result"])
            yield todo[int(row["index"])], BlockOutput(res["claims"], res["pairs"], res["stats"])
        watcher.stop()
        info["executor"] = _executor_record(cfg, actors, gpus, cpus, watcher.summary())
    finally:
        if watcher is not None:
            watcher.stop()
        if started:
            ray.shutdown()


def _start_timeout(ray: Any, cpus: int, gpus: float, actors: int, timeout: float) -> RuntimeError:
    free = ray.available_resources()
    return RuntimeError(
        f"scoring on Ray failed: the {actors} scoring actor(s) did not start within {timeout:g} s "
        f"(runtime.ray.actor_start_timeout_s); each needs {cpus} CPU(s)" + (f" and {gpus:g} GPU(s)" if gpus else "")
        + f", the cluster has {float(free.get('CPU', 0)):g} CPU(s) and {float(free.get('GPU', 0)):g} GPU(s) free: "
        "other jobs hold them, its nodes cannot start workers, or the models load slower than that")


def _wait_for_free(ray: Any, cpus: int, gpus: float, actors: int, timeout: float) -> None:
    """Wait (at most ``timeout`` s) until the cluster has one actor's CPUs and GPUs free: the pool's first task
    (Ray Data reads the blocks' metadata with one) and first actor must be able to start, or Ray waits forever."""
    deadline = time.monotonic() + timeout
    while True:
        free = ray.available_resources()
        if float(free.get("CPU", 0)) >= max(1, cpus) and float(free.get("GPU", 0)) >= gpus:
            return
        if time.monotonic() >= deadline:
            raise _start_timeout(ray, cpus, gpus, actors, timeout)
        time.sleep(0.5)  # a poll of the cluster's free resources, not a wait for a result


class _Watcher:
    """Reads the :class:`ActorLog` every half second on a thread of the driver and prints each actor restart
    (``ray: ...`` on stderr) as it happens, so a flaky node is seen, not just survived."""

    def __init__(self, ray: Any, log: Any, names: dict[int, str], max_restarts: int) -> None:
        import threading

        self.ray, self.log, self.names, self.max_restarts = ray, log, names, max_restarts
        self.restarts: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="harness-ray-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.poll()

    def poll(self) -> None:
        try:
            events = self.ray.get(self.log.new_events.remote(), timeout=30)
        except Exception:  # the cluster is going away: the main thread reports why
            return
        for ev in events:
            self.restarts.append(ev)
            where = self.names.get(ev["block"], f"block {ev['block']}") if ev["block"] is not None else "no block"
            print(f"ray: a scoring actor died while scoring {where} and was restarted ({ev['restarts']} of at most "
                  f"{self.max_restarts}, runtime.ray.max_restarts); the block is scored again", file=sys.stderr)

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(timeout=5)
            self.poll()

    def explain(self, e: BaseException) -> BaseException | None:
        """One line for a run that failed because an actor died more often than allowed (else None)."""
        if not self.restarts:  # no actor died mid-block: an actor that cannot even start is _unwrap's case
            return None
        blocks = [ev["block"] for ev in self.restarts if ev["block"] is not None]
        block = blocks[-1] if blocks else None
        where = self.names.get(block, f"block {block}") if block is not None else "a block"
        n = max(ev["restarts"] for ev in self.restarts)  # the last death was not restarted: one more than this
        return RuntimeError(f"scoring on Ray failed: a scoring actor died {n + 1} time(s) while scoring {where} "
                            f"(runtime.ray.max_restarts {self.max_restarts}); a block that kills its actor every "
                            "time needs a look (memory? the worker logs: /tmp/ray/session_latest/logs)")

    def summary(self) -> dict[str, dict[str, Any]]:
        try:
            out: dict[str, dict[str, Any]] = self.ray.get(self.log.summary.remote(), timeout=30)
            return out
        except Exception:
            return {}


def _executor_record(cfg: RunConfig, actors: int, gpus: float, cpus: int,
                     seen: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """run.json ``executor`` for a Ray run: the pool, the address (credentials redacted) and per actor the
    blocks it scored, its busy seconds and its idle seconds (ready, without a block, while another actor still
    scored one: from its start to the last block's end, minus its busy time)."""
    end = max((a.get("last_finish", a["ready"]) for a in seen.values()), default=0.0)
    per_actor = []
    for n, (_, a) in enumerate(sorted(seen.items(), key=lambda kv: kv[1]["ready"])):
        idle = max(0.0, end - a["ready"] - a["busy_s"])
        per_actor.append({"actor": n, "node": a["node"][:12], "blocks": sorted(a["blocks"]),
                          "busy_s": round(a["busy_s"], 3), "idle_s": round(idle, 3), "restarts": a["restarts"]})
    return {"name": "ray", "address": redact(cfg.runtime.ray.address) if cfg.runtime.ray.address else "local",
            "actors": actors, "cpus_per_actor": cpus, "gpus_per_actor": gpus,
            "max_restarts": cfg.runtime.ray.max_restarts,
            "actor_restarts": sum(a["restarts"] for a in per_actor), "per_actor": per_actor}
