"""Offline tooling: render under the mock runtime, the stack graph, the deploy-time model."""
