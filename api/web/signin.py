"""Sign-in for the screens: an API key, asked once and kept in an HttpOnly cookie.

    GET  /signin?next=/path     the form: one password field, "API key"
    POST /signin                form-encoded `key` and `next`: a valid key sets the cookie and
                                redirects (303) to `next`; a wrong one shows the form again (401)
    POST /signout               clears the cookie, back to /signin
    GET  /any/screen?key=TOKEN  signs in the same way and redirects to the same path without the
                                key, so a wall screen can be started from a command line

Any valid key signs in; the cookie's key counts as a read key everywhere, GraphQL included
(api/context.py `authenticate`): a page can ask but never write. The cookie (`COOKIE`) is
HttpOnly (no script reads it), SameSite=Strict (no other site's request carries it), Path=/,
Secure over https, and lasts `MAX_AGE` — or until the key is revoked, when the next page asks
for a key again.

A screen (api/web/screens.py) takes the signed-in key as a dependency:

    @router.get("/")
    async def feed(request: Request, user: ScreenUser) -> Response: ...

`ScreenUser` first honours `?key=` (`key_in_query`), then the cookie or a bearer header; a
browser with neither is redirected to `/signin?next=<its path>`. Both answers are raised as
`PageAnswer` (the redirect as its subclass `SignInRequired`), which the handler `mount`
registers turns into the response. `next` is only ever a path on this site (`safe_next`): an
address like `//evil.example` or `https://…` sends the browser to `/` instead.

A key in a link stays in the browser's history and in whatever logged the link: `?key=` suits a
wall screen's read key, not an admin's (this server logs paths without their query).
"""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.auth import SESSION_COOKIE, Principal
from api.context import authenticate, same_origin
from api.errors import RateLimited, Unauthenticated
from api.services import Services

COOKIE = SESSION_COOKIE
MAX_AGE = 30 * 24 * 3600  # seconds: a wall screen signs in once a month
FORM_LIMIT = 8192  # bytes: a key and a path
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")

router = APIRouter(include_in_schema=False)


class PageAnswer(Exception):  # noqa: N818 - not an error: the answer a page gives instead
    """A page's dependency answers the request itself (a redirect, the sign-in form)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class SignInRequired(PageAnswer):
    """No key: the browser goes to the sign-in form, which brings it back to `next`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(RedirectResponse(f"/signin?next={quote(safe_next(next_path))}", 303,
                                          headers=NO_STORE))
        self.next_path = next_path


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else `/`: never another host (`//evil`,
    `/\\evil`, `https://…`), never a control character a browser would drop."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def this_page(request: Request) -> str:
    """The request's path and query, without a `key` parameter."""
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "key"]
    return request.url.path + (f"?{urlencode(rest)}" if rest else "")


async def screen_principal(request: Request) -> Principal | None:
    """The signed-in key (the cookie's, as a read key) or a bearer header's; None without a
    valid one. A client over its limits still gets RateLimited (429)."""
    try:
        return await authenticate(request)
    except Unauthenticated:
        return None


async def key_in_query(request: Request) -> Response | None:
    """For `GET …?key=TOKEN`: a valid key sets the cookie and redirects (303) to the same page
    without the key; a wrong one answers with the sign-in form (401). None without `key`."""
    token = request.query_params.get("key")
    if token is None or request.method != "GET":
        return None
    target = this_page(request)
    refused = await _check(request, token, target)
    if refused is not None:
        return refused
    return signed_in(request, RedirectResponse(target, 303, headers=NO_STORE), token)


async def require_screen_user(request: Request) -> Principal:
    """The dependency behind `ScreenUser`: `?key=`, then the cookie or a bearer header, else
    a redirect to the sign-in form."""
    answer = await key_in_query(request)
    if answer is not None:
        raise PageAnswer(answer)
    principal = await screen_principal(request)
    if principal is None:
        raise SignInRequired(this_page(request))
    return principal


ScreenUser = Annotated[Principal, Depends(require_screen_user)]


def signed_in(request: Request, response: Response, token: str) -> Response:
    """`response` with the sign-in cookie set to `token`."""
    response.set_cookie(COOKIE, token, max_age=MAX_AGE, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


async def _check(request: Request, token: str, target: str) -> Response | None:
    """None when `token` is a valid key; else the form again with why."""
    services: Services = request.app.state.services
    address = request.client.host if request.client else "unknown"
    try:
        principal = await services.auth.admit(token.strip() or None, address)
    except RateLimited as exc:
        return form(target, exc.message, status=429, headers=exc.headers)
    if principal is None:
        return form(target, "That is not a valid API key (mistyped, or revoked).", status=401)
    return None


def form(next_path: str = "/", error: str | None = None, *, status: int = 200,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    """The sign-in page."""
    problem = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    page = _PAGE.format(next=html.escape(safe_next(next_path), quote=True), error=problem)
    return HTMLResponse(page, status, headers={**NO_STORE, **(headers or {}),
                                               "Content-Security-Policy": PAGE_POLICY})


@router.get("/signin")
async def signin_form(next: str = "/") -> HTMLResponse:
    return form(next)


@router.post("/signin")
async def signin(request: Request) -> Response:
    if not same_origin(request):  # another site's form: no signing a visitor in to its key
        return form("/", "Sign in from this site's own page.", status=403)
    fields = dict(parse_qsl((await request.body())[:FORM_LIMIT].decode("utf-8", "replace")))
    target = safe_next(fields.get("next"))
    refused = await _check(request, fields.get("key", ""), target)
    if refused is not None:
        return refused
    return signed_in(request, RedirectResponse(target, 303, headers=NO_STORE),
                     fields["key"].strip())


@router.post("/signout")
async def signout(request: Request) -> Response:
    response = RedirectResponse("/signin", 303, headers=NO_STORE)
    if same_origin(request):
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")
    return response


async def _page_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageAnswer)
    return exc.response


def install(app: FastAPI) -> None:
    """The sign-in routes and the handler that answers `PageAnswer`."""
    app.add_exception_handler(PageAnswer, _page_answer)
    app.include_router(router)


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sign in · Relationship Graph</title>
<link rel="stylesheet" href="/static/signin.css">
</head>
<body>
<main>
<h1>Relationship Graph</h1>
<form method="post" action="/signin">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus
       placeholder="rgk_…">
<input type="hidden" name="next" value="{next}">
{error}
<button type="submit">Sign in</button>
</form>
<p class="hint">An operator creates a key with <code>relgraph apikey create --scope read</code>.
A read key is enough for every screen.</p>
</main>
</body>
</html>
"""

__all__ = ["COOKIE", "MAX_AGE", "PageAnswer", "ScreenUser", "SignInRequired", "form", "install",
           "key_in_query", "require_screen_user", "router", "safe_next", "screen_principal",
           "signed_in", "this_page"]
