"""`relgraph apikey …`: the API keys sales tools and GraphiQL send as a bearer token."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.auth import KeyStore, Scope
from api.cli.common import err, out
from graph.settings import get_settings

app = typer.Typer(help="API keys for `relgraph serve` (stored hashed under the data dir).",
                  no_args_is_help=True)


def _keys() -> KeyStore:
    return KeyStore(get_settings().api_keys_path)


@app.command("create")
def apikey_create(
    scope: Annotated[Scope, typer.Option("--scope", help="read, write (mutations) or admin")],
    name: Annotated[str, typer.Option("--name", help="who or what uses it")] = "",
) -> None:
    """Create a key and print its token once: it is stored only as a hash."""
    key, token = _keys().create(scope, name)
    err.print(f"created API key {key.id} ({key.scope}{', ' + key.name if key.name else ''}); "
              "the token below is shown only now:", highlight=False)
    print(token)


@app.command("list")
def apikey_list() -> None:
    """Every key: id, name, scope, when created, last used and revoked (never the token)."""
    keys = _keys().list()
    if not keys:
        out.print("No API keys yet: relgraph apikey create --scope read --name NAME")
        return
    table = Table()
    for col in ("id", "name", "scope", "created", "last used", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(k.id, k.name, k.scope.value, f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "-",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-")
    out.print(table)


@app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (see list)")]) -> None:
    """Revoke a key: a running server refuses it within seconds."""
    key = _keys().revoke(key_id)
    out.print(f"[green]revoked[/] {key.id} ({key.name or key.scope.value})")
