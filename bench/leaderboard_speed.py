"""Time of `ldmnist leaderboard` over N submissions, on the test suite's Hub stand-in (loopback HTTP).

The built dataset (`make dataset` writes ./ldmnist) is exported and pushed to the stand-in; N accounts then
submit predictions with `ldmnist_hf.submit` (each to its own repository), and the leaderboard is built twice:
cold (an empty Hub cache: every card, `.eval_results` file and predictions file downloaded) and warm.
Prints both beside this machine's float32 matmul rate [target: 100 submissions within 30 s].

    python bench/leaderboard_speed.py [--submissions 100] [--dataset ldmnist] [--workers 8] [--smoke]

`--smoke` has 2 accounts submit, with the matmul rate at 256^2: seconds, for the test suite.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from timing import matmul_gflops, verdict

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--submissions", type=int, default=100)
    p.add_argument("--dataset", default="ldmnist")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--smoke", action="store_true", help="2 submissions, a small matmul: that it runs")
    args = p.parse_args()
    if args.smoke:
        args.submissions = 2
    matmul_n = 256 if args.smoke else 4096  # the matmul that measures this machine's rate
    if not Path(args.dataset, "ldmnist_build.json").is_file():
        sys.exit(f"{args.dataset} is not a built dataset: run `make dataset` first (or pass --dataset DIR).")
    tmp = Path(tempfile.mkdtemp(prefix="ldmnist-bench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # the export, the stand-in's repos, the cache
    os.environ["HF_HUB_CACHE"] = str(tmp / "cache")  # before huggingface_hub is imported: a cold cache
    os.environ.pop("HF_TOKEN", None)
    sys.path.insert(0, str(ROOT / "tests"))

    import numpy as np
    from hub_stub import FAKE_TOKEN, HubStub
    from transformers.utils import logging as hf_logging

    from ldmnist_hf import load_latents, submit
    from ldmnist_hf.hub.export import export
    from ldmnist_hf.hub.leaderboard import build_leaderboard
    from ldmnist_hf.hub.push import push

    hf_logging.disable_progress_bar()  # export saves the models: their per-file bars would drown the figures
    gflops = matmul_gflops(matmul_n)

    ns, dataset = "bench", "bench/ldmnist"
    names = [f"user{i:03d}" for i in range(args.submissions)]
    tokens = {f"hf_{n}_token": n for n in names}
    with HubStub(tmp / "hub", users=tokens) as stub:
        t0 = time.perf_counter()
        export(ns, tmp / "export", dataset=args.dataset)
        push(ns, export_dir=tmp / "export", endpoint=stub.endpoint, token=FAKE_TOKEN)
        setup = time.perf_counter() - t0
        y = np.array(load_latents(args.dataset, "test", columns=("y",))[0])
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        for token, name in tokens.items():
            path = tmp / f"{name}.npy"
            np.save(path, (y + rng.normal(scale=rng.uniform(0.3, 1.5), size=y.shape)).astype(np.float32))
            submit(path, f"{name}/model", dataset, token=token, endpoint=stub.endpoint)
        submitting = time.perf_counter() - t0
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            result = build_leaderboard(dataset, endpoint=stub.endpoint, workers=args.workers)
            times.append(time.perf_counter() - t0)
    statuses = Counter(r.status.value for r in result.rows)
    print(f"ldmnist leaderboard on the Hub stand-in; {time.strftime('%Y-%m-%d')}; {os.cpu_count()} CPUs")
    print(f"float32 matmul ({matmul_n}^2): {gflops:.0f} GFLOP/s")
    print(
        f"export + push of {args.dataset}: {setup:.1f} s; {args.submissions} submissions: {submitting:.1f} s"
    )
    print(f"rows: {len(result.rows)} ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})")
    print(
        f"leaderboard, cold cache: {times[0]:.1f} s ({times[0] / args.submissions * 1e3:.0f} ms per submission)"
        f"{verdict(times[0], 30 * args.submissions / 100)}"
    )
    print(f"leaderboard, warm cache: {times[1]:.1f} s")


if __name__ == "__main__":
    main()
