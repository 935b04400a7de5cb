"""``serve``: the web app on this computer; the command line's launcher of validator.web, the only module of the
command line that imports it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from .screen import Screen


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("serve", help="a web app on this computer: choose the files in a browser, read the report")
    w.add_argument("--port", type=int, default=0, help="the port to listen on (default: a free one)")
    w.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1, this computer)")
    w.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than this computer's loopback address (other computers could then reach it)",
    )
    w.add_argument("--no-browser", action="store_true", help="do not open the browser")
    w.add_argument("--max-upload-mb", type=int, default=500, help="the largest upload, in MB (default 500)")


def run(args: argparse.Namespace, out: Screen, err: Screen) -> int:
    from ..web.server import RemoteBindError, run

    try:
        return run(
            args.host,
            args.port,
            allow_remote=args.allow_remote,
            open_browser=not args.no_browser,
            max_upload=args.max_upload_mb * 1024 * 1024,
        )
    except RemoteBindError as exc:
        raise UsageError(str(exc), title="cannot serve") from None
    except OSError as exc:
        raise UsageError(str(exc.strerror or exc), title=f"cannot serve on {args.host} port {args.port}") from None
