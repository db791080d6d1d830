"""A local Standard Webhooks receiver for `wavestack dev`: prints each verified delivery.

`python -m wavestack.receiver --port 9000 --secret whsec_...` listens on 127.0.0.1 at
`POST /hook`. A delivery whose signature checks out (streams/publishing/signing.py,
the publisher's own rules, ±5 minutes) is printed as one line and answered 200; any
other is answered 401 and printed as refused. Deliveries are deduplicated on
`webhook-id`, as the spec asks receivers to do. Not for production: it keeps every
id it saw in memory.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from aiohttp import web

from streams.publishing.signing import InvalidSecret, SignatureMismatch, secret_key, verify

VERIFIED = "verified delivery"


def create_receiver(secret: str) -> web.Application:
    seen: set[str] = set()

    async def deliver(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            webhook_id = verify(secret, request.headers, body, time.time())
        except SignatureMismatch as exc:
            print(f"refused delivery: {exc}", flush=True)
            return web.json_response({"error": "bad signature"}, status=401)
        if webhook_id in seen:
            print(f"duplicate delivery webhook-id={webhook_id} (already handled)", flush=True)
            return web.json_response({"received": webhook_id})
        seen.add(webhook_id)
        try:
            data = json.loads(body).get("data", {})
        except (ValueError, AttributeError):
            data = {}
        title = data.get("title", "") if isinstance(data, dict) else ""
        item = data.get("item_id", "") if isinstance(data, dict) else ""
        print(f"{VERIFIED} webhook-id={webhook_id} item={item} title={title!r}", flush=True)
        return web.json_response({"received": webhook_id})

    app = web.Application()
    app.router.add_post("/hook", deliver)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wavestack.receiver", description=__doc__)
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", required=True, help="the connection's whsec_ secret")
    args = parser.parse_args(argv)
    try:
        secret_key(args.secret)
    except InvalidSecret as exc:
        print(f"receiver: {exc}", file=sys.stderr)
        return 2
    print(f"receiving on http://127.0.0.1:{args.port}/hook", flush=True)
    # No access log: the banner's point is the verified line, not request noise.
    web.run_app(
        create_receiver(args.secret), host="127.0.0.1", port=args.port, print=None, access_log=None
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
