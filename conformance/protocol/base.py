"""`McpModel`: the base of every protocol model, with per-revision field gating.

One pydantic class per spec type serves every revision. The revision being validated travels
in the validation context (`Model.model_validate(data, context={"revision": "2025-06-18"})`)
and each class declares how it differs between revisions:

- `present_in` maps a wire key to the revisions in which the spec defines it. In any other
  revision the key is an unknown extension field: it is removed before validation, so it is
  never type-checked (the official schema of that revision would not check it either).
- `required_in` maps a wire key to the revisions in which it is required (declare the field
  with a default so that pydantic itself does not require it in every revision).
- `revision_checks()` adds checks that depend on the revision and do not fit a type, such as
  "structuredContent must be an object before 2026-07-28".

All models use `extra="allow"` (the spec schemas never set `additionalProperties: false`) and
`strict=True` (no "1" -> 1, no 1 -> True). Extras are kept and never validated; declared fields
are validated whatever else the object carries.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .revisions import LATEST

#: A revision-dependent problem found on the raw object: (loc inside the object, error type,
#: message). The message is final (no further formatting).
Problem = tuple[tuple[str | int, ...], str, str]


def revision_of(info: ValidationInfo | None) -> str:
    """The revision under validation; LATEST when a caller passes no context."""
    context = info.context if info is not None else None
    if isinstance(context, Mapping):
        revision = context.get("revision")
        if isinstance(revision, str):
            return revision
    return LATEST


def _detail(loc: tuple[str | int, ...], kind: str, message: str, value: Any) -> InitErrorDetails:
    # The message is passed through the context so that braces in it are never treated as
    # template placeholders.
    return InitErrorDetails(
        type=PydanticCustomError(kind, "{message}", {"message": message}),
        loc=loc,
        input=value,
    )


def _rebuild(exc: ValidationError) -> list[InitErrorDetails]:
    out: list[InitErrorDetails] = []
    for err in exc.errors(include_url=False):
        ctx = dict(err.get("ctx") or {})
        ctx.setdefault("message", err["msg"])
        ctx = {k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in ctx.items()}
        out.append(
            InitErrorDetails(
                type=PydanticCustomError(err["type"], "{message}", ctx),
                loc=tuple(err["loc"]),
                input=err.get("input"),
            )
        )
    return out


class McpModel(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=False, frozen=True)

    #: wire key -> revisions in which the spec defines it (absent: every revision).
    present_in: ClassVar[Mapping[str, frozenset[str]]] = {}
    #: wire key -> revisions in which it is required (absent: as the annotation says).
    required_in: ClassVar[Mapping[str, frozenset[str]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # Subclasses extend (never drop) the gates of their bases.
        super().__pydantic_init_subclass__(**kwargs)
        for name in ("present_in", "required_in"):
            merged: dict[str, frozenset[str]] = {}
            for klass in reversed(cls.__mro__):
                merged.update(klass.__dict__.get(name, {}))
            setattr(cls, name, merged)

    @classmethod
    def revision_checks(cls, data: dict[str, Any], revision: str) -> Iterable[Problem]:
        """Extra revision-dependent checks on the raw (already pruned) object."""
        return ()

    @model_validator(mode="wrap")
    @classmethod
    def _per_revision(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        revision = revision_of(info)
        gated = cls.present_in
        pruned = {k: v for k, v in data.items() if k not in gated or revision in gated[k]} if gated else data
        problems = [
            _detail((key,), "missing", "Field required", pruned)
            for key, revisions in cls.required_in.items()
            if revision in revisions and key not in pruned
        ]
        problems += [_detail(loc, kind, message, pruned) for loc, kind, message in cls.revision_checks(pruned, revision)]
        try:
            model = handler(pruned)
        except ValidationError as exc:
            if not problems:
                raise
            raise ValidationError.from_exception_data(cls.__name__, _rebuild(exc) + problems) from None
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return model
