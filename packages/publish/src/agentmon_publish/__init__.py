"""Publish a rendered overlay to a GitOps repository, with a semantic dry run (what dashboards, panels,
queries and resources would change)."""
