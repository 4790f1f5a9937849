"""`python -m paperlake.cli ...`, as the `paperlake` command."""

import sys

from paperlake.cli import main

sys.exit(main())
