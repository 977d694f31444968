"""`aimon-gen audit SPEC --prometheus URL`: does a running Prometheus have what the spec's
generated rules and dashboards read? Over its HTTP API only (client.py): targets per job,
series the selectors need, the labels they group by, the loaded rule groups, series per job
against `aimon-gen plan` (checks.py), from what the compiled spec expects (expect.py);
problems printed as a table or JSON (report.py); run.py ties them together.
"""
