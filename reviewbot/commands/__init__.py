"""Sub-commands of the `reviewbot` CLI, one module each."""
