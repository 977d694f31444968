"""prometheus.yml: scrape jobs per scope and exporter, remote storage, and sharded configs for large fleets."""
