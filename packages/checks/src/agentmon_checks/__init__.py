"""Every validate check on a rendered bundle: dashboards and their queries, drift against the work tree,
Kubernetes overlays (rendered with the real kustomize), the compose stack. Checks report Findings; they never write."""
