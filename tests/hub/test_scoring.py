"""Scoring predictions (hub/scoring.py): the metric script's reader, on every list kind of Parquet."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest


@pytest.mark.parametrize("kind", ["large_list", "list", "fixed_size_list"])
def test_every_list_kind_of_parquet_reads(tmp_path, kind):
    from ldmnist_hf.hub.scoring import metric_module

    values = np.arange(10 * 4, dtype=np.float32).reshape(10, 4)
    types = {"large_list": pa.large_list(pa.float32()), "list": pa.list_(pa.float32())}
    column = (
        pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), 4)
        if kind == "fixed_size_list"
        else pa.array(values.tolist(), types[kind])
    )
    pq.write_table(pa.table({"prediction": column}), tmp_path / "p.parquet")
    read = metric_module().read_predictions(tmp_path / "p.parquet", shape=(10, 4))
    np.testing.assert_array_equal(read, values)
