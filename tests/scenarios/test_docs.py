"""README.md and docs/ as a newcomer reads them: every code block runs or parses, every link resolves, the
command table is the command line's."""

import os
import re
import shlex
from pathlib import Path

import pytest
from conftest import CODE, IDS, NS
from helpers import ROOT, code_blocks, hub_cache

from ldmnist_hf.cli import COMMANDS, build_parser
from ldmnist_hf.registry import DEFAULT_MODELS

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def test_readme_python_examples_run(built, monkeypatch):
    blocks = code_blocks(README.read_text())
    # the Hub examples run from the export (below) and the Hub stand-in (test_hub_roundtrip.py, hub/test_submit.py)
    blocks = [b for b in blocks if "your-namespace" not in b]
    assert len(blocks) >= 5
    monkeypatch.chdir(built)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    namespace: dict = {}
    for block in blocks:  # in order: later examples use names from earlier ones, as a reader would
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["x"].shape == (60000, 32)
    assert namespace["reconstruction"].shape == (8, 28, 28)
    assert os.getcwd() == str(built)


def test_docs_have_no_python_blocks_that_no_test_runs():
    for page in PAGES[1:]:
        assert code_blocks(page.read_text()) == [], page


def _commands(page: Path) -> list[list[str]]:
    """Every `ldmnist ...` line of the page's bash blocks (continuations joined, comments cut)."""
    out = []
    for block in code_blocks(page.read_text(), "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            for part in line.split("&&"):
                words = shlex.split(part.strip())
                if words and words[0] == "ldmnist":
                    out.append(words[1:])
    return out


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_in_the_docs_parses(page):
    parser = build_parser()
    for words in _commands(page):
        parser.parse_args(words)  # an unknown option or a missing argument exits the test


def test_a_variant_is_benchmarked_with_its_own_middle_layers():
    """A dataset the docs build from other VAEs than the default pair is benchmarked with the middle layers
    released beside its image VAE: `ldmnist benchmark` takes the shipped ones only for a build from the default
    class VAE, and without that row the variant's `middle` baseline is not published."""
    parser = build_parser()
    checked = 0
    for page in PAGES:
        built = {}  # output folder -> image VAE, per page
        for words in _commands(page):
            args = parser.parse_args(words)
            if args.command == "build" and args.class_vae not in (None, DEFAULT_MODELS["class_vae"]):
                built[args.output_dir] = args.image_vae
            elif args.command == "benchmark" and args.dataset in built:
                beside = built[args.dataset].replace("image-vae", "middle-layers", 1)
                assert args.middle_layers == beside, (page.name, shlex.join(["ldmnist", *words]))
                checked += 1
    assert checked >= 1  # README's publishing block


def test_command_table_lists_every_subcommand():
    table = re.findall(r"^\| `ldmnist ([\w-]+)` \|", README.read_text(), flags=re.M)
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert table == list(sub.choices) and len(table) == len(COMMANDS)


def test_links_resolve_and_readme_stays_a_guide():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if not target.startswith("http"):
                assert (page.parent / target).exists(), (page.name, target)
    # a guide, not a manual: 250 lines for LD-MNIST, 20 more for the ladder of its siblings' benchmarks
    assert len(README.read_text().splitlines()) <= 270


# ----------------------------------------------------------------------------- README's Hub example


def _local(code: str, folders: dict) -> str:
    """The dataset and metric ids of a snippet pointed at the exported folders (literal or f-string ids)."""
    for ref in (f'"{IDS["dataset"]}"', 'f"{NS}/ldmnist"'):
        code = code.replace(f"load_dataset({ref}", f"load_dataset({str(folders['dataset'])!r}")
        code = code.replace(f"evaluate.load({ref}", f"evaluate.load({str(folders['metric'])!r}")
    return code


def test_readme_hub_example_runs_without_the_package(exported, isolated_python, tmp_path):
    _, folders = exported
    cache = tmp_path / "hub-cache"
    for kind in CODE:
        hub_cache(cache, IDS[kind], folders[kind])
    readme = (ROOT / "README.md").read_text()
    (code,) = [b for b in code_blocks(readme) if 'NS = "your-namespace"' in b]
    code = _local(code.replace('NS = "your-namespace"', f'NS = "{NS}"'), folders)
    out = isolated_python(code, env={"HF_HUB_CACHE": str(cache)})
    assert "'reconstructed_accuracy': 1.0" in out
