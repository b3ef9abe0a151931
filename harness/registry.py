"""Name -> factory registries with lazy ``"module:object"`` entries and did-you-mean errors."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Registry", "RegistryError"]

F = TypeVar("F", bound=Callable[..., Any])


class RegistryError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Generic[F]):
    """A named table of factories. Entries may be objects or lazy ``"package.module:attr"`` strings, so
    that heavy modules (torch, spaCy) are imported only when their entry is used."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, F | str] = {}

    def register(self, name: str, obj: F | str | None = None) -> Any:
        if obj is not None:
            self._entries[name] = obj
            return obj

        def deco(fn: F) -> F:
            self._entries[name] = fn
            return fn

        return deco

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> F:
        try:
            entry = self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(self.names())})"
            ) from None
        if isinstance(entry, str):
            module, _, attr = entry.partition(":")
            entry = getattr(importlib.import_module(module), attr)
            self._entries[name] = entry
        return entry
