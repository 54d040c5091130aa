"""The browser side of `relgraph serve`: static files, sign-in, GraphiQL, /docs and the screens.

    mount(app, settings)    called once by api/app.py's create_app

mounts this package's `static/` at /static (found through importlib.resources, so an installed
wheel serves its own copy; `static/vendor/` is built by scripts/build-assets from npm, never
fetched at run time), and includes the sign-in routes (signin.py), /docs and /openapi.json
(docs.py) and, when the module exists, the screens' router (`screens.router`). GraphiQL
(graphiql.py) is rendered by the GraphQL router itself at GET /graphql.
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import docs, signin
from graph.settings import Settings

SCREENS = "api.web.screens"


def static_dir() -> Path:
    """This package's static files, where the installed package keeps them."""
    return Path(str(files(__name__).joinpath("static")))


def mount(app: FastAPI, settings: Settings) -> None:
    """Static files at /static, the sign-in, /docs, and the screens if they are installed."""
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    signin.install(app)
    app.include_router(docs.router)
    if importlib.util.find_spec(SCREENS) is not None:
        screens: APIRouter = importlib.import_module(SCREENS).router
        app.include_router(screens)


__all__ = ["mount", "static_dir"]
