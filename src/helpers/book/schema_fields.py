"""Typed page parameters: numbers, choices, grids and flags with their allowed values, checked before any work."""
from __future__ import annotations

import json
from typing import Annotated, Literal, Optional
from pydantic import BaseModel, ConfigDict, Field, model_validator


class ParameterError(ValueError):
    """A notebook parameter that is not allowed (raised before any calculation)."""


# --- building blocks: each carries the sentence that says what is allowed -----------------------

def _interval(lo, hi, lo_open, hi_open) -> str:
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def number(lo: float, hi: float, unit: str = "", what: str = "a number", lo_open: bool = False,
           hi_open: bool = False, optional: str | None = None):
    """A finite number in [lo, hi] (an end is excluded with lo_open/hi_open); `optional`, if given,
    says what None means (None then allowed)."""
    bounds = {("gt" if lo_open else "ge"): lo, ("lt" if hi_open else "le"): hi}
    text = f"{what} in {_interval(lo, hi, lo_open, hi_open)}{' ' + unit if unit else ''}"
    if optional:
        text = f"None ({optional}) or {text}"
    t = Annotated[float, Field(allow_inf_nan=False, **bounds)]
    return Annotated[Optional[t] if optional else t,
                     _field(text, ("number", lo, hi, lo_open, hi_open, bool(optional)))]


def numbers(lo: float, hi: float, unit: str = "", what: str = "numbers", lo_open: bool = False,
            hi_open: bool = False, optional: str | None = None, length: int | None = None):
    """A non-empty list of finite numbers, each in [lo, hi] (or exactly `length` of them)."""
    bounds = {("gt" if lo_open else "ge"): lo, ("lt" if hi_open else "le"): hi}
    item = Annotated[float, Field(allow_inf_nan=False, **bounds)]
    size = dict(min_length=length, max_length=length) if length else dict(min_length=1)
    count = f"a list of {length}" if length else "a non-empty list of"
    text = f"{count} {what}, each in {_interval(lo, hi, lo_open, hi_open)}{' ' + unit if unit else ''}"
    if optional:
        text = f"None ({optional}) or {text}"
    t = Annotated[list[item], Field(**size)]
    return Annotated[Optional[t] if optional else t,
                     _field(text, ("numbers", lo, hi, lo_open, hi_open, bool(optional), length))]


def choice(options, what: str = "one of"):
    """One of `options` (strings)."""
    options = list(options)
    return Annotated[Literal[tuple(options)], _field(f"{what} {options}", ("choice", options))]


def choices(options, empty: bool = False, what: str = "a list of"):
    """A list of distinct entries of `options` (non-empty unless `empty`)."""
    options = list(options)
    t = Annotated[list[Literal[tuple(options)]], Field(min_length=0 if empty else 1)]
    text = (f"{what if empty else 'a non-empty list of'} distinct entries of {options}"
            + (" ([] allowed)" if empty else ""))
    return Annotated[t, _field(text, ("choices", options, empty))]


def flag(optional: str | None = None):
    """True or False (or None, meaning `optional`)."""
    if optional:
        return Annotated[Optional[bool], _field(f"None ({optional}), True or False", ("flag", True))]
    return Annotated[bool, _field("True or False", ("flag", False))]


def integer(lo: int, hi: int, what: str = "an integer", optional: str | None = None):
    """An integer in [lo, hi] (not a bool, not a float)."""
    t = Annotated[int, Field(ge=lo, le=hi)]
    text = f"{what} in [{lo}, {hi}]"
    if optional:
        text = f"None ({optional}) or {text}"
    return Annotated[Optional[t] if optional else t, _field(text, ("int", lo, hi, bool(optional)))]


def _field(text: str, spec: tuple):
    """The field's sentence of what is allowed, and its declaration as data (tests draw values
    outside it)."""
    return Field(description=text, json_schema_extra={"spec": list(spec)})


def grid(optional: str = "the profile's"):
    item = Annotated[int, Field(ge=1, le=64)]
    t = Annotated[list[item], Field(min_length=3, max_length=3)]
    return Annotated[Optional[t], _field(f"None ({optional}) or three integers in [1, 64] (k points along a, b, c)",
                                         ("grid",))]


def setting(name: str, lo: float, hi: float, unit: str, what: str, integer: bool = False, lo_open=False):
    """A DFT setting of helpers.store.params (None: the profile's value), with the range of params.RULES."""
    if integer:
        return integer_(lo, hi, what, optional="the profile's")
    return number(lo, hi, unit, what, lo_open=lo_open, optional="the profile's")


integer_ = integer


class Page(BaseModel):
    """Base of the page schemas: strict types, every field declared."""
    model_config = ConfigDict(strict=True, extra="forbid")

    @model_validator(mode="after")
    def _distinct_and_windows(self):
        for name, info in type(self).model_fields.items():
            v = getattr(self, name)
            if "distinct entries" in (info.description or "") and isinstance(v, list) and len(set(v)) != len(v):
                raise ValueError(f"{name}={v!r} is not allowed: must be {info.description} (a value is repeated)")
            if name == "pd_window" and not v[0] < 0 < v[1]:
                raise ValueError(f"pd_window={v!r} is not allowed: must be [low, high] eV with low < 0 < high")
        return self


def j_at_most_u3(J: float, U: float, j_name: str, u_name: str) -> None:
    if J > U / 3 + 1e-12:
        raise ValueError(f"{j_name}={J!r} is not allowed: must be at most {u_name}/3 = {U / 3:.4g} eV "
                         f"({u_name} = {U:g} eV; the Slater integrals need J <= U/3)")


def below(low, high, low_name: str, high_name: str) -> None:
    if low is not None and not low < high:
        raise ValueError(f"{low_name}={low!r} is not allowed: must be below {high_name} = {high:g} eV")


def parse_value(text: str):
    """A command-line parameter value: JSON (numbers, lists, true/false/null), Python literals
    (None, True, False), else the text itself."""
    import ast
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, SyntaxError):
            pass
    return text
