"""The models' code, exactly as `ldmnist export` saves it beside the weights in each model repository.

transformers' remote-code loading copies a model's module and the modules it imports relatively
(`from .x import y`, `dynamic_module_utils.get_relative_imports`), by base name, into one flat folder. So the
modules here stay flat, import only each other (relatively), torch, transformers and the standard library,
and never `ldmnist_hf` (tests/scenarios/test_layout.py pins this). This file imports nothing, so that
importing one configuration does not load torch. The package's names for these classes:
`ldmnist_hf.ImageVAE`, ...
"""
