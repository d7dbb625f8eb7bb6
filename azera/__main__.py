"""``python -m azera``."""

import sys

from azera.cli import main

sys.exit(main())
