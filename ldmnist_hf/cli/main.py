"""The `ldmnist` command line: the parser from the commands' declarations, logging, and error mapping.

Each command is a dataclass in `commands` (its options its fields, shared groups in `options`); this module
builds the parser from them, sets up the handler of the library's logger (`--quiet`, `--verbose`), turns the
Hugging Face libraries' progress bars off (on with `--verbose`), runs the command, and turns the library's
errors into one line on stderr, with the parameter names they quote (`` `learning_rate` ``) rewritten as this
command's flags. Heavy libraries (torch, transformers, datasets) are
imported inside the commands, so `ldmnist --help` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import traceback

from ..errors import LDMNISTError, first_line, redact
from .base import Command, Context
from .commands import COMMANDS
from .options import add_arguments, values_of


@contextlib.contextmanager
def _hf_progress_bars_off(transformers_too: bool):
    """The Hugging Face libraries' progress bars off while a command runs, each through its library's own
    switch: huggingface_hub's downloads, datasets' "Generating train split", transformers' "Loading weights"
    (only for the commands that import transformers, `Command.heavy`). The package's own bars (training
    epochs, the MLP baseline) are plain tqdm and stay. A switch the user set in the environment
    (`HF_HUB_DISABLE_PROGRESS_BARS`, `HF_DATASETS_DISABLE_PROGRESS_BARS`) wins, as in the libraries; every
    switch is left as it was afterwards (`main` can be called from Python)."""
    import datasets
    import datasets.config
    from huggingface_hub import constants as hub_constants
    from huggingface_hub import utils as hub_utils

    switches = []  # (is on, turn off, turn back on), restored in reverse order
    if hub_constants.HF_HUB_DISABLE_PROGRESS_BARS is None:
        switches.append(
            (
                not hub_utils.are_progress_bars_disabled(),
                hub_utils.disable_progress_bars,
                hub_utils.enable_progress_bars,
            )
        )
        if transformers_too:
            from transformers.utils import logging as hf_logging

            switches.append(
                (
                    hf_logging.is_progress_bar_enabled(),
                    hf_logging.disable_progress_bar,
                    hf_logging.enable_progress_bar,
                )
            )
    if datasets.config.HF_DATASETS_DISABLE_PROGRESS_BARS is None:
        switches.append(
            (
                datasets.is_progress_bar_enabled(),
                datasets.disable_progress_bars,
                datasets.enable_progress_bars,
            )
        )
    for _, off, _ in switches:
        off()
    try:
        yield
    finally:
        for was_on, off, on in reversed(switches):  # transformers' switch also sets huggingface_hub's
            (on if was_on else off)()


def _hf_progress_bars(verbose: bool, heavy: bool):
    """The Hugging Face libraries' progress bars: shown with -v, off otherwise."""
    return contextlib.nullcontext() if verbose else _hf_progress_bars_off(transformers_too=heavy)


def _level_args(parser: argparse.ArgumentParser, dest_prefix: str = "") -> None:
    """-q/--quiet and -v/--verbose, which exclude each other."""
    level = parser.add_mutually_exclusive_group()
    level.add_argument(
        "-q", "--quiet", dest=f"{dest_prefix}quiet", action="store_true", help="print results and errors only"
    )
    level.add_argument(
        "-v",
        "--verbose",
        dest=f"{dest_prefix}verbose",
        action="store_true",
        help="also print debugging messages",
    )


def _add_command(sub, common, cmd: type[Command]) -> None:
    """A subcommand whose --help shows its description and examples, its options from its declaration."""
    parser = sub.add_parser(
        cmd.command,
        help=cmd.summary,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=cmd.about + "\n\nexamples:\n" + "\n".join(f"  {e}" for e in cmd.examples),
    )
    parser.set_defaults(cmd=cmd, parser=parser)
    add_arguments(parser, cmd.options or cmd)


def build_parser() -> argparse.ArgumentParser:
    """The `ldmnist` parser: one subcommand per entry of `COMMANDS`.

    Returns:
        `argparse.ArgumentParser`: parses `ldmnist COMMAND ...`; `args.cmd` is the command class.
    """
    common = argparse.ArgumentParser(add_help=False)
    _level_args(common)
    p = argparse.ArgumentParser(
        prog="ldmnist",
        description="Build, publish and benchmark the Low-dimensional MNIST dataset (LD-MNIST).",
        epilog="Run `ldmnist COMMAND --help` for the options and examples of each command.",
    )
    # Also before the command (`ldmnist -q build ...`); a subparser's defaults would overwrite the same dest.
    _level_args(p, dest_prefix="top_")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS:
        _add_command(sub, common, cmd)
    return p


@contextlib.contextmanager
def _logging_to_stderr(args):
    """Messages of the library (the `ldmnist_hf` logger) to stderr while a command runs: info by default, less
    or more on request; the logger is left as it was afterwards (`main` can be called from Python)."""
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    root = logging.getLogger("ldmnist_hf")
    saved = root.level, root.propagate, os.environ.get("TQDM_DISABLE")
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    if args.quiet:
        os.environ["TQDM_DISABLE"] = "1"  # tqdm >= 4.66 reads it: no progress bars either
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        root.propagate = saved[1]
        if saved[2] is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = saved[2]


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


_PARAM = re.compile(r"`(\w+)(?:=([^`]*))?`")


def as_flags(message: str, parser: argparse.ArgumentParser) -> str:
    """The library's message with the parameters it quotes written as this command's options.

    `` `learning_rate` `` becomes `--learning-rate`, `` `overwrite=True` `` becomes `--overwrite`,
    `` `verify=False` `` becomes `--no-verify`, `` `device=cpu` `` becomes `--device cpu`; names that are
    not options of the command stay as they are.
    """
    actions = {a.dest: a for a in parser._actions if a.option_strings}

    def flag(m: re.Match) -> str:
        name, value = m.group(1), m.group(2)
        action = actions.get(name)
        if action is None:
            return m.group(0)
        option = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
        if value is None:
            return option
        value = value.strip().strip("\"'")
        if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
            wanted = "True" if isinstance(action, argparse._StoreTrueAction) else "False"
            return option if value == wanted else m.group(0)
        return f"{option} {value}" if value else option

    return _PARAM.sub(flag, message)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet, args.verbose = args.quiet or args.top_quiet, args.verbose or args.top_verbose
    if args.quiet and args.verbose:
        parser.error("-q/--quiet and -v/--verbose exclude each other")
    cmd: type[Command] = args.cmd
    ctx = Context(argv=argv, quiet=args.quiet)  # the command as typed: `ldmnist build` records it
    try:
        with _logging_to_stderr(args), _hf_progress_bars(args.verbose, cmd.heavy):
            cmd.from_values(values_of(cmd.options or cmd, args)).run(ctx)
    except LDMNISTError as e:
        print(f"ldmnist {args.command}: error: {redact(as_flags(str(e), args.parser))}", file=sys.stderr)
        return 1
    except OSError as e:  # the file system refused (permissions, full disk): say which file, no traceback
        where = f" ({e.filename})" if e.filename else ""
        print(f"ldmnist {args.command}: error: {redact(e.strerror or str(e))}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ldmnist {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a library's own error type we did not foresee: still one line, never a secret
        if args.verbose:
            traceback.print_exc()
        print(
            f"ldmnist {args.command}: error: {first_line(e, limit=300)} (unexpected; `ldmnist {args.command} -v` "
            f"shows where it came from)",
            file=sys.stderr,
        )
        return 1
    return 0
