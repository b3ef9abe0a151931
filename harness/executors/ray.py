"""The Ray executor: the stage functions of :mod:`harness.stages` as a Ray Data pipeline.

A Dataset with one row per block, ``map_batches`` over an actor pool whose actors build the scorers once
(one model copy per actor, ``num_gpus`` per actor on cuda); Ray restarts a lost actor and retries its
block. Results stream back to the driver, which writes them with the same writer as the local executor.
The output cache is not used here (see docs/scaling.md).
"""

from __future__ import annotations

import importlib
import itertools
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from harness.config import ConfigError, RunConfig
from harness.executors.blocks import Block, pair_from_json, pair_to_json
from harness.stages import BlockOutput

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
        shown = address if "@" not in address else address.split("://", 1)[0] + "://<redacted>@" + hostport
        raise ConfigError(f"runtime.ray.address {shown}: no Ray cluster answers there ({e.strerror or e}; waited "
                          f"at most {timeout:.0f} s); start one with `ray start --head` or fix the address") from None


class BlockScorer:
    """A Ray Data actor: builds the scorers once from the config, then scores one block per call."""

    def __init__(self, config_json: str, threads: int) -> None:
        from harness.stages import build_context

        self.cfg = RunConfig.model_validate_json(config_json)
        self.ctx = build_context(self.cfg, cache=None, threads=threads, progress=False)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        from harness import stages

        out: dict[str, list[Any]] = {"index": [], "result": []}
        for index, pairs_json in zip(batch["index"], batch["pairs"], strict=True):
            pairs = [pair_from_json(d) for d in json.loads(str(pairs_json))]
            res = stages.score_block(self.ctx, pairs)
            out["index"].append(int(index))
            out["result"].append(json.dumps({"claims": res.claims, "pairs": res.pairs, "stats": res.stats},
                                            ensure_ascii=False, allow_nan=True))
        return out


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
    """Score ``blocks`` on Ray; yields (block, output) as blocks finish, in any order."""
    import ray
    import ray.data

    pending = iter(blocks)
    first = next(pending, None)
    if first is None:  # every block was finished by an earlier run: no cluster needed
        return

    if cfg.runtime.cache:
        print(f"note: the ray executor does not use the output cache ({cfg.runtime.cache}); finished blocks "
              "are skipped on a rerun instead", file=sys.stderr)
    t0 = time.perf_counter()
    _quiet(ray, show_progress=cfg.runtime.progress and sys.stderr.isatty())
    started = not ray.is_initialized()
    if started:
        ray.init(address=cfg.runtime.ray.address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)
    info["ray_init"] = time.perf_counter() - t0
    try:
        # One object per block, put as the inputs are read: the driver keeps references, the object store
        # holds the texts (and spills them to disk when it is full).
        import pyarrow as pa

        todo: dict[int, Block] = {}
        refs: list[Any] = []
        for b in itertools.chain([first], pending):
            todo[b.index] = b.without_pairs()
            pairs = json.dumps([pair_to_json(p) for p in b.pairs], ensure_ascii=False)
            refs.append(ray.put(pa.table({"index": [b.index], "pairs": [pairs]})))
        actors, gpus, cpus = _pool(cfg, ray, len(todo))
        ds = ray.data.from_arrow_refs(refs)
        scored = ds.map_batches(
            BlockScorer, fn_constructor_kwargs={"config_json": cfg.model_dump_json(), "threads": cpus},
            # One block in flight per actor: Ray Data's default queues 2, so one actor ran two blocks back to
            # back while another sat idle (issue 22); a block is minutes of model work, queueing saves nothing.
            batch_size=1, batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1),
            num_cpus=cpus, num_gpus=gpus or None,
        )
        rows_out = iter(scored.iter_rows())
        while True:
            try:
                row = next(rows_out)
            except StopIteration:
                break
            except Exception as e:  # Ray wraps the actor's exception; surface the harness error in one line
                raise _unwrap(e) from e
            info.setdefault("ray_first_block", time.perf_counter() - t0)
            res = json.loads(row["result"])
            yield todo[int(row["index"])], BlockOutput(res["claims"], res["pairs"], res["stats"])
    finally:
        if started:
            ray.shutdown()
