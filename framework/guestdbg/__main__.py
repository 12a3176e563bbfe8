"""``python -m guestdbg`` is the ``guestdbg`` command."""

import sys

from guestdbg.cli.main import main

sys.exit(main())
