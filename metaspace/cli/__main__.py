"""``python -m metaspace.cli`` is the ``metaspace`` command."""

import sys

from metaspace.cli.main import main

sys.exit(main())
