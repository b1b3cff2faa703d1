"""The package's structure, pinned: what lives where, what the model code may import, each fact once."""

import ast
import re
import sys
from pathlib import Path

import pytest

import ldmnist_hf
from ldmnist_hf.registry import KINDS, PRETRAINED

PACKAGE = Path(ldmnist_hf.__file__).parent
SUBPACKAGES = (
    "files",
    "models",
    "pretrained",
    "data",
    "rendering",
    "build",
    "training",
    "analysis",
    "hub",
    "cli",
)
# The layers, bottom first: a module imports from its own layer and the ones below it, never from one above.
# docs/development.md draws the same order.
LAYERS = (
    ("_version", "errors", "files"),
    ("models", "registry"),
    ("pretrained",),
    ("data",),
    ("rendering",),
    ("build",),
    ("training",),
    ("analysis",),
    ("hub",),
    ("cli",),
)
# The package's own modules; hub/spaces/ holds the Spaces' apps, self-contained like the metric script.
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "spaces" not in p.relative_to(PACKAGE).parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, nodes)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }


def test_one_sub_package_per_job():
    for name in SUBPACKAGES:
        assert (PACKAGE / name / "__init__.py").is_file(), name
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "_version.py", "errors.py", "registry.py"]


def _layer(module: str) -> int:
    """The layer of a module named relative to the package (`hub.export` -> the layer of `hub`)."""
    head = module.split(".")[0]
    found = [i for i, names in enumerate(LAYERS) if head in names]
    assert found, f"{module} is in no layer: add its sub-package to LAYERS"
    return found[0]


def _package_imports(path: Path) -> list[tuple[int, str]]:
    """`(line, module)` of every import of the package's own modules in `path`, module-level or local."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    here = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
            if node.module:
                found.append((node.lineno, ".".join([*base, node.module])))
            else:  # `from . import x`, `from .. import x`: each name is a module, or the package's root
                found += [(node.lineno, ".".join([*base, a.name]) if base else "") for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ldmnist_hf"):
            found.append((node.lineno, node.module.removeprefix("ldmnist_hf").lstrip(".")))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name.removeprefix("ldmnist_hf").lstrip("."))
                for a in node.names
                if a.name.split(".")[0] == "ldmnist_hf"
            ]
    return found


# The metric script is self-contained (it imports nothing of the package; test_metric pins that).
LAYERED = [
    p for p in MODULES if "metrics" not in p.relative_to(PACKAGE).parts and p != PACKAGE / "__init__.py"
]


@pytest.mark.parametrize("path", LAYERED, ids=[str(p.relative_to(PACKAGE)) for p in LAYERED])
def test_imports_point_down(path):
    """No module imports a higher layer, nor the package's root (the facade that imports everything)."""
    mine = _layer(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    for line, module in _package_imports(path):
        assert module, f"{path.name}:{line} imports the package root; import the module that defines it"
        assert _layer(module) <= mine, (
            f"{path.relative_to(PACKAGE)}:{line} imports {module}, a higher layer "
            f"({LAYERS[_layer(module)]} above {LAYERS[mine]})"
        )


def test_layers_cover_every_sub_package():
    named = {name for names in LAYERS for name in names}
    assert set(SUBPACKAGES) <= named
    assert {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"} <= named


MODEL_CODE = sorted(p for p in (PACKAGE / "models").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", MODEL_CODE, ids=[p.name for p in MODEL_CODE])
def test_model_code_is_flat_and_imports_only_its_siblings(path):
    """transformers copies a model's module and its `from .x import` imports by base name into one folder:
    the model code must import only siblings (relatively), torch, transformers and the standard library."""
    siblings = {p.stem for p in MODEL_CODE}
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                assert node.level == 1 and node.module in siblings, (path.name, node.module)
            else:
                assert node.module.split(".")[0] in {"__future__", "torch", "transformers", "dataclasses"}, (
                    node.module
                )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] in {"torch", "math"} | set(sys.stdlib_module_names), (
                    alias.name
                )


def test_exported_code_is_the_models_folder(tmp_path):
    """What `save_with_code` writes beside each model's weights: its modules and their relative imports, as
    transformers finds them; together, every file of `models/`."""
    from ldmnist_hf.hub.model_repos import save_with_code

    written = set()
    for kind in KINDS.values():
        model = kind.model_class(kind.config_class(latent_dim=4))
        files = save_with_code(model, tmp_path / kind.key)
        assert f"{kind.model_module}.py" in files and f"{kind.config_module}.py" in files
        for name in files:
            assert (tmp_path / kind.key / name).read_bytes() == (PACKAGE / "models" / name).read_bytes()
        written |= set(files)
    assert written == {p.name for p in MODEL_CODE}


def test_one_registration_mechanism():
    """No module registers for the Auto classes at import, and nothing writes transformers' private switch."""
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr != "register_for_auto_class", path
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                assert node.attr != "_auto_class", path


def test_shipped_names_only_in_the_registry():
    """`image-vae-32` and friends are written once, in the registry; code elsewhere reads them from it."""
    pattern = re.compile("|".join(re.escape(n) for n in PRETRAINED))
    for path in MODULES:
        if path.name == "registry.py":
            continue
        tree = _tree(path)
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                assert not pattern.search(node.value), (path, node.lineno, node.value[:80])


def test_each_fact_once():
    """The informative threshold, the build record's name and the informative count have one home each."""
    text = {p: p.read_text() for p in MODULES}
    assert [p.name for p, t in text.items() if re.search(r"^INFORMATIVE_STD = ", t, re.M)] == [
        "statistics.py"
    ]
    assert [p.name for p, t in text.items() if '"ldmnist_build.json"' in t] == ["schema.py"]
    assert [p.name for p, t in text.items() if "< INFORMATIVE_STD" in t] == ["statistics.py"]


def test_only_the_command_line_prints():
    for path in MODULES:
        if path.relative_to(PACKAGE).parts[0] == "cli":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "print", (path, node.lineno)


# The metric script is one self-contained file on purpose: the same file is the metric Space's.
LONG_ON_PURPOSE = {"metrics/ldmnist/ldmnist.py"}


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_one_job_per_module_and_short_functions(path):
    """A module of about 400 lines at most (a sign of one job), no function over 60 lines."""
    rel = str(path.relative_to(PACKAGE))
    lines = len(path.read_text().splitlines())
    assert rel in LONG_ON_PURPOSE or lines <= 420, f"{rel} has {lines} lines: split it by job"
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= 60, f"{rel}:{node.lineno} {node.name} has {length} lines"
