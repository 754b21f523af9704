"""The `agentmon` command and its benchmark: parses arguments, calls the stages, prints. Nothing imports it."""
