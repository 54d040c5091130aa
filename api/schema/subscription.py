"""The live customer feed over graphql-transport-ws: meaningful interactions as they happen,
from this server's mutations and from loads in other processes alike (api/feed.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.context import Info
from api.live import FeedSelection
from api.loaders import Loaders
from api.types.interaction import FeedFilter, Interaction, interaction


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Meaningful interactions as they happen: first logins, "
                                         "setups completed, pricing-page visits, data exports, "
                                         "concerns raised, new triggers at customers …")
    async def customer_feed(self, info: Info, filter: FeedFilter | None = None
                            ) -> AsyncGenerator[Interaction, None]:
        selection = FeedSelection.of(filter)
        context = info.context
        async with context.services.broker.subscription() as items:
            async for item in items:
                # Each event reads the graph anew: fresh loaders, nothing cached from before.
                context.loaders = Loaders(context.services.store)
                company = await selection.company_of(item, context.loaders)
                if await selection.accepts(item, company, context.loaders):
                    shown = interaction(item, company)
                    if shown is not None:
                        yield shown


__all__ = ["Subscription"]
