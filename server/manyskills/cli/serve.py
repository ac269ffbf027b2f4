"""`manyskills serve`: the language server over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import logging
import sys

from manyskills.cli.exit_codes import EXIT_ERROR, EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--stdio", action="store_true", help="use stdio (the default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--log-file", help="write the server log to this file (stderr otherwise)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from manyskills.lsp.server import create_server
    from manyskills.service.backends import backend_loader

    if args.log_file:
        logging.getLogger().handlers[:] = [logging.FileHandler(args.log_file)]
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.INFO)
    if not args.verbose:
        logging.getLogger("pygls").setLevel(logging.WARNING)  # pygls logs every message at INFO
    server = create_server(backend_loader)  # the `engine` setting picks the local model or a model service
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"manyskills: --tcp expects HOST:PORT, got {args.tcp!r}", file=sys.stderr)
            return EXIT_ERROR
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        from manyskills.lsp.transport import ResyncingReader

        server.start_io(stdin=ResyncingReader(sys.stdin.buffer))
    return EXIT_OK
