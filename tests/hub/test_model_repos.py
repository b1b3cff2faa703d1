"""The model repositories of an export (hub/model_repos.py): their cards, and their code, which runs without
the package and gives the package's outputs."""

import json
import os
import subprocess
import sys

import numpy as np
import torch
from conftest import CODE, IDS
from huggingface_hub import ModelCard

from ldmnist_hf.pretrained.loading import PRETRAINED_DIR, load_pretrained

EVALUATION = json.loads((PRETRAINED_DIR / "evaluation.json").read_text())


def test_model_cards_carry_the_release_evaluation(exported):

    _, folders = exported
    m = EVALUATION["metrics"]
    expected = {
        "image_vae": {},
        "class_vae": {"accuracy": m["class_vae_accuracy_mean"]},
        "middle_layers": {"mse": m["middle_layers_test_mse"], "accuracy": m["middle_layers_accuracy"]},
    }
    for kind, metrics in expected.items():
        card = ModelCard.load(folders[kind] / "README.md")
        results = card.data.eval_results or []
        assert {r.metric_type: r.metric_value for r in results} == metrics
        assert all(r.source_url == f"https://huggingface.co/{IDS[kind]}" and r.source_name for r in results)
        # `model_name` names the model-index: only a card with results has one (the image VAE has none)
        assert card.data.model_name == (IDS[kind].split("/")[1] if card.data.eval_results else None)
        assert card.data.datasets == ["ylecun/mnist"]  # what it was trained on
        assert IDS["dataset"] in card.text
        assert f'AutoModel.from_pretrained("{IDS[kind]}", trust_remote_code=True)' in card.text
        assert "pretrained_path" not in card.text and "import ldmnist_hf" not in card.text


def test_remote_code_outputs_equal_the_package(exported, isolated_python, tmp_path):
    """AutoModel(trust_remote_code=True) in a Python without ldmnist_hf returns the same outputs as the package."""
    _, folders = exported
    out = tmp_path / "outputs.npz"
    code = f"""
import numpy as np, torch
from transformers import AutoModel
torch.manual_seed(0)
images = torch.randint(0, 256, (16, 28, 28), dtype=torch.uint8)
latents = torch.randn(16, 32)
folders = { ({k: str(v) for k, v in folders.items()})!r}
iv, cv, ml = (AutoModel.from_pretrained(folders[k], trust_remote_code=True).eval()
              for k in ("image_vae", "class_vae", "middle_layers"))
assert not type(cv).__module__.startswith("ldmnist_hf"), type(cv).__module__
with torch.no_grad():
    g = torch.Generator().manual_seed(1)
    np.savez({str(out)!r},
        mean=iv.encode(images).latent_dist.mean.numpy(), pixels=iv.decode(latents).sample.numpy(),
        loss=iv(images).loss.numpy(), class_mean=cv.encode(torch.arange(10)).latent_dist.mean.numpy(),
        sample=cv.encode(torch.arange(10)).latent_dist.sample(g).numpy(),
        probs=cv.decode(latents).probs.numpy(), middle=ml(latents).outputs.numpy())
"""
    isolated_python(code)
    remote = np.load(out)
    iv, cv, ml = (load_pretrained(n) for n in ("image-vae-32", "class-vae-32", "middle-layers-32"))
    torch.manual_seed(0)
    images = torch.randint(0, 256, (16, 28, 28), dtype=torch.uint8)
    latents = torch.randn(16, 32)
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        local = dict(
            mean=iv.encode(images).latent_dist.mean,
            pixels=iv.decode(latents).sample,
            loss=iv(images).loss,
            class_mean=cv.encode(torch.arange(10)).latent_dist.mean,
            sample=cv.encode(torch.arange(10)).latent_dist.sample(g),
            probs=cv.decode(latents).probs,
            middle=ml(latents).outputs,
        )
    for key, value in local.items():
        np.testing.assert_array_equal(remote[key], value.numpy(), err_msg=key)


def test_package_loads_exported_folders_without_remote_code(exported, tmp_path):
    """With the package installed, `import ldmnist_hf` is light and AutoModel then returns its classes."""

    _, folders = exported
    code = f"""
import sys
import ldmnist_hf
heavy = [m for m in ("torch", "transformers", "datasets") if m in sys.modules]
assert not heavy, heavy
from transformers import AutoConfig, AutoModel
for folder in {[str(folders[k]) for k in CODE] + [str(PRETRAINED_DIR / "class-vae-32")]!r}:
    model = AutoModel.from_pretrained(folder)  # no trust_remote_code
    assert type(model).__module__.startswith("ldmnist_hf."), type(model).__module__
    assert type(AutoConfig.from_pretrained(folder)).__module__.startswith("ldmnist_hf.")
print("ok")
"""
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    assert not (tmp_path / "modules").exists() or not list((tmp_path / "modules").rglob("modeling_*.py"))
