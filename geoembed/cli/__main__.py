"""``python -m geoembed.cli``: the ``geoembed`` command."""

import sys

from geoembed.cli import main

sys.exit(main())
