"""What the app holds for its lifetime: settings, the store, API keys, the feed's broker and the
write path. Built once by the app's lifespan (api/app.py) and found by every request as
`request.app.state.services`; FastAPI routes take it as `ServicesDep`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.analytics import AnalyticsService
from api.auth import Authenticator
from api.feed import Broker
from api.writes import Writer
from graph.settings import Settings
from graph.store import GraphStore


@dataclass
class Services:
    settings: Settings
    store: GraphStore
    auth: Authenticator
    broker: Broker
    writer: Writer
    analytics: AnalyticsService


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

__all__ = ["Services", "ServicesDep", "get_services"]
