"""The committed dev and prod stacks end to end: what exists, and the dependency graph rules."""

from __future__ import annotations

import filecmp

import pytest

from offline.render import helm_releases, kubernetes_objects, write

K8S_PROVIDER = "pulumi:providers:kubernetes"
CLUSTER = "aws:eks/cluster:Cluster"


def _k8s_resources(recording):
    return [r for r in recording.registrations if r.custom and r.type.startswith("kubernetes:")]


def _providers(recording):
    return [r for r in recording.registrations if r.type == K8S_PROVIDER]


def test_dev_declares_no_aws_resource(rendered):
    dev = rendered("dev")
    assert [r.type for r in dev.registrations if r.type.startswith("aws:")] == []
    (provider,) = _providers(dev)
    assert provider.inputs["context"] == "kind-ai-platform"
    assert "gpu-operator" in helm_releases(dev)


def test_prod_holds_the_cluster_and_its_gpu_capacity(rendered):
    prod = rendered("prod")
    types = {r.type for r in prod.registrations}
    assert {"aws:ec2/vpc:Vpc", CLUSTER, "aws:kms/key:Key"} <= types
    groups = {r.name: r.inputs for r in prod.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert groups["ai-prod-system"]["amiType"] == "AL2023_x86_64_STANDARD"
    gpu = {n: g for n, g in groups.items() if g["amiType"] == "AL2023_x86_64_NVIDIA"}
    assert len(gpu) >= 2
    assert any(g["capacityType"] == "SPOT" for g in gpu.values())
    efa_templates = [
        t
        for t in prod.of_type("aws:ec2/launchTemplate:LaunchTemplate")
        if any(i.get("interfaceType") == "efa" for i in t.inputs.get("networkInterfaces", []))
    ]
    assert [t.name for t in efa_templates] == ["training"]
    assert gpu["training"]["capacityType"] == "ON_DEMAND"
    assert {"gpu-operator", "ai-prod-autoscaler", "observability"} <= set(helm_releases(prod))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_kubernetes_object_uses_the_clusters_provider(rendered, stack):
    recording = rendered(stack)
    (provider,) = _providers(recording)
    resources = _k8s_resources(recording)
    assert resources
    for r in resources:
        assert r.provider == provider.urn, f"{r.urn} uses {r.provider or 'the default provider'}"


def test_prod_kubernetes_provider_waits_for_the_admin_access_entries(rendered):
    prod = rendered("prod")
    (provider,) = _providers(prod)
    needed = {r.urn for r in prod.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")}
    assert needed
    assert needed <= set(provider.property_dependencies["kubeconfig"])
    assert provider.inputs["kubeconfig"] == "[secret]"


def _cluster_urn(recording) -> str:
    (cluster,) = recording.of_type(CLUSTER)
    return cluster.urn


def test_prod_kms_and_iam_do_not_wait_for_the_cluster(rendered):
    prod = rendered("prod")
    cluster = _cluster_urn(prod)
    independent = [r for r in prod.registrations if r.type in ("aws:kms/key:Key", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy")]
    assert len(independent) >= 6
    for r in independent:
        assert cluster not in r.dependencies, f"{r.urn} waits for the cluster"


def test_prod_helm_releases_wait_for_system_nodes_but_not_gpu_pools(rendered):
    prod = rendered("prod")
    system = prod.named("aws:eks/nodeGroup:NodeGroup", "ai-prod-system").urn
    gpu_pools = {r.urn for r in prod.of_type("aws:eks/nodeGroup:NodeGroup")} - {system}
    assert len(gpu_pools) >= 2
    releases = prod.of_type("kubernetes:helm.sh/v3:Release")
    crds_only = [r for r in releases if r.inputs["chart"].endswith("-crd")]  # no pods: needs the API server alone
    with_pods = [r for r in releases if r not in crds_only]
    assert [r.inputs["chart"].rsplit("/", 1)[-1] for r in crds_only] == ["kserve-crd"]
    assert len(with_pods) >= 8
    for release in crds_only:
        assert system not in release.dependencies, release.name
    for release in with_pods:
        assert system in release.dependencies, release.name
        assert not gpu_pools & set(release.dependencies), f"{release.name} waits for GPU pools"


def test_prod_gpu_nodes_join_only_after_the_cni(rendered):
    prod = rendered("prod")
    cni = prod.named("aws:eks/addon:Addon", "ai-prod-vpc-cni").urn
    for group in prod.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert cni in group.dependencies, group.name


def test_prod_addons_that_run_deployments_wait_for_nodes(rendered):
    prod = rendered("prod")
    system = prod.named("aws:eks/nodeGroup:NodeGroup", "ai-prod-system").urn
    addons = {a.inputs["addonName"]: a for a in prod.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent"}
    assert system in addons["coredns"].dependencies
    assert system in addons["aws-ebs-csi-driver"].dependencies
    assert system not in addons["vpc-cni"].dependencies


def test_every_custom_resource_lives_inside_a_component(rendered):
    for stack in ("dev", "prod"):
        for r in rendered(stack).registrations:
            if r.custom:
                assert "aiplatform:index:" in r.parent, f"{r.urn} is not inside a component"
            else:
                assert r.type.startswith("aiplatform:index:"), r.urn


def test_two_renders_are_byte_identical(tmp_path):
    from offline.render import render

    first, second = tmp_path / "a", tmp_path / "b"
    write(render("prod"), first)
    write(render("prod"), second)
    comparison = filecmp.dircmp(first, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) >= 4
    _, mismatch, errors = filecmp.cmpfiles(first, second, [str(f) for f in files], shallow=False)
    assert mismatch == [] and errors == [] and comparison.left_only == comparison.right_only == []


def test_manifests_are_grouped_by_component(rendered):
    groups = kubernetes_objects(rendered("prod"))
    assert {"gpu-operator", "ai-prod"} <= set(groups)
    assert {o["kind"] for o in groups["gpu-operator"]} == {"Namespace", "NetworkPolicy", "ConfigMap"}


def test_prod_stateful_data_is_protected_and_retained(rendered):
    prod = rendered("prod")
    stateful = [
        *prod.of_type("aws:s3/bucket:Bucket"),
        *prod.of_type("aws:rds/instance:Instance"),
        *[k for k in prod.of_type("aws:kms/key:Key") if k.parent.endswith(("ObjectStore::object-store", "RdsPostgres::model-registry-db"))],
    ]
    assert len(stateful) == 5  # 2 buckets, 1 database, their 2 keys
    for r in stateful:
        assert r.protect and r.retain_on_delete, r.urn


def test_dev_declares_the_data_layer_in_cluster(rendered):
    dev = rendered("dev")
    assert {r.inputs["chart"] for r in dev.of_type("kubernetes:helm.sh/v3:Release")} >= {"minio"}
    assert [s.inputs["metadata"]["name"] for s in dev.of_type("kubernetes:apps/v1:StatefulSet")] == ["model-registry-db"]
    assert not any(r.protect for r in dev.registrations)
