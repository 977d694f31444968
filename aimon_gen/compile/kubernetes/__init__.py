"""--format kubernetes: the compiled documents as Prometheus Operator manifests."""
