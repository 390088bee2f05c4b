"""The ai-platform policy pack: every policy, in the order the pack registers them.

Run it with ``pulumi preview --policy-pack policy``; ``policy.offline`` runs the same policy objects
on recorded registrations without the engine (the tests do so on both rendered stacks).
"""

from .aws_rules import POLICIES as AWS_POLICIES
from .kubernetes_rules import POLICIES as KUBERNETES_POLICIES

PACK_NAME = "ai-platform"
POLICIES = AWS_POLICIES + KUBERNETES_POLICIES

__all__ = ["AWS_POLICIES", "KUBERNETES_POLICIES", "PACK_NAME", "POLICIES"]
