"""The agentmon command: the only place that writes generated files, validates and (later) publishes them."""
