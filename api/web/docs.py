"""The REST look-ups' OpenAPI, for anyone with a key: GET /openapi.json and GET /docs.

/openapi.json needs a key like the routes it describes (a bearer token or the sign-in cookie:
401 without). /docs is Swagger UI from this package's files (`/static/vendor/`, npm's
swagger-ui-dist copied by scripts/build-assets; its validator badge, which would call
validator.swagger.io, is off) and signs a browser in like every screen (api/web/signin.py); its
"Try it out" asks with the same cookie, as a read key.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, JSONResponse

from api.rest import KeyDep
from api.web.signin import ScreenUser

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi(request: Request, _: KeyDep) -> JSONResponse:
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)


@router.get("/docs")
async def docs(_: ScreenUser) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="Relationship Graph · REST look-ups",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
        swagger_favicon_url="/static/vendor/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None, "deepLinking": True})


__all__ = ["router"]
