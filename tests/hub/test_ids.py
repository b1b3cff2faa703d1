"""Names on the Hub (hub/ids.py): a config's name is a free folder of the dataset repository; a Hub id is a
Hub id, whatever folders the current directory holds."""

import pytest
from helpers import bad_input_test

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.files.listing import WRITTEN
from ldmnist_hf.hub.ids import RESERVED_CONFIG_NAMES, TOP_LEVEL, check_config_name, check_repo_id, is_repo_id


def test_reserved_names_are_what_the_dataset_repository_holds(tiny):
    """Every name a build writes at the top of its folder (copied to the top of the dataset repository) is in
    TOP_LEVEL: a new file written there must be added to it, or a config could take its name. (The listing
    of what the build wrote, `WRITTEN`, stays behind: `export` does not copy it.)"""
    assert {p.name for p in tiny.ds.iterdir()} - {WRITTEN} <= set(TOP_LEVEL)
    assert {"data", "report", "readme", "benchmark", "leaderboard"} <= set(RESERVED_CONFIG_NAMES)


def test_an_export_holds_nothing_else_at_the_top(exported):
    _, folders = exported
    assert {p.name for p in folders["dataset"].iterdir()} - {"ld16"} <= set(TOP_LEVEL)


@pytest.mark.parametrize("name", ["default", "reference", "ld16", "x-2"])
def test_free_names_pass(name):
    assert check_config_name(name, ["default"] if name != "default" else [], ["figures"]) == name


def test_a_hub_id_is_a_hub_id_beside_a_folder_of_its_name(tmp_path, monkeypatch):
    """`someone/ldmnist` names a Hub repository even where ./someone/ldmnist happens to exist."""
    (tmp_path / "someone" / "ldmnist").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert check_repo_id("someone/ldmnist", "dataset_repo") == "someone/ldmnist"
    assert is_repo_id("someone/ldmnist")


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "config-name-data",
        lambda c: check_config_name("data"),
        LDMNISTError,
        "none of benchmark, data, gitattributes, leaderboard, readme, report can be a config's name",
    ),
    ("config-name-readme", lambda c: check_config_name("readme"), LDMNISTError, "'readme' is reserved"),
    ("config-name-report", lambda c: check_config_name("report"), LDMNISTError, "'report' is reserved"),
    (
        "config-name-twice",
        lambda c: check_config_name("ld16", ["default", "ld16"]),
        LDMNISTError,
        "Config name 'ld16' is given twice",
    ),
    (
        "config-name-of-the-default",
        lambda c: check_config_name("default", ["default"]),
        LDMNISTError,
        "is the default config's name",
    ),
    (
        "config-name-in-the-built-folder",
        lambda c: check_config_name("figures", ["default"], ["data", "figures", "README.md"]),
        LDMNISTError,
        "the default config's built folder holds figures at its top",
    ),
    (
        "config-name-uppercase",
        lambda c: check_config_name("Data"),
        LDMNISTError,
        "Config name 'Data' is not valid",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
