"""`python -m cctv_server.cli`: the command line, as serve's background compactor starts it."""

import sys

from . import main

sys.exit(main())
