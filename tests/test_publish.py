import shutil

import pytest

from ldmnist_hf.publish import push_folder
from ldmnist_hf.utils import LDMNISTError


def test_push_checks_the_folder(tmp_path, built):
    with pytest.raises(LDMNISTError, match="no README.md card"):
        push_folder(tmp_path, "me/ldmnist")
    (tmp_path / "README.md").write_text("card")
    with pytest.raises(LDMNISTError, match="no data/\\*.parquet"):
        push_folder(tmp_path, "me/ldmnist")
    with pytest.raises(LDMNISTError, match="no model.safetensors"):
        push_folder(tmp_path, "me/model", repo_type="model")


def test_push_reports_an_unreachable_hub(tmp_path, built):
    folder = tmp_path / "ds"
    shutil.copytree(built / "ldmnist", folder)
    # A closed local port stands in for a Hub that cannot be reached (the real one is not reachable here).
    with pytest.raises(LDMNISTError, match="Could not push .* on http://127.0.0.1:9: .*Connect"):
        push_folder(folder, "me/ldmnist", endpoint="http://127.0.0.1:9", token="hf_test")
