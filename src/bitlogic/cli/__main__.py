"""``python -m bitlogic.cli`` (and ``torchrun -m bitlogic.cli``) runs the command line."""

import sys

from bitlogic.cli import main

sys.exit(main())
