"""Reusable Pulumi components of the AI platform, one per module (``from components.cluster.gpu_node_pool
import GpuNodePool``). Nothing is imported here, so importing one component does not load the
SDKs the others need."""
