"""Reading a folder written by `ldmnist build`: its build record, a check of its files, its latents.

The benchmark, the report, the fidelity table and the export read datasets through this module; they need
neither the encoder (`build.py`) nor the `datasets` builder (`datasets_builder.py`).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ..errors import LDMNISTError, first_line
from ..files.paths import looks_like_repo_id, read_json_object, sha256_file
from ..registry import SET_NAME, config_prefix
from .schema import BUILD_RECORD, CARD, data_files, label_problem

_REBUILD = "Rebuild the dataset with `ldmnist build --overwrite`."


def read_build_info(dataset_dir: str | Path) -> dict:
    """What `ldmnist build` recorded about a dataset folder (models, seed, sizes, file checksums)."""
    folder = Path(dataset_dir)
    if not folder.is_dir():
        raise LDMNISTError(
            f"{dataset_dir} is not a folder"
            + (" (it is a file)" if folder.exists() else " (no such folder)")
            + "; give a folder written by `ldmnist build`."
        )
    path = folder / BUILD_RECORD
    if not path.exists():
        raise LDMNISTError(f"{dataset_dir} is not a folder written by `ldmnist build` (no {BUILD_RECORD}).")
    info = read_json_object(path, fix="rebuild the dataset with `ldmnist build --overwrite`.")
    missing = [k for k in ("latent_dim", "image_vae_source", "class_vae_source") if k not in info]
    if missing:
        raise LDMNISTError(
            f"{path} lacks {', '.join(missing)}; rebuild the dataset with `ldmnist build --overwrite`."
        )
    return info


def _recorded_files(folder: Path, info: dict) -> dict:
    files = info.get("files")
    if not isinstance(files, dict) or not files:
        raise LDMNISTError(
            f"{folder / BUILD_RECORD} records no file checksums (an older build); rebuild the dataset with "
            f"`ldmnist build --overwrite` to make it verifiable."
        )
    for name, entry in files.items():
        rel = Path(name)
        if (
            rel.is_absolute()
            or ".." in rel.parts
            or not isinstance(entry, dict)
            or {"sha256", "size"} - set(entry)
        ):
            raise LDMNISTError(
                f"{folder / BUILD_RECORD} has a malformed entry for {name!r}; rebuild the dataset."
            )
    return files


def _check_size(path: Path, entry: dict, fix: str) -> None:
    """Refuses a recorded file that is missing or whose size is not the one the build wrote."""
    if not path.is_file():
        raise LDMNISTError(f"{path} is missing; rebuild the dataset with `ldmnist build --overwrite`.")
    size = path.stat().st_size
    if size != entry["size"]:
        raise LDMNISTError(f"{path} has {size} bytes but the build wrote {entry['size']}: truncated or {fix}")


def _card_header(card: Path) -> dict:
    try:
        text = card.read_text()
        header = yaml.safe_load(text.split("---\n", 2)[1]) if text.startswith("---\n") else None
    except (OSError, UnicodeDecodeError, IndexError, yaml.YAMLError) as e:
        raise LDMNISTError(
            f"{card}: the card's YAML header cannot be read ({first_line(e)}); rebuild."
        ) from e
    configs = header.get("configs") if isinstance(header, dict) else None
    if not isinstance(configs, list) or not configs or not all(isinstance(c, dict) for c in configs):
        raise LDMNISTError(f"{card} has no valid YAML header with `configs`; rebuild the dataset.")
    return header


def _check_config(card: Path, config: dict, prefix: str, record: dict) -> None:
    """One config of the card must read exactly its build's Parquet files and carry its fingerprint."""
    name = config.get("config_name")
    if config.get("data_files") != data_files(prefix):
        raise LDMNISTError(
            f"{card}: config {name!r} reads {config.get('data_files')!r}, not the files its build wrote "
            f"({data_files(prefix)!r}); `load_dataset` would serve other data. Rebuild or export again."
        )
    fp = record.get("fingerprint")
    found = re.search(r"data fingerprint (\w+)", str(config.get("description", "")))
    if fp and (found is None or found.group(1) != fp):
        raise LDMNISTError(
            f"{card}: its YAML header does not carry this data's fingerprint {fp} (config {name!r}); it belongs "
            f"to another build. Rebuild the dataset."
        )


def _check_card(folder: Path, info: dict) -> dict[str, Path]:
    """Checks the card's configs against the build records; returns the other configs' folders by name.

    The `default` config reads `data/`; a config `NAME` (an export with variants) reads `NAME/data/` of the
    built folder copied to `NAME/`.
    """
    card = folder / CARD
    configs = _card_header(card)["configs"]
    names = [c.get("config_name") for c in configs]
    if "default" not in names or len(set(map(str, names))) != len(names):
        raise LDMNISTError(f"{card}: the configs {names!r} need one `default` and distinct names. Rebuild.")
    others = {}
    for config in configs:
        name = config["config_name"]
        if name == "default":
            _check_config(card, config, "", info)
            continue
        sub = folder / str(name)
        if not isinstance(name, str) or not SET_NAME.fullmatch(name) or not (sub / BUILD_RECORD).is_file():
            raise LDMNISTError(f"{card}: config {name!r} has no built folder {sub} with its {BUILD_RECORD}.")
        _check_config(card, config, config_prefix(name), read_build_info(sub))
        others[name] = sub
    return others


def _verify_files(folder: Path, info: dict) -> int:
    """Every recorded file of one built folder against its SHA-256 and size; no unrecorded data file."""
    files = _recorded_files(folder, info)
    for name, entry in sorted(files.items()):
        path = folder / name
        _check_size(path, entry, f"replaced. {_REBUILD}")
        if sha256_file(path) != entry["sha256"]:
            raise LDMNISTError(
                f"{path} has changed since the build (its SHA-256 differs from {BUILD_RECORD}'s). {_REBUILD}"
            )
    extra = sorted(
        str(p.relative_to(folder)) for p in folder.glob("data/*") if str(p.relative_to(folder)) not in files
    )
    if extra:
        raise LDMNISTError(
            f"{folder / extra[0]} was not written by the build; `load_dataset` would read it as data. Remove it."
        )
    return len(files)


def verify_dataset(dataset_dir: str | Path) -> dict:
    """Checks every data file of a built dataset against the SHA-256 and size its build recorded.

    Also refuses Parquet files under `data/` that the build did not write (`load_dataset` would read them)
    and a card whose YAML header is broken, belongs to other data, or whose configs read other files than
    their builds wrote. An exported dataset with several configs is checked config by config. The data itself
    is checked too (row order, labels, posterior draws, `.npy` copies; `_check_contents`), since a record can
    be signed again after an edit.

    Args:
        dataset_dir: a folder written by `ldmnist build` (or the dataset folder of `ldmnist export`).

    Returns:
        `{"files": number of files checked, "fingerprint": the data's fingerprint, "configs": names}`.

    Raises:
        `LDMNISTError` naming the first file that is missing, truncated, changed or extra.
    """
    folder = Path(dataset_dir)
    info = read_build_info(folder)
    count = _verify_files(folder, info)
    others = _check_card(folder, info)
    builds = [(folder, info), *((sub, read_build_info(sub)) for sub in others.values())]
    for sub, sub_info in builds[1:]:
        count += _verify_files(sub, sub_info)
    for sub, sub_info in builds:
        for split in ("train", "test"):
            _check_contents(sub, sub_info, split)
    return {"files": count, "fingerprint": info.get("fingerprint"), "configs": ["default", *others]}


_LATENTS = ("x", "x_mean", "x_std", "y", "y_mean", "y_std")


def _check_contents(folder: Path, info: dict, split: str) -> None:
    """What a build writes, beyond its checksums (a record can be re-signed): the split's rows in MNIST order
    (`index` 0..N-1, N as recorded), labels 0..9, finite latents drawn from their own posteriors (`(x - x_mean)
    / x_std` standard normal), `y_mean` grouped by label (the class VAE's classes), `.npy` files equal to the
    Parquet columns."""
    # NaN or inf in any latent column: load_latents' own check, with its message
    *latents, label, index = load_latents(
        folder, split, columns=(*_LATENTS, "label", "index"), check_finite=True
    )

    def refuse(problem: str) -> None:
        raise LDMNISTError(
            f"{folder}: the {split} split {problem}; `ldmnist build` never writes that (edited data, its record "
            f"signed again?). Rebuild it with `ldmnist build --overwrite`."
        )

    n = info.get(f"n_{split}")
    if isinstance(n, int) and len(index) != n:
        refuse(f"has {len(index)} rows where its build recorded {n}")
    if not np.array_equal(index, np.arange(len(index))):
        refuse("is not in the original MNIST order (`index` is not 0, 1, 2, ...)")
    problem = label_problem(label)
    if problem or not np.issubdtype(label.dtype, np.integer):
        refuse(f"has labels that are not the digits' classes 0..9: {problem or f'they are {label.dtype}'}")
    arrays = dict(zip(_LATENTS, latents, strict=True))
    for name in ("x_std", "y_std"):
        if not (arrays[name] > 0).all():
            refuse(f"has non-positive values in `{name}`")
    for v in ("x", "y"):
        z = (arrays[v].astype(np.float64) - arrays[f"{v}_mean"]) / arrays[f"{v}_std"]
        mean_square = float(np.mean(z * z)) if z.size else 1.0
        if abs(mean_square - 1) > 8 * math.sqrt(2 / max(z.size, 1)) + 0.01:  # a chi-square(1) mean: 8 sigma
            refuse(
                f"has `{v}` that was not drawn from its posterior (mean of ((`{v}` - `{v}_mean`) / `{v}_std`)^2 "
                f"is {mean_square:.3g}, 1 for a draw)"
            )
    present = [c for c in range(10) if (label == c).any()]
    if len(label) >= 1000 and len(present) > 1:  # labels that belong to their rows: y_mean clusters by class
        means = np.stack([arrays["y_mean"][label == c].mean(0) for c in present])
        nearest = np.asarray(present)[((arrays["y_mean"][:, None, :] - means[None]) ** 2).sum(-1).argmin(1)]
        if (nearest == label).mean() < 0.5:
            refuse(
                f"has labels that do not belong to its rows (`y_mean` nearest its label's mean in "
                f"{(nearest == label).mean():.0%} of rows)"
            )
    for v in ("x", "y"):
        npy = folder / f"{split}_{v}.npy"
        try:
            copy = np.load(npy, mmap_mode="r", allow_pickle=False) if npy.is_file() else arrays[v]
        except (OSError, ValueError, EOFError):  # numpy's text would advise unpickling: never done
            refuse(f"has {npy.name}, which is not a .npy array of numbers (damaged, or Python objects)")
        if not np.array_equal(copy, arrays[v]):
            refuse(f"has {npy.name}, which differs from the Parquet column `{v}`")


def _column_to_numpy(name: str, col: pa.ChunkedArray | pa.Array, where: str) -> np.ndarray:
    """A fixed-size list column as `(N, L)`, a numeric column as `(N,)`; anything else is an error."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    t = col.type
    fixed = pa.types.is_fixed_size_list(t)
    v = t.value_type if fixed else t
    numeric = pa.types.is_integer(v) or pa.types.is_floating(v) or (not fixed and pa.types.is_boolean(v))
    if numeric and col.null_count == 0 and (not fixed or col.flatten().null_count == 0):
        if fixed:
            return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), t.list_size)
        return col.to_numpy(zero_copy_only=False)
    problem = "has missing values" if numeric else f"has type {t}"
    raise LDMNISTError(
        f"{where}: column {name!r} {problem}; load_latents returns whole numeric arrays only (fixed-size lists "
        f"of numbers, or numbers). Use `ds.with_format('numpy')` for other columns."
    )


def _parquet_files(folder: Path, split: str) -> list[Path]:
    """The Parquet files of one split: those the build recorded (sizes checked), else `data/SPLIT-*.parquet`."""
    if (folder / BUILD_RECORD).exists():
        files = {
            k: v
            for k, v in _recorded_files(folder, read_build_info(folder)).items()
            if k.startswith(f"data/{split}-") and k.endswith(".parquet")
        }
        fix = f"replaced. Run `ldmnist verify {folder}`, or rebuild with `ldmnist build --overwrite`."
        for name, entry in files.items():
            _check_size(folder / name, entry, fix)
        paths = [folder / k for k in sorted(files)]
    else:
        paths = sorted(folder.glob(f"data/{split}-*.parquet"))
    if not paths:
        found = sorted({p.name.split("-")[0] for p in folder.glob("data/*.parquet")})
        raise LDMNISTError(
            f"{folder} has no {split!r} split (data/{split}-*.parquet); splits found: {found or 'none'}."
        )
    return paths


def _read_parquet_columns(folder: Path, split: str, columns) -> list[np.ndarray]:
    tables = []
    for path in _parquet_files(folder, split):
        try:
            names = pq.read_schema(path, memory_map=True).names
            absent = [c for c in columns if c not in names]
            if absent:
                raise LDMNISTError(f"{path} has no column {absent[0]!r}; columns: {', '.join(names)}.")
            tables.append(pq.read_table(path, columns=list(columns), memory_map=True))
        except (pa.ArrowException, OSError) as e:
            raise LDMNISTError(
                f"{path} is not a readable Parquet file ({first_line(e)}): truncated or damaged. "
                f"Run `ldmnist verify {folder}`, or rebuild with `ldmnist build --overwrite`."
            ) from e
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return [_column_to_numpy(c, table.column(c), f"{folder} ({split})") for c in columns]


def _load_hub_split(text: str, split: str) -> datasets.Dataset:
    """A split of a Hub dataset id, for a `load_latents` argument that is no local folder."""
    folder = Path(text).expanduser()
    if folder.exists() or not looks_like_repo_id(text):
        what = "it is a file" if folder.exists() else "no such folder"
        raise LDMNISTError(
            f"{text} is not a dataset folder ({what}); give a folder written by `ldmnist build`."
        )
    try:
        return datasets.load_dataset(text, split=split)
    except Exception as e:  # noqa: BLE001 - network, authentication or a missing repository
        raise LDMNISTError(
            f"No dataset {text!r}: no such local folder ({folder.absolute()}), so it was taken for a Hub dataset "
            f"id, and loading it from the Hub failed ({first_line(e)}). For a folder, check its path "
            f"(./{text} is always read as a folder)."
        ) from e


def _dataset_columns(dataset: datasets.Dataset, columns: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    absent = [c for c in columns if c not in dataset.column_names]
    if absent:
        raise LDMNISTError(
            f"The dataset has no column {absent[0]!r}; columns: {', '.join(dataset.column_names)}."
        )
    table = dataset.data
    if dataset._indices is not None:  # a shuffled/selected view: let datasets gather the rows
        table = dataset.select_columns(list(columns)).with_format("arrow")[:]
    return tuple(_column_to_numpy(c, table.column(c), "the dataset") for c in columns)


_SPLIT_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


def _check_finite(arrays: tuple[np.ndarray, ...], columns: tuple[str, ...], where: str) -> None:
    for name, a in zip(columns, arrays):
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            rows = int((~np.isfinite(a.reshape(len(a), -1))).any(axis=1).sum())
            raise LDMNISTError(
                f"{where}: column {name!r} holds NaN or infinite values in {rows} rows; the data is broken. "
                f"Rebuild it with `ldmnist build`."
            )


def load_latents(
    dataset, split: str = "train", columns=("x", "y"), check_finite: bool = False
) -> tuple[np.ndarray, ...]:
    """The fast way to whole-split numpy arrays.

    A folder is read straight from its Parquet files (memory-mapped, through pyarrow), so the arrays are
    always what is on disk now, never a `datasets` cache of an earlier build.

    Args:
        dataset: a folder written by `ldmnist build`, a `DatasetDict`, a `Dataset`, or a Hub dataset id
            (`owner/name`, loaded through `datasets.load_dataset`).
        split (`str`, defaults to `"train"`): used when `dataset` is a folder, Hub id or `DatasetDict`.
        columns (`tuple[str]`, defaults to `("x", "y")`): columns to return, latent ones or `label`/`index`.
        check_finite (`bool`, defaults to `False`): refuse float columns holding NaN or inf (what the
            benchmark, the report and the export ask for; one extra pass over the data).

    Returns:
        Per column, `(N, latent_dim)` float32 for a latent column or `(N,)` for a scalar one (views of the
        Arrow buffers where possible, so read-only: `.copy()` to write).

    Raises:
        `LDMNISTError`: no such folder, split or column; a damaged Parquet file; a column that is not a
            fixed-size list of numbers or a number.
    """
    columns = (columns,) if isinstance(columns, str) else tuple(columns)
    if not isinstance(split, str) or not _SPLIT_NAME.fullmatch(split):
        raise LDMNISTError(
            f"`split` {split!r} is not a split name (letters, digits, '_'): use 'train' or 'test'."
        )
    if not columns or not all(isinstance(c, str) for c in columns):
        raise LDMNISTError(f"`columns` {columns!r}: give column names, for example ('x', 'y').")
    where = f"{dataset} ({split})" if isinstance(dataset, str | os.PathLike) else f"the dataset ({split})"
    if isinstance(dataset, str | os.PathLike):
        folder = Path(dataset).expanduser()
        if folder.is_dir():
            arrays = tuple(_read_parquet_columns(folder, split, columns))
        else:
            arrays = _dataset_columns(_load_hub_split(str(dataset), split), columns)
    else:
        if isinstance(dataset, datasets.DatasetDict):
            if split not in dataset:
                raise LDMNISTError(f"The DatasetDict has no split {split!r}; splits: {', '.join(dataset)}.")
            dataset = dataset[split]
        if not isinstance(dataset, datasets.Dataset):
            raise LDMNISTError(
                f"`dataset` is a {type(dataset).__name__}; give a built folder, a Dataset, a DatasetDict or a Hub id."
            )
        arrays = _dataset_columns(dataset, columns)
    if check_finite:
        _check_finite(arrays, columns, where)
    return arrays
