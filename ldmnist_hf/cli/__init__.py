"""The `ldmnist` command (`main`, the console script), one dataclass per command (`commands`), the options
generated from their fields (`options`)."""

from .commands import COMMANDS
from .local import load_hint
from .main import as_flags, build_parser, main

__all__ = ["COMMANDS", "as_flags", "build_parser", "load_hint", "main"]
