"""Nested provider inputs use property names the installed provider SDKs define.

Components pass nested inputs as plain dicts (``metadata_options={...}``, ``vpc_config={...}``).
The SDK checks top-level keyword names only: a typo in a nested key is sent to the provider as
is and fails at ``pulumi up``. So we check the rendered wire inputs of every ``aws`` and
``random`` resource against the SDK's input types (see tests/provider_types.py). Kubernetes
objects are validated against Kubernetes schemas elsewhere (test_manifests.py).
"""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from tests.conftest import run_components
from tests.provider_types import check_resource

CHECKED_PACKAGES = ("aws", "random")  # provider resources are "pulumi:providers:*": not checked
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def _checked_resources(recording):
    return [r for r in recording.registrations if r.custom and r.type.split(":")[0] in CHECKED_PACKAGES]


def _problems(token: str, inputs: dict) -> list[str]:
    return [f"{path}: {problem}" for path, problem in check_resource(token, inputs) if problem]


# ------------------------------------------------------------ the committed stacks


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_nested_input_key_is_known_to_the_provider_sdk(rendered, stack):
    problems = [f"{r.type} {r.name}: {problem}" for r in _checked_resources(rendered(stack)) for problem in _problems(r.type, r.inputs)]
    assert not problems, "inputs the provider SDK does not define (fix the component that sets them):\n" + "\n".join(problems)


def test_prod_check_reaches_nested_inputs(rendered):
    # Guards against a vacuous pass: the check must actually walk into nested objects and lists.
    resources = _checked_resources(rendered("prod"))
    parents = {path.rsplit(".", 1)[0] for r in resources for path, _ in check_resource(r.type, r.inputs) if "." in path}
    assert {"metadataOptions", "vpcConfig", "blockDeviceMappings[0].ebs"} <= parents


# ------------------------------------------------------------ the checker itself

GOOD_TEMPLATE = {
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50, "encrypted": "true"}}],
    "tagSpecifications": [{"resourceType": "instance", "tags": {"any/free-form_key": "x"}}],
    "tags": {"Name": "x", "team": "ml"},
    "userData": "[secret]",
}


def test_checker_accepts_known_keys_and_leaves_free_form_maps_alone():
    assert _problems(LAUNCH_TEMPLATE, GOOD_TEMPLATE) == []


def test_checker_reports_an_unknown_nested_key_with_its_path_and_the_right_name():
    template = {**GOOD_TEMPLATE, "metadataOptions": {"httpTokenz": "required"}}
    assert _problems(LAUNCH_TEMPLATE, template) == [
        "metadataOptions.httpTokenz: unknown key 'httpTokenz' for pulumi_aws.ec2._inputs.LaunchTemplateMetadataOptionsArgs;"
        " did you mean 'httpTokens'?"
    ]


def test_checker_walks_lists_of_objects():
    template = {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSise": 50}}]}
    (problem,) = _problems(LAUNCH_TEMPLATE, template)
    assert problem.startswith("blockDeviceMappings[0].ebs.volumeSise: unknown key")


def test_checker_reports_a_list_where_the_sdk_declares_an_object():
    # pulumi-aws flattens single-item blocks (max 1) to objects: a list is a shape error.
    group = {"launchTemplate": [{"id": "lt-1", "version": "1"}]}
    assert _problems("aws:eks/nodeGroup:NodeGroup", group) == ["launchTemplate: expected an object (NodeGroupLaunchTemplateArgs), got list"]


def test_checker_resolves_random_resources():
    assert _problems("random:index/randomPassword:RandomPassword", {"length": 32, "special": False}) == []
    (problem,) = _problems("random:index/randomPassword:RandomPassword", {"length": 32, "speciall": False})
    assert problem.startswith("speciall: unknown key")


def test_checker_rejects_a_type_token_the_sdk_does_not_define():
    with pytest.raises(LookupError):
        check_resource("aws:ec2/launchTemplates:LaunchTemplates", {})


def test_the_sdk_sends_a_nested_typo_as_is_and_the_checker_flags_it():
    # The premise of this file, end to end: known snake_case keys of a nested dict are renamed to
    # wire names, an unknown one passes through untouched, and only the checker notices.
    def build():
        # The SDK's type rejects the typo statically; at run time it passes through, which is what this checks.
        aws.ec2.LaunchTemplate("lt", metadata_options={"http_tokens": "required", "http_tokenz": "required"})  # pyright: ignore[reportArgumentType]

    (template,) = run_components(build).of_type(LAUNCH_TEMPLATE)
    assert template.inputs["metadataOptions"] == {"httpTokens": "required", "http_tokenz": "required"}
    (problem,) = _problems(LAUNCH_TEMPLATE, template.inputs)
    assert problem.startswith("metadataOptions.http_tokenz: unknown key") and problem.endswith("did you mean 'httpTokens'?")
