"""Object names shared by the manifests and the kustomizations that generate what they mount."""

DASHBOARDS_CONFIGMAP = "grafana-dashboards"
DATASOURCES_CONFIGMAP = "grafana-datasources"
PROVIDERS_CONFIGMAP = "grafana-dashboard-providers"
