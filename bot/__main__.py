"""``python -m bot`` does what the ``finews-bot`` command does."""

import sys

from bot.cli import main

sys.exit(main())
