"""Text from data, shown on a terminal: the one escaping path for everything the CLI prints.

Dataset names, pair ids, claim and evidence text, model ids, paths from a config and error messages that
quote any of them are *data*: they are shown as they are and never act on the terminal.

* **Control characters are made visible** as the Python escape that names them: ``ESC`` → ``\\x1b``,
  ``BEL`` → ``\\x07``, CR → ``\\r``, the C1 controls (U+0080–U+009F, ``\\x9b`` is a one-byte CSI) → ``\\x9b``,
  ``DEL`` → ``\\x7f``, the bidirectional embedding/override/isolate marks (U+202A–U+202E, U+2066–U+2069:
  they reorder what a terminal shows) → ``\\u202e``, an unpaired surrogate (it cannot be written as UTF-8)
  → ``\\ud800``. So no escape sequence (CSI colours, clear screen, OSC window titles or hyperlinks) ever
  reaches the terminal raw, and a line cannot be overwritten with ``\\r``. Newlines and tabs are kept where
  text may span lines (:func:`visible`), and shown as ``\\n`` / ``\\t`` where it must stay on one line
  (``one_line=True``).
* **Rich markup is shown literally**: ``[/url]``, ``[b]``, ``[citation needed]``, ``[link=…]`` are text,
  not styles or hyperlinks, and ``:smile:`` is not turned into an emoji.

Use :func:`cell` for a table cell or title (a :class:`rich.text.Text`, never parsed), :func:`line` for a
line of fixed markup from the code with data in its ``{}`` fields, and :func:`visible` for plain ``print``.
"""

from __future__ import annotations

import re

from rich.markup import escape as _escape_markup
from rich.text import Text

__all__ = ["cell", "line", "visible"]

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_KEEP_LAYOUT = re.compile(f"[{_CONTROL}]")
_ONE_LINE = re.compile(f"[{_CONTROL}\n\t]")


def _name(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object, *, one_line: bool = False) -> str:
    """``str(value)`` with every control character written as its escape (``\\x1b``, ``\\r``, ``\\x9b``,
    ``\\u202e``); newlines and tabs are kept unless ``one_line``."""
    text = value if isinstance(value, str) else str(value)
    return (_ONE_LINE if one_line else _KEEP_LAYOUT).sub(_name, text)


def _markup(value: object, *, one_line: bool = False) -> str:
    """Data to put inside a markup template: made :func:`visible`, and ``[`` escaped so it stays text. (Not
    enough on its own: ``console.print(str)`` would still turn ``:smile:`` into an emoji; :func:`line` does not.)"""
    return _escape_markup(visible(value, one_line=one_line))


def cell(value: object, style: str = "", *, one_line: bool = False) -> Text:
    """Data as a rich ``Text`` (for a table cell, a title, ``console.print``): never parsed as markup or emoji."""
    return Text(visible(value, one_line=one_line), style=style)


def line(template: str, *values: object, one_line: bool = False) -> Text:
    """``template`` is markup written in the code (``"[bold red]WARNING[/] {}"``); each ``{}`` is filled with
    one of ``values``, shown as it is (no markup, no emoji, no control characters)."""
    return Text.from_markup(template.format(*(_markup(v, one_line=one_line) for v in values)), emoji=False)
