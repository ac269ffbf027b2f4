"""`manyskills model-server`: deploy the model service on Ray Serve and keep it running.

`--address local` (default) starts a Ray instance in this process; `--address HOST:PORT|auto|ray://...`
deploys onto a running cluster (model and adapter paths must then exist on the cluster's nodes).
With `--token-file` or MANYSKILLS_SERVICE_TOKEN every route but /healthz needs the bearer token; serving
beyond loopback without one is refused unless `--insecure` says that is meant.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import urllib.request

from manyskills.cli.exit_codes import EXIT_ERROR, EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("model-server", help="serve the model to many editors over HTTP (Ray Serve)")
    p.add_argument("--address", default="local", help="'local' (default), 'auto', HOST:PORT or ray://HOST:10001")
    p.add_argument("--host", default="127.0.0.1", help="HTTP bind address (0.0.0.0 to serve a team)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--replicas", type=int, default=1)
    p.add_argument("--num-cpus", type=float, default=1.0, help="CPUs reserved per replica")
    p.add_argument("--num-gpus", type=float, default=0.0, help="GPUs per replica (fractions share a GPU)")
    p.add_argument("--cluster-cpus", type=int, default=None, help="CPUs of a local Ray instance (default: all)")
    p.add_argument("--model", default=None, help="local directory of an HF causal LM (default: embedded)")
    p.add_argument("--adapter", default=None, help="adapter directory (default: the shipped adapter)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--max-batch-size", type=int, default=32, help="functions per forward pass across requests")
    p.add_argument("--batch-wait-ms", type=float, default=5.0, help="how long a batch waits for more functions")
    p.add_argument("--token-file", default=None,
                   help="file holding the bearer token clients must send (default: $MANYSKILLS_SERVICE_TOKEN)")
    p.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback --host without a token (anyone who can reach it may use it)")
    p.add_argument("--detach", action="store_true", help="deploy and exit, leaving the service on the cluster")
    p.add_argument("--fault-delay-s", type=float, default=0.0, help=argparse.SUPPRESS)  # tests: slow batches
    p.set_defaults(run=run)


def _wait_ready(url: str, timeout: float, token: str | None) -> dict:
    from manyskills.service.auth import bearer

    deadline = time.monotonic() + timeout
    last = "no answer"
    request = urllib.request.Request(url + "/readyz", headers=bearer(token) if token else {})
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.load(response)
        except Exception as exc:  # noqa: BLE001 - not up yet
            last = str(exc)
            time.sleep(0.5)
    raise TimeoutError(f"the service did not become ready within {timeout:.0f} s ({last})")


def _token(args: argparse.Namespace) -> str | None:
    """The token from --token-file or the environment; ValueError (before anything starts) when the
    service would be open to the network without one."""
    from manyskills.service.auth import TOKEN_ENV, is_loopback, read_token_file, token_from_env

    token = read_token_file(args.token_file) if args.token_file else token_from_env()
    if token is None and not is_loopback(args.host) and not args.insecure:
        raise ValueError(f"refusing to serve on {args.host} without a token: anyone who can reach it could "
                         f"use the model. Give --token-file PATH or set {TOKEN_ENV} (clients then set "
                         "`engineToken`), or pass --insecure if the network is trusted")
    return token


def run(args: argparse.Namespace) -> int:
    from manyskills.service.cluster import RayUnavailable, connect, worker_env

    if args.replicas < 1 or args.num_cpus < 0 or args.num_gpus < 0 or not 0 < args.port < 65536:
        print("manyskills model-server: --replicas >= 1, --num-cpus/--num-gpus >= 0 and a valid --port",
              file=sys.stderr)
        return EXIT_ERROR
    try:
        token = _token(args)
    except ValueError as exc:
        print(f"manyskills model-server: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        ray = connect(args.address, args.cluster_cpus)
    except RayUnavailable as exc:
        print(f"manyskills model-server: {exc}", file=sys.stderr)
        return EXIT_ERROR
    from ray import serve

    from manyskills.service.deployment import APP_NAME, ServiceConfig, build_app

    config = ServiceConfig(model=args.model, adapter=args.adapter, device=args.device,
                           max_batch_size=args.max_batch_size, batch_wait_ms=args.batch_wait_ms,
                           fault_delay_s=args.fault_delay_s, token=token)
    serve.start(http_options={"host": args.host, "port": args.port, "request_timeout_s": 300})
    app = build_app(config, args.replicas, args.num_cpus, args.num_gpus, worker_env(args.address))
    print(f"manyskills: deploying {args.replicas} replica(s) on Ray {ray.__version__}", file=sys.stderr, flush=True)
    serve.run(app, name=APP_NAME, route_prefix="/", blocking=False)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    try:
        ready = _wait_ready(url, 600, token)
    except TimeoutError as exc:
        print(f"manyskills model-server: {exc}", file=sys.stderr)
        return EXIT_ERROR
    ident = ready["identity"]
    print(f"manyskills: model service ready at {url} ({ident['base_name']}, adapter "
          f"{ident['adapter_version']}, {ident['device']}/{ident['dtype']})", file=sys.stderr, flush=True)
    # One machine-readable line: where to send requests, and the Ray cluster (for `check --ray ADDRESS`).
    print(json.dumps({"url": url, "identity": ident, "ray_address": ray.get_runtime_context().gcs_address}),
          flush=True)
    if args.detach:
        return EXIT_OK
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    print("manyskills: stopping the model service", file=sys.stderr, flush=True)
    serve.delete(APP_NAME)
    ray.shutdown()
    return EXIT_OK
