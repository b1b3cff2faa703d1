"""The statistics' text (rendering/statistics.py): the 2020 reference's printed form."""

import numpy as np

from ldmnist_hf.data.statistics import latent_statistics
from ldmnist_hf.rendering import printed_form


def test_printed_form_matches_the_reference_layout():
    stats = latent_statistics(np.zeros((4, 2)) + [[1.0, 2.0]], np.ones((4, 2)))
    text = printed_form(stats).splitlines()
    assert text[0] == "train_x mean and std: 1.5 0.5"
    assert text[2] == "train_x mean and std of 0-th component: 1 0"
    assert text[3] == "train_y mean and std of 0-th component: 1 0"
