"""Command line: ``python -m harness run | validate | bench | train | compare | history | report``.

Thin by design: parse, call, map errors to exit codes (0 ok, 2 bad config/input, 1 runtime failure,
130 interrupted by Ctrl-C — the shell convention 128 + SIGINT).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["main"]

EXIT_OK, EXIT_RUNTIME, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what schedulers and `timeout` expect


class Terminated(KeyboardInterrupt):
    """SIGTERM (schedulers, ``timeout``, Kubernetes), unwound like Ctrl-C so that the same cleanup runs."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def _input_errors() -> tuple[type[BaseException], ...]:
    from harness.config import ConfigError
    from harness.data import DataError
    from harness.engine.cache import CacheError
    from harness.models.loading import ModelUnavailableError
    from harness.registry import RegistryError
    from harness.results.preflight import OutputLocationError
    from harness.results.reader import RunError

    return (ConfigError, DataError, CacheError, ModelUnavailableError, RegistryError, RunError,
            OutputLocationError)


def _fail(msg: str, code: int) -> int:
    from harness.textsafe import visible  # messages quote paths, names and values from data

    print(f"error: {visible(msg)}", file=sys.stderr)
    return code


def _cmd_validate(args: argparse.Namespace) -> int:
    from harness.config import config_hash, load_config
    from harness.results.preflight import check_output_locations

    cfg = load_config(args.config, args.set)
    check_output_locations(cfg.output_dir, cfg.runtime.cache)
    from harness.textsafe import visible

    print(visible(f"{args.config}: ok (config hash {config_hash(cfg)}; {len(cfg.data)} dataset(s), "
                  f"{len(cfg.scorers)} scorer(s): {', '.join(s.name or s.type for s in cfg.scorers)})"))
    return EXIT_OK


def _yaml_string(value: str) -> str:
    """``value`` as a double-quoted YAML scalar that reads back as exactly ``value`` (``--set`` values are YAML)."""
    import yaml

    return str(yaml.safe_dump(value, default_style='"', width=float("inf"))).rstrip("\n")


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from harness.config import load_config
    from harness.pipeline import run
    from harness.summary import print_summary

    overrides = list(args.set)
    if args.output:  # a path, not YAML: quoted so that "run #3", 2024 or null arrive as these very characters
        overrides.append(f"output_dir={_yaml_string(args.output)}")
    if args.no_cache:
        overrides.append("runtime.cache=null")
    cfg = load_config(args.config, overrides)
    # what a Ctrl-C may promise: the Ray executor reuses finished blocks but keeps no output cache
    args.cache_kept = cfg.runtime.cache is not None and cfg.runtime.executor == "local"
    thresholds = None
    if args.thresholds_from:
        from harness.evaluation import thresholds_from

        thresholds = thresholds_from(Path(args.thresholds_from), cfg.output_dir)

    class SummaryConsole(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1; the run is written: warn and exit 0 instead
            raise BrokenPipeError(errno.EPIPE, "stdout was closed (the reader went away)")

    console = SummaryConsole()
    result = run(cfg, thresholds_from=thresholds, console=console)
    try:  # the run folder is written: printing can no longer make the run fail
        print_summary(result, console, max_claims=args.show_claims)
        sys.stdout.flush()
    except (Exception, KeyboardInterrupt) as e:
        _summary_not_printed(result.folder, e)
    return EXIT_OK


def _summary_not_printed(folder: Path | None, e: BaseException) -> None:
    """A written run whose summary could not be printed (``| head`` closed the pipe, a terminal error, Ctrl-C
    while printing): one warning line, and the run still exits 0."""
    from harness.textsafe import visible

    if isinstance(e, BrokenPipeError):  # else Python fails again flushing stdout at exit (status 120)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    where = f" ({folder})" if folder is not None else ""
    with contextlib.suppress(OSError):  # stderr gone too: the exit code still says the run worked
        print(visible(f"warning: the run is written{where}, but its summary could not be printed: "
                      f"{type(e).__name__}: {e}", one_line=True), file=sys.stderr)


def _delegate(target: str) -> Callable[[argparse.Namespace], int]:
    """Subcommands owned by other modules take the raw remaining argv."""

    def call(args: argparse.Namespace) -> int:
        module, _, attr = target.partition(":")
        import importlib

        fn = getattr(importlib.import_module(module), attr)
        return int(fn(args.rest) or 0)

    return call


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m harness",
        description="Summary-faithfulness evaluation: per-claim NLI/QA consistency scores with evidence.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="score the pairs named by a config; writes results/<run-id>/")
    r.add_argument("config", help="YAML run config (see configs/)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set runtime.dtype=fp32 --set data.0.limit=20")
    r.add_argument("--output", help="results folder (default: the config's output_dir, 'results')")
    r.add_argument("--thresholds-from", metavar="RUN", help="apply thresholds tuned in an earlier run folder")
    r.add_argument("--no-cache", action="store_true", help="do not read or write the model-output cache")
    r.add_argument("--show-claims", type=int, default=60, metavar="N",
                   help="print at most N claims in the summary (default 60)")
    r.set_defaults(func=_cmd_run)

    v = sub.add_parser("validate", help="check a config without running it")
    v.add_argument("config")
    v.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    v.set_defaults(func=_cmd_validate)

    for name, helptext in (
        ("bench", "benchmark batching strategies side by side"),
        ("train", "train an embedded model (configs/train_embedded.yaml, configs/train_qa.yaml)"),
        ("compare", "compare runs: metrics, significance, flipped claims"),
        ("history", "list runs and how metrics moved across versions"),
        ("report", "write a static HTML report for a run"),
    ):
        s = sub.add_parser(name, help=helptext + " (COMMAND --help for its options)", add_help=False)
        s.add_argument("rest", nargs=argparse.REMAINDER)
        s.set_defaults(func=_delegate(_DELEGATED[name]))
    return p


_DELEGATED = {
    "bench": "harness.bench:main",
    "train": "harness.train:main",
    "compare": "harness.evaluation.compare:main",
    "history": "harness.evaluation.history:main",
    "report": "harness.report:main",
}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if not sys.stdout.isatty():
        os.environ.setdefault("COLUMNS", "150")  # rich tables in logs and CI: wide enough to read
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _DELEGATED:  # they parse their own options (argparse.REMAINDER drops leading ones)
        args = argparse.Namespace(func=_delegate(_DELEGATED[argv[0]]), rest=argv[1:])
    else:
        args = _parser().parse_args(argv)
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code: int = args.func(args)
        return code
    except KeyboardInterrupt as e:  # run folders are written atomically and the cache commits per batch
        done = ""
        if getattr(args, "command", None) == "run":
            done = ": no run folder was written; blocks finished so far are kept and a rerun resumes from them"
            if getattr(args, "cache_kept", not getattr(args, "no_cache", False)):
                done += ", and model outputs computed so far are in the cache for it to reuse"
        what = "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"
        return _fail(f"{what}{done}", EXIT_TERMINATED if isinstance(e, Terminated) else EXIT_INTERRUPTED)
    except Exception as e:  # map known input errors to exit 2 with one line; others to exit 1
        if isinstance(e, _input_errors()):
            return _fail(str(e), EXIT_INPUT)
        if os.environ.get("HARNESS_DEBUG"):
            raise
        return _fail(f"{type(e).__name__}: {e} (set HARNESS_DEBUG=1 for a traceback)", EXIT_RUNTIME)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _entry() -> Any:
    sys.exit(main())


if __name__ == "__main__":
    _entry()
