"""``./yw bench NAME [--runs N] [--smoke] [--scale S]`` and ``./yw bench --list``."""

import sys

from bench.runner import main

if __name__ == "__main__":
    sys.exit(main())
