"""alertmanager.yml: receivers, routes, inhibitions, and the analysis of which alerts each route can match."""
