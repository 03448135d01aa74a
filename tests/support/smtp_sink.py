#!/usr/bin/env python3
"""A tiny SMTP sink for Cognate's tests (needs `aiosmtpd`).

Listens on a loopback port and stores every accepted message in a directory:

  <dir>/<seq>.eml   the raw message exactly as received (DATA payload)
  <dir>/<seq>.json  a parsed summary: envelope, headers, decoded MIME parts

The first line written to stdout is the port actually bound (useful with
`--port 0`).  Files are written atomically (temp file + rename), the .eml
before the .json, so a reader that waits for the .json sees both complete.

Options:
  --port N                 port to listen on (0 = pick a free one)
  --dir PATH               where to write messages (required)
  --username U --password P  require AUTH (PLAIN/LOGIN) on the plain
                           connection; unauthenticated MAIL is refused (530)
  --fail                   answer 550 to every RCPT TO
  --fail-code CODE         answer CODE (e.g. 451) to every RCPT TO
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class SinkHandler:
    def __init__(self, directory, fail_code):
        self.directory = directory
        self.fail_code = fail_code
        self.seq = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fail_code is not None:
            if self.fail_code >= 500:
                return f"{self.fail_code} 5.1.1 <{address}>: mailbox unavailable (sink --fail)"
            return f"{self.fail_code} 4.3.0 <{address}>: try again later (sink --fail)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        base = os.path.join(self.directory, f"{self.seq:06d}")
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        write_atomic(base + ".eml", raw)
        summary = summarize(raw, envelope, session)
        write_atomic(base + ".json", json.dumps(summary, indent=1).encode("utf-8"))
        return "250 Message accepted for delivery"


def summarize(raw, envelope, session):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers = [[k, str(v)] for k, v in msg.items()]
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            body = part.get_content()
        except Exception:  # undecodable part: keep the raw payload
            body = part.get_payload()
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        parts.append({"content_type": part.get_content_type(), "body": body})
    login = None
    if session.auth_data is not None:
        data = session.auth_data
        if isinstance(data, LoginPassword):
            login = data.login.decode("utf-8", "replace")
        else:
            login = str(data)
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "content_type": msg.get_content_type(),
        "headers": headers,
        "parts": parts,
        "auth_login": login,
    }


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def make_authenticator(username, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = (
            auth_data.login.decode("utf-8", "replace") == username
            and auth_data.password.decode("utf-8", "replace") == password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticator


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--dir", required=True)
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--fail", action="store_true")
    p.add_argument("--fail-code", type=int)
    args = p.parse_args()
    # aiosmtpd warns (rightly) about AUTH over plain text; this is a loopback test sink.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    os.makedirs(args.dir, exist_ok=True)
    fail_code = args.fail_code if args.fail_code is not None else (550 if args.fail else None)
    handler = SinkHandler(args.dir, fail_code)

    smtp_kwargs = {"hostname": "sink.cognate.test", "auth_require_tls": False}
    if args.username is not None:
        smtp_kwargs["auth_required"] = True
        smtp_kwargs["authenticator"] = make_authenticator(args.username, args.password or "")

    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **smtp_kwargs), host=args.host, port=args.port)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
