"""Exporter authentication and TLS in the spec: errors at their line, prometheus.yml and
operator manifests as generated, and no secret value in any generated file."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from aimon_gen.build import generate
from aimon_gen.cli import app
from aimon_gen.errors import SpecInvalid
from aimon_gen.spec.load import load_spec
from aimon_gen.verify import rewrite

from conftest import tool

BASE = """\
version: 1
name: auth
exporters:
  s3: {authorization: {credentials_file: /etc/prometheus/secrets/minio-token}}
node_groups:
  - {name: gpu, hosts: [gpu-1.internal], gpu: {model: H100-80GB, count: 8}}
storage:
  - {name: lake, kind: s3, targets: [minio-1.internal]}
"""


def problems(write_spec, text: str) -> list[str]:
    with pytest.raises(SpecInvalid) as exc:
        load_spec(write_spec(text))
    return [str(p).split(":", 1)[1] for p in exc.value.problems]


@pytest.mark.parametrize("line,expected", [
    ("  s3: {authorization: {credentials: s3cr3t-value}}",
     "4:37: exporters.s3.authorization.credentials: 'credentials' would write a secret into prometheus.yml in "
     "clear; put it in a file and give the file's path as 'credentials_file'"),
    ("  s3: {basic_auth: {username: prom, password: s3cr3t-value}}",
     "4:47: exporters.s3.basic_auth.password: 'password' would write a secret"),
    ("  s3: {bearer_token: s3cr3t-value}",
     "4:22: exporters.s3.bearer_token: 'bearer_token' would write a secret into prometheus.yml in clear; put it "
     "in a file and give the file's path as 'authorization.credentials_file'"),
    ("  s3: {scheme: https, tls_config: {cert_file: /c.pem, key: s3cr3t-value}}",
     "4:60: exporters.s3.tls_config.key: 'key' would write a secret"),
])
def test_inline_secret_is_refused_at_its_line_without_echoing_it(write_spec, line, expected):
    text = BASE.replace("  s3: {authorization: {credentials_file: /etc/prometheus/secrets/minio-token}}", line)
    got = problems(write_spec, text)
    assert any(p.startswith(expected) for p in got), got
    assert not any("s3cr3t" in p for p in got), got


def test_inline_secret_on_an_entry_is_refused_too(write_spec):
    text = BASE.replace("targets: [minio-1.internal]}",
                        "targets: [minio-1.internal], scrape: {authorization: {credentials: s3cr3t-value}}}")
    got = problems(write_spec, text)
    assert got == ["8:95: storage[0].scrape.authorization.credentials: 'credentials' would write a secret into "
                   "prometheus.yml in clear; put it in a file and give the file's path as 'credentials_file'"], got


def test_typo_gets_a_suggestion(write_spec):
    got = problems(write_spec, BASE.replace("credentials_file:", "credential_file:"))
    assert "4:24: exporters.s3.authorization.credential_file: unknown field 'credential_file' " \
           "(did you mean 'credentials_file'?)" in got, got


@pytest.mark.parametrize("line,expected", [
    ("  s3: {authorization: {credentials_file: /t}, basic_auth: {username: u, password_file: /p}}",
     "4:59: exporters.s3.basic_auth: both authorization and basic_auth are given"),
    ("  s3: {authorization: {type: basic, credentials_file: /t}}",
     "4:30: exporters.s3.authorization.type: Prometheus refuses authorization type Basic (use basic_auth"),
    ("  s3: {tls_config: {ca_file: /ca.pem}}",
     "4:20: exporters.s3.tls_config: tls_config is only used over https, but the scheme is http"),
    ("  s3: {scheme: https, tls_config: {cert_file: /c.pem}}",
     "4:35: exporters.s3.tls_config: a client certificate needs both cert_file and key_file"),
])
def test_settings_prometheus_would_refuse_or_ignore(write_spec, line, expected):
    text = BASE.replace("  s3: {authorization: {credentials_file: /etc/prometheus/secrets/minio-token}}", line)
    got = problems(write_spec, text)
    assert any(p.startswith(expected) for p in got), got


def test_tls_on_an_entry_is_checked_against_the_kinds_scheme(write_spec):
    text = BASE + "    scrape: {tls_config: {ca_file: /ca.pem}}\n"
    text = text.replace("  - {name: lake, kind: s3, targets: [minio-1.internal]}\n",
                        "  - name: lake\n    kind: s3\n    targets: [minio-1.internal]\n")
    got = problems(write_spec, text)
    assert got == ["11:26: storage[0].scrape.tls_config: tls_config is only used over https, but the scheme is "
                   "http (set scheme: https here or on the exporter kind)"], got
    # https on the kind is enough
    text = text.replace("  s3: {authorization:", "  s3: {scheme: https, authorization:")
    load_spec(write_spec(text))


SPLIT = BASE + """\
  - {name: archive, kind: s3, targets: [minio-2.internal], scrape: {basic_auth: {username: prom, password_file: /p}}}
  - {name: cold, kind: s3, targets: [minio-3.internal]}
  - {name: local, kind: s3, targets: [minio-4.internal], scrape: {scheme: https, tls_config: {ca_file: /ca.pem}}}
"""


def _scrape_configs(write_spec, text: str, formats: tuple = ()) -> tuple[dict, dict]:
    files, bundle, _ = generate(write_spec(text), formats)
    return {sc["job_name"]: sc for sc in bundle.prometheus["scrape_configs"]}, files


def test_kind_settings_apply_to_its_jobs_and_keep_its_port_and_path(write_spec):
    configs, files = _scrape_configs(write_spec, BASE)
    assert "- `/etc/prometheus/secrets/minio-token`" in files["README.md"].decode(), "the README lists the files"
    s3 = configs["storage_s3"]
    assert s3["authorization"] == {"credentials_file": "/etc/prometheus/secrets/minio-token"}
    assert s3["metrics_path"] == "/minio/v2/metrics/cluster", "a kind block with only credentials keeps the path"
    assert s3["static_configs"][0]["targets"] == ["minio-1.internal:9000"], "... and the port"
    for job in ("node_exporter", "dcgm_exporter"):
        assert not {"authorization", "basic_auth", "tls_config", "scheme"} & set(configs[job]), "other kinds untouched"


def test_entries_with_other_settings_get_their_own_scrape_config_under_the_same_job(write_spec):
    configs, _ = _scrape_configs(write_spec, SPLIT)
    s3 = {name: sc for name, sc in configs.items() if name.startswith("storage_s3")}
    assert list(s3) == ["storage_s3", "storage_s3-archive", "storage_s3-local"]
    # the kind's credentials, for the entries that set nothing (lake and cold together)
    assert [g["labels"]["storage"] for g in s3["storage_s3"]["static_configs"]] == ["lake", "cold"]
    assert "relabel_configs" in s3["storage_s3"] and s3["storage_s3"]["relabel_configs"][0]["target_label"] == "host"
    # an entry's basic_auth replaces its kind's authorization (Prometheus takes only one)
    archive = s3["storage_s3-archive"]
    assert archive["basic_auth"] == {"username": "prom", "password_file": "/p"} and "authorization" not in archive
    assert archive["relabel_configs"][0] == {"target_label": "job", "replacement": "storage_s3"}
    # tls_config and scheme replace the kind's, its credentials stay
    local = s3["storage_s3-local"]
    assert (local["scheme"], local["tls_config"], local["authorization"]) == (
        "https", {"ca_file": "/ca.pem"}, {"credentials_file": "/etc/prometheus/secrets/minio-token"})


def test_file_sd_parts_list_their_own_target_files(write_spec):
    text = SPLIT.replace("name: auth\n", "name: auth\nprometheus: {service_discovery: file}\n")
    configs, files = _scrape_configs(write_spec, text)
    assert configs["storage_s3"]["file_sd_configs"] == [{"files": ["targets/storage_s3/lake.json",
                                                                   "targets/storage_s3/cold.json"]}]
    assert configs["storage_s3-archive"]["file_sd_configs"] == [{"files": ["targets/storage_s3/archive.json"]}]
    assert configs["node_exporter"]["file_sd_configs"] == [{"files": ["targets/node_exporter/*.json"]}]
    assert "targets/storage_s3/archive.json" in files


def test_node_group_settings_per_exporter(write_spec):
    text = BASE.replace("gpu: {model: H100-80GB, count: 8}}",
                        "gpu: {model: H100-80GB, count: 8}, "
                        "scrape: {dcgm_exporter: {basic_auth: {username: prom, password_file: /p}}}}")
    configs, _ = _scrape_configs(write_spec, text)
    assert configs["dcgm_exporter"]["basic_auth"] == {"username": "prom", "password_file": "/p"}
    assert "basic_auth" not in configs["node_exporter"]


def test_operator_manifests_name_secret_keys_never_files_or_values(write_spec):
    text = SPLIT.replace("scrape: {scheme: https, tls_config: {ca_file: /ca.pem}}",
                         "scrape: {scheme: https, kubernetes_secret: minio-tls, "
                         "tls_config: {ca_file: /etc/tls/ca.pem, cert_file: /etc/tls/client.crt, "
                         "key_file: /etc/tls/client.key, server_name: minio.internal}}")
    text += "models:\n  - name: chat\n    server: vllm\n    kubernetes: {namespace: ml, selector: {app: vllm}}\n" \
            "    scrape: {authorization: {type: Token, credentials_file: /etc/prometheus/vllm token}}\n"
    _, files = _scrape_configs(write_spec, text, ("kubernetes",))
    docs = {path: yaml.safe_load(data) for path, data in files.items() if path.startswith("kubernetes/")}
    lake = docs["kubernetes/scrapeconfig-auth-storage-s3.yaml"]["spec"]
    assert lake["authorization"] == {"type": "Bearer",
                                     "credentials": {"name": "auth-storage-s3-auth", "key": "minio-token"}}
    archive = docs["kubernetes/scrapeconfig-auth-storage-s3-archive.yaml"]["spec"]
    assert archive["basicAuth"] == {"username": {"name": "auth-storage-s3-archive-auth", "key": "username"},
                                    "password": {"name": "auth-storage-s3-archive-auth", "key": "p"}}
    assert [r for r in archive["relabelings"] if r.get("targetLabel") == "job"] == [
        {"targetLabel": "job", "replacement": "storage_s3"}]
    local = docs["kubernetes/scrapeconfig-auth-storage-s3-local.yaml"]["spec"]
    assert local["scheme"] == "HTTPS"
    assert local["tlsConfig"] == {"ca": {"secret": {"name": "minio-tls", "key": "ca.pem"}},
                                  "cert": {"secret": {"name": "minio-tls", "key": "client.crt"}},
                                  "keySecret": {"name": "minio-tls", "key": "client.key"},
                                  "serverName": "minio.internal"}
    endpoint = docs["kubernetes/podmonitor-auth-vllm-chat.yaml"]["spec"]["podMetricsEndpoints"][0]
    assert endpoint["authorization"] == {"type": "Token",
                                         "credentials": {"name": "auth-vllm-chat-auth", "key": "vllm-token"}}
    text_of = yaml.safe_dump({p: d for p, d in docs.items() if "scrapeconfig-" in p or "podmonitor-" in p})
    assert "/etc/" not in text_of and "_file" not in text_of, "the operator reads no file path"


@pytest.mark.e2e  # a full checked build in both formats (~3 s)
def test_no_secret_value_reaches_any_generated_file(tmp_path, write_spec):
    """Real secret files, a full checked build (promtool check config reads every *_file) in
    both formats: the values never appear, the paths do."""
    tool("promtool")
    secrets = {"token": "tok-0123456789abcdef", "password": "pw-fedcba9876543210", "key": "KEY-5a5a5a5a5a5a"}
    for name, value in secrets.items():
        (tmp_path / name).write_text(value + "\n")
    spec = write_spec(f"""\
        version: 1
        name: auth
        exporters:
          s3: {{authorization: {{credentials_file: {tmp_path / 'token'}}}}}
          pipeline: {{basic_auth: {{username: prom, password_file: {tmp_path / 'password'}}}}}
        node_groups:
          - name: gpu
            hosts: [gpu-1.internal]
            gpu: {{model: H100-80GB, count: 8}}
            scrape:
              node_exporter:
                scheme: https
                tls_config: {{ca_file: {tmp_path / 'key'}, cert_file: {tmp_path / 'key'}, key_file: {tmp_path / 'key'}}}
        storage:
          - {{name: lake, kind: s3, targets: [minio-1.internal]}}
        pipelines:
          - {{name: etl, freshness: 1h, targets: [etl-1.internal]}}
        outputs: {{formats: [files, kubernetes]}}
        """)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len(written) > 20
    for path, data in written.items():
        for value in secrets.values():
            assert value.encode() not in data, f"{value} in {path}"
    prometheus_yml = written[out / "prometheus.yml"].decode()
    assert f"credentials_file: {tmp_path / 'token'}" in prometheus_yml
    assert f"password_file: {tmp_path / 'password'}" in prometheus_yml


def test_verify_places_a_split_jobs_targets_under_its_job(write_spec):
    """verify starts a simulator per target by job: the parts of a split job are still storage_s3,
    and the rewritten config drops the credentials the simulators do not ask for."""
    files, bundle, _ = generate(write_spec(SPLIT))
    placed: list[tuple[str, str]] = []

    def place(job, address, labels):
        placed.append((job, address))
        return f"127.0.0.1:{10000 + len(placed)}"

    doc = rewrite.prometheus(bundle.prometheus, lambda sc: rewrite.static_targets(sc, files), place, "127.0.0.1:1")
    s3 = sorted(address for job, address in placed if job == "storage_s3")
    assert s3 == [f"minio-{i}.internal:9000" for i in range(1, 5)], placed
    assert not any({"authorization", "basic_auth", "tls_config"} & set(sc) for sc in doc["scrape_configs"])


def test_json_schema_offers_the_auth_fields_and_refuses_inline_secrets():
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    defs = json.loads(result.stdout)["$defs"]
    assert {"authorization", "basic_auth", "tls_config", "kubernetes_secret"} <= set(defs["Exporter"]["properties"])
    assert "required" not in defs["Exporter"], "a kind block may give only credentials"
    assert defs["Authorization"]["required"] == ["credentials_file"]
    assert defs["Authorization"]["properties"]["credentials"]["not"] == {}
    assert defs["TLSConfig"]["properties"]["key"]["not"] == {}
    assert "scrape" in defs["Storage"]["properties"] and "scrape" in defs["NodeGroup"]["properties"]
