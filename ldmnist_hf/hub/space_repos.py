"""The Spaces of an export: the metric Space (the metric script, its app, its card) and the explorer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..data.records import LEADERBOARD_FILE
from ..data.schema import BENCHMARK_FILE, CARD, data_file
from ..errors import LDMNISTError
from ..pretrained.loading import METRIC_PATH
from ..registry import (
    DEFAULT_CONFIG,
    config_prefix,
)
from ..rendering import (
    render_explorer_card,
    render_metric_card,
)

METRIC_SCRIPT = "ldmnist.py"


_DEFAULT_LINE = "CLASS_VAES = {}\n"  # the package metric's line that the Space's copy fills in


def class_vaes_line(ids: dict[str, dict]) -> str:
    """The metric script's line in the Space: each config's class VAE repository."""
    return f"CLASS_VAES = {json.dumps({name: i['class_vae'] for name, i in ids.items()})}\n"


SPACES = Path(__file__).parent / "spaces"  # each Space's own files: app.py, requirements.txt, ...


SCREENSHOT = "screenshot.png"  # written by the browser tests (`make screenshots`), shown in the Space's card


def _space_files(name: str, out: Path, space: dict) -> str | None:
    """Copies a Space's own files from `hub/spaces/NAME/` and writes its `space.json` (with the names of the
    dataset repository's files, so that the Space, which runs without this package, spells none of them);
    returns the screenshot's
    name when there is one to show."""
    for path in sorted((SPACES / name).iterdir()):
        if path.is_file() and path.suffix in (".py", ".txt", ".png"):
            shutil.copyfile(path, out / path.name)
    files = {"test_split": data_file("test"), "benchmark": BENCHMARK_FILE, "leaderboard": LEADERBOARD_FILE}
    (out / "space.json").write_text(json.dumps({**space, "files": files}, indent=2) + "\n")
    return SCREENSHOT if (out / SCREENSHOT).is_file() else None


def _export_metric(out: Path, ids: dict[str, dict], latent_dims: dict[str, int]) -> None:
    """The metric Space: the package's metric script knowing each config's class VAE, the app, the card."""
    script = (Path(METRIC_PATH) / METRIC_SCRIPT).read_text()
    if script.count(_DEFAULT_LINE) != 1:  # the one line that differs; a test keeps it there
        raise LDMNISTError(f"{METRIC_PATH}/{METRIC_SCRIPT} has no line {_DEFAULT_LINE.strip()!r} to fill in.")
    (out / METRIC_SCRIPT).write_text(script.replace(_DEFAULT_LINE, class_vaes_line(ids)))
    default = ids[DEFAULT_CONFIG]
    configs = {name: {"latent_dim": latent_dims[name], "prefix": config_prefix(name)} for name in ids}
    screenshot = _space_files("metric", out, {"dataset": default["dataset"], "configs": configs})
    class_vaes = [i["class_vae"] for i in ids.values()]
    (out / CARD).write_text(render_metric_card(default, class_vaes, screenshot))


def _export_explorer(out: Path, ids: dict) -> None:
    """The explorer Space: the app, its numpy decoders, the repositories it reads, its card."""
    space = {
        "dataset": ids["dataset"],
        "prefix": "",
        "image_vae": ids["image_vae"],
        "class_vae": ids["class_vae"],
        "mnist": "ylecun/mnist",
    }
    screenshot = _space_files("explorer", out, space)
    (out / CARD).write_text(render_explorer_card(ids, screenshot))
