"""A small client for a Prometheus HTTP API somewhere on the network: bearer token, timeout,
queries sent as POST forms (a batched selector can be longer than a URL may be)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


class Unreachable(Exception):
    """Prometheus did not answer, or not as its API does; the message says what to change."""


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise Unreachable(f"--bearer-token-file {path}: {exc.strerror or exc}; give a readable file "
                          "holding the token") from None
    if not token:
        raise Unreachable(f"--bearer-token-file {path}: the file is empty; put the token in it")
    return token


class PrometheusAPI:
    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, path: str, form: dict | None = None) -> Any:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.url + path, data=data)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the user's URL
                body = resp.read()
        except urllib.error.HTTPError as exc:
            raise Unreachable(f"{self.url}{path}: HTTP {exc.code} {exc.reason}{_api_error(exc)}"
                              + ("; check --bearer-token-file" if exc.code in (401, 403) else "")) from None
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unreachable(f"cannot reach Prometheus at {self.url}: {reason}; check --prometheus "
                              "(e.g. http://prometheus:9090) and that it listens there") from None
        try:
            doc = json.loads(body)
        except ValueError:
            raise Unreachable(f"{self.url}{path} did not answer JSON: is {self.url} a Prometheus "
                              "(not Grafana or a login page)?") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            raise Unreachable(f"{self.url}{path}: {doc.get('error') if isinstance(doc, dict) else doc}")
        return doc["data"]

    def targets(self) -> list[dict]:
        return self._call("/api/v1/targets?state=active")["activeTargets"]

    def rule_groups(self) -> list[dict]:
        return self._call("/api/v1/rules")["groups"]

    def query(self, expr: str) -> list[dict]:
        """An instant query's vector: [{"metric": {...}, "value": [t, "v"]}]."""
        return self._call("/api/v1/query", {"query": expr})["result"]


def _api_error(exc: urllib.error.HTTPError) -> str:
    try:
        return ": " + json.loads(exc.read())["error"]
    except (ValueError, KeyError, TypeError, OSError):
        return ""
