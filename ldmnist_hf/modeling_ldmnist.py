"""The LD-MNIST models as `transformers` models: image VAE, class VAE and middle layers.

The architecture follows the 2020 reference (TensorFlow/Keras): Dense layers with Keras' defaults
(Glorot-uniform kernels, zero biases, LeakyReLU slope 0.3, BatchNorm epsilon 1e-3). Importing this
module registers the three models with `AutoConfig` and `AutoModel`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_ldmnist import ClassVAEConfig, ImageVAEConfig, MiddleLayersConfig
from .distributions import DiagonalGaussian

# Keras clips probabilities to [1e-7, 1 - 1e-7] inside binary_crossentropy.
_KERAS_EPSILON = 1e-7


def keras_binary_crossentropy(probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Keras' `binary_crossentropy` on probabilities: clipped, averaged over the last axis. Shape `(batch,)`."""
    p = probs.clamp(_KERAS_EPSILON, 1 - _KERAS_EPSILON)
    return -(target * p.log() + (1 - target) * (1 - p).log()).mean(dim=-1)


class _BCEWithLogitsMean(torch.autograd.Function):
    """Mean binary cross-entropy of `sigmoid(logits)` against `target`, in fewer passes than PyTorch's.

    `F.binary_cross_entropy_with_logits` makes about nine elementwise passes over its inputs (log-sigmoid
    with a buffer, `1 - target`, products, the mean, then sigmoid, subtraction and scaling backward). On the
    image VAE's `(batch, 784)` output at batch 10000 those passes cost about as much as the matmuls. Here:
    forward = softplus + sum + one dot product (`BCE = softplus(l) - t * l`), backward = sigmoid + two
    in-place passes (`d/dl = sigmoid(l) - t`).
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(logits, target)
        flat_l, flat_t = logits.reshape(-1), target.reshape(-1)
        return (F.softplus(flat_l).sum() - torch.dot(flat_l, flat_t)) / flat_l.numel()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        logits, target = ctx.saved_tensors
        grad_logits = torch.sigmoid(logits).sub_(target).mul_(grad / logits.numel())
        return grad_logits, None


def bce_with_logits_mean(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """`F.binary_cross_entropy_with_logits(logits, target)` (mean reduction) with a cheaper backward pass.

    The gradient reaches `logits` only (targets are data). Under `torch.compile` the library op is used,
    since the compiler fuses it anyway.

    >>> import torch, torch.nn.functional as F
    >>> l, t = torch.randn(4, 6), torch.rand(4, 6)
    >>> torch.allclose(bce_with_logits_mean(l, t), F.binary_cross_entropy_with_logits(l, t))
    True
    """
    if torch.compiler.is_compiling():
        return F.binary_cross_entropy_with_logits(logits, target)
    return _BCEWithLogitsMean.apply(logits, target)


def _check_batch(name: str, tensor: torch.Tensor, expected: str) -> None:
    if tensor.ndim == 0 or tensor.shape[0] == 0:
        raise ValueError(f"`{name}` is empty; expected shape {expected}.")


class _Block(nn.Sequential):
    """Dense -> activation -> BatchNorm -> Dropout, or Dropout -> Dense -> activation -> BatchNorm."""

    def __init__(self, n_in, n_out, activation, config, dropout_first=False):
        layers = [
            nn.Linear(n_in, n_out),
            activation,
            nn.BatchNorm1d(n_out, eps=config.batch_norm_eps, momentum=config.batch_norm_momentum),
        ]
        dropout = nn.Dropout(config.dropout)
        super().__init__(*([dropout, *layers] if dropout_first else [*layers, dropout]))


class LDMNISTPreTrainedModel(PreTrainedModel):
    """Weight initialisation as Keras does it: Glorot-uniform kernels, zero biases, BatchNorm at 1/0."""

    base_model_prefix = "ldmnist"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm1d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
            module.running_mean.zero_()
            module.running_var.fill_(1.0)


# ----------------------------------------------------------------------------- outputs


@dataclass
class VAEEncoderOutput(ModelOutput):
    """
    Args:
        latent_dist (`DiagonalGaussian`): the posterior; `.mean`, `.std`, `.sample(generator)`, `.mode()`.
    """

    latent_dist: DiagonalGaussian | None = None


@dataclass
class ImageVAEDecoderOutput(ModelOutput):
    """
    Args:
        sample (`torch.FloatTensor` of shape `(batch, 28, 28)`): pixel probabilities in [0, 1].
        logits (`torch.FloatTensor` of shape `(batch, 28, 28)`): the same before the sigmoid.
    """

    sample: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None


@dataclass
class ClassVAEDecoderOutput(ModelOutput):
    """
    Args:
        probs (`torch.FloatTensor` of shape `(batch, num_classes)`): class probabilities (softmax).
        logits (`torch.FloatTensor` of shape `(batch, num_classes)`): the same before the softmax.
    """

    probs: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None


@dataclass
class VAEOutput(ModelOutput):
    """
    Args:
        loss (`torch.FloatTensor` of shape `()`): `reconstruction_loss + kl_weight * kl_loss`.
        reconstruction_loss (`torch.FloatTensor` of shape `()`): mean binary cross-entropy.
        kl_loss (`torch.FloatTensor` of shape `()`): the reference's KL term, averaged over the batch.
        latents (`torch.FloatTensor` of shape `(batch, latent_dim)`): the decoded latents.
        reconstruction (`torch.FloatTensor`): images `(batch, 28, 28)` or class probabilities `(batch, 10)`.
        logits (`torch.FloatTensor`): the reconstruction before its sigmoid or softmax.
        latent_dist (`DiagonalGaussian`): the posterior.
    """

    loss: torch.FloatTensor | None = None
    reconstruction_loss: torch.FloatTensor | None = None
    kl_loss: torch.FloatTensor | None = None
    latents: torch.FloatTensor | None = None
    reconstruction: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    latent_dist: DiagonalGaussian | None = None


@dataclass
class MiddleLayersOutput(ModelOutput):
    """
    Args:
        outputs (`torch.FloatTensor` of shape `(batch, latent_dim)`): predicted class latents.
    """

    outputs: torch.FloatTensor | None = None


# ----------------------------------------------------------------------------- image VAE


class ImageVAE(LDMNISTPreTrainedModel):
    r"""The image VAE: a 28x28 digit <-> a latent vector of `config.latent_dim` components.

    Example:

    >>> import torch
    >>> from ldmnist_hf import ImageVAE, ImageVAEConfig
    >>> vae = ImageVAE(ImageVAEConfig(latent_dim=8)).eval()
    >>> images = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    >>> posterior = vae.encode(images).latent_dist
    >>> z = posterior.sample(torch.Generator().manual_seed(0))
    >>> z.shape, vae.decode(z).sample.shape
    (torch.Size([4, 8]), torch.Size([4, 28, 28]))
    >>> vae(images).loss.ndim
    0
    """

    config_class = ImageVAEConfig
    main_input_name = "pixel_values"

    def __init__(self, config: ImageVAEConfig):
        super().__init__(config)
        n_pixels = config.image_size**2
        sizes = [n_pixels, *config.encoder_hidden_sizes]
        self.encoder = nn.Sequential(*(_Block(a, b, nn.ReLU(), config) for a, b in zip(sizes, sizes[1:])))
        self.mean_head = nn.Linear(sizes[-1], config.latent_dim)
        self.log_var_head = nn.Linear(sizes[-1], config.latent_dim)
        sizes = [config.latent_dim, *config.decoder_hidden_sizes]
        self.decoder = nn.Sequential(
            *(
                _Block(a, b, nn.LeakyReLU(config.leaky_relu_slope), config, dropout_first=True)
                for a, b in zip(sizes, sizes[1:])
            ),
            nn.Dropout(config.dropout),
            nn.Linear(sizes[-1], n_pixels),
        )
        self.post_init()

    def prepare_pixels(self, pixel_values) -> torch.Tensor:
        """uint8 in 0..255 or float in [0, 1], shape `(B, S, S)`, `(B, 1, S, S)` or `(B, S*S)` -> float `(B, S*S)`."""
        s = self.config.image_size
        expected = f"(batch, {s}, {s}), (batch, 1, {s}, {s}) or (batch, {s * s})"
        x = torch.as_tensor(pixel_values)
        _check_batch("pixel_values", x, expected)
        if x.shape[1:] not in (torch.Size([s, s]), torch.Size([1, s, s]), torch.Size([s * s])):
            raise ValueError(f"`pixel_values` has shape {tuple(x.shape)}; expected {expected}.")
        if x.dtype == torch.uint8:
            x = x.to(torch.float32) / 255.0
        elif x.is_floating_point():
            if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
                raise ValueError("float `pixel_values` must be finite and in [0, 1]; pass uint8 for 0..255.")
        else:
            raise ValueError(
                f"`pixel_values` has dtype {x.dtype}; expected uint8 (0..255) or float in [0, 1]."
            )
        param = self.mean_head.weight
        return x.reshape(x.shape[0], s * s).to(device=param.device, dtype=param.dtype)

    def posterior(self, pixels: torch.Tensor) -> DiagonalGaussian:
        """Tensor-level encoder: float pixels `(batch, image_size**2)` in [0, 1], already checked -> posterior."""
        h = self.encoder(pixels)  # (B, hidden)
        return DiagonalGaussian(self.mean_head(h), self.log_var_head(h), self.config.sampling)

    def forward_loss(self, pixels: torch.Tensor, noise: torch.Tensor | None = None) -> VAEOutput:
        """Tensor-level loss, shared by `forward` and the joint training step.

        Args:
            pixels (`torch.FloatTensor` of shape `(batch, image_size**2)`): checked pixels in [0, 1]
                (see `prepare_pixels`).
            noise (`torch.FloatTensor` of shape `(batch, latent_dim)`, *optional*): standard normal noise
                for the posterior sample; `None` decodes the posterior mean.

        Returns:
            `VAEOutput` with `loss`, `reconstruction_loss`, `kl_loss`, `latents`, `latent_dist` and the flat
            `logits` `(batch, image_size**2)`; `reconstruction` is left `None` (no sigmoid pass in training).
        """
        posterior = self.posterior(pixels)
        z = posterior.mode() if noise is None else posterior.sample(noise=noise)
        logits = self.decoder(z)  # (B, S*S)
        # Mean binary cross-entropy over pixels, computed from logits (stable, few passes over (B, S*S)).
        rec = bce_with_logits_mean(logits, pixels)
        kl = posterior.kl().mean()
        return VAEOutput(
            loss=rec + self.config.kl_weight * kl,
            reconstruction_loss=rec,
            kl_loss=kl,
            latents=z,
            logits=logits,
            latent_dist=posterior,
        )

    def encode(self, pixel_values) -> VAEEncoderOutput:
        """Encodes images into the posterior over latents.

        Args:
            pixel_values: uint8 `(batch, 28, 28)` in 0..255, or float in [0, 1] (also `(batch, 784)`).
        """
        return VAEEncoderOutput(self.posterior(self.prepare_pixels(pixel_values)))

    def decode(self, latents: torch.Tensor) -> ImageVAEDecoderOutput:
        """Decodes latents `(batch, latent_dim)` into pixel probabilities `(batch, 28, 28)`."""
        latents = _check_latents(latents, self.config.latent_dim, self.mean_head.weight)
        s = self.config.image_size
        logits = self.decoder(latents).reshape(-1, s, s)
        return ImageVAEDecoderOutput(sample=torch.sigmoid(logits), logits=logits)

    def forward(
        self, pixel_values, sample_posterior: bool = False, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encodes, decodes (the posterior mean unless `sample_posterior`) and computes the VAE losses."""
        x = self.prepare_pixels(pixel_values)
        noise = _draw_noise(len(x), self.config.latent_dim, x, generator) if sample_posterior else None
        out = self.forward_loss(x, noise)
        s = self.config.image_size
        out.logits = out.logits.reshape(-1, s, s)
        out.reconstruction = torch.sigmoid(out.logits)
        return out


def _draw_noise(batch: int, latent_dim: int, like: torch.Tensor, generator) -> torch.Tensor:
    return torch.randn(batch, latent_dim, generator=generator, device=like.device, dtype=like.dtype)


def _check_latents(latents, latent_dim: int, like: torch.Tensor) -> torch.Tensor:
    z = torch.as_tensor(latents)
    expected = f"(batch, {latent_dim})"
    _check_batch("latents", z, expected)
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"`latents` has shape {tuple(z.shape)}; expected {expected}.")
    if not z.is_floating_point():
        raise ValueError(f"`latents` has dtype {z.dtype}; expected a floating-point tensor.")
    z = z.to(device=like.device, dtype=like.dtype)
    if not torch.isfinite(
        z
    ).all():  # argmax of NaN logits is class 0: a wrong answer, not an error, otherwise
        bad = int((~torch.isfinite(z)).any(-1).sum())
        raise ValueError(
            f"`latents` holds NaN or inf values in {bad} of {len(z)} rows; expected finite values."
        )
    return z


# ----------------------------------------------------------------------------- class VAE


class ClassVAE(LDMNISTPreTrainedModel):
    r"""The class VAE: a linear map from a one-hot class to a posterior, and from a latent to class logits.

    Example:

    >>> import torch
    >>> from ldmnist_hf import ClassVAE, ClassVAEConfig
    >>> vae = ClassVAE(ClassVAEConfig(latent_dim=8)).eval()
    >>> posterior = vae.encode(torch.tensor([5, 0, 4])).latent_dist
    >>> vae.decode(posterior.mode()).probs.shape
    torch.Size([3, 10])
    >>> vae.encode(torch.tensor([10]))
    Traceback (most recent call last):
    ...
    ValueError: `labels` must be integers in 0..9, got values from 10 to 10.
    """

    config_class = ClassVAEConfig
    main_input_name = "labels"

    def __init__(self, config: ClassVAEConfig):
        super().__init__(config)
        self.mean_head = nn.Linear(config.num_classes, config.latent_dim)
        self.log_var_head = nn.Linear(config.num_classes, config.latent_dim)
        self.decoder = nn.Linear(config.latent_dim, config.num_classes)
        self.post_init()

    def one_hot(self, labels) -> torch.Tensor:
        """Integer labels `(batch,)` in `0..num_classes-1` -> float one-hot `(batch, num_classes)`."""
        y = torch.as_tensor(labels)
        k = self.config.num_classes
        _check_batch("labels", y, "(batch,)")
        if y.ndim != 1:
            raise ValueError(f"`labels` has shape {tuple(y.shape)}; expected (batch,) of class indices.")
        if y.is_floating_point() or y.dtype == torch.bool or y.is_complex():
            raise ValueError(f"`labels` has dtype {y.dtype}; expected integers in 0..{k - 1}.")
        if y.min() < 0 or y.max() >= k:
            raise ValueError(
                f"`labels` must be integers in 0..{k - 1}, got values from {y.min()} to {y.max()}."
            )
        w = self.mean_head.weight
        return F.one_hot(y.to(device=w.device, dtype=torch.long), k).to(w.dtype)

    def posterior(self, one_hot: torch.Tensor) -> DiagonalGaussian:
        """Tensor-level encoder: float one-hot `(batch, num_classes)` -> posterior."""
        return DiagonalGaussian(self.mean_head(one_hot), self.log_var_head(one_hot), self.config.sampling)

    def class_logits(self, latents: torch.Tensor, detach_decoder: bool = False) -> torch.Tensor:
        """Tensor-level decoder: latents `(batch, latent_dim)` -> class logits `(batch, num_classes)`.

        `detach_decoder=True` lets gradients reach the latents but not the decoder's weights (the middle
        layers' classification loss when it must not train the class VAE).
        """
        if detach_decoder:
            return F.linear(latents, self.decoder.weight.detach(), self.decoder.bias.detach())
        return self.decoder(latents)

    @staticmethod
    def reconstruction_loss(logits: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        """Keras' `binary_crossentropy` between the one-hot target and the softmax (the reference's class
        loss, not categorical cross-entropy), averaged over the batch. Shape `()`."""
        return keras_binary_crossentropy(logits.softmax(-1), one_hot).mean()

    def forward_loss(self, one_hot: torch.Tensor, noise: torch.Tensor | None = None) -> VAEOutput:
        """Tensor-level loss, shared by `forward` and the joint training step.

        Args:
            one_hot (`torch.FloatTensor` of shape `(batch, num_classes)`): the targets (see `one_hot`).
            noise (`torch.FloatTensor` of shape `(batch, latent_dim)`, *optional*): standard normal noise
                for the posterior sample; `None` decodes the posterior mean.

        Returns:
            `VAEOutput` with `loss`, `reconstruction_loss`, `kl_loss`, `latents`, `logits` and
            `latent_dist`; `reconstruction` is left `None`.
        """
        posterior = self.posterior(one_hot)
        z = posterior.mode() if noise is None else posterior.sample(noise=noise)
        logits = self.class_logits(z)
        rec = self.reconstruction_loss(logits, one_hot)
        kl = posterior.kl().mean()
        return VAEOutput(
            loss=rec + self.config.kl_weight * kl,
            reconstruction_loss=rec,
            kl_loss=kl,
            latents=z,
            logits=logits,
            latent_dist=posterior,
        )

    def encode(self, labels) -> VAEEncoderOutput:
        """Encodes class indices `(batch,)` into the posterior over latents."""
        return VAEEncoderOutput(self.posterior(self.one_hot(labels)))

    def decode(self, latents: torch.Tensor) -> ClassVAEDecoderOutput:
        """Decodes latents `(batch, latent_dim)` into class logits and probabilities `(batch, num_classes)`."""
        logits = self.class_logits(_check_latents(latents, self.config.latent_dim, self.decoder.weight))
        return ClassVAEDecoderOutput(probs=logits.softmax(-1), logits=logits)

    @torch.no_grad()
    def predict(self, latents: torch.Tensor) -> torch.Tensor:
        """The most likely class of each latent, `(batch,)` int64."""
        return self.decode(latents).logits.argmax(-1)

    def forward(
        self, labels, sample_posterior: bool = False, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encodes, decodes (the posterior mean unless `sample_posterior`) and computes the VAE losses.

        The reconstruction loss is Keras' `binary_crossentropy` between the one-hot label and the softmax,
        as in the reference (not categorical cross-entropy).
        """
        target = self.one_hot(labels)
        noise = (
            _draw_noise(len(target), self.config.latent_dim, target, generator) if sample_posterior else None
        )
        out = self.forward_loss(target, noise)
        out.reconstruction = out.logits.softmax(-1)
        return out


# ----------------------------------------------------------------------------- middle layers


class MiddleLayers(LDMNISTPreTrainedModel):
    r"""An MLP from image latents to class latents (Dense -> LeakyReLU -> BatchNorm -> Dropout blocks, then Dense).

    Example:

    >>> import torch
    >>> from ldmnist_hf import MiddleLayers, MiddleLayersConfig
    >>> mlp = MiddleLayers(MiddleLayersConfig(latent_dim=8)).eval()
    >>> mlp(torch.zeros(2, 8)).outputs.shape
    torch.Size([2, 8])
    """

    config_class = MiddleLayersConfig
    main_input_name = "inputs"

    def __init__(self, config: MiddleLayersConfig):
        super().__init__(config)
        sizes = [config.latent_dim, *config.hidden_sizes]
        self.layers = nn.Sequential(
            *(_Block(a, b, nn.LeakyReLU(config.leaky_relu_slope), config) for a, b in zip(sizes, sizes[1:])),
            nn.Linear(sizes[-1], config.latent_dim),
        )
        self.post_init()

    def transform(self, latents: torch.Tensor) -> torch.Tensor:
        """Tensor-level forward: image latents `(batch, latent_dim)`, already checked -> class latents."""
        return self.layers(latents)

    def forward(self, inputs: torch.Tensor) -> MiddleLayersOutput:
        """Maps `(batch, latent_dim)` image latents to `(batch, latent_dim)` class latents."""
        x = _check_latents(inputs, self.config.latent_dim, self.layers[-1].weight)
        return MiddleLayersOutput(outputs=self.transform(x))


for _config, _model in (
    (ImageVAEConfig, ImageVAE),
    (ClassVAEConfig, ClassVAE),
    (MiddleLayersConfig, MiddleLayers),
):
    AutoConfig.register(_config.model_type, _config, exist_ok=True)
    AutoModel.register(_config, _model, exist_ok=True)
