"""`python -m qa …` runs the CLI (the same as the `qa` command)."""

import sys

from qa.cli import main

sys.exit(main())
