"""A local webhook receiver: records every notification Alertmanager delivers.

Every rewritten receiver posts to /<receiver name>; each delivery is kept with the
receiver, its arrival time and Alertmanager's payload (groupKey, groupLabels, alerts).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


@dataclass(frozen=True)
class Delivery:
    receiver: str
    at: float
    payload: dict

    @property
    def status(self) -> str:
        return self.payload.get("status", "")

    @property
    def group_key(self) -> str:
        return self.payload.get("groupKey", "")

    def alerts(self, status: str = "firing") -> list[dict]:
        return [a for a in self.payload.get("alerts") or [] if a.get("status") == status]


class Sink:
    def __init__(self):
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    payload = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    payload = {"invalid": True}
                receiver = unquote(self.path.lstrip("/"))
                with sink._lock:
                    sink.deliveries.append(Delivery(receiver, time.time(), payload))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                         name="verify-sink").start()

    def since(self, t: float) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.at >= t]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
