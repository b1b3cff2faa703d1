"""The LD-MNIST metric Space: upload predictions for the test split, get their scores and where they rank.

Runs as the Hub runs a Gradio Space (`python app.py`, this folder as it is in the Space repository): the
metric script `ldmnist.py` beside it (a sibling's, such as LD-Fashion-MNIST's, is named after its Space, as
evaluate loads it: `space.json`'s `metric_script`), `space.json` naming the dataset and its configs. Everything it shows
comes from the dataset repository as published now: the test split's targets and labels, the benchmark's
noise floors and the 2020 rows (`benchmark.json`), and the leaderboard (`leaderboard.json`, schema version 2:
its rows, ranks, statuses and what each status means). The dataset's revision is read again when it may have
changed (at most every `LDMNIST_REFRESH_SECONDS`, default 10), so a push of the dataset or of its leaderboard
shows without a restart.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

import gradio as gr
import pandas as pd
import pyarrow.parquet as pq
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError

HERE = Path(__file__).parent
SPACE = json.loads((HERE / "space.json").read_text())
TITLE = SPACE.get("source", {}).get("ld", "LD-MNIST")  # a sibling's space.json names its dataset


def _metric_script():
    """The metric script beside this file (`space.json`'s `metric_script`, `ldmnist.py` for LD-MNIST), as a
    module: a sibling's is named after its Space (`ld-fashion-mnist.py`), which no import statement can name."""
    path = HERE / SPACE.get("metric_script", "ldmnist.py")
    spec = importlib.util.spec_from_file_location("ldmnist_metric_script", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_METRIC = _metric_script()
CLASS_VAES, NOISE_Z_LIMIT, PREDICTION_FORMATS = (
    _METRIC.CLASS_VAES,
    _METRIC.NOISE_Z_LIMIT,
    _METRIC.PREDICTION_FORMATS,
)
load_class_decoder, read_predictions, score = (
    _METRIC.load_class_decoder,
    _METRIC.read_predictions,
    _METRIC.score,
)
target_noise_z, validate = _METRIC.target_noise_z, _METRIC.validate
DATASET = SPACE["dataset"]
CONFIGS = SPACE["configs"]  # name -> {"latent_dim", "prefix"}
FILES = SPACE["files"]  # the names of the dataset repository's files: test_split, benchmark, leaderboard
REFRESH_SECONDS = float(os.environ.get("LDMNIST_REFRESH_SECONDS", "10"))
REQUEST_TIMEOUT = 10  # seconds the Hub gets to say which commit is current
LEADERBOARD_SCHEMA = 2  # the leaderboard.json version this app reads
HUB = "https://huggingface.co"
_URL = re.compile(r"https?://[\w.:@%/~+-]+")  # a row's link, when it is a plain URL

_lock = threading.Lock()
_state: dict = {"revision": None, "checked": -float("inf"), "configs": {}, "boards": {}}


def _revision() -> str:
    """The dataset's current commit, asked again at most every `REFRESH_SECONDS` (with a timeout, outside the
    lock: a Hub that does not answer never blocks the page); a new commit empties the cache."""
    with _lock:
        if time.monotonic() - _state["checked"] < REFRESH_SECONDS and _state["revision"] is not None:
            return _state["revision"]
    try:
        sha = HfApi().dataset_info(DATASET, timeout=REQUEST_TIMEOUT).sha
    except Exception:  # noqa: BLE001 - the Hub unreachable for a moment: keep serving what we have
        sha = None
    with _lock:
        if sha is None and _state["revision"] is None:
            raise gr.Error(
                f"The dataset {DATASET} cannot be read from the Hub right now; try again in a minute."
            )
        if sha is not None and sha != _state["revision"]:
            _state.update(revision=sha, configs={}, boards={})
        _state["checked"] = time.monotonic()
        return _state["revision"]


def _dataset_file(name: str, revision: str) -> str | None:
    try:
        return hf_hub_download(DATASET, name, repo_type="dataset", revision=revision)
    except EntryNotFoundError:
        return None


def _board(revision: str) -> dict | None:
    """The published leaderboard at `revision`, if it has one this app can read."""
    if revision not in _state["boards"]:
        path = _dataset_file(FILES["leaderboard"], revision)
        board = json.loads(Path(path).read_text()) if path else None
        if board is not None and board.get("schema_version") != LEADERBOARD_SCHEMA:
            board = None  # written by another version: not shown rather than misread
        _state["boards"][revision] = board
    return _state["boards"][revision]


def _config(name: str) -> dict:
    """One config at the current revision: test targets, labels, class decoder, benchmark rows (cached)."""
    revision = _revision()
    key = (name, revision)  # by revision: a request that began before a push never fills the new cache
    if key not in _state["configs"]:
        prefix = CONFIGS[name]["prefix"]
        test = _dataset_file(prefix + FILES["test_split"], revision)
        table = pq.read_table(test, columns=["y", "y_mean", "y_std", "label"])
        y, y_mean, y_std = (table.column(n).combine_chunks() for n in ("y", "y_mean", "y_std"))
        bench = _dataset_file(prefix + FILES["benchmark"], revision)
        _state["configs"][key] = {
            "revision": revision,
            "references": y.flatten().to_numpy().reshape(len(y), -1),
            "posterior": tuple(c.flatten().to_numpy().reshape(len(y), -1) for c in (y_mean, y_std)),
            "labels": table.column("label").to_numpy(),
            "decoder": load_class_decoder(CLASS_VAES[name]),
            "benchmark": json.loads(Path(bench).read_text())["rows"] if bench else None,
        }
    return _state["configs"][key]


def _number(value) -> str:
    return "" if value is None else f"{value:.4f}"


def _link(row: dict) -> str:
    """A model's name as a link to its repository (or to the pull request that submitted it)."""
    model = html.escape(str(row["model"]))
    if row.get("status") == "published":
        return model
    url = row.get("url") or ""
    return f"[{model}]({url if _URL.fullmatch(url) else f'{HUB}/{model}'})"


def _ranked(board: dict | None, config: str) -> list[dict]:
    """The leaderboard's ranked rows of a config (those it gave a rank), best first."""
    rows = [r for r in (board or {}).get("rows", []) if r.get("config") == config and r.get("rank")]
    return sorted(rows, key=lambda r: r["rank"])


def _references(c: dict, board: dict | None, config: str) -> list[tuple]:
    """Rows shown beside a score without a rank: the noise floors and the 2020 publication's figures."""
    refs = [
        (r["model"], r["mse"], r.get("reconstructed_accuracy"), "noise floor")
        for r in c["benchmark"] or []
        if r.get("kind") == "floor"
    ]
    published = [
        r for r in (board or {}).get("rows", []) if r.get("config") == config and r["status"] == "published"
    ]
    refs += [
        (r["model"], r["mse"], r.get("reconstructed_accuracy"), "2020 publication, its own dataset")
        for r in published
    ]
    return refs


def _uses_targets(predictions, c: dict, board: dict | None, config: str, mse: float) -> str | None:
    """The leaderboard's check (`uses-targets`): an MSE below the published noise floor by more than its
    tolerance, or predictions that follow the random noise of the targets."""
    floor = (board or {}).get("floors", {}).get(config)
    if floor and mse < floor["mse"] - floor["tolerance"]:
        return f"MSE below the noise floor {floor['mse']:.4f} by more than {floor['tolerance']:.4f}"
    z = target_noise_z(predictions, c["references"], *c["posterior"])
    if z > NOISE_Z_LIMIT:
        return f"they follow the random noise of `y` by {z:.1f} standard errors"
    return None


def score_file(file, config: str):
    """Scores an uploaded predictions file: the result text and the table of where it ranks."""
    hidden = gr.update(value=None, visible=False)
    if file is None:
        return "**Error:** upload a predictions file first (.npy, .csv or .parquet).", hidden
    path = file if isinstance(file, str) else getattr(file, "name", str(file))
    try:
        c = _config(config)
        n, latent_dim = c["references"].shape
        predictions = read_predictions(path, shape=(n, latent_dim))  # another shape: refused, not decoded
        p, r, y = validate(predictions, c["references"], c["labels"])
        result = score(p, r, y, c["decoder"], CLASS_VAES[config])
    except ValueError as e:
        return f"**Error:** {html.escape(str(e))} (`{html.escape(os.path.basename(path))}`)", hidden
    board = _board(c["revision"])
    ranked = _ranked(board, config)
    mse, accuracy = result["mse"], result["reconstructed_accuracy"]
    used = _uses_targets(p, c, board, config, mse)
    rows = [
        (r["rank"], _link(r), _number(r["mse"]), _number(r.get("reconstructed_accuracy")), "leaderboard")
        for r in ranked
    ]
    if used:  # what the leaderboard would say: no rank
        where = f"these predictions use the public test targets ({used}): the leaderboard would not rank them"
        rows.append(("", "**your predictions**", _number(mse), _number(accuracy), "this upload"))
    elif ranked:
        place = 1 + sum(r["mse"] < mse for r in ranked)
        where = f"it would rank **{place} of {len(ranked) + 1}** among the leaderboard's ranked rows"
        rows.insert(place - 1, ("", "**your predictions**", _number(mse), _number(accuracy), "this upload"))
        rows = [(i + 1, *row[1:]) for i, row in enumerate(rows)]
    else:
        where = "the leaderboard of this config ranks no submission yet, so there is nothing to rank against"
        rows.append(("", "**your predictions**", _number(mse), _number(accuracy), "this upload"))
    rows += [
        ("", html.escape(m), _number(v), _number(a), kind) for m, v, a, kind in _references(c, board, config)
    ]
    text = (
        f"`{html.escape(os.path.basename(path))}` on the `{config}` test split ({n} rows) of {DATASET} at "
        f"revision `{c['revision'][:12]}`: **MSE {mse:.4f}**, **reconstructed accuracy {accuracy:.4f}**; {where}. "
        f"Unrounded: MSE <span id='mse'>{mse!r}</span>, reconstructed accuracy <span id='accuracy'>{accuracy!r}</span>."
    )
    table = pd.DataFrame(
        rows, columns=["rank", "model", "MSE (lower is better)", "reconstructed accuracy", "from"]
    )
    return text, gr.update(value=table, visible=True)


def leaderboard(config: str):
    """The published leaderboard of one config, as it ranked and labelled it, and what it checked."""
    board = _board(_revision())
    rows = [r for r in (board or {}).get("rows", []) if r.get("config") == config]
    if not rows:
        text = f"No submission to the `{config}` config is on the leaderboard yet."
        return text, gr.update(value=None, visible=False)
    statuses = board.get("statuses", {})
    shown = [s for s in statuses if any(r["status"] == s for r in rows)]
    legend = "; ".join(f"**{s}**: {html.escape(statuses[s]['meaning'])}" for s in shown)
    floor = board.get("floors", {}).get(config)
    floor_text = (
        f" Noise floor of this config: MSE {floor['mse']:.4f} (tolerance {floor['tolerance']:.4f})."
        if floor
        else ""
    )
    text = (
        f"Recomputed on dataset revision `{board['revision'][:12]}`. {html.escape(board.get('checked', ''))}"
        f"{floor_text}"
        f"\n\n{legend}."
    )
    note = [
        "; ".join(
            x
            for x in (
                r.get("source") if r.get("source") not in ("main", "published in 2020") else "",
                f"by @{r['user']}" if r.get("user") else "",
                r.get("reason", ""),
            )
            if x
        )
        for r in rows
    ]
    table = pd.DataFrame(
        [
            (
                r.get("rank") or "",
                _link(r),
                _number(r.get("mse")),
                _number(r.get("reconstructed_accuracy")),
                r["status"],
                n,  # a plain-text column: shown as it is
            )
            for r, n in zip(rows, note)
        ],
        columns=["rank", "model", "MSE", "reconstructed accuracy", "status", "note"],
    )
    return text, gr.update(value=table, visible=True)


_CSS = """
#leaderboard table, #ranking table { table-layout: auto; width: 100%; }
#leaderboard td, #ranking td { white-space: normal; overflow-wrap: anywhere; }
"""

with gr.Blocks(title=f"{TITLE} metric") as demo:
    gr.Markdown(
        f"# {TITLE} metric\n\nScores predictions of `y` for the test split of [{DATASET}]"
        f"({HUB}/datasets/{DATASET}): the MSE against the dataset's `y` (lower is better), and the reconstructed "
        "accuracy (the class VAE's decoder applied to your predictions, compared with the labels). Upload a "
        f"{', '.join(PREDICTION_FORMATS)} file of shape (10000, latent size), rows in the test split's order."
    )
    with gr.Row():
        config = gr.Dropdown(choices=list(CONFIGS), value="default", label="dataset config", elem_id="config")
        upload = gr.File(label="predictions", file_types=list(PREDICTION_FORMATS), elem_id="predictions")
    button = gr.Button("Score", variant="primary", elem_id="score")
    result = gr.Markdown(elem_id="result")
    ranking = gr.Dataframe(
        label="where it ranks",
        interactive=False,
        visible=False,
        wrap=True,
        datatype=["str", "markdown", "str", "str", "str"],
        elem_id="ranking",
    )
    button.click(score_file, [upload, config], [result, ranking])
    gr.Markdown("## Leaderboard")
    board_text = gr.Markdown(elem_id="leaderboard-text")
    board = gr.Dataframe(
        interactive=False,
        visible=False,
        wrap=True,
        datatype=["str", "markdown", "str", "str", "str", "str"],
        column_widths=["6%", "30%", "10%", "12%", "12%", "30%"],
        elem_id="leaderboard",
    )
    config.change(leaderboard, config, [board_text, board])
    demo.load(leaderboard, config, [board_text, board])

if __name__ == "__main__":
    demo.launch(css=_CSS)
