"""``python -m power_client``: the ``wattbench`` command."""

import sys

from power_client.commands import main

sys.exit(main())
