"""`create_server`: a pygls server, one `Session`, and the route table wired between them.

pygls calls each registered function with the message's params (or a command's arguments); the
function passes them on to the route's handler together with the session. Nothing else registers a
handler (routes.py is the whole list).
"""

from __future__ import annotations

import inspect
import logging

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from manyskills import __version__
from manyskills.lsp.protocol import ManySkillsProtocol
from manyskills.lsp.routes import COMMANDS, METHODS, Route, Runs
from manyskills.lsp.session import LoaderFactory, Session

log = logging.getLogger(__name__)


class ManySkillsServer(LanguageServer):
    """The pygls server; all state lives in `self.session`."""

    session: Session


def _method_entry(session: Session, route: Route):
    handler = route.handler
    if route.runs is Runs.BACKGROUND:
        async def entry(*args):
            return await handler(session, args[0] if args else None)
    else:
        def entry(*args):
            return handler(session, args[0] if args else None)
    return entry


def _command_entry(session: Session, route: Route):
    handler = route.handler
    if route.runs is Runs.BACKGROUND:
        async def entry(*args):
            return await handler(session, list(args))
    else:
        def entry(*args):
            return handler(session, list(args))
    return entry


def check_route(route: Route) -> None:
    """The table's LOOP/BACKGROUND claim must match the handler: a coroutine on the loop would never
    run to completion as the scheduler assumes, and a plain function marked BACKGROUND would block it."""
    is_async = inspect.iscoroutinefunction(route.handler)
    if is_async != (route.runs is Runs.BACKGROUND):
        raise TypeError(f"route {route.method!r}: {route.handler.__qualname__} is "
                        f"{'a coroutine' if is_async else 'a plain function'} but is marked {route.runs.name}")


def create_server(make_loader: LoaderFactory) -> ManySkillsServer:
    """`make_loader(settings, notify, root)` gives the engine's model loader (the caller picks local or service; `root()` is the workspace root)."""
    server = ManySkillsServer("manyskills", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
                              protocol_cls=ManySkillsProtocol)
    session = Session(server, make_loader)
    server.session = session
    for route in METHODS:
        check_route(route)
        server.feature(route.method, route.options)(_method_entry(session, route))
    for route in COMMANDS:
        check_route(route)
        server.command(route.method)(_command_entry(session, route))
    return server
