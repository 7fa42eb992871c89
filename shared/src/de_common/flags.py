"""Click options generated from settings fields, so a flag, its env var and its TOML key never drift.

`@setting_flags(MySettings, "workers", "top_n")` adds `--workers` and `--top-n`: the type from the
field's annotation, the help from its description, the env var shown. `pass_run` applies the given
values on top of every other source (validated, exit 2 naming the env var on a bad value) before the
command runs, so a command never copies flags into settings by hand.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import click
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from de_common.config import Settings, env_name

F = TypeVar("F", bound=Callable[..., Any])


class SettingOption(click.Option):
    """A click option that sets one settings field; `pass_run` collects these."""

    def __init__(self, *args: Any, field_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.field_name = field_name


def flag_name(field_name: str) -> str:
    """--top-n for top_n: the one spelling rule between a field and its flag."""
    return "--" + field_name.replace("_", "-")


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _pairs(value: Sequence[str]) -> dict[str, str] | None:
    """KEY=VALUE strings as a dict; nothing given -> None (the setting keeps its value)."""
    if not value:
        return None
    out: dict[str, str] = {}
    for item in value:
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"takes KEY=VALUE, got {item!r}")
        out[key.strip()] = val.strip()
    return out


def _option(cls: type[Settings], name: str, field: FieldInfo) -> SettingOption:
    annotation = _unwrap_optional(field.annotation)
    origin = get_origin(annotation)
    help_text = (field.description or "").rstrip(".")
    shown_env = f"[env: {env_name(cls, name)}]"
    kwargs: dict[str, Any] = {"default": None, "field_name": name}
    decls = [flag_name(name), name]
    if annotation is SecretStr:
        raise TypeError(f"{name}: secrets come from the environment or a file, never a flag")
    if annotation is bool:
        decls = [f"{flag_name(name)}/--no-{name.replace('_', '-')}", name]
    elif origin is Literal:
        kwargs["type"] = click.Choice([str(a) for a in get_args(annotation)])
    elif origin is dict:
        kwargs.update(multiple=True, callback=lambda _c, _p, v: _pairs(v), metavar="KEY=VALUE")
    elif origin in (list, tuple):
        (item,) = get_args(annotation)[:1] or (str,)
        if get_origin(item) is Literal:
            kwargs["type"] = click.Choice([str(a) for a in get_args(item)])
        kwargs.update(multiple=True, callback=lambda _c, _p, v: list(v) or None)
    elif annotation is Path:
        kwargs["type"] = click.Path(path_type=Path)
    elif annotation in (int, float, str):
        kwargs["type"] = annotation
    default = field.get_default(call_default_factory=True)
    shown_default = f" (default: {default})" if default not in (None, {}, [], "") else ""
    kwargs["help"] = f"{help_text}{shown_default} {shown_env}".strip()
    return SettingOption(decls, **kwargs)


def setting_flags(cls: type[Settings], *names: str) -> Callable[[F], F]:
    """Add one option per named settings field to a command (in the order given)."""
    unknown = [n for n in names if n not in cls.model_fields]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    options = [_option(cls, name, cls.model_fields[name]) for name in names]

    def decorate(fn: F) -> F:
        params: list[click.Parameter] = getattr(fn, "__click_params__", [])
        # click applies __click_params__ in reverse; keep the given order on --help.
        params.extend(reversed(options))
        fn.__click_params__ = params  # type: ignore[attr-defined]
        return fn

    return decorate


def given_settings(ctx: click.Context, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pop the setting flags from a command's kwargs: field name -> value (None = not given)."""
    flags: dict[str, Any] = {}
    for param in ctx.command.params:
        if isinstance(param, SettingOption) and param.name in kwargs:
            flags[param.field_name] = kwargs.pop(param.name)
    return flags
