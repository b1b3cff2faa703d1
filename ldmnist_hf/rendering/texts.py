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
