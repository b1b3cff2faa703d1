"""The Spaces as a visitor meets them: pushed to the Hub stand-in, started as the Hub starts a Gradio Space (a
fresh venv with `gradio==<sdk_version>` and the Space's own `requirements.txt`, `python app.py`), driven by a
headless Chromium.

In CI (`CI` set) a missing browser fails these tests; elsewhere they are skipped without one. With
`LDMNIST_SCREENSHOTS=1` they also write the screenshots the cards and README show (`make screenshots`).
"""

import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import NS
from helpers import ROOT, resigned_test_split
from hub_stub import FAKE_TOKEN, HubStub, stub_api
from huggingface_hub import CommitOperationAdd, HfApi, snapshot_download

import ldmnist_hf
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.hub.leaderboard import leaderboard
from ldmnist_hf.hub.push import push
from ldmnist_hf.hub.space_repos import SPACES
from ldmnist_hf.rendering import SPACE_SDK_VERSION

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SCREENSHOTS = bool(os.environ.get("LDMNIST_SCREENSHOTS"))
TIMINGS: dict[str, float] = {}


def _need_browser():
    if CHROMIUM and CHROMEDRIVER:
        return
    message = "Chromium and ChromeDriver are needed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(message)  # in CI a missing browser is a failure, never a skip
    pytest.skip(message)


def _space_python(name: str) -> Path:
    """A venv with what the Hub installs for the Space: gradio at its sdk_version and its requirements.txt.

    Kept in `.venv-spaces/` under a hash of both, so a later run reuses it; built fresh otherwise.
    """
    requirements = (SPACES / name / "requirements.txt").read_text()
    key = hashlib.sha256(f"{SPACE_SDK_VERSION}\n{requirements}".encode()).hexdigest()[:12]
    venv = ROOT / ".venv-spaces" / f"{name}-{key}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        shutil.rmtree(venv, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run(
            [*pip, f"gradio=={SPACE_SDK_VERSION}", "-r", str(SPACES / name / "requirements.txt")], check=True
        )
        check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout  # the pins install together
        (venv / ".installed").touch()
    return python


def _mnist_stand_in(api: HfApi, mnist, repo="ylecun/mnist", path="mnist/test-00000-of-00001.parquet") -> None:
    """`ylecun/mnist`'s test split on the stand-in (or another source dataset's, at `repo` and `path`), in the
    Hub repository's layout (PNG images in Parquet)."""
    import datasets
    from PIL import Image

    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(num_classes=10)})
    pngs = []
    for img in mnist.test_images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="PNG")
        pngs.append({"bytes": buf.getvalue(), "path": None})
    table = datasets.Dataset.from_dict({"image": pngs, "label": mnist.test_labels}, features=features)
    buf = io.BytesIO()
    table.to_parquet(buf)
    api.create_repo(repo, repo_type="dataset")
    api.upload_file(path_or_fileobj=buf.getvalue(), path_in_repo=path, repo_id=repo, repo_type="dataset")


@pytest.fixture(scope="module")
def spaces_hub(tmp_path_factory, exported, mnist):
    """The Hub stand-in after `ldmnist push` of the session's export and `ldmnist leaderboard --push` (the
    baselines' verified rows), with `ylecun/mnist` beside it."""
    _need_browser()
    with HubStub(tmp_path_factory.mktemp("spaces-hub")) as stub:
        push(NS, export_dir=exported[0], endpoint=stub.endpoint, token=FAKE_TOKEN)
        stub.board = leaderboard(f"{NS}/ldmnist", endpoint=stub.endpoint, token=FAKE_TOKEN, push=True)
        _mnist_stand_in(stub_api(stub.endpoint, token=FAKE_TOKEN), mnist)
        yield stub
    stub.assert_no_unknown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _running(space: str, stub: HubStub, home: Path, kind: str | None = None):
    """The Space checked out from the stand-in and started with `python app.py` (in the venv of `kind`, `metric`
    or `explorer`: by default LD-MNIST's Space of that name); yields its URL."""
    name = space.split("/")[1]
    python = _space_python(kind or ("metric" if name == "ldmnist" else "explorer"))
    env = stub.env(home, token=None)
    src = home / "app"
    snapshot_download(space, repo_type="space", local_dir=src, endpoint=stub.endpoint, token=False)
    port = _free_port()
    env.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    env["LDMNIST_REFRESH_SECONDS"] = "0"  # ask the dataset's revision on every request (the Hub: every 10 s)
    log = open(home / "space.log", "w")  # noqa: SIM115 - closed in the finally below, after the process
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(python), "app.py"], cwd=src, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                if urllib.request.urlopen(url, timeout=2).status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (home / "space.log").read_text()[-3000:]
            assert time.perf_counter() - t0 < 180, "the Space did not start in 3 minutes"
            time.sleep(0.25)
        TIMINGS[f"{name} start (s)"] = round(time.perf_counter() - t0, 2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1500",
    ):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    if TIMINGS:
        print("\nSpace timings:", json.dumps(TIMINGS))


def _wait(driver, condition, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def _css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


class _LazyKeys:  # selenium's Keys, imported when a test types (this module imports selenium lazily)
    def __getattr__(self, name):
        from selenium.webdriver.common.keys import Keys as SeleniumKeys

        return getattr(SeleniumKeys, name)


Keys = _LazyKeys()


def _screenshot(driver, space: str, source: str | None = None) -> None:
    """With `LDMNIST_SCREENSHOTS=1`, the page as its card shows it: LD-MNIST's `screenshot.png`, a sibling's
    `screenshot-<source>.png`."""
    if SCREENSHOTS:
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(max(height, 800), 2000))
        driver.save_screenshot(
            str(SPACES / space / (f"screenshot-{source}.png" if source else "screenshot.png"))
        )


@pytest.fixture(scope="module")
def metric_page(spaces_hub, browser, tmp_path_factory):
    with _running(f"{NS}/ldmnist", spaces_hub, tmp_path_factory.mktemp("metric-space")) as url:
        t0 = time.perf_counter()
        browser.get(url)
        browser.metric_url = url
        _wait(browser, lambda d: _css(d, "#predictions input[type=file]"))
        TIMINGS["metric page ready (s)"] = round(time.perf_counter() - t0, 2)
        yield browser


def _upload_and_score(driver, path: Path) -> str:
    clear = _css(driver, "#predictions button[aria-label='Clear']")
    if clear:
        clear[0].click()
        _wait(driver, lambda d: not _css(d, "#predictions button[aria-label='Clear']"))
    before = _css(driver, "#result")[0].text
    _css(driver, "#predictions input[type=file]")[0].send_keys(str(path))
    _wait(driver, lambda d: _css(d, "#predictions button[aria-label='Clear']"))
    _css(driver, "#score")[0].click()

    def answered(d) -> str | None:  # this file's answer, not a pending state or the previous answer
        text = _css(d, "#result")[0].text.strip()
        done = text != before and path.name in text and ("Unrounded" in text or text.startswith("Error"))
        return text if done else None

    return _wait(driver, answered)


def _write(path: Path, predictions: np.ndarray) -> Path:
    if path.suffix == ".npy":
        np.save(path, predictions)
    elif path.suffix == ".csv":
        np.savetxt(
            path, predictions, delimiter=",", header=",".join(f"y{i}" for i in range(predictions.shape[1]))
        )
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = pa.array(predictions.astype(np.float32).reshape(-1))
        column = pa.FixedSizeListArray.from_arrays(flat, predictions.shape[1])
        pq.write_table(pa.table({"index": np.arange(len(predictions)), "prediction": column}), path)
    return path


def _published_sha(stub) -> str:
    return stub_api(stub.endpoint).dataset_info(f"{NS}/ldmnist").sha


def _expected_rank(stub, mse: float) -> tuple[range, int]:
    """Where the Space ranks an upload: among the rows the leaderboard ranks, and only those (an upload that
    ties a row comes after it); floors and the 2020 rows are listed without a rank."""
    rows = [r.mse for r in stub.board.rows if r.config == "default" and r.rank]
    return range(1 + sum(m < mse - 1e-9 for m in rows), 2 + sum(m <= mse + 1e-9 for m in rows)), len(rows) + 1


def test_metric_space_scores_an_upload_as_the_package_metric(
    metric_page, spaces_hub, benchmarked, built, tmp_path
):
    from ldmnist_hf.analysis.benchmark import linear_regression

    x_tr, y_tr = load_latents(built / "ldmnist", "train")
    x, y, labels = load_latents(built / "ldmnist", "test", columns=("x", "y", "label"))
    predictions = linear_regression(x_tr, y_tr)(x)
    expected = ldmnist_hf.load_metric().compute(predictions=predictions, references=y, labels=labels)
    ranking = _css(metric_page, "#ranking")
    assert not ranking or not ranking[0].is_displayed()  # no empty table before a score
    for suffix in (".npy", ".csv", ".parquet"):
        text = _upload_and_score(metric_page, _write(tmp_path / f"linear{suffix}", predictions))
        number = r"(\d+\.\d+(?:e-?\d+)?)"
        found = re.search(rf"Unrounded: MSE {number}, reconstructed accuracy {number}", text)
        assert found, text
        assert abs(float(found.group(1)) - expected["mse"]) <= 1e-7, (suffix, text)
        assert abs(float(found.group(2)) - expected["reconstructed_accuracy"]) <= 1e-7, (suffix, text)
        rank, total = _expected_rank(spaces_hub, expected["mse"])
        found = re.search(r"it would rank (\d+) of (\d+) among the leaderboard's ranked rows", text)
        assert found and int(found.group(1)) in rank and int(found.group(2)) == total, text
        assert _published_sha(spaces_hub)[:12] in text  # the revision it was scored on, named
    table = _css(metric_page, "#ranking")[0].text
    assert "noise floor" in table and "2020 publication" in table  # listed, without a rank


def test_metric_space_shows_the_leaderboard(metric_page, spaces_hub):
    """Open on landing, every column readable at 1280 px, names as links, what was checked; no instruction for
    the publisher."""
    _wait(metric_page, lambda d: "recomputed" in "".join(e.text for e in _css(d, "#leaderboard")))
    shown = _css(metric_page, "#leaderboard")[0].text
    for row in spaces_hub.board.rows:
        if row.config == "default" and row.mse is not None:
            assert row.model in shown and f"{row.mse:.4f}" in shown, row
    page = metric_page.find_element("tag name", "body").text
    assert "The test targets are public" in page and "recomputed:" in page
    assert "ldmnist leaderboard --push" not in page
    width = metric_page.execute_script("return window.innerWidth")
    headers = {h.text.strip(): h for h in _css(metric_page, "#leaderboard th") if h.text.strip()}
    for name in ("rank", "model", "MSE", "status", "note"):
        box = headers[name].rect
        assert box["width"] > 0 and box["x"] + box["width"] <= width, (name, box, width)
    links = [a.get_attribute("href") for a in _css(metric_page, "#leaderboard a")]
    assert any(f"{NS}/ldmnist-baseline-linear" in (h or "") for h in links), links
    _screenshot(metric_page, "metric")  # an upload scored, its rank, and the leaderboard


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda p: _write(p / "short.npy", np.zeros((5, 32), np.float32)), "needs (10000, 32)"),
        (
            lambda p: _write(p / "narrow.npy", np.zeros((10000, 16), np.float32)),
            "holds an array of shape (10000, 16)",
        ),
        (
            lambda p: _write(p / "nan.npy", np.full((10000, 32), np.nan, np.float32)),
            "holds NaN or infinite values",
        ),
        (
            lambda p: (p / "broken.npy").write_bytes(b"not numpy") and p / "broken.npy",
            "cannot be read as a .npy file",
        ),
        (
            lambda p: (p / "words.csv").write_text("a,b\nc,d\n") and p / "words.csv",
            "holds a value that is not a number",
        ),
    ],
    ids=["too few rows", "wrong latent size", "NaN", "not numpy", "text in a csv"],
)
def test_metric_space_explains_a_bad_file(metric_page, tmp_path, make, fragment):
    text = _upload_and_score(metric_page, make(tmp_path))
    assert text.startswith("Error:") and fragment in text, text


@pytest.fixture(scope="module")
def explorer_page(spaces_hub, browser, tmp_path_factory):
    with _running(f"{NS}/ldmnist-explorer", spaces_hub, tmp_path_factory.mktemp("explorer-space")) as url:
        t0 = time.perf_counter()
        browser.get(url)
        _wait(browser, lambda d: _css(d, "#decoded img") and _css(d, "#original img"))
        TIMINGS["explorer page ready (s)"] = round(time.perf_counter() - t0, 2)
        yield browser


def _image(driver, element_id: str, scale: int = 8) -> np.ndarray:
    """The pixels a gr.Image shows, at the decoder's resolution (the Space draws each pixel 8 x 8)."""
    from PIL import Image

    src = _css(driver, f"#{element_id} img")[0].get_attribute("src")
    img = np.asarray(Image.open(io.BytesIO(urllib.request.urlopen(src).read())).convert("L"))
    return img[scale // 2 :: scale, scale // 2 :: scale]


def _as_shown(pixels: np.ndarray) -> np.ndarray:
    return np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8)


def test_explorer_redecodes_when_a_slider_moves_as_the_package_decoder(explorer_page, built, mnist):
    driver = explorer_page
    image_vae = ldmnist_hf.load_pretrained("image-vae-32")
    (x,) = load_latents(built / "ldmnist", "test", columns=("x",))
    assert np.array_equal(_image(driver, "original"), mnist.test_images[0])
    reading = _css(driver, "#reading")[0].text
    assert "label 7" in reading and "target `y`" not in reading and "to class 7" in reading, reading
    assert "decodes, through the class VAE" in reading and "the sliders change" in reading, reading
    assert _css(driver, "#label input")[0].get_attribute("value") == "7"  # the shown digit's class
    for box in _css(driver, "[id^=component-] input[type=number]"):
        assert len(box.get_attribute("value").partition(".")[2]) <= 2, box.get_attribute("value")
    page = driver.find_element("tag name", "body").text
    assert "Each number is a component" in page.replace("*", ""), page[:400]
    first = _css(driver, "[id^=component-]")
    component = int(first[0].get_attribute("id").split("-")[1])
    with torch.no_grad():
        start = image_vae.decode(torch.from_numpy(x[:1].copy())).sample[0].numpy()
    assert np.abs(_image(driver, "decoded").astype(int) - _as_shown(start)).max() <= 1
    before = _css(driver, "#decoded img")[0].get_attribute("src")
    slider = _css(driver, f"#component-{component} input[type=range]")[0]
    t0 = time.perf_counter()
    driver.execute_script(
        "arguments[0].value = '2.5'; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", slider
    )
    _wait(driver, lambda d: _css(d, "#decoded img")[0].get_attribute("src") != before)
    TIMINGS["explorer slider move, browser round trip (s)"] = round(time.perf_counter() - t0, 3)
    moved = x[:1].copy()
    moved[0, component] = 2.5
    with torch.no_grad():
        expected = image_vae.decode(torch.from_numpy(moved)).sample[0].numpy()
    shown = _image(driver, "decoded")
    assert np.abs(shown.astype(int) - _as_shown(expected)).max() <= 1  # the package decoder's pixels
    assert np.abs(shown.astype(int) - _as_shown(start)).max() > 10  # and the image did change
    assert _css(driver, "#interpolation img")
    _screenshot(driver, "explorer")


def test_explorer_explains_an_index_that_is_not_a_test_digit(explorer_page):
    """Out of range: one line in the page, the shown digit stays, no error badge of Gradio's."""
    driver = explorer_page
    box = _css(driver, "#index input")[0]
    box.clear()
    box.send_keys("3\n")
    _wait(driver, lambda d: "Test digit 3," in _css(d, "#reading")[0].text)
    time.sleep(0.5)
    before = _css(driver, "#decoded img")[0].get_attribute("src")
    box.send_keys(Keys.BACKSPACE, "10000\n")
    _wait(driver, lambda d: "There is no test digit 10000" in _css(d, "#message")[0].text)
    assert "choose one from 0 to 9999" in _css(driver, "#message")[0].text
    assert _css(driver, "#decoded img")[0].get_attribute("src") == before
    time.sleep(1)  # a badge would come with the answer
    assert not [e for e in _css(driver, ".toast-body, .error") if e.is_displayed()]
    box.send_keys(*[Keys.BACKSPACE] * 5, "0\n")
    _wait(driver, lambda d: not _css(d, "#message")[0].text.strip())


def _rebuild_default_test_split(api: HfApi, export_dir) -> None:
    """The publisher pushes a rebuilt test split of the default config (its build record re-signed)."""

    def flip(y):
        y = y.copy()
        y[:2000] *= -1.0
        return y

    files = resigned_test_split(export_dir / "datasets" / "ldmnist", flip, ("y", "y_mean"))
    api.create_commit(
        f"{NS}/ldmnist",
        repo_type="dataset",
        operations=[CommitOperationAdd(path, data) for path, data in files.items()],
        commit_message="Rebuild the test split",
    )


def test_metric_space_ranks_no_upload_that_uses_the_targets(metric_page, built, tmp_path):
    """The public targets, and a blend of the posterior means with a little of them: scored, but not ranked."""
    metric_page.get(metric_page.metric_url)  # the browser is shared with the explorer's tests
    _wait(metric_page, lambda d: _css(d, "#predictions input[type=file]"))
    y, y_mean = load_latents(built / "ldmnist", "test", columns=("y", "y_mean"))
    for name, values in (("targets", y), ("blend", y_mean + 0.0046 * (np.asarray(y) - y_mean))):
        text = _upload_and_score(metric_page, _write(tmp_path / f"{name}.npy", np.asarray(values)))
        assert "these predictions use the public test targets" in text and "would not rank them" in text, text
        assert "would rank" not in text.replace("would not rank", "")


# The two tests below change the published dataset: they run last.


def test_metric_space_shows_a_pushed_leaderboard_without_a_restart(metric_page, spaces_hub, built, tmp_path):
    from ldmnist_hf.analysis.benchmark import linear_regression
    from ldmnist_hf.hub.submit import submit

    x_tr, y_tr = load_latents(built / "ldmnist", "train")
    (x,) = load_latents(built / "ldmnist", "test", columns=("x",))
    np.save(tmp_path / "p.npy", 0.97 * linear_regression(x_tr[:30000], y_tr[:30000])(x))
    user = stub_api(spaces_hub.endpoint, token=FAKE_TOKEN).whoami()["name"]
    submit(
        tmp_path / "p.npy",
        f"{user}/late-entry",
        f"{NS}/ldmnist",
        endpoint=spaces_hub.endpoint,
        token=FAKE_TOKEN,
    )
    spaces_hub.board = leaderboard(f"{NS}/ldmnist", endpoint=spaces_hub.endpoint, token=FAKE_TOKEN, push=True)
    metric_page.get(metric_page.metric_url)  # a new visitor (the browser is shared with the explorer's tests)
    _wait(metric_page, lambda d: f"{user}/late-entry" in "".join(e.text for e in _css(d, "#leaderboard")))
    assert spaces_hub.board.revision[:12] in _css(metric_page, "#leaderboard-text")[0].text


def test_metric_space_scores_a_rebuilt_dataset_as_submit_does(
    metric_page, spaces_hub, exported, built, tmp_path
):
    from ldmnist_hf.analysis.benchmark import linear_regression
    from ldmnist_hf.hub.submit import submit

    _rebuild_default_test_split(stub_api(spaces_hub.endpoint, token=FAKE_TOKEN), exported[0])
    x_tr, y_tr = load_latents(built / "ldmnist", "train")
    (x,) = load_latents(built / "ldmnist", "test", columns=("x",))
    path = _write(tmp_path / "after.npy", linear_regression(x_tr, y_tr)(x))
    expected = submit(
        path, f"{NS}/dry", f"{NS}/ldmnist", endpoint=spaces_hub.endpoint, token=FAKE_TOKEN, dry_run=True
    )
    metric_page.get(metric_page.metric_url)
    _wait(metric_page, lambda d: _css(d, "#predictions input[type=file]"))
    text = _upload_and_score(metric_page, path)
    found = re.search(r"Unrounded: MSE (\S+), reconstructed accuracy (\S+)\.", text)
    assert found and abs(float(found.group(1)) - expected["mse"]) <= 1e-7, (text, expected)
    assert abs(float(found.group(2)) - expected["reconstructed_accuracy"]) <= 1e-7
    assert expected["revision"][:12] in text


# ----------------------------------------------------------------------------- a sibling's Spaces


@pytest.fixture(scope="module")
def sibling_hub(tmp_path_factory, ld_fashion, fashion_mnist):
    """The stand-in after `ldmnist push --source fashion-mnist` of LD-Fashion-MNIST and `ldmnist leaderboard
    --push`, with `zalando-datasets/fashion_mnist`'s test images beside it."""
    from ldmnist_hf.data.sources import FASHION_MNIST
    from ldmnist_hf.hub.export import export

    _need_browser()
    tmp = tmp_path_factory.mktemp("sibling-spaces")
    export(NS, tmp / "export", dataset=ld_fashion, source="fashion-mnist")
    with HubStub(tmp / "hub") as stub:
        push(NS, export_dir=tmp / "export", endpoint=stub.endpoint, token=FAKE_TOKEN, source="fashion-mnist")
        stub.board = leaderboard(
            f"{NS}/ld-fashion-mnist", endpoint=stub.endpoint, token=FAKE_TOKEN, push=True
        )
        api = stub_api(stub.endpoint, token=FAKE_TOKEN)
        _mnist_stand_in(api, fashion_mnist, FASHION_MNIST.hub_repo, FASHION_MNIST.hub_test_file)
        stub.export = tmp / "export"
        yield stub
    stub.assert_no_unknown()


def test_a_siblings_explorer_shows_its_images_and_class_names(
    sibling_hub, browser, ld_fashion, fashion_mnist
):
    space, home = f"{NS}/ld-fashion-mnist-explorer", sibling_hub.export.parent / "explorer-space"
    with _running(space, sibling_hub, home, "explorer") as url:
        browser.get(url)
        _wait(browser, lambda d: _css(d, "#decoded img") and _css(d, "#original img"))
        assert browser.title == "LD-Fashion-MNIST explorer"
        assert np.array_equal(_image(browser, "original"), fashion_mnist.test_images[0])
        reading = _css(browser, "#reading")[0].text
        assert (
            reading.startswith("Test image 0, label 9 (Ankle boot).") and "to class 9 (Ankle boot)" in reading
        )
        assert _css(browser, "#label input")[0].get_attribute("value") == "Ankle boot"
        _screenshot(browser, "explorer", "fashion-mnist")
        image_vae = ldmnist_hf.load_pretrained("image-vae-32-fashion-mnist")
        (x,) = load_latents(ld_fashion, "test", columns=("x",))
        with torch.no_grad():
            decoded = image_vae.decode(torch.from_numpy(x[:1].copy())).sample[0].numpy()
        assert np.abs(_image(browser, "decoded").astype(int) - _as_shown(decoded)).max() <= 1
        box = _css(browser, "#index input")[0]
        box.send_keys(Keys.BACKSPACE, "10000\n")
        _wait(browser, lambda d: "There is no test image 10000" in _css(d, "#message")[0].text)


def test_a_siblings_metric_space_scores_with_its_own_class_decoder(
    sibling_hub, browser, ld_fashion, tmp_path
):
    from ldmnist_hf.analysis.benchmark import linear_regression

    space, home = f"{NS}/ld-fashion-mnist", sibling_hub.export.parent / "metric-space"
    with _running(space, sibling_hub, home, "metric") as url:
        browser.get(url)
        _wait(browser, lambda d: _css(d, "#predictions input[type=file]"))
        assert browser.title == "LD-Fashion-MNIST metric"
        page = browser.find_element("tag name", "body").text
        assert "LD-Fashion-MNIST metric" in page, page[:300]
        assert f"test split of {NS}/ld-fashion-mnist" in page, page[:300]
        x_tr, y_tr = load_latents(ld_fashion, "train")
        x, y, labels = load_latents(ld_fashion, "test", columns=("x", "y", "label"))
        predictions = linear_regression(x_tr, y_tr)(x)
        decoder = str(sibling_hub.export / "models" / "ld-fashion-mnist-class-vae-32")
        expected = ldmnist_hf.load_metric(decoder).compute(
            predictions=predictions, references=y, labels=labels
        )
        text = _upload_and_score(browser, _write(tmp_path / "linear.npy", predictions))
        found = re.search(r"Unrounded: MSE (\S+), reconstructed accuracy (\S+)\.", text)
        assert found and abs(float(found.group(1)) - expected["mse"]) <= 1e-7, (text, expected)
        assert abs(float(found.group(2)) - expected["reconstructed_accuracy"]) <= 1e-7
        _wait(browser, lambda d: "recomputed" in "".join(e.text for e in _css(d, "#leaderboard")))
        links = [a.get_attribute("href") for a in _css(browser, "#leaderboard a")]
        assert any(f"{NS}/ld-fashion-mnist-baseline-linear" in (h or "") for h in links), links
        assert "2020 publication" not in _css(browser, "#ranking")[0].text
        _screenshot(browser, "metric", "fashion-mnist")
