"""What learning rate the 2020 code's optimizer really stepped with.

`pretrain_autoencoder.py` (2020) builds `Adam(lr_schedule.get_lr)`, a Python callable whose value its
reduce-on-plateau schedule lowers after each epoch, and runs each epoch through a `@tf.function` without
arguments (`train_one_epoch`). Keras' OptimizerV2 (TF 2.x before 2.11; `tf_keras.optimizers.legacy` today)
calls a callable learning rate in `_get_hyper`: inside a traced function that happens once, at trace time,
so the first value is baked into the graph. This script shows it with the same calls: one Adam step per
"epoch" on a gradient of 1 (Adam's first steps then move the weight by the rate itself), the callable's value
divided by 10 after each epoch, once eagerly and once in a traced function.

TensorFlow is no dependency of ldmnist-hf; to run it:

    python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu tf-keras
    /tmp/tf/bin/python docs/tf_traced_learning_rate.py

docs/fidelity.md shows its output.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # a CPU run: no CUDA probing messages

import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402


class PlateauSchedule:
    """The 2020 code's schedule object: the optimizer holds `get_lr`, the training loop lowers `lr`."""

    def __init__(self, lr: float = 1e-3):
        self.lr = lr

    def get_lr(self) -> float:
        return self.lr


def step_sizes(traced: bool, epochs: int = 4) -> list[tuple[int, float, float]]:
    """(epoch, the callable's value, how far the epoch's Adam step moved the weight)."""
    schedule = PlateauSchedule()
    weight = tf.Variable(1.0)
    optimizer = tf_keras.optimizers.legacy.Adam(schedule.get_lr)

    def train_one_epoch():
        with tf.GradientTape() as tape:
            loss = 1.0 * weight
        optimizer.apply_gradients([(tape.gradient(loss, weight), weight)])

    run = tf.function(train_one_epoch) if traced else train_one_epoch
    rows = []
    for epoch in range(epochs):
        before = float(weight.numpy())
        run()
        rows.append((epoch, schedule.lr, before - float(weight.numpy())))
        schedule.lr /= 10  # the schedule lowers the rate; TensorBoard would log this value
    return rows


if __name__ == "__main__":
    print(f"TensorFlow {tf.__version__}, tf-keras {tf_keras.__version__}")
    print("epoch | callable's value | step, eager | step, in a traced tf.function")
    for (epoch, lr, eager), (_, _, traced) in zip(step_sizes(False), step_sizes(True)):
        print(f"{epoch:5d} | {lr:16.0e} | {eager:11.2e} | {traced:.2e}")
