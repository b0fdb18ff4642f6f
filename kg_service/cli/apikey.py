"""``citykg api-key``: make an API key for the GraphQL server, and the settings entry that lets it in.

The server keeps only each key's SHA-256 (the ``api_keys`` setting), so the key is printed once,
here, and nowhere else.
"""

from __future__ import annotations

import json
import secrets
import sys
from typing import Annotated

import typer

from kg_service.cli._shared import err
from kg_service.config import check_roles
from kg_service.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command(name="api-key", epilog="Exit codes: 0 printed; 2 an unknown role or no key on stdin.")(api_key)


def api_key(
    roles: Annotated[list[str], typer.Argument(metavar="ROLE...",
                                               help="The key's roles: reader, admin or writer:<department>.")],
    stdin: Annotated[bool, typer.Option("--stdin", help="Hash a key read from standard input instead of "
                                                       "making a new one.")] = False,
) -> None:
    """Make a new API key (or hash one from stdin) and print the api_keys entry for citykg.toml."""
    from kg_service.api.security import hash_key

    try:
        checked = check_roles(roles)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if stdin:
        key = sys.stdin.read().strip()
        if not key:
            raise ConfigError("no key on standard input", hint="printf %s \"$KEY\" | citykg api-key reader --stdin")
    else:
        key = secrets.token_urlsafe(32)
        err.print("the new key (give it to whoever uses it; CityKG keeps only its hash, so it cannot be shown "
                  "again):", markup=False, highlight=False)
        typer.echo(key)
    digest = hash_key(key)
    value = json.dumps(checked[0] if len(checked) == 1 else checked)
    err.print("its entry, for citykg.toml (or CITYKG_API_KEYS as a JSON object):", markup=False, highlight=False)
    typer.echo(f'[api_keys]\n"{digest}" = {value}')
