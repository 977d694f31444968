"""SLOs: SLIs per server kind -> recording rules per window -> burn-rate alerts, and their promtool tests."""
