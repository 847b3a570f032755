"""Guess a file's language from its name: a small table, ``None`` when unknown.

The guess only labels hunks (for prompts and reports); nothing depends on it
being complete, so the table stays small and explicit.
"""

from __future__ import annotations

# Whole file names (compared case-sensitively, as on Linux runners).
_BY_NAME: dict[str, str] = {
    "Dockerfile": "dockerfile",
    "Containerfile": "dockerfile",
    "Makefile": "make",
    "GNUmakefile": "make",
    "Gemfile": "ruby",
    "Rakefile": "ruby",
    "Jenkinsfile": "groovy",
    "CMakeLists.txt": "cmake",
    ".bashrc": "shell",
    ".profile": "shell",
}

# Extensions (lower-cased, with the dot).
_BY_EXT: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".go": "go",
    ".java": "java",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".groovy": "groovy",
    ".gradle": "groovy",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".cs": "csharp",
    ".swift": "swift",
    ".m": "objective-c",
    ".rb": "ruby",
    ".erb": "ruby",
    ".php": "php",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".ps1": "powershell",
    ".rs": "rust",
    ".lua": "lua",
    ".pl": "perl",
    ".pm": "perl",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".ini": "ini",
    ".xml": "xml",
    ".html": "html",
    ".htm": "html",
    ".css": "css",
    ".tf": "terraform",
    ".tfvars": "terraform",
    ".hcl": "hcl",
    ".sql": "sql",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "restructuredtext",
    ".dockerfile": "dockerfile",
    ".proto": "protobuf",
    ".vue": "vue",
    ".svelte": "svelte",
}


def guess_language(path: str) -> str | None:
    """The language of ``path`` from its file name or extension, or ``None``.

    >>> guess_language("src/app/Main.java")
    'java'
    >>> guess_language("deploy/Dockerfile.prod")
    'dockerfile'
    >>> guess_language("LICENSE") is None
    True
    """
    name = path.rsplit("/", 1)[-1]
    by_name = _BY_NAME.get(name)
    if by_name is not None:
        return by_name
    if name.startswith(("Dockerfile.", "Containerfile.")):
        return "dockerfile"
    dot = name.rfind(".")
    if dot <= 0:  # no extension, or a dot-file such as ".env"
        return None
    return _BY_EXT.get(name[dot:].lower())
