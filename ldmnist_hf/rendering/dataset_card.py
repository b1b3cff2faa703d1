"""The dataset card: its YAML header (configs, dataset_info) and body from `templates/dataset_card.md`.

`ldmnist build` writes it into every built folder; `ldmnist export` renders it again with the Hub ids.
"""

from __future__ import annotations

from huggingface_hub import DatasetCard, DatasetCardData

from ..data.records import CHECKED
from ..data.reference_2020 import reference_2020
from ..data.schema import SPLITS, data_files, features
from ..data.sources import SOURCE_DATASETS, source_dataset
from ..registry import config_prefix
from .markdown import markdown_table
from .texts import CITATION, LICENSE, TEMPLATES, record_source_texts


def _config_entry(name: str, meta: dict, prefix: str) -> dict:
    return {
        "config_name": name,
        "data_files": data_files(prefix),
        # datasets caches a local folder under its base name and a hash of this YAML: the content's
        # fingerprint here gives every distinct build its own cache entry (docs/data.md).
        "description": f"{record_source_texts(meta)['ld']} {meta['latent_dim']}-d, seed {meta['seed']}, "
        f"data fingerprint {meta.get('fingerprint', 'unknown')}",
    }


def _config_info(meta: dict) -> dict:
    return {
        "features": features(meta["latent_dim"], meta.get("classes"))._to_yaml_list(),
        "splits": [
            {"name": s, "num_bytes": meta[f"bytes_{s}"], "num_examples": meta[f"n_{s}"]} for s in SPLITS
        ],
        "dataset_size": sum(meta[f"bytes_{s}"] for s in SPLITS),
        "download_size": meta["download_size"],
    }


def dataset_card_data(meta: dict, variants: list[dict] | None = None) -> DatasetCardData:
    """The card's YAML header: license, tags, the `configs` that `load_dataset` reads, `dataset_info`.

    Args:
        meta (`dict`): the default config's build record (with `download_size`).
        variants (`list[dict]`, *optional*): the other configs (`name`, `record`), each under `NAME/`.
    """
    variants = variants or []
    configs = [_config_entry("default", meta, "")] + [
        _config_entry(v["name"], v["record"], config_prefix(v["name"])) for v in variants
    ]
    info = _config_info(meta)
    if variants:  # one entry per config, named
        info = [{"config_name": "default", **info}] + [
            {"config_name": v["name"], **_config_info(v["record"])} for v in variants
        ]
    src = record_source_texts(meta)
    return DatasetCardData(
        license=LICENSE,
        pretty_name=f"{src['ld']} ({meta['latent_dim']}-d)",
        task_categories=["tabular-regression"],
        size_categories=[_size_category(meta["n_train"] + meta["n_test"])],
        source_datasets=[src["hub"]] if src["hub"] else None,
        tags=[*([src["tag"]] if src["tag"] else []), "vae", "latent", "toy-task", "benchmark"],
        configs=configs,
        dataset_info=info,
    )


def _size_category(n: int) -> str:
    """The Hub's `size_categories` value for `n` rows.

    >>> _size_category(70000), _size_category(1797)
    ('10K<n<100K', '1K<n<10K')
    """
    for bound, name in ((1e3, "n<1K"), (1e4, "1K<n<10K"), (1e5, "10K<n<100K"), (1e6, "100K<n<1M")):
        if n < bound:
            return name
    return "n>1M"


def render_dataset_card(
    meta: dict,
    stats: dict,
    benchmark_md: str | None = None,
    repos: dict | None = None,
    variants: list[dict] | None = None,
    blocks: dict[str, str | None] | None = None,
) -> str:
    """The dataset card: YAML (configs, dataset_info) + body from `templates/dataset_card.md`.

    Args:
        meta (`dict`): the build record (`ldmnist_build.json`), with `download_size` (bytes of the Parquet files).
        stats (`dict`): `latent_statistics` of the train split.
        benchmark_md (`str`, *optional*): the benchmark block's content.
        repos (`dict`, *optional*): Hub repository ids (`registry.repo_ids`): the card of the published
            dataset, whose snippets and links use them.
        variants (`list[dict]`, *optional*): the other configs of a published dataset: `name`, `record`,
            `stats`, `benchmark` (its table, or `None`) and `repos` (its models' ids).
        blocks (`dict`, *optional*): the contents of the `report`, `fidelity` and `leaderboard` blocks. A
            published card (with `repos`) leaves out the sections whose block nobody filled; a local one says
            which command fills them.

    Returns:
        The card's text.
    """
    x, y = stats["x"], stats["y"]
    context = {
        **meta,
        "load_name": repos["dataset"] if repos else meta["load_name"],  # what the snippets load
        "repos": repos,
        "stats": stats,
        # one row per component: index, x mean, x std, y mean, y std
        "components": list(
            zip(
                range(len(x["component_mean"])),
                x["component_mean"],
                x["component_std"],
                y["component_mean"],
                y["component_std"],
            )
        ),
        "reference": reference_2020(),
        "citation": CITATION,
        "checked": CHECKED,
        "benchmark": benchmark_md,
        "variants": variants or [],
        "configs_table": _configs_table(meta, repos, variants or []),
        "mnist": _mnist_line(meta),
        "src": record_source_texts(meta),
        **{name: (blocks or {}).get(name) for name in ("report", "fidelity", "leaderboard")},
    }
    card = DatasetCard.from_template(
        dataset_card_data(meta, variants), template_path=str(TEMPLATES / "dataset_card.md"), **context
    )
    return str(card)


def _mnist_line(meta: dict) -> str:
    """What the card says about the source dataset that was encoded (not where the build machine had it from)."""
    if meta.get("source") in SOURCE_DATASETS:  # a known source dataset other than MNIST
        ds = source_dataset(meta["source"])
        if meta.get("mnist_verified"):
            return (
                f"the 70000 {ds.title} images ([{ds.hub_repo}](https://huggingface.co/datasets/{ds.hub_repo})) in "
                f"the original order, checked against the SHA-256 of real {ds.title}'s arrays ({ds.citation})"
            )
        return f"{meta['n_train']} + {meta['n_test']} images in MNIST's format, not checked to be real {ds.title}"
    if "source_provenance" in meta:  # any other image-classification dataset
        where = meta["source_provenance"]
        place = (
            f"the Hub dataset [{where['hub']}](https://huggingface.co/datasets/{where['hub']}) at commit "
            f"{where['revision']}"
            if "hub" in where
            else f"a local folder ({len(where['files'])} files, each SHA-256 in `ldmnist_build.json`)"
        )
        return f"{meta['n_train']} + {meta['n_test']} images of {place}, in its order"
    if meta.get("mnist_verified"):
        return (
            "the 70000 MNIST digits ([ylecun/mnist](https://huggingface.co/datasets/ylecun/mnist)) in the original "
            "order, checked against the SHA-256 of real MNIST's arrays"
        )
    return f"{meta['n_train']} + {meta['n_test']} images in MNIST's format, not checked to be real MNIST"


def _configs_table(meta: dict, repos: dict | None, variants: list[dict]) -> str:
    if not variants:
        return ""
    rows = []
    for name, record, ids in [
        ("default", meta, repos),
        *((v["name"], v["record"], v["repos"]) for v in variants),
    ]:
        models = ", ".join(f"[{ids[k]}](https://huggingface.co/{ids[k]})" for k in ("image_vae", "class_vae"))
        load = f'`load_dataset("{ids["dataset"]}"{"" if name == "default" else f", {name!r}"})`'.replace(
            "'", '"'
        )
        rows.append((f"`{name}`", record["latent_dim"], record["seed"], models, load))
    return markdown_table(
        ["config", "latent size", "seed", "image VAE, class VAE", "load it with"], rows, "lrrll"
    )
