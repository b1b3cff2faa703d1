"""The evaluate metric (metrics/ldmnist/ldmnist.py): the package's scores, any input scored right or refused."""

import json
import math
import shutil

import evaluate
import numpy as np
import pytest
import torch
from helpers import property_settings
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from safetensors.numpy import save_file

import ldmnist_hf
from ldmnist_hf import ClassVAE, ClassVAEConfig, load_pretrained, pretrained_path
from ldmnist_hf.hub.scoring import metric_module


@pytest.fixture(scope="module")
def metric():
    return ldmnist_hf.load_metric()


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
        (
            dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[1, 2, 10]),
            r"row 2 holds 10, which is outside 0\.\.9 \(1 such row\)",
        ),
        (
            dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[1, 2, 2.5]),
            r"row 2 holds 2\.5, which is not an integer",
        ),
        # a label between the others': its value and row, not the range of all of them (1 to 4)
        (
            dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[1, 3.5, 4]),
            r"`labels` must be the integers 0\.\.9 \(the digits' classes\): row 1 holds 3\.5, which is not an integer",
        ),
        (
            dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[1, np.nan, 4]),
            "row 1 holds nan, which is not an integer",
        ),
        (dict(predictions=np.zeros((0, 32)), references=np.zeros((0, 32))), "empty"),
        (dict(predictions=np.zeros(32), references=np.zeros(32)), r"expected \(N, latent_dim\)"),
        # non-real inputs are refused, not cast (a cast would drop the imaginary part or count booleans)
        (dict(predictions=np.full((3, 32), 1 + 2j), references=np.zeros((3, 32))), "complex128.*refused"),
        (
            dict(predictions=torch.zeros(3, 32, dtype=torch.complex64), references=np.zeros((3, 32))),
            "complex64",
        ),
        (
            dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32), bool)),
            "dtype bool; expected real",
        ),
        (dict(predictions=[["a"] * 32] * 3, references=np.zeros((3, 32))), "dtype <U1; expected real"),
        (dict(predictions=[[None] * 32] * 3, references=np.zeros((3, 32))), "dtype object; expected real"),
        (dict(predictions=[[0.0] * 32, [0.0]], references=np.zeros((2, 32))), "could not be read"),
        (dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[1j, 2, 3]), "complex"),
        (dict(predictions=np.zeros((3, 32)), references=np.zeros((3, 32)), labels=[True] * 3), "bool"),
        (dict(predictions=np.zeros((3, 0)), references=np.zeros((3, 0))), "rows of 0 components"),
        (dict(predictions=np.full((2, 32), 1e39), references=np.zeros((2, 32))), "beyond float32's range"),
        (dict(predictions=np.zeros((2, 32)), references=np.full((2, 32), -4e38)), "beyond float32's range"),
    ],
)
def test_bad_input(metric, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metric.compute(**kwargs)


def test_half_precision_tensors_are_read(metric):
    p = torch.ones(2, 32, dtype=torch.bfloat16)
    assert metric.compute(predictions=p, references=torch.zeros(2, 32, dtype=torch.float16)) == {"mse": 1.0}


def _class_vae_folder(
    folder, weight_shape=(10, 32), bias_shape=(10,), config=None, drop=(), dtype=np.float32
):
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config or {"latent_dim": 32, "num_classes": 10}))
    tensors = {"decoder.weight": np.zeros(weight_shape, dtype), "decoder.bias": np.zeros(bias_shape, dtype)}
    save_file({k: v for k, v in tensors.items() if k not in drop}, str(folder / "model.safetensors"))
    return folder


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda d: d, r"is no folder \(no such folder .*/cv\) and no Hub model repository id"),
        (lambda d: (_class_vae_folder(d), (d / "config.json").unlink())[0], "has no config.json"),
        (lambda d: (_class_vae_folder(d), (d / "model.safetensors").unlink())[0], "has no model.safetensors"),
        (lambda d: _class_vae_folder(d, drop=("decoder.weight",)), "holds no 'decoder.weight'"),
        (lambda d: _class_vae_folder(d, drop=("decoder.bias",)), "holds no 'decoder.bias'"),
        (
            lambda d: _class_vae_folder(d, weight_shape=(32, 10)),
            r"has shape \(32, 10\).*expected finite floats",
        ),
        (lambda d: _class_vae_folder(d, bias_shape=(9,)), r"'decoder.bias' has shape \(9,\)"),
        (lambda d: _class_vae_folder(d, dtype=np.int32), "dtype int32"),
        (lambda d: _class_vae_folder(d, config={"num_classes": 10}), "latent_dim=None"),
        (
            lambda d: (_class_vae_folder(d), (d / "model.safetensors").write_bytes(b"not safetensors"))[0],
            "safetensors",
        ),
        (
            lambda d: (_class_vae_folder(d), (d / "config.json").write_text("[32, 10]"))[0],
            "holds a JSON list",
        ),
        (
            lambda d: (_class_vae_folder(d), (d / "config.json").write_text("{oops"))[0],
            "cannot be read as JSON",
        ),
        (
            lambda d: _class_vae_folder(d, config={"latent_dim": 2**40, "num_classes": 10}),
            "latent_dim 1..16384",
        ),
        (lambda d: _class_vae_folder(d, config={"latent_dim": True, "num_classes": 10}), "latent_dim=True"),
        (lambda d: (_class_vae_folder(d), d / "config.json")[1], "is a file; give its folder"),
    ],
)
def test_bad_class_vae(tmp_path, make, match):
    folder = make(tmp_path / "cv")
    with pytest.raises(ValueError, match=match):
        evaluate.load(ldmnist_hf.METRIC_PATH, class_vae=str(folder))


def test_accuracy_needs_a_class_vae():
    metric = evaluate.load(ldmnist_hf.METRIC_PATH)  # the package file has no default class VAE
    assert metric.compute(predictions=np.zeros((2, 32)), references=np.ones((2, 32))) == {"mse": 1.0}
    with pytest.raises(ValueError, match="or class_vae= the Hub id or folder"):
        metric.compute(predictions=np.zeros((2, 32)), references=np.ones((2, 32)), labels=[1, 2])


def test_same_scores_as_the_torch_class_decoder_on_the_test_split(built, metric):
    """The numpy metric scores the real test split as the package's ClassVAE (torch) does, to 1e-7."""
    from ldmnist_hf.analysis.benchmark import linear_regression
    from ldmnist_hf.data.read import load_latents

    x_tr, y_tr = load_latents(str(built / "ldmnist"), "train")
    x, y, y_mean, labels = load_latents(str(built / "ldmnist"), "test", columns=("x", "y", "y_mean", "label"))
    decoder = load_pretrained("class-vae-32")
    predictors = {
        "linear regression": linear_regression(x_tr, y_tr)(x),
        "posterior mean": y_mean,
        "the targets": y,
        "noise": np.random.default_rng(0).normal(size=y.shape).astype(np.float32),
    }
    for name, p in predictors.items():
        out = metric.compute(predictions=p, references=y, labels=labels)
        with torch.no_grad():
            accuracy = (decoder.predict(torch.from_numpy(np.array(p))).numpy() == labels).mean()
        assert out["mse"] == pytest.approx(np.mean((p.astype(np.float64) - y) ** 2), abs=1e-7), name
        assert out["reconstructed_accuracy"] == pytest.approx(accuracy, abs=1e-7), name
    assert (
        0.7
        < metric.compute(predictions=predictors["linear regression"], references=y, labels=labels)[
            "reconstructed_accuracy"
        ]
        < 0.8
    )  # the linear baseline of the benchmark table, so the comparison above is not vacuous


def test_runs_without_torch_transformers_or_this_package(tmp_path, isolated_python):
    """The metric is what the Hub Space serves: numpy, safetensors, huggingface_hub and evaluate only."""
    shutil.copytree(ldmnist_hf.METRIC_PATH, tmp_path / "ldmnist")
    cv = pretrained_path("class-vae-32")
    out = isolated_python(
        "import json, sys, evaluate\n"
        f"metric = evaluate.load({str(tmp_path / 'ldmnist')!r}, class_vae={str(cv)!r})\n"
        "out = metric.compute(predictions=[[0.0] * 32] * 2, references=[[1.0] * 32] * 2, labels=[0, 1])\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'ldmnist_hf')]\n"
        "print(json.dumps([out, loaded]))\n",
        blocked=("torch", "transformers", "ldmnist_hf"),
    )
    out, loaded = json.loads(out.strip().splitlines()[-1])
    assert loaded == []
    bias = load_pretrained("class-vae-32").decoder.bias.detach().numpy()
    assert out == {"mse": 1.0, "reconstructed_accuracy": float(np.mean(bias.argmax() == np.array([0, 1])))}


def test_nothing_added(metric):
    with pytest.raises(ValueError, match="add_batch"):
        metric.compute()


def test_other_class_decoder(tmp_path):
    torch.manual_seed(0)
    vae = ClassVAE(ClassVAEConfig(latent_dim=16)).eval()
    vae.save_pretrained(tmp_path / "cv16")
    metric = evaluate.load(ldmnist_hf.METRIC_PATH, class_vae=str(tmp_path / "cv16"))
    z = vae.encode(torch.tensor([4, 2])).latent_dist.mean
    out = metric.compute(predictions=z, references=np.zeros((2, 16)), labels=vae.predict(z))
    assert out["reconstructed_accuracy"] == 1.0


def test_batches_of_other_widths_are_refused(metric):
    metric.add_batch(predictions=np.zeros((2, 32)), references=np.zeros((2, 32)))
    with pytest.raises(ValueError, match="have 32; all batches of one compute"):
        metric.add_batch(predictions=np.zeros((2, 16)), references=np.zeros((2, 16)))
    assert metric.compute() == {"mse": 0.0}  # the batch that fitted is still there
    assert metric.compute(predictions=np.zeros((1, 16)), references=np.ones((1, 16))) == {"mse": 1.0}


# ----------------------------------------------------------------------------- any input (property-based)


_dtypes = st.sampled_from(
    [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_, np.complex64]
)
_shapes = st.one_of(
    st.tuples(st.integers(0, 5), st.sampled_from([0, 1, 16, 32])), st.tuples(st.integers(0, 5)), st.just(())
)
_arrays = hnp.arrays(_dtypes, _shapes, elements=None)
_values = st.one_of(
    _arrays,
    st.none(),
    st.text(max_size=3),
    st.lists(st.lists(st.one_of(st.floats(), st.integers(), st.text(max_size=1)), max_size=3), max_size=3),
)


@property_settings()
@given(predictions=_values, references=_values, labels=st.one_of(st.none(), _values))
def test_metric_any_input_scores_right_or_says_why(metric, predictions, references, labels):
    try:
        out = metric.compute(predictions=predictions, references=references, labels=labels)
    except ValueError as e:
        assert str(e).strip(), "an error without a message"
        return
    p = np.asarray(predictions, np.float64)
    r = np.asarray(references, np.float32).astype(np.float64)
    assert math.isfinite(out["mse"])
    assert out["mse"] == pytest.approx(
        np.mean((p.astype(np.float32).astype(np.float64) - r) ** 2), rel=1e-6, abs=1e-9
    )
    if labels is not None:
        assert 0.0 <= out["reconstructed_accuracy"] <= 1.0


def _string_bomb(path):
    """A valid prediction column beside a column whose one 2 MB string, dictionary-encoded, decodes to 20 GB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pad = pa.DictionaryArray.from_arrays(pa.array(np.zeros(10000, np.int32)), pa.array(["a" * 2_000_000]))
    prediction = pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(10000 * 32, np.float32)), 32)
    table = pa.table({"prediction": prediction, "pad": pad})
    pq.write_table(table, path, compression="zstd", dictionary_pagesize_limit=1 << 30, store_schema=False)
    return path


def _column_bomb(path):
    """6000 float columns of 10000 zeros: each passes a per-column bound, together 460 MB once decoded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({f"y{i}": pa.array(np.zeros(10000)) for i in range(6000)}), path, store_schema=False
    )
    return path


def test_a_small_parquet_file_never_decodes_to_gigabytes(tmp_path, monkeypatch):
    """Columns are chosen from the schema before any value is decoded: other columns are never read, and more
    float columns than the latent size are refused from the footer."""
    import pyarrow.parquet as pq

    read = []
    real = pq.read_table
    monkeypatch.setattr(
        pq, "read_table", lambda path, **kw: read.append(kw.get("columns")) or real(path, **kw)
    )
    path = _string_bomb(tmp_path / "strings.parquet")
    assert path.stat().st_size < 5000
    metric = metric_module()
    assert metric.read_predictions(path, shape=(10000, 32)).shape == (10000, 32)
    assert read == [["prediction"]]  # the 20 GB column was never decoded
    with pytest.raises(ValueError, match="has 6000 float columns; the test split needs 32"):
        metric.read_predictions(_column_bomb(tmp_path / "columns.parquet"), shape=(10000, 32))
    assert len(read) == 1  # refused before reading
