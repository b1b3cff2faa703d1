"""The joint training step (training/step.py): each model's own loss, the gradients' paths, the class draws."""

import pytest
import torch
from helpers import subset_args

from ldmnist_hf.training.step import JointModels


def test_classification_gradient_option(tmp_path, mnist_subset):
    models = JointModels.new(subset_args(tmp_path, "g"))
    from ldmnist_hf.training.step import draw_noise, joint_losses, mnist_tensors

    x, y, _, _ = mnist_tensors(mnist_subset, "cpu", 64)
    for flag in (True, False):
        models.zero_grad()
        noise = draw_noise(models, len(x), torch.Generator().manual_seed(0))
        joint_losses(models, x, y, noise, classification_to_vaes=flag)["classification"].backward()
        reaches_vae = models.image_vae.mean_head.weight.grad is not None
        assert reaches_vae == flag
        assert models.middle_layers.layers[-1].weight.grad is not None


@pytest.mark.parametrize("dropout_batchnorm", ["eval", "train"])
def test_joint_step_uses_each_models_own_loss(tmp_path, mnist_subset, dropout_batchnorm):
    """The joint step's per-model losses are the models' own `forward(...)` losses for the same noise."""
    from ldmnist_hf.training.step import joint_losses, mnist_tensors

    models = JointModels.new(subset_args(tmp_path, "own"))
    models.train(dropout_batchnorm == "train")
    x, y, _, _ = mnist_tensors(mnist_subset, "cpu", 64)
    gx, gy = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
    noise = (torch.randn(64, 8, generator=gx), torch.randn(64, 8, generator=gy))
    torch.manual_seed(0)  # the same dropout masks in both passes in train mode
    joint = joint_losses(models, x, y, noise)
    torch.manual_seed(0)
    image = models.image_vae(x, sample_posterior=True, generator=torch.Generator().manual_seed(1))
    label = models.class_vae(y, sample_posterior=True, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(joint["image_rec"], image.reconstruction_loss)
    torch.testing.assert_close(joint["image_kl"], image.kl_loss)
    torch.testing.assert_close(joint["class_rec"], label.reconstruction_loss)
    torch.testing.assert_close(joint["class_kl"], label.kl_loss)
    torch.testing.assert_close(joint["loss"] - joint["classification"], image.loss + label.loss)
    assert joint["class_correct"] == (label.logits.argmax(-1) == y).sum()


def test_class_draws_average_the_class_loss(tmp_path, mnist_subset):
    """`class_vae_draws` scores the class VAE on several posterior draws per label: the loss is the mean
    of the single-draw losses, and the image side is untouched."""
    from ldmnist_hf.training.step import joint_losses, mnist_tensors

    models = JointModels.new(subset_args(tmp_path, "draws")).eval()
    x, y, _, _ = mnist_tensors(mnist_subset, "cpu", 32)
    image_noise = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
    class_noise = torch.randn(3 * 32, 8, generator=torch.Generator().manual_seed(1))
    three = joint_losses(models, x, y, (image_noise, class_noise))
    singles = [
        joint_losses(models, x, y, (image_noise, class_noise[i * 32 : (i + 1) * 32])) for i in range(3)
    ]
    for key in ("class_rec", "class_kl", "class_correct"):
        torch.testing.assert_close(three[key], torch.stack([s[key].float() for s in singles]).mean(0))
    for key in ("image_rec", "image_kl", "classification", "middle_correct"):
        torch.testing.assert_close(three[key], singles[0][key])


@pytest.mark.parametrize("buffer", [1, 7, 100])
def test_a_shuffle_buffer_draws_from_a_sliding_window(buffer):
    """As tf.data's `shuffle(buffer)`: a permutation whose i-th element is one of the first `buffer + i`."""
    from ldmnist_hf.training.step import epoch_order

    order = epoch_order(1000, seed=3, buffer=buffer).tolist()
    assert sorted(order) == list(range(1000))
    assert all(index < buffer + i for i, index in enumerate(order))
    assert order != epoch_order(1000, seed=4, buffer=buffer).tolist() or buffer == 1


def test_new_models_for_other_images_and_classes(tmp_path):
    """`JointModels.new` for a dataset's shape: MNIST's by default (the configurations shipped), or an RGB
    non-square one with named classes, whose channels-first images, flattened, go through the joint step."""
    import json
    from types import SimpleNamespace

    import numpy as np

    from ldmnist_hf.pretrained.loading import pretrained_path
    from ldmnist_hf.training.step import draw_noise, joint_losses, mnist_tensors

    args = subset_args(tmp_path, "shapes", latent_dim=32)
    JointModels.new(args).save(tmp_path / "mnist")
    for stem, shipped in (("image-vae", "image-vae-32"), ("class-vae", "class-vae-32")):
        saved = json.loads((tmp_path / "mnist" / stem / "config.json").read_text())
        expected = json.loads((pretrained_path(shipped) / "config.json").read_text())
        assert {**saved, "transformers_version": 0} == {**expected, "transformers_version": 0}

    names = {0: "cat", 1: "dog", 2: "ship"}
    models = JointModels.new(
        subset_args(tmp_path, "rgb"), image_shape=(3, 8, 6), num_classes=3, id2label=names
    )
    assert models.image_vae.config.image_size == [8, 6] and models.image_vae.config.num_channels == 3
    assert models.class_vae.config.num_classes == 3 and models.class_vae.config.id2label == names
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (16, 3, 8, 6), dtype=np.uint8), rng.integers(0, 3, 16)
    data = SimpleNamespace(train_images=images, train_labels=labels, test_images=images, test_labels=labels)
    x, y, _, _ = mnist_tensors(data, "cpu")
    assert x.shape == (16, 144)
    torch.testing.assert_close(models.image_vae.prepare_pixels(torch.from_numpy(images)), x)
    losses = joint_losses(models, x, y, draw_noise(models, 16, torch.Generator().manual_seed(0)))
    assert torch.isfinite(losses["loss"])
    with pytest.raises(
        ValueError, match=r"`image_shape` must be \(channels, height, width\), got \(28, 28\)"
    ):
        JointModels.new(args, image_shape=(28, 28))
    with pytest.raises(ValueError, match="`id2label` names 1 classes; `num_classes` is 3"):
        JointModels.new(args, num_classes=3, id2label={0: "a"})
