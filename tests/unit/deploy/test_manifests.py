"""deploy/compose.yaml against the Compose specification's JSON schema (as vendored by the
check-jsonschema package) and deploy/kubernetes/ against Kubernetes' own schemas (as shipped by
kubernetes-validate), offline; plus what no schema says: probes on the health endpoints, a grace
period that covers the drain, selectors that match."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
K8S_VERSION = "1.30.0"  # the oldest Kubernetes these manifests promise to work on


def compose_errors(document: dict[str, Any]) -> list[str]:
    schema_file = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def manifests() -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text())
            for p in sorted((DEPLOY / "kubernetes").glob("*.yaml"))}


def kubernetes_errors(document: dict[str, Any]) -> str | None:
    try:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return f"{'/'.join(map(str, error.path))}: {error.message}"
    return None


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]
                                                                 ) -> None:
    assert compose_errors(compose) == []


def test_compose_schema_check_can_fail(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["lynkr"]["healthcheck"]["interval_seconds"] = 15
    broken["services"]["ollama"]["depends_on"] = {"lynkr": {"condition": "when_ready"}}
    errors = compose_errors(broken)
    assert any("interval_seconds" in e for e in errors)
    assert any(e.startswith("services/ollama") for e in errors)


def test_compose_sidecar_shape(compose: dict[str, Any]) -> None:
    lynkr = compose["services"]["lynkr"]
    assert lynkr["build"]["dockerfile"] == "Containerfile"
    assert (DEPLOY / lynkr["build"]["context"] / "Containerfile").is_file()
    assert "lynkr-data:/data" in lynkr["volumes"]
    assert lynkr["environment"]["OLLAMA_ENDPOINT"] == "http://ollama:11434"
    assert lynkr["depends_on"]["ollama"]["condition"] == "service_healthy"
    assert all(s.get("healthcheck") for name, s in compose["services"].items()
               if name != "ollama-pull")
    assert all(port.startswith("127.0.0.1:") for s in compose["services"].values()
               for port in s.get("ports", []))  # a devbox publishes on loopback only
    assert compose["services"]["searxng"]["profiles"] == ["search"]
    mounted = compose["services"]["searxng"]["volumes"][0].split(":")[0]
    searxng = yaml.safe_load((DEPLOY / mounted).read_text())  # web_search needs its JSON API
    assert "json" in searxng["search"]["formats"] and searxng["use_default_settings"] is True
    assert compose["services"]["redis"]["profiles"] == ["redis"]


@pytest.mark.parametrize("name", [n for n, d in manifests().items()
                                  if d["apiVersion"].split("/")[0] != "monitoring.coreos.com"])
def test_kubernetes_manifest_is_valid_against_kubernetes_schemas(name: str) -> None:
    assert kubernetes_errors(manifests()[name]) is None


def test_kubernetes_schema_check_can_fail() -> None:
    deployment = manifests()["deployment.yaml"]
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["periodSeconds"] = "often"
    assert kubernetes_errors(deployment) is not None
    del probe["periodSeconds"]
    probe["httpGet"]["paths"] = "/health/ready"  # strict: an unknown field is an error
    assert kubernetes_errors(deployment) is not None


def test_deployment_probes_grace_period_and_security() -> None:
    pod = manifests()["deployment.yaml"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    pre_stop_s = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    graceful_s = int(env["GRACEFUL_SHUTDOWN_TIMEOUT"]) / 1000
    assert pod["terminationGracePeriodSeconds"] > pre_stop_s + graceful_s
    readiness = container["readinessProbe"]
    # the drain outlasts the time readiness takes to notice the 503
    assert int(env["SHUTDOWN_DRAIN_DELAY_MS"]) / 1000 >= (
        readiness["periodSeconds"] * readiness["failureThreshold"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Containerfile's user
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/data", "/tmp"}
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


def test_selectors_ports_and_targets_agree() -> None:
    docs = manifests()
    labels = docs["deployment.yaml"]["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"] for p in docs["deployment.yaml"]["spec"]["template"]["spec"]
             ["containers"][0]["ports"]}
    service = docs["service.yaml"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] in ports
    assert docs["pdb.yaml"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = docs["hpa.yaml"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment",
                                                 docs["deployment.yaml"]["metadata"]["name"])
    monitor = docs["servicemonitor.yaml"]["spec"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert monitor["endpoints"][0]["path"] == "/metrics/prometheus"


def test_compose_checks_lynkr_with_the_images_own_health_check(compose: dict[str, Any]
                                                               ) -> None:
    containerfile = (DEPLOY.parent / "Containerfile").read_text()
    image_check = json.loads(containerfile.split("HEALTHCHECK", 1)[1].split(" CMD ", 1)[1]
                             .split("\n")[0])
    assert compose["services"]["lynkr"]["healthcheck"]["test"] == ["CMD", *image_check]
