"""Publishing folders (a built dataset, a model) to the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path

from .utils import LDMNISTError


def push_folder(
    folder: str | Path,
    repo_id: str,
    repo_type: str = "dataset",
    private: bool = False,
    endpoint: str | None = None,
    token: str | None = None,
) -> str:
    """Creates the repository if needed and uploads the folder in one commit; returns the commit URL.

    Args:
        folder: a folder written by `ldmnist build` (repo_type `"dataset"`) or a model folder (`"model"`).
        repo_id (`str`): `"user/name"`.
        endpoint (`str`, *optional*): another Hub endpoint (a local Hub server, for instance).
    """
    from huggingface_hub import HfApi

    folder = Path(folder)
    if not (folder / "README.md").exists():
        raise LDMNISTError(
            f"{folder} has no README.md card: push a folder written by `ldmnist build` "
            f"or a model folder with its card."
        )
    if repo_type == "dataset" and not list(folder.glob("data/*.parquet")):
        raise LDMNISTError(f"{folder} holds no data/*.parquet: is it a folder written by `ldmnist build`?")
    if repo_type == "model" and not (folder / "model.safetensors").exists():
        raise LDMNISTError(f"{folder} holds no model.safetensors: is it a model folder?")
    api = HfApi(endpoint=endpoint, token=token)
    try:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type=repo_type,
            commit_message="Upload LD-MNIST with ldmnist-hf",
        )
    except Exception as e:  # network and HTTP errors of several libraries: report them in one line
        where = endpoint or "the Hugging Face Hub"
        raise LDMNISTError(
            f"Could not push {folder} to {repo_id} on {where}: {type(e).__name__}: {str(e).splitlines()[0]}. "
            f"Check the network, the repo id and your token (`hf auth login`)."
        ) from e
    return str(info)
