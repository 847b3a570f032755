"""Formatters: pure functions from a RunResult to text (markdown, SARIF). They never decide exit codes."""
