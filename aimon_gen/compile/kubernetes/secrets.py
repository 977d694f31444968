"""Scrape credentials and TLS for prometheus-operator manifests.

The operator cannot read a file on the Prometheus host: each `*_file` of the spec becomes a
key of one Secret (named by the spec's `kubernetes_secret`, default `<manifest>-auth`), the
key being the file's base name, as `kubectl create secret generic NAME --from-file=PATH`
names it. Only names and keys are written, never a value.
"""

from __future__ import annotations

import posixpath
import string

_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "-._")


def secret_key(path: str) -> str:
    """The Secret key holding the file at `path`: its base name, in the characters keys allow."""
    return "".join(c if c in _KEY_CHARS else "-" for c in posixpath.basename(path)) or "secret"


def operator_auth(client, manifest: str) -> dict:
    """authorization / basicAuth / tlsConfig of a ScrapeConfig, PodMonitor or ServiceMonitor endpoint."""
    if client is None:
        return {}
    secret = client.kubernetes_secret or f"{manifest}-auth"

    def ref(key: str) -> dict:
        return {"name": secret, "key": key}

    out: dict = {}
    if client.authorization is not None:
        a = client.authorization
        out["authorization"] = {"type": a.type, "credentials": ref(secret_key(a.credentials_file))}
    if client.basic_auth is not None:
        # the operator reads the user name from the Secret too
        out["basicAuth"] = {"username": ref("username"), "password": ref(secret_key(client.basic_auth.password_file))}
    if client.tls_config is not None:
        t = client.tls_config
        tls: dict = {}
        if t.ca_file:
            tls["ca"] = {"secret": ref(secret_key(t.ca_file))}
        if t.cert_file:
            tls["cert"] = {"secret": ref(secret_key(t.cert_file))}
        if t.key_file:
            tls["keySecret"] = ref(secret_key(t.key_file))
        if t.server_name:
            tls["serverName"] = t.server_name
        if t.insecure_skip_verify:
            tls["insecureSkipVerify"] = True
        out["tlsConfig"] = tls
    return out
