"""LD-MNIST metric: MSE of predicted vs target class latents, and reconstructed accuracy."""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

_CITATION = """\
@misc{ldmnist2020,
  title  = {Low dimensional MNIST dataset},
  author = {dimitree54},
  howpublished = {https://github.com/dimitree54/ld_mnist},
  year   = {2020}
}
"""

_DESCRIPTION = """\
Scores a model that maps LD-MNIST image latents `x` to class latents `y`.

`mse` is the mean squared error over all rows and components (as in the 2020 reference), from 0 up;
lower is better. Targets are random draws from the class VAE's posterior, so no model reaches 0: the
floor is the mean posterior variance of `y` (the "noise floor" rows of the benchmark table).

`reconstructed_accuracy` applies the class VAE's decoder to the predictions and compares its argmax with
the original MNIST labels, from 0 to 1; higher is better. It is given when `labels` are passed.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list`, `np.ndarray` or `torch.Tensor` of shape `(N, latent_dim)`): predicted `y`.
    references (same type and shape): the dataset's `y`.
    labels (`list`, `np.ndarray` or `torch.Tensor` of shape `(N,)`, *optional*): the original labels
        (the dataset's `label` column), integers in 0..9. Without them only `mse` is returned.

Returns:
    `mse` (`float`): mean squared error, 0 or more, lower is better.
    `reconstructed_accuracy` (`float`, with `labels`): accuracy of the class decoder on the predictions.

Examples:

    >>> import evaluate, ldmnist_hf
    >>> metric = evaluate.load(ldmnist_hf.METRIC_PATH)
    >>> y = [[0.0] * 32, [1.0] * 32]
    >>> metric.compute(predictions=y, references=[[0.0] * 32, [0.0] * 32])
    {'mse': 0.5}
    >>> from ldmnist_hf import load_pretrained
    >>> import torch
    >>> class_vae = load_pretrained("class-vae-32")
    >>> means = class_vae.encode(torch.tensor([3, 7])).latent_dist.mean
    >>> metric.compute(predictions=means, references=means, labels=[3, 7])
    {'mse': 0.0, 'reconstructed_accuracy': 1.0}
    >>> metric.compute(predictions=[[0.0] * 32], references=[[0.0] * 31])
    Traceback (most recent call last):
    ...
    ValueError: `references` has shape (1, 31) but `predictions` has shape (1, 32); both must be (N, latent_dim) with the same N and latent_dim.
"""

_NO_LABEL = -1


def _as_array(name: str, value, ndim: int, dtype) -> np.ndarray:
    if value is None:
        raise ValueError(f"`{name}` is missing.")
    if hasattr(value, "detach"):  # torch tensors, on any device
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"`{name}` could not be read as a {ndim}-d array of numbers ({e}).") from e
    if array.ndim != ndim:
        want = "(N, latent_dim)" if ndim == 2 else "(N,)"
        raise ValueError(f"`{name}` has shape {array.shape}; expected {want}.")
    return array


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Ldmnist(evaluate.Metric):
    """`evaluate.load(ldmnist_hf.METRIC_PATH, class_decoder=...)`: the class decoder is the shipped 32-d
    class VAE by default, or any ClassVAE given by a local folder or Hub id."""

    def __init__(self, class_decoder: str = "class-vae-32", **kwargs):
        self.class_decoder = class_decoder
        super().__init__(**kwargs)

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float32")),
                    "references": datasets.Sequence(datasets.Value("float32")),
                    "labels": datasets.Value("int64"),
                }
            ),
            reference_urls=["https://github.com/dimitree54/ld_mnist"],
        )

    def _download_and_prepare(self, dl_manager):
        from ldmnist_hf import load_pretrained

        self.decoder = load_pretrained(self.class_decoder, "ClassVAE")

    def _validate(self, predictions, references, labels):
        p = _as_array("predictions", predictions, 2, np.float32)
        r = _as_array("references", references, 2, np.float32)
        if p.shape != r.shape:
            raise ValueError(
                f"`references` has shape {r.shape} but `predictions` has shape {p.shape}; both must be "
                f"(N, latent_dim) with the same N and latent_dim."
            )
        if len(p) == 0:
            raise ValueError("`predictions` is empty: pass at least one row.")
        for name, a in (("predictions", p), ("references", r)):
            if not np.isfinite(a).all():
                raise ValueError(
                    f"`{name}` holds NaN or infinite values ({int((~np.isfinite(a)).sum())} of them)."
                )
        if labels is None:
            return p, r, np.full(len(p), _NO_LABEL, np.int64)
        y = _as_array("labels", labels, 1, np.float64)
        if len(y) != len(p):
            raise ValueError(f"`labels` has {len(y)} entries but `predictions` has {len(p)} rows.")
        if (y != np.round(y)).any() or y.min() < 0 or y.max() > 9:
            raise ValueError(
                f"`labels` must be integers in 0..9, got values from {y.min():g} to {y.max():g}."
            )
        return p, r, y.astype(np.int64)

    def add_batch(self, *, predictions=None, references=None, labels=None):
        """Adds a batch after checking it (shapes, finite values, labels in 0..9)."""
        p, r, y = self._validate(predictions, references, labels)
        super().add_batch(predictions=p, references=r, labels=y)

    def compute(self, *, predictions=None, references=None, labels=None):
        """Scores the given rows, or the batches added so far when called without arguments."""
        if not (predictions is None and references is None and labels is None):
            self.add_batch(predictions=predictions, references=references, labels=labels)
        return super().compute()

    def _compute(self, predictions, references, labels):
        predictions = np.asarray(predictions, np.float32)
        references = np.asarray(references, np.float32)
        labels = np.asarray(labels, np.int64)
        if predictions.size == 0:
            raise ValueError("No predictions were added: pass at least one row.")
        result = {"mse": float(np.mean((predictions.astype(np.float64) - references) ** 2))}
        has_label = labels != _NO_LABEL
        if has_label.any():
            if not has_label.all():
                raise ValueError(
                    "`labels` were given for some batches but not others: give them for all or none."
                )
            import torch

            latent_dim = self.decoder.config.latent_dim
            if predictions.shape[1] != latent_dim:
                raise ValueError(
                    f"Predictions have {predictions.shape[1]} components but the class decoder "
                    f"({self.class_decoder}) expects {latent_dim}; load the metric with the matching "
                    f"class_decoder=... ."
                )
            classes = self.decoder.predict(torch.from_numpy(predictions)).numpy()
            result["reconstructed_accuracy"] = float((classes == labels).mean())
        return result
