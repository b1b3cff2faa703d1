"""The training settings: recipes, the quality bar and `LDMNISTTrainingArguments`.

Free of torch at import, so that the command line builds `ldmnist train`'s options from the dataclass
fields without loading torch (`ldmnist --help` stays fast).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .configuration_utils import SAMPLINGS
from .utils import LDMNISTError, default_device

RECIPES = {
    # The 2020 schedule (about 6 h for the 2020 code on 2 CPU cores; about 1 h for this port).
    "reference": dict(
        epochs=5000,
        batch_size=10000,
        learning_rate=1e-3,
        class_vae_learning_rate=1e-3,
        class_vae_draws=1,
        schedule="plateau",
    ),
    # Reaches the quality bar in under a minute on a 2-core CPU (README, "Training"). The class VAE is what
    # lags in short runs: its own, higher rate and 8 posterior draws per label get it there in 22 epochs.
    "fast": dict(
        epochs=22,
        batch_size=256,
        learning_rate=2e-3,
        class_vae_learning_rate=5e-2,
        class_vae_draws=8,
        schedule="cosine",
    ),
}
# How Dropout and BatchNorm run during training, in torch's terms (`module.eval()` / `module.train()`).
DROPOUT_BATCHNORM_MODES = ("eval", "train")
SCHEDULES = ("plateau", "cosine", "constant")
# A latent component is "informative" when its sampled values vary less than this across the data set:
# the KL term pushes unused components to std 1, used ones end near 0.67 (reference sampling).
INFORMATIVE_STD = 0.8
# What a recipe must reach (README, "Training"): class reconstruction as the mean over 20 posterior draws
# on the MNIST test set, joint accuracy on the test set, informative image components over the train set.
QUALITY_BAR = {"class_vae_accuracy_mean": 0.998, "middle_layers_accuracy": 0.972, "informative_components": 8}
# The three models by attribute name and by folder/repo name stem (run folders, shipped folders, Hub repos).
MODEL_DIRS = {"image_vae": "image-vae", "class_vae": "class-vae", "middle_layers": "middle-layers"}
MAX_LEARNING_RATE = 1.0


# The option `dropout_batchnorm` was recorded as `layers` by older runs, with these values.
_OLD_LAYERS = {"inference": "eval", "active": "train"}


def with_older_defaults(saved_args: dict) -> dict:
    """Arguments recorded by a run, in today's names, completed with what older runs used.

    Runs made before the class-VAE options trained the class VAE at the shared learning rate with one
    posterior draw per label; runs made before `dropout_batchnorm` recorded it as `layers`
    (`"inference"` = `"eval"`, `"active"` = `"train"`).
    """
    args = {"class_vae_learning_rate": saved_args.get("learning_rate"), "class_vae_draws": 1, **saved_args}
    if "layers" in args and "dropout_batchnorm" not in args:
        layers = args.pop("layers")
        args["dropout_batchnorm"] = _OLD_LAYERS.get(layers, layers)
    return args


def with_older_metrics(metrics: dict) -> dict:
    """Figures recorded by `ldmnist release`, in today's keys.

    Releases made before the keys named what they count wrote `x_components_std_below_0.8` and
    `y_components_std_below_0.8` (the threshold was always 0.8).
    """
    metrics = dict(metrics)
    for side in ("x", "y"):
        old = f"{side}_components_std_below_0.8"
        if old in metrics:
            metrics.setdefault(f"{side}_informative_components", metrics.pop(old))
            metrics.setdefault("informative_std", 0.8)
    return metrics


@dataclass
class LDMNISTTrainingArguments:
    """What `train` does. Fields left `None` take the recipe's value.

    Args:
        output_dir (`str`): where the models, `metrics.jsonl`, `summary.json` and checkpoints go.
        recipe (`str`, defaults to `"fast"`): `"fast"` or `"reference"` (see `RECIPES`).
        latent_dim (`int`, defaults to 32): latent size of both VAEs and the middle layers.
        epochs, batch_size, learning_rate, schedule: override the recipe.
        class_vae_learning_rate (`float`, *optional*): the class VAE's own Adam rate (the recipe's; the
            reference trained it at the shared rate). The tiny class VAE converges slower than the rest.
        class_vae_draws (`int`, *optional*): posterior draws per label in the class VAE's loss (the recipe's;
            the reference used 1). More draws = less gradient noise for the class VAE, at almost no cost.
        plateau_patience (`int`, defaults to 50), plateau_factor (`float`, defaults to 0.9): the
            reduce-on-plateau schedule on the training loss (the reference's).
        dropout_batchnorm (`str`, defaults to `"eval"`): the mode of Dropout and BatchNorm during
            training. `"eval"` = Dropout off and BatchNorm on fixed statistics (what the reference code
            ran); `"train"` = both in train mode (what the reference text describes).
        classification_to_vaes (`bool`, defaults to `True`): the classification loss's gradient also
            updates the VAEs (the reference code); `False` keeps it to the middle layers (the text).
        sampling (`str`, defaults to `"reference"`): the VAEs' sampling parameterisation.
        seed (`int`, defaults to 0), device (`str`, defaults to CUDA when present, else CPU).
        checkpoint_every (`int`, defaults to 10): epochs between checkpoints (the last epoch always).
        compile (`bool`, defaults to `False`): `torch.compile` the training step.

    Each field's `metadata["help"]` (and `"choices"`) is what `ldmnist train --help` shows: the command
    line is generated from these fields.
    """

    output_dir: str = field(default="runs/ldmnist-32", metadata={"help": "where the run goes"})
    recipe: str = field(
        default="fast",
        metadata={
            "help": "fast (about a minute) or reference (the 2020 schedule)",
            "choices": tuple(RECIPES),
        },
    )
    latent_dim: int = field(default=32, metadata={"help": "latent size of both VAEs and the middle layers"})
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
    schedule: str | None = field(default=None, metadata={"help": "override the recipe", "choices": SCHEDULES})
    plateau_patience: int = field(
        default=50, metadata={"help": "epochs without improvement (plateau schedule)"}
    )
    plateau_factor: float = field(default=0.9, metadata={"help": "rate factor on a plateau"})
    dropout_batchnorm: str = field(
        default="eval",
        metadata={
            "help": "mode of Dropout and BatchNorm during training. eval: dropout off and BatchNorm on "
            "fixed statistics, as the reference code ran; train: both in train mode, as the reference "
            "text describes",
            "choices": DROPOUT_BATCHNORM_MODES,
        },
    )
    classification_to_vaes: bool = field(
        default=True,
        metadata={
            "help": "by default the classification loss's gradient also reaches the VAEs, as in the "
            "reference code; this flag keeps it to the middle layers, as the reference text says"
        },
    )
    sampling: str = field(
        default="reference",
        metadata={
            "help": "std = exp(log_var) (reference) or exp(log_var / 2) (standard)",
            "choices": SAMPLINGS,
        },
    )
    seed: int = field(default=0, metadata={"help": "weights, order and sampling noise"})
    device: str | None = field(default=None, metadata={"help": "cuda or cpu (default: cuda when available)"})
    checkpoint_every: int = field(default=10, metadata={"help": "epochs between checkpoints"})
    compile: bool = field(default=False, metadata={"help": "torch.compile the training step"})

    def __post_init__(self):
        if self.recipe not in RECIPES:
            raise LDMNISTError(f"Unknown recipe {self.recipe!r}; choose one of {', '.join(RECIPES)}.")
        for key, value in RECIPES[self.recipe].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        if self.dropout_batchnorm not in DROPOUT_BATCHNORM_MODES:
            raise LDMNISTError(
                f"Unknown --dropout-batchnorm mode {self.dropout_batchnorm!r}; choose one of "
                f"{', '.join(DROPOUT_BATCHNORM_MODES)}."
            )
        if self.schedule not in SCHEDULES:
            raise LDMNISTError(f"Unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}.")
        if self.class_vae_draws is None:
            self.class_vae_draws = 1
        for name in (
            "epochs",
            "batch_size",
            "latent_dim",
            "checkpoint_every",
            "plateau_patience",
            "seed",
            "class_vae_draws",
        ):
            value, least = getattr(self, name), 0 if name in ("plateau_patience", "seed") else 1
            if isinstance(value, bool) or not isinstance(value, int) or not least <= value < 2**62:
                raise LDMNISTError(
                    f"--{name.replace('_', '-')} must be an integer of at least {least}, got {value!r}."
                )
        if self.class_vae_learning_rate is None:
            self.class_vae_learning_rate = self.learning_rate
        # Finite and bounded: Adam with a rate above 1 only diverges (to NaN weights, saved without a word).
        for name in ("learning_rate", "class_vae_learning_rate"):
            value, flag = getattr(self, name), f"--{name.replace('_', '-')}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise LDMNISTError(f"{flag} must be a number, got {value!r}.")
            if not 0 < value <= MAX_LEARNING_RATE:
                raise LDMNISTError(
                    f"{flag} must be in (0, {MAX_LEARNING_RATE}], got {value}; the recipes use 1e-3 to 5e-2."
                )
        if not 0 < self.plateau_factor < 1:
            raise LDMNISTError(f"plateau_factor must be in (0, 1), got {self.plateau_factor}.")
        import torch  # here, not at the top: the command line reads these fields without torch

        self.device = self.device or default_device()
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as e:
            raise LDMNISTError(f"Unknown --device {self.device!r}; use cpu, cuda or cuda:N.") from e
        if device.type not in ("cpu", "cuda"):
            raise LDMNISTError(f"--device {self.device!r} is not supported; use cpu, cuda or cuda:N.")
