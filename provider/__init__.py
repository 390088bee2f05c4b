"""The components as a Pulumi component package (host.py), for programs in other languages."""
