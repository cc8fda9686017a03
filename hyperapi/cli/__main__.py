"""`python -m hyperapi.cli INI COMMAND`, the same as the console script `hyperapi`."""

import sys

from . import main

sys.exit(main())
