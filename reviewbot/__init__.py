"""reviewbot: a pre-merge security review bot for pull requests."""

__version__ = "0.1.0"
