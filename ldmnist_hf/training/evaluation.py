"""Test figures of the three jointly trained models, measured on the test split of their source dataset.

`evaluate_models` scores the joint losses and accuracies (the training loop logs them every epoch);
`evaluate_run` adds what the model cards report: accuracy over several posterior draws, the middle
layers' MSE and the per-component std of the latents, with the count of informative components.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..data.statistics import INFORMATIVE_STD, informative_components
from ..models.modeling_class_vae import ClassVAE
from .step import JointModels, averages, batch_sums, draw_noise, joint_losses, mnist_tensors


@torch.no_grad()
def evaluate_models(
    models: JointModels, images: torch.Tensor, labels: torch.Tensor, seed: int = 0, batch_size: int = 10000
) -> dict[str, float]:
    """Test figures: VAE losses, the class VAE's accuracy from SAMPLED latents, the middle layers' accuracy.

    `images` float `(N, 784)` in [0, 1], `labels` int64 `(N,)`, on the models' device. Deterministic given `seed`.
    """
    was_training = models.training
    models.eval()
    gen = torch.Generator(images.device).manual_seed(seed)
    sums = 0
    for i in range(0, len(images), batch_size):
        x, y = images[i : i + batch_size], labels[i : i + batch_size]
        losses = joint_losses(models, x, y, draw_noise(models, len(x), gen))
        sums = sums + batch_sums(losses, len(x))
    models.train(was_training)
    return averages(losses, sums, len(images))


@torch.no_grad()
def class_accuracy_draws(
    class_vae: ClassVAE, labels: torch.Tensor, draws: int = 20, seed: int = 0
) -> np.ndarray:
    """Accuracy of the class decoded from a SAMPLED latent of each label, for `draws` independent draws.

    One draw varies by about 0.05 points, so figures are given as the mean and sd over draws.
    `labels` int64 `(N,)` on the model's device. Returns `(draws,)` float64. Deterministic given `seed`.
    """
    was_training = class_vae.training
    class_vae.eval()
    posterior = class_vae.posterior(F.one_hot(labels, class_vae.config.num_classes).to(class_vae.dtype))
    gen = torch.Generator(labels.device).manual_seed(seed)
    accs = [
        (class_vae.class_logits(posterior.sample(gen)).argmax(-1) == labels).double().mean().item()
        for _ in range(draws)
    ]
    class_vae.train(was_training)
    return np.array(accs)


@torch.no_grad()
def latent_std(vae, inputs: torch.Tensor, seed: int = 0, batch_size: int = 10000) -> np.ndarray:
    """Per-component std of SAMPLED latents, shape `(latent_dim,)`.

    `vae` is an `ImageVAE` (inputs: float pixels `(N, 784)`) or a `ClassVAE` (inputs: labels `(N,)`).
    """
    vae.eval()
    gen = torch.Generator(inputs.device).manual_seed(seed)
    zs = [
        vae.encode(inputs[i : i + batch_size]).latent_dist.sample(gen)
        for i in range(0, len(inputs), batch_size)
    ]
    return torch.cat(zs).std(0).cpu().numpy()


@torch.no_grad()
def middle_layers_mse(
    models: JointModels, images: torch.Tensor, labels: torch.Tensor, seed: int = 0
) -> float:
    """MSE between the middle layers' output on sampled image latents and sampled class latents (one draw).

    `images` float `(N, 784)` in [0, 1], `labels` int64 `(N,)`: the quantity the benchmark scores on the
    dataset's test split, measured here straight from MNIST.
    """
    models.eval()
    gen = torch.Generator(images.device).manual_seed(seed)
    z_x = models.image_vae.encode(images).latent_dist.sample(gen)
    z_y = models.class_vae.encode(labels).latent_dist.sample(gen)
    prediction = models.middle_layers(z_x).outputs
    return float(((prediction.double() - z_y.double()) ** 2).mean())


def pixel_mlp_accuracy(mnist, seed: int = 0, epochs: int = 10, batch_size: int = 128) -> float:
    """Test accuracy of an MLP classifier trained on the raw pixels: what the joint models' image -> class
    accuracy is stated beside for another source dataset than MNIST (how hard its images are to classify).

    Dense 256 -> ReLU -> Dense 128 -> ReLU -> Dense K on pixels in [0, 1], cross-entropy, Adam 1e-3,
    `epochs` epochs of shuffled batches (seeded; on the CPU: seconds per epoch on 60000 28x28 images).
    """
    gen = torch.Generator().manual_seed(seed)
    train_x, train_y, test_x, test_y = mnist_tensors(mnist, "cpu")
    k = len(mnist.class_names)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(train_x.shape[1], 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, k),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(train_x), generator=gen)
        for i in range(0, len(order), batch_size):
            rows = order[i : i + batch_size]
            loss = F.cross_entropy(model(train_x[rows]), train_y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return float((model(test_x).argmax(dim=1) == test_y).float().mean())


def evaluate_run(
    models: JointModels, mnist, seed: int = 0, draws: int = 20, pixel_baseline: bool = False
) -> dict:
    """The figures the cards report, measured on real MNIST.

    Args:
        models (`JointModels`): the three models, on the device to evaluate on.
        mnist (`MNIST`): the data (`load_mnist()`).
        seed (`int`, defaults to 0): the sampling noise.
        draws (`int`, defaults to 20): posterior draws for the class VAE's accuracy.
        pixel_baseline (`bool`, defaults to `False`): also train `pixel_mlp_accuracy`'s MLP on the raw pixels
            (`pixel_mlp_accuracy`); the release does for source datasets other than MNIST.

    Returns:
        `dict`: test BCE/KL of both VAEs, the class VAE's accuracy from sampled latents (one draw with
        `seed`, and the mean and standard deviation over `draws` draws), the middle layers' accuracy and
        MSE, the per-component std of sampled image and class latents over the train set, and how many
        components are informative (std below `informative_std`).
    """
    device = models.image_vae.device
    train_x, train_y, test_x, test_y = mnist_tensors(mnist, str(device))
    one = evaluate_models(models, test_x, test_y, seed=seed)
    accs = class_accuracy_draws(models.class_vae, test_y, draws=draws, seed=seed)
    x_std = latent_std(models.image_vae, train_x, seed=seed)
    y_std = latent_std(models.class_vae, train_y, seed=seed)
    extra = {"pixel_mlp_accuracy": pixel_mlp_accuracy(mnist, seed)} if pixel_baseline else {}
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
        "x_informative_components": informative_components(x_std),
        "y_informative_components": informative_components(y_std),
        "informative_std": INFORMATIVE_STD,
        **extra,
    }
