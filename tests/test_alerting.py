"""Alertmanager receivers: routes from stack config, URLs and keys only from Pulumi secrets, in a mounted Secret."""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import pulumi
import pytest
import yaml

from components import versions
from offline.mockruntime import Recording
from offline.render import PLACEHOLDER, write
from stacks.errors import ConfigError
from tests.conftest import TEST_RECEIVER, TEST_SECRETS, run_components, run_main
from tests.test_config import EKS
from tests.test_manifests import TEMPLATE_ONLY, _unknown_keys
from tests.upstream import chart_values

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
SLACK_URL = "https://hooks.slack.example/services/T000/B000/xoxo-slack-s3cr3t"
PAGERDUTY_KEY = "pd-routing-key-s3cr3t"
RECEIVERS = [
    {"name": "team-slack", "type": "slack", "secret_config_key": "alertSlackUrl", "channel": "#ml-alerts"},
    {"name": "oncall", "type": "pagerduty", "secret_config_key": "alertPagerdutyKey"},
]


def _observability(args: dict):
    from components.observability.observability import Observability

    recording = run_components(lambda: Observability("observability", args))
    (release,) = recording.of_type(RELEASE)
    return recording, release


def _with_receivers():
    secrets = {"team-slack": pulumi.Output.secret(SLACK_URL), "oncall": pulumi.Output.secret(PAGERDUTY_KEY)}
    return _observability({"alert_receivers": RECEIVERS, "alert_secrets": secrets})


def test_alertmanager_routes_to_the_receivers_and_reads_their_secrets_from_mounted_files():
    _, release = _with_receivers()
    alertmanager = release.inputs["values"]["alertmanager"]
    # the chart mounts each listed Secret at /etc/alertmanager/secrets/<name>/ (values.yaml alertmanagerSpec.secrets)
    assert alertmanager["alertmanagerSpec"]["secrets"] == ["observability-alert-receivers"]
    config = alertmanager["config"]
    assert config["receivers"] == [
        {"name": "null"},
        {
            "name": "team-slack",
            "slack_configs": [
                {
                    "api_url_file": "/etc/alertmanager/secrets/observability-alert-receivers/team-slack",
                    "channel": "#ml-alerts",
                    "send_resolved": True,
                }
            ],
        },
        {
            "name": "oncall",
            "pagerduty_configs": [
                {"routing_key_file": "/etc/alertmanager/secrets/observability-alert-receivers/oncall", "send_resolved": True}
            ],
        },
    ]
    route = config["route"]
    assert route["receiver"] == "team-slack"  # everything goes to the first receiver ...
    assert route["routes"][0] == {"receiver": "null", "matchers": ['alertname = "Watchdog"']}
    critical = [(r["receiver"], r["matchers"], r["continue"]) for r in route["routes"][1:]]
    # ... and critical alerts to each of them
    assert critical == [("team-slack", ['severity = "critical"'], True), ("oncall", ['severity = "critical"'], True)]


def test_the_receivers_secret_holds_the_values_as_secrets_and_the_release_waits_for_it():
    recording, release = _with_receivers()
    (secret,) = [s for s in recording.of_type(SECRET) if s.name == "observability-alert-receivers"]
    assert secret.inputs["metadata"]["name"] == "observability-alert-receivers"
    assert secret.inputs["stringData"] == {"team-slack": "[secret]", "oncall": "[secret]"}
    assert secret.urn in release.dependencies
    text = yaml.safe_dump(release.inputs) + yaml.safe_dump(secret.inputs)
    assert SLACK_URL not in text and PAGERDUTY_KEY not in text


def test_receiver_values_use_keys_the_pinned_chart_defines():
    _, release = _with_receivers()
    values = release.inputs["values"]
    # alertmanager.config is free-form Alertmanager config: the chart only passes it on
    checked = {**values, "alertmanager": {k: v for k, v in values["alertmanager"].items() if k != "config"}}
    template_only = frozenset(TEMPLATE_ONLY["kube-prometheus-stack"])
    assert (
        _unknown_keys(checked, chart_values("kube-prometheus-stack", versions.KUBE_PROMETHEUS_STACK.version), template_only=template_only)
        == []
    )
    assert set(values["alertmanager"]) == {"enabled", "service", "ingress", "alertmanagerSpec", "config"}


# The Alertmanager release that added each secret-file field; prometheus-operator v0.93.0
# (pkg/alertmanager/amcfg.go) drops the field from the config of an older Alertmanager.
FILE_FIELD_SINCE = {"api_url_file": (0, 22), "routing_key_file": (0, 25), "url_file": (0, 26)}


def test_the_pinned_alertmanager_keeps_every_secret_file_field_the_receivers_use():
    values = chart_values("kube-prometheus-stack", versions.KUBE_PROMETHEUS_STACK.version)
    tag = values["alertmanager"]["alertmanagerSpec"]["image"]["tag"]
    running = tuple(int(part) for part in tag.lstrip("v").split(".")[:2])
    every_type = [*RECEIVERS, {"name": "hook", "type": "webhook", "secret_config_key": "alertWebhookUrl"}]
    secrets = {r["name"]: pulumi.Output.secret("https://example.com/secret") for r in every_type}
    _, release = _observability({"alert_receivers": every_type, "alert_secrets": secrets})
    receivers = release.inputs["values"]["alertmanager"]["config"]["receivers"]
    used = {field for r in receivers for key, configs in r.items() if key.endswith("_configs") for c in configs for field in c}
    used = {field for field in used if field.endswith("_file")}
    assert used == set(FILE_FIELD_SINCE), "webhook, Slack and PagerDuty receivers are all exercised"
    assert all(running >= FILE_FIELD_SINCE[field] for field in used), f"Alertmanager {tag} predates a field in {sorted(used)}"


def test_without_receivers_the_chart_default_config_stays():
    recording, release = _observability({})
    alertmanager = release.inputs["values"]["alertmanager"]
    assert "config" not in alertmanager and "secrets" not in alertmanager["alertmanagerSpec"]
    assert [s for s in recording.of_type(SECRET) if s.name == "observability-alert-receivers"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"alert_receivers": RECEIVERS[:1]}, "alert_secrets.team-slack: no URL or routing key for alert receiver 'team-slack'"),
        ({"alert_receivers": [RECEIVERS[1], RECEIVERS[1]], "alert_secrets": {"oncall": "x"}}, "alert_receivers[1].name: 'oncall' is taken"),
        (
            {"alert_receivers": [{**RECEIVERS[1], "name": "null"}], "alert_secrets": {"null": "x"}},
            "alert_receivers[0].name: 'null' is taken",
        ),
        ({"alert_receivers": [{**RECEIVERS[1], "channel": "#x"}], "alert_secrets": {"oncall": "x"}}, "only a slack receiver has a channel"),
        (
            {"alert_receivers": [{**RECEIVERS[1], "type": "email"}]},
            "alert_receivers[0].type: Input should be 'webhook', 'slack' or 'pagerduty'",
        ),
        ({"alert_receivers": [{**RECEIVERS[1], "secret_config_key": "ai-platform:x"}]}, "must be a camelCase config key"),
    ],
)
def test_bad_receivers_fail_before_any_resource(args, message):
    from components.core.problems import InputError

    with pytest.raises(InputError) as raised:
        _observability(args)
    assert message in str(raised.value)


# ---------------------------------------------------------------- stack config


def _keys(error: ConfigError) -> dict[str, str]:
    return dict(error.problems)


def test_an_eks_stack_without_a_receiver_is_rejected_with_the_key():
    recording = Recording(stack="test")
    config = copy.deepcopy(EKS)
    del config["observability"]
    with pytest.raises(ConfigError) as raised:
        run_main(config, recording=recording)
    assert raised.value.keys == ["ai-platform:observability.alertReceivers"]
    assert "add a receiver" in str(raised.value) and "pulumi config set --secret" in str(raised.value)
    assert recording.registrations == []


def test_an_eks_stack_without_observability_needs_no_receiver():
    config = copy.deepcopy(EKS)
    config["observability"] = {"enabled": False}
    assert run_main(config, secrets={}).registrations


def test_a_receiver_whose_secret_is_not_set_is_rejected_naming_the_key():
    recording = Recording(stack="test")
    with pytest.raises(ConfigError) as raised:
        run_main(EKS, recording=recording, secrets={})
    assert raised.value.keys == ["ai-platform:observability.alertReceivers[0].secretConfigKey"]
    assert "no secret ai-platform:alertWebhookUrl in this stack" in str(raised.value)
    assert recording.registrations == []


def test_a_receiver_url_in_plain_text_is_rejected():
    with pytest.raises(ConfigError) as raised:
        run_main({**EKS, "alertWebhookUrl": "https://alerts.example.test/plain"}, secrets={})
    # a plaintext value is not a secret, so not set aside: the schema refuses it as an unknown key
    assert raised.value.keys == ["ai-platform:alertWebhookUrl"]


def test_the_stack_passes_the_secret_to_the_component_and_keeps_it_out_of_plan_and_manifests(tmp_path: Path):
    recording = run_main(EKS)
    (secret,) = [s for s in recording.of_type(SECRET) if s.name == "observability-alert-receivers"]
    assert secret.inputs["stringData"] == {TEST_RECEIVER["name"]: "[secret]"}
    write(recording, tmp_path)
    text = "\n".join(p.read_text() for p in sorted(tmp_path.rglob("*")) if p.is_file())
    (value,) = TEST_SECRETS.values()
    assert value not in text
    assert base64.b64encode(value.encode()).decode() not in text
    assert "/etc/alertmanager/secrets/observability-alert-receivers/oncall" in text


def test_prod_routes_to_its_pagerduty_receiver_and_its_key_stays_secret(rendered, tmp_path: Path):
    recording = rendered("prod")
    (release,) = [r for r in recording.of_type(RELEASE) if r.inputs["chart"] == "kube-prometheus-stack"]
    config = release.inputs["values"]["alertmanager"]["config"]
    assert config["route"]["receiver"] == "oncall"
    assert config["receivers"][1]["pagerduty_configs"][0]["routing_key_file"] == (
        "/etc/alertmanager/secrets/observability-alert-receivers/oncall"
    )
    write(recording, tmp_path)
    text = "\n".join(p.read_text() for p in sorted(tmp_path.rglob("*")) if p.is_file())
    assert PLACEHOLDER not in text


def test_dev_has_no_receiver(rendered):
    (release,) = [r for r in rendered("dev").of_type(RELEASE) if r.inputs["chart"] == "kube-prometheus-stack"]
    assert "config" not in release.inputs["values"]["alertmanager"]


def test_the_pinned_chart_renders_prods_alertmanager_config_with_the_receiver_and_mounts_the_secret(expanded):
    """What the chart makes of the values: its defaults (global, inhibit_rules) merged with our route."""
    objects = expanded("prod")["observability"].objects
    (alertmanager,) = [o for o in objects if o["kind"] == "Alertmanager"]
    assert alertmanager["spec"]["secrets"] == ["observability-alert-receivers"]
    (config_secret,) = [o for o in objects if o["kind"] == "Secret" and "alertmanager.yaml" in (o.get("data") or {})]
    config = yaml.safe_load(base64.b64decode(config_secret["data"]["alertmanager.yaml"]))
    assert config["route"]["receiver"] == "oncall"
    assert {"receiver": "oncall", "matchers": ['severity = "critical"'], "continue": True} in config["route"]["routes"]
    assert {
        "name": "oncall",
        "pagerduty_configs": [
            {"routing_key_file": "/etc/alertmanager/secrets/observability-alert-receivers/oncall", "send_resolved": True}
        ],
    } in config["receivers"]
    assert config["inhibit_rules"]  # the chart's defaults stay
