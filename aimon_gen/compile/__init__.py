"""Compile: pure steps from the Spec to the typed build result (a Bundle, compile/result.py).

`pipeline.py` runs the steps in order; each sub-package holds the step for one output
(scrape, rules, slo, alerting, dashboards, kubernetes). The package itself imports nothing,
so a caller that needs one step (e.g. `aimon-gen plan`, the scrape step) loads only that.
"""
