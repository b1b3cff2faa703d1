"""Latent statistics (data/statistics.py): the informative components."""

import numpy as np

from ldmnist_hf.data.statistics import INFORMATIVE_STD, latent_statistics


def test_statistics_count_informative_components():
    x = np.array([[0.0, 0.0], [1.0, 2.0]])  # component std 0.5 and 1.0
    stats = latent_statistics(x, x + 1)
    assert stats["x"]["informative_components"] == 1 and stats["y"]["informative_std"] == INFORMATIVE_STD
    assert stats["x"]["component_std"] == [0.5, 1.0] and stats["y"]["mean"] == 1.75
