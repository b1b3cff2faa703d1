"""Evaluating a training run and writing its models out with model cards (the shipped 32-d models too).

`ldmnist release --run runs/fast32` evaluates the run's models on the MNIST test set, copies them into
`ldmnist_hf/pretrained/<name>-<L>/` (or `--dest`) with a `README.md` model card each, and writes the
same cards to `model_cards/`. Without `--run` it re-evaluates the models already in the destination and
rewrites their cards. Every figure in a card, its `model-index` included, comes from `evaluate_run`.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import numpy as np

from .reference_2020 import reference_2020
from .training_args import INFORMATIVE_STD, MODEL_DIRS, QUALITY_BAR, with_older_defaults
from .utils import LDMNISTError, atomic_dir, atomic_write_text, log, read_json, replace_block, sha256_file

CARD_NAMES = MODEL_DIRS


def middle_layers_mse(models, images, labels, seed: int = 0) -> float:
    """MSE between the middle layers' output on sampled image latents and sampled class latents (one draw).

    `images` float `(N, 784)` in [0, 1], `labels` int64 `(N,)`: the quantity the benchmark scores on the
    dataset's test split, measured here straight from MNIST.
    """
    import torch

    models.eval()
    gen = torch.Generator(images.device).manual_seed(seed)
    with torch.no_grad():
        z_x = models.image_vae.encode(images).latent_dist.sample(gen)
        z_y = models.class_vae.encode(labels).latent_dist.sample(gen)
        prediction = models.middle_layers(z_x).outputs
        return float(((prediction.double() - z_y.double()) ** 2).mean())


def evaluate_run(models, mnist, seed: int = 0, draws: int = 20) -> dict:
    """The figures the cards report, measured on real MNIST.

    Returns test BCE/KL of both VAEs, the class VAE's accuracy from sampled latents (one draw with
    `seed`, and the mean and standard deviation over `draws` draws), the middle layers' accuracy and
    MSE, and the per-component std of sampled image and class latents over the train set.
    """
    from .training import class_accuracy_draws, evaluate_models, latent_std, mnist_tensors

    device = models.image_vae.device
    train_x, train_y, test_x, test_y = mnist_tensors(mnist, str(device))
    one = evaluate_models(models, test_x, test_y, seed=seed)
    accs = class_accuracy_draws(models.class_vae, test_y, draws=draws, seed=seed)
    x_std = latent_std(models.image_vae, train_x, seed=seed)
    y_std = latent_std(models.class_vae, train_y, seed=seed)
    return {
        "image_vae_test_bce": one["image_rec"],
        "image_vae_test_kl": one["image_kl"],
        "class_vae_test_bce": one["class_rec"],
        "class_vae_test_kl": one["class_kl"],
        "class_vae_accuracy": float(accs[0]),
        "class_vae_accuracy_mean": float(np.mean(accs)),
        "class_vae_accuracy_std": float(np.std(accs)),
        "class_vae_accuracy_draws": draws,
        "middle_layers_accuracy": one["middle_layers_accuracy"],
        "middle_layers_test_mse": middle_layers_mse(models, test_x, test_y, seed=seed),
        "x_component_std": [round(float(s), 4) for s in x_std],
        "y_component_std": [round(float(s), 4) for s in y_std],
        "x_components_std_below_0.8": int((x_std < INFORMATIVE_STD).sum()),
        "y_components_std_below_0.8": int((y_std < INFORMATIVE_STD).sum()),
    }


def _recipe_text(summary: dict) -> str:
    a = with_older_defaults(summary["args"])
    command = (
        f"ldmnist train --recipe {a['recipe']} --epochs {a['epochs']} --batch-size {a['batch_size']} "
        f"--learning-rate {a['learning_rate']} --class-vae-learning-rate {a['class_vae_learning_rate']} "
        f"--class-vae-draws {a['class_vae_draws']} --schedule {a['schedule']} --seed {a['seed']}"
    )
    return (
        f"`{command}` on real MNIST (60000 training images): {a['epochs']} epochs, "
        f"batch {a['batch_size']}, Adam lr {a['learning_rate']} (class VAE {a['class_vae_learning_rate']}, "
        f"{a['class_vae_draws']} posterior draw(s) per label) with a {a['schedule']} schedule, seed {a['seed']}, "
        f"layers `{a['layers']}` (Dropout off and BatchNorm on fixed statistics during training, as the "
        f"2020 reference code ran them), classification gradient reaching the VAEs: "
        f"{a['classification_to_vaes']}, sampling `{a['sampling']}`. Training took "
        f"{summary['train_seconds_this_session']:.0f} s on {a['device']}."
    )


_SAMPLING_NOTE = """\
**Sampling parameterisation.** The encoder's second head is called `log_var`. The 2020 reference
samples `z = mean + exp(log_var) * eps` while its KL term treats `log_var` as a log-variance, so the
sampling noise of an informative component is smaller than the KL term assumes: such components end
with a std near 0.67 across the dataset instead of 1. The published dataset depends on this, so these
weights use it (`sampling="reference"` in config.json); `sampling="standard"` (`exp(log_var / 2)`) is
the textbook choice for new models."""


def _eval_results(kind: str, metrics: dict) -> list:
    """The card's `model-index` entries (what the Hub shows as evaluation results), from `evaluate_run`."""
    from huggingface_hub import EvalResult

    common = dict(dataset_type="ylecun/mnist", dataset_name="MNIST", dataset_split="test")
    draws = metrics["class_vae_accuracy_draws"]
    rows = {
        "image_vae": [
            (
                "image-feature-extraction",
                "bce",
                "reconstruction BCE (mean over pixels)",
                "image_vae_test_bce",
            ),
        ],
        "class_vae": [
            (
                "feature-extraction",
                "accuracy",
                f"reconstructed accuracy, mean over {draws} posterior draws",
                "class_vae_accuracy_mean",
            ),
            (
                "feature-extraction",
                "accuracy_std",
                f"reconstructed accuracy, std over {draws} posterior draws",
                "class_vae_accuracy_std",
            ),
        ],
        "middle_layers": [
            (
                "tabular-regression",
                "mse",
                "MSE of predicted vs sampled class latents",
                "middle_layers_test_mse",
            ),
            (
                "tabular-regression",
                "accuracy",
                "reconstructed accuracy (class decoder on the predictions)",
                "middle_layers_accuracy",
            ),
        ],
    }[kind]
    return [
        EvalResult(task_type=task, metric_type=mtype, metric_name=name, metric_value=metrics[key], **common)
        for task, mtype, name, key in rows
    ]


def _use_snippet(kind: str, L: int, repos: dict | None) -> str:
    """The card's "Use" code: the package's shipped folder, or the Hub repos (transformers alone)."""
    if repos is None:
        return (
            f"```python\nimport ldmnist_hf\nfrom transformers import AutoModel\n\n"
            f'model = AutoModel.from_pretrained(ldmnist_hf.pretrained_path("{CARD_NAMES[kind]}-{L}"))\n```'
        )
    load = f'AutoModel.from_pretrained("{repos[kind]}", trust_remote_code=True)'
    if kind == "image_vae":
        code = (
            f"import torch\nfrom datasets import load_dataset\nfrom transformers import AutoModel\n\n"
            f"image_vae = {load}\n"
            f'x = load_dataset("{repos["dataset"]}", split="test").with_format("torch")[:8]["x"]  # (8, {L})\n'
            f"with torch.no_grad():\n"
            f"    images = image_vae.decode(x).sample  # (8, 28, 28) pixel probabilities\n"
            f"    z = image_vae.encode(images).latent_dist.mean  # and back: (8, {L})\n"
        )
    elif kind == "class_vae":
        code = (
            f"import torch\nfrom transformers import AutoModel\n\n"
            f"class_vae = {load}\n"
            f"with torch.no_grad():\n"
            f"    y = class_vae.encode(torch.arange(10)).latent_dist.sample(torch.Generator().manual_seed(0))  # (10, {L})\n"
            f"    classes = class_vae.predict(y)  # tensor([0, 1, ..., 9]): the class decoder\n"
        )
    else:
        code = (
            f"import evaluate\nimport torch\nfrom datasets import load_dataset\nfrom transformers import AutoModel\n\n"
            f"middle_layers = {load}\n"
            f'test = load_dataset("{repos["dataset"]}", split="test").with_format("torch")[:]\n'
            f"with torch.no_grad():\n"
            f'    predictions = middle_layers(test["x"]).outputs  # (10000, {L}) predicted class latents\n'
            f'metric = evaluate.load("{repos["metric"]}")\n'
            f'scores = metric.compute(predictions=predictions, references=test["y"], labels=test["label"])\n'
        )
    return (
        f"```python\n{code}```\n\n`trust_remote_code=True` runs the configuration and modeling code stored "
        f"beside the weights in this repository (nothing else is needed; with the `ldmnist-hf` package installed "
        f"and imported, its own classes are used). Dataset: [{repos['dataset']}]"
        f"(https://huggingface.co/datasets/{repos['dataset']}); metric: [{repos['metric']}]"
        f"(https://huggingface.co/spaces/{repos['metric']})."
    )


def render_model_card(
    kind: str, config: dict, metrics: dict, summary: dict, repos: dict | None = None
) -> str:
    """A model card from `evaluate_run`'s figures, with `model-index` results.

    Args:
        kind (`str`): `"image_vae"`, `"class_vae"` or `"middle_layers"`.
        config (`dict`), metrics (`dict`), summary (`dict`): the model's config, `evaluate_run`'s figures
            and the training run's summary.
        repos (`dict`, *optional*): Hub repository ids (keys `dataset`, `metric`, `image_vae`,
            `class_vae`, `middle_layers`) for a card published on the Hub; `None` for the shipped folders.

    Returns:
        The card's text (YAML front matter + Markdown).
    """
    from huggingface_hub import ModelCard, ModelCardData

    ref = reference_2020()
    pub = ref["published"]
    L = config["latent_dim"]
    data = ModelCardData(
        model_name=repos[kind].split("/")[-1] if repos else f"ldmnist-{CARD_NAMES[kind]}-{L}",
        license="mit",
        library_name="transformers",
        datasets=["ylecun/mnist", *([repos["dataset"]] if repos else [])],
        tags=["ldmnist", "vae", "mnist", "safetensors"],
        eval_results=_eval_results(kind, metrics),
    )
    load = _use_snippet(kind, L, repos)
    if kind == "image_vae":
        title = f"LD-MNIST image VAE ({L}-d)"
        body = (
            f"An MLP VAE that maps a 28x28 MNIST digit to a {L}-d latent vector and back: the `x` side of "
            f"LD-MNIST.\n\nArchitecture (the 2020 reference): flatten 784 -> Dense {config['encoder_hidden_sizes']} "
            f"(ReLU, BatchNorm, Dropout {config['dropout']}) -> Dense {L} mean and Dense {L} `log_var`; decoder "
            f"Dropout -> Dense {config['decoder_hidden_sizes']} (LeakyReLU {config['leaky_relu_slope']}, "
            f"BatchNorm, Dropout) -> Dense 784 sigmoid. Loss: mean binary cross-entropy over pixels + "
            f"{config['kl_weight']} x KL.\n\n"
            f"| measured on the MNIST test set | value |\n|---|---:|\n"
            f"| reconstruction BCE (mean over pixels, sampled latents) | {metrics['image_vae_test_bce']:.4f} |\n"
            f"| KL term (reference form, mean over components) | {metrics['image_vae_test_kl']:.4f} |\n"
            f"| latent components with std < 0.8 over the train set (informative ones) | "
            f"{metrics['x_components_std_below_0.8']} of {L} (2020 reference: {ref['x_informative_components']}) |\n\n"
            f"Per-component std of sampled train latents: {metrics['x_component_std']}"
        )
    elif kind == "class_vae":
        title = f"LD-MNIST class VAE ({L}-d)"
        body = (
            f"A linear VAE that maps a digit class (one-hot, 10) to a {L}-d latent vector and a latent back "
            f"to class probabilities: the `y` side of LD-MNIST, and the decoder that turns a model's "
            f"predictions into classes.\n\nArchitecture: one-hot 10 -> Dense {L} mean and Dense {L} `log_var`; "
            f"decoder Dense {L} -> 10 softmax. Loss: Keras `binary_crossentropy` between the one-hot label and "
            f"the softmax + {config['kl_weight']} x KL.\n\n"
            f"| measured on the MNIST test set | value |\n|---|---:|\n"
            f"| class reconstructed from a SAMPLED latent (one draw, seed 0) | "
            f"{100 * metrics['class_vae_accuracy']:.2f} % (2020 reference: {100 * pub['class_vae_accuracy']:.2f} %) |\n"
            f"| the same, mean +- std over {metrics['class_vae_accuracy_draws']} draws | "
            f"{100 * metrics['class_vae_accuracy_mean']:.3f} % +- {100 * metrics['class_vae_accuracy_std']:.3f} % |\n"
            f"| reconstruction BCE | {metrics['class_vae_test_bce']:.5f} |\n"
            f"| KL term | {metrics['class_vae_test_kl']:.4f} |\n"
            f"| latent components with std < 0.8 over the train set | "
            f"{metrics['y_components_std_below_0.8']} of {L} (2020 reference: {ref['y_informative_components']}) |"
        )
    else:
        title = f"LD-MNIST middle layers ({L}-d)"
        body = (
            f"The mapper trained alongside the VAEs: image latent -> class latent, trained on the classification "
            f"loss of image encoder -> middle layers -> class decoder (its own Adam optimizer). Architecture: "
            f"Dense {config['hidden_sizes']} (LeakyReLU, BatchNorm, Dropout {config['dropout']}) -> Dense {L}.\n\n"
            f"| measured on the MNIST test set | value |\n|---|---:|\n"
            f"| accuracy of image encoder -> middle layers -> class decoder (sampled image latents) | "
            f"{metrics['middle_layers_accuracy']:.4f} (2020 reference: {pub['middle_layers_accuracy']:.4f}) |\n"
            f"| MSE of its output vs sampled class latents (what the benchmark scores) | "
            f"{metrics['middle_layers_test_mse']:.4f} |"
        )
    text = (
        f"---\n{data.to_yaml()}\n---\n\n# {title}\n\n{body}\n\n## Training\n\n{_recipe_text(summary)}\n\n"
        f"{_SAMPLING_NOTE}\n\n## Use\n\n{load}\n\n"
        + (
            "Figures from `ldmnist release`'s evaluation of these weights; `ldmnist export` wrote this card.\n"
            if repos
            else "Generated by `ldmnist release` from the evaluation above; rerun it to regenerate.\n"
        )
    )
    return str(ModelCard(text))


@contextlib.contextmanager
def without_code(model):
    """`save_pretrained` inside writes weights and config only: no `auto_map`, no copy of the modeling code.

    The package's shipped folders load through the registered classes; `ldmnist export` is the one place
    that saves the code beside the weights (from the current sources), so no stale copy is kept here.
    """
    classes = (type(model), type(model.config))
    saved = [c.__dict__.get("_auto_class") for c in classes]
    auto_map = model.config.__dict__.pop("auto_map", None)  # read from a folder saved with code
    for c in classes:
        c._auto_class = None
    try:
        yield model
    finally:
        for c, value in zip(classes, saved):
            c._auto_class = value
        if auto_map is not None:
            model.config.auto_map = auto_map


def release(
    run_dir: str | Path | None = None,
    dest: str | Path | None = None,
    cards_dir: str | Path | None = None,
    mnist=None,
    readme: str | Path | None = None,
    latent_dim: int = 32,
    model_set: str | None = None,
) -> dict:
    """Evaluates a run's models and writes them with model cards to `dest/<name>-<L>/`.

    Args:
        run_dir: a folder written by `ldmnist train` (holding `models/` and `summary.json`); `None`
            re-evaluates the models already in `dest` (their training summary is kept from
            `dest/evaluation.json`) and rewrites their cards, leaving the weights untouched.
        dest: where the model folders go (default: the package's `pretrained/` folder).
        cards_dir: also write the cards here as `<name>-<L>.md` (default: none).
        readme: also fill the results block of this README.md.
        latent_dim (`int`, defaults to 32): which folders of `dest` to re-evaluate when `run_dir` is `None`.
        model_set (`str`, *optional*): write a named set beside the default one: folders
            `<name>-<L>-<set>`, `evaluation-<set>.json` and `training_metrics-<set>.jsonl` (the 2020
            recipe's rerun ships as set `reference`). README's results block describes the default set
            only, so `readme` is refused with a set.

    Returns:
        The figures of `evaluate_run`.
    """
    from .mnist import load_mnist
    from .pretrained import PRETRAINED_DIR, load_pretrained
    from .training import Models

    if model_set is not None and (readme or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", model_set)):
        raise LDMNISTError(
            f"--model-set {model_set!r}: give a short lowercase name (letters, digits, '-'), without --readme "
            "(README's results describe the default set)."
        )
    suffix = f"-{model_set}" if model_set else ""
    dest = Path(dest) if dest else PRETRAINED_DIR
    if run_dir is not None:
        run_dir = Path(run_dir)
        summary = read_json(
            run_dir / "summary.json",
            fix="train the run again.",
            missing=f"{run_dir} holds no finished run (no summary.json); finish it with `ldmnist train --resume`.",
        )
        models = Models.from_dir(run_dir / "models").eval()
    else:
        if not (dest / f"evaluation{suffix}.json").exists():
            raise LDMNISTError(
                f"{dest} holds no evaluation{suffix}.json: give --run, a folder written by `ldmnist train`."
            )
        summary = json.loads((dest / f"evaluation{suffix}.json").read_text())["training"]
        models = Models(
            *(load_pretrained(dest / f"{name}-{latent_dim}{suffix}") for name in CARD_NAMES.values())
        )
    metrics = evaluate_run(models, mnist or load_mnist())
    for kind, name in CARD_NAMES.items():
        model = getattr(models, kind)
        folder = dest / f"{name}-{model.config.latent_dim}{suffix}"
        card = render_model_card(kind, model.config.to_dict(), metrics, summary)
        if run_dir is not None:
            with atomic_dir(folder, overwrite=True, marker="config.json") as tmp, without_code(model):
                model.save_pretrained(tmp)
                (tmp / "README.md").write_text(card)
        else:
            atomic_write_text(folder / "README.md", card)
        if cards_dir:
            atomic_write_text(Path(cards_dir) / f"{folder.name}.md", card)
        log(f"Wrote {folder}")
    # Which weights these figures describe: `ldmnist export` takes a card's figures only for these files.
    weights = {
        kind: {
            "folder": f"{name}-{latent_dim if run_dir is None else getattr(models, kind).config.latent_dim}"
            + suffix
        }
        for kind, name in CARD_NAMES.items()
    }
    for entry in weights.values():
        entry["sha256"] = sha256_file(dest / entry["folder"] / "model.safetensors")
    evaluation = {"metrics": metrics, "training": summary, "models": weights}
    atomic_write_text(dest / f"evaluation{suffix}.json", json.dumps(evaluation, indent=2) + "\n")
    if run_dir is not None:
        shutil.copy(run_dir / "metrics.jsonl", dest / f"training_metrics{suffix}.jsonl")
    if readme:
        replace_block(readme, "results", results_markdown(evaluation))
    return metrics


def results_markdown(evaluation: dict) -> str:
    """The shipped models' figures for README.md, from `pretrained/evaluation.json`."""

    m, t = evaluation["metrics"], evaluation["training"]
    ref = reference_2020()
    pub = ref["published"]
    joint_2020 = next(r for r in pub["benchmark"] if r["key"] == "reference_middle")
    rows = [
        (
            "class VAE: class reconstructed from a sampled latent (one draw)",
            f"{100 * m['class_vae_accuracy']:.2f} %",
            f"{100 * pub['class_vae_accuracy']:.2f} %",
            "",
        ),
        (
            f"class VAE: the same, mean +- std of {m['class_vae_accuracy_draws']} draws",
            f"{100 * m['class_vae_accuracy_mean']:.2f} % +- {100 * m['class_vae_accuracy_std']:.2f} %",
            "",
            f">= {100 * QUALITY_BAR['class_vae_accuracy_mean']:.2f} %",
        ),
        (
            "middle layers: image encoder -> middle layers -> class decoder accuracy",
            f"{m['middle_layers_accuracy']:.4f}",
            f"{pub['middle_layers_accuracy']:.4f}",
            f">= {QUALITY_BAR['middle_layers_accuracy']}",
        ),
        (
            "middle layers: MSE of its output vs sampled class latents",
            f"{m['middle_layers_test_mse']:.4f}",
            f"{joint_2020['mse']:.4f} (on its dataset)",
            "",
        ),
        (
            "image VAE: test BCE (mean over pixels) / KL term",
            f"{m['image_vae_test_bce']:.4f} / {m['image_vae_test_kl']:.4f}",
            "",
            "",
        ),
        (
            "image latent components with std < 0.8 (train set)",
            str(m["x_components_std_below_0.8"]),
            str(ref["x_informative_components"]),
            f">= {QUALITY_BAR['informative_components']}",
        ),
        (
            "class latent components with std < 0.8 (train set)",
            str(m["y_components_std_below_0.8"]),
            str(ref["y_informative_components"]),
            "",
        ),
        (
            f"training loop time ({t['args']['epochs']} epochs at batch {t['args']['batch_size']}, {t['args']['device']})",
            f"{t['train_seconds_this_session']:.0f} s",
            "about 6 h",
            "",
        ),
    ]
    lines = ["| shipped 32-d models, MNIST test set | ours | 2020 reference | bar |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return (
        "\n".join(lines)
        + "\n\nGenerated from `ldmnist_hf/pretrained/evaluation.json` by `ldmnist release` (without `--run` it "
        "re-evaluates the shipped models)."
    )
