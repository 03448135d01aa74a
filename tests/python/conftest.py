"""Real-client suite: starts the real `cognate serve` binary and drives it with boto3 and the
AWS CLI. The binary comes from $COGNATE_BIN (default: target/debug/cognate)."""
import json
import os
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
import uuid

import boto3
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("COGNATE_BIN", os.path.join(ROOT, "target", "debug", "cognate"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, extra_args=(), extra_env=None, ca_file=None, data_dir=None):
        """`ca_file`: the server serves HTTPS (its --tls-cert/--tls-key are in `extra_args`)
        with a certificate this CA file verifies. `data_dir`: reuse a data directory (a
        restart)."""
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        self.url = f"{'https' if ca_file else 'http'}://127.0.0.1:{self.port}"
        tls = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self.data_dir = data_dir or os.path.join(self.dir.name, "data")
        self.log = open(os.path.join(self.dir.name, "server.log"), "w")
        args = [BIN, "serve", "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", self.data_dir, "--test-clock",
                "--argon2-memory-kib", "1024", "--argon2-iterations", "1"]
        env = {k: v for k, v in os.environ.items()
               if k not in ("COGNATE_DATABASE_URL", "COGNATE_TRIGGER_WEBHOOKS")}
        if os.environ.get("COGNATE_TEST_DATABASE_URL"):
            args += ["--database-url", os.environ["COGNATE_TEST_DATABASE_URL"]]
            # Servers sharing a database share a master key (the Rust suite uses this path).
            env.setdefault("COGNATE_MASTER_KEY_FILE",
                           os.path.join(tempfile.gettempdir(), "cognate-test-master.key"))
        args += list(extra_args)
        env.update(extra_env or {})
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1, context=tls) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("cognate did not start: " + open(self.log.name).read())
            time.sleep(0.05)

    def outbox(self, pool, username):
        q = urllib.parse.urlencode({"pool": pool, "username": username})
        with urllib.request.urlopen(f"{self.url}/_cognate/outbox?{q}") as r:
            return json.load(r)["Messages"]

    def last_code(self, pool, username):
        return self.outbox(pool, username)[-1]["Code"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.dir.cleanup()


import urllib.parse  # noqa: E402


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def idp(server):
    return boto3.client(
        "cognito-idp",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDCOGNATETEST",
        aws_secret_access_key="cognate-test-secret",
    )


@pytest.fixture
def unique():
    return lambda prefix="u": f"{prefix}{uuid.uuid4().hex[:10]}"
