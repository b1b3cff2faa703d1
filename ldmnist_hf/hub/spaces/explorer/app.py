"""The LD-MNIST explorer Space: what each latent component of the image VAE does to the decoded digit.

Pick a test digit (by index or by class): its MNIST image beside the decode of its `x`, sliders for the
informative components of `x` (the one that changes the image most first), which re-decode as they move, the
class the class VAE reads from its `y`, and an interpolation between two digits. The models come from their
Hub repositories (`space.json`); the decoding is numpy (`explorer.py`). A sibling's explorer (LD-Fashion-MNIST)
names its own dataset, images and classes (`space.json`'s `source`).
"""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from explorer import INFORMATIVE_STD, SLIDER_RANGE, Explorer, to_image

SPACE = json.loads((Path(__file__).parent / "space.json").read_text())
EX = Explorer(SPACE)
N = len(EX.x)
LD, TITLE, NOUN, NOUNS = (EX.source[k] for k in ("ld", "title", "noun", "nouns"))
CLASSES = [str(i) for i in range(len(EX.class_names))]  # the class dropdown's values; it shows their names


def show(index):
    """A test row: its source image, the decode of its `x`, the class reading, its class and its slider values; a
    one-line message (and nothing else changed) for an index that is not a test digit."""
    try:
        index = EX.check_index(index)
    except ValueError as e:
        return (f"**{e}**", *[gr.update()] * (4 + len(EX.components)))
    z = EX.latent(index)
    original = to_image(EX.digits[index] / 255.0) if EX.digits is not None else None
    values = [round(float(z[c]), 2) for c in EX.components]
    return ("", original, to_image(EX.decode(z)[0]), EX.reading(index), str(EX.label_of(index)), *values)


def slide(index, *values):
    """The decode of the digit's `x` with the slider components set to `values`: one decode."""
    try:
        return "", to_image(EX.decode(EX.latent(index, values))[0])
    except ValueError as e:
        return f"**{e}**", gr.update()


def by_class(label):
    if label is None or str(label) not in CLASSES:
        return gr.update()
    return EX.first_of_class(int(label))


def interpolate(a, b):
    try:
        return "", to_image(EX.interpolation(EX.check_index(a), EX.check_index(b)), scale=4)
    except ValueError as e:
        return f"**{e}**", gr.update()


with gr.Blocks(title=f"{LD} explorer") as demo:
    gr.Markdown(
        f"# {LD} explorer\n\nEach test {NOUN} is stored as {EX.x.shape[1]} numbers, its latent `x`: the image "
        f"VAE [{SPACE['image_vae']}](https://huggingface.co/{SPACE['image_vae']}) turns them back into an image. "
        f"Each number is a *component*; a slider below sets one of them and the image is decoded again. Only "
        f"{len(EX.components)} of the {EX.x.shape[1]} components carry much information (their values vary "
        f"less than std {INFORMATIVE_STD} over the test split); their sliders are here, the one that changes the "
        "image most first."
    )
    with gr.Row():
        index = gr.Number(value=0, precision=0, label=f"test {NOUN} (0 to {N - 1})", elem_id="index")
        label = gr.Dropdown(
            choices=[(name, value) for name, value in zip(EX.class_names, CLASSES)],
            value=None,
            label=f"or the first {NOUN} of class",
            elem_id="label",
        )
    message = gr.Markdown(elem_id="message")
    reading = gr.Markdown(elem_id="reading")
    with gr.Row():
        original = gr.Image(label=f"{TITLE} test {NOUN}", elem_id="original", height=224, format="png")
        decoded = gr.Image(
            label="decode of x (with the sliders)", elem_id="decoded", height=224, format="png"
        )
    sliders = []
    with gr.Row():  # two columns of sliders, the most important component first
        for half in (EX.components[::2], EX.components[1::2]):
            with gr.Column():
                sliders += [
                    gr.Slider(
                        -SLIDER_RANGE,
                        SLIDER_RANGE,
                        value=0.0,
                        step=0.01,
                        label=f"component {c}",
                        elem_id=f"component-{c}",
                    )
                    for c in half
                ]
    order = [EX.components.index(int(s.elem_id.split("-")[1])) for s in sliders]
    sliders = [s for _, s in sorted(zip(order, sliders), key=lambda p: p[0])]
    with gr.Accordion(f"Interpolate between two test {NOUNS}", open=True):
        with gr.Row():
            a = gr.Number(value=0, precision=0, label=f"from {NOUN}", elem_id="from")
            b = gr.Number(value=1, precision=0, label=f"to {NOUN}", elem_id="to")
        strip = gr.Image(label="(1 - t) x_a + t x_b, t from 0 to 1", elem_id="interpolation", format="png")
    outputs = [message, original, decoded, reading, label, *sliders]
    index.change(show, index, outputs)
    label.input(by_class, label, index)  # the user's choice only: show() sets it to the digit's class
    for s in sliders:
        s.input(slide, [index, *sliders], [message, decoded])
    for n in (a, b):
        n.change(interpolate, [a, b], [message, strip])
    demo.load(show, index, outputs)
    demo.load(interpolate, [a, b], [message, strip])

if __name__ == "__main__":
    demo.launch()
