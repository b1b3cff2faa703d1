"""The LD-MNIST explorer Space: what each latent component of the image VAE does to the decoded digit.

Pick a test digit (by index or by class): its MNIST image beside the decode of its `x`, sliders for the
informative components of `x` (the one that changes the image most first), which re-decode as they move, the
class the class VAE reads from its `y`, and an interpolation between two digits. The models come from their
Hub repositories (`space.json`); the decoding is numpy (`explorer.py`).
"""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import numpy as np

from explorer import Explorer, to_image

SPACE = json.loads((Path(__file__).parent / "space.json").read_text())
EX = Explorer(SPACE)
N = len(EX.x)


def show(index):
    """A digit: its MNIST image, the decode of its `x`, the class reading, and its slider values."""
    index = int(np.clip(int(index or 0), 0, N - 1))
    z = EX.latent(index)
    original = to_image(EX.digits[index] / 255.0) if EX.digits is not None else None
    return (original, to_image(EX.decode(z)[0]), EX.reading(index), *[float(z[c]) for c in EX.components])


def slide(index, *values):
    """The decode of the digit's `x` with the slider components set to `values`: one decode."""
    return to_image(EX.decode(EX.latent(int(index or 0), values))[0])


def by_class(label):
    return EX.first_of_class(int(label))


def interpolate(a, b):
    return to_image(EX.interpolation(int(a or 0), int(b or 0)), scale=4)


with gr.Blocks(title="LD-MNIST explorer") as demo:
    gr.Markdown(
        f"# LD-MNIST explorer\n\nThe {EX.x.shape[1]}-d latent `x` of a test digit, decoded by the image VAE "
        f"[{SPACE['image_vae']}](https://huggingface.co/{SPACE['image_vae']}). Move a slider to change one "
        f"informative component (std < 0.8 over the test split; {len(EX.components)} of {EX.x.shape[1]}), "
        "the one that changes the image most first."
    )
    with gr.Row():
        index = gr.Number(value=0, precision=0, minimum=0, maximum=N - 1, label="test digit", elem_id="index")
        label = gr.Dropdown(
            choices=[str(i) for i in range(10)], label="or the first digit of class", elem_id="label"
        )
    reading = gr.Markdown(elem_id="reading")
    with gr.Row():
        original = gr.Image(label="MNIST test digit", elem_id="original", height=224, format="png")
        decoded = gr.Image(
            label="decode of x (with the sliders)", elem_id="decoded", height=224, format="png"
        )
    sliders = []
    with gr.Row():  # two columns of sliders, the most important component first
        for half in (EX.components[::2], EX.components[1::2]):
            with gr.Column():
                sliders += [
                    gr.Slider(
                        -4.0, 4.0, value=0.0, step=0.05, label=f"component {c}", elem_id=f"component-{c}"
                    )
                    for c in half
                ]
    order = [EX.components.index(int(s.elem_id.split("-")[1])) for s in sliders]
    sliders = [s for _, s in sorted(zip(order, sliders), key=lambda p: p[0])]
    with gr.Accordion("Interpolate between two test digits", open=True):
        with gr.Row():
            a = gr.Number(value=0, precision=0, label="from digit", elem_id="from")
            b = gr.Number(value=1, precision=0, label="to digit", elem_id="to")
        strip = gr.Image(label="(1 - t) x_a + t x_b, t from 0 to 1", elem_id="interpolation", format="png")
    outputs = [original, decoded, reading, *sliders]
    index.change(show, index, outputs)
    label.change(by_class, label, index)
    for s in sliders:
        s.input(slide, [index, *sliders], decoded)
    for n in (a, b):
        n.change(interpolate, [a, b], strip)
    demo.load(show, index, outputs)
    demo.load(interpolate, [a, b], strip)

if __name__ == "__main__":
    demo.launch()
