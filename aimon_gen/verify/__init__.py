"""`aimon-gen verify`: run the generated stack for real on loopback and break it on purpose.

stack.py (processes, temp folder) -> rewrite.py (configs for a run in seconds) ->
simulators.py / values.py / fleet.py (exporters and faults) -> sink.py (deliveries) ->
scenarios.py (faults, expected alerts, waves) -> waves.py / dashboards.py (checks) ->
report.py (table). run.py puts them together.
"""
