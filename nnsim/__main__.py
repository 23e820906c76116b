"""`python -m nnsim` is the `nnsim` command."""

import sys

from .cli.main import main

sys.exit(main())
