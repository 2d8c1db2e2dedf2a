"""``python -m metaspace`` is the ``metaspace`` command."""

import sys

from metaspace.cli import main

sys.exit(main())
