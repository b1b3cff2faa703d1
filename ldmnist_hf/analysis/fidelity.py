"""How close the 2020 recipe, rerun here, comes to the 2020 publication: the fidelity table.

Three columns side by side: the figures the 2020 README published, the 2020 recipe rerun with this
package (`ldmnist train --recipe reference`, released as model set `reference`), and the fast recipe
whose weights ship by default. Each column's figures come from files that commands wrote: the models'
`evaluation*.json` (`ldmnist release`), a dataset folder built with those models (`ldmnist build`) and
its `benchmark.json` (`ldmnist benchmark`). `fidelity_table` computes, `rendering.fidelity_markdown`
renders.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data.read import load_latents, read_build_info, verify_dataset
from ..data.reference_2020 import reference_2020
from ..data.schema import BENCHMARK_FILE
from ..errors import LDMNISTError
from ..files.atomic import atomic_write_text
from ..files.paths import read_json_object, require_source_checkout
from ..training.arguments import recipe_differences


def _evaluated(evaluation: dict, key: str) -> dict:
    """What an evaluation records of one of its models (`folder`, `sha256`); empty where it records none."""
    return (evaluation.get("models") or {}).get(key) or {}


def _column(evaluation_file: str | Path, dataset_dir: str | Path) -> dict:
    """One column's figures: the models' evaluation and the dataset's statistics and benchmark rows."""
    evaluation_file, dataset_dir = Path(evaluation_file), Path(dataset_dir)
    first = "run `ldmnist release` for the models and `ldmnist benchmark` for the dataset first."
    evaluation = read_json_object(
        evaluation_file, fix=first, missing=f"{evaluation_file} is missing: {first}"
    )
    metrics = evaluation.get("metrics")
    if not isinstance(metrics, dict):
        raise LDMNISTError(f"{evaluation_file} holds no `metrics`: it is not an evaluation; {first}")
    bench_file = dataset_dir / BENCHMARK_FILE
    bench = read_json_object(bench_file, fix=first, missing=f"{bench_file} is missing: {first}")
    verify_dataset(dataset_dir)
    record = read_build_info(dataset_dir)
    for key in ("image_vae", "class_vae"):  # the column's dataset must be made by the column's models
        evaluated = _evaluated(evaluation, key)
        if evaluated.get("sha256") and evaluated["sha256"] != record.get(f"{key}_sha256"):
            raise LDMNISTError(
                f"{dataset_dir} was built with the {key} {record.get(f'{key}_source')!r}, not with the "
                f"{evaluated.get('folder')!r} that {evaluation_file.name} evaluates: give each column the dataset "
                f"its own models built (were the two datasets swapped?)."
            )
    x, y = load_latents(dataset_dir, "train", check_finite=True)
    rows = {r["key"]: r for r in bench["rows"]}
    return {
        "seed": ((evaluation.get("training") or {}).get("args") or {}).get("seed"),
        # which run this column is (`--record-seed` columns name the shipped run they are seeds of by this)
        "image_vae_sha256": _evaluated(evaluation, "image_vae").get("sha256"),
        "class_mean": metrics["class_vae_accuracy_mean"],
        "class_std": metrics["class_vae_accuracy_std"],
        "joint": metrics["middle_layers_accuracy"],
        "x_components": metrics["x_informative_components"],
        "y_components": metrics["y_informative_components"],
        "x_mean": float(np.mean(x, dtype=np.float64)),
        "x_std": float(np.std(x, dtype=np.float64)),
        "y_mean": float(np.mean(y, dtype=np.float64)),
        "y_std": float(np.std(y, dtype=np.float64)),
        "benchmark": {k: rows[k] for k in ("linear", "mlp", "middle") if k in rows},
        "mlp_recipe": bench.get("mlp_recipe", "fast"),
    }


def fidelity_table(
    rerun_evaluation: str | Path,
    rerun_dataset: str | Path,
    fast_evaluation: str | Path,
    fast_dataset: str | Path,
) -> dict:
    """The columns: `published` (2020), `rerun` (the 2020 recipe here), the `recorded` ones (`{name: column}`),
    `fast` (shipped default)."""
    ref = reference_2020()
    pub = ref["published"]
    bench = {r["key"].removeprefix("reference_"): r for r in pub["benchmark"]}
    published = {
        "class_mean": pub["class_vae_accuracy"],
        "class_std": None,
        "joint": pub["middle_layers_accuracy"],
        "x_components": ref["x_informative_components"],
        "y_components": ref["y_informative_components"],
        "x_mean": ref["x"]["mean"],
        "x_std": ref["x"]["std"],
        "y_mean": ref["y"]["mean"],
        "y_std": ref["y"]["std"],
        "benchmark": bench,
        "mlp_recipe": "reference",
    }
    return {
        "published": published,
        "rerun": _column(rerun_evaluation, rerun_dataset),
        "recorded": recorded_columns(),
        "fast": _column(fast_evaluation, fast_dataset),
    }


# Columns recorded from runs that are not shipped (the plateau rerun the reference set replaced, the 2020 code
# run under TensorFlow): written by `ldmnist fidelity --record-rerun-as` / `--record-tf-run` in a source
# checkout, shown between the rerun and the fast recipe. `--record-seed` columns (other seeds of the shipped
# rerun, `seed_of` its image VAE's sha256) show as one lowest-to-highest column beside it.
RECORDED_COLUMNS = Path(__file__).resolve().parent.parent / "data" / "fidelity_columns.json"


def recorded_columns(path: str | Path = RECORDED_COLUMNS) -> dict:
    """`{name: column}` of the recorded columns, in the order they were recorded (none when no file)."""
    path = Path(path)
    if not path.exists():
        return {}
    columns = read_json_object(path, fix="restore it from the repository (git checkout).").get("columns")
    if not isinstance(columns, dict) or not all(
        isinstance(c, dict) and "title" in c for c in columns.values()
    ):
        raise LDMNISTError(f"{path} holds no `columns` of titled figures; restore it from the repository.")
    return columns


def record_column(
    name: str, title: str, column: dict, source: str, path: str | Path = RECORDED_COLUMNS
) -> None:
    """Adds (or replaces) a recorded column; the package's own file only in a source checkout."""
    path = Path(path)
    if path == RECORDED_COLUMNS:
        require_source_checkout("a recorded fidelity column")
    columns = recorded_columns(path)
    columns[name] = {**column, "title": title, "source": source}
    atomic_write_text(path, json.dumps({"columns": columns}, indent=2, allow_nan=False) + "\n")


def seed_of_recipe(evaluation_file: str | Path, shipped_evaluation_file: str | Path) -> tuple[int, str]:
    """The seed of the run that `evaluation_file` evaluates, after checking that it is another seed of the
    shipped run's recipe (`shipped_evaluation_file`): every setting that shapes training equal, the seed not."""
    fix = "give the evaluation.json that `ldmnist release --run RUN` wrote."
    args, evaluations = [], []
    for path in (evaluation_file, shipped_evaluation_file):
        evaluation = read_json_object(path, fix=fix)
        training = evaluation.get("training")
        if not isinstance(training, dict) or not isinstance(training.get("args"), dict):
            raise LDMNISTError(f"{path} records no training arguments: {fix}")
        args.append(training["args"])
        evaluations.append(evaluation)
    shipped_id = _evaluated(evaluations[1], "image_vae").get("sha256")
    if not shipped_id:
        raise LDMNISTError(f"{shipped_evaluation_file} records no image VAE sha256: {fix}")
    mine, shipped = args
    differ = recipe_differences(shipped, mine, also_free=frozenset({"seed"}))
    if differ:
        raise LDMNISTError(
            f"{evaluation_file} is not a seed of the shipped run's recipe (shipped -> this run: "
            f"{'; '.join(differ)}); record it as a column of its own with --record-rerun-as."
        )
    if mine.get("seed", 0) == shipped.get("seed", 0):
        raise LDMNISTError(
            f"{evaluation_file} ran seed {mine.get('seed', 0)}, the shipped run's own: give another seed's run."
        )
    return int(mine.get("seed", 0)), shipped_id


def tf_run_column(folder: str | Path) -> dict:
    """The figures of a run of the 2020 code under TensorFlow (`docs/tf_2020_code.py --out FOLDER`): its last
    epoch's test accuracies (one draw), its statistics and its closed-form linear regression."""
    folder = Path(folder)
    fix = "run docs/tf_2020_code.py to its end with --out pointing there."
    result = read_json_object(
        folder / "result.json", fix=fix, missing=f"{folder} holds no result.json: {fix}"
    )
    lines = (folder / "metrics.jsonl").read_text().splitlines() if (folder / "metrics.jsonl").exists() else []
    if not lines:
        raise LDMNISTError(f"{folder} holds no metrics.jsonl of the run's epochs: {fix}")
    last = json.loads(lines[-1])
    return {
        "class_mean": last["val/class_vae/reconstruction_accuracy"],
        "class_std": None,
        "joint": last["val/class/accuracy"],
        "x_components": result["x_informative_components"],
        "y_components": result["y_informative_components"],
        "x_mean": result["x_mean_std"][0],
        "x_std": result["x_mean_std"][1],
        "y_mean": result["y_mean_std"][0],
        "y_std": result["y_mean_std"][1],
        "benchmark": {"linear": {"key": "linear", **result["linear_closed_form"]}},
        "mlp_recipe": "none",
        "epochs": result["epochs"],
    }
