"""``python -m framework`` is the ``guestdbg`` command."""

import sys

from framework.cli import main

sys.exit(main())
