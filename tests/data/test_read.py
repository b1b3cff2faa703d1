"""Reading a built folder (data/read.py): `load_latents`, and `verify_dataset`, which finds any change."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import TRAIN_FILE, bad_input_test, resign, rewrite_split, swap_splits, with_column

from ldmnist_hf.build import dataset as B
from ldmnist_hf.cli import main
from ldmnist_hf.data import read as R
from ldmnist_hf.errors import LDMNISTError


def test_formats_and_fast_helper(ds, built):
    train = ds["train"].with_format("numpy")[:]
    assert train["x"].shape == (60000, 32) and train["x"].dtype == np.float32
    t = ds["test"].with_format("torch")[:]
    assert t["y"].shape == (10000, 32) and t["y"].dtype == torch.float32
    x, y, label = R.load_latents(ds, columns=("x", "y", "label"))
    assert np.array_equal(x, train["x"]) and np.array_equal(y, train["y"])
    assert label.shape == (60000,) and np.array_equal(label, train["label"])
    assert np.array_equal(np.load(built / "ldmnist" / "train_x.npy"), x)  # the reference's format
    # a shuffled view goes through datasets' own indexing
    (xs,) = R.load_latents(ds["train"].select([2, 0]), columns=("x",))
    assert np.array_equal(xs, x[[2, 0]])


def test_a_flipped_byte_is_caught(tmp_path, tiny_kw, capsys):
    """Item 6: one flipped byte in a Parquet file silently changed a value."""
    out = B.build_dataset(tmp_path / "ds", **tiny_kw)
    assert main(["verify", str(out)]) == 0
    capsys.readouterr()
    raw = bytearray((out / TRAIN_FILE).read_bytes())
    raw[200] ^= 0x01
    (out / TRAIN_FILE).write_bytes(bytes(raw))
    assert main(["verify", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"ldmnist verify: error: {out / TRAIN_FILE} has changed since the build"
    )


# ------------------------------------------------------------------- rewritten data behind a re-signed record


def _swap_columns(a, b):
    def edit(table):
        ia, ib = table.schema.get_field_index(a), table.schema.get_field_index(b)
        ca, cb = table.column(a), table.column(b)
        return table.set_column(ia, table.schema.field(a), cb).set_column(ib, table.schema.field(b), ca)

    return edit


def _npy_zeroed(folder: Path) -> None:
    import numpy as np

    np.save(folder / "train_x.npy", np.zeros_like(np.load(folder / "train_x.npy")))


# Rewrites of a real build whose record and card are then re-signed: every checksum passes, so `verify` (and the
# export and push, which call it) must find them in the data itself.
RESIGNED_DATA = [
    (
        "rows-reordered",
        lambda f: rewrite_split(f, "test", lambda t: t.take(list(range(9999, -1, -1)))),
        "not in the original MNIST order",
    ),
    (
        "rows-duplicated",
        lambda f: rewrite_split(
            f, "test", lambda t: __import__("pyarrow").concat_tables([t.slice(0, 5000)] * 2)
        ),
        "not in the original MNIST order",
    ),
    ("splits-swapped", lambda f: _swap_files(f), "has 10000 rows where its build recorded 60000"),
    (
        "labels-shuffled",
        lambda f: rewrite_split(
            f,
            "test",
            with_column("label", lambda a: __import__("numpy").random.default_rng(0).permutation(a)),
        ),
        "labels that do not belong to its rows",
    ),
    (
        "label-out-of-range",
        lambda f: rewrite_split(f, "test", with_column("label", lambda a: a * 0 + 11)),
        "which is outside 0..9",
    ),
    (
        "x-and-y-swapped",
        lambda f: rewrite_split(f, "train", _swap_columns("x", "y")),
        "has `x` that was not drawn from its posterior",
    ),
    (
        "y-is-its-mean",
        lambda f: rewrite_split(
            f,
            "test",
            lambda t: t.set_column(t.schema.get_field_index("y"), t.schema.field("y"), t.column("y_mean")),
        ),
        "has `y` that was not drawn from its posterior",
    ),
    (
        "x-huge",
        lambda f: rewrite_split(f, "test", with_column("x", lambda a: a * 0 + 1e38)),
        "has `x` that was not drawn",
    ),
    (
        "std-negative",
        lambda f: rewrite_split(f, "test", with_column("y_std", lambda a: -a)),
        "the test split has non-positive values in `y_std`",
    ),
    ("npy-differs", _npy_zeroed, "train_x.npy, which differs from the Parquet column `x`"),
]


def _swap_files(folder: Path) -> None:
    train, test = folder / "data/train-00000-of-00001.parquet", folder / "data/test-00000-of-00001.parquet"
    tmp = folder / "swap.parquet"
    train.rename(tmp)
    test.rename(train)
    tmp.rename(test)


@pytest.mark.parametrize("case, rewrite, fragment", RESIGNED_DATA, ids=[c[0] for c in RESIGNED_DATA])
def test_verify_finds_rewritten_data_behind_a_resigned_record(built, tmp_path, case, rewrite, fragment):

    from ldmnist_hf.data.read import verify_dataset

    folder = tmp_path / "ldmnist"
    shutil.copytree(built / "ldmnist", folder)
    rewrite(folder)
    resign(folder)
    with pytest.raises(LDMNISTError, match=re.escape(fragment)):
        verify_dataset(folder)


# ----------------------------------------------------------------------------- bad input


def _dataset_with(columns):
    import datasets

    return datasets.Dataset.from_dict(columns)


def _fixed_list_with_null():
    import datasets
    import pyarrow as pa

    col = pa.array([[1.0, 2.0], None], pa.list_(pa.float32(), 2))
    return datasets.Dataset(pa.table({"x": col}))


def _label_at(row: int, value):
    """A table edit: the label of `row` set to `value`, the column float64 when `value` is not whole."""

    def edit(table):
        import numpy as np
        import pyarrow as pa

        labels = table.column("label").to_numpy().astype(np.float64 if value % 1 else np.int64)
        labels[row] = value
        i = table.schema.get_field_index("label")
        return table.set_column(i, pa.field("label", pa.from_numpy_dtype(labels.dtype)), pa.array(labels))

    return edit


def _latents_from_an_unreachable_hub(c, repo_id):
    """`load_latents(repo_id)` where no such folder exists and the Hub cannot be reached."""

    def unreachable(*args, **kwargs):
        raise ConnectionError("unreachable")

    c.monkeypatch.setattr("datasets.load_dataset", unreachable)
    c.monkeypatch.chdir(c.tmp)
    return R.load_latents(repo_id)


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "verify-flipped-byte",
        lambda c: R.verify_dataset(c.flip_byte(c.copy("ds") / TRAIN_FILE).parents[1]),
        LDMNISTError,
        "train-00000-of-00001.parquet has changed since the build",
    ),
    (
        "verify-truncated",
        lambda c: R.verify_dataset(c.truncate(c.copy("ds") / TRAIN_FILE).parents[1]),
        LDMNISTError,
        "truncated or replaced",
    ),
    (
        "verify-deleted",
        lambda c: ((c.copy("ds") / TRAIN_FILE).unlink(), R.verify_dataset(c.tmp / "ds")),
        LDMNISTError,
        "train-00000-of-00001.parquet is missing",
    ),
    (
        "verify-extra-parquet",
        lambda c: (
            shutil.copy(c.copy("ds") / TRAIN_FILE, c.tmp / "ds" / "data" / "train-extra.parquet"),
            R.verify_dataset(c.tmp / "ds"),
        ),
        LDMNISTError,
        "train-extra.parquet was not written by the build",
    ),
    (
        "verify-record-not-json",
        lambda c: ((c.copy("ds") / "ldmnist_build.json").write_text("{"), R.verify_dataset(c.tmp / "ds")),
        LDMNISTError,
        "ldmnist_build.json is damaged",
    ),
    (
        "verify-record-is-a-list",
        lambda c: ((c.copy("ds") / "ldmnist_build.json").write_text("[]"), R.verify_dataset(c.tmp / "ds")),
        LDMNISTError,
        "ldmnist_build.json holds an array ([...]), not a JSON object ({...}); rebuild the dataset",
    ),
    (
        "verify-label-not-an-integer",
        lambda c: R.verify_dataset(c.resigned(_label_at(3, 3.5))),
        LDMNISTError,
        "the test split has labels that are not the digits' classes 0..9: row 3 holds 3.5, which is not an "
        "integer (1 such row)",
    ),
    (
        "verify-label-out-of-range",
        lambda c: R.verify_dataset(c.resigned(_label_at(2, 11))),
        LDMNISTError,
        "the test split has labels that are not the digits' classes 0..9: row 2 holds 11, which is outside 0..9",
    ),
    (
        "verify-npy-copy-pickled",
        lambda c: (
            (c.copy("ds") / "train_x.npy").write_bytes(b"\x80\x04K\x01."),
            R.verify_dataset(c.tmp / "ds"),
        ),
        LDMNISTError,
        "the train split has train_x.npy, which is not a .npy array of numbers (damaged, or Python objects); "
        "`ldmnist build` never writes that",
    ),
    (
        "verify-record-without-files",
        lambda c: R.verify_dataset(
            c.edit_json(c.copy("ds") / "ldmnist_build.json", lambda d: d.pop("files")).parent
        ),
        LDMNISTError,
        "records no file checksums",
    ),
    (
        "verify-record-path-escape",
        lambda c: R.verify_dataset(
            c.edit_json(
                c.copy("ds") / "ldmnist_build.json",
                lambda d: d["files"].update({"../x": {"sha256": "", "size": 0}}),
            ).parent
        ),
        LDMNISTError,
        "malformed entry for '../x'",
    ),
    (
        "verify-card-yaml-broken",
        lambda c: (
            (c.copy("ds") / "README.md").write_text("---\nconfigs: [unclosed\n---\n"),
            R.verify_dataset(c.tmp / "ds"),
        ),
        LDMNISTError,
        "YAML header cannot be read",
    ),
    (
        "verify-card-of-other-build",
        lambda c: (
            (c.copy("ds") / "README.md").write_text(
                (c.ds / "README.md").read_text().replace("data fingerprint ", "data fingerprint 0")
            ),
            R.verify_dataset(c.tmp / "ds"),
        ),
        LDMNISTError,
        "does not carry this data's fingerprint",
    ),
    (
        "verify-not-a-folder",
        lambda c: R.verify_dataset(c.file()),
        LDMNISTError,
        "is not a folder (it is a file)",
    ),
    (
        "verify-no-such-folder",
        lambda c: R.verify_dataset(c.tmp / "nothing"),
        LDMNISTError,
        "(no such folder)",
    ),
    (
        "verify-not-a-build",
        lambda c: R.verify_dataset(c.tmp),
        LDMNISTError,
        "not a folder written by `ldmnist build`",
    ),
    (
        "latents-truncated",
        lambda c: R.load_latents(c.truncate(c.copy("ds") / TRAIN_FILE).parents[1]),
        LDMNISTError,
        "truncated or replaced",
    ),
    (
        "latents-deleted",
        lambda c: ((c.copy("ds") / TRAIN_FILE).unlink(), R.load_latents(c.tmp / "ds")),
        LDMNISTError,
        "is missing",
    ),
    (
        "latents-garbage-same-size",
        lambda c: (
            (c.copy("ds") / TRAIN_FILE).write_bytes(bytes((c.ds / TRAIN_FILE).stat().st_size)),
            R.load_latents(c.tmp / "ds"),
        ),
        LDMNISTError,
        "is not a readable Parquet file",
    ),
    (
        "latents-unknown-column",
        lambda c: R.load_latents(c.ds, columns=("z",)),
        LDMNISTError,
        "has no column 'z'",
    ),
    (
        "latents-unknown-split",
        lambda c: R.load_latents(c.ds, "validation"),
        LDMNISTError,
        "has no 'validation' split",
    ),
    (
        "latents-no-such-folder",
        lambda c: R.load_latents(c.tmp / "nothing"),
        LDMNISTError,
        "is not a dataset folder",
    ),
    (
        "latents-file-not-folder",
        lambda c: R.load_latents(c.file()),
        LDMNISTError,
        "afile is not a dataset folder (it is a file)",
    ),
    (
        "latents-hub-id-unreachable",
        lambda c: _latents_from_an_unreachable_hub(c, "someone/ldmnist"),
        LDMNISTError,
        "so it was taken for a Hub dataset id, and loading it from the Hub failed (ConnectionError: unreachable). "
        "For a folder, check its path (./someone/ldmnist is always read as a folder)",
    ),
    (
        "latents-variable-list",
        lambda c: R.load_latents(_dataset_with({"x": [[1.0], [2.0, 3.0]]}), columns=("x",)),
        LDMNISTError,
        "column 'x' has type list",
    ),
    (
        "latents-string-column",
        lambda c: R.load_latents(_dataset_with({"x": ["a", "b"]}), columns=("x",)),
        LDMNISTError,
        "column 'x' has type string",
    ),
    (
        "latents-null-row",
        lambda c: R.load_latents(_fixed_list_with_null(), columns=("x",)),
        LDMNISTError,
        "has missing values",
    ),
    (
        "latents-split-of-dict",
        lambda c: R.load_latents(__import__("datasets").DatasetDict(train=_dataset_with({"x": [1]})), "test"),
        LDMNISTError,
        "has no split 'test'",
    ),
    (
        "latents-split-traversal",
        lambda c: R.load_latents(c.ds, "../../etc"),
        LDMNISTError,
        "`split` '../../etc' is not a split name",
    ),
    (
        "latents-no-columns",
        lambda c: R.load_latents(c.ds, columns=()),
        LDMNISTError,
        "`columns` (): give column names",
    ),
    (
        "verify-card-splits-swapped",
        lambda c: R.verify_dataset(c.card_data_files(swap_splits)),
        LDMNISTError,
        "not the files its build wrote",
    ),
    (
        "verify-card-path-outside",
        lambda c: R.verify_dataset(
            c.card_data_files(lambda t: t.replace("path: data/train-*", "path: ../other/data/train-*"))
        ),
        LDMNISTError,
        "not the files its build wrote",
    ),
    (
        "verify-card-without-default",
        lambda c: R.verify_dataset(
            c.card_data_files(lambda t: t.replace("config_name: default", "config_name: main"))
        ),
        LDMNISTError,
        "need one `default`",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
