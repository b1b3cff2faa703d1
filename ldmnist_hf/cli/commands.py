"""Every `ldmnist` command, in the order `ldmnist --help` lists them (`local`: on this machine, `hub`: the Hub).

A command is a dataclass (`base.Command`): its fields are its options, `run` a thin call into the library;
heavy libraries are imported inside `run`, so `ldmnist --help` answers at once.
"""

from __future__ import annotations

from .analysis import Benchmark, Fidelity, Report
from .base import Command
from .fetch import Fetch, FetchMnist
from .hub import Export, Leaderboard, Push, Submit
from .local import Build, Cards, Release, Train, Verify

# The commands in the order `ldmnist --help` lists them.
COMMANDS: tuple[type[Command], ...] = (
    Fetch,
    FetchMnist,
    Train,
    Release,
    Cards,
    Build,
    Verify,
    Benchmark,
    Fidelity,
    Report,
    Export,
    Push,
    Submit,
    Leaderboard,
)
