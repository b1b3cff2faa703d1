"""What a submission writes into a model repository, in the Hub's formats: the predictions as Parquet, the
card's `model-index`, `.eval_results/ldmnist-CONFIG.yaml` and the card's results table. `ldmnist submit`
uploads them; `ldmnist export` writes the same files for the benchmark's baselines; the leaderboard reads them.

A sibling's (LD-Fashion-MNIST's) files are named after its family, `ld-fashion-mnist/predictions-CONFIG.parquet`
and `.eval_results/ld-fashion-mnist-CONFIG.yaml`, so that one model repository holds results on both.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..errors import LDMNISTError, first_line
from ..registry import DEFAULT_CONFIG, family
from ..rendering import LICENSE, TEMPLATES, read_block, with_block
from ..rendering.texts import source_texts
from .auth import public_url
from .scoring import TestSplit

SUBMISSION_TITLE = "LD-MNIST submission: "  # the dataset discussion that points to a pull-request submission


METRICS = ("mse", "reconstructed_accuracy")


# Each score's metric id in a card's `model-index` (ids of the evaluate metrics on the Hub): reconstructed
# accuracy is an accuracy; its `name` says which one.
METRIC_IDS = {"mse": "mse", "reconstructed_accuracy": "accuracy"}
# A card's `model-index` metric type -> the score it reports (cards written before the metric ids: their names).
METRIC_OF = {**{v: k for k, v in METRIC_IDS.items()}, **{m: m for m in METRICS}}


@contextlib.contextmanager
def predictions_are_intended():
    """Silences huggingface_hub's warning about a data file in a model repository: the predictions file of a
    submission belongs there."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*commit a data file.*", category=UserWarning)
        yield


def predictions_file(config: str, source: str = "mnist") -> str:
    """Where a submission's predictions for a config lie in its repository (per source dataset's family).

    >>> predictions_file("default"), predictions_file("default", "fashion-mnist")
    ('ldmnist/predictions-default.parquet', 'ld-fashion-mnist/predictions-default.parquet')
    """
    return f"{family(source).name}/predictions-{config}.parquet"


def eval_results_file(config: str, source: str = "mnist") -> str:
    """Where a submission's `.eval_results` rows for a config lie (per source dataset's family)."""
    return f".eval_results/{family(source).name}-{config}.yaml"


def ld_title(source: str = "mnist") -> str:
    """How texts name a source dataset's LD version: `LD-MNIST`, `LD-Fashion-MNIST`."""
    return source_texts({"args": {"source": source}})["ld"]


def task_id(config: str, metric: str) -> str:
    """The `.eval_results` task id of one config and metric: `default-mse`, `reference-reconstructed_accuracy`
    (the dataset publishes no `eval.yaml`: docs/publishing.md)."""
    return f"{config}-{metric}"


def predictions_parquet(predictions: np.ndarray) -> bytes:
    """The predictions as `ldmnist submit` uploads them: `index` 0..N-1 and a fixed-size list `prediction`."""
    values = pa.array(np.ascontiguousarray(predictions, np.float32).reshape(-1), pa.float32())
    table = pa.table(
        {
            "index": pa.array(np.arange(len(predictions), dtype=np.int32)),
            "prediction": pa.FixedSizeListArray.from_arrays(values, predictions.shape[1]),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _results(split: TestSplit, scores: dict, source_url: str) -> list[EvalResult]:
    names = {"mse": "MSE of predicted vs test y", "reconstructed_accuracy": "reconstructed accuracy"}
    return [
        EvalResult(
            task_type="tabular-regression",
            dataset_type=split.dataset,
            dataset_name=ld_title(split.source),
            dataset_config=split.config,
            dataset_split="test",
            dataset_revision=split.revision,
            metric_type=METRIC_IDS[m],
            metric_name=names[m],
            metric_value=scores[m],
            source_name="ldmnist submit: test-split predictions",
            source_url=source_url,
        )
        for m in METRICS
    ]


def eval_results_yaml(split: TestSplit, scores: dict, source_url: str, user: str | None = None) -> str:
    """One row per task, in the Hub's `.eval_results/*.yaml` format: only the keys its specification has
    (`dataset.id`, `dataset.task_id`, `dataset.revision`, `value`, `source.url`/`name`/`user`, `notes`); which
    way is better goes into `notes`, since the format has no field for it (docs/publishing.md)."""
    source = {
        "url": source_url,
        "name": f"{ld_title(split.source)} test-split predictions",
        **({"user": user} if user else {}),
    }
    rows = [
        {
            "dataset": {
                "id": split.dataset,
                "task_id": task_id(split.config, m),
                **({"revision": split.revision} if split.revision else {}),  # an export: set by `push`
            },
            "value": scores[m],
            "source": source,
            "notes": f"config {split.config}; {'lower' if m == 'mse' else 'higher'} is better",
        }
        for m in METRICS
    ]
    return yaml.safe_dump(rows, sort_keys=False)


def results_table(eval_results) -> str:
    """The card's table of its LD-MNIST results (every dataset and config its `model-index` holds)."""
    rows: dict[tuple, dict] = {}
    for r in eval_results or []:
        metric = METRIC_OF.get(r.metric_type)
        if metric:
            key = (r.dataset_type, r.dataset_config or DEFAULT_CONFIG, r.dataset_revision)
            rows.setdefault(key, {})[metric] = r.metric_value
    lines = [
        "| dataset | config | MSE (lower is better) | reconstructed accuracy | dataset revision |",
        "|---|---|---:|---:|---|",
    ]
    for (dataset, config, revision), m in rows.items():
        scores = [f"{m[k]:.4f}" if isinstance(m.get(k), int | float) else "" for k in METRICS]
        where = f"`{revision[:12]}`" if revision else "the one `ldmnist push` uploads with it"
        lines.append(f"| {dataset} | `{config}` | {scores[0]} | {scores[1]} | {where} |")
    return "\n".join(lines)


def submission_card(
    repo: str,
    split: TestSplit,
    scores: dict,
    source_url: str,
    existing: str | None = None,
    description: str = "",
) -> str:
    """The model card with this submission's results: the existing card, its results for this dataset and
    config replaced, or a new card."""
    new = _results(split, scores, source_url)
    if existing:
        try:
            card = ModelCard(existing)
        except Exception as e:  # noqa: BLE001 - the card's YAML is the submitter's own
            raise LDMNISTError(
                f"The model card of {repo} cannot be read ({first_line(e)}); fix its YAML header first."
            ) from e
        kept = [
            r
            for r in card.data.eval_results or []
            if not (r.dataset_type == split.dataset and (r.dataset_config or DEFAULT_CONFIG) == split.config)
        ]
        card.data.eval_results = kept + new
        card.data.model_name = card.data.model_name or repo.split("/")[1]
        datasets = list(card.data.datasets or [])
        card.data.datasets = datasets + [split.dataset] if split.dataset not in datasets else datasets
        card.data.tags = sorted(set(card.data.tags or []) | {"ldmnist"})
        if read_block(card.text, "ldmnist-results") is not None:  # the card's table, of all its results
            card.text = with_block(card.text, "ldmnist-results", results_table(card.data.eval_results))
        return str(card)
    data = ModelCardData(
        model_name=repo.split("/")[1],
        license=LICENSE,
        datasets=[split.dataset],
        tags=["ldmnist"],
        eval_results=new,
    )
    return str(
        ModelCard.from_template(
            data,
            template_path=str(TEMPLATES / "submission_card.md"),
            model_name=repo.split("/")[1],
            dataset=split.dataset,
            results_table=results_table(new),
            description=description,
            ld=ld_title(split.source),
            predictions=predictions_file("<config>", split.source),
        )
    )


def submission_files(
    repo: str,
    split: TestSplit,
    predictions: np.ndarray,
    scores: dict,
    endpoint: str,
    existing_card=None,
    description: str = "",
    revision: str = "main",
    user: str | None = None,
) -> dict[str, bytes]:
    """Every file one submission writes into the model repository (also the baselines' repos of an export).

    `revision` is where the files will be (`main`, or a pull request's `refs/pr/N`): the results link to the
    predictions file there. `user` is credited in the results (`source.user`)."""
    path = predictions_file(split.config, split.source)
    url = f"{public_url(endpoint)}/{repo}/blob/{quote(revision, safe='')}/{path}"
    return {
        path: predictions_parquet(predictions),
        eval_results_file(split.config, split.source): eval_results_yaml(split, scores, url, user).encode(),
        "README.md": submission_card(repo, split, scores, url, existing_card, description).encode(),
    }
