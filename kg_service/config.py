"""One typed Settings object, built once (by the CLI or the app factory) and passed down.

Sources, strongest first: explicit overrides (command-line flags), environment variables
prefixed ``CITYKG_``, a TOML file (``--config``, ``CITYKG_CONFIG`` or ``./citykg.toml``), defaults.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kg_service.errors import ConfigError, DataDirError
from kg_service.namespaces import GraphNames

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
DEFAULT_CONFIG_FILE = Path("citykg.toml")


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
    log_level: LogLevel = "INFO"
    ontology_dir: Path = Field(default_factory=lambda: project_path("ontology"))
    mappings_dir: Path = Field(default_factory=lambda: project_path("mappings"))

    @field_validator("base_iri")
    @classmethod
    def _base_iri_is_a_namespace(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "urn:")) or not value.endswith(("/", "#")):
            raise ValueError("must be an absolute http(s) IRI ending in '/' or '#'")
        return value

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
