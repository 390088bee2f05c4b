"""A ``Pulumi.<stack>.yaml`` read as strictly as the Pulumi CLI reads it, for runs without the CLI
(the offline render and the tests).

The CLI decodes stack files with go-yaml v3, which refuses a mapping key defined twice ("mapping
key ... already defined at line N"), and parses each ``config:`` key with ``config.ParseKey``
(sdk/go/common/resource/config/key.go): ``<namespace>:<name>``, or the legacy
``<namespace>:config:<name>``; anything else is "could not parse ... as a configuration key". PyYAML
keeps the last of two equal keys silently, so this module checks both before the program runs, and
turns a YAML syntax error into ``Pulumi.<stack>.yaml:<line>:<col>: <problem>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.core.problems import Problem, escape
from stacks.errors import NAMESPACE, ConfigError


def read_stack_file(path: Path) -> dict[str, Any]:
    """The ``config:`` mapping of the stack file at ``path``, keys as ``<namespace>:<name>``; raises
    :class:`ConfigError` naming the file, line and column (or the config key) of every problem."""
    text = path.read_text()
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise ConfigError([_syntax_problem(path.name, error)]) from None
    if document is None:
        return {}
    config_node = _config_node(path.name, document)
    if config_node is None:
        return {}
    problems = _duplicate_problems(path.name, config_node, ())
    problems += _key_problems(path.name, config_node)
    if problems:
        raise ConfigError(problems)
    config = yaml.safe_load(text)["config"] or {}
    return {_normalized(key): value for key, value in config.items()}


def _at(file: str, mark: Any) -> str:
    return f"{file}:{mark.line + 1}:{mark.column + 1}"


def _syntax_problem(file: str, error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    where = _at(file, mark) if mark else f"{file}:"
    message = error.problem or "not YAML"
    if error.context and error.context_mark:
        message += f", {error.context} at line {error.context_mark.line + 1}"
    if "\\t" in message or "\t" in message:
        message += " (a tab: YAML indents with spaces)"
    return Problem((where,), escape(message))


def _config_node(file: str, document: yaml.Node) -> yaml.MappingNode | None:
    """The document's ``config:`` mapping; the document and it must be mappings."""
    if not isinstance(document, yaml.MappingNode):
        raise ConfigError([Problem((_at(file, document.start_mark),), "a stack file must be a mapping with a config: section")])
    problems = _duplicate_problems(file, document, None)
    if problems:
        raise ConfigError(problems)
    node = next((value for key, value in document.value if key.value == "config"), None)
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        return None
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError([Problem((_at(file, node.start_mark),), "config: must be a mapping of <namespace>:<name> keys")])
    return node


def _duplicate_problems(file: str, node: yaml.Node, path: tuple[str | int, ...] | None) -> list[Problem]:
    """Keys defined twice in ``node`` or below; ``path`` is the config key path so far (None outside config:)."""
    problems = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            inner = None if path is None else (*path, str(key.value))
            if key.value in first:
                where = _key_text(inner) if inner else _at(file, key.start_mark)
                problems.append(
                    Problem(
                        (where,),
                        f"{_at(file, key.start_mark)}: key {escape(repr(key.value))} already set at line {first[key.value]} "
                        "(the Pulumi CLI refuses a file with a key twice): keep one",
                    )
                )
            first.setdefault(key.value, key.start_mark.line + 1)
            if path is not None:
                problems += _duplicate_problems(file, value, inner)
    elif isinstance(node, yaml.SequenceNode) and path is not None:
        for index, item in enumerate(node.value):
            problems += _duplicate_problems(file, item, (*path, index))
    return problems


def _key_text(path: tuple[str | int, ...]) -> str:
    """``("ai-platform:rayClusters", 0, "name")`` -> ``ai-platform:rayClusters[0].name``."""
    head, *rest = path
    return str(head) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)


def _key_problems(file: str, config: yaml.MappingNode) -> list[Problem]:
    problems = []
    for key, _ in config.value:
        text = str(key.value)
        if _normalized(text).count(":") != 1:
            problems.append(
                Problem(
                    (_at(file, key.start_mark),),
                    f"config key {escape(repr(text))} is not of the form <namespace>:<name> (the Pulumi CLI refuses it); "
                    f"ours are {NAMESPACE}:<key>",
                )
            )
    return problems


def _normalized(key: str) -> str:
    """The legacy ``<namespace>:config:<name>`` spelled ``<namespace>:<name>``, as the CLI parses it."""
    parts = key.split(":")
    if len(parts) == 3 and parts[1] == "config":
        return f"{parts[0]}:{parts[2]}"
    return key
