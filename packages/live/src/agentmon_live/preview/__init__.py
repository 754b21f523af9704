"""Dashboard previews: draw a dashboard from its JSON and a Prometheus's numbers to a PNG, with matplotlib.

`draw` lays the panels out from their gridPos and draws each one (`panels`) the way its type, field config
and options say; `data` runs the panels' queries through the panel runner (Grafana's query semantics) against a
Prometheus: one at a URL, or the simulator with a local Prometheus, live or backfilled; `command` is
`agentmon preview`: which dashboards, which data, which files, and `--against REV`.
"""
