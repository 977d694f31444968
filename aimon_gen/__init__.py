"""aimon-gen: monitoring-as-code for AI infrastructure."""

__version__ = "0.1.0"
