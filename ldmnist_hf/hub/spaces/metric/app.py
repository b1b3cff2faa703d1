"""The LD-MNIST metric Space: upload predictions for the test split, get their scores and their rank.

Runs as the Hub runs a Gradio Space (`python app.py`, this folder as it is in the Space repository): the
metric script `ldmnist.py` beside it, `space.json` naming the dataset and its configs. The test split's
targets and labels, the benchmark table and the leaderboard come from the dataset repository.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import gradio as gr
import pandas as pd
import pyarrow.parquet as pq
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError

from ldmnist import CLASS_VAES, PREDICTION_FORMATS, load_class_decoder, read_predictions, score, validate

HERE = Path(__file__).parent
SPACE = json.loads((HERE / "space.json").read_text())
DATASET = SPACE["dataset"]
CONFIGS = SPACE["configs"]  # name -> {"latent_dim", "prefix"}
_cache: dict[str, dict] = {}
_FROM = {"floor": "noise floor", "reference": "published in 2020", "baseline": "baseline of the dataset card"}


def _dataset_file(name: str) -> str | None:
    try:
        return hf_hub_download(DATASET, name, repo_type="dataset")
    except EntryNotFoundError:
        return None


def _config(name: str) -> dict:
    """The test split's targets and labels, the class decoder and the ranked rows of one config (cached)."""
    if name not in _cache:
        prefix = CONFIGS[name]["prefix"]
        table = pq.read_table(
            _dataset_file(f"{prefix}data/test-00000-of-00001.parquet"), columns=["y", "label"]
        )
        y = table.column("y").combine_chunks()
        references = y.flatten().to_numpy().reshape(len(y), -1)
        rows, ranked = [], []
        board = _dataset_file("leaderboard.json")
        for row in json.loads(Path(board).read_text()).get("rows", []) if board else []:
            if row.get("config") == name:
                ranked.append(row)
                if row.get("mse") is not None:
                    rows.append((row["model"], row["mse"], row.get("reconstructed_accuracy"), row["status"]))
        bench = _dataset_file(f"{prefix}benchmark.json")
        for row in json.loads(Path(bench).read_text())["rows"] if bench else []:
            # the noise floors always; the baselines and 2020 rows only until the leaderboard lists them
            if row.get("kind") == "floor" or not board:
                rows.append(
                    (
                        row["model"],
                        row["mse"],
                        row.get("reconstructed_accuracy"),
                        _FROM.get(row.get("kind"), "dataset card"),
                    )
                )
        _cache[name] = {
            "references": references,
            "labels": table.column("label").to_numpy(),
            "decoder": load_class_decoder(CLASS_VAES[name]),
            "rows": rows,
            "leaderboard": ranked,
        }
    return _cache[name]


def _table(rows: list[tuple]) -> pd.DataFrame:
    ordered = sorted(rows, key=lambda r: r[1])
    return pd.DataFrame(
        [
            (
                i + 1,
                model,
                f"{mse:.4f}",
                "" if acc is None or (isinstance(acc, float) and math.isnan(acc)) else f"{acc:.4f}",
                src,
            )
            for i, (model, mse, acc, src) in enumerate(ordered)
        ],
        columns=["rank", "model", "MSE (lower is better)", "reconstructed accuracy", "from"],
    )


def score_file(file, config: str):
    """Scores an uploaded predictions file; returns the result text and the table with its rank."""
    empty = pd.DataFrame()
    if file is None:
        return "**Error:** upload a predictions file first (.npy, .csv or .parquet).", empty
    path = file if isinstance(file, str) else getattr(file, "name", str(file))
    try:
        c = _config(config)
        n, latent_dim = c["references"].shape
        predictions = read_predictions(path, shape=(n, latent_dim))  # another shape: refused, not decoded
        p, r, y = validate(predictions, c["references"], c["labels"])
        result = score(p, r, y, c["decoder"], CLASS_VAES[config])
    except ValueError as e:
        return f"**Error:** {e} (`{os.path.basename(path)}`)", empty
    table = _table(
        [*c["rows"], ("your predictions", result["mse"], result["reconstructed_accuracy"], "this upload")]
    )
    rank = int(table.index[table["model"] == "your predictions"][0]) + 1
    text = (
        f"`{os.path.basename(path)}`: **MSE {result['mse']:.4f}**, **reconstructed accuracy {result['reconstructed_accuracy']:.4f}** on the "
        f"`{config}` test split ({n} rows): rank {rank} of {len(table)} in the table below. Unrounded: MSE "
        f"<span id='mse'>{result['mse']!r}</span>, reconstructed accuracy "
        f"<span id='accuracy'>{result['reconstructed_accuracy']!r}</span>."
    )
    return text, table


def _number(value) -> str:
    return "" if value is None else f"{value:.4f}"


def leaderboard(config: str) -> pd.DataFrame:
    """The dataset's leaderboard (`ldmnist leaderboard --push`) for one config, as it ranks and labels it."""
    rows = [
        (
            r.get("rank") or "",
            r["model"],
            _number(r.get("mse")),
            _number(r.get("reconstructed_accuracy")),
            r["status"],
            r.get("reason", ""),
        )
        for r in _config(config)["leaderboard"]
    ]
    if not rows:
        return pd.DataFrame({"leaderboard": ["no leaderboard yet: `ldmnist leaderboard --push` makes one"]})
    columns = ["rank", "model", "MSE (lower is better)", "reconstructed accuracy", "status", "note"]
    return pd.DataFrame(rows, columns=columns)


with gr.Blocks(title="LD-MNIST metric") as demo:
    gr.Markdown(
        f"# LD-MNIST metric\n\nScores predictions of `y` for the test split of [{DATASET}]"
        f"(https://huggingface.co/datasets/{DATASET}): the MSE against the dataset's `y`, and the reconstructed "
        "accuracy (the class VAE's decoder applied to your predictions, compared with the labels). Upload a "
        f"{', '.join(PREDICTION_FORMATS)} file of shape (10000, latent size), rows in the test split's order."
    )
    with gr.Row():
        config = gr.Dropdown(choices=list(CONFIGS), value="default", label="dataset config", elem_id="config")
        upload = gr.File(label="predictions", file_types=list(PREDICTION_FORMATS), elem_id="predictions")
    button = gr.Button("Score", variant="primary", elem_id="score")
    result = gr.Markdown(elem_id="result")
    ranking = gr.Dataframe(label="where it ranks", interactive=False, elem_id="ranking")
    button.click(score_file, [upload, config], [result, ranking])
    with gr.Accordion(
        "Leaderboard (recomputed from the submitted predictions)", open=False, elem_id="leaderboard-panel"
    ):
        board = gr.Dataframe(interactive=False, elem_id="leaderboard")
    config.change(leaderboard, config, board)
    demo.load(leaderboard, config, board)

if __name__ == "__main__":
    demo.launch()
