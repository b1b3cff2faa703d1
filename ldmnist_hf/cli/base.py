"""What every `ldmnist` command is: a dataclass of its options with a `run`, and the context it runs in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Context:
    """What a command knows besides its options: the command line as typed, and whether to be quiet."""

    argv: list[str]
    quiet: bool


@dataclass(kw_only=True)
class Command:
    """A subcommand: `command` (its name), `summary` (its line in `ldmnist --help`), `about` and `examples`
    (its `--help`); its fields with `help` metadata are its options, unless `options` names another dataclass
    that holds them (`train`: `LDMNISTTrainingArguments`)."""

    command: ClassVar[str]
    summary: ClassVar[str]
    about: ClassVar[str]
    examples: ClassVar[list[str]]
    heavy: ClassVar[bool] = True  # imports transformers: its progress bars are silenced too (not with -v)
    options: ClassVar[type | None] = None

    @classmethod
    def from_values(cls, values: dict) -> Command:
        return cls(**values)

    def run(self, ctx: Context) -> None:  # pragma: no cover - every command defines it
        raise NotImplementedError
