"""Runs the 2020 reference code itself (`pretrain_autoencoder.py`'s `train`) under TensorFlow, for comparison
with this package's port (docs/fidelity.md, "The 2020 code under TensorFlow").

TensorFlow is no dependency of this package: run this with a Python that has `tensorflow` and `tf-keras`
(e.g. `python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras tqdm matplotlib`):

    /tmp/tfvenv/bin/python docs/tf_2020_code.py REPO --epochs 300 --out runs/tf2020

REPO is a checkout of the 2020 code at the commit below; its six files are checked against their SHA-256
before anything of it runs. Three things differ from running its `main()`, and only these:

- its `from tensorflow.python.keras ...` imports (Keras inside TF 2.x, gone from TF 2.16) read `from tf_keras
  ...`, and its `Adam` is `tf_keras.optimizers.legacy.Adam`, the OptimizerV2 that TF 2.x had in 2020;
- MNIST comes from this package's verified cache (`ldmnist fetch-mnist`), checked against the SHA-256 of real
  MNIST, instead of `tf.keras.datasets.mnist.load_data()`'s download (no network here);
- `n_epochs` is `--epochs`, TensorBoard writes under `--out`, and the seed is set (`--seed`);
- Keras' `binary_crossentropy` behaves as in 2020: tf-keras takes any output that carries cached logits
  (`softmax` caches them too: `tf_keras/src/backend.py`, `_get_logits`) back to its logits and computes a
  sigmoid cross-entropy on them, while TensorFlow 2.2-2.4's `tensorflow/python/keras/backend.py` did that
  for the output of a `Sigmoid` op only and otherwise clipped the probabilities. Unpatched, the class VAE's
  reconstruction loss (BCE on a softmax) would be a different loss (`--keep-tf-keras-bce` runs it so).

After training it converts the data with the 2020 `convert_dataset` (sampled latents, as the 2020 dataset) and
writes `--out/result.json`: the per-component std of the train latents and the count below 0.8, the closed-form
linear regression's test MSE and reconstructed accuracy (the class decoder on its predictions), and
`--out/metrics.jsonl`: the per-epoch train and test figures from its TensorBoard logs.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

COMMIT = "66f969336654543e6b42e5da5509da054669b363"  # github.com/dimitree54/ld_mnist
SHA256 = {
    "pretrain_autoencoder.py": "348bc3395430c9aa045f8306695987acb385c47524642ebf82a7f56adc273c1c",
    "models.py": "35e946efcca859cd86aa30017896e2f69b35b487c6c5975753a418c3be8779f7",
    "misc.py": "937b13da093262cd8cc8f3f6cb118107fbf42db5320d989c3a7bf5c9d89dc7bc",
    "mnist.py": "86c75ea13dc025c4cf070feb7939f05b75d9f7a7d55639654c3ab1859d5c4d4a",
    "eval.py": "fbca1b47e9a6cf1ba780b08d6dbff27ea26d679e7c955d5e5814f8b819114001",
    "plots_drawer.py": "b56d00c684429dfbc7dc68f0a141d744b262aad111d52c21af704eb46def76a8",
}
MNIST_SHA256 = {  # of the raw bytes of each array (ldmnist_hf.data.mnist.MNIST_SHA256)
    "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "train_labels": "e474323ac02fc156161b0bbb1f8c9cfeb327a74bcd9f9680a8385269a24f566c",
    "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "test_labels": "2fd8de6bdb8d11780b4b96dc57847bcfe6953f7c32aa48bfcd8237c3b7847243",
}
# The only edits to the 2020 source: where Keras 2 lives now.
EDITS = {
    "from tensorflow.python.keras": "from tf_keras",
    "from tensorflow.keras.optimizers import Adam": "from tf_keras.optimizers.legacy import Adam",
}
INFORMATIVE_STD = 0.8


def _checked_source(repo: Path, folder: Path) -> None:
    """Copies the 2020 files into `folder` with `EDITS`, after checking each file's SHA-256."""
    for name, digest in SHA256.items():
        raw = (repo / name).read_bytes()
        if hashlib.sha256(raw).hexdigest() != digest:
            sys.exit(f"{repo / name} is not the file of commit {COMMIT} (SHA-256 differs); nothing was run.")
        text = raw.decode()
        for old, new in EDITS.items():
            text = text.replace(old, new)
        (folder / name).write_text(text)


def _bce_as_in_2020() -> None:
    """Only a `Sigmoid` op's output is read back as logits in `binary_crossentropy` (TensorFlow 2.2-2.4)."""
    import tensorflow as tf
    import tf_keras.src.backend as backend

    original = backend._get_logits

    def get_logits(output, from_logits, op_type, fn_name):
        if op_type == "Sigmoid" and hasattr(output, "_keras_logits"):
            eager = isinstance(output, (tf.__internal__.EagerTensor, tf.Variable))
            if eager or output.op.type != "Sigmoid":  # a softmax's output: probabilities, as in 2020
                return output, from_logits
        return original(output, from_logits, op_type, fn_name)

    backend._get_logits = get_logits


def _mnist_from_cache():
    import numpy as np

    base = (
        os.environ.get("LDMNIST_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ldmnist"
    )
    with np.load(Path(base) / "mnist" / "mnist.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in MNIST_SHA256}
    for k, digest in MNIST_SHA256.items():
        if hashlib.sha256(np.ascontiguousarray(arrays[k]).tobytes()).hexdigest() != digest:
            sys.exit(f"The MNIST cache's {k} is not real MNIST; run `ldmnist fetch-mnist` again.")
    return (arrays["train_images"], arrays["train_labels"]), (arrays["test_images"], arrays["test_labels"])


def _import(folder: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _events(log_dir: Path) -> dict[int, dict]:
    """Per epoch, every scalar the 2020 code wrote to TensorBoard (`train/...`, `val/...`)."""
    import tensorflow as tf

    epochs: dict[int, dict] = {}
    for split in ("train", "val"):
        for path in sorted((log_dir / split).glob("events.*")):
            for event in tf.compat.v1.train.summary_iterator(str(path)):
                for value in event.summary.value:
                    scalar = float(tf.make_ndarray(value.tensor))
                    epochs.setdefault(event.step, {"epoch": event.step + 1})[f"{split}/{value.tag}"] = scalar
    return epochs


def _statistics(train_x, train_y, test_x, test_y, test_labels, class_decoder) -> dict:
    import numpy as np

    x_std, y_std = train_x.std(axis=0), train_y.std(axis=0)
    a = np.hstack([train_x, np.ones((len(train_x), 1))]).astype(np.float64)
    w, *_ = np.linalg.lstsq(a, train_y.astype(np.float64), rcond=None)
    pred = (np.hstack([test_x, np.ones((len(test_x), 1))]) @ w).astype(np.float32)
    accuracy = float((np.argmax(class_decoder(pred).numpy(), axis=1) == test_labels).mean())
    return {
        "x_component_std": [round(float(v), 4) for v in x_std],
        "y_component_std": [round(float(v), 4) for v in y_std],
        "x_informative_components": int((x_std < INFORMATIVE_STD).sum()),
        "y_informative_components": int((y_std < INFORMATIVE_STD).sum()),
        "x_mean_std": [float(train_x.mean()), float(train_x.std())],
        "y_mean_std": [float(train_y.mean()), float(train_y.std())],
        "linear_closed_form": {
            "mse": float(((pred - test_y) ** 2).mean()),
            "reconstructed_accuracy": accuracy,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path, help=f"a checkout of the 2020 code at commit {COMMIT}")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow's intra-op threads (0: all cores)")
    parser.add_argument(
        "--keep-tf-keras-bce", action="store_true", help="leave tf-keras' binary_crossentropy as it is now"
    )
    args = parser.parse_args()
    os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras (its metrics, datasets) is Keras 2, as in 2020
    import numpy as np
    import tensorflow as tf

    tf.random.set_seed(args.seed)
    if not args.keep_tf_keras_bce:
        _bce_as_in_2020()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    mnist_arrays = _mnist_from_cache()
    tf.keras.datasets.mnist.load_data = lambda *a, **k: mnist_arrays
    args.out.mkdir(parents=True, exist_ok=True)
    source = Path(tempfile.mkdtemp(prefix="ld_mnist_2020-"))  # kept while it runs: AutoGraph reads the source
    _checked_source(args.repo, source)
    sys.path.insert(0, str(source))
    code = _import(source, "pretrain_autoencoder")
    code.n_epochs, code.tb_dir = args.epochs, str(args.out / "tensorboard")
    image_vae = code.create_image_vae(dropout_rate=0.9, latent_dim=code.latent_dim)  # as its main()
    middle = code.create_middle_layers(dropout_rate=0.9, latent_dim=code.latent_dim)
    class_vae = code.create_class_vae(latent_dim=code.latent_dim)
    data = code.mnist.Mnist()
    train_data, val_data = data.get_train_val_datasets(code.batch_size)
    start = time.perf_counter()
    code.train(train_data, val_data, image_vae, middle, class_vae)
    seconds = time.perf_counter() - start
    train_x, train_y, test_x, test_y = code.convert_dataset(data, image_vae, class_vae)
    result = {
        "commit": COMMIT,
        "edits": EDITS,
        "binary_crossentropy": "tf-keras" if args.keep_tf_keras_bce else "as in TensorFlow 2.2-2.4",
        "epochs": args.epochs,
        "seed": args.seed,
        "tensorflow": tf.__version__,
        "train_seconds": round(seconds, 1),
        "lr_schedule_value_at_end": code.lr_schedule.get_lr(),
        **_statistics(train_x, train_y, test_x, test_y, np.argmax(data.test_y, axis=1), class_vae["decoder"]),
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    epochs = _events(args.out / "tensorboard")
    (args.out / "metrics.jsonl").write_text("".join(json.dumps(epochs[k]) + "\n" for k in sorted(epochs)))
    print(json.dumps({k: v for k, v in result.items() if not k.endswith("component_std")}, indent=2))


if __name__ == "__main__":
    main()
