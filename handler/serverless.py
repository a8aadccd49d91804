"""The AWS Lambda adapter: the same app and pipeline behind API Gateway (HTTP API) or an Application Load Balancer.

Set the function's handler to `handler.serverless.handler`. apig-wsgi turns each event (API Gateway
payload format 2.0, or an ALB's, with or without multi-value headers) into a WSGI request for the app
gunicorn runs, `handler.app.create_app()`, and its answer back into the response the caller expects:
text and JSON as text, anything else base64; `multiValueHeaders` when the event had them.

The app is built once per cold start, from the FORMKIT_* variables (a bad one fails the start with
its line in the log), and serves every invocation of that instance after it.

What the adapter adds to apig-wsgi:
- The client address of the rate limit is the one the caller vouches for: payload 2.0's
  `requestContext.http.sourceIp`, and behind an ALB the last `X-Forwarded-For` entry, the one the
  load balancer appended (apig-wsgi takes the first, which any client can write itself).
- With the register in PostgreSQL (FORMKIT_DATABASE_URL=postgresql://…) the outbox is the register's table
  and the function only records and queues: a function is frozen as soon as it has answered, so nothing
  is sent in the background here. A separately scheduled function runs `formkit outbox run --once`
  (every minute, say) and delivers what waits, with the outbox's back-off; a worker that runs
  `formkit outbox run` somewhere is woken at once by the queue's NOTIFY. Without PostgreSQL and without
  an outbox folder (FORMKIT_OUTBOX_DIR empty), each report reaches the SMTP server before the answer.
- The outcome lines reach the function's log: Lambda's runtime gives the root logger a handler at
  WARNING, which would drop the INFO lines that carry each submission's outcome and timings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apig_wsgi import make_lambda_handler

from .app import create_app

_lambda: Callable[[dict, object], dict] | None = None


def handler(event: dict, context: object) -> dict:
    """Answer one API Gateway (payload 2.0) or ALB event with the app this instance built at its cold start."""
    return (_lambda or start())(event, context)


def start() -> Callable[[dict, object], dict]:
    """Build the app from the environment, as a cold start does; return the event handler over it."""
    global _lambda
    app = create_app()
    outbox = app.extensions["formkit.outbox"]
    if outbox is not None and getattr(outbox, "engine", None) is not None:
        outbox.at_once = False  # queued for the scheduled `formkit outbox run --once`, never sent after the answer
    outcomes = logging.getLogger("formkit")
    if outcomes.level == logging.NOTSET:
        outcomes.setLevel(logging.INFO)
    _lambda = make_lambda_handler(vouched_client(app))
    return _lambda


def vouched_client(app):
    """Wrap a WSGI app so that REMOTE_ADDR is the address the load balancer saw, not one the client wrote."""

    def wsgi(environ, start_response):
        context = environ.get("apig_wsgi.request_context") or {}
        if "elb" in context:
            # An ALB appends the address it saw, whatever the client sent before it (and with multi-value
            # headers apig-wsgi joins the header's values with commas): the last entry is the client.
            forwarded = [hop.strip() for hop in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            if forwarded[-1]:
                environ["REMOTE_ADDR"] = forwarded[-1]
        return app(environ, start_response)

    return wsgi
