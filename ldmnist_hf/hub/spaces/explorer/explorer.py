"""What each latent component of LD-MNIST does: the numbers behind the explorer Space (numpy only).

The image VAE's decoder and the class VAE's decoder run here in numpy, read from the model repositories'
`config.json` and `model.safetensors` (the layers of `ImageVAE.decoder` in eval mode: Linear -> LeakyReLU ->
BatchNorm blocks, then Linear and a sigmoid); the test split's latents come from the dataset repository and
the digits from `ylecun/mnist` (a sibling's images, such as Fashion-MNIST's, from the Hub dataset its
`space.json` names under `source`). A slider move is one decode of one latent: well under a millisecond.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from huggingface_hub import hf_hub_download
from PIL import Image
from safetensors.numpy import load_file

INFORMATIVE_STD = 0.8  # a component is informative when its values vary less than this over the data
SLIDER_RANGE = 4.0  # a slider sets its component to a value in [-4, 4]: beyond, the decoder was never trained


def _repo_files(repo: str, names: tuple[str, ...], repo_type: str = "model") -> list[str]:
    if Path(repo).is_dir():  # a local folder (tests, or a Space duplicated with its files)
        return [str(Path(repo) / n) for n in names]
    return [hf_hub_download(repo, n, repo_type=repo_type) for n in names]


def _image_shape(config: dict) -> tuple[int, int, int]:
    """`(channels, height, width)` from an image VAE's `config.json`: `image_size` is an int (a square's side) or
    `[height, width]`; `num_channels` is absent for grey images (1)."""
    size = config["image_size"]
    height, width = (size, size) if isinstance(size, int) else size
    return int(config.get("num_channels", 1)), int(height), int(width)


class ImageDecoder:
    """The image VAE's decoder: latents `(n, L)` -> pixel probabilities `(n, height, width)` for grey images
    (`(n, 28, 28)` for MNIST), `(n, height, width, channels)` otherwise (channels last, as PIL takes them)."""

    def __init__(self, repo: str):
        config_path, weights_path = _repo_files(repo, ("config.json", "model.safetensors"))
        config = json.loads(Path(config_path).read_text())
        w = load_file(weights_path)
        self.slope, self.shape = float(config["leaky_relu_slope"]), _image_shape(config)
        self.latent_dim = int(config["latent_dim"])
        self.blocks = []
        n = len(config["decoder_hidden_sizes"])
        for i in range(n):  # each block: Dropout (0), Linear (1), LeakyReLU (2), BatchNorm (3)
            scale = w[f"decoder.{i}.3.weight"] / np.sqrt(
                w[f"decoder.{i}.3.running_var"] + config["batch_norm_eps"]
            )
            shift = w[f"decoder.{i}.3.bias"] - w[f"decoder.{i}.3.running_mean"] * scale
            self.blocks.append((w[f"decoder.{i}.1.weight"].T.copy(), w[f"decoder.{i}.1.bias"], scale, shift))
        self.out = (w[f"decoder.{n + 1}.weight"].T.copy(), w[f"decoder.{n + 1}.bias"])

    def __call__(self, z: np.ndarray) -> np.ndarray:
        h = np.asarray(z, np.float32).reshape(-1, self.latent_dim)
        for weight, bias, scale, shift in self.blocks:
            h = h @ weight + bias
            h = np.where(h >= 0, h, self.slope * h) * scale + shift
        logits = h @ self.out[0] + self.out[1]
        with np.errstate(over="ignore"):  # exp(-logits) overflows to inf for very negative logits: sigmoid 0
            probs = 1.0 / (1.0 + np.exp(-logits))
        channels, height, width = self.shape  # the model's flat output is in channels, height, width order
        if channels == 1:
            return probs.reshape(-1, height, width)
        return probs.reshape(-1, channels, height, width).transpose(0, 2, 3, 1)


class ClassDecoder:
    """The class VAE's decoder: latents `(n, L)` -> class probabilities `(n, 10)`."""

    def __init__(self, repo: str):
        (weights_path,) = _repo_files(repo, ("model.safetensors",))
        w = load_file(weights_path)
        self.weight, self.bias = w["decoder.weight"].T.copy(), w["decoder.bias"]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        logits = np.asarray(z, np.float32) @ self.weight + self.bias
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def _column(table, name: str) -> np.ndarray:
    col = table.column(name).combine_chunks()
    return col.flatten().to_numpy().reshape(len(col), -1)


def to_image(pixels: np.ndarray, scale: int = 8) -> Image.Image:
    """An array in [0, 1] as a PIL image, each pixel `scale` x `scale` (nearest): `(h, w)` (or `(h, w, 1)`) as a
    grey 'L' image, `(h, w, 3)` as 'RGB', `(h, w, 4)` as 'RGBA'."""
    values = np.asarray(pixels)
    if values.ndim == 3 and values.shape[-1] == 1:
        values = values[..., 0]
    if values.ndim != 2 and not (values.ndim == 3 and values.shape[-1] in (3, 4)):
        raise ValueError(f"An image must be (h, w), (h, w, 3) or (h, w, 4); got {values.shape}.")
    img = Image.fromarray(np.clip(values * 255 + 0.5, 0, 255).astype(np.uint8))
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST)


MNIST = {  # what `space.json`'s `source` says of a sibling's source dataset; LD-MNIST's has none
    "ld": "LD-MNIST",
    "title": "MNIST",
    "noun": "digit",
    "nouns": "digits",
    "class_names": [str(i) for i in range(10)],
}


class Explorer:
    """The test split's latents, both decoders and the components worth a slider.

    Args:
        space (`dict`): `dataset` (repo id or folder), `prefix` (the config's folder in it), `image_vae` and
            `class_vae` (repo ids or folders), `mnist` (repo id of the MNIST images, or `None`); a sibling's
            `source` instead: `ld`, `title`, `noun`, `nouns`, `class_names` and `images` (`repo`, `file`: its
            test images on the Hub).
    """

    def __init__(self, space: dict):
        self.source = {**MNIST, **(space.get("source") or {})}
        self.noun, self.class_names = self.source["noun"], list(self.source["class_names"])
        self.decode = ImageDecoder(space["image_vae"])
        self.classify = ClassDecoder(space["class_vae"])
        (test,) = _repo_files(
            space["dataset"], (space.get("prefix", "") + space["files"]["test_split"],), "dataset"
        )
        table = pq.read_table(test, columns=["x", "y", "label"])
        self.x, self.y, self.labels = (
            _column(table, "x"),
            _column(table, "y"),
            table.column("label").to_numpy(),
        )
        images = self.source.get("images") or {"repo": space.get("mnist"), "file": MNIST_TEST_FILE}
        self.digits = _test_images(images.get("repo"), images.get("file"))
        self.components = self._informative_by_importance()

    def _informative_by_importance(self, n: int = 200) -> list[int]:
        """The informative components (std below 0.8), the one that changes the decoded image most first."""
        std = self.x.std(axis=0)
        base, effect = self.decode(self.x[:n]), np.zeros(self.x.shape[1])
        for i in np.flatnonzero(std < INFORMATIVE_STD):
            for delta in (-2.0, -1.0, 1.0, 2.0):
                moved = self.x[:n].copy()
                moved[:, i] += delta
                effect[i] += np.abs(self.decode(moved) - base).mean()
        return [int(i) for i in np.argsort(-effect) if std[i] < INFORMATIVE_STD]

    def first_of_class(self, label: int) -> int:
        return int(np.flatnonzero(self.labels == int(label))[0])

    def check_index(self, index) -> int:
        """`index` as a row of the test split; `ValueError` with a one-line message otherwise."""
        try:
            value = float(index)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"The test {self.noun} must be a number from 0 to {len(self.x) - 1}.") from None
        if not np.isfinite(value) or value != int(value) or not 0 <= value < len(self.x):
            raise ValueError(f"There is no test {self.noun} {index}: choose one from 0 to {len(self.x) - 1}.")
        return int(value)

    def latent(self, index: int, values=None) -> np.ndarray:
        """Row `index`'s `x`, with the slider components set to `values` when given (one finite number per
        slider component; `ValueError` otherwise)."""
        z = self.x[self.check_index(index)].copy()
        if values is not None:
            try:
                values = np.asarray(values, np.float64)
            except (TypeError, ValueError):
                raise ValueError("Every slider value must be a number.") from None
            if values.shape != (len(self.components),):
                raise ValueError(
                    f"Got {values.size} slider values; this explorer has {len(self.components)} sliders."
                )
            if not np.isfinite(values).all() or np.abs(values).max(initial=0) > SLIDER_RANGE:
                raise ValueError(
                    f"Every slider value must be a number from -{SLIDER_RANGE:g} to {SLIDER_RANGE:g}."
                )
            # The sliders show 2 decimals: a component whose slider still shows its own value keeps it exactly.
            shown = np.round(z[self.components].astype(np.float64), 2)
            moved = np.abs(values - shown) > 1e-6
            z[np.asarray(self.components)[moved]] = values[moved].astype(np.float32)
        return z

    def label_of(self, index: int) -> int:
        return int(self.labels[self.check_index(index)])

    def class_text(self, label: int) -> str:
        """A class as the page names it: `7` for MNIST's digits, `9 (Ankle boot)` for named classes."""
        name = self.class_names[label] if 0 <= label < len(self.class_names) else str(label)
        return str(label) if name == str(label) else f"{label} ({name})"

    def reading(self, index: int) -> str:
        """What the class VAE makes of the dataset's `y` for this row (not of the edited image)."""
        index = self.check_index(index)
        probs = self.classify(self.y[index][None])[0]
        return (
            f"Test {self.noun} {index}, label {self.class_text(int(self.labels[index]))}. The dataset's target `y` "
            f"for it decodes, through the class VAE, to class {self.class_text(int(probs.argmax()))} (p = "
            f"{probs.max():.3f}); the sliders change `x` only."
        )

    def interpolation(self, a: int, b: int, steps: int = 9) -> np.ndarray:
        """Decodes of `(1 - t) x_a + t x_b` for `steps` values of t from 0 to 1, side by side: `(28, 28 * steps)`
        for MNIST (`(height, width * steps, channels)` for colour images)."""
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        images = self.decode((1 - t) * self.x[int(a)] + t * self.x[int(b)])
        return np.concatenate(list(images), axis=1)


MNIST_TEST_FILE = "mnist/test-00000-of-00001.parquet"  # in ylecun/mnist


def _test_images(repo: str | None, file: str | None) -> np.ndarray | None:
    """The source dataset's 10000 test images in order (uint8 `(10000, 28, 28)` for MNIST's digits) from the
    Parquet `file` of the Hub dataset `repo`, or `None` when they cannot be had."""
    if not repo or not file:
        return None
    try:
        (path,) = _repo_files(repo, (file,), "dataset")
        cells = pq.read_table(path, columns=["image"]).column("image").to_pylist()
        return np.stack([np.asarray(Image.open(io.BytesIO(c["bytes"])).convert("L")) for c in cells])
    except Exception:  # noqa: BLE001 - the explorer works without the original digits
        return None
