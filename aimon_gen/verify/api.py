"""Small clients for the Prometheus and Alertmanager HTTP APIs (loopback, JSON)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from .stack import http_get


class Prometheus:
    def __init__(self, url: str):
        self.url = url

    def _get(self, path: str, **params) -> Any:  # the API's JSON `data`: a dict or a list
        query = urllib.parse.urlencode(params, doseq=True)
        doc = json.loads(http_get(f"{self.url}{path}" + (f"?{query}" if query else ""), timeout=30))
        if doc.get("status") != "success":
            raise RuntimeError(doc.get("error", "query failed"))
        return doc["data"]

    def query(self, expr: str) -> list[dict]:
        return self._get("/api/v1/query", query=expr)["result"]

    def try_query(self, expr: str) -> tuple[list | None, str]:
        """(result, '') or (None, error message) - a bad query is a finding, not a crash."""
        try:
            data = self._get("/api/v1/query", query=expr)
        except Exception as exc:  # noqa: BLE001
            body = getattr(exc, "read", None)
            msg = str(exc)
            if body:
                try:
                    msg = json.loads(body()).get("error", msg)
                except ValueError:
                    pass
            return None, msg
        result = data["result"]
        return (result if isinstance(result, list) else [result]), ""

    def targets(self) -> list[dict]:
        return self._get("/api/v1/targets", state="active")["activeTargets"]

    def rules(self) -> list[dict]:
        return [r for g in self._get("/api/v1/rules")["groups"] for r in g["rules"]]

    def alerts(self) -> list[dict]:
        return self._get("/api/v1/alerts")["alerts"]

    def label_values(self, label: str, match: str | None = None) -> list[str]:
        params = {"match[]": [match]} if match else {}
        return self._get(f"/api/v1/label/{urllib.parse.quote(label)}/values", **params)


class Alertmanager:
    def __init__(self, url: str):
        self.url = url

    def alerts(self) -> list[dict]:
        q = "active=true&silenced=true&inhibited=true&unprocessed=true"
        return json.loads(http_get(f"{self.url}/api/v2/alerts?{q}", timeout=30))
