"""LD-MNIST metric: MSE of predicted vs target class latents, and reconstructed accuracy.

Self-contained on purpose (numpy, safetensors, huggingface_hub, evaluate): the same file is the metric
Space on the Hub, loaded by people who never install ldmnist-hf. The class decoder (the class VAE's
latent -> 10 linear layer) is read from a class VAE repository's `config.json` + `model.safetensors`.
"""

from __future__ import annotations

import json
import math
import os
import re

import datasets
import evaluate
import numpy as np
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError
from safetensors.numpy import load_file

# The class VAE whose decoder scores each dataset config's predictions: a Hub model repository id or a local
# folder. `ldmnist export` writes the namespace's repos here in the Space's copy (the only line that differs).
CLASS_VAES = {}

_CITATION = """\
@misc{ldmnist2020,
  title  = {Low dimensional MNIST dataset},
  author = {dimitree54},
  howpublished = {https://github.com/dimitree54/ld_mnist},
  year   = {2020}
}
"""

_DESCRIPTION = """\
Scores a model that maps LD-MNIST image latents `x` to class latents `y`.

`mse` is the mean squared error over all rows and components (as in the 2020 reference), from 0 up;
lower is better. Targets are random draws from the class VAE's posterior, so no model reaches 0: the
floor is the mean posterior variance of `y` (the "noise floor" rows of the benchmark table).

`reconstructed_accuracy` applies the class VAE's decoder to the predictions and compares its argmax with
the original MNIST labels, from 0 to 1; higher is better. It is given when `labels` are passed.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list`, `np.ndarray` or `torch.Tensor` of shape `(N, latent_dim)`): predicted `y`, real numbers.
    references (same type and shape): the dataset's `y`.
    labels (`list`, `np.ndarray` or `torch.Tensor` of shape `(N,)`, *optional*): the original labels
        (the dataset's `label` column), integers in 0..9. Without them only `mse` is returned.

Load options (`evaluate.load(path_or_id, config_name, class_vae=...)`):
    config_name (`str`, defaults to `"default"`): the dataset config the predictions are for; it picks that
        config's class VAE (the Space knows every config of its dataset).
    class_vae (`str`): instead, the class VAE the dataset was built with, as a Hub model repository id or a
        local folder holding its `config.json` and `model.safetensors` (`decoder.weight` `(10, latent_dim)`,
        `decoder.bias` `(10,)`). Needed for `reconstructed_accuracy` only.

Returns:
    `mse` (`float`): mean squared error, 0 or more, lower is better.
    `reconstructed_accuracy` (`float`, with `labels`): accuracy of the class decoder on the predictions.

Examples:

    >>> import evaluate
    >>> metric = evaluate.load(os.path.dirname(__file__))  # this folder; from the Hub: "<namespace>/ldmnist"
    >>> metric.compute(predictions=[[0.0] * 32, [1.0] * 32], references=[[0.0] * 32, [0.0] * 32])
    {'mse': 0.5}

    A class VAE is a folder (or Hub repository) with `config.json` and `model.safetensors`; here a toy one
    whose decoder reads the class off the first 10 components:

    >>> import json, tempfile
    >>> from safetensors.numpy import save_file
    >>> class_vae = tempfile.mkdtemp()
    >>> _ = open(os.path.join(class_vae, "config.json"), "w").write(json.dumps({"latent_dim": 32, "num_classes": 10}))
    >>> save_file({"decoder.weight": np.eye(10, 32, dtype=np.float32), "decoder.bias": np.zeros(10, np.float32)},
    ...           os.path.join(class_vae, "model.safetensors"))
    >>> metric = evaluate.load(os.path.dirname(__file__), class_vae=class_vae)
    >>> z = np.eye(10, 32)[[3, 7]]  # latents that decode to classes 3 and 7
    >>> metric.compute(predictions=z, references=z, labels=[3, 7])
    {'mse': 0.0, 'reconstructed_accuracy': 1.0}
    >>> metric.compute(predictions=[[0.0] * 32], references=[[0.0] * 31])
    Traceback (most recent call last):
    ...
    ValueError: `references` has shape (1, 31) but `predictions` has shape (1, 32); both must be (N, latent_dim) with the same N and latent_dim.
    >>> metric.compute(predictions=[[1j] * 32], references=[[0.0] * 32])
    Traceback (most recent call last):
    ...
    ValueError: `predictions` has dtype complex128; expected real numbers (integers or floats): complex values are refused, not cut to their real part.
"""

_NO_LABEL = -1


def _as_array(name: str, value, ndim: int, dtype) -> np.ndarray:
    """`value` (list, numpy array or torch tensor) as a `dtype` array of `ndim` dimensions, or a clear error."""
    if value is None:
        raise ValueError(f"`{name}` is missing.")
    if hasattr(value, "detach"):  # torch tensors, on any device; float16/bfloat16 go through float32
        value = value.detach().cpu()
        value = (value.float() if value.is_floating_point() else value).numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"`{name}` could not be read as a {ndim}-d array of numbers ({e}).") from e
    # Only real numbers: a cast would silently drop an imaginary part, turn booleans or strings into numbers.
    if array.dtype.kind not in "fiu":
        extra = ": complex values are refused, not cut to their real part" if array.dtype.kind == "c" else ""
        raise ValueError(
            f"`{name}` has dtype {array.dtype}; expected real numbers (integers or floats){extra}."
        )
    if array.ndim != ndim:
        want = "(N, latent_dim)" if ndim == 2 else "(N,)"
        raise ValueError(f"`{name}` has shape {array.shape}; expected {want}.")
    if ndim == 2 and array.shape[1] == 0:
        raise ValueError(f"`{name}` has shape {array.shape}: rows of 0 components; expected (N, latent_dim).")
    if dtype == np.float32 and array.dtype.kind == "f" and array.dtype.itemsize > 4 and array.size:
        finite = array[np.isfinite(array)]
        if finite.size and np.abs(finite).max() > np.finfo(np.float32).max:
            raise ValueError(
                f"`{name}` holds finite values beyond float32's range (up to {np.abs(finite).max():.3g}); the "
                f"metric scores float32 latents, roughly standard normal."
            )
    return array.astype(dtype, copy=False)


# A Hub repository id, `owner/name`: what a class VAE that is no local folder is taken for.
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")


def _class_vae_files(class_vae: str) -> tuple[str, str]:
    """Local paths of a class VAE's `config.json` and `model.safetensors` (downloaded for a Hub id)."""
    names = ("config.json", "model.safetensors")
    if os.path.isfile(class_vae):
        raise ValueError(
            f"The class VAE {class_vae} is a file; give its folder (with config.json and model.safetensors) "
            f"or a Hub model repository id."
        )
    if os.path.isdir(class_vae):
        paths = tuple(os.path.join(class_vae, n) for n in names)
        for path in paths:
            if not os.path.isfile(path):
                raise ValueError(
                    f"The class VAE folder {class_vae} has no {os.path.basename(path)}; give a folder written "
                    f"by `save_pretrained` (config.json + model.safetensors) or a Hub model repository id."
                )
        return paths
    where = os.path.abspath(class_vae)
    if not _REPO_ID.fullmatch(class_vae) or ".." in class_vae:  # a path: never sent to the Hub as an id
        raise ValueError(
            f"The class VAE {class_vae} is no folder (no such folder {where}) and no Hub model repository id "
            f"(owner/name): give the folder written by `save_pretrained` (config.json + model.safetensors) or "
            f"the id of a class VAE model repository."
        )
    try:
        return tuple(hf_hub_download(class_vae, n) for n in names)
    except (OSError, ValueError, EntryNotFoundError) as e:
        raise ValueError(
            f"Could not get the class VAE {class_vae!r} from the Hub: there is no folder {where}, so it was "
            f"taken for a Hub model repository id, and downloading its config.json + model.safetensors failed "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). Pass class_vae= a local folder "
            f"(./{class_vae} is always read as a folder) or the id of a class VAE model repository."
        ) from e


def load_class_decoder(class_vae: str) -> tuple[np.ndarray, np.ndarray]:
    """The class VAE's decoder, read with numpy from `config.json` + `model.safetensors`.

    Args:
        class_vae (`str`): a Hub model repository id or a local folder.

    Returns:
        `(weight, bias)`: float64 arrays of shapes `(num_classes, latent_dim)` and `(num_classes,)`.
    """
    config_path, weights_path = _class_vae_files(class_vae)
    try:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{config_path} cannot be read as JSON ({e}).") from e
    if not isinstance(config, dict):
        raise ValueError(
            f"{config_path} holds a JSON {type(config).__name__}, not a class VAE's configuration."
        )
    latent_dim, num_classes = config.get("latent_dim"), config.get("num_classes", 10)
    if (
        not isinstance(latent_dim, int)
        or not isinstance(num_classes, int)
        or isinstance(latent_dim, bool)
        or isinstance(num_classes, bool)
        or not 1 <= latent_dim <= 16384
        or not 2 <= num_classes <= 1000
    ):
        raise ValueError(
            f"{config_path} gives latent_dim={latent_dim!r}, num_classes={num_classes!r}; a class VAE's "
            f"config.json names both as integers (latent_dim 1..16384, num_classes 2..1000)."
        )
    try:
        tensors = load_file(weights_path)
    except Exception as e:  # safetensors reports a bad header or an unsupported dtype in several types
        raise ValueError(f"{weights_path} could not be read as safetensors: {e}") from e
    expected = {"decoder.weight": (num_classes, latent_dim), "decoder.bias": (num_classes,)}
    for key, shape in expected.items():
        if key not in tensors:
            raise ValueError(
                f"{weights_path} holds no {key!r} (has: {', '.join(sorted(tensors)) or 'nothing'}); the metric "
                f"needs the class VAE's decoder, {key} of shape {shape}."
            )
        t = tensors[key]
        if t.shape != shape or t.dtype.kind != "f" or not np.isfinite(t).all():
            raise ValueError(
                f"{weights_path}: {key!r} has shape {t.shape} and dtype {t.dtype}; expected finite floats of "
                f"shape {shape} (latent_dim {latent_dim}, num_classes {num_classes} from config.json)."
            )
    return tensors["decoder.weight"].astype(np.float64), tensors["decoder.bias"].astype(np.float64)


PREDICTION_FORMATS = (".npy", ".csv", ".parquet")


def read_predictions(path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A predictions file as a float array `(N, latent_dim)`, rows in the dataset's test order.

    `.npy` (a 2-d array; never a pickle), `.csv` (one row per line, comma-separated, an optional header line)
    or `.parquet`: the `prediction` list column of `ldmnist submit`'s file, another single list column, or one
    float column per component; an `index` column, when there is one, must be 0..N-1 in order.

    Args:
        path: the file.
        shape (`tuple`, *optional*): the `(N, latent_dim)` expected. Given, a file of another shape is refused
            (a .npy or .parquet file from its header or metadata, before its values are read), and a file larger
            than such an array can be (in that format) is refused before it is opened: a small file cannot
            decode to gigabytes.
    """
    path = os.fspath(path)
    name = os.path.basename(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in PREDICTION_FORMATS:
        raise ValueError(
            f"{name!r} is not a predictions file: give a .npy, .csv or .parquet file of shape "
            f"(10000, latent_dim), rows in the test split's order."
        )
    if shape is not None:
        n, width = shape
        limit = {".npy": 8, ".csv": 40, ".parquet": 16}[suffix] * n * width + (1 << 20)
        size = os.path.getsize(path) if os.path.isfile(path) else 0
        if size > limit:
            raise ValueError(
                f"{name!r} is {size:,} bytes: more than a {suffix} file of {n} x {width} predictions can be "
                f"({limit:,} bytes at most)."
            )
    try:
        if suffix == ".npy":
            array = _read_npy(path, shape)
        elif suffix == ".csv":
            array = _read_csv(path)
        else:
            array = _read_parquet(path, shape)
    except ValueError:
        raise
    except Exception as e:  # numpy, pyarrow and the file system each raise their own types
        raise ValueError(f"{name!r} cannot be read as a {suffix} file ({type(e).__name__}: {e}).") from e
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{name!r} holds an array of shape {array.shape}; expected (N, latent_dim).")
    _check_shape(name, array.shape, shape)  # a CSV's, known only now
    return array


def _read_npy(path: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    name = os.path.basename(path)
    with open(path, "rb") as f:
        if f.read(4) == b"PK\x03\x04":
            raise ValueError(
                f"{name!r} is a .npz archive (numpy.savez), not a .npy array: save the array itself with numpy.save."
            )
    try:
        array = np.load(path, allow_pickle=False, mmap_mode="r")
    except ValueError as e:  # numpy's text would advise unpickling: never done here
        raise ValueError(
            f"{name!r} cannot be read as a .npy file of numbers (it is damaged, or holds "
            f"Python objects, which are never unpickled here); save a float array with numpy.save."
        ) from e
    _check_shape(name, array.shape, shape)  # from the header, before the values are read
    return np.array(array)


def _check_shape(name: str, found: tuple, shape: tuple[int, int] | None) -> None:
    if shape is not None and tuple(found) != tuple(shape):
        hint = ""
        if tuple(found) == (shape[0] + 1, shape[1]):  # a header line of numbers is read as a row
            hint = (
                " It has one row more than the test split: if its first line is a header of numbers, write the "
                "header with names (y0, y1, ...) or without one."
            )
        if tuple(found) == (shape[0], shape[1] + 1):  # pandas' `to_csv()` writes the row index first
            hint = (
                " It has one column more than the latent size: if the first column is a row index (pandas' "
                "`to_csv()` writes one), save with `to_csv(index=False)` or drop that column."
            )
        raise ValueError(
            f"{name!r} holds an array of shape {tuple(found)}; the test split needs {tuple(shape)}: one "
            f"prediction of y per test row, in its order.{hint}"
        )


# A number as numpy's and pandas' CSV readers take one: ASCII decimal digits, an optional exponent, or inf/nan.
# (Python's float() also takes "1_0" as 10 and other scripts' digits: a spreadsheet would not.)
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE | re.ASCII
)


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text.strip()) is not None


def _read_csv(path: str) -> np.ndarray:
    name = os.path.basename(path)
    try:  # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is dropped
        with open(path, encoding="utf-8-sig") as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{name!r} is not UTF-8 text ({e.reason} at byte {e.start}); save the CSV as UTF-8."
        ) from e
    if not lines:
        raise ValueError(f"{name!r} is empty: it holds no rows of predictions.")
    rows = [[v.strip() for v in line.split(",")] for line in lines]
    # A header: a first line of names (not all numbers), or the column numbers 0..L-1 / 1..L that pandas writes.
    if rows and (
        not all(_is_number(v) for v in rows[0])
        or rows[0] in ([str(i) for i in range(len(rows[0]))], [str(i + 1) for i in range(len(rows[0]))])
    ):
        rows = rows[1:]
    if not rows:
        raise ValueError(f"{name!r} holds a header line ({lines[0][:60]!r}) and no rows of predictions.")
    if len(rows[0]) == 1 and any(sep in lines[-1] for sep in (";", "\t", " ")):
        raise ValueError(f"{name!r}: one value per line; the values of a row must be separated by commas.")
    if len({len(r) for r in rows}) > 1:
        raise ValueError(f"{name!r}: its rows have different numbers of values; expected (N, latent_dim).")
    bad = next((v for r in rows for v in r if not _is_number(v)), None)
    if bad is not None:
        raise ValueError(f"{name!r} holds a value that is not a number: {bad[:40]!r}.")
    return np.array([[float(v) for v in r] for r in rows], dtype=np.float64).reshape(len(rows), -1)


def _read_parquet(path: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = os.path.basename(path)
    try:
        file = pq.ParquetFile(path)
        columns = _wanted_columns(name, file.schema_arrow, shape)
        if (
            shape is not None
        ):  # from the footer, before any value is decoded: the columns that will be read only
            meta, wanted = file.metadata, set(columns)
            values = sum(
                meta.row_group(g).column(c).num_values
                for g in range(meta.num_row_groups)
                for c in range(meta.num_columns)
                if meta.schema.column(c).path.split(".")[0] in wanted
            )
            if meta.num_rows != shape[0] or values > shape[0] * (shape[1] + 1):
                raise ValueError(
                    f"{name!r} holds {meta.num_rows} rows ({values} values in the columns read); the test split "
                    f"needs {tuple(shape)}: one prediction of y per test row, in its order."
                )
        table = pq.read_table(path, columns=columns)  # only these: no other column is ever decoded
    except (pa.ArrowException, OSError, ValueError) as e:  # pyarrow's errors (some are ValueErrors) explained
        if isinstance(e, ValueError) and not isinstance(e, pa.ArrowException):
            raise  # ours: the shape refused from the footer
        raise ValueError(
            f"{name!r} cannot be read as a .parquet file ({type(e).__name__}: {str(e).split(': ')[-1]})."
        ) from e
    if "index" in table.column_names:
        index = table.column("index").to_numpy(zero_copy_only=False)
        if not np.array_equal(index, np.arange(len(index))):
            raise ValueError(
                f"{name!r}: its `index` column is not 0..{len(index) - 1} in order; the rows must follow the test "
                f"split's order."
            )
    lists = [c for c in table.column_names if c != "index"]
    if len(lists) == 1 and _is_list(table.schema.field(lists[0]).type):
        return _list_column(name, table, lists[0])
    return _float_columns(name, table)


def _is_list(t) -> bool:
    import pyarrow as pa

    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _wanted_columns(name: str, schema, shape) -> list[str]:
    """The columns a predictions file is read from, chosen from its schema before any value is decoded: an
    integer `index`, and the `prediction` list column (or the one list column), else the float columns; at most
    as many float columns as the latent size. Other columns are never read."""
    import pyarrow as pa

    index = ["index"] if "index" in schema.names and pa.types.is_integer(schema.field("index").type) else []
    lists = [f.name for f in schema if _is_list(f.type)]
    column = "prediction" if "prediction" in lists else lists[0] if len(lists) == 1 else None
    if column is not None:
        inner = schema.field(column).type.value_type
        if not (pa.types.is_floating(inner) or pa.types.is_integer(inner)):
            raise ValueError(f"{name!r}: column {column!r} holds {inner} values, not numbers.")
        return index + [column]
    floats = [f.name for f in schema if f.name != "index" and pa.types.is_floating(f.type)]
    if shape is not None and len(floats) > shape[1]:
        raise ValueError(
            f"{name!r} has {len(floats)} float columns; the test split needs {shape[1]}, one per component."
        )
    return index + floats


def _list_column(name: str, table, column_name: str) -> np.ndarray:
    """A list column (one row's prediction per cell) as an `(N, width)` array."""
    import pyarrow as pa

    column = table.column(column_name).combine_chunks()
    if column.null_count or column.flatten().null_count:
        raise ValueError(f"{name!r}: column {column_name!r} has missing values.")
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
    else:
        lengths = column.value_lengths().to_numpy(zero_copy_only=False)
        width = int(lengths[0]) if len(lengths) else 0
        if (lengths != width).any():
            raise ValueError(f"{name!r}: the rows of column {column_name!r} have different lengths.")
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(column), width)


def _float_columns(name: str, table) -> np.ndarray:
    """One float column per component, ordered by the number that ends each name (never the file's order)."""
    import pyarrow as pa

    numeric = [
        c for c in table.column_names if c != "index" and pa.types.is_floating(table.schema.field(c).type)
    ]
    if not numeric:
        raise ValueError(
            f"{name!r} has no prediction column: give a `prediction` list column or one float column per "
            f"component."
        )
    if len(numeric) > 1:
        digits = [len(c) - len(c.rstrip("0123456789")) for c in numeric]
        numbers = [int(c[len(c) - d :]) if d else None for c, d in zip(numeric, digits)]
        first = min((n for n in numbers if n is not None), default=0)
        if (
            None in numbers
            or sorted(numbers) != list(range(first, first + len(numbers)))
            or first not in (0, 1)
        ):
            raise ValueError(
                f"{name!r} has {len(numeric)} float columns whose names do not end with the component numbers "
                f"0..{len(numeric) - 1} (e.g. y0, y1, ...): name them so, or give one `prediction` list column."
            )
        numeric = [c for _, c in sorted(zip(numbers, numeric))]
    return np.stack([table.column(c).to_numpy() for c in numeric], axis=1)


# A statistic of `target_noise_z` above this does not happen by chance to predictions made from `x` alone
# (a standard normal exceeds 5 with probability 3e-7).
NOISE_Z_LIMIT = 5.0


def target_noise_z(predictions, references, posterior_mean, posterior_std) -> float:
    """How far predictions follow the random noise of the test targets, in standard errors.

    The dataset's `y` is a draw `y_mean + y_std * eps` whose noise `eps` is drawn independently of `x`. For
    predictions `p` made from `x` alone, `sum((p - y_mean) * (y - y_mean)) / sqrt(sum((p - y_mean)^2 * y_std^2))`
    is then a standard normal variable; it is also the term by which the MSE of `p` falls below that of its
    own distance to `y_mean`. Predictions that use the public targets (a copy, a blend, `y` plus noise) make it
    large: above `NOISE_Z_LIMIT`, they used them. All arrays are `(N, latent_dim)`; the dataset's `y`, `y_mean`
    and `y_std` columns.

    >>> y_mean = np.zeros((4, 2)); y_std = np.ones((4, 2)); y = np.array([[1.0, -1], [0, 2], [-1, 0], [1, 1]])
    >>> round(target_noise_z(y_mean, y, y_mean, y_std), 3), round(target_noise_z(y, y, y_mean, y_std), 3)
    (0.0, 3.0)
    """
    mean = np.asarray(posterior_mean, np.float64)
    d = np.asarray(predictions, np.float64) - mean
    scale = math.sqrt(float(np.sum(d * d * np.asarray(posterior_std, np.float64) ** 2)))
    return 0.0 if scale == 0.0 else float(np.sum(d * (np.asarray(references, np.float64) - mean)) / scale)


def validate(predictions, references, labels=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The inputs as float32 `(N, L)`, float32 `(N, L)` and int64 `(N,)` arrays, or a `ValueError` saying why."""
    p = _as_array("predictions", predictions, 2, np.float32)
    r = _as_array("references", references, 2, np.float32)
    if p.shape != r.shape:
        raise ValueError(
            f"`references` has shape {r.shape} but `predictions` has shape {p.shape}; both must be "
            f"(N, latent_dim) with the same N and latent_dim."
        )
    if len(p) == 0:
        raise ValueError("`predictions` is empty: pass at least one row.")
    for name, a in (("predictions", p), ("references", r)):
        if not np.isfinite(a).all():
            raise ValueError(
                f"`{name}` holds NaN or infinite values ({int((~np.isfinite(a)).sum())} of them)."
            )
    if labels is None:
        return p, r, None
    y = _as_array("labels", labels, 1, np.float64)
    if len(y) != len(p):
        raise ValueError(f"`labels` has {len(y)} entries but `predictions` has {len(p)} rows.")
    for problem, bad in (("is not an integer", y != np.round(y)), ("is outside 0..9", (y < 0) | (y > 9))):
        rows = np.flatnonzero(bad)  # NaN is not an integer either
        if rows.size:
            raise ValueError(
                f"`labels` must be the integers 0..9 (the digits' classes): row {rows[0]} holds {y[rows[0]]:g}, "
                f"which {problem} ({rows.size} such row{'s' if rows.size > 1 else ''})."
            )
    return p, r, y.astype(np.int64)


def score(predictions: np.ndarray, references: np.ndarray, labels=None, decoder=None, name="") -> dict:
    """The figures of validated inputs (`validate`): `mse`, and `reconstructed_accuracy` with labels.

    Args:
        predictions, references (`np.ndarray` float32 `(N, L)`), labels (`np.ndarray` int64 `(N,)` or `None`).
        decoder (`tuple`, *optional*): `(weight, bias)` of the class decoder (`load_class_decoder`).
        name (`str`): how errors name the decoder.
    """
    diff = predictions.astype(np.float64) - references
    result = {"mse": float(np.einsum("ij,ij->", diff, diff) / diff.size)}
    if labels is None:
        return result
    if decoder is None:
        raise ValueError(
            "`reconstructed_accuracy` needs the class VAE's decoder: load the metric with the dataset's config "
            "name, or class_vae= the Hub id or folder of the class VAE the dataset was built with."
        )
    weight, bias = decoder
    if predictions.shape[1] != weight.shape[1]:
        raise ValueError(
            f"Predictions have {predictions.shape[1]} components but the class decoder ({name}) expects "
            f"{weight.shape[1]}; load the metric with the matching config or class_vae=... ."
        )
    classes = (predictions.astype(np.float64) @ weight.T + bias).argmax(axis=1)
    result["reconstructed_accuracy"] = float((classes == labels).mean())
    return result


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Ldmnist(evaluate.Metric):
    """`evaluate.load(path_or_id, config_name)` or `evaluate.load(..., class_vae=...)`: the class decoder
    comes from the config's class VAE (`CLASS_VAES`) or from `class_vae` (a Hub id or a folder).

    `compute(predictions=..., references=..., labels=...)` scores the given rows at once (milliseconds for
    the 10000 test rows); `add_batch(...)` then `compute()` goes through evaluate's batch store as usual.
    """

    def __init__(self, class_vae: str | None = None, config_name: str | None = None, **kwargs):
        config_name = config_name or "default"
        if class_vae is None and CLASS_VAES and config_name not in CLASS_VAES:
            raise ValueError(
                f"This metric knows the configs {', '.join(map(repr, CLASS_VAES))}, not {config_name!r}; load it "
                f"with one of them, or pass class_vae= the class VAE of your dataset."
            )
        self.class_vae = str(class_vae) if class_vae is not None else CLASS_VAES.get(config_name)
        self._width = None
        super().__init__(config_name=config_name, **kwargs)

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float32")),
                    "references": datasets.Sequence(datasets.Value("float32")),
                    "labels": datasets.Value("int64"),
                }
            ),
            reference_urls=["https://github.com/dimitree54/ld_mnist"],
        )

    def _download_and_prepare(self, dl_manager):
        self.decoder = None if self.class_vae is None else load_class_decoder(self.class_vae)

    def score(self, predictions, references, labels=None) -> dict:
        """Validates and scores the given rows directly: no batch store (what `compute` does with inputs)."""
        p, r, y = validate(predictions, references, labels)
        return score(p, r, y, self.decoder, self.class_vae)

    def add_batch(self, *, predictions=None, references=None, labels=None):
        """Adds a batch after checking it (real numbers, shapes, finite values, labels in 0..9, the same width
        as the batches before)."""
        p, r, y = validate(predictions, references, labels)
        if self._width is not None and p.shape[1] != self._width:
            raise ValueError(
                f"This batch has {p.shape[1]} components per row but the batches added before have {self._width}; "
                f"all batches of one compute() must have the same latent size."
            )
        self._width = p.shape[1]
        y = np.full(len(p), _NO_LABEL, np.int64) if y is None else y
        super().add_batch(predictions=p, references=r, labels=y)

    def compute(self, *, predictions=None, references=None, labels=None):
        """Scores the given rows, or the batches added so far when called without arguments."""
        given = not (predictions is None and references is None and labels is None)
        if given and self.writer is None:  # nothing added before: score at once, skip the batch store
            return self.score(predictions, references, labels)
        if given:
            self.add_batch(predictions=predictions, references=references, labels=labels)
        try:
            return super().compute()
        finally:
            self._width = None

    def _compute(self, predictions, references, labels):
        labels = np.asarray(labels, np.int64)
        if len(labels) == 0:
            raise ValueError("No predictions were added: pass at least one row.")
        has_label = labels != _NO_LABEL
        if has_label.any() and not has_label.all():
            raise ValueError(
                "`labels` were given for some batches but not others: give them for all or none."
            )
        p, r = np.asarray(predictions, np.float32), np.asarray(references, np.float32)
        return score(p, r, labels if has_label.all() else None, self.decoder, self.class_vae)
