"""Safe YAML reading with a line number for every key and list item.

The loader is derived from ``yaml.SafeLoader`` and is stricter: it rejects every explicit
tag (no ``!!python/...``, no ``!!binary``), limits aliases and the size of the expanded
document (so an alias bomb fails fast with bounded memory), rejects duplicate keys, large,
empty, binary and non-UTF-8 files, and leaves dates as text so that the scenario models can
insist on ISO ``YYYY-MM-DD``. Problems come back as one :class:`SpecError`.

When PyYAML has libyaml, a document is parsed first with libyaml's parser (about ten times
faster: the model file is read on every start-up) and the same resolvers and checks; if that
finds any problem the document is parsed again by the pure-Python loader, which reports it, so
the messages and line numbers do not depend on libyaml.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simengine.exceptions import Issue, SpecError
from simengine.spec.errors import Loc, format_field

__all__ = [
    "MAX_ALIASES",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "LineMap",
    "load_yaml_mapping",
    "load_yaml_mapping_text",
    "read_text",
]

MAX_FILE_BYTES = 1 << 20
"""Largest input file (1 MiB); raise it with the environment variable ``SIMENGINE_MAX_SPEC_BYTES``."""
MAX_ALIASES = 100
"""Most ``*alias`` references in one file."""
MAX_NODES = 100_000
"""Most values in the document once aliases are expanded (alias-bomb guard)."""

LineMap = dict[Loc, int]
"""Field path -> 1-based line of its key (mappings) or item (lists); ``()`` is the document."""

_DROPPED_RESOLVERS = {
    "tag:yaml.org,2002:timestamp",  # dates stay text: validated as ISO dates by the models
    "tag:yaml.org,2002:merge",  # '<<' merge keys: reported, use extends: instead
    "tag:yaml.org,2002:value",
}


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
AMBIGUOUS_NUMBER = "tag:simengine,2025:ambiguous-number"
_NUMBER_RESOLVERS = (
    # YAML 1.1 reads these as octal, hex, binary or base 60 (017 -> 15, 1:30 -> 90): refused
    (
        AMBIGUOUS_NUMBER,
        re.compile(
            r"^(?:[-+]?0[0-9_]+(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?0[xXoObB][0-9a-fA-F_]+"
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$"
        ),
    ),
    (_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")),
    (
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9][0-9_]*|(?:0|[1-9][0-9_]*)(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
    ),
)
_NUMBER_FIRST = list("-+.0123456789")


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamp / merge / value resolution, with decimal numbers only.

    Numbers follow YAML 1.2: ``1e308`` is a number, ``1_000`` is 1000; the YAML 1.1 forms
    that silently change a value (leading-zero octal ``017``, ``0x``/``0o``/``0b`` and base 60
    ``1:30``, also ``017.5``) are reported as problems instead (``0.5`` is fine).
    """

    def construct_decimal_int(self, node: ScalarNode) -> int:
        return int(str(self.construct_scalar(node)).replace("_", ""))


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in _DROPPED_RESOLVERS and tag not in (_INT, _FLOAT)
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _rx in _NUMBER_RESOLVERS:
    for _first in _NUMBER_FIRST:
        _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
            [t for t, _ in _NUMBER_RESOLVERS].index(_tag), (_tag, _rx)
        )
_Loader.add_constructor(_INT, _Loader.construct_decimal_int)
_Loader.add_constructor(AMBIGUOUS_NUMBER, yaml.SafeLoader.construct_scalar)

try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None


def _fast_loader() -> type | None:
    """libyaml's parser with :class:`_Loader`'s resolvers and constructors (None: no libyaml)."""
    if _CParser is None:
        return None

    class _FastLoader(_CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
        yaml_constructors = _Loader.yaml_constructors

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return _FastLoader


_FAST_LOADER = _fast_loader()


class _TooLarge(Exception):
    """The expanded document exceeds MAX_NODES (``args[0]``: line where it happened)."""


def _max_bytes() -> int:
    try:
        return int(os.environ.get("SIMENGINE_MAX_SPEC_BYTES", MAX_FILE_BYTES))
    except ValueError:
        return MAX_FILE_BYTES


def _line(node_or_mark: Any) -> int | None:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1 if mark is not None else None


def read_text(path: str | os.PathLike[str], shown: str | None = None) -> str:
    """Read a small UTF-8 text file, raising :class:`SpecError` for anything else.

    Parameters
    ----------
    path : path-like
        File to read.
    shown : str, optional
        How to name the file in issues (default: ``str(path)``).

    Returns
    -------
    str
        The decoded text (a UTF-8 byte-order mark is dropped).
    """
    shown = shown or str(path)
    limit = _max_bytes()
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise SpecError([Issue(shown, None, "", "file not found")]) from None
    except OSError as err:
        raise SpecError([Issue(shown, None, "", f"cannot read the file: {err.strerror}")]) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            what = "a folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "a FIFO, socket or device"
            raise SpecError(
                [Issue(shown, None, "", f"not a regular file ({what})", "give a YAML file")]
            )
        try:
            raw = fh.read(limit + 1)
        except OSError as err:
            message = f"cannot read the file: {err.strerror}"
            raise SpecError([Issue(shown, None, "", message)]) from None
    return _decode(raw, shown, limit)


def _decode(raw: bytes, shown: str, limit: int) -> str:
    if len(raw) > limit:
        raise SpecError(
            [
                Issue(
                    shown,
                    None,
                    "",
                    f"file is larger than the limit of {limit} bytes (a safety limit)",
                    "scenario files are small; raise the limit with SIMENGINE_MAX_SPEC_BYTES=<bytes>",
                )
            ]
        )
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise SpecError(
            [Issue(shown, line, "", "binary file (contains NUL bytes); expected UTF-8 YAML text")]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise SpecError(
            [
                Issue(
                    shown,
                    line,
                    "",
                    f"not valid UTF-8 text (byte {raw[err.start]:#04x})",
                    "save the file as UTF-8",
                )
            ]
        ) from None


_OPEN = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSE = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
_FAST_MAX_DEPTH = 64
"""Deeper documents go to the pure-Python loader: libyaml's composer recurses in C, unguarded."""


def _scan(text: str, shown: str, loader: type = _Loader) -> list[Issue]:
    """Token pass: explicit tags and alias count, before anything is built.

    With the libyaml loader, nesting deeper than ``_FAST_MAX_DEPTH`` is also an issue (the
    caller then parses again with the pure-Python loader, which bounds recursion).
    """
    issues: list[Issue] = []
    aliases = depth = 0
    try:
        for token in yaml.scan(text, Loader=loader):
            if loader is not _Loader:
                depth += isinstance(token, _OPEN) - isinstance(token, _CLOSE)
                if depth > _FAST_MAX_DEPTH:
                    return [Issue(shown, _line(token), "", "nested deeper than the fast parser")]
            if isinstance(token, yaml.TagToken):
                handle, suffix = token.value
                tag = f"{handle or ''}{suffix}"
                issues.append(
                    Issue(
                        shown,
                        _line(token),
                        "",
                        f"YAML tag {tag!r} is not allowed",
                        "scenario files are plain data: remove the tag",
                    )
                )
            elif isinstance(token, yaml.AliasToken):
                aliases += 1
                if aliases == MAX_ALIASES + 1:
                    issues.append(
                        Issue(
                            shown,
                            _line(token),
                            "",
                            f"more than {MAX_ALIASES} YAML aliases (*name)",
                            "write the values out, or use extends: to share settings",
                        )
                    )
    except yaml.YAMLError as err:
        issues.append(_yaml_issue(err, shown, text))
    return issues


def _yaml_issue(err: yaml.YAMLError, shown: str, text: str = "") -> Issue:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if isinstance(err, yaml.reader.ReaderError):  # no mark: a character position instead
        line = text[: err.position].count("\n") + 1
        char = f"{err.character:#x}" if isinstance(err.character, int) else repr(err.character)
        return Issue(
            shown,
            line,
            "",
            f"invalid YAML: control character {char} is not allowed",
            "remove it (YAML allows printable characters, tab and newlines only)",
        )
    problem = getattr(err, "problem", None) or str(err)
    context = getattr(err, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return Issue(
        shown, _line(mark), "", message, "check indentation, colons and quotes on this line"
    )


class _Builder:
    """Builds plain Python data from a composed node tree, recording lines."""

    def __init__(self, loader: _Loader, shown: str):
        self.loader = loader
        self.shown = shown
        self.lines: LineMap = {}
        self.issues: list[Issue] = []
        self.count = 0

    def build(self, node: Node, path: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(self.lines.get(path[:1], _line(node)))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            out = []
            for i, item in enumerate(node.value):
                self.lines[(*path, i)] = _line(item) or 0
                out.append(self.build(item, (*path, i)))
            return out
        if node.tag == AMBIGUOUS_NUMBER:
            self._issue(
                node,
                path,
                f"received {node.value}: an ambiguous number (YAML 1.1 reads a leading 0 as "
                "octal, 0x/0o/0b as hex/octal/binary and 1:30 as base 60)",
                "write it in plain decimal, e.g. 17 or 0.5, or quote it if it is text",
            )
            return None
        return self.loader.construct_object(node)

    def _mapping(self, node: MappingNode, path: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            where = (*path, key)
            if key in out:
                self._issue(
                    key_node,
                    where,
                    f"duplicate key {key!r}",
                    f"first given on line {self.lines[where]}",
                )
                continue
            self.lines[where] = _line(key_node) or 0
            out[key] = self.build(value_node, where)
        return out

    def _key(self, node: Node, path: Loc) -> Any:
        if not isinstance(node, ScalarNode):
            self._issue(node, path, "mapping keys must be plain names or numbers", "")
            return None
        key = self.loader.construct_object(node)
        if key == "<<" and not node.style:  # plain: None (PyYAML) or "" (libyaml)
            self._issue(
                node, path, "YAML merge keys (<<) are not supported", "use extends: to inherit"
            )
            return None
        if not isinstance(key, str | int) or isinstance(key, bool):
            self._issue(
                node, path, f"key {node.value!r} is read as {type(key).__name__}", "quote it"
            )
            return None
        return key

    def _issue(self, node: Node, path: Loc, message: str, hint: str) -> None:
        self.issues.append(Issue(self.shown, _line(node), format_field(path), message, hint))


def load_yaml_mapping_text(text: str, shown: str = "<string>") -> tuple[dict[str, Any], LineMap]:
    """Parse YAML text whose top level must be a mapping.

    Parameters
    ----------
    text : str
        The document.
    shown : str, optional
        How to name the source in issues.

    Returns
    -------
    data : dict
        Plain data: dicts, lists, str, int, float, bool, None (dates stay ISO strings).
    lines : dict
        Field path -> 1-based line.

    Raises
    ------
    SpecError
        With every problem found in the text.
    """
    if len(text.encode("utf-8", "surrogatepass")) > _max_bytes():
        _decode(text.encode("utf-8", "surrogatepass"), shown, _max_bytes())
    if "\x00" in text:
        raise SpecError([Issue(shown, None, "", "binary text (contains NUL characters)")])
    if _FAST_LOADER is not None:
        try:
            return _parse(text, shown, _FAST_LOADER)
        except SpecError:
            pass  # the pure-Python loader below reports it, with its messages and lines
    return _parse(text, shown, _Loader)


def _parse(text: str, shown: str, loader_cls: type) -> tuple[dict[str, Any], LineMap]:
    """Scan, compose and build ``text`` with one loader class; every problem as SpecError."""
    issues = _scan(text, shown, loader_cls)
    if issues:
        raise SpecError(issues)
    loader = loader_cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError(
                [
                    Issue(
                        shown,
                        None,
                        "",
                        "file is empty; expected a mapping of keys (name:, start:, ...)",
                    )
                ]
            )
        if not isinstance(node, MappingNode):
            raise SpecError(
                [
                    Issue(
                        shown,
                        _line(node),
                        "",
                        "top level is not a mapping; expected keys such as name:, start:",
                    )
                ]
            )
        builder = _Builder(loader, shown)
        data = builder.build(node, ())
    except yaml.YAMLError as err:
        raise SpecError([_yaml_issue(err, shown, text)]) from None
    except _TooLarge as err:
        message = f"aliases expand the document to more than {MAX_NODES} values (alias bomb?)"
        raise SpecError(
            [Issue(shown, err.args[0], "", message, "write the values out plainly")]
        ) from None
    except RecursionError:
        message = "document is nested too deeply (or an alias refers to itself)"
        raise SpecError([Issue(shown, None, "", message, "write the values out plainly")]) from None
    finally:
        loader.dispose()
    if builder.issues:
        raise SpecError(builder.issues)
    builder.lines[()] = 1
    return data, builder.lines


def load_yaml_mapping(
    path: str | os.PathLike[str], shown: str | None = None
) -> tuple[dict[str, Any], LineMap]:
    """Read a YAML file whose top level must be a mapping, with a line for every field.

    Parameters
    ----------
    path : path-like
        The file.
    shown : str, optional
        How to name the file in issues (default: the path as given).

    Returns
    -------
    data : dict
        Plain data: dicts, lists, str, int, float, bool, None (dates stay ISO strings).
    lines : dict
        Field path (keys and list indices) -> 1-based line; ``()`` -> 1.

    Raises
    ------
    SpecError
        For a missing, large, binary, empty or invalid file, explicit tags, too many aliases,
        duplicate keys, or a top level that is not a mapping.
    """
    shown = shown or str(Path(path))
    return load_yaml_mapping_text(read_text(path, shown), shown)
