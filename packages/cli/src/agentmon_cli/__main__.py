"""`python -m agentmon_cli` runs the `agentmon` command."""

import sys

from agentmon_cli.main import main

sys.exit(main())
