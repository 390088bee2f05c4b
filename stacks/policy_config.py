"""The policy pack's config that follows from a stack's config.

The pack (``policy/``) reads no stack config itself; what a stack opts into reaches it as policy
config: ``pulumi preview --policy-pack policy --policy-pack-config <file>`` with the file that
``python -m policy.offline <stack> --config-out <file>`` writes from :func:`policy_config`.
"""

from __future__ import annotations

from typing import Any

from stacks.config import StackConfig


def policy_config(config: StackConfig) -> dict[str, dict[str, Any]]:
    """Policy name -> its config options, for ``config``."""
    kserve = config.platform.kserve
    gateway = kserve.ingress_gateway
    # kserve.ingressGateway.serviceType: NodePort or LoadBalancer exposes the gateway proxies on purpose.
    exposed = kserve.enabled and gateway.enabled and gateway.service_type != "ClusterIP"
    return {"k8s-no-external-services": {"exposeGatewayProxies": exposed}}
