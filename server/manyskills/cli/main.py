"""Entry point: `manyskills {serve,check,info,model-server,train,eval,calibrate}`."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from manyskills import __version__
from manyskills.cli.exit_codes import EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    from manyskills.cli import adapt, calibrate, check, info, model_server, models, serve, train

    parser = argparse.ArgumentParser(prog="manyskills", description="ManySkills: local-first AI code analysis (language server, checks, training).")
    parser.add_argument("--version", action="version", version=f"manyskills {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (serve, check, info, models, model_server, adapt, calibrate):
        module.add_parser(sub)
    train.add_parsers(sub)  # train, eval, data
    return parser


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=FutureWarning)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
