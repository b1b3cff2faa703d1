"""`python -m ldmnist_hf.cli`: the `ldmnist` command."""

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main())
