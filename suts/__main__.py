"""``python -m suts``: the ``wattbench bench`` command."""

import sys

from suts.bench import main

sys.exit(main())
