"""Grafana: dashboard definitions (dashboards/*.yaml) -> panels -> grafana-foundation-sdk JSON; provisioning files."""
