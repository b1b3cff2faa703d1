"""The configs of an export (hub/configs.py): a variant's models, found where its build record says, or a
message that names where they were looked for and how to give them."""

import json
import shutil

from conftest import NS
from helpers import bad_input_test

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.hub.configs import _benchmarked
from ldmnist_hf.hub.export import export


def _variant_built_from(c, image_vae: str):
    """A copy of the tiny dataset whose build record names `image_vae` (as a build from it would)."""
    ds = c.copy("ds")
    record = json.loads((ds / "ldmnist_build.json").read_text())
    record["image_vae_source"] = image_vae
    (ds / "ldmnist_build.json").write_text(json.dumps(record))
    return ds


def _export_variant(c, image_vae: str, **kwargs):
    ds = _variant_built_from(c, image_vae)
    return export(NS, c.tmp / "out", dataset=c.ds, variants={"ld6": ds}, **kwargs)


def _released_image_vae_alone(c) -> str:
    """An image VAE in a folder named as `ldmnist release` names it, with no middle layers beside it."""
    folder = c.tmp / "models" / "image-vae-6-ld6"
    shutil.copytree(c.iv, folder)
    return str(folder)


def _benchmark_file(c, text: str):
    """A copy of the tiny dataset whose benchmark.json holds `text`."""
    ds = c.copy("ds")
    (ds / "benchmark.json").write_text(text)
    return ds


def _pickled_predictions(c):
    """A copy of the tiny dataset benchmarked with a pickle where the linear baseline's predictions go."""
    ds = _benchmark_file(c, '{"rows": [{"key": "linear"}]}')
    (ds / "benchmark_predictions").mkdir()
    (ds / "benchmark_predictions" / "linear.npy").write_bytes(b"\x80\x04K\x01.")
    return ds


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "variant-without-middle-layers",
        lambda c: _export_variant(c, _released_image_vae_alone(c)),
        LDMNISTError,
        "middle-layers-6-ld6, and there is no such folder: give their folder with `variant_middle_layers` ld6=DIR",
    ),
    (
        "variant-image-vae-gone",
        lambda c: _export_variant(c, str(c.tmp / "gone" / "image-vae-6")),
        LDMNISTError,
        "names the image VAE",
    ),
    (
        "variant-image-vae-named-otherwise",
        lambda c: _export_variant(c, c.iv),
        LDMNISTError,
        "they are looked up beside it, in the folder named like it with middle-layers for image-vae",
    ),
    (
        "variant-middle-layers-of-no-variant",
        lambda c: export(NS, c.tmp / "out", dataset=c.ds, variant_middle_layers={"ld6": c.iv}),
        LDMNISTError,
        "`variant_middle_layers` names 'ld6', which no `variants` entry gives",
    ),
    (
        "export-benchmark-is-a-list",
        lambda c: _benchmarked(_benchmark_file(c, "[]")),
        LDMNISTError,
        "benchmark.json holds an array ([...]), not a JSON object ({...}); run `ldmnist benchmark` again",
    ),
    (
        "export-benchmark-predictions-pickled",
        lambda c: _benchmarked(_pickled_predictions(c)),
        LDMNISTError,
        "benchmark_predictions/linear.npy is damaged: not the array of numbers `ldmnist benchmark` writes "
        "(unreadable, truncated, or holding Python objects, which are never unpickled)",
    ),
    (
        "variant-named-data",
        lambda c: export(NS, c.tmp / "out", dataset=c.ds, variants={"data": c.ds}),
        LDMNISTError,
        "Config name 'data' is reserved",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
