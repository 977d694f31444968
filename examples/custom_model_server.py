"""A custom model server exposing the metrics aimon-gen's rules and dashboards expect.

No web framework: the standard library serves predictions on PORT and prometheus_client
serves /metrics on METRICS_PORT, both through aimon_gen.instrument. Point a spec's model
at it with `server: custom` and `targets: [host:METRICS_PORT]`.

    python examples/custom_model_server.py --port 8081 --metrics-port 8080
    curl -d '{"x": [1, 2, 3]}' localhost:8081/predict
    curl localhost:8080/metrics
"""

from __future__ import annotations

import argparse
import json
import random
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aimon_gen.instrument import ModelMetrics, serve

metrics = ModelMetrics()


class BadInput(Exception):
    pass


def predict(features: list[float]) -> float:
    """Stand-in for a real model."""
    if not features:
        raise BadInput("no features")
    time.sleep(random.uniform(0.005, 0.05))
    return sum(features) / len(features)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            with metrics.time_request():      # a failure, bad input included, is status="error"
                score = predict(json.loads(body or b"{}").get("x") or [])
        except (BadInput, ValueError) as exc:
            return self._reply(400, {"error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - counted as status="error" above
            return self._reply(500, {"error": str(exc)})
        self._reply(200, {"score": score})

    def _reply(self, code: int, doc: dict) -> None:
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--metrics-port", type=int, default=8080)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args()
    metrics.set_accuracy(0.93)   # e.g. from an online evaluation job
    serve(args.metrics_port, metrics.registry, addr=args.bind)
    ThreadingHTTPServer((args.bind, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
