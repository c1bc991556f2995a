"""`python -m bot.cli …`: the same as `eocic-desk …`."""

import sys

from bot.cli import main

sys.exit(main())
