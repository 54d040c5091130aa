"""`relgraph serve`: the GraphQL and REST service under uvicorn (api/app.py)."""

from __future__ import annotations

import errno
import logging.config
import socket
from typing import Annotated

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

from api.cli.common import err
from api.logs import log_config
from graph.settings import StoreKind, get_settings
from graph.store import open_store


def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on (RELGRAPH_API_HOST, "
                                                  "default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (RELGRAPH_API_PORT, default 8000)")
                    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
) -> None:
    """Serve the GraphQL API (/graphql), the REST look-ups (/v1/…) and /healthz, /readyz."""
    settings = get_settings()
    if settings.store is StoreKind.NEO4J:
        # Fail here with one clear line (server down, bad password) rather than in every worker
        # with a traceback; this also creates the constraints and indexes the questions need.
        open_store(settings).close()
    host, port = host or settings.api_host, port or settings.api_port
    _check_port(host, port)
    config = log_config(settings.log_level)
    logging.config.dictConfig(config)
    logging.getLogger("relgraph.api").info("relgraph serve", extra={
        "url": f"http://{host}:{port}/graphql", "workers": workers,
        "store": settings.store.value, "data_dir": str(settings.data_dir)})
    server = NoDelayConfig(
        "api.app:create_app", factory=True, host=host, port=port, workers=workers,
        log_config=config, access_log=False, proxy_headers=True, server_header=False,
        ws="websockets-sansio", lifespan="on")
    if workers > 1:
        Multiprocess(server, sockets=[server.bind_socket()]).run()
        return
    single = uvicorn.Server(server)
    single.run()
    if not single.started:
        raise typer.Exit(3)


def _check_port(host: str, port: int) -> None:
    """A taken port is one clear line and exit status 1, before anything starts (uvicorn would
    log the app ready first, then fail to bind)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        err.print(f"error: cannot listen on {host}:{port}: {exc.strerror}", soft_wrap=True)
        raise typer.Exit(1) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            why = "the port is taken" if exc.errno == errno.EADDRINUSE else exc.strerror
            err.print(f"error: cannot listen on {host}:{port}: {why} ({exc.strerror}); stop "
                      "what holds it, or choose another with --port or RELGRAPH_API_PORT",
                      soft_wrap=True)
            raise typer.Exit(1) from None


class NoDelayConfig(uvicorn.Config):
    """uvicorn's config, with TCP_NODELAY on the listening socket it shares with its workers.

    uvicorn creates that socket with protocol 0, and asyncio sets TCP_NODELAY only on accepted
    connections whose protocol says TCP: with `--workers N` every response waited ~40 ms for the
    client's delayed ACK (Nagle). Linux hands the listener's TCP_NODELAY to the connections it
    accepts."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
