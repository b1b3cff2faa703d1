"""The model configurations (models/configuration_*.py): any value builds a working model or is refused by name."""

import pytest
import torch
from helpers import bad_input_test, property_settings
from hypothesis import given
from hypothesis import strategies as st

from ldmnist_hf import ClassVAEConfig, ImageVAEConfig, MiddleLayersConfig


def test_config_validation():
    with pytest.raises(ValueError, match="latent_dim"):
        ImageVAEConfig(latent_dim=0)
    with pytest.raises(ValueError, match="dropout"):
        MiddleLayersConfig(dropout=1.5)
    with pytest.raises(ValueError, match="'reference', 'standard'"):
        ClassVAEConfig(sampling="other")


def test_image_shape_of_a_config():
    """`image_size` is an int (a square) or `[height, width]`; `num_channels` defaults to 1 (MNIST)."""
    mnist = ImageVAEConfig()
    assert (mnist.image_hw, mnist.image_shape, mnist.flat_size) == ((28, 28), (1, 28, 28), 784)
    rgb = ImageVAEConfig(image_size=(8, 6), num_channels=3)
    assert rgb.image_size == [8, 6]  # a list, as JSON gives it back
    assert (rgb.image_hw, rgb.image_shape, rgb.flat_size) == ((8, 6), (3, 8, 6), 144)
    # num_channels is saved when it is not 1 only: a grey model's config.json is the one saved before it existed
    assert "num_channels" not in mnist.to_dict() and "num_channels" not in mnist.to_diff_dict()
    assert rgb.to_diff_dict()["num_channels"] == 3 and rgb.to_diff_dict()["image_size"] == [8, 6]
    assert ImageVAEConfig.from_dict(rgb.to_dict()).image_shape == (3, 8, 6)


# ----------------------------------------------------------------------------- any value (property-based)


_anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.integers(-5, 200), max_size=4),
    st.just("reference"),
    st.just("standard"),
)
_FIELDS = {
    ImageVAEConfig: (
        "latent_dim",
        "image_size",
        "num_channels",
        "encoder_hidden_sizes",
        "decoder_hidden_sizes",
        "dropout",
        "leaky_relu_slope",
        "batch_norm_eps",
        "batch_norm_momentum",
        "kl_weight",
        "sampling",
    ),
    ClassVAEConfig: ("latent_dim", "num_classes", "kl_weight", "sampling"),
    MiddleLayersConfig: (
        "latent_dim",
        "hidden_sizes",
        "dropout",
        "leaky_relu_slope",
        "batch_norm_eps",
        "batch_norm_momentum",
    ),
}


@property_settings()
@given(data=st.data(), config_class=st.sampled_from(list(_FIELDS)))
def test_model_configs_are_valid_or_refused(data, config_class):
    """A configuration either builds a model whose forward runs on finite inputs with finite outputs, or it is
    refused with a ValueError naming the field."""
    fields = data.draw(st.lists(st.sampled_from(_FIELDS[config_class]), unique=True, max_size=3))
    kwargs = {f: data.draw(_anything, label=f) for f in fields}
    try:
        config = config_class(**kwargs)
    except ValueError as e:
        assert any(f"`{f}" in str(e) for f in fields), str(e)
        return
    from ldmnist_hf.registry import KINDS

    kind = next(k for k in KINDS.values() if k.config_class is config_class)
    with torch.device("meta"):  # the sizes must be buildable; the meta device allocates nothing
        kind.model_class(config)
    small = all(v <= 512 for f, v in kwargs.items() if isinstance(v, int) and "size" not in f)
    if small and config.latent_dim <= 64 and getattr(config, "flat_size", 0) <= 4 * 32 * 32:
        model = kind.model_class(config).eval()
        z = torch.randn(2, config.latent_dim)
        out = model.decode(z)[0] if hasattr(model, "decode") else model(z).outputs
        assert torch.isfinite(out).all()


# ----------------------------------------------------------------------------- bad input


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "config-slope-above-one",
        lambda c: MiddleLayersConfig(leaky_relu_slope=1.5),
        ValueError,
        "`leaky_relu_slope` must be a finite number in [0, 1), got 1.5",
    ),
    ("config-latent-dim-huge", lambda c: ImageVAEConfig(latent_dim=2**62), ValueError, "from 1 to 16384"),
    (
        "config-kl-weight-inf",
        lambda c: ClassVAEConfig(kl_weight=float("inf")),
        ValueError,
        "`kl_weight` must be a finite",
    ),
    # image_size: a positive int (a square's side) or a pair [height, width] of them
    (
        "image-size-zero",
        lambda c: ImageVAEConfig(image_size=0),
        ValueError,
        "`image_size` must be an integer",
    ),
    (
        "image-size-one-side",
        lambda c: ImageVAEConfig(image_size=[28]),
        ValueError,
        "`image_size` must be an integer (the side of a square image) or a pair [height, width], got [28].",
    ),
    (
        "image-size-zero-width",
        lambda c: ImageVAEConfig(image_size=[28, 0]),
        ValueError,
        "`image_size[1]` must be an integer from 1 to 1024, got 0.",
    ),
    (
        "image-size-text",
        lambda c: ImageVAEConfig(image_size="28"),
        ValueError,
        "or a pair [height, width], got '28'.",
    ),
    (
        "image-size-bool-side",
        lambda c: ImageVAEConfig(image_size=[True, 3]),
        ValueError,
        "`image_size[0]` must be an integer from 1 to 1024, got True.",
    ),
    (
        "image-size-huge",
        lambda c: ImageVAEConfig(image_size=[28, 4096]),
        ValueError,
        "`image_size[1]` must be an integer from 1 to 1024, got 4096.",
    ),
    # num_channels: 1 (grey) to 4 (RGBA)
    *(
        (
            f"num-channels-{value!r}",
            lambda c, value=value: ImageVAEConfig(num_channels=value),
            ValueError,
            f"`num_channels` must be an integer from 1 to 4, got {value!r}.",
        )
        for value in (0, 5, 1.5, True)
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
