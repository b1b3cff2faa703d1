"""The explorer Space's numbers (hub/spaces/explorer/explorer.py, numpy only): its decoder is the image VAE's,
whatever the image shape, and every input it takes from the page or its API is checked, with one line that says
what is allowed."""

import sys

import numpy as np
import pytest

from ldmnist_hf.data.schema import data_file
from ldmnist_hf.hub.space_repos import SPACES
from ldmnist_hf.pretrained.loading import pretrained_path
from ldmnist_hf.registry import DEFAULT_MODELS


@pytest.fixture(scope="module")
def explorer(built):
    sys.path.insert(0, str(SPACES / "explorer"))
    try:
        from explorer import Explorer
    finally:
        sys.path.pop(0)
    space = {
        "dataset": str(built / "ldmnist"),
        "image_vae": str(pretrained_path(DEFAULT_MODELS["image_vae"])),
        "class_vae": str(pretrained_path(DEFAULT_MODELS["class_vae"])),
        "mnist": None,
        "files": {"test_split": data_file("test")},
    }
    return Explorer(space)


# (what is given, fragment of the message)
BAD_INDEX = [
    (10000, "There is no test digit 10000: choose one from 0 to 9999"),
    (-1, "There is no test digit -1"),
    (2.5, "There is no test digit 2.5"),
    (float("nan"), "There is no test digit nan"),
    (10**400, "must be a number from 0 to 9999"),
    ("seven", "must be a number from 0 to 9999"),
    (None, "must be a number from 0 to 9999"),
]


@pytest.mark.parametrize("index, fragment", BAD_INDEX, ids=[str(i)[:12] for i, _ in BAD_INDEX])
def test_an_index_that_is_not_a_test_digit(explorer, index, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        explorer.latent(index)


def _values(explorer, value, count=None):
    return [value] * (len(explorer.components) if count is None else count)


# (slider values from the number of sliders, fragment)
BAD_SLIDERS = [
    (lambda e: _values(e, 0.0, 3), "Got 3 slider values; this explorer has"),
    (lambda e: _values(e, float("nan")), "must be a number from -4 to 4"),
    (lambda e: _values(e, float("inf")), "must be a number from -4 to 4"),
    (lambda e: _values(e, 1e39), "must be a number from -4 to 4"),
    (lambda e: _values(e, 4.5), "must be a number from -4 to 4"),
    (lambda e: _values(e, "x"), "must be a number"),
]


@pytest.mark.parametrize(
    "make, fragment", BAD_SLIDERS, ids=["count", "nan", "inf", "beyond-float32", "beyond-range", "text"]
)
def test_slider_values_are_checked(explorer, make, fragment):
    with pytest.raises(ValueError, match=fragment):
        explorer.latent(0, make(explorer))


def test_an_untouched_slider_keeps_its_components_exact_value(explorer):
    z = explorer.latent(0)
    shown = [round(float(z[c]), 2) for c in explorer.components]
    assert (explorer.latent(0, shown) == z).all()


def _explorer_module():
    sys.path.insert(0, str(SPACES / "explorer"))
    try:
        import explorer
    finally:
        sys.path.pop(0)
    return explorer


@pytest.mark.parametrize("image_size, num_channels", [(28, 1), ([8, 6], 1), ([8, 6], 3)])
def test_the_numpy_decoder_is_the_image_vaes(tmp_path, image_size, num_channels):
    """The Space's numpy decoder reads `image_size` (an int or [height, width]) and `num_channels` from
    config.json and decodes as `ImageVAE.decode` does: grey `(n, h, w)` as an 'L' image, colour channels last
    `(n, h, w, 3)` as an 'RGB' one."""
    import torch

    from ldmnist_hf import ImageVAE, ImageVAEConfig

    explorer = _explorer_module()
    torch.manual_seed(0)
    vae = ImageVAE(ImageVAEConfig(latent_dim=4, image_size=image_size, num_channels=num_channels)).eval()
    with torch.no_grad():
        for m in vae.modules():  # BatchNorm statistics that matter
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    vae.save_pretrained(tmp_path)
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ours = explorer.ImageDecoder(str(tmp_path))(z)
    with torch.no_grad():
        expected = vae.decode(torch.from_numpy(z)).sample.numpy()
    if num_channels > 1:
        expected = expected.transpose(0, 2, 3, 1)  # channels last, as PIL takes them
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    image = explorer.to_image(ours[0], scale=2)
    height, width = vae.config.image_hw
    assert image.mode == ("L" if num_channels == 1 else "RGB") and image.size == (2 * width, 2 * height)


def test_to_image_refuses_other_shapes():
    with pytest.raises(ValueError, match=r"must be \(h, w\), \(h, w, 3\) or \(h, w, 4\); got \(2, 8, 6\)"):
        _explorer_module().to_image(np.zeros((2, 8, 6)))


def test_a_siblings_explorer_shows_its_images_and_class_names(ld_fashion, fashion_mnist, tmp_path):
    """LD-Fashion-MNIST's explorer, as its `space.json` configures it (`source`): Fashion-MNIST's test images
    from the Hub dataset in its layout, and its class names wherever the page names a class."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    from ldmnist_hf.data.sources import FASHION_MNIST
    from ldmnist_hf.hub.space_repos import source_space
    from ldmnist_hf.registry import model_set

    space = source_space("fashion-mnist")
    images = tmp_path / "zalando"  # the Hub repository's layout: PNG images in Parquet
    (images / space["source"]["images"]["file"]).parent.mkdir(parents=True)
    pngs = []
    for image in fashion_mnist.test_images:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="PNG")
        pngs.append({"bytes": buf.getvalue(), "path": None})
    pq.write_table(pa.table({"image": pngs}), images / space["source"]["images"]["file"])
    space["source"]["images"]["repo"] = str(images)
    models = model_set("fashion-mnist")
    explorer = _explorer_module().Explorer(
        {
            **space,
            "dataset": str(ld_fashion),
            "image_vae": str(pretrained_path(models["image_vae"])),
            "class_vae": str(pretrained_path(models["class_vae"])),
            "files": {"test_split": data_file("test")},
        }
    )
    np.testing.assert_array_equal(explorer.digits, fashion_mnist.test_images)
    assert explorer.class_names == list(FASHION_MNIST.class_names)
    assert fashion_mnist.test_labels[0] == 9
    assert explorer.reading(0).startswith("Test image 0, label 9 (Ankle boot). The dataset's target `y`")
    assert "to class 9 (Ankle boot)" in explorer.reading(0)
    with pytest.raises(ValueError, match="There is no test image 10000: choose one from 0 to 9999"):
        explorer.latent(10000)
