"""LD-MNIST as a `datasets` builder (its script form, for `download_and_prepare`).

This module holds the builder class and nothing else, on purpose: instantiating a builder makes
`datasets` patch the module that defines it for streaming (its `open`, `os.path`, `Path`, `np.load`,
`pyarrow.parquet.read_table` become fsspec-aware stand-ins), which would change the behaviour of any other
code living here. The rows come from `build.encode_split`, the same function `ldmnist build` uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets

from ..rendering import CITATION, DESCRIPTION, LICENSE
from ..registry import DEFAULT_MODELS, SHIPPED_LATENT_DIM
from .dataset import encode_split, load_vaes, split_seed
from ..data.mnist import load_mnist
from ..data.schema import SPLITS, features, latents_table


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

    latent_dim: int = SHIPPED_LATENT_DIM
    seed: int = 0
    image_vae: str = DEFAULT_MODELS["image_vae"]
    class_vae: str = DEFAULT_MODELS["class_vae"]
    mnist_source: str = "auto"


class LDMNIST(datasets.ArrowBasedBuilder):
    """LD-MNIST: MNIST images and labels as sampled VAE latents, in the original MNIST order."""

    BUILDER_CONFIG_CLASS = LDMNISTConfig
    BUILDER_CONFIGS = [
        LDMNISTConfig(
            name="default", description=f"{SHIPPED_LATENT_DIM}-d latents from the shipped VAEs, seed 0"
        )
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=DESCRIPTION,
            features=features(self.config.latent_dim),
            citation=CITATION,
            license=LICENSE,
        )

    def _split_generators(self, dl_manager):
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
                    seed=split_seed(self.config.seed, split),
                ),
            )
            for split in SPLITS
        ]

    def _generate_tables(self, image_vae, class_vae, images, labels, seed):
        yield 0, latents_table(encode_split(image_vae, class_vae, images, labels, seed), labels)
