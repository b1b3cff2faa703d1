"""The training settings: recipes, the quality bar and `LDMNISTTrainingArguments`.

Free of torch at import, so that the command line builds `ldmnist train`'s options from the dataclass
fields without loading torch (`ldmnist --help` stays fast): one option per field, its type from the field's
annotation (`typing.get_type_hints`), a `Literal` field's values as its choices, `metadata["help"]` as its
help.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Literal

from ..data.sources import DEFAULT_SOURCE, SOURCE_DATASETS, check_source  # torch-free
from ..errors import LDMNISTError
from ..models.configuration_utils import SAMPLINGS
from ..registry import SHIPPED_LATENT_DIM

logger = logging.getLogger(__name__)

RECIPES = {
    # What the 2020 code ran (about 6 h for it on 2 CPU cores; about 1 h for this port). Its rate stayed 1e-3:
    # `pretrain_autoencoder.py` gives Keras' Adam a Python callable (`lr_schedule.get_lr`) and steps it in a
    # `@tf.function` traced once, so the callable is read once, at trace time, and the reduce-on-plateau
    # schedule it logs never reaches the optimizer (docs/fidelity.md). Keras' Adam epsilon is 1e-7.
    "reference": dict(
        epochs=5000,
        batch_size=10000,
        learning_rate=1e-3,
        class_vae_learning_rate=1e-3,
        class_vae_draws=1,
        schedule="constant",
        adam_epsilon=1e-7,
    ),
    # Reaches the quality bar in under a minute on a 2-core CPU (docs/training.md). The class VAE is what
    # lags in short runs: its own, higher rate and 8 posterior draws per label get it there in 22 epochs.
    "fast": dict(
        epochs=22,
        batch_size=256,
        learning_rate=2e-3,
        class_vae_learning_rate=5e-2,
        class_vae_draws=8,
        schedule="cosine",
        adam_epsilon=1e-8,
    ),
}
MAX_LEARNING_RATE = 1.0
# Bounds that keep a typo from allocating terabytes or running for years (the checks say so).
INT_BOUNDS = {
    "latent_dim": (1, 4096),
    "epochs": (1, 1_000_000),
    "batch_size": (1, 1_000_000),
    "shuffle_buffer": (0, 1_000_000_000),
    "class_vae_draws": (1, 1024),
    "checkpoint_every": (1, 1_000_000),
    "plateau_patience": (0, 1_000_000),
    "seed": (0, 2**63 - 1),
}
RECIPE_NAMES = tuple(RECIPES)
SCHEDULES = ("plateau", "cosine", "constant")
# How Dropout and BatchNorm run during training, in torch's terms (`module.eval()` / `module.train()`).
DROPOUT_BATCHNORM_MODES = ("eval", "train")


def _session(help: str, default=None, **metadata):
    """A field that says how this session runs, not what is trained: free to change on resume."""
    return field(default=default, metadata={"help": help, "session": True, **metadata})


@dataclass
class LDMNISTTrainingArguments:
    """What `train` does. Fields left `None` take the recipe's value.

    Args:
        output_dir (`str`): where the models, `metrics.jsonl`, `summary.json` and checkpoints go.
        recipe (`str`, defaults to `"fast"`): `"fast"` or `"reference"` (what the 2020 code ran; see `RECIPES`).
        latent_dim (`int`, defaults to 32): latent size of both VAEs and the middle layers.
        epochs, batch_size, learning_rate, schedule: override the recipe.
        class_vae_learning_rate (`float`, *optional*): the class VAE's own Adam rate (the recipe's; the
            reference trained it at the shared rate). The tiny class VAE converges slower than the rest.
        class_vae_draws (`int`, *optional*): posterior draws per label in the class VAE's loss (the recipe's;
            the reference used 1). More draws = less gradient noise for the class VAE, at almost no cost.
        adam_epsilon (`float`, *optional*): Adam's epsilon (the recipe's: Keras' 1e-7 for the reference,
            torch's 1e-8 for the fast recipe).
        shuffle_buffer (`int`, defaults to 0): each epoch's order drawn as `tf.data.Dataset.shuffle` with this
            buffer draws it (the 2020 input pipeline used 10000: a sliding window over the ordered training
            set); 0 draws a uniform permutation.
        plateau_patience (`int`, defaults to 50), plateau_factor (`float`, defaults to 0.9): the
            reduce-on-plateau schedule on the training loss (`schedule="plateau"`: what the 2020 text and
            logs describe; its code never applied it).
        dropout_batchnorm (`str`, defaults to `"eval"`): the mode of Dropout and BatchNorm during
            training. `"eval"` = Dropout off and BatchNorm on fixed statistics (what the reference code
            ran); `"train"` = both in train mode (what the reference text describes).
        classification_to_vaes (`bool`, defaults to `True`): the classification loss's gradient also
            updates the VAEs (the reference code); `False` keeps it to the middle layers (the text).
        sampling (`str`, defaults to `"reference"`): the VAEs' sampling parameterisation.
        seed (`int`, defaults to 0), device (`str`, defaults to CUDA when present, else CPU).
        checkpoint_every (`int`, defaults to 10): epochs between checkpoints (the last epoch always).
        compile (`bool`, defaults to `False`): `torch.compile` the training step.
        resume (`bool`): continue the run in `output_dir` from its checkpoint.
        overwrite (`bool`): start over in an `output_dir` that holds a run.
        stop_after (`int`, *optional*): stop after this epoch, leaving a checkpoint to resume from.
        source (`str`, defaults to `"mnist"`): the source dataset trained on: a known one (`data.sources`), e.g.
            `"fashion-mnist"`, or any image-classification dataset as a folder in the Hub's layout or a Hub id
            (`data.classification`).
        image_column, label_column (`str`, *optional*): that dataset's image and `ClassLabel` columns, where
            it has more than one of a kind.
        data_from (`str`, defaults to `"auto"`): where it comes from (`data.mnist.load_source`).
        mnist_source (`str`, *optional*): deprecated, the old name of `data_from`.

    Fields marked `metadata["session"]` say how this session runs, not what is trained: they may change
    on resume. Each field's `metadata["help"]` is what `ldmnist train --help` shows.
    """

    output_dir: str = _session("where the run goes", "runs/ldmnist")
    source: str = field(
        default=DEFAULT_SOURCE,
        metadata={
            "help": f"the source dataset: {', '.join(SOURCE_DATASETS)}, or an image-classification dataset (a "
            "folder in the Hub's layout or a Hub id)",
            "metavar": "NAME",
        },
    )
    image_column: str | None = field(
        default=None,
        metadata={
            "help": "the source dataset's image column (default: its only Image column)",
            "metavar": "COL",
        },
    )
    label_column: str | None = field(
        default=None,
        metadata={"help": "its ClassLabel column (default: its only ClassLabel column)", "metavar": "COL"},
    )
    recipe: Literal[RECIPE_NAMES] = field(
        default="fast",
        metadata={
            "help": "fast (about a minute on a 2-core CPU) or reference (what the 2020 code ran, about 1 h on a "
            "2-core CPU)"
        },
    )
    latent_dim: int = field(
        default=SHIPPED_LATENT_DIM, metadata={"help": "latent size of both VAEs and the middle layers"}
    )
    epochs: int | None = field(default=None, metadata={"help": "override the recipe"})
    batch_size: int | None = field(default=None, metadata={"help": "override the recipe"})
    learning_rate: float | None = field(default=None, metadata={"help": "Adam rate; override the recipe"})
    class_vae_learning_rate: float | None = field(
        default=None, metadata={"help": "the class VAE's own Adam rate (default: the recipe's)"}
    )
    class_vae_draws: int | None = field(
        default=None,
        metadata={
            "help": "posterior draws per label in the class VAE's loss (default: the recipe's; 2020: 1)"
        },
    )
    schedule: Literal[SCHEDULES] | None = field(
        default=None,
        metadata={
            "help": "override the recipe (reference: constant, the rate the 2020 code really trained at; "
            "plateau: the reduce-on-plateau schedule its text and logs describe, which never acted)"
        },
    )
    adam_epsilon: float | None = field(
        default=None, metadata={"help": "Adam's epsilon (default: the recipe's; reference: Keras' 1e-7)"}
    )
    shuffle_buffer: int = field(
        default=0,
        metadata={
            "help": "draw each epoch's order as tf.data's shuffle with this buffer (the 2020 pipeline: 10000); "
            "0: a uniform permutation (default)"
        },
    )
    plateau_patience: int = field(
        default=50, metadata={"help": "epochs without improvement (plateau schedule)"}
    )
    plateau_factor: float = field(default=0.9, metadata={"help": "rate factor on a plateau"})
    dropout_batchnorm: Literal[DROPOUT_BATCHNORM_MODES] = field(
        default="eval",
        metadata={
            "help": "mode of Dropout and BatchNorm during training. eval: dropout off and BatchNorm on "
            "fixed statistics, as the reference code ran; train: both in train mode, as the reference "
            "text describes"
        },
    )
    classification_to_vaes: bool = field(
        default=True,
        metadata={
            "help": "by default the classification loss's gradient also reaches the VAEs, as in the "
            "reference code; this flag keeps it to the middle layers, as the reference text says"
        },
    )
    sampling: Literal[SAMPLINGS] = field(
        default="reference",
        metadata={"help": "std = exp(log_var) (reference) or exp(log_var / 2) (standard)"},
    )
    seed: int = field(default=0, metadata={"help": "weights, order and sampling noise"})
    device: str | None = _session("cuda or cpu (default: cuda when available)")
    checkpoint_every: int = _session("epochs between checkpoints", 10)
    compile: bool = _session("torch.compile the training step", False)
    resume: bool = _session("continue from OUTPUT_DIR/checkpoint", False)
    overwrite: bool = _session(
        "start over in an OUTPUT_DIR that holds a run (its checkpoint, models, metrics and summary are "
        "replaced; other files stay)",
        False,
    )
    stop_after: int | None = _session(
        "stop after this epoch with a checkpoint (for machines with time limits)", metavar="EPOCH"
    )
    data_from: str = _session(
        "where the source dataset comes from (see `ldmnist fetch --help`)", "auto", metavar="PLACE"
    )
    mnist_source: str | None = _session("deprecated: the old name of --data-from", metavar="PLACE")

    def __post_init__(self):
        _check_choices(self)
        check_source(self.source)  # a known name, a folder or a Hub id; else the list of known ones
        if self.source in SOURCE_DATASETS and (self.image_column or self.label_column):
            raise LDMNISTError(
                f"`image_column` and `label_column` are for other datasets: {self.source}'s columns are fixed."
            )
        for key, value in RECIPES[self.recipe].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        for name, (least, most) in INT_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
                raise LDMNISTError(f"`{name}` must be an integer from {least} to {most:,}, got {value!r}.")
        # Finite and bounded: Adam with a rate above 1 only diverges (to NaN weights).
        if (
            isinstance(self.adam_epsilon, bool)
            or not isinstance(self.adam_epsilon, int | float)
            or not 0 < self.adam_epsilon <= 1
        ):
            raise LDMNISTError(
                f"`adam_epsilon` must be in (0, 1], got {self.adam_epsilon!r}; Keras uses 1e-7."
            )
        for name in ("learning_rate", "class_vae_learning_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise LDMNISTError(f"`{name}` must be a number, got {value!r}.")
            if not 0 < value <= MAX_LEARNING_RATE:
                raise LDMNISTError(
                    f"`{name}` must be in (0, {MAX_LEARNING_RATE}], got {value}; the recipes use 1e-3 to 5e-2."
                )
        if (
            isinstance(self.plateau_factor, bool)
            or not isinstance(self.plateau_factor, int | float)
            or not (0 < self.plateau_factor < 1)
        ):
            raise LDMNISTError(f"`plateau_factor` must be in (0, 1), got {self.plateau_factor!r}.")
        self._check_session()

    def _check_session(self) -> None:
        if self.mnist_source is not None:  # the old name of `data_from`
            logger.warning(
                "`mnist_source` is deprecated: use `data_from` (it names where the data comes from)"
            )
            if self.data_from not in ("auto", self.mnist_source):
                raise LDMNISTError("`mnist_source` is the old name of `data_from`: give `data_from` alone.")
            self.data_from, self.mnist_source = self.mnist_source, None
        if not isinstance(self.output_dir, str) or not self.output_dir.strip():
            raise LDMNISTError(
                f"`output_dir` must name a folder, got {self.output_dir!r}; for example runs/ld32."
            )
        if self.stop_after is not None and (
            isinstance(self.stop_after, bool) or not isinstance(self.stop_after, int) or self.stop_after < 1
        ):
            raise LDMNISTError(
                f"`stop_after` must be an epoch number of at least 1, got {self.stop_after!r}."
            )
        if self.resume and self.overwrite:
            raise LDMNISTError(
                "`resume` continues the run in `output_dir` and `overwrite` starts it over: choose one."
            )
        import torch  # here, not at the top: the command line reads these fields without torch

        self.device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as e:
            raise LDMNISTError(f"Unknown `device` {self.device!r}; use cpu, cuda or cuda:N.") from e
        if device.type not in ("cpu", "cuda"):
            raise LDMNISTError(f"`device` {self.device!r} is not supported; use cpu, cuda or cuda:N.")


def choices(field_type) -> tuple | None:
    """The values of a `Literal[...]` annotation (also inside `X | None`), else `None`."""
    import typing

    if typing.get_origin(field_type) is Literal:
        return typing.get_args(field_type)
    for arg in typing.get_args(field_type):
        found = choices(arg)
        if found:
            return found
    return None


def _check_choices(args: LDMNISTTrainingArguments) -> None:
    """Each `Literal` field holds one of its values (or `None` where the annotation allows it)."""
    import typing

    hints = typing.get_type_hints(type(args))
    for f in dataclasses.fields(args):
        allowed = choices(hints[f.name])
        value = getattr(args, f.name)
        if (
            allowed
            and value not in allowed
            and not (value is None and type(None) in typing.get_args(hints[f.name]))
        ):
            raise LDMNISTError(f"Unknown `{f.name}` {value!r}; choose one of {', '.join(map(str, allowed))}.")


def recipe_differences(then: dict, now: dict, also_free: frozenset[str] = frozenset()) -> list[str]:
    """`name: then -> now` for each setting that changes what is trained, between two runs' recorded arguments.

    Session fields (and `also_free`) may differ; a setting missing from a record (added since it was written,
    like `source` or `shuffle_buffer`) ran at its default.
    """
    fields = dataclasses.fields(LDMNISTTrainingArguments)
    free = {f.name for f in fields if f.metadata.get("session")} | also_free
    pairs = ((f.name, then.get(f.name, f.default), now.get(f.name, f.default)) for f in fields)
    return [f"{name}: {a!r} -> {b!r}" for name, a, b in pairs if name not in free and a != b]
