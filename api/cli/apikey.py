"""`relgraph apikey …`: the API keys sales tools and GraphiQL send as a bearer token."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from api.auth import KeyStore, Scope
from api.cli.common import err, out
from api.errors import BadUserInput
from api.types.scalars import parse_duration
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
    """Every key: id, name, scope, when created, last used, revoked and (rotated) expires;
    never the token."""
    keys = _keys().list()
    if not keys:
        out.print("No API keys yet: relgraph apikey create --scope read --name NAME")
        return
    table = Table()
    for col in ("id", "name", "scope", "created", "last used", "revoked", "expires"):
        table.add_column(col)
    for k in keys:
        expires = "-"
        if k.expires_at is not None:
            expires = f"{k.expires_at:%Y-%m-%d %H:%M}" + \
                (f" (rotated to {k.replaced_by})" if k.replaced_by else "")
        table.add_row(k.id, k.name, k.scope.value, f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "-",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-", expires)
    out.print(table)


@app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (see list)")]) -> None:
    """Revoke a key: a running server refuses it within seconds."""
    key = _keys().revoke(key_id)
    out.print(f"[green]revoked[/] {key.id} ({key.name or key.scope.value})")


@app.command("rotate")
def apikey_rotate(
    key_id: Annotated[str, typer.Argument(help="the key's id (see list)")],
    grace: Annotated[str, typer.Option(
        "--grace", help="how long the old token keeps working: hours, days or weeks "
                        "(36h, 7d, 2w), or 0 to stop it at once")] = "24h",
) -> None:
    """Replace a key: a new token of the same name and scope, printed once; the old one keeps
    working for the grace period (default 24h), then stops."""
    try:
        period = timedelta(0) if grace.strip() in ("0", "0h", "0d") else parse_duration(grace)
    except BadUserInput as exc:
        raise typer.BadParameter(exc.message, param_hint="--grace") from None
    new, token, old = _keys().rotate(key_id, period)
    assert old.expires_at is not None
    err.print(f"rotated API key {old.id} to {new.id} ({new.scope}"
              f"{', ' + new.name if new.name else ''}); the old token works until "
              f"{old.expires_at:%Y-%m-%d %H:%M:%S} UTC; the new token below is shown only now:",
              highlight=False)
    print(token)
