"""The LD-MNIST dataset: MNIST encoded by a pair of VAEs, written as a Hub dataset repository.

`encode_split` is the pure function that makes the data. `LDMNIST` is the `datasets` builder around it
(its script form, for `download_and_prepare`); `build_dataset` writes the same rows through `datasets`
as Parquet and lays them out as a Hub dataset repository (`data/*.parquet` + `README.md` card), so
`load_dataset(folder)` works offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa

from .reference_2020 import reference_2020
from .training_args import INFORMATIVE_STD
from .utils import LDMNISTError, atomic_dir, check_output_dir, log, read_json, sha256_file

_CITATION = """\
@misc{ldmnist2020,
  title  = {Low dimensional MNIST dataset},
  author = {dimitree54},
  howpublished = {https://github.com/dimitree54/ld_mnist},
  year   = {2020},
  note   = {VAE latents of MNIST images and labels}
}
"""
_DESCRIPTION = """\
LD-MNIST maps each MNIST image to a latent vector with an image VAE and each label to a latent vector
with a class VAE: a regression task from one roughly standard normal vector to another.
"""
_LICENSE = "mit"
LATENT_COLUMNS = ("x", "y", "x_mean", "x_std", "y_mean", "y_std")
SPLITS = ("train", "test")
BUILD_RECORD = "ldmnist_build.json"  # what `build` leaves in every folder it writes


def features(latent_dim: int) -> datasets.Features:
    vec = datasets.List(datasets.Value("float32"), length=latent_dim)
    return datasets.Features(
        {
            **{name: vec for name in LATENT_COLUMNS},
            "label": datasets.ClassLabel(names=[str(i) for i in range(10)]),
            "index": datasets.Value("int32"),
        }
    )


def _split_seed(seed: int, split: str) -> int:
    # Each split has its own stream, so the test latents do not depend on the train split's size.
    return seed * 2 + SPLITS.index(split)


def encode_split(
    image_vae, class_vae, images: np.ndarray, labels: np.ndarray, seed: int, batch_size: int = 10000
) -> dict[str, np.ndarray]:
    """Encodes one split in inference mode and samples the latents, as the reference did.

    Args:
        image_vae (`ImageVAE`), class_vae (`ClassVAE`): the encoders (put in eval mode here).
        images (`np.ndarray` uint8 `(N, 28, 28)`), labels (`np.ndarray` int `(N,)`).
        seed (`int`): seeds the sampling noise; the same models and seed give identical arrays.

    Returns:
        `dict` of float32 `(N, latent_dim)` arrays for `x`, `y`, `x_mean`, `x_std`, `y_mean`, `y_std`.
    """
    import torch

    image_vae.eval()
    class_vae.eval()
    device = image_vae.device
    gen = torch.Generator(device).manual_seed(seed)
    parts: dict[str, list] = {name: [] for name in LATENT_COLUMNS}
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            qx = image_vae.encode(torch.from_numpy(images[i : i + batch_size])).latent_dist
            qy = class_vae.encode(torch.from_numpy(np.asarray(labels[i : i + batch_size]))).latent_dist
            for name, t in (
                ("x_mean", qx.mean),
                ("x_std", qx.std),
                ("x", qx.sample(gen)),
                ("y_mean", qy.mean),
                ("y_std", qy.std),
                ("y", qy.sample(gen)),
            ):
                parts[name].append(t.float().cpu().numpy())
    return {name: np.concatenate(v) for name, v in parts.items()}


def _table(arrays: dict[str, np.ndarray], labels: np.ndarray) -> pa.Table:
    n, L = arrays["x"].shape
    cols = {
        name: pa.FixedSizeListArray.from_arrays(pa.array(arrays[name].reshape(-1), pa.float32()), L)
        for name in LATENT_COLUMNS
    }
    cols["label"] = pa.array(np.asarray(labels, np.int64), pa.int64())
    cols["index"] = pa.array(np.arange(n, dtype=np.int32))
    return pa.table(cols).cast(features(L).arrow_schema)


@dataclass
class LDMNISTConfig(datasets.BuilderConfig):
    """Configuration of the LD-MNIST builder.

    Args:
        latent_dim (`int`, defaults to 32): must match both VAEs.
        seed (`int`, defaults to 0): seeds the sampling of `x` and `y`.
        image_vae (`str`): folder or Hub id of the image VAE (default: the shipped 32-d one).
        class_vae (`str`): folder or Hub id of the class VAE (default: the shipped 32-d one).
        mnist_source (`str`, defaults to `"auto"`): see `load_mnist`.
    """

    latent_dim: int = 32
    seed: int = 0
    image_vae: str = "image-vae-32"
    class_vae: str = "class-vae-32"
    mnist_source: str = "auto"


class LDMNIST(datasets.ArrowBasedBuilder):
    """LD-MNIST: MNIST images and labels as sampled VAE latents, in the original MNIST order."""

    BUILDER_CONFIG_CLASS = LDMNISTConfig
    BUILDER_CONFIGS = [
        LDMNISTConfig(name="default", description="32-d latents from the shipped VAEs, seed 0")
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=features(self.config.latent_dim),
            citation=_CITATION,
            license=_LICENSE,
        )

    def _split_generators(self, dl_manager):
        from .mnist import load_mnist

        mnist = load_mnist(self.config.mnist_source)
        image_vae, class_vae = load_vaes(self.config.image_vae, self.config.class_vae, self.config.latent_dim)
        return [
            datasets.SplitGenerator(
                name=split,
                gen_kwargs=dict(
                    image_vae=image_vae,
                    class_vae=class_vae,
                    images=getattr(mnist, f"{split}_images"),
                    labels=getattr(mnist, f"{split}_labels"),
                    seed=_split_seed(self.config.seed, split),
                ),
            )
            for split in SPLITS
        ]

    def _generate_tables(self, image_vae, class_vae, images, labels, seed):
        yield 0, _table(encode_split(image_vae, class_vae, images, labels, seed), labels)


def load_vaes(image_vae, class_vae, latent_dim: int | None = None):
    """Loads (or checks) the image and class VAEs: names of shipped models, folders, Hub ids or models."""
    from .loading import load_pretrained
    from .modeling_ldmnist import ClassVAE, ImageVAE

    iv = (
        load_pretrained(image_vae, ImageVAE) if isinstance(image_vae, str | os.PathLike) else image_vae.eval()
    )
    cv = (
        load_pretrained(class_vae, ClassVAE) if isinstance(class_vae, str | os.PathLike) else class_vae.eval()
    )
    for name, model, klass in (("image", iv, ImageVAE), ("class", cv, ClassVAE)):
        if not isinstance(model, klass):
            raise LDMNISTError(f"The {name} VAE is a {type(model).__name__}, expected a {klass.__name__}.")
    if iv.config.latent_dim != cv.config.latent_dim:
        raise LDMNISTError(
            f"The image VAE has latent size {iv.config.latent_dim} but the class VAE has "
            f"{cv.config.latent_dim}; give a matching pair (train them together with `ldmnist train`)."
        )
    if latent_dim is not None and iv.config.latent_dim != latent_dim:
        raise LDMNISTError(
            f"--latent-dim {latent_dim} does not match the models' latent size {iv.config.latent_dim}."
        )
    return iv, cv


# ----------------------------------------------------------------------------- statistics and card


def latent_statistics(x: np.ndarray, y: np.ndarray) -> dict:
    """Global and per-component mean/std of `x` and `y` `(N, L)`, as the reference printed them."""
    out = {}
    for name, a in (("x", x), ("y", y)):
        a = np.asarray(a, np.float64)
        std = a.std(0)
        out[name] = {
            "mean": float(a.mean()),
            "std": float(a.std()),
            "component_mean": a.mean(0).tolist(),
            "component_std": std.tolist(),
            "components_std_below_0.8": int((std < INFORMATIVE_STD).sum()),
        }
    return out


def statistics_markdown(stats: dict) -> str:
    x, y, ref = stats["x"], stats["y"], reference_2020()
    lines = [
        f"Global: `x` mean {x['mean']:.4f}, std {x['std']:.4f}; `y` mean {y['mean']:.4f}, std {y['std']:.4f}.",
        f"Components with std below 0.8: {x['components_std_below_0.8']} in `x`, "
        f"{y['components_std_below_0.8']} in `y` (in the 2020 reference dataset: "
        f"{ref['x_informative_components']} and {ref['y_informative_components']}).",
        "",
        "| component | x mean | x std | y mean | y std |",
        "|---:|---:|---:|---:|---:|",
    ]
    for i, (xm, xs, ym, ys) in enumerate(
        zip(x["component_mean"], x["component_std"], y["component_mean"], y["component_std"])
    ):
        lines.append(f"| {i} | {xm:.4f} | {xs:.4f} | {ym:.4f} | {ys:.4f} |")
    return "\n".join(lines)


def _model_ref(model, name) -> tuple[str, str]:
    """How the card names a model and where its card is."""
    from .loading import PRETRAINED

    if isinstance(name, str) and name in PRETRAINED:
        return f"`{name}` (shipped with ldmnist-hf)", f"model card: `ldmnist_hf/pretrained/{name}/README.md`"
    path = getattr(model, "name_or_path", "") or str(name)
    return f"`{path}`", "model card beside its weights"


def weights_sha256(model, source=None) -> str | None:
    """SHA-256 of the `model.safetensors` a model was loaded from (what its Hub repo will hold), if known.

    Args:
        model: the loaded model (its `name_or_path` is used when `source` is not a shipped name or folder).
        source: what it was loaded from: a shipped name, a folder or a Hub id.
    """
    from .loading import PRETRAINED, pretrained_path

    if isinstance(source, str) and source in PRETRAINED:
        folder = pretrained_path(source)
    else:
        folder = Path(str(source if isinstance(source, str | Path) else getattr(model, "name_or_path", "")))
    path = folder / "model.safetensors"
    return sha256_file(path) if path.is_file() else None


def _hub_refs(repos: dict) -> dict:
    """The card's model references and snippets for a dataset published with its models and metric."""
    url = "https://huggingface.co"
    ds, metric, iv, cv = repos["dataset"], repos["metric"], repos["image_vae"], repos["class_vae"]
    use = (
        f"## Decode and score\n\nThe class VAE [{cv}]({url}/{cv}) turns a predicted `y` back into a class; the "
        f"metric Space [{metric}]({url}/spaces/{metric}) scores predictions with it (MSE and reconstructed "
        f"accuracy); the image VAE [{iv}]({url}/{iv}) turns `x` back into a digit. The models load with "
        f"transformers alone (their code is in their repositories), the metric with evaluate alone.\n\n"
        f"```python\nimport evaluate\nimport numpy as np\nimport torch\nfrom datasets import load_dataset\n"
        f"from transformers import AutoModel\n\n"
        f'ds = load_dataset("{ds}").with_format("numpy")\n'
        f'train, test = ds["train"][:], ds["test"][:]\n'
        f"# your model here; this one is linear least squares\n"
        f'w, *_ = np.linalg.lstsq(np.c_[train["x"], np.ones(len(train["x"]))], train["y"], rcond=None)\n'
        f'predictions = np.c_[test["x"], np.ones(len(test["x"]))] @ w\n\n'
        f'metric = evaluate.load("{metric}")\n'
        f'print(metric.compute(predictions=predictions, references=test["y"], labels=test["label"]))\n\n'
        f'class_vae = AutoModel.from_pretrained("{cv}", trust_remote_code=True)\n'
        f'image_vae = AutoModel.from_pretrained("{iv}", trust_remote_code=True)\n'
        f"with torch.no_grad():\n"
        f"    classes = class_vae.predict(torch.from_numpy(predictions).float())  # (10000,) predicted digits\n"
        f'    digits = image_vae.decode(torch.from_numpy(test["x"][:8])).sample  # (8, 28, 28) pixels\n'
        f"```"
    )
    return {
        "image_vae": f"[{iv}]({url}/{iv})",
        "image_vae_card": "model card, weights and code in that repository",
        "class_vae": f"[{cv}]({url}/{cv})",
        "class_vae_card": "model card, weights and code in that repository; it is also the metric's class decoder",
        "load_name": ds,
        "use": use,
    }


def render_card(meta: dict, stats: dict, benchmark_md: str | None = None, repos: dict | None = None) -> str:
    """The dataset card: YAML (configs, dataset_info) + body from `cards/dataset_card.md`.

    Args:
        meta (`dict`): the build record (`ldmnist_build.json`), with `download_size` (bytes of the Parquet files).
        stats (`dict`): `latent_statistics` of the train split.
        benchmark_md (`str`, *optional*): the benchmark block's content.
        repos (`dict`, *optional*): Hub repository ids (`dataset`, `metric`, `image_vae`, `class_vae`,
            `middle_layers`): the card of the published dataset, whose snippets and links use them.
    """
    from huggingface_hub import DatasetCard, DatasetCardData

    feats = features(meta["latent_dim"])
    card_data = DatasetCardData(
        license=_LICENSE,
        pretty_name=f"LD-MNIST ({meta['latent_dim']}-d)",
        task_categories=["tabular-regression"],
        size_categories=["10K<n<100K"],
        source_datasets=["ylecun/mnist"],
        tags=["mnist", "vae", "latent", "toy-task"],
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in SPLITS],
                # datasets caches a local folder under its base name and a hash of this YAML: the content's
                # fingerprint here gives every distinct build its own cache entry (README, "Loading").
                "description": f"LD-MNIST {meta['latent_dim']}-d, seed {meta['seed']}, "
                f"data fingerprint {meta.get('fingerprint', 'unknown')}",
            }
        ],
        dataset_info={
            "features": feats._to_yaml_list(),
            "splits": [
                {"name": s, "num_bytes": meta[f"bytes_{s}"], "num_examples": meta[f"n_{s}"]} for s in SPLITS
            ],
            "dataset_size": sum(meta[f"bytes_{s}"] for s in SPLITS),
            "download_size": meta["download_size"],
        },
    )
    template = (Path(__file__).parent / "cards" / "dataset_card.md").read_text()
    use = (
        "Score predictions with the `ldmnist` evaluate metric (`ldmnist_hf.load_metric()`), which decodes them "
        "with the class VAE above."
    )
    body = template.format(
        **{**meta, "use": use, **(_hub_refs(repos) if repos else {})},
        statistics=statistics_markdown(stats),
        citation=_CITATION,
        benchmark=benchmark_md or "Run `ldmnist benchmark --dataset DIR` to add the benchmark table here.",
    )
    return str(DatasetCard(f"---\n{card_data.to_yaml()}\n---\n\n{body}"))


# ----------------------------------------------------------------------------- build


def build_dataset(
    output_dir: str | Path = "ldmnist",
    image_vae="image-vae-32",
    class_vae="class-vae-32",
    seed: int = 0,
    mnist_source: str = "auto",
    overwrite: bool = False,
    numpy_export: bool = False,
    command: str | None = None,
) -> Path:
    """Encodes MNIST and writes LD-MNIST as a Hub dataset repository folder, atomically.

    Args:
        output_dir (`str` or path, defaults to `"ldmnist"`): the folder to create.
        image_vae, class_vae: shipped model names, folders, Hub ids, or loaded models.
        seed (`int`, defaults to 0): seeds the sampling; same models and seed give identical files.
        mnist_source (`str` or `MNIST`, defaults to `"auto"`): see `load_mnist`, or the digits themselves.
        overwrite (`bool`, defaults to `False`): replace an existing `output_dir`, when it is empty or a
            previous build (it holds `ldmnist_build.json`); any other folder is left alone.
        numpy_export (`bool`, defaults to `False`): also write `train_x.npy`, `train_y.npy`,
            `test_x.npy`, `test_y.npy` like the 2020 download.

    Returns:
        The folder, loadable with `datasets.load_dataset(str(folder))`.
    """
    from . import __version__
    from .mnist import MNIST, load_mnist

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**62:
        raise LDMNISTError(f"--seed must be an integer in 0..2**62-1, got {seed!r}.")
    # Every check on the output path comes before the models, MNIST and the encoding.
    check_output_dir(output_dir, overwrite, marker=BUILD_RECORD)
    output_dir = Path(output_dir)
    t0 = time.perf_counter()
    iv, cv = load_vaes(image_vae, class_vae)
    mnist = mnist_source if isinstance(mnist_source, MNIST) else load_mnist(mnist_source)
    L = iv.config.latent_dim
    with atomic_dir(output_dir, overwrite=overwrite, marker=BUILD_RECORD) as tmp:
        arrays, nbytes = {}, {}
        for split in SPLITS:
            labels = getattr(mnist, f"{split}_labels")
            arrays[split] = encode_split(
                iv, cv, getattr(mnist, f"{split}_images"), labels, _split_seed(seed, split)
            )
            _check_finite(arrays[split], split)
            # Written through `datasets` so the Parquet carries the features (ClassLabel, fixed-length lists).
            table = _table(arrays[split], labels)
            nbytes[f"bytes_{split}"] = table.nbytes
            ds = datasets.Dataset(table, info=datasets.DatasetInfo(features=features(L)))
            (tmp / "data").mkdir(exist_ok=True)
            ds.to_parquet(str(tmp / _data_file(split)))
            if numpy_export:
                np.save(tmp / f"{split}_x.npy", arrays[split]["x"])
                np.save(tmp / f"{split}_y.npy", arrays[split]["y"])
        files = {
            str(p.relative_to(tmp)): {"sha256": sha256_file(p), "size": p.stat().st_size}
            for p in sorted([*tmp.glob("data/*.parquet"), *tmp.glob("*.npy")])
        }
        meta = {
            "latent_dim": L,
            "seed": seed,
            "n_train": len(mnist.train_labels),
            "n_test": len(mnist.test_labels),
            "mnist_source": mnist.source,
            "mnist_verified": mnist.verified,
            "version": __version__,
            "load_name": output_dir.name,
            "command": command or f"ldmnist build --seed {seed}",
            "fingerprint": fingerprint(files),
            **nbytes,
        }
        meta["download_size"] = sum(p.stat().st_size for p in (tmp / "data").glob("*.parquet"))
        meta["image_vae"], meta["image_vae_card"] = _model_ref(iv, image_vae)
        meta["class_vae"], meta["class_vae_card"] = _model_ref(cv, class_vae)
        stats = latent_statistics(arrays["train"]["x"], arrays["train"]["y"])
        (tmp / "README.md").write_text(render_card(meta, stats))
        meta["image_vae_source"] = (
            str(image_vae) if isinstance(image_vae, str | os.PathLike) else iv.name_or_path
        )
        meta["class_vae_source"] = (
            str(class_vae) if isinstance(class_vae, str | os.PathLike) else cv.name_or_path
        )
        # Which weights made the data: `ldmnist push` refuses a dataset whose models are not the ones it uploads.
        meta["image_vae_sha256"] = weights_sha256(iv, image_vae)
        meta["class_vae_sha256"] = weights_sha256(cv, class_vae)
        (tmp / BUILD_RECORD).write_text(
            json.dumps(
                {
                    **meta,
                    "image_vae_config": iv.config.to_dict(),
                    "class_vae_config": cv.config.to_dict(),
                    "files": files,
                },
                indent=2,
            )
            + "\n"
        )
        shutil.copy(Path(__file__).parent / "cards" / "gitattributes", tmp / ".gitattributes")
    log(f"Built LD-MNIST ({L}-d, seed {seed}) in {time.perf_counter() - t0:.1f} s: {output_dir}")
    return output_dir


def _data_file(split: str) -> str:
    return f"data/{split}-00000-of-00001.parquet"


def _check_finite(arrays: dict[str, np.ndarray], split: str) -> None:
    """Refuses latents with NaN or inf: they come from broken weights and would make a useless dataset."""
    bad = {name: int((~np.isfinite(a)).any(axis=-1).sum()) for name, a in arrays.items()}
    bad = {k: v for k, v in bad.items() if v}
    if bad:
        raise LDMNISTError(
            f"The VAEs produced NaN or inf latents for the {split} split ("
            + ", ".join(f"{k}: {v} rows" for k, v in bad.items())
            + "); their weights are broken (a diverged training run?). Nothing was written; use other models."
        )


def fingerprint(files: dict) -> str:
    """A short digest of the data files' SHA-256 sums: it changes whenever the data does."""
    h = hashlib.sha256("".join(f"{k}:{v['sha256']}\n" for k, v in sorted(files.items())).encode())
    return h.hexdigest()[:16]


def read_build_info(dataset_dir: str | Path) -> dict:
    """What `ldmnist build` recorded about a dataset folder (models, seed, sizes, file checksums)."""
    folder = Path(dataset_dir)
    if not folder.is_dir():
        raise LDMNISTError(
            f"{dataset_dir} is not a folder"
            + (" (it is a file)" if folder.exists() else " (no such folder)")
            + "; give a folder written by `ldmnist build`."
        )
    path = folder / BUILD_RECORD
    if not path.exists():
        raise LDMNISTError(f"{dataset_dir} is not a folder written by `ldmnist build` (no {BUILD_RECORD}).")
    info = read_json(path, fix="rebuild the dataset with `ldmnist build --overwrite`.")
    missing = [
        k
        for k in ("latent_dim", "image_vae_source", "class_vae_source")
        if not isinstance(info, dict) or k not in info
    ]
    if missing:
        raise LDMNISTError(
            f"{path} lacks {', '.join(missing)}; rebuild the dataset with `ldmnist build --overwrite`."
        )
    return info


def _recorded_files(folder: Path, info: dict) -> dict:
    files = info.get("files")
    if not isinstance(files, dict) or not files:
        raise LDMNISTError(
            f"{folder / BUILD_RECORD} records no file checksums (an older build); rebuild the dataset with "
            f"`ldmnist build --overwrite` to make it verifiable."
        )
    for name, entry in files.items():
        rel = Path(name)
        if (
            rel.is_absolute()
            or ".." in rel.parts
            or not isinstance(entry, dict)
            or {"sha256", "size"} - set(entry)
        ):
            raise LDMNISTError(
                f"{folder / BUILD_RECORD} has a malformed entry for {name!r}; rebuild the dataset."
            )
    return files


def verify_dataset(dataset_dir: str | Path) -> dict:
    """Checks every data file of a built dataset against the SHA-256 and size its build recorded.

    Also refuses Parquet files under `data/` that the build did not write (`load_dataset` would read them)
    and a card whose YAML header is broken or belongs to other data.

    Args:
        dataset_dir: a folder written by `ldmnist build`.

    Returns:
        `{"files": number of files checked, "fingerprint": the data's fingerprint}`.

    Raises:
        `LDMNISTError` naming the first file that is missing, truncated, changed or extra.
    """
    import yaml

    folder = Path(dataset_dir)
    info = read_build_info(folder)
    files = _recorded_files(folder, info)
    for name, entry in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            raise LDMNISTError(f"{path} is missing; rebuild the dataset with `ldmnist build --overwrite`.")
        size = path.stat().st_size
        if size != entry["size"]:
            raise LDMNISTError(
                f"{path} has {size} bytes but the build wrote {entry['size']}: truncated or replaced. "
                f"Rebuild the dataset with `ldmnist build --overwrite`."
            )
        if sha256_file(path) != entry["sha256"]:
            raise LDMNISTError(
                f"{path} has changed since the build (its SHA-256 differs from {BUILD_RECORD}'s). "
                f"Rebuild the dataset with `ldmnist build --overwrite`."
            )
    extra = sorted(
        str(p.relative_to(folder)) for p in folder.glob("data/*") if str(p.relative_to(folder)) not in files
    )
    if extra:
        raise LDMNISTError(
            f"{folder / extra[0]} was not written by the build; `load_dataset` would read it as data. Remove it."
        )
    card = folder / "README.md"
    try:
        text = card.read_text()
        header = yaml.safe_load(text.split("---\n", 2)[1]) if text.startswith("---\n") else None
    except (OSError, UnicodeDecodeError, IndexError, yaml.YAMLError) as e:
        raise LDMNISTError(
            f"{card}: the card's YAML header cannot be read ({str(e).splitlines()[0]}); rebuild."
        ) from e
    configs = header.get("configs") if isinstance(header, dict) else None
    if not isinstance(configs, list) or not configs or not isinstance(configs[0], dict):
        raise LDMNISTError(f"{card} has no valid YAML header with `configs`; rebuild the dataset.")
    fp = info.get("fingerprint")
    found = re.search(r"data fingerprint (\w+)", str(configs[0].get("description", "")))
    if fp and (found is None or found.group(1) != fp):
        raise LDMNISTError(
            f"{card}: its YAML header does not carry this data's fingerprint {fp}; it belongs to another build. "
            f"Rebuild the dataset."
        )
    return {"files": len(files), "fingerprint": fp}


def _column_to_numpy(name: str, col: pa.ChunkedArray | pa.Array, where: str) -> np.ndarray:
    """A fixed-size list column as `(N, L)`, a numeric column as `(N,)`; anything else is an error."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    t = col.type
    fixed = pa.types.is_fixed_size_list(t)
    v = t.value_type if fixed else t
    numeric = pa.types.is_integer(v) or pa.types.is_floating(v) or (not fixed and pa.types.is_boolean(v))
    if numeric and col.null_count == 0 and (not fixed or col.flatten().null_count == 0):
        if fixed:
            return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), t.list_size)
        return col.to_numpy(zero_copy_only=False)
    problem = "has missing values" if numeric else f"has type {t}"
    raise LDMNISTError(
        f"{where}: column {name!r} {problem}; load_latents returns whole numeric arrays only (fixed-size lists "
        f"of numbers, or numbers). Use `ds.with_format('numpy')` for other columns."
    )


def _parquet_files(folder: Path, split: str) -> list[Path]:
    """The Parquet files of one split: those the build recorded (sizes checked), else `data/SPLIT-*.parquet`."""
    record = folder / BUILD_RECORD
    if record.exists():
        info = read_build_info(folder)
        files = {
            k: v
            for k, v in _recorded_files(folder, info).items()
            if k.startswith(f"data/{split}-") and k.endswith(".parquet")
        }
        for name, entry in files.items():
            path = folder / name
            if not path.is_file():
                raise LDMNISTError(
                    f"{path} is missing; rebuild the dataset with `ldmnist build --overwrite`."
                )
            if path.stat().st_size != entry["size"]:
                raise LDMNISTError(
                    f"{path} has {path.stat().st_size} bytes but the build wrote {entry['size']}: truncated or "
                    f"replaced. Run `ldmnist verify {folder}`, or rebuild with `ldmnist build --overwrite`."
                )
        paths = [folder / k for k in sorted(files)]
    else:
        paths = sorted(folder.glob(f"data/{split}-*.parquet"))
    if not paths:
        found = sorted({p.name.split("-")[0] for p in folder.glob("data/*.parquet")})
        raise LDMNISTError(
            f"{folder} has no {split!r} split (data/{split}-*.parquet); splits found: {found or 'none'}."
        )
    return paths


def _read_parquet_columns(folder: Path, split: str, columns) -> list[np.ndarray]:
    import pyarrow.parquet as pq

    tables = []
    for path in _parquet_files(folder, split):
        try:
            names = pq.read_schema(path, memory_map=True).names
            absent = [c for c in columns if c not in names]
            if absent:
                raise LDMNISTError(f"{path} has no column {absent[0]!r}; columns: {', '.join(names)}.")
            tables.append(pq.read_table(path, columns=list(columns), memory_map=True))
        except (pa.ArrowException, OSError) as e:
            raise LDMNISTError(
                f"{path} is not a readable Parquet file ({str(e).splitlines()[0]}): truncated or damaged. "
                f"Run `ldmnist verify {folder}`, or rebuild with `ldmnist build --overwrite`."
            ) from e
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return [_column_to_numpy(c, table.column(c), f"{folder} ({split})") for c in columns]


def load_latents(dataset, split: str = "train", columns=("x", "y")) -> tuple[np.ndarray, ...]:
    """The fast way to whole-split numpy arrays.

    A folder is read straight from its Parquet files (memory-mapped, through pyarrow), so the arrays are
    always what is on disk now, never a `datasets` cache of an earlier build.

    Args:
        dataset: a folder written by `ldmnist build`, a `DatasetDict`, a `Dataset`, or a Hub dataset id
            (`owner/name`, loaded through `datasets.load_dataset`).
        split (`str`, defaults to `"train"`): used when `dataset` is a folder, Hub id or `DatasetDict`.
        columns (`tuple[str]`, defaults to `("x", "y")`): columns to return, latent ones or `label`/`index`.

    Returns:
        Per column, `(N, latent_dim)` float32 for a latent column or `(N,)` for a scalar one (views of the
        Arrow buffers where possible, so read-only: `.copy()` to write).

    Raises:
        `LDMNISTError`: no such folder, split or column; a damaged Parquet file; a column that is not a
            fixed-size list of numbers or a number.
    """
    columns = (columns,) if isinstance(columns, str) else tuple(columns)
    # os.PathLike, not Path: instantiating the `LDMNIST` builder makes datasets swap this module's `Path`
    # for its streaming subclass, which a plain PosixPath is not an instance of.
    if isinstance(dataset, str | os.PathLike):
        folder = Path(dataset).expanduser()
        if folder.is_dir():
            return tuple(_read_parquet_columns(folder, split, columns))
        from .loading import _REPO_ID

        text = str(dataset)
        if (
            folder.exists()
            or not _REPO_ID.fullmatch(text)
            or ".." in text
            or text.startswith((".", "/", "~"))
        ):
            raise LDMNISTError(
                f"{text} is not a dataset folder (no such folder); give a folder written by `ldmnist build`."
            )
        try:
            dataset = datasets.load_dataset(text, split=split)
        except Exception as e:  # noqa: BLE001 - network, authentication or a missing repository
            raise LDMNISTError(
                f"No dataset {text!r}: no such local folder, and loading it from the Hub failed "
                f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})."
            ) from e
    elif isinstance(dataset, datasets.DatasetDict):
        if split not in dataset:
            raise LDMNISTError(f"The DatasetDict has no split {split!r}; splits: {', '.join(dataset)}.")
        dataset = dataset[split]
    absent = [c for c in columns if c not in dataset.column_names]
    if absent:
        raise LDMNISTError(
            f"The dataset has no column {absent[0]!r}; columns: {', '.join(dataset.column_names)}."
        )
    table = dataset.data
    if dataset._indices is not None:  # a shuffled/selected view: let datasets gather the rows
        table = dataset.select_columns(list(columns)).with_format("arrow")[:]
    return tuple(_column_to_numpy(c, table.column(c), "the dataset") for c in columns)
