"""The Pod Security Standards (``baseline`` and ``restricted``) evaluated on a pod spec, as the
PodSecurity admission plugin does for a namespace's ``pod-security.kubernetes.io/enforce`` level.

The rules and their allowed values follow https://kubernetes.io/docs/concepts/security/pod-security-standards/
and k8s.io/pod-security-admission/policy (check_*.go) for the "latest" version; checks that only
concern Windows pods (hostProcess aside) are left out.
"""

from __future__ import annotations

from typing import Any

LEVELS = ("privileged", "baseline", "restricted")
# check_capabilities_baseline.go: the default container runtime capabilities
BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE"}
BASELINE_CAPABILITIES |= {"SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
# check_selinuxOptions.go
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
# check_sysctls.go (latest)
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start"}
SAFE_SYSCTLS |= {"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports"}
SAFE_SYSCTLS |= {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
# check_restrictedVolumes.go
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "image"}
VOLUME_SOURCE_FIELDS = {"name"}  # every other key of a volume is its source type

POD_TEMPLATE_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec a built-in workload object makes pods from; None for other kinds."""
    path = POD_TEMPLATE_PATHS.get(obj.get("kind", ""))
    if path is None or str(obj.get("apiVersion", "")).split("/")[0] not in ("v1", "apps", "batch"):
        return None
    node: Any = obj
    for key in path:
        node = (node or {}).get(key)
    return node or {}


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(key) or []]


def baseline_violations(spec: dict[str, Any], annotations: dict[str, str] | None = None) -> list[str]:
    found = []
    pod_sc = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(f"{field}=true")
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            found.append(f"hostPath volume {volume.get('name')}")
    contexts = [("pod", pod_sc)]
    for c in _containers(spec):
        sc = c.get("securityContext") or {}
        contexts.append((c.get("name", "?"), sc))
        if sc.get("privileged"):
            found.append(f"{c.get('name')}: privileged")
        added = set((sc.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            found.append(f"{c.get('name')}: capabilities.add {sorted(added)}")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                found.append(f"{c.get('name')}: hostPort {port['hostPort']}")
        if sc.get("procMount") not in (None, "Default"):
            found.append(f"{c.get('name')}: procMount {sc['procMount']}")
    for where, sc in contexts:
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{where}: hostProcess")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{where}: seccompProfile Unconfined")
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            found.append(f"{where}: appArmorProfile Unconfined")
        selinux = sc.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            found.append(f"{where}: seLinuxOptions {selinux}")
    for name, value in (annotations or {}).items():
        if (
            name.startswith("container.apparmor.security.beta.kubernetes.io/")
            and value not in ("runtime/default",)
            and not value.startswith("localhost/")
        ):
            found.append(f"annotation {name}={value}")
    unsafe = {s.get("name") for s in pod_sc.get("sysctls") or []} - SAFE_SYSCTLS
    if unsafe:
        found.append(f"sysctls {sorted(unsafe)}")
    return found


def restricted_violations(spec: dict[str, Any], annotations: dict[str, str] | None = None) -> list[str]:
    found = baseline_violations(spec, annotations)
    pod_sc = spec.get("securityContext") or {}
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - VOLUME_SOURCE_FIELDS
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume.get('name')}: {sorted(kinds - RESTRICTED_VOLUMES)}")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod: runAsUser=0")
    for c in _containers(spec):
        name, sc = c.get("name", "?"), c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation not false")
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if non_root is not True:
            found.append(f"{name}: runAsNonRoot not true")
        if sc.get("runAsUser") == 0:
            found.append(f"{name}: runAsUser=0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccompProfile {seccomp or 'unset'}")
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{name}: capabilities.drop lacks ALL")
        added = set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}
        if added:
            found.append(f"{name}: capabilities.add {sorted(added)}")
    return found


def violations(level: str, spec: dict[str, Any], annotations: dict[str, str] | None = None) -> list[str]:
    """What keeps a pod with ``spec`` out of a namespace enforcing ``level``; [] when it is admitted."""
    if level == "privileged":
        return []
    if level == "baseline":
        return baseline_violations(spec, annotations)
    if level == "restricted":
        return restricted_violations(spec, annotations)
    raise ValueError(f"unknown Pod Security level {level!r}; one of {LEVELS}")
