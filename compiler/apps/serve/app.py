"""The web layer of `segc serve`: a Starlette app over a Playground (state.py).

Security, as Jupyter does it: the server listens on 127.0.0.1 only; a random token is in
the URL the CLI opens, and every request must carry it (`?token=`, the `X-Segc-Token`
header, or the cookie the first page load sets); the Host header must name this server
(a DNS-rebinding page has another host name), and a request with an Origin from
anywhere else is refused (a cross-site POST). Answers are JSON; errors are the
diagnostics' JSON shape of `segc check --format json`, never with a row's value."""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from segc.apps.serve.state import MAX_SAMPLE, Playground
from segc.front.errors import Diagnostic, SegcError, render_json

STATIC = Path(__file__).parent / "static"
TOKEN_HEADER = "x-segc-token"
MAX_BODY = 4 * 2**20  # a .seg file or an expression; the CLI takes larger ones


def make_app(playground: Playground, token: str, port: int):
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
    origins = {f"http://{h}" for h in hosts}
    cookie = f"segc_token_{port}"

    def allowed(request) -> bool:
        if request.headers.get("host") not in hosts:
            return False
        origin = request.headers.get("origin")
        if origin is not None and origin not in origins:
            return False
        if request.method == "POST" and request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
            return False
        given = (request.query_params.get("token") or request.headers.get(TOKEN_HEADER)
                 or request.cookies.get(cookie) or "")
        return secrets.compare_digest(given.encode(), token.encode())

    def guard(handler):
        async def endpoint(request):
            if not allowed(request):
                return Response("forbidden", status_code=403, media_type="text/plain")
            return await handler(request)
        return endpoint

    async def page(request):
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        response = HTMLResponse(html, headers={"Cache-Control": "no-store",
                                               "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",
                                               "X-Frame-Options": "DENY"})
        response.set_cookie(cookie, token, httponly=True, samesite="strict")
        return response

    async def static(request):
        name = request.path_params["name"]
        if name not in ("editor.js", "app.js", "style.css"):
            return Response("not found", status_code=404)
        return FileResponse(STATIC / name)

    def api(call):
        async def handler(request):
            raw = await _body(request)
            if raw is None:
                return _error(SegcError(Diagnostic("E971", f"the request body is over {MAX_BODY // 2**20} MB",
                                                   hints=("send one expression or one .seg file's text",))), 413)
            try:
                body = json.loads(raw or b"{}")
            except (ValueError, RecursionError):  # RecursionError: `[[[[...` nested past Python's stack
                body = None
            if not isinstance(body, dict):
                return _error(SegcError(Diagnostic("E971", "the request body is not a JSON object",
                                                   hints=('send {"expression": "...", "as_of": "..."}',))), 400)
            try:
                return JSONResponse(_plain(call(playground, body)))
            except SegcError as e:
                return _error(e, 422)
        return guard(handler)

    routes = [Route("/", guard(page)), Route("/static/{name}", guard(static))]
    routes += [Route(f"/api/{name}", api(call), methods=["POST"]) for name, call in CALLS.items()]
    return Starlette(routes=routes)


async def _body(request) -> bytes | None:
    """The request's body, or None past MAX_BODY (read no further: it is never held whole)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            return None
    return bytes(raw)


def _text(body: dict, key: str = "expression") -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise _bad_field(f"the request has no `{key}` string")
    return _unicode(key, value)


def _unicode(key: str, value: str) -> str:
    """JSON may carry a lone surrogate (`"\\ud800"`), which no file or engine takes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad_field(f"`{key}` is not valid Unicode (a lone surrogate)") from None
    return value


def _optional_text(body: dict, key: str) -> str | None:
    """`as_of` or `dialect`: a string, or left out (null) for the default."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad_field(f"`{key}` must be a string or left out")
    return value if value is None else _unicode(key, value)


def _rows(body: dict) -> int:
    """`n` of /api/sample: a whole number from 1 to MAX_SAMPLE, 20 when left out (or null)."""
    value = body.get("n")
    if value is None:
        return 20
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SAMPLE:
        raise _bad_field(f"`n` must be a whole number from 1 to {MAX_SAMPLE}")
    return value


def _bad_field(message: str) -> SegcError:
    return SegcError(Diagnostic("E971", message, hints=(
        'send {"expression": "...", "as_of": "YYYY-MM-DD", "dialect": "...", "n": 20} (as_of, dialect, n optional)',)))


def _check(pg: Playground, body: dict) -> dict:
    diags = pg.check(_text(body))
    return _diagnostics(diags)


CALLS = {
    "check": _check,
    "count": lambda pg, b: pg.count(_text(b), _optional_text(b, "as_of")),
    "compile": lambda pg, b: pg.compile(_text(b), _optional_text(b, "dialect"), _optional_text(b, "as_of")),
    "profile": lambda pg, b: pg.profile(_text(b), _optional_text(b, "as_of")),
    "overlap": lambda pg, b: pg.overlap(_text(b), _optional_text(b, "as_of")),
    "sample": lambda pg, b: pg.sample(_text(b), _rows(b), _optional_text(b, "as_of")),
    "segments": lambda pg, b: pg.segments(_optional_text(b, "as_of")),
    "save": lambda pg, b: pg.save(_text(b, "path"), _text(b, "text")),
}


def _diagnostics(diags) -> dict:
    """The shape of `segc check --format json`."""
    return json.loads(render_json(list(diags)))


def _error(e: SegcError, status: int):
    from starlette.responses import JSONResponse

    return JSONResponse(_diagnostics(e.diagnostics), status_code=status)


def _plain(value):
    """JSON-safe: dates and decimals as text/numbers."""
    import datetime as dt
    import decimal

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and value != value:
        return None
    return value


def listen(playground: Playground, port: int = 0):
    """(uvicorn server, its bound socket, the URL with the token): bound to 127.0.0.1 now,
    served by `server.run(sockets=[sock])` (serve, or a test's thread)."""
    import socket
    import uvicorn

    token = secrets.token_urlsafe(32)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body leave at once
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as e:
        sock.close()
        raise SegcError(Diagnostic("E972", f"cannot listen on 127.0.0.1:{port}: {e.strerror}",
                                   hints=("choose another --port, or leave it out for a free one",))) from None
    port = sock.getsockname()[1]
    app = make_app(playground, token, port)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    return server, sock, f"http://127.0.0.1:{port}/?token={token}"


def serve(playground: Playground, port: int = 0, open_browser: bool = True, ready=None) -> None:
    """Run the server until interrupted; `ready(url)` is called once it listens."""
    server, sock, url = listen(playground, port)
    if ready is not None:
        ready(url)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    server.run(sockets=[sock])
