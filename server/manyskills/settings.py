"""User settings: one typed, defaulted object under the `manyskills` section.

Read from `initializationOptions`, `workspace/configuration` and `workspace/didChangeConfiguration`
(LSP) or from flags (CLI). Invalid values never crash anything: each bad field falls back to its
default and is reported in one message; a `null` section means "all defaults".
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any, Literal

import attrs
import cattrs

from manyskills.index.languages import LANGUAGE_NAMES as ALL_LANGUAGES  # the one language list

DEVICES = ("auto", "cpu", "cuda")
ENGINE_FALLBACKS = ("none", "local")
SECRET_SETTINGS = frozenset({"engineToken"})  # never echoed in messages or logs


@attrs.frozen
class SkillToggles:
    defect: bool = True
    review: bool = True
    clone: bool = True
    search: bool = True
    flaky: bool = True

    def enabled(self) -> tuple[str, ...]:
        return tuple(name for name, on in attrs.asdict(self).items() if on)


def _unit_interval(_inst: Any, attribute: attrs.Attribute, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value}")


def check_engine_url(url: str) -> str:
    """The URL without a trailing slash, or ValueError saying what is wrong with it."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"engine must be 'local' or an http(s)://host:port URL, got {url!r}")
    if parsed.query or parsed.fragment:
        raise ValueError(f"engine URL must not have a query or fragment: {url!r}")
    return url.rstrip("/")


def _engine(_inst: Any, _attribute: attrs.Attribute, value: str) -> None:
    if value != "local":
        check_engine_url(value)


def _within(low: float, high: float, unit: str = "") -> Any:
    """A validator for a documented range (README "Settings"): values outside it are rejected, so a
    setting can never stall analysis (debounceMs 1e12) or exhaust memory (cacheSize 1e12)."""

    def check(_inst: Any, attribute: attrs.Attribute, value: float) -> None:
        if not low <= value <= high:  # also rejects NaN
            raise ValueError(f"{attribute.name} must be between {low:,}{unit} and {high:,}{unit}, got {value}")

    return check


MIN_TOKEN_CHARS = 16  # the model service's bearer token (service/auth.py applies it)
MAX_TOKEN_CHARS = 4096


class TokenError(ValueError):
    """A token that cannot be used (the message never contains it)."""


def check_token(token: str) -> str:
    """The token, or TokenError: printable ASCII without spaces (it travels in an HTTP header), and long
    enough not to be guessed (`python -c "import secrets; print(secrets.token_urlsafe(32))"`)."""
    if not isinstance(token, str):
        raise TokenError(f"the service token must be a string, got {type(token).__name__}")
    if not MIN_TOKEN_CHARS <= len(token) <= MAX_TOKEN_CHARS:
        raise TokenError(f"the service token must have {MIN_TOKEN_CHARS} to {MAX_TOKEN_CHARS} characters, "
                         f"got {len(token)}")
    if not all("!" <= ch <= "~" for ch in token):
        raise TokenError("the service token must be printable ASCII without spaces")
    return token


def _engine_token(_inst: Any, _attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None:
        check_token(value)


def _model(_inst: Any, _attribute: attrs.Attribute, value: str | None) -> None:
    """A registry name, or a local directory (its contents are checked when the model loads)."""
    if not value:  # None or "": the embedded default
        return
    from manyskills.model import registry

    if registry.get(value) is None and "/" not in value and "\\" not in value and not os.path.isdir(value):
        raise ValueError(f"unknown model {value!r}: use one of {', '.join(registry.names())} "
                         "or the path of a local Hugging Face model directory")


def _project_adapter(_inst: Any, _attribute: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 4096:
        raise ValueError("projectAdapter must be \"auto\", \"off\" or an adapter directory")


def _known_languages(_inst: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(ALL_LANGUAGES))
    if unknown:
        raise ValueError(f"unknown languages {unknown}; supported: {', '.join(ALL_LANGUAGES)}")


@attrs.frozen
class Settings:
    # defect warnings; None = the adapter's calibrated default (manyskills.json "thresholds")
    threshold: float | None = attrs.field(default=None, validator=_unit_interval)
    flaky_threshold: float | None = attrs.field(default=None, validator=_unit_interval)  # None = adapter's
    clone_threshold: float = attrs.field(default=0.95, validator=_unit_interval)
    skills: SkillToggles = SkillToggles()
    device: Literal["auto", "cpu", "cuda"] = attrs.field(default="auto", validator=attrs.validators.in_(DEVICES))
    # a registry name (`manyskills models list`) or a local directory of an HF causal LM; None = embedded default
    model: str | None = attrs.field(default=None, validator=_model)
    adapter: str | None = None  # adapter directory; None = the shipped adapter
    # "auto" = <workspace>/.manyskills/adapter when `manyskills adapt` marked it active; "off"; or a directory
    project_adapter: str = attrs.field(default="auto", validator=_project_adapter)
    debounce_ms: int = attrs.field(default=300, validator=_within(0, 10_000, " ms"))
    max_file_bytes: int = attrs.field(default=1_000_000, validator=_within(1_000, 50_000_000, " bytes"))
    languages: tuple[str, ...] = attrs.field(default=ALL_LANGUAGES, converter=tuple, validator=_known_languages)
    cache_size: int = attrs.field(default=50_000, validator=_within(100, 1_000_000))  # cached function results
    # "local" = the model runs in this process; "http://host:port" = a shared model service (model-server).
    engine: str = attrs.field(default="local", validator=[attrs.validators.instance_of(str), _engine])
    engine_fallback: Literal["none", "local"] = attrs.field(default="none",
                                                            validator=attrs.validators.in_(ENGINE_FALLBACKS))
    # seconds per service call, retries included
    engine_timeout: float = attrs.field(default=30.0, validator=_within(1, 600, " s"))
    # bearer token for a model service started with a token; None = MANYSKILLS_SERVICE_TOKEN, if set.
    # Kept out of repr and of messages: settings are logged.
    engine_token: str | None = attrs.field(default=None, repr=False, validator=_engine_token)

    def model_key(self) -> tuple:
        """Settings that change which model is loaded (a change reloads the engine, not the server)."""
        return (self.model, self.adapter, self.project_adapter, self.device, self.engine, self.engine_fallback, self.engine_timeout,
                self.engine_token)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_converter = cattrs.Converter(forbid_extra_keys=False)
for _cls in (Settings, SkillToggles):
    _converter.register_structure_hook(
        _cls,
        cattrs.gen.make_dict_structure_fn(
            _cls, _converter, **{f.name: cattrs.gen.override(rename=_camel(f.name)) for f in attrs.fields(_cls)}
        ),
    )
    _converter.register_unstructure_hook(
        _cls,
        cattrs.gen.make_dict_unstructure_fn(
            _cls, _converter, **{f.name: cattrs.gen.override(rename=_camel(f.name)) for f in attrs.fields(_cls)}
        ),
    )


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from a client's JSON (`{"threshold": 0.4, ...}`), plus one message per rejected field.

    `raw` is a whole configuration snapshot: absent fields take their defaults. A bad field keeps its
    value from `base` (the settings in force), so a typo never silently resets a working setup."""
    base = base or Settings()
    if raw is None:
        return Settings(), []
    if not isinstance(raw, dict):
        return base, [f"settings must be an object, got {type(raw).__name__}; using defaults"]
    if "manyskills" in raw and isinstance(raw["manyskills"], dict | None):
        raw = raw["manyskills"] or {}  # clients that send the whole configuration tree
    previous = _converter.unstructure(base)
    current = _converter.unstructure(Settings())
    errors: list[str] = []
    for key, value in raw.items():
        if key not in current:
            errors.append(f"unknown setting {key!r} ignored")
            continue
        candidate = dict(current)
        if key == "skills" and isinstance(value, dict):
            value = {**current["skills"], **value}
        candidate[key] = value
        try:
            _converter.structure(candidate, Settings)
        except Exception as exc:  # noqa: BLE001 - cattrs raises class groups; any failure means "bad field"
            shown, kept = (("<hidden>", "<hidden>") if key in SECRET_SETTINGS else (repr(value), repr(previous[key])))
            errors.append(f"invalid value for {key!r} ({shown}): {_first_message(exc)}; keeping {kept}")
            current[key] = previous[key]
            continue
        current = candidate
    return _converter.structure(current, Settings), errors


def settings_to_json(settings: Settings) -> dict[str, Any]:
    return _converter.unstructure(settings)


def _first_message(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError) and exc.exceptions:
        return _first_message(exc.exceptions[0])
    return str(exc)
