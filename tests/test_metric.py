import evaluate
import numpy as np
import pytest
import torch

import ldmnist_hf
from ldmnist_hf import ClassVAE, ClassVAEConfig, load_pretrained


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(ldmnist_hf.METRIC_PATH)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(10000, 32)).astype(np.float32),
        rng.normal(size=(10000, 32)).astype(np.float32),
        rng.integers(0, 10, 10000),
    )


def test_matches_numpy(metric, data):
    p, r, y = data
    out = metric.compute(predictions=p, references=r, labels=y)
    decoder = load_pretrained("class-vae-32")
    logits = p @ decoder.decoder.weight.detach().numpy().T + decoder.decoder.bias.detach().numpy()
    assert out["mse"] == pytest.approx(np.mean((p.astype(np.float64) - r) ** 2), rel=1e-12)
    assert out["reconstructed_accuracy"] == np.mean(logits.argmax(1) == y)


def test_input_types_and_batches(metric, data):
    p, r, y = data
    expected = metric.compute(predictions=p, references=r, labels=y)
    assert (
        metric.compute(
            predictions=torch.from_numpy(p), references=torch.from_numpy(r), labels=torch.from_numpy(y)
        )
        == expected
    )
    assert metric.compute(
        predictions=p[:50].tolist(), references=r[:50].tolist(), labels=y[:50].tolist()
    ) == metric.compute(predictions=p[:50], references=r[:50], labels=y[:50])
    for i in range(0, 10000, 3000):
        metric.add_batch(predictions=p[i : i + 3000], references=r[i : i + 3000], labels=y[i : i + 3000])
    batched = metric.compute()
    assert batched["reconstructed_accuracy"] == expected["reconstructed_accuracy"]
    assert batched["mse"] == pytest.approx(expected["mse"], rel=1e-12)
    assert set(metric.compute(predictions=p, references=r)) == {"mse"}


def test_perfect_class_means_decode_to_their_class(metric):
    vae = load_pretrained("class-vae-32")
    labels = torch.arange(10).repeat(3)
    means = vae.encode(labels).latent_dist.mean
    assert metric.compute(predictions=means, references=means, labels=labels) == {
        "mse": 0.0,
        "reconstructed_accuracy": 1.0,
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(predictions=np.zeros((3, 32)), references=np.zeros((4, 32))), "shape"),
        (dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[1, 2]), "2 entries"),
        (
            dict(predictions=np.zeros((3, 16)), references=np.zeros((3, 16)), labels=[1, 2, 3]),
            "16 components but the class decoder .* expects 32",
        ),
        (dict(predictions=np.full((3, 32), np.nan), references=np.zeros((3, 32))), "NaN or infinite"),
        (dict(predictions=np.zeros((3, 32)), references=np.full((3, 32), np.inf)), "NaN or infinite"),
        (dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[1, 2, 10]), r"0\.\.9"),
        (dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[1, 2, 2.5]), r"0\.\.9"),
        (dict(predictions=np.zeros((0, 32)), references=np.zeros((0, 32))), "empty"),
        (dict(predictions=np.zeros(32), references=np.zeros(32)), r"expected \(N, latent_dim\)"),
    ],
)
def test_bad_input(metric, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metric.compute(**kwargs)


def test_nothing_added(metric):
    with pytest.raises(ValueError, match="add_batch"):
        metric.compute()


def test_other_class_decoder(tmp_path):
    torch.manual_seed(0)
    vae = ClassVAE(ClassVAEConfig(latent_dim=16)).eval()
    vae.save_pretrained(tmp_path / "cv16")
    metric = evaluate.load(ldmnist_hf.METRIC_PATH, class_decoder=str(tmp_path / "cv16"))
    z = vae.encode(torch.tensor([4, 2])).latent_dist.mean
    out = metric.compute(predictions=z, references=np.zeros((2, 16)), labels=vae.predict(z))
    assert out["reconstructed_accuracy"] == 1.0
