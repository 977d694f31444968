"""A loopback exporter serving one exporter's catalog metrics (test support).

Each catalog metric is served for every combination of its labels' values, as many values per
label as `catalog/cardinality.yaml` states for that exporter (the assumption `aimon-gen plan`
makes), histograms with their catalog buckets. So a real Prometheus scraping it measures
the series count the plan's arithmetic predicts for the catalog part of a target.
"""

from __future__ import annotations

import itertools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aimon_gen.catalog import exporter_metrics
from aimon_gen.plan import assumptions_file
from aimon_gen.verify.values import KIND_LABEL_VALUES, LABEL_VALUES

# Labels whose values queries match on (status="error", finished_reason="abort"): served by name.
_NAMED = ("status", "finished_reason")


def _values(kind: str, label: str, gpus: int) -> list[str]:
    stated = assumptions_file()["label_values"].get(kind, {}).get(label, 1)
    count = gpus if stated == "gpus" else int(assumptions_file()["assumptions"].get(stated, stated))
    # Values queries match on are served by name: the exporter's own (vLLM's HTTP status
    # classes, its /v1 handlers), else the shared ones.
    names = KIND_LABEL_VALUES.get((kind, label)) or (LABEL_VALUES[label] if label in _NAMED else ())
    return [names[i] if i < len(names) else str(i) for i in range(count)]


def _braces(labels: str) -> str:
    return f"{{{labels}}}" if labels else ""


def exposition(kind: str, gpus: int = 0, started: float = 0.0) -> bytes:
    elapsed = time.time() - started
    lines = []
    for info in exporter_metrics(kind).values():
        if not info.emitted or info.synthetic:
            continue
        labels = [name for name in info.labels if name != "le"]
        if kind == "dcgm_exporter" and "gpu" not in labels:
            labels = ["gpu", *labels]
        choices = [_values(kind, name, gpus) for name in labels]
        lines.append(f"# TYPE {info.name} {info.type}")
        for combo in itertools.product(*choices):
            base = ",".join(f'{n}="{v}"' for n, v in zip(labels, combo))
            if info.type == "histogram":
                for bound in [*info.buckets, "+Inf"]:
                    le = bound if isinstance(bound, str) else repr(float(bound))
                    lines.append(f'{info.name}_bucket{{{base}{"," if base else ""}le="{le}"}} {elapsed:.3f}')
                lines.append(f"{info.name}_sum{_braces(base)} {elapsed:.3f}")
                lines.append(f"{info.name}_count{_braces(base)} {elapsed:.3f}")
            elif info.type == "summary":
                quantiles = int(assumptions_file()["assumptions"]["quantiles"])
                for q in range(quantiles):
                    sep = "," if base else ""
                    lines.append(f'{info.name}{{{base}{sep}quantile="0.{q + 1}"}} 1')
                lines.append(f"{info.name}_sum{_braces(base)} {elapsed:.3f}")
                lines.append(f"{info.name}_count{_braces(base)} {elapsed:.3f}")
            else:
                value = elapsed if info.type == "counter" else 1
                lines.append(f"{info.name}{_braces(base)} {value}")
    return ("\n".join(lines) + "\n").encode()


class CatalogExporter:
    """Serves exposition(kind) on 127.0.0.1:<free port> until close()."""

    def __init__(self, kind: str, gpus: int = 0):
        self.kind, self.gpus, self.started = kind, gpus, time.time()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                body = exposition(owner.kind, owner.gpus, owner.started)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
