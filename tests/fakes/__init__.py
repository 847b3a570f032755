"""Loopback fakes of the APIs reviewbot talks to (127.0.0.1 only)."""
