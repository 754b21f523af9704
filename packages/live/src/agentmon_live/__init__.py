"""The live side: a real Prometheus on loopback, Grafana's query semantics (interval maths, variable
interpolation), the panel runner that queries a dashboard as Grafana would, and the terminal demo."""
