"""The three models (models/modeling_*.py, distributions.py, modeling_utils.py): shapes, losses, round trips."""

import json

import pytest
import torch
from helpers import bad_input_test
from transformers import AutoConfig, AutoModel

from ldmnist_hf import ClassVAE, ClassVAEConfig, ImageVAE, ImageVAEConfig, MiddleLayers, MiddleLayersConfig
from ldmnist_hf.pretrained.loading import load_pretrained, pretrained_path


def _tiny_image_vae(**kw):
    torch.manual_seed(0)
    return ImageVAE(
        ImageVAEConfig(latent_dim=4, encoder_hidden_sizes=[16, 8], decoder_hidden_sizes=[8, 16], **kw)
    )


def _images(n=6):
    return torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


def test_image_vae_shapes_and_losses():
    vae = _tiny_image_vae().eval()
    out = vae(_images())
    assert out.reconstruction.shape == (6, 28, 28) and out.latents.shape == (6, 4)
    assert out.reconstruction.min() >= 0 and out.reconstruction.max() <= 1
    assert torch.allclose(out.loss, out.reconstruction_loss + 0.1 * out.kl_loss)
    q = vae.encode(_images()).latent_dist
    assert torch.equal(out.latents, q.mode())  # forward decodes the mean unless told to sample
    # the same images as float in [0, 1], flattened, give the same result
    same = vae(_images().float().div(255).reshape(6, 784))
    assert torch.allclose(same.loss, out.loss)


def test_sampling_parameterisations():
    mean, log_var = torch.zeros(1000, 4), torch.full((1000, 4), -1.0)
    for sampling, std in (
        ("reference", torch.exp(torch.tensor(-1.0))),
        ("standard", torch.exp(torch.tensor(-0.5))),
    ):
        from ldmnist_hf import DiagonalGaussian

        q = DiagonalGaussian(mean, log_var, sampling)
        assert torch.allclose(q.std, std.expand(1000, 4))
        z = q.sample(torch.Generator().manual_seed(0))
        assert abs(z.std().item() - std.item()) < 0.02
    # seeded samples repeat
    q = DiagonalGaussian(mean, log_var)
    assert torch.equal(q.sample(torch.Generator().manual_seed(3)), q.sample(torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("sampling", ["reference", "standard"])
def test_image_vae_round_trip(tmp_path, sampling):
    vae = _tiny_image_vae(sampling=sampling).eval()
    with torch.no_grad():  # make BatchNorm statistics non-trivial, so they must be saved too
        for m in vae.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    vae.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    assert json.loads((tmp_path / "config.json").read_text())["sampling"] == sampling
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert type(loaded) is ImageVAE and loaded.config.sampling == sampling
    x = _images()
    assert torch.equal(loaded(x).reconstruction, vae(x).reconstruction)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(loaded.encode(x).latent_dist.sample(g1), vae.encode(x).latent_dist.sample(g2))


def _rgb_image_vae(image_size=(8, 6), num_channels=3):
    return _with_batch_norm_statistics(
        _tiny_image_vae(image_size=list(image_size), num_channels=num_channels)
    )


def _pixels(shape):
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(4))


def test_rgb_image_vae_round_trip(tmp_path):
    """An RGB 3x8x6 model: channels-first uint8, float and flat inputs encode alike; it decodes to (B, 3, 8, 6);
    it saves and loads through the Auto classes."""
    vae = _rgb_image_vae().eval()
    x = _pixels((5, 3, 8, 6))
    mean = vae.encode(x).latent_dist.mean
    assert torch.equal(vae.encode(x.float() / 255).latent_dist.mean, mean)
    assert torch.equal(vae.encode(x.reshape(5, 144)).latent_dist.mean, mean)  # flat in C, H, W order
    assert vae.decode(mean).sample.shape == (5, 3, 8, 6)
    out = vae(x)
    assert out.reconstruction.shape == out.logits.shape == (5, 3, 8, 6)
    vae.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["image_size"] == [8, 6] and saved["num_channels"] == 3
    config = AutoConfig.from_pretrained(tmp_path)
    assert type(config) is ImageVAEConfig and config.image_shape == (3, 8, 6)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert type(loaded) is ImageVAE and loaded.encoder[0].dense.in_features == 144
    assert torch.equal(loaded(x).reconstruction, out.reconstruction)


def test_grey_non_square_image_vae():
    """A grey 8x6 model takes (B, 8, 6), (B, 1, 8, 6) and (B, 48), and decodes to (B, 8, 6)."""
    vae = _rgb_image_vae(num_channels=1).eval()
    x = _pixels((4, 8, 6))
    mean = vae.encode(x).latent_dist.mean
    for same in (x[:, None], x.reshape(4, 48), x.float() / 255):
        assert torch.equal(vae.encode(same).latent_dist.mean, mean)
    assert vae.decode(mean).sample.shape == vae(x).reconstruction.shape == (4, 8, 6)
    assert "num_channels" not in vae.config.to_diff_dict()


def test_mnist_image_vae_is_unchanged(mnist_subset, tmp_path):
    """The shipped MNIST model is a grey 28x28 one; its three input shapes give the encoder the same flat
    pixels as before shapes were configurable, and it saves the config.json it was shipped with."""
    vae = load_pretrained("image-vae-32").eval()
    assert vae.config.image_shape == (1, 28, 28) and vae.config.flat_size == 784
    x = torch.from_numpy(mnist_subset.test_images[:8])
    flat = x.reshape(8, 784).float() / 255
    with torch.no_grad():
        expected = vae.mean_head(vae.encoder(flat))
        for given in (x, x[:, None], flat, x.float() / 255):
            assert torch.equal(vae.encode(given).latent_dist.mean, expected)
        assert vae.decode(expected).sample.shape == (8, 28, 28)
    vae.save_pretrained(tmp_path)
    shipped = json.loads((pretrained_path("image-vae-32") / "config.json").read_text())
    saved = json.loads((tmp_path / "config.json").read_text())
    assert {**saved, "transformers_version": None} == {**shipped, "transformers_version": None}


def test_class_vae_and_middle_layers_round_trip(tmp_path):
    torch.manual_seed(0)
    for model, inputs in (
        (ClassVAE(ClassVAEConfig(latent_dim=7)).eval(), torch.tensor([5, 0, 4, 1, 9])),
        (MiddleLayers(MiddleLayersConfig(latent_dim=7)).eval(), torch.randn(5, 7)),
    ):
        path = tmp_path / model.config.model_type
        model.save_pretrained(path)
        loaded = AutoModel.from_pretrained(path).eval()
        assert type(loaded) is type(model)
        assert AutoConfig.from_pretrained(path).latent_dim == 7
        a, b = model(inputs), loaded(inputs)
        assert torch.equal(a[0], b[0])


def test_class_vae_decodes_and_loss_is_keras_bce():
    vae = ClassVAE(ClassVAEConfig(latent_dim=5)).eval()
    labels = torch.tensor([3, 7])
    out = vae(labels)
    probs = vae.decode(out.latents).probs
    assert probs.shape == (2, 10) and torch.allclose(probs.sum(-1), torch.ones(2))
    onehot = torch.nn.functional.one_hot(labels, 10).float()
    p = probs.clamp(1e-7, 1 - 1e-7)
    expected = -(onehot * p.log() + (1 - onehot) * (1 - p).log()).mean()
    assert torch.allclose(out.reconstruction_loss, expected)
    assert vae.predict(out.latents).shape == (2,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda v, c: v.encode(torch.zeros(3, 27, 28, dtype=torch.uint8)), r"expected \(batch, 28, 28\)"),
        (lambda v, c: v.encode(torch.full((3, 28, 28), 2.0)), r"in \[0, 1\]"),
        (lambda v, c: v.encode(torch.zeros(3, 28, 28, dtype=torch.int32)), "expected uint8"),
        (lambda v, c: v.encode(torch.zeros(0, 28, 28)), "empty"),
        (lambda v, c: v.decode(torch.zeros(3, 5)), r"expected \(batch, 4\)"),
        (lambda v, c: c.encode(torch.tensor([1, 10])), r"0\.\.9"),
        (lambda v, c: c.encode(torch.tensor([-1])), r"0\.\.9"),
        (lambda v, c: c.encode(torch.tensor([[1, 2]])), r"expected \(batch,\)"),
        (lambda v, c: c.encode(torch.tensor([1.0])), "expected an integer tensor of class indices"),
    ],
)
def test_inputs_are_validated(call, match):
    with pytest.raises(ValueError, match=match):
        call(_tiny_image_vae(), ClassVAE(ClassVAEConfig(latent_dim=4)))


def test_reference_architecture_sizes():
    vae = ImageVAE(ImageVAEConfig())
    linear = [m for m in vae.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (784, 128),
        (128, 64),
        (64, 32),
        (64, 32),
        (32, 64),
        (64, 128),
        (128, 784),
    ]
    dropouts = [m.p for m in vae.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts == [0.9] * 5


@pytest.mark.parametrize("shape", [(5, 7), (1, 784), (3000, 784)])  # 3000 rows: three blocks of rows
def test_bce_with_logits_matches_pytorch(shape):
    from ldmnist_hf.models.modeling_utils import bce_with_logits_mean

    gen = torch.Generator().manual_seed(0)
    logits = (torch.randn(shape, generator=gen) * 6).requires_grad_()  # large |logits| too
    target = torch.rand(shape, generator=gen)
    ours = bce_with_logits_mean(logits, target)
    (grad,) = torch.autograd.grad(2 * ours, logits)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
    (expected_grad,) = torch.autograd.grad(2 * expected, logits)
    torch.testing.assert_close(ours, expected)
    torch.testing.assert_close(grad, expected_grad)


def _with_batch_norm_statistics(model):
    """Non-trivial BatchNorm weights and statistics, so that folding them is really tested."""
    gen = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(generator=gen)
                m.running_mean.normal_(generator=gen)
                m.running_var.uniform_(0.5, 2, generator=gen)
    return model


def test_folded_batch_norm_is_the_same_function():
    """The training step's folded BatchNorm: same losses and gradients as the modules, up to rounding."""
    vae = _with_batch_norm_statistics(_tiny_image_vae()).eval()
    mlp = _with_batch_norm_statistics(
        MiddleLayers(MiddleLayersConfig(latent_dim=4, hidden_sizes=[16, 8]))
    ).eval()
    pixels = _images().float().div(255).reshape(6, 784)
    noise = torch.randn(6, 4, generator=torch.Generator().manual_seed(3))
    results = []
    for fold in (False, True):
        out = vae.forward_loss(pixels, noise, fold_batch_norm=fold)
        mapped = mlp.transform(out.latents, fold_batch_norm=fold)
        loss = out.loss + mapped.square().mean()
        params = [*vae.parameters(), *mlp.parameters()]
        results.append((loss, out.logits, mapped, *torch.autograd.grad(loss, params)))
    for plain, folded in zip(*results):
        torch.testing.assert_close(folded, plain, rtol=1e-5, atol=1e-6)
    # in training mode BatchNorm uses batch statistics: nothing is folded
    vae.train()
    torch.manual_seed(0)
    a = vae.forward_loss(pixels, noise, fold_batch_norm=True).loss
    torch.manual_seed(0)
    assert torch.equal(a, vae.forward_loss(pixels, noise).loss)


def _backward_nodes(tensor):
    seen, todo = set(), [tensor.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and node not in seen:
            seen.add(node)
            todo.extend(n for n, _ in node.next_functions)
    return [n.name() for n in seen]


def test_leaky_relu_backward_reads_outputs_not_inputs():
    """The LeakyReLUs run in place, so their backward reads the output (which the next layer keeps anyway):
    a compiled step then saves no bool mask of the input (inductor stores those about 30x slower)."""
    vae = _tiny_image_vae().eval()
    mlp = MiddleLayers(MiddleLayersConfig(latent_dim=4, hidden_sizes=[16, 8])).eval()
    pixels = _images().float().div(255).reshape(6, 784)
    noise = torch.randn(6, 4, generator=torch.Generator().manual_seed(3))
    for fold in (False, True):
        out = vae.forward_loss(pixels, noise, fold_batch_norm=fold)
        nodes = _backward_nodes(out.loss + mlp.transform(out.latents, fold_batch_norm=fold).sum())
        assert nodes.count("LeakyReluBackward1") == 4  # 2 decoder blocks + 2 middle-layer blocks
        assert "LeakyReluBackward0" not in nodes


def test_block_layers_have_names():
    vae = _tiny_image_vae()
    enc, dec = vae.encoder[0], vae.decoder[0]  # Dense first; Dropout first
    assert enc.dense is enc[0] and enc.activation is enc[1] and enc.norm is enc[2] and enc.dropout is enc[3]
    assert dec.dropout is dec[0] and dec.dense is dec[1] and dec.activation is dec[2] and dec.norm is dec[3]
    assert isinstance(enc.activation, torch.nn.ReLU) and isinstance(dec.activation, torch.nn.LeakyReLU)


# ----------------------------------------------------------------------------- bad input


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
# NaN or overflowing latents raise instead of answering class 0.
BAD_INPUT = [
    (
        "predict-nan",
        lambda c: load_pretrained(c.cv).predict(torch.full((2, 6), float("nan"))),
        ValueError,
        "NaN or inf",
    ),
    (
        "decode-inf",
        lambda c: load_pretrained(c.cv).decode(torch.full((1, 6), float("inf"))),
        ValueError,
        "NaN or inf",
    ),
    (
        "image-decode-nan",
        lambda c: load_pretrained(c.iv).decode(torch.full((1, 6), float("nan"))),
        ValueError,
        "NaN or inf",
    ),
    (
        "middle-layers-nan",
        lambda c: MiddleLayers(MiddleLayersConfig(latent_dim=3)).eval()(
            torch.tensor([[0.0, float("nan"), 1.0]])
        ),
        ValueError,
        "NaN or inf values in 1 of 1 rows",
    ),
    (
        "class-vae-label-not-an-integer",
        lambda c: load_pretrained(c.cv).encode(torch.tensor([1.0, 3.5, 4.0])),
        ValueError,
        "`labels` must be class indices, integers in 0..9: row 1 holds 3.5, which is not an integer",
    ),
    (
        "class-vae-label-out-of-range",
        lambda c: load_pretrained(c.cv).encode(torch.tensor([1, 2, 12])),
        ValueError,
        "row 2 holds 12, which is outside 0..9",
    ),
    (
        "predict-complex",
        lambda c: load_pretrained(c.cv).predict(torch.zeros(1, 6, dtype=torch.complex64)),
        ValueError,
        "floating-point",
    ),
    (
        "predict-overflowing-latents",
        lambda c: load_pretrained(c.cv).predict(torch.full((2, 6), 3e38)),
        ValueError,
        "make the decoder's outputs overflow",
    ),
    (
        "image-decode-overflowing-latents",
        lambda c: load_pretrained("image-vae-32").decode(torch.full((1, 32), -3e38)),
        ValueError,
        "make the decoder's outputs overflow",
    ),
    # pixel shapes that are not the model's image (an RGB 3x8x6 model, a grey 8x6 one, MNIST's)
    (
        "rgb-given-grey-shape",
        lambda c: _rgb_image_vae().encode(_pixels((2, 8, 6))),
        ValueError,
        "`pixel_values` has shape (2, 8, 6); expected (batch, 3, 8, 6) (channels first) or (batch, 144).",
    ),
    (
        "rgb-given-channels-last",
        lambda c: _rgb_image_vae().encode(_pixels((2, 8, 6, 3))),
        ValueError,
        "(channels last: `pixel_values.permute(0, 3, 1, 2)` puts the channels first)",
    ),
    (
        "rgb-given-flat-of-wrong-length",
        lambda c: _rgb_image_vae().encode(_pixels((2, 143))),
        ValueError,
        "`pixel_values` has shape (2, 143); expected (batch, 3, 8, 6) (channels first) or (batch, 144).",
    ),
    (
        "rgb-given-other-channels",
        lambda c: _rgb_image_vae().encode(_pixels((2, 4, 8, 6))),
        ValueError,
        "has shape (2, 4, 8, 6); expected (batch, 3, 8, 6)",
    ),
    (
        "grey-non-square-given-transposed",
        lambda c: _rgb_image_vae(num_channels=1).encode(_pixels((2, 6, 8))),
        ValueError,
        "has shape (2, 6, 8); expected (batch, 8, 6), (batch, 1, 8, 6) or (batch, 48).",
    ),
    (
        "mnist-given-rgb",
        lambda c: load_pretrained(c.iv).encode(_pixels((2, 3, 28, 28))),
        ValueError,
        "expected (batch, 28, 28), (batch, 1, 28, 28) or (batch, 784).",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
