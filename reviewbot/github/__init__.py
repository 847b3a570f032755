"""GitHub-facing pieces: client, Actions context, PR source, review and summary publishers, outputs."""
