"""Helpers the tests share: a Python without this package, the tiny world of real files, bad-input tables.

`run_python` runs code in a fresh interpreter in which the named packages cannot be imported, as for a user who
never installed them. `make_tiny_world` writes small but real files (a 6-d model pair, 60 digits, a built
dataset, an unfinished and a finished training run) once per session (conftest.py's `tiny` fixture).
`write_hub_layout` writes MNIST as a local dataset in the ylecun/mnist layout. `bad_input_test` makes the test
of a module's bad-input table; `resign`, `rewrite_split`, `with_column` and `nan_in` damage a built folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

# The repository's root (README.md, docs/, bench/, loading_script/), wherever under tests/ a test file sits.
ROOT = Path(__file__).resolve().parents[1]
TRAIN_FILE = "data/train-00000-of-00001.parquet"  # a built folder's train split
# PROPERTY_EXAMPLES=2000 pytest -k "any_input or valid_or_refused or resumes_or_is_refused" searches harder
# than the default run does (the property-based tests of the metric, the configs and a checkpoint).
PROPERTY_EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "60"))

# Run first in the child: the named top-level packages cannot be imported. `find_spec` still answers (a spec
# whose loader refuses), so libraries that probe for optional packages do not crash; nothing loads.
_BLOCK = """\
import importlib.abc as _abc, importlib.machinery as _machinery, sys as _sys
class _Refuse(_abc.Loader):
    def create_module(self, spec):
        raise ModuleNotFoundError(f"No module named {{spec.name!r}} (hidden by the test)", name=spec.name)
    def exec_module(self, module):
        pass
class _Block(_abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            return _machinery.ModuleSpec(name, _Refuse())
_sys.meta_path.insert(0, _Block())
"""


def run_python(
    code: str,
    env: dict[str, str] | None = None,
    blocked: tuple[str, ...] = ("ldmnist_hf",),
    cwd: str | os.PathLike | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter in which the `blocked` packages cannot be imported.

    The code goes into a script in a temporary folder (so neither the repository nor the current folder is on
    `sys.path`), after a `sys.meta_path` finder that refuses the blocked packages, which also hides an
    editable install.

    Args:
        code (`str`): Python source.
        env (`dict`, *optional*): the environment, e.g. `HubStub.env(...)`; defaults to `os.environ`.
        blocked (`tuple[str, ...]`, defaults to `("ldmnist_hf",)`): top-level package names.
        cwd (`Path`, *optional*): working folder; defaults to the script's temporary folder.
        timeout (`float`, *optional*): seconds.

    Returns:
        `subprocess.CompletedProcess` with text stdout and stderr.

    >>> run_python("import ldmnist_hf").returncode
    1
    >>> run_python("print(40 + 2)", blocked=()).stdout
    '42\\n'
    """
    with tempfile.TemporaryDirectory(prefix="isolated-py-") as folder:
        script = Path(folder) / "snippet.py"
        script.write_text(_BLOCK.format(blocked=tuple(blocked)) + "\n" + code)
        return subprocess.run(
            [sys.executable, str(script)],
            env=env,
            cwd=cwd or folder,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def need(message: str) -> None:
    """What a test does when the machine lacks something it needs (a browser, a Debian package): in CI (`CI`
    set, as `.ci/run` sets it) a failure, never a skip; elsewhere a skip naming what to install."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_ldmnist(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """The `ldmnist` command line in a subprocess, as a user runs it: `ldmnist ARGS` with `env`."""
    return subprocess.run(
        [sys.executable, "-m", "ldmnist_hf.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def tiny_mnist():
    """60 random 28x28 images (not digits) with labels 0..9 as an unverified MNIST: 40 train, 20 test."""
    from ldmnist_hf.data.mnist import MNIST

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    labels = np.arange(60, dtype=np.int64) % 10
    return MNIST(images[:40], labels[:40], images[40:], labels[40:], source="test")


def tiny_args(output_dir, **kw):
    """Training arguments for a seconds-long run on the tiny MNIST."""
    from ldmnist_hf.training.arguments import LDMNISTTrainingArguments

    kw = {"latent_dim": 4, "epochs": 2, "batch_size": 16, "device": "cpu", "checkpoint_every": 1, **kw}
    return LDMNISTTrainingArguments(output_dir=str(output_dir), **kw)


def make_tiny_world(root: Path) -> SimpleNamespace:
    """Small real files that many tests read and (on copies) damage.

    - `iv`, `cv`: a 6-d image VAE (hidden sizes 16, 8) whose decoder reads components 1 and 4 only, and a
      6-d class VAE, saved with `save_pretrained`;
    - `mnist`: `tiny_mnist()`; `ds`: the dataset `build_dataset` makes from them;
    - `run`: a 4-d training run stopped after epoch 1 of 2 (a checkpoint); `done`: a finished 1-epoch run.
    """
    import torch

    from ldmnist_hf import ClassVAE, ClassVAEConfig, ImageVAE, ImageVAEConfig
    from ldmnist_hf.build.dataset import build_dataset
    from ldmnist_hf.training.trainer import train

    torch.manual_seed(0)
    iv = ImageVAE(ImageVAEConfig(latent_dim=6, encoder_hidden_sizes=[16, 8], decoder_hidden_sizes=[8, 16]))
    with torch.no_grad():
        mask = torch.zeros(6)
        mask[[1, 4]] = 1
        iv.decoder[0].dense.weight.mul_(mask)  # (out, in): only inputs 1 and 4 reach the image
    iv.save_pretrained(root / "iv")
    ClassVAE(ClassVAEConfig(latent_dim=6)).save_pretrained(root / "cv")
    mnist = tiny_mnist()
    build_dataset(root / "ds", str(root / "iv"), str(root / "cv"), mnist_source=mnist)
    train(tiny_args(root / "run", stop_after=1), mnist=mnist, progress=False)
    train(tiny_args(root / "done", epochs=1), mnist=mnist, progress=False)
    return SimpleNamespace(
        root=root, mnist=mnist, iv=str(root / "iv"), cv=str(root / "cv"), ds=root / "ds", run=root / "run"
    )


def write_hub_layout(folder: Path, mnist) -> Path:
    """A local dataset in the ylecun/mnist layout: Parquet with a PNG `image` column and a ClassLabel."""
    import io

    import datasets
    from PIL import Image

    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=[str(i) for i in range(10)])}
    )
    (folder / "mnist").mkdir(parents=True)
    for split in ("train", "test"):
        pngs = []
        for img in getattr(mnist, f"{split}_images"):
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="PNG")
            pngs.append({"bytes": buf.getvalue(), "path": None})
        ds = datasets.Dataset.from_dict(
            {"image": pngs, "label": getattr(mnist, f"{split}_labels")}, features=features
        )
        ds.to_parquet(str(folder / "mnist" / f"{split}-00000-of-00001.parquet"))
    return folder


def resign(folder: Path) -> Path:
    """Re-signs a built folder after its data files were changed (what a careless or hostile rewrite does):
    the build record's SHA-256 and sizes, its fingerprint and the card's copy of it match the files again, so
    only a check of the data itself can find the change."""
    import hashlib
    import json

    from ldmnist_hf.files.paths import sha256_file

    record = json.loads((folder / "ldmnist_build.json").read_text())
    for name in record["files"]:
        record["files"][name] = {"sha256": sha256_file(folder / name), "size": (folder / name).stat().st_size}
    old = record["fingerprint"]
    record["fingerprint"] = hashlib.sha256(
        "".join(f"{k}:{v['sha256']}\n" for k, v in sorted(record["files"].items())).encode()
    ).hexdigest()[:16]
    (folder / "ldmnist_build.json").write_text(json.dumps(record))
    card = folder / "README.md"
    card.write_text(card.read_text().replace(old, record["fingerprint"]))
    return folder


def rewrite_split(folder: Path, split: str, change) -> Path:
    """Rewrites a built folder's Parquet file of `split` as `change(table)` (then `resign` it, or not)."""
    import pyarrow.parquet as pq

    path = folder / f"data/{split}-00000-of-00001.parquet"
    pq.write_table(change(pq.read_table(path)), path)
    return folder


def with_column(name: str, change):
    """A table edit for `rewrite_split`: column `name` replaced by `change(its numpy array)`, its type kept."""

    def edit(table):
        import pyarrow as pa

        col = table.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(col.type):
            values = col.flatten().to_numpy().reshape(len(col), col.type.list_size)
            new = pa.FixedSizeListArray.from_arrays(
                pa.array(np.ascontiguousarray(change(values)).ravel()), col.type.list_size
            )
        else:
            new = pa.array(change(col.to_numpy()), col.type)
        return table.set_column(table.schema.get_field_index(name), table.schema.field(name), new)

    return edit


def resigned_test_split(folder: Path, change, columns=("y",)) -> dict[str, bytes]:
    """A built config's test split with each of `columns` replaced by `change(values)` and its build record
    re-signed to match (a publisher's rebuild changes `y` and `y_mean` alike; an attacker's forgery `y` alone):
    `{path in the config's folder: bytes}`, ready to commit. The folder itself is left as it is."""
    import hashlib
    import io
    import json

    import pyarrow.parquet as pq

    from ldmnist_hf.data.schema import BUILD_RECORD, data_file

    table = pq.read_table(folder / data_file("test"))
    for column in columns:
        table = with_column(column, change)(table)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    record = json.loads((folder / BUILD_RECORD).read_text())
    record["files"][data_file("test")] = {
        "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
        "size": len(buf.getvalue()),
    }
    return {data_file("test"): buf.getvalue(), BUILD_RECORD: json.dumps(record).encode()}


def nan_in(column: str):
    """A table edit for `rewrite_split`: the first value of column `column` set to NaN."""

    def first_value_nan(values):
        values = values.copy()
        values.flat[0] = np.nan
        return values

    return with_column(column, first_value_nan)


def swap_splits(card: str) -> str:
    """A dataset card's text with the train and test splits' data files swapped."""
    return (
        card.replace("data/train-*", "data/@@-*")
        .replace("data/test-*", "data/train-*")
        .replace("data/@@-*", "data/test-*")
    )


def code_blocks(text: str, lang: str = "python") -> list[str]:
    """The fenced code blocks of a Markdown text (README, a card) in language `lang`, in order."""
    import re

    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def replace_file(path: Path, data: bytes) -> None:
    """Writes `data` as a new file at `path` (a hard-linked copy's other links keep the old bytes)."""
    path.unlink()
    path.write_bytes(data)


def property_settings(max_examples: int = PROPERTY_EXAMPLES):
    """Hypothesis settings of the property-based tests: `max_examples`, no deadline, fixtures allowed."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )


def bad_input_test(rows: list[tuple]):
    """The test of a module's bad-input table: one case per row `(id, action, exception type, fragment)`.

    Each action gets the `scratch` fixture (conftest.py: fresh copies of the tiny world's files and tools to
    damage them) and must raise that exception type with the fragment in its message. A test module holds its
    table and binds `test_bad_input = bad_input_test(BAD_INPUT)`; pytest collects it there.
    """
    import pytest

    @pytest.mark.parametrize("action, error, fragment", [r[1:] for r in rows], ids=[r[0] for r in rows])
    def test_bad_input(scratch, action, error, fragment):
        with pytest.raises(error) as info:
            action(scratch)
        assert fragment in str(info.value)

    return test_bad_input


def hub_cache(cache: Path, repo_id: str, folder: Path) -> None:
    """Puts a model folder into a huggingface_hub cache as if downloaded, so the unmodified repo id loads offline."""
    import shutil

    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    shutil.copytree(folder, repo / "snapshots" / ("0" * 40))


def subset_args(tmp_path: Path, name: str, **kw):
    """Training arguments for a seconds-long 8-d run on `mnist_subset` (conftest.py), in `tmp_path / name`."""
    from ldmnist_hf.training.arguments import LDMNISTTrainingArguments

    kw = {"latent_dim": 8, "epochs": 4, "batch_size": 256, "device": "cpu", "checkpoint_every": 2, **kw}
    return LDMNISTTrainingArguments(output_dir=str(tmp_path / name), **kw)


def write_classification_folder(
    folder: Path, splits: dict, class_names, image_column="image", label_column="label"
):
    """A local image-classification dataset in the Hub's layout (`data/<split>-00000-of-00001.parquet`).

    Args:
        splits: `{split: (images, labels)}`, images a list of PIL images, uint8 arrays (grey `(H, W)` or
            colour `(H, W, 3)`) or encoded cells (`{"bytes": ..., "path": None}`), labels ints.
        class_names: the ClassLabel's names; `None` stores plain integers (no ClassLabel).
    """
    import datasets
    from PIL import Image

    label = (
        datasets.ClassLabel(names=list(class_names)) if class_names is not None else datasets.Value("int64")
    )
    features = datasets.Features({image_column: datasets.Image(), label_column: label})
    for split, (images, labels) in splits.items():
        pil = [im if isinstance(im, Image.Image | dict) else Image.fromarray(np.asarray(im)) for im in images]
        ds = datasets.Dataset.from_dict({image_column: pil, label_column: list(labels)}, features=features)
        ds.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
    return folder


def write_digits(folder: Path, seed: int = 0) -> Path:
    """scikit-learn's 1797 real 8x8 digits in the Hub's layout: 0..16 scaled to 0..255, a stratified
    train/test split of 3/4 and 1/4 fixed by `seed`."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.round(digits.images * 255 / 16).astype(np.uint8)
    rows = np.arange(len(images))
    train, test = train_test_split(rows, test_size=0.25, random_state=seed, stratify=digits.target)
    splits = {s: (images[r], digits.target[r].tolist()) for s, r in (("train", train), ("test", test))}
    return write_classification_folder(folder, splits, [str(i) for i in range(10)])


def rgb_images(n: int, classes: int = 3, size=(6, 8), seed: int = 0):
    """`n` small generated RGB images `(H, W, 3)` whose class sets the dominant colour channel, and labels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    images = rng.integers(0, 80, size=(n, *size, 3), dtype=np.uint8)
    images[np.arange(n), :, :, labels % 3] += 150
    return list(images), labels.tolist()
