"""mercatod as a server: first start, operator credentials, the native API and the
mercato CLI, health and metrics, graceful shutdown, restart, TLS, and bad input."""

import json
import os
import ssl
import stat
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from harness import Mercatod, bin_dir


def call(m, method, path, token=None, body=None, base=None, context=None):
    """Native API call; returns (status, json)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request((base or m.endpoint) + path, method=method, data=data)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30, context=context) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw and raw[:1] in b"{[" else raw
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw[:1] in b"{[" else raw


def cli(m, *args, token=None, check=True):
    env = dict(os.environ, MERCATO_ENDPOINT=m.endpoint, HOME=m.tmp)
    if token:
        env["MERCATO_TOKEN"] = token
    p = subprocess.run([os.path.join(bin_dir(), "mercato"), *args], env=env,
                       capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"mercato {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


class PlatformTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod()

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def test_first_start_writes_operator_credentials(self):
        path = os.path.join(self.m.data_dir, "admin-credentials")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        creds = self.m.admin
        self.assertRegex(creds["account_id"], r"^[1-9][0-9]{11}$")
        for key in ("access_key_id", "secret_access_key", "token"):
            self.assertTrue(creds[key])
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.m.data_dir, "master.key")).st_mode),
                         0o600)

    def test_health_and_metrics(self):
        status, body = call(self.m, "GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        with urllib.request.urlopen(self.m.endpoint + "/metrics", timeout=10) as r:
            text = r.read().decode()
            self.assertIn("text/plain", r.headers["Content-Type"])
        self.assertIn("# TYPE mercato_http_requests_total counter", text)
        self.assertIn('mercato_http_requests_total{api="console",code="200"}', text)
        self.assertIn("mercato_http_request_duration_seconds_bucket", text)

    def test_accounts_keys_and_whoami_through_the_api(self):
        admin = self.m.admin["token"]
        status, me = call(self.m, "GET", "/api/v1/me", admin)
        self.assertEqual(status, 200)
        self.assertTrue(me["is_operator"])
        bob = self.m.create_account("bob-api")
        status, me = call(self.m, "GET", "/api/v1/me", bob["token"])
        self.assertEqual((status, me["account_id"], me["is_operator"]), (200, bob["account_id"], False))
        # Only the operator lists or creates accounts.
        status, err = call(self.m, "GET", "/api/v1/accounts", bob["token"])
        self.assertEqual((status, err["error"]["code"]), (403, "AccessDenied"))
        status, err = call(self.m, "POST", "/api/v1/accounts", bob["token"], {"name": "x"})
        self.assertEqual(status, 403)
        status, listed = call(self.m, "GET", "/api/v1/accounts", admin)
        self.assertIn("bob-api", [a["name"] for a in listed["accounts"]])
        # Keys: create (secret once), list (no secret), revoke.
        status, key = call(self.m, "POST", "/api/v1/keys", bob["token"])
        self.assertEqual(status, 201)
        self.assertTrue(key["secret_access_key"])
        status, keys = call(self.m, "GET", "/api/v1/keys", bob["token"])
        self.assertEqual(len(keys["access_keys"]), 2)
        self.assertNotIn("secret_access_key", json.dumps(keys))
        s3 = self.m.s3_client(key)
        s3.list_buckets()
        status, _ = call(self.m, "DELETE", "/api/v1/keys/" + key["access_key_id"], bob["token"])
        self.assertEqual(status, 200)
        with self.assertRaises(Exception) as ctx:
            s3.list_buckets()
        self.assertIn("InvalidAccessKeyId", str(ctx.exception))

    def test_bad_input_gets_native_errors(self):
        admin = self.m.admin["token"]
        status, err = call(self.m, "GET", "/api/v1/me")
        self.assertEqual((status, err["error"]["code"]), (401, "MissingAuthenticationToken"))
        status, err = call(self.m, "GET", "/api/v1/me", "mct_not-a-token")
        self.assertEqual(status, 401)
        status, err = call(self.m, "POST", "/api/v1/accounts", admin, b"{not json")
        self.assertEqual((status, err["error"]["code"]), (400, "MalformedJSON"))
        status, err = call(self.m, "POST", "/api/v1/accounts", admin, {"name": "bad name!"})
        self.assertEqual(status, 400)
        status, err = call(self.m, "POST", "/api/v1/accounts", admin, {})
        self.assertEqual(status, 400)
        self.m.create_account("dup-name")
        status, err = call(self.m, "POST", "/api/v1/accounts", admin, {"name": "dup-name"})
        self.assertEqual(status, 409)
        status, err = call(self.m, "GET", "/api/v1/no-such-route", admin)
        self.assertEqual(status, 404)
        status, err = call(self.m, "DELETE", "/api/v1/keys/AKIANOSUCHKEY", admin)
        self.assertEqual(status, 404)
        status, listed = call(self.m, "GET", "/api/v1/accounts", admin)
        names = [a["name"] for a in listed["accounts"]]
        self.assertNotIn("bad name!", names)
        self.assertEqual(names.count("dup-name"), 1)

    def test_cli(self):
        admin = self.m.admin["token"]
        out = cli(self.m, "account", "create", "carol-cli", "--json", token=admin).stdout
        carol = json.loads(out)
        self.assertRegex(carol["account_id"], r"^[0-9]{12}$")
        for key in ("access_key_id", "secret_access_key", "token"):
            self.assertTrue(carol[key])
        listing = cli(self.m, "account", "list", token=admin).stdout
        self.assertIn("carol-cli", listing)
        self.assertIn("ACCOUNT ID", listing)
        me = json.loads(cli(self.m, "whoami", "--json", token=carol["token"]).stdout)
        self.assertEqual(me["account_id"], carol["account_id"])
        key = json.loads(cli(self.m, "keys", "create", "--json", token=carol["token"]).stdout)
        self.assertIn(key["access_key_id"], cli(self.m, "keys", "list", token=carol["token"]).stdout)
        cli(self.m, "keys", "revoke", key["access_key_id"], token=carol["token"])
        self.assertIn("Inactive", cli(self.m, "keys", "list", token=carol["token"]).stdout)
        # Errors: clear message, non-zero exit.
        p = cli(self.m, "account", "list", token=carol["token"], check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("AccessDenied", p.stderr)
        p = cli(self.m, "whoami", token="mct_wrong", check=False)
        self.assertNotEqual(p.returncode, 0)
        # The profile file is honoured.
        cli(self.m, "configure", "--endpoint", self.m.endpoint, "--token", carol["token"])
        env = dict(os.environ, HOME=self.m.tmp)
        env.pop("MERCATO_TOKEN", None)
        env.pop("MERCATO_ENDPOINT", None)
        p = subprocess.run([os.path.join(bin_dir(), "mercato"), "whoami", "--json"], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(p.stdout)["account_id"], carol["account_id"])
        p = subprocess.run([os.path.join(bin_dir(), "mercato"), "--endpoint", "http://127.0.0.1:1",
                            "whoami"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot reach", p.stderr)


class LifecycleTest(unittest.TestCase):
    def test_restart_keeps_accounts_and_objects(self):
        with Mercatod() as m:
            dave = m.create_account("dave")
            s3 = m.s3_client(dave)
            s3.create_bucket(Bucket="dave-bucket")
            s3.put_object(Bucket="dave-bucket", Key="k", Body=b"persisted")
            self.assertEqual(m.stop(), 0)  # graceful: exit code 0
            m.start()
            s3 = m.s3_client(dave)
            self.assertEqual(s3.get_object(Bucket="dave-bucket", Key="k")["Body"].read(),
                             b"persisted")
            status, me = call(m, "GET", "/api/v1/me", dave["token"])
            self.assertEqual(status, 200)

    def test_lost_admin_credentials_are_reissued(self):
        with Mercatod() as m:
            old = m.admin
            m.stop()
            os.remove(os.path.join(m.data_dir, "admin-credentials"))
            m.start()
            self.assertEqual(m.admin["account_id"], old["account_id"])
            self.assertNotEqual(m.admin["token"], old["token"])
            status, me = call(m, "GET", "/api/v1/me", m.admin["token"])
            self.assertEqual((status, me["is_operator"]), (200, True))

    def test_env_configuration_and_bad_flags(self):
        exe = os.path.join(bin_dir(), "mercatod")
        p = subprocess.run([exe, "--listen", "nonsense"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("HOST:PORT", p.stderr)
        p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--data-dir", p.stdout)
        with Mercatod(env={"MERCATO_REGION": "eu-test-1"}) as m:
            s3 = m.s3_client(m.admin)  # signs for region "local"
            with self.assertRaises(Exception) as ctx:
                s3.list_buckets()
            self.assertIn("AuthorizationHeaderMalformed", str(ctx.exception))
            self.assertIn("expecting 'eu-test-1'", str(ctx.exception))

    def test_tls(self):
        tmp = tempfile.mkdtemp(prefix="mercato-tls-")
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        with Mercatod(extra_args=["--tls-cert", cert, "--tls-key", key]) as m:
            ctx = ssl.create_default_context(cafile=cert)
            status, body = call(m, "GET", "/health", base=f"https://127.0.0.1:{m.port}",
                                context=ctx)
            self.assertEqual((status, body["status"]), (200, "ok"))
            status, me = call(m, "GET", "/api/v1/me", m.admin["token"],
                              base=f"https://127.0.0.1:{m.port}", context=ctx)
            self.assertEqual(status, 200)
            s3 = __import__("boto3").client(
                "s3", endpoint_url=f"https://127.0.0.1:{m.port}", region_name="local",
                aws_access_key_id=m.admin["access_key_id"],
                aws_secret_access_key=m.admin["secret_access_key"], verify=cert)
            s3.create_bucket(Bucket="tls-bucket")
            s3.put_object(Bucket="tls-bucket", Key="k", Body=b"x" * 100000)
            self.assertEqual(len(s3.get_object(Bucket="tls-bucket", Key="k")["Body"].read()), 100000)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    unittest.main()
