"""A small typed description of a YAML document that drives both validation and the JSON Schema.

Each :class:`Spec` knows two things: the JSON Schema (draft 2020-12) fragment that describes it,
and how to check a ``yaml`` node against it, returning the plain Python value. Because both come
from the same object, the validator and the published schema cannot drift apart by hand-editing.
Checks that JSON Schema cannot express (a glob pathspec rejects, a regex that does not compile,
duplicate keys) live only in :meth:`Spec.check`; everything the schema says, the validator enforces.

Errors name the file, the line (from the node's mark) and the dotted key:
``FILE:LINE: key 'budget.tokens_per_pr': must be an integer >= 1, got -5``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from ..errors import PolicyError
from .globs import glob_problem

JSON = Any
MAX_NODES = 50_000  # aliases can make a small file expand into a huge tree


class Record(dict[str, Any]):
    """A validated mapping, remembering the line of the mapping and of each value."""

    def __init__(self, values: Mapping[str, Any], line: int, lines: Mapping[str, int]) -> None:
        super().__init__(values)
        self.line = line
        self.lines = dict(lines)


class Items(list[Any]):
    """A validated list, remembering the line of each item (None for a default, unwritten list)."""

    def __init__(self, values: Sequence[Any], lines: Sequence[int | None]) -> None:
        super().__init__(values)
        self.lines: tuple[int | None, ...] = tuple(lines)


def item_lines(value: Sequence[Any]) -> tuple[int | None, ...]:
    """The line of each item of a checked list; None for each item of a default value."""
    if isinstance(value, Items):
        return value.lines
    return (None,) * len(value)


class Walk:
    """The state of one validation: the source name for messages and a node budget."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._nodes = 0
        self._constructor = yaml.SafeLoader("")

    def tick(self, node: yaml.Node, key: str) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            self.fail(node, key, f"document too large (more than {MAX_NODES} values after aliases)")

    def scalar(self, node: yaml.ScalarNode) -> JSON:
        return self._constructor.construct_object(node, deep=True)

    def fail(self, node: yaml.Node | int, key: str, problem: str, hint: str | None = None) -> NoReturn:
        line = node if isinstance(node, int) else node.start_mark.line + 1
        where = f"key '{key}': " if key else ""
        raise PolicyError(f"{self.source}:{line}: {where}{problem}", hint=hint)


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def _kind(node: yaml.Node, walk: Walk) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = walk.scalar(node)  # type: ignore[arg-type]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({node.value})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    return f"a {type(value).__name__} ({node.value!r})"


def _is_null(node: yaml.Node, walk: Walk) -> bool:
    return isinstance(node, yaml.ScalarNode) and walk.scalar(node) is None


def _child(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


class Spec:
    """One node type of the document."""

    description: str = ""

    def json_schema(self) -> dict[str, JSON]:
        raise NotImplementedError

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        raise NotImplementedError

    def default_value(self) -> JSON:
        """The value of a key left out, or raise :class:`LookupError` when the key is required."""
        raise LookupError

    def _with_description(self, schema: dict[str, JSON]) -> dict[str, JSON]:
        if self.description:
            schema["description"] = self.description
        return schema

    def _scalar(self, node: yaml.Node, key: str, walk: Walk, expected: str) -> JSON:
        walk.tick(node, key)
        if not isinstance(node, yaml.ScalarNode):
            walk.fail(node, key, f"expected {expected}, got {_kind(node, walk)}")
        return walk.scalar(node)


@dataclass(frozen=True)
class Str(Spec):
    description: str = ""
    min_length: int = 1
    pattern: str | None = None  # a regex in the common subset of Python and ECMA-262
    forbidden: Mapping[str, str] = field(default_factory=dict)  # value -> hint
    forbidden_reason: str = "is not allowed"
    extra_check: Callable[[str], str | None] | None = None  # validator-only (returns a problem)

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {"type": "string", "minLength": self.min_length}
        if self.pattern:
            schema["pattern"] = self.pattern
        if self.forbidden:
            schema["not"] = {"enum": sorted(self.forbidden)}
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        value = self._scalar(node, key, walk, "a string")
        if not isinstance(value, str):
            walk.fail(node, key, f"expected a string, got {_kind(node, walk)}", hint=_quote_hint(node))
        if len(value) < self.min_length:
            walk.fail(node, key, "must not be empty")
        if value in self.forbidden:
            walk.fail(node, key, f"{value!r} {self.forbidden_reason}", hint=self.forbidden[value])
        if self.pattern and not re.search(self.pattern, value):
            walk.fail(node, key, f"{value!r} does not match {self.pattern}")
        if self.extra_check:
            problem = self.extra_check(value)
            if problem:
                walk.fail(node, key, f"{value!r}: {problem}")
        return value


def _quote_hint(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode):
        return f'quote it if you mean the text: "{node.value}"'
    return None


def Glob(description: str = "") -> Str:
    """A gitignore-style path pattern; validated with pathspec (the schema can only say 'string')."""
    return Str(description=description, extra_check=glob_problem)


def _regex_problem(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"invalid regular expression ({exc})"
    return None


def Regex(description: str = "") -> Str:
    """A Python regular expression, compiled at load time."""
    return Str(description=description, extra_check=_regex_problem)


@dataclass(frozen=True)
class Const(Spec):
    value: int
    description: str = ""

    def json_schema(self) -> dict[str, JSON]:
        return self._with_description({"const": self.value})

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        value = self._scalar(node, key, walk, f"the integer {self.value}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # as JSON Schema's const does
        if isinstance(value, bool) or not isinstance(value, int):
            walk.fail(node, key, f"expected the integer {self.value}, got {_kind(node, walk)}")
        if value != self.value:
            walk.fail(node, key, f"unsupported value {value} (this version of reviewbot reads {self.value})")
        return value


@dataclass(frozen=True)
class Int(Spec):
    description: str = ""
    minimum: int | None = None
    default: int | None = None

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.default is not None:
            schema["default"] = self.default
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        value = self._scalar(node, key, walk, "an integer")
        # JSON Schema counts 5.0 as an integer: so do we, to agree with the schema.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            walk.fail(node, key, f"expected an integer, got {_kind(node, walk)}")
        if self.minimum is not None and value < self.minimum:
            walk.fail(node, key, f"must be an integer >= {self.minimum}, got {value}")
        return value

    def default_value(self) -> JSON:
        if self.default is None:
            raise LookupError
        return self.default


@dataclass(frozen=True)
class Number(Spec):
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    default: float | None = None

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {"type": "number"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.exclusive_minimum is not None:
            schema["exclusiveMinimum"] = self.exclusive_minimum
        if self.default is not None:
            schema["default"] = self.default
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        value = self._scalar(node, key, walk, "a number")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            walk.fail(node, key, f"expected a number, got {_kind(node, walk)}")
        if self.minimum is not None and value < self.minimum:
            walk.fail(node, key, f"must be >= {self.minimum}, got {value}")
        if self.maximum is not None and value > self.maximum:
            walk.fail(node, key, f"must be <= {self.maximum}, got {value}")
        if self.exclusive_minimum is not None and value <= self.exclusive_minimum:
            walk.fail(node, key, f"must be > {self.exclusive_minimum}, got {value}")
        return float(value)

    def default_value(self) -> JSON:
        if self.default is None:
            raise LookupError
        return self.default


@dataclass(frozen=True)
class Bool(Spec):
    description: str = ""
    default: bool | None = None

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {"type": "boolean"}
        if self.default is not None:
            schema["default"] = self.default
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        value = self._scalar(node, key, walk, "true or false")
        if not isinstance(value, bool):
            walk.fail(node, key, f"expected true or false, got {_kind(node, walk)}")
        return value

    def default_value(self) -> JSON:
        if self.default is None:
            raise LookupError
        return self.default


@dataclass(frozen=True)
class Enum(Spec):
    values: tuple[str, ...]
    description: str = ""
    default: str | None = None

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {"type": "string", "enum": list(self.values)}
        if self.default is not None:
            schema["default"] = self.default
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        expected = "one of " + ", ".join(self.values)
        value = self._scalar(node, key, walk, expected)
        if value not in self.values or not isinstance(value, str):
            hint = did_you_mean(value, self.values) if isinstance(value, str) else None
            shown = repr(value) if isinstance(value, str) else _kind(node, walk)
            walk.fail(node, key, f"{shown} is not {expected}", hint=hint)
        return value

    def default_value(self) -> JSON:
        if self.default is None:
            raise LookupError
        return self.default


@dataclass(frozen=True)
class Nullable(Spec):
    """``inner`` or null. The default of a key left out is ``default`` (which may be None)."""

    inner: Spec
    default: JSON = None
    description: str = ""

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {"anyOf": [self.inner.json_schema(), {"type": "null"}]}
        schema["default"] = self.default
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        if isinstance(node, yaml.ScalarNode) and walk.scalar(node) is None:
            walk.tick(node, key)
            return None
        return self.inner.check(node, key, walk)

    def default_value(self) -> JSON:
        return self.default


@dataclass(frozen=True)
class List(Spec):
    items: Spec
    description: str = ""
    min_items: int = 0
    default: tuple[JSON, ...] | None = None

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {"type": "array", "items": self.items.json_schema()}
        if self.min_items:
            schema["minItems"] = self.min_items
        if self.default is not None:
            schema["default"] = list(self.default)
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        walk.tick(node, key)
        if not isinstance(node, yaml.SequenceNode):
            hint = "write [] for an empty list" if _is_null(node, walk) else None
            walk.fail(node, key, f"expected a list, got {_kind(node, walk)}", hint=hint)
        if len(node.value) < self.min_items:
            walk.fail(node, key, f"needs at least {self.min_items} item(s)")
        values = [self.items.check(item, f"{key}[{i}]", walk) for i, item in enumerate(node.value)]
        return Items(values, [line_of(item) for item in node.value])

    def default_value(self) -> JSON:
        if self.default is None:
            raise LookupError
        return list(self.default)


def _mapping_pairs(node: yaml.Node, key: str, walk: Walk) -> list[tuple[str, yaml.Node, yaml.Node]]:
    walk.tick(node, key)
    if not isinstance(node, yaml.MappingNode):
        hint = "leave the key out to take its defaults" if _is_null(node, walk) else None
        walk.fail(node, key, f"expected a mapping, got {_kind(node, walk)}", hint=hint)
    pairs: list[tuple[str, yaml.Node, yaml.Node]] = []
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            walk.fail(key_node, key, "YAML merge keys ('<<') are not supported", hint="write the keys out")
        name = walk.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(name, str):
            walk.fail(key_node, key, f"keys must be strings, got {_kind(key_node, walk)}")
        if name in seen:
            walk.fail(key_node, _child(key, name), f"duplicate key (first set on line {seen[name]})")
        seen[name] = line_of(key_node)
        pairs.append((name, key_node, value_node))
    return pairs


@dataclass(frozen=True)
class Object(Spec):
    """A mapping with a fixed set of keys. Unknown keys are errors, with a hint when close."""

    props: Mapping[str, Spec]
    description: str = ""
    # Cross-key rules in JSON Schema form (the validator checks them in load._check_meaning).
    extra_schema: Mapping[str, JSON] = field(default_factory=dict)

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {
            "type": "object",
            "properties": {name: spec.json_schema() for name, spec in self.props.items()},
            "additionalProperties": False,
        }
        required = [name for name, spec in self.props.items() if not _has_default(spec)]
        if required:
            schema["required"] = required
        schema.update(self.extra_schema)
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        values: dict[str, JSON] = {}
        lines: dict[str, int] = {}
        for name, key_node, value_node in _mapping_pairs(node, key, walk):
            spec = self.props.get(name)
            if spec is None:
                hint = did_you_mean(name, tuple(self.props))
                allowed = "known keys: " + ", ".join(self.props)
                walk.fail(key_node, _child(key, name), "unknown key", hint=hint or allowed)
            values[name] = spec.check(value_node, _child(key, name), walk)
            lines[name] = line_of(value_node)
        for name, spec in self.props.items():
            if name in values:
                continue
            try:
                values[name] = spec.default_value()
            except LookupError:
                walk.fail(node, _child(key, name), "required key is missing")
            lines[name] = line_of(node)
        return Record(values, line_of(node), lines)

    def default_value(self) -> JSON:
        return {name: spec.default_value() for name, spec in self.props.items()}


@dataclass(frozen=True)
class Map(Spec):
    """A mapping from free-form names (checked by ``keys``) to values of one spec."""

    keys: Str
    values: Spec
    description: str = ""

    def json_schema(self) -> dict[str, JSON]:
        schema: dict[str, JSON] = {
            "type": "object",
            "propertyNames": self.keys.json_schema(),
            "additionalProperties": self.values.json_schema(),
            "default": {},
        }
        return self._with_description(schema)

    def check(self, node: yaml.Node, key: str, walk: Walk) -> JSON:
        values: dict[str, JSON] = {}
        lines: dict[str, int] = {}
        for name, key_node, value_node in _mapping_pairs(node, key, walk):
            self.keys.check(key_node, _child(key, name), walk)
            values[name] = self.values.check(value_node, _child(key, name), walk)
            lines[name] = line_of(value_node)
        return Record(values, line_of(node), lines)

    def default_value(self) -> JSON:
        return {}


def _has_default(spec: Spec) -> bool:
    try:
        spec.default_value()
    except LookupError:
        return False
    return True
