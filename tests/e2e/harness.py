"""End-to-end harness: runs a real mercatod and gives tests AWS clients pointed at it.

    with Mercatod() as m:
        creds = m.create_account("alice")
        s3 = m.s3_client(creds)
        m.aws_cli(["s3", "ls"], creds)

Each Mercatod gets its own temporary directory (data dir + log), listens on
127.0.0.1 with a port chosen by the kernel, and is stopped (SIGTERM, then SIGKILL
after a timeout) and deleted on close. The binary comes from $MERCATO_BIN_DIR (set by
ctest); a missing binary is a test failure, not a skip.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http import client as http_client

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REGION = "local"
START_TIMEOUT = 60
STOP_TIMEOUT = 30


def bin_dir():
    d = os.environ.get("MERCATO_BIN_DIR")
    if not d:
        here = os.path.dirname(os.path.abspath(__file__))
        d = os.path.join(here, "..", "..", "build", "bin")
    return os.path.abspath(d)


def mercatod_path():
    path = os.path.join(bin_dir(), "mercatod")
    if not os.path.exists(path):
        raise AssertionError(
            f"mercatod not found at {path}: build it (ninja mercatod) and set MERCATO_BIN_DIR")
    return path


class Mercatod:
    """A mercatod process on a private data dir. Not thread-safe; one per test class."""

    def __init__(self, extra_args=(), env=None, data_dir=None):
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.tmp = tempfile.mkdtemp(prefix="mercato-e2e-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.tmp, "mercatod.log")
        self.proc = None
        self.port = None
        self.admin = None
        self._lines = None
        self.start()

    # ---- lifecycle ----

    def start(self):
        env = dict(os.environ)
        env.update(self.extra_env)
        args = [mercatod_path(), "--data-dir", self.data_dir, "--listen", "127.0.0.1:0"]
        args += self.extra_args
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, env=env,
                                     start_new_session=True)
        self._lines = queue.Queue()
        threading.Thread(target=self._pump_stdout, args=(self.proc, self._lines),
                         daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill9()
                raise AssertionError("mercatod did not report listening in time\n" + self.log_tail())
            try:
                line = self._lines.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"mercatod exited with {self.proc.returncode}\n" + self.log_tail())
                continue
            if line is None:
                self.proc.wait(timeout=STOP_TIMEOUT)
                raise AssertionError(
                    f"mercatod exited with {self.proc.returncode}\n" + self.log_tail())
            if line.startswith("listening on "):
                self.port = int(line.rsplit(":", 1)[1])
                break
        with open(os.path.join(self.data_dir, "admin-credentials")) as f:
            self.admin = json.load(f)

    def _pump_stdout(self, proc, lines):
        # Keeps draining stdout so the server never blocks on a full pipe.
        with proc.stdout:
            for raw in proc.stdout:
                lines.put(raw.decode("utf-8", "replace").strip())
        lines.put(None)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        self._log.close()
        return self.proc.returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
        if self._log and not self._log.closed:
            self._log.close()

    def restart(self):
        """Stops (if running) and starts again on the same data dir; the port changes."""
        self.stop()
        self.start()

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def log_tail(self, n=60):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    # ---- endpoints and clients ----

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def create_account(self, name):
        """POST /api/v1/accounts as the operator; returns the new account's credentials."""
        req = urllib.request.Request(
            self.endpoint + "/api/v1/accounts", method="POST",
            data=json.dumps({"name": name}).encode(),
            headers={"Authorization": "Bearer " + self.admin["token"],
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                if resp.status != 201:
                    raise AssertionError(f"create_account: HTTP {resp.status}")
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"create_account: HTTP {e.code}: {e.read()!r}") from e

    def s3_client(self, creds, **config):
        cfg = Config(s3={"addressing_style": "path"},
                     retries={"max_attempts": 1, "mode": "standard"},
                     connect_timeout=10, read_timeout=300, **config)
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=creds["access_key_id"],
            aws_secret_access_key=creds["secret_access_key"], config=cfg)

    def aws_cli(self, args, creds, check=True, timeout=600):
        """Runs `aws ARGS --endpoint-url ...` with the credentials in the environment and a
        private config file (path-style addressing). Returns the CompletedProcess."""
        cfg_path = os.path.join(self.tmp, "aws-config")
        with open(cfg_path, "w") as f:
            f.write(f"[default]\nregion = {REGION}\ns3 =\n  addressing_style = path\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": creds["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": creds["secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": cfg_path,
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "no-credentials"),
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        proc = subprocess.run(["aws", *args, "--endpoint-url", self.endpoint], env=env,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"aws {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    # ---- raw signed requests (for what SDKs refuse to send) ----

    def signed_headers(self, creds, method, path, body=b"", headers=None, query="",
                       unsigned_payload=False):
        """SigV4 (service s3) headers for a request, signed like botocore signs S3."""
        url = self.endpoint + path + (("?" + query) if query else "")
        hdrs = {"Host": f"127.0.0.1:{self.port}"}
        hdrs.update(headers or {})
        req = AWSRequest(method=method, url=url, data=body, headers=hdrs)
        if unsigned_payload:
            req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        S3SigV4Auth(Credentials(creds["access_key_id"], creds["secret_access_key"]), "s3",
                    REGION).add_auth(req)
        return dict(req.headers.items())

    def raw_request(self, creds, method, path, body=b"", headers=None, query="",
                    content_length=True):
        """Sends a signed request with http.client; returns (status, headers, body)."""
        hdrs = self.signed_headers(creds, method, path, body, headers, query)
        conn = http_client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            target = path + (("?" + query) if query else "")
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if content_length:
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders()
                if body:
                    conn.send(body)
            else:
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                if body:
                    conn.send(b"%x\r\n%s\r\n" % (len(body), body))
                conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()


def error_code(body):
    """The <Code> of an S3 XML error body (bytes or str), or ''."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    a = body.find("<Code>")
    if a < 0:
        return ""
    return body[a + 6:body.find("</Code>", a)]
