"""Simulated exporters: one loopback HTTP server per scrape target of the spec.

Each simulator serves the metric names, types and labels of the real exporter, taken
from the shared catalog (`aimon_gen/catalog/<kind>.yaml`), with plausible healthy values
(`values.py`). Counters and histograms advance with wall time at each scrape. Custom
models and pipelines are driven through `aimon_gen.instrument`, the helper teams use.
Node targets proxy the one real node_exporter. Faults change what a target serves.
"""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..instrument import ModelMetrics, PipelineMetrics
from . import values
from .stack import http_get

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Target:
    """One scrape target: its original address and labels, and what it serves now."""

    def __init__(self, job: str, kind: str, address: str, host: str, labels: dict, entry=None):
        self.job, self.kind, self.address, self.host = job, kind, address, host
        self.labels = dict(labels)
        self.entry = entry            # the spec's node group / model / pipeline / storage entry
        self.down = False
        self.faults: set[str] = set()
        self.port = 0
        self._lock = threading.Lock()

    def body(self) -> bytes:
        raise NotImplementedError

    def serve(self) -> bytes | None:
        """The /metrics body, or None when the target is down."""
        if self.down:
            return None
        with self._lock:
            return self.body()


class CatalogTarget(Target):
    """Series straight from the catalog, valued by values.py, advanced with time."""

    def __init__(self, *args, identity: list[dict] | None = None, **kw):
        super().__init__(*args, **kw)
        self.catalog = values.catalog(self.kind)
        self.identity = identity or [{}]   # one label set per device (dcgm: per GPU)
        self.missing: set[int] = set()    # devices that stopped reporting
        self.counters: dict = {}
        self.hists: dict = {}
        self.last = time.time()

    def body(self) -> bytes:
        return exposition(self.families())

    def families(self):
        from prometheus_client.metrics_core import Metric
        now = time.time()
        dt, self.last = max(0.0, now - self.last), now
        for info in self.catalog:
            names = values.label_names(self.kind, info)
            fam = Metric(info.name, info.help, info.type)
            for i, ident in enumerate(self.identity):
                if i in self.missing:
                    continue
                for lv in values.label_sets(self.kind, info, names, ident, self):
                    key = (info.name, tuple(lv[n] for n in names))
                    if info.type == "histogram":
                        self._hist(fam, key, info, lv, i, dt)
                    elif info.type == "counter":
                        rate = values.rate(self, info.name, lv, i)
                        self.counters[key] = self.counters.get(key, 0.0) + rate * dt
                        fam.add_sample(info.name, lv, self.counters[key])
                    else:
                        fam.add_sample(info.name, lv, values.gauge(self, info.name, lv, i, now))
            yield fam

    def _hist(self, fam, key, info, lv, device, dt) -> None:
        per_s, seconds = values.observations(self, info.name, lv, device)
        bounds = list(info.buckets) + [float("inf")]
        counts, total = self.hists.get(key, ([0.0] * len(bounds), 0.0))
        n = per_s * dt
        counts = [c + (n if seconds <= b else 0.0) for c, b in zip(counts, bounds, strict=True)]
        total += n * seconds
        self.hists[key] = (counts, total)
        for b, c in zip(bounds, counts, strict=True):
            fam.add_sample(info.name + "_bucket", {**lv, "le": _le(b)}, c)
        fam.add_sample(info.name + "_sum", lv, total)
        fam.add_sample(info.name + "_count", lv, counts[-1])


def exposition(families) -> bytes:
    """Prometheus text format with the names exactly as given (prometheus_client's own
    writer appends `_total` to every counter, which Triton's and TGI's names lack)."""
    from prometheus_client.utils import floatToGoString
    lines = []
    for fam in families:
        # prometheus_client names a counter family without `_total`, as vLLM's exposition does.
        base = fam.name[:-6] if fam.type == "counter" and fam.name.endswith("_total") else fam.name
        lines.append(f"# HELP {base} {_escape(fam.documentation)}")
        lines.append(f"# TYPE {base} {fam.type}")
        for s in fam.samples:
            labels = ",".join(f'{k}="{_escape(v, quote=True)}"' for k, v in s.labels.items())
            lines.append(f"{s.name}{{{labels}}} {floatToGoString(s.value)}" if labels
                         else f"{s.name} {floatToGoString(s.value)}")
    return ("\n".join(lines) + "\n").encode()


def _escape(text: str, quote: bool = False) -> str:
    text = str(text).replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if quote else text


def _le(bound: float) -> str:
    from prometheus_client.utils import floatToGoString
    return floatToGoString(bound)


class InstrumentedModel(Target):
    """A custom model server built on aimon_gen.instrument, with traffic at each scrape."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.metrics = ModelMetrics()
        self.metrics.set_accuracy(values.ACCURACY)
        self.last, self.carry, self.count = time.time(), 0.0, 0

    def body(self) -> bytes:
        from prometheus_client import generate_latest
        now = time.time()
        self.carry += values.REQUESTS_PER_S * (now - self.last)
        self.last = now
        errors_every = 2 if "error_ratio_up" in self.faults else 0
        latency = (values.CUSTOM_SLOW if "latency_up" in self.faults
                   else values.healthy_latency(self, "ml_inference_latency_seconds", values.CUSTOM_LATENCY))
        while self.carry >= 1:
            self.carry -= 1
            self.count += 1
            failed = errors_every and self.count % errors_every == 0
            self.metrics.observe(latency, error=bool(failed))
        return generate_latest(self.metrics.registry)


class InstrumentedPipeline(Target):
    """A pipeline exporter built on aimon_gen.instrument: a successful run every few seconds."""

    STAGES = ("extract", "transform", "load")

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.metrics = PipelineMetrics(stages=self.STAGES)
        self.next_run = 0.0
        self.tick()

    def tick(self) -> None:
        now = time.time()
        if "pipeline_stale" in self.faults:
            # The last success is long past the freshness budget: runs stopped succeeding.
            self.metrics.last_success.set(now - 3 * values.freshness_seconds(self.entry))
            return
        while self.next_run <= now:
            self.metrics.run_started()
            for stage in self.STAGES:
                self.metrics.stage_done(stage, 2.0)
            self.metrics.run_succeeded(values.RECORDS_PER_RUN, 6.0, at=now)
            self.next_run = (self.next_run or now) + values.PIPELINE_PERIOD_S

    def body(self) -> bytes:
        from prometheus_client import generate_latest
        self.tick()
        return generate_latest(self.metrics.registry)


class NodeProxy(Target):
    """A host's node_exporter: the real one on this machine, seen through a per-host port."""

    def __init__(self, *args, upstream: str, **kw):
        super().__init__(*args, **kw)
        self.upstream = upstream

    def body(self) -> bytes:
        return http_get(self.upstream + "/metrics", timeout=10)


class UpstreamProxy(NodeProxy):
    """Any real process (Prometheus scraping itself)."""


def gpu_identity(host: str, group) -> list[dict]:
    out = []
    for i in range(group.gpu.count):
        digest = hashlib.sha1(f"{host}/{i}".encode()).hexdigest()
        out.append({"gpu": str(i), "UUID": f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:28]}",
                    "pci_bus_id": f"00000000:{0x18 + i:02X}:00.0", "device": f"nvidia{i}",
                    "modelName": f"NVIDIA {group.gpu.model}", "Hostname": host.split(".")[0]})
    return out


class _Server(ThreadingHTTPServer):
    target: Target


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self):  # noqa: N802 - http.server API
        body = self.server.target.serve()
        if body is None:
            self.send_response(503)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Servers:
    """The loopback HTTP servers of every simulated target; close() stops them all."""

    def __init__(self):
        self.servers: list[ThreadingHTTPServer] = []

    def serve(self, target: Target, address: tuple[str, int] = ("127.0.0.1", 0)) -> int:
        """Serve `target` at `address` (any free port by default); returns the port."""
        server = _Server(address, _Handler)
        server.daemon_threads = True
        server.target = target
        target.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                         name=f"sim-{target.job}-{target.address}").start()
        self.servers.append(server)
        return target.port

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.servers.clear()
