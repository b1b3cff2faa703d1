"""Markdown pieces every card and README uses: tables, safe table cells, and the blocks that commands fill.

A block is the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in a card or README.md
(`benchmark`, `report`, `fidelity`, `results`, `leaderboard`); `replace_block` rewrites one in a file,
`with_block`/`read_block` in a text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import LDMNISTError
from ..files.atomic import atomic_write_text


def markdown_table(header: Sequence[str], rows: Iterable[Sequence], align: str | None = None) -> str:
    """A Markdown table; `align` has one letter per column: `l` (left, the default), `r` or `c`.

    >>> print(markdown_table(["model", "MSE"], [["zero", "0.88"]], align="lr"))
    | model | MSE |
    |---|---:|
    | zero | 0.88 |
    """
    rule = {"l": "---", "r": "---:", "c": ":-:"}
    align = align or "l" * len(header)
    lines = [f"| {' | '.join(header)} |", f"|{'|'.join(rule[a] for a in align)}|"]
    lines += [f"| {' | '.join(str(c) for c in row)} |" for row in rows]
    return "\n".join(lines)


def plain_cell(text) -> str:
    r"""Text from elsewhere (a submitter's error text, a file name) as one table cell that renders as the text
    itself: no column break, line break, HTML, link or image, and no block marker.

    >>> print(plain_cell("a | b <!-- x --> ![t](http://e.x/t.png)\nc"))
    a \| b &lt;!-- x --&gt; !\[t\](http://e.x/t.png) c
    """
    text = " ".join(str(text).split())
    for char in ("\\", "|", "[", "]", "`"):
        text = text.replace(char, "\\" + char)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def _read_block_file(path: Path, name: str) -> str:
    try:
        text = path.read_text()
    except FileNotFoundError as e:
        raise LDMNISTError(f"{path} does not exist; give an existing README.md to fill.") from e
    except (OSError, UnicodeDecodeError) as e:
        raise LDMNISTError(f"{path} cannot be read as text ({e}).") from e
    start, end = _markers(name)
    if start not in text or end not in text:
        raise LDMNISTError(f"{path} has no {start} ... {end} block to fill.")
    return text


def check_block(path: str | Path, name: str) -> None:
    """Checks, before any work, that `replace_block(path, name, ...)` will find its block."""
    _read_block_file(Path(path), name)


def replace_block(path: str | Path, name: str, content: str) -> None:
    """Replaces the text between `<!-- {name}:start -->` and `<!-- {name}:end -->` in a Markdown file."""
    path = Path(path)
    atomic_write_text(path, with_block(_read_block_file(path, name), name, content))


def with_block(text: str, name: str, content: str) -> str:
    """`text` with its block `name` holding `content` (the text must have the block's two markers; the content
    must hold neither, or the next replacement would end the block inside it)."""
    start, end = _markers(name)
    if start in content or end in content:
        raise ValueError(f"The content of block {name!r} holds one of its markers; it cannot be written.")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{content}\n{end}{tail}"


def read_block(text: str, name: str) -> str | None:
    """The content of a block of a card's text, or `None` when it has none."""
    start, end = _markers(name)
    match = re.search(rf"{re.escape(start)}\n(.*?)\n{re.escape(end)}", text, flags=re.S)
    return match.group(1) if match else None
