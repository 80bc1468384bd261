"""Turn pydantic validation errors into :class:`~simengine.exceptions.Issue` objects.

Shared by the scenario, sweep and model-file loaders: every error gets the file and line it
came from, a field path such as ``fomc[1].change_bp``, a message that says what was received
and what was expected, and a hint ("did you mean ...?", the valid choices).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from simengine.exceptions import Issue

__all__ = [
    "Loc",
    "Locations",
    "custom_error",
    "did_you_mean",
    "format_field",
    "issues_from_validation_error",
    "locate",
    "multi_error",
]

Loc = tuple[str | int, ...]
"""A field path: mapping keys and list indices from the top of the file."""

Locations = dict[Loc, tuple[str, int | None]]
"""Field path -> (file as shown to the user, 1-based line or None)."""

ERROR_TYPE = "simengine"
MULTI_ERROR_TYPE = "simengine_multi"
_MAX_SHOWN = 60


def custom_error(message: str, hint: str = "", sibling: str = "") -> PydanticCustomError:
    """Build a pydantic error carrying a simengine message and hint.

    Parameters
    ----------
    message : str
        What is wrong (received / expected).
    hint : str, optional
        What to do instead.
    sibling : str, optional
        Report the problem at this neighbouring field instead of the one being validated (a
        cross-field check whose cause the user wrote elsewhere: the ``horizon`` line for a
        missing ``fomc_calendar``).

    Returns
    -------
    PydanticCustomError
        Raise it from a validator; :func:`issues_from_validation_error` unpacks it.
    """
    ctx = {"message": message, "hint": hint, "sibling": sibling}
    return PydanticCustomError(ERROR_TYPE, "{message}", ctx)


def multi_error(problems: Sequence[tuple[Loc, str, str]]) -> PydanticCustomError:
    """Build one pydantic error carrying several problems below the field being validated.

    Parameters
    ----------
    problems : sequence of (loc, message, hint)
        ``loc`` is relative to the field the validator runs on (``(1, "meeting")``).

    Returns
    -------
    PydanticCustomError
        Unpacked into one :class:`Issue` per problem by :func:`issues_from_validation_error`.
    """
    text = "; ".join(f"{format_field(loc)}: {msg}" if loc else msg for loc, msg, _ in problems)
    return PydanticCustomError(
        MULTI_ERROR_TYPE, "{message}", {"message": text, "problems": list(problems)}
    )


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """Return ``"did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _choices_hint(word: object, choices: Sequence[str]) -> str:
    guess = did_you_mean(word, choices)
    valid = "valid: " + ", ".join(choices)
    return f"{guess} {valid}" if guess else valid


def format_field(loc: Loc) -> str:
    """Format a field path: ``("fomc", 1, "change_bp")`` -> ``"fomc[1].change_bp"``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _clean(loc: Iterable[Any]) -> Loc:
    return tuple(p for p in loc if p != "[key]")


def locate(
    loc: Loc, locations: Mapping[Loc, tuple[str, int | None]], default_file: str
) -> tuple[str, int | None]:
    """Find the file and line of a field, falling back to its nearest located parent.

    Parameters
    ----------
    loc : tuple
        Field path.
    locations : mapping
        Field path -> (file, line), as recorded by the YAML loader.
    default_file : str
        File to report when nothing is located.

    Returns
    -------
    (str, int or None)
    """
    for i in range(len(loc), -1, -1):
        found = locations.get(loc[:i])
        if found is not None:
            return found
    return default_file, None


def _show(value: Any) -> str:
    """Short text for a received value, in YAML spelling."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional from a type annotation."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _type_at(root: type[BaseModel], loc: Loc) -> Any:
    """The (unwrapped) annotation at ``loc`` below ``root``, or None."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif origin in (tuple, list):
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    return _unwrap(tp)


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    tp = _type_at(root, loc)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _field_doc(root: type[BaseModel], loc: Loc) -> str:
    model = _model_at(root, loc[:-1]) if loc else None
    if model is None or not loc:
        return ""
    field = model.model_fields.get(str(loc[-1]))
    return (field.description or "") if field is not None else ""


def _bound_message(kind: str, got: str, ctx: Mapping[str, Any]) -> str:
    ops = {
        "greater_than": ("gt", ">"),
        "greater_than_equal": ("ge", ">="),
        "less_than": ("lt", "<"),
        "less_than_equal": ("le", "<="),
    }
    key, op = ops[kind]
    return f"received {got}; expected a value {op} {ctx.get(key)}"


def _message(err: Mapping[str, Any], loc: Loc, root: type[BaseModel]) -> tuple[str, str]:
    """Message and hint for one pydantic error (not the simengine custom ones)."""
    kind, ctx = err["type"], err.get("ctx") or {}
    value = err.get("input")
    got = _show(value)
    if kind == "missing":
        return "required field is missing", _field_doc(root, loc)
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        valid = sorted(model.model_fields) if model is not None else []
        return f"unknown key {loc[-1]!r}", _choices_hint(loc[-1], valid)
    if kind == "invalid_key":
        model = _model_at(root, loc[:-1])
        valid = sorted(model.model_fields) if model is not None else []
        return f"received the key {got}; keys must be names", _choices_hint(None, valid)
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"received {got}; expected one of {', '.join(choices)}", did_you_mean(value, choices)
    if kind.startswith("int_"):
        return f"received {got}; expected a whole number", ""
    if kind.startswith("float_"):
        quoted = isinstance(value, str) and _looks_numeric(value)
        return f"received {got}; expected a number", (
            "write numbers without quotes, e.g. 1.5" if quoted else "e.g. 1.5"
        )
    if kind == "finite_number":
        return f"received {got}; expected a finite number (NaN and infinity are not allowed)", ""
    if kind.startswith("bool_"):
        return f"received {got}; expected true or false", ""
    if kind.startswith("string_"):
        return f"received {got}; expected text", ""
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _bound_message(kind, got, ctx), ""
    if kind in ("dict_type", "mapping_type"):
        return f"received {got}; expected a mapping (key: value lines)", _field_doc(root, loc)
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return f"received {got}; expected a list (lines starting with '- ')", _field_doc(root, loc)
    if kind in ("model_type", "model_attributes_type", "dataclass_type"):
        model = _model_at(root, loc)
        keys = ", ".join(model.model_fields) if model is not None else ""
        return f"received {got}; expected a mapping", f"keys: {keys}" if keys else ""
    if kind == "too_short":
        return f"received {got} with too few items; expected at least {ctx.get('min_length')}", ""
    return f"{err['msg']} (received {got})", _field_doc(root, loc)


def issues_from_validation_error(
    error: ValidationError,
    root: type[BaseModel],
    locations: Mapping[Loc, tuple[str, int | None]],
    default_file: str,
    prefix: Loc = (),
) -> list[Issue]:
    """Convert every error in a pydantic ``ValidationError`` into an :class:`Issue`.

    Parameters
    ----------
    error : pydantic.ValidationError
        The error raised by ``root.model_validate``.
    root : type of BaseModel
        The model that was validated (used to list valid keys and field descriptions).
    locations : mapping
        Field path -> (file, line) from the YAML loader (``{}`` when unknown).
    default_file : str
        File named in issues that have no recorded location.
    prefix : tuple, optional
        Prepended to every location (when ``root`` sits below the top of the file).

    Returns
    -------
    list of Issue
        In the order pydantic reported them, custom multi-problem errors expanded.
    """
    issues: list[Issue] = []
    for err in error.errors():
        loc = prefix + _clean(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == MULTI_ERROR_TYPE:
            parts = [(loc + tuple(rel), msg, hint) for rel, msg, hint in ctx["problems"]]
        elif err["type"] == ERROR_TYPE:
            if ctx.get("sibling"):
                loc = (*loc[:-1], ctx["sibling"])
            parts = [(loc, ctx["message"], ctx.get("hint", ""))]
        else:
            parts = [(loc, *_message(err, loc[len(prefix) :], root))]
        for where, message, hint in parts:
            file, line = locate(where, locations, default_file)
            issues.append(Issue(file, line, format_field(where), message, hint))
    return issues


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace("_", ""))
    except ValueError:
        return False
    return True
