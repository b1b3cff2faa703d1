"""The texts every card shares: the templates' folder, the license, the citations and the description."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


LICENSE = "mit"


# The metric (metrics/ldmnist/ldmnist.py) cites the same entry without the `note`; it must stay
# self-contained, so it keeps its own copy (tests/rendering/test_texts.py checks that the two agree).
DATASET_CITATION = """\
@misc{ldmnist2020,
  title  = {Low dimensional MNIST dataset},
  author = {dimitree54},
  howpublished = {https://github.com/dimitree54/ld_mnist},
  year   = {2020},
  note   = {VAE latents of MNIST images and labels}
}
"""


MNIST_CITATION = """\
@article{lecun1998mnist,
  title   = {Gradient-based learning applied to document recognition},
  author  = {LeCun, Yann and Bottou, L{\\'e}on and Bengio, Yoshua and Haffner, Patrick},
  journal = {Proceedings of the IEEE},
  volume  = {86},
  number  = {11},
  pages   = {2278--2324},
  year    = {1998}
}
"""


PORT_CITATION = """\
@software{ldmnisthf2026,
  title = {ldmnist-hf: Low-dimensional MNIST on the Hugging Face stack},
  year  = {2026},
  note  = {PyTorch port of the 2020 reference, the dataset builder, metric and leaderboard}
}
"""


CITATION = "\n".join([DATASET_CITATION, MNIST_CITATION, PORT_CITATION])


DESCRIPTION = """\
LD-MNIST maps each MNIST image to a latent vector with an image VAE and each label to a latent vector
with a class VAE: a regression task from one roughly standard normal vector to another.
"""


def source_texts(summary: dict) -> dict:
    """How a card names what its models were trained on, from the training summary (`ldmnist train`'s): the
    source dataset's title, its LD version's name, the image shape and the sizes, and the Hub dataset it came
    from (`data["hub"]`, for a source other than a known one). A summary of an older version (no `data`) was
    MNIST's.

    >>> t = source_texts({"args": {"source": "fashion-mnist"}})
    >>> t["ld"], t["shape"], t["hub"]
    ('LD-Fashion-MNIST', '28x28', 'zalando-datasets/fashion_mnist')
    """
    from ..data.sources import SOURCE_DATASETS

    name = (summary.get("args") or {}).get("source", "mnist")
    data = {"n_train": 60000, "n_test": 10000, "image_shape": [1, 28, 28], **(summary.get("data") or {})}
    c, h, w = data["image_shape"]
    known = SOURCE_DATASETS.get(name)
    title = known.title if known else name.rstrip("/").split("/")[-1]
    mnist = name == "mnist"
    return {
        "mnist": mnist,
        "name": name,
        "tag": name if known else None,  # the Hub tag of a known source dataset (mnist, fashion-mnist)
        "title": title,
        "ld": f"LD-{title}",
        # a Hub dataset: a known one's, or the id another was read from (a local folder has none)
        "hub": known.hub_repo if known else data.get("hub"),
        "noun": "digit" if mnist else "image",
        "nouns": "digits" if mnist else "images",
        "a_class": "a digit class" if mnist else "a class",
        "shape": f"{h}x{w}" if c == 1 else f"{c}x{h}x{w}",
        "pixels": c * h * w,
        "out_shape": f"{h}, {w}" if c == 1 else f"{c}, {h}, {w}",
        "n_train": data["n_train"],
        "n_test": data["n_test"],
        "num_classes": len(data.get("classes") or range(10)),
        "class_list": ", ".join(data.get("classes") or map(str, range(10))),
        "citation": known.citation if known else None,
    }


def record_source_texts(record: dict) -> dict:
    """`source_texts` from a build record (`ldmnist_build.json`): its source, sizes, classes and image VAE."""
    config = record.get("image_vae_config") or {}
    size = config.get("image_size", 28)
    h, w = (size, size) if isinstance(size, int) else size
    data = {
        "n_train": record.get("n_train", 60000),
        "n_test": record.get("n_test", 10000),
        "image_shape": [config.get("num_channels", 1), h, w],
        **({"classes": record["classes"]} if record.get("classes") else {}),
        "hub": (record.get("source_provenance") or {}).get("hub"),
    }
    return source_texts({"args": {"source": record.get("source", "mnist")}, "data": data})
