"""One typed Settings object, built once (by the CLI or the app factory) and passed down.

Sources, strongest first: explicit overrides (command-line flags), environment variables
prefixed ``CITYKG_``, a TOML file (``--config``, ``CITYKG_CONFIG`` or ``./citykg.toml``), defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from kg_service.errors import ConfigError, DataDirError
from kg_service.namespaces import GraphNames

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
DEFAULT_CONFIG_FILE = Path("citykg.toml")

# The roles an API key can carry: read everything; write one department's datasets; everything.
ROLE_PATTERN = re.compile(r"reader|admin|writer:[a-z0-9][a-z0-9_-]*")
_KEY_HASH = re.compile(r"[0-9a-f]{64}")
# The GraphQL schema refuses larger pages whatever the setting (kg_service.api.schema.MAX_PAGE).
SCHEMA_MAX_PAGE = 1000


def check_roles(roles: object) -> list[str]:
    """A role or a list of roles, each ``reader``, ``admin`` or ``writer:<department>``."""
    given = [roles] if isinstance(roles, str) else roles
    if not isinstance(given, list | tuple) or not given or not all(isinstance(r, str) for r in given):
        raise ValueError("give a role, or a non-empty list of roles")
    for role in given:
        if not ROLE_PATTERN.fullmatch(role):
            raise ValueError(f"unknown role {role!r}: the roles are 'reader', 'admin' and "
                             "'writer:<department>' (a folder name under mappings/, e.g. 'writer:health')")
    return sorted(set(given))


def project_path(name: str) -> Path:
    """Locate a top-level project folder (``ontology``, ``mappings``).

    A source checkout (or an editable install) has it beside the package; a wheel carries a copy
    under ``kg_service/_bundled``.
    """
    package_dir = Path(__file__).resolve().parent
    beside = package_dir.parent / name
    return beside if beside.is_dir() else package_dir / "_bundled" / name


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "citykg"


class Settings(BaseSettings):
    """Everything configurable about one CityKG instance."""

    model_config = SettingsConfigDict(env_prefix="CITYKG_", extra="forbid", frozen=True)

    data_dir: Path = Field(default_factory=_default_data_dir, description="Where the store keeps its files.")
    base_iri: str = Field(
        "https://w3id.org/citykg/id/",
        description="Base for relative IRIs minted by mappings and for the named graphs.",
    )
    store: str = Field("oxigraph", description="Graph store backend, by registered name.")
    in_memory: bool = Field(False, description="Keep the store in memory instead of the data directory.")
    host: str = Field("127.0.0.1", description="Address the GraphQL server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the GraphQL server listens on.")
    # -- the neo4j backend (store = "neo4j"): any Neo4j 5 server, cluster or Aura instance ------------
    neo4j_uri: str = Field("bolt://127.0.0.1:7687",
                           description="Where the Neo4j server listens: bolt://, neo4j:// or neo4j+s:// (Aura).")
    neo4j_user: str = Field("neo4j", description="The Neo4j user CityKG signs in as.")
    neo4j_password: SecretStr = Field(SecretStr(""), description="That user's password (never logged).")
    neo4j_database: str = Field("neo4j", description="The Neo4j database CityKG uses (Community has one: neo4j).")
    neo4j_retry_seconds: float = Field(30.0, ge=0, description="How long a write is retried, with backoff, while "
                                                               "the server is briefly unavailable.")
    neo4j_sync: bool = Field(False, description="Project into Neo4j at the end of every ingest (always on when "
                                                "the store itself is neo4j).")
    log_level: LogLevel = "INFO"
    ontology_dir: Path = Field(default_factory=lambda: project_path("ontology"))
    mappings_dir: Path = Field(default_factory=lambda: project_path("mappings"))

    # -- the GraphQL server: who may ask, and how much one request may ask --------------------------
    api_keys: dict[str, list[str]] = Field(
        default_factory=dict,
        description="SHA-256 (hex) of each API key or bearer token -> its role(s): 'reader', "
                    "'writer:<department>', 'admin'. Only hashes are configured: 'citykg api-key' makes a key.",
    )
    anonymous: Literal["off", "read"] = Field(
        "off", description="What a request without credentials may do: nothing (401), or read.")
    max_query_depth: int = Field(10, ge=1, description="Deepest field nesting below a root field.")
    max_query_tokens: int = Field(2000, ge=10, description="Most lexical tokens in a GraphQL document.")
    max_aliases: int = Field(20, ge=0, description="Most aliased fields in a GraphQL document.")
    max_page_size: int = Field(SCHEMA_MAX_PAGE, ge=1, le=SCHEMA_MAX_PAGE,
                               description="Largest 'first' of a root field (the schema's own cap is 1000).")
    request_timeout: float = Field(30.0, gt=0, description="Seconds a GraphQL request may take before the "
                                                             "server answers with a timeout error.")

    @field_validator("base_iri")
    @classmethod
    def _base_iri_is_a_namespace(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "urn:")) or not value.endswith(("/", "#")):
            raise ValueError("must be an absolute http(s) IRI ending in '/' or '#'")
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _hashed_keys_and_roles(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        checked: dict[str, list[str]] = {}
        for digest, roles in value.items():
            normalised = str(digest).strip().lower()
            if not _KEY_HASH.fullmatch(normalised):
                # Never echo the entry: a key pasted here by mistake is a secret.
                raise ValueError("each entry must be the SHA-256 of a key (64 hex digits), not a key itself: "
                                 "make a key and its entry with 'citykg api-key ROLE'")
            try:
                checked[normalised] = check_roles(roles)
            except ValueError as error:
                raise ValueError(f"the key hashed {normalised[:12]}...: {error}") from None
        return checked

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def graphs(self) -> GraphNames:
        return GraphNames(self.base_iri)

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def parsed_vocabulary_file(self) -> Path | None:
        """Where the ontology and shapes are kept parsed (``load_vocabulary``); None for a store in
        memory, which leaves nothing in the data directory."""
        return None if self.in_memory else self.data_dir / "parsed-vocabulary.pickle"

    def ensure_data_dir(self) -> Path:
        """Create the data directory if it is missing and prove it is writable."""
        path = self.data_dir
        hint = "set CITYKG_DATA_DIR (or data_dir in citykg.toml) to a writable folder"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DataDirError(f"cannot create the data directory: {error.strerror}", where=str(path),
                               hint=hint) from error
        probe = path / f".write-probe-{uuid.uuid4().hex}"
        try:
            probe.touch()
            probe.unlink()
        except OSError as error:
            raise DataDirError(f"the data directory is not writable: {error.strerror}", where=str(path),
                               hint=hint) from error
        return path


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the Settings once; ``overrides`` (command-line flags) win over everything else.

    Raises ``ConfigError`` naming the file or variable at fault.
    """
    overrides = {key: value for key, value in overrides.items() if value is not None}
    path = config_file or _env_path("CITYKG_CONFIG") or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file()
                                                         else None)
    settings_cls: type[Settings] = Settings
    if path is not None:
        _check_toml(path)
        config = {**Settings.model_config, "toml_file": path}
        settings_cls = type("Settings", (Settings,), {"model_config": config})
    try:
        return settings_cls(**overrides)
    except SettingsError as error:  # an environment variable that should hold JSON (api_keys) does not
        raise ConfigError(f"{error}: it must be a JSON object", where=str(path) if path else "environment",
                          hint="see 'Configuration' in README.md") from error
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        origin = f"{path} or CITYKG_{field.upper()}" if path else f"CITYKG_{field.upper()}"
        raise ConfigError(f"setting '{field}' is invalid: {first['msg']}", where=origin,
                          hint="see 'Configuration' in README.md") from error


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _check_toml(path: Path) -> None:
    """Fail with the file and line instead of a parser traceback."""
    try:
        with path.open("rb") as handle:
            tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError("configuration file not found", where=str(path)) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}", where=str(path)) from error
