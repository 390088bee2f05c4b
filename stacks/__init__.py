"""Typed stack configuration and the composition of components per environment."""
