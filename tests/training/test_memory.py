"""Memory settings for CPU training (training/memory.py)."""

import subprocess
import sys

import pytest

_STEP_LIKE = """if True:
    import resource, sys, torch
    from ldmnist_hf.training.memory import retain_freed_memory
    if sys.argv[1] == "retain" and not retain_freed_memory():
        print(-1)  # not glibc
        sys.exit()
    def faults():  # like a training step: several (10000, 784) tensors alive at once, then all freed
        start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(3):
            alive = [torch.ones(10000, 784) for _ in range(4)]
            del alive
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start
    faults(), faults()
    print(faults())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a glibc malloc setting")
def test_retain_freed_memory_reuses_step_sized_tensors():
    """Step-sized tensors (31 MB) reuse freed memory instead of faulting in fresh pages each step."""

    def faults(mode: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", _STEP_LIKE, mode], capture_output=True, text=True, check=True
        )
        return int(run.stdout)

    # 125 MB of tensors per round: ~30000 page faults per round whenever the memory goes back to the system.
    # glibc's default does that in some runs and not in others (it depends on what sits at the heap's top),
    # so only the retained case is asserted; `faults("default")` shows the difference where it occurs.
    retained = faults("retain")
    if retained == -1:
        pytest.skip("not glibc: retain_freed_memory() does nothing here")
    assert retained < 1000
