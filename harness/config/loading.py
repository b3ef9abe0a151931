"""From a YAML file to a :class:`~harness.config.run.RunConfig`: duplicate keys and alias bombs refused,
``--set`` overrides, one-line errors with did-you-mean, paths resolved, and the config hash."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.config.base import ConfigError
from harness.config.run import RunConfig
from harness.config.scorers import ScorerConfig

__all__ = ["MAX_CONFIG_VALUES", "DuplicateKeyError", "apply_overrides", "config_hash", "load_config"]


MAX_CONFIG_VALUES = 100_000
"""A config whose YAML aliases (``*name``, and merge keys ``<<: *name``) add more values than this when expanded
is refused: a "billion laughs" bomb would otherwise take minutes and gigabytes in validation, hashing and
run.json. Only what aliases add is counted: a plain list of 150,000 values is fine."""


def _known_keys() -> set[str]:
    """Every field name of every config model (for did-you-mean suggestions)."""
    keys: set[str] = set()
    todo: list[type[BaseModel]] = [RunConfig]
    seen: set[type[BaseModel]] = set()
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        keys.update(m.model_fields)
        for f in m.model_fields.values():
            for t in _model_types(f.annotation):
                todo.append(t)
    return keys


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_model_types(arg))
    return out


def _scorer_tags() -> set[str]:
    import typing

    return {str(t) for m in _model_types(ScorerConfig) for t in typing.get_args(m.model_fields["type"].annotation)}


def _tags(m: type[BaseModel]) -> set[str]:
    """The ``type`` tags a scorer config model answers to (empty for other models)."""
    import typing

    return {str(t) for t in typing.get_args(m.model_fields["type"].annotation)} if "type" in m.model_fields else set()


def _keys_at(loc: Sequence[Any]) -> set[str] | None:
    """Field names of the config model that holds the last key of ``loc`` (None if the path cannot be followed):
    suggestions come from the keys allowed there, not from anywhere in the config."""
    models: list[type[BaseModel]] = [RunConfig]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        tagged = [m for m in models if part in _tags(m)]
        if tagged:  # a scorer union's tag (scorers.0.nli.x): stay on the model it names
            models = tagged
            continue
        models = [t for m in models if part in m.model_fields for t in _model_types(m.model_fields[part].annotation)]
        if not models:
            return None
    return {k for m in models for k in m.model_fields}


def _did_you_mean(key: str, loc: Sequence[Any] | None = None) -> str:
    import difflib

    keys = (_keys_at(loc) if loc else None) or _known_keys()
    close = difflib.get_close_matches(key, sorted(keys), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _format_error(path: Path | str, err: ValidationError, overrides: list[str] | None = None) -> str:
    e = err.errors()[0]
    parts = [str(p) for p in e["loc"]]
    if len(parts) > 2 and parts[0] == "scorers" and parts[2] in _scorer_tags():
        del parts[2]  # the discriminated union's tag is not a key the user wrote
    loc = ".".join(parts) or "<root>"
    msg = e["msg"]
    if e["type"] == "extra_forbidden":
        msg = "unknown key" + _did_you_mean(str(e["loc"][-1]), e["loc"])
    elif e["type"] == "literal_error" and "ctx" in e:
        msg = f"must be one of {e['ctx'].get('expected')}"
    elif e["type"] == "union_tag_invalid" and "ctx" in e:
        msg = f"unknown scorer type {e['ctx'].get('tag')!r}; allowed: {e['ctx'].get('expected_tags')}"
    elif e["type"] == "string_pattern_mismatch" and loc == "name":
        msg = ("a run name is a name, not a path: letters, digits, '.', '_' and '-', starting with a letter or "
               "digit, at most 80 characters")
    got = e.get("input")
    got_r = repr(got)
    got_r = got_r if len(got_r) <= 80 else got_r[:60] + f"... ({len(str(got))} chars)"
    got_s = "" if isinstance(got, dict | list) or got is None else f" (got {got_r})"
    more = f" [+{len(err.errors()) - 1} more]" if len(err.errors()) > 1 else ""
    from_set = any(o.split("=", 1)[0] == loc for o in overrides or [])
    return f"{path}: {'--set ' if from_set else ''}{loc}: {msg}{got_s}{more}"


_EXPONENT_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _parse_scalar(text: str) -> Any:
    """A --set value as YAML, except that ``1e-3`` is a number (YAML 1.1, which PyYAML follows, reads a float
    without a dot as text)."""
    value = yaml.safe_load(text)
    if isinstance(value, str) and _EXPONENT_FLOAT.fullmatch(text.strip()):
        return float(text)
    return value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides (values parsed as YAML; list items by index: ``scorers.0.name``).

    Raises :class:`ConfigError` naming the override when its path does not fit the config's shape;
    unknown keys are left for validation, which names them (with a did-you-mean)."""
    for item in overrides:
        key, eq, value = item.partition("=")
        parts = key.strip().split(".")
        if not eq or not all(parts):
            raise ConfigError(f"--set {item}: expected dotted.key=value, e.g. runtime.dtype=fp32")
        node: Any = raw
        for depth, p in enumerate(parts):
            here = ".".join(parts[: depth + 1])
            last = depth == len(parts) - 1
            if isinstance(node, list):
                if not p.lstrip("-").isdigit():
                    raise ConfigError(f"--set {item}: {'.'.join(parts[:depth]) or '<root>'} is a list; "
                                      f"use an index (0..{len(node) - 1}), not {p!r}")
                i = int(p)
                if not -len(node) <= i < len(node):
                    raise ConfigError(f"--set {item}: {here}: index out of range ({len(node)} item(s))")
                if last:
                    node[i] = _parse_scalar(value)
                else:
                    node = node[i]
            elif isinstance(node, dict):
                if last:
                    node[p] = _parse_scalar(value)
                else:
                    node = node.setdefault(p, {})
            else:
                raise ConfigError(f"--set {item}: {'.'.join(parts[:depth])} is a value "
                                  f"({type(node).__name__}), not a section")
    return raw


def _resolve_paths(cfg: RunConfig, base: Path) -> RunConfig:
    """Make relative data paths absolute: relative to the config file's folder if that exists, else the cwd."""

    def fix(p: str | None) -> str | None:
        if p is None or Path(p).is_absolute():
            return p
        for root in (base, Path.cwd()):
            cand = (root / p).resolve()
            if cand.exists():
                return str(cand)
        return str((Path.cwd() / p).resolve())

    data = [
        d.model_copy(update={"path": fix(d.path), "source_file": fix(d.source_file),
                             "rewrite_file": fix(d.rewrite_file)})
        for d in cfg.data
    ]
    return cfg.model_copy(update={"data": data})


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice (YAML says keys are unique; PyYAML keeps the last silently)."""


class _AliasBombError(yaml.YAMLError):
    """Aliases expand to more than :data:`MAX_CONFIG_VALUES` values, or an alias contains itself."""


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader (no Python objects, ever) whose document is checked before it is built (see :func:`_check_nodes`);
    merge keys (``<<: *defaults``) are YAML 1.1 and work as in any other tool."""


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _key_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A mapping key as the config will see it (``1`` and ``"1"`` differ, ``yes`` and ``true`` do not); None for
    a key that is not a plain value (a list or mapping as key: left to the constructor)."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        value = loader.construct_object(node)
        hash(value)
    except (yaml.YAMLError, TypeError, ValueError):
        return None
    return (type(value).__name__, value)


def _check_nodes(loader: yaml.SafeLoader, root: yaml.Node, limit: int) -> None:
    """Before anything is built: refuse a key repeated in one mapping (naming both lines; keys brought in by a
    merge key may be overridden, as YAML says), and aliases that add more than ``limit`` values when expanded.

    Work is linear in the document's nodes: each node's expanded size is computed once (capped far above any
    real document, so that the numbers stay small)."""
    cap = 10**18
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    distinct = 0
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            if isinstance(node, yaml.MappingNode):
                kids = [n for kv in node.value for n in kv]
            elif isinstance(node, yaml.SequenceNode):
                kids = list(node.value)
            else:
                kids = []
            sizes[key] = min(cap, 1 + sum(sizes[id(k)] for k in kids))
            continue
        if key in sizes:
            continue
        if key in on_path:
            line = node.start_mark.line + 1
            raise _AliasBombError(f"line {line}: an alias refers to the value that contains it (a value that "
                                  "never ends); write the values out instead")
        distinct += 1
        on_path.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for k, v in node.value:
                if k.tag != _MERGE_TAG:
                    kv = _key_value(loader, k)
                    if kv is not None:
                        first = seen.get(kv)
                        line = k.start_mark.line + 1
                        if first is not None:
                            raise DuplicateKeyError(
                                f"line {line}: key {kv[1]!r} repeats the key of line {first} (YAML keys must be "
                                "unique; merge the two or delete one)")
                        seen[kv] = line
                stack.append((v, False))
                stack.append((k, False))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, False) for v in reversed(node.value))
    if sizes[id(root)] - distinct > limit:
        raise _AliasBombError(f"YAML aliases expand to more than {limit:,} values (an alias bomb?); write the "
                              "values out instead")


def _read_yaml(path: Path, text: str) -> Any:
    """Compose, check (:func:`_check_nodes`), then build; every error is one line naming the config's line."""
    loader = _ConfigLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            mark = loader.get_mark()
            raise ConfigError(f"{path}: line {mark.line + 1}: not valid YAML (values nested too deeply)") from None
        if node is None:
            return None
        _check_nodes(loader, node, MAX_CONFIG_VALUES)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read, override, validate. Raises :class:`ConfigError` with one line on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not valid UTF-8 (byte 0x{e.object[e.start]:02x}); save the config "
                          "as UTF-8") from None
    except (IsADirectoryError, NotADirectoryError) as e:
        raise ConfigError(f"{path}: cannot read the config ({type(e).__name__})") from None
    try:
        raw = _read_yaml(path, text)
    except (DuplicateKeyError, _AliasBombError) as e:
        raise ConfigError(f"{path}: {e}") from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (NUL, other control characters)
        pos = max(0, min(e.position, len(text)))
        line, col = text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
        raise ConfigError(f"{path}: line {line}: not valid YAML (character U+{e.character:04X} at column {col} is "
                          "not allowed in YAML; binary data?)") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(e, "problem", None) or e).split())
        raise ConfigError(f"{path}:{where}: not valid YAML ({problem})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys (name, data, scorers, ...)")
    # top-level ``x-`` keys hold YAML anchors for merge keys (``x-defaults: &d {...}``, then ``<<: *d``), as in
    # Compose files; they are not settings, so they are dropped before the strict schema sees them
    raw = {k: v for k, v in raw.items() if not (isinstance(k, str) and k.startswith("x-"))}
    if isinstance(raw.get("data"), dict):
        raw["data"] = [raw["data"]]
    try:
        raw = apply_overrides(raw, overrides or [])
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: bad --set value: {getattr(e, 'problem', e)}") from None
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_format_error(path, e, overrides)) from None
    cfg = _resolve_paths(cfg, path.parent.resolve())
    if cfg.runtime.executor == "ray":
        import importlib.util

        try:
            missing = importlib.util.find_spec("ray") is None
        except (ImportError, ValueError):  # a broken or blocked install: as good as none
            missing = True
        if missing:
            raise ConfigError(f"{path}: runtime.executor: 'ray' needs Ray, which is not installed here: "
                              'pip install "harness[ray]" (or use executor: local)')
    me = path.resolve()
    for i, d in enumerate(cfg.data):
        for fld in ("path", "source_file", "rewrite_file"):
            p = getattr(d, fld)
            if p is not None and d.type != "hf" and not Path(p).exists():
                raise ConfigError(f"{path}: data.{i}.{fld}: file not found: {p}")
            if p is not None and d.type != "hf" and not (Path(p).is_file() or Path(p).is_dir()):
                raise ConfigError(f"{path}: data.{i}.{fld}: {p} is not a regular file (a device, pipe or socket); "
                                  "inputs are read twice (a check, then scoring): write it to a file first")
            if p is not None and Path(p).resolve() == me:
                raise ConfigError(f"{path}: data.{i}.{fld}: names this config file itself; point it at the "
                                  "data file (JSONL, CSV, Parquet)")
    return cfg


def config_hash(cfg: RunConfig) -> str:
    """Hash of what determines scores (not the run name, output folder or progress bar)."""
    d = cfg.model_dump(mode="json", exclude={"name": True, "output_dir": True, "output_formats": True,
                                             "runtime": {"progress", "cache", "executor", "ray"}})
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
