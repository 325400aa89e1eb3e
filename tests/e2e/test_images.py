"""Images end to end through the `mercato image` CLI and /api/v1/images: push (the built-in
XGBoost OCI archive, a docker-save archive and an OCI layout made here), list, describe, tag,
delete, scan reports, `mercato image build`, running pushed images, and account isolation.

Test images hold the static sandbox_probe binary (a rootfs with nothing else), so they
run in the sandbox without a shell or libraries.
"""

import hashlib
import json
import os
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

from cli_helpers import (Cli, docker_save_archive, layer_tar, oci_archive, probe_path,
                         xgboost_image_path)
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import REGION, Mercatod

PRIVATE_KEY = (b"-----BEGIN RSA PRIVATE KEY-----\n"
               + b"MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n" * 8
               + b"-----END RSA PRIVATE KEY-----\n")


def probe_bytes():
    with open(probe_path(), "rb") as f:
        return f.read()


class ImagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod()
        cls.alice = cls.m.create_account("alice")
        cls.bob = cls.m.create_account("bob")
        cls.cli = Cli(cls.m, cls.alice)
        cls.bob_cli = Cli(cls.m, cls.bob)
        cls.tmp = tempfile.TemporaryDirectory(prefix="mercato-images-")
        cls.probe = probe_bytes()

    @classmethod
    def tearDownClass(cls):
        cls.m.close()
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def uri_prefix(self):
        return f"127.0.0.1:{self.m.port}/{self.alice['account_id']}/"

    def push(self, archive, name):
        out = self.cli.json("image", "push", archive, "--name", name)
        self.assertEqual(out["image_uri"], self.uri_prefix() + name)
        self.assertRegex(out["digest"], r"^sha256:[0-9a-f]{64}$")
        self.assertGreater(out["size_bytes"], 0)
        return out

    def run_image(self, ref, *args):
        proc = self.cli.run("image", "run", ref, "--", *args, timeout=300)
        return proc

    # ---- the built-in XGBoost image ----

    def test_push_xgboost_list_describe_tag_delete(self):
        pushed = self.push(xgboost_image_path(), "mercato/xgboost:1")
        self.assertEqual(pushed["scan_status"], "PASSED")
        human = self.cli.ok("image", "push", xgboost_image_path(), "--name", "mercato/xgboost:1")
        self.assertIn("image_uri: " + pushed["image_uri"], human.stdout)
        self.assertIn("digest: " + pushed["digest"], human.stdout)
        self.assertIn("size_bytes: " + str(pushed["size_bytes"]), human.stdout)

        images = self.cli.json("image", "list")["images"]
        mine = [i for i in images if i["repository"] == "mercato/xgboost"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["digest"], pushed["digest"])
        self.assertIn("1", mine[0]["tags"])

        for ref in ("mercato/xgboost:1", pushed["image_uri"],
                    "mercato/xgboost@" + pushed["digest"]):
            d = self.cli.json("image", "describe", ref)
            self.assertEqual(d["digest"], pushed["digest"])
            self.assertEqual(d["size_bytes"], pushed["size_bytes"])
            self.assertEqual(d["config"]["Entrypoint"], ["/usr/bin/mercato-xgboost"])
            self.assertEqual(d["format"], "oci-archive")

        tagged = self.cli.json("image", "tag", "mercato/xgboost:1", "mercato/xgboost:stable")
        self.assertEqual(tagged["image_uri"], self.uri_prefix() + "mercato/xgboost:stable")
        d = self.cli.json("image", "describe", "mercato/xgboost:stable")
        self.assertEqual(sorted(d["tags"]), ["1", "stable"])

        self.cli.ok("image", "delete", "mercato/xgboost:stable")
        gone = self.cli.run("image", "describe", "mercato/xgboost:stable")
        self.assertNotEqual(gone.returncode, 0)
        self.assertIn("not found", gone.stderr)
        self.assertEqual(self.cli.json("image", "describe", "mercato/xgboost:1")["digest"],
                         pushed["digest"])

        # Another account sees nothing of alice's images.
        other = self.bob_cli.run("image", "describe", pushed["image_uri"])
        self.assertNotEqual(other.returncode, 0)
        self.assertEqual(self.bob_cli.json("image", "list")["images"], [])
        run = self.bob_cli.run("image", "run", pushed["image_uri"], "--", "train")
        self.assertNotEqual(run.returncode, 0)

    def test_push_errors_are_clear(self):
        bad = self.path("not-an-image.tar")
        with open(bad, "wb") as f:
            f.write(b"this is not a tar archive at all" * 100)
        proc = self.cli.run("image", "push", bad, "--name", "junk:1")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("error:", proc.stderr)
        proc = self.cli.run("image", "push", xgboost_image_path(), "--name", "Bad Name")
        self.assertNotEqual(proc.returncode, 0)
        # No token: the API refuses before reading the body.
        req = urllib.request.Request(self.m.endpoint + "/api/v1/images?name=x:1", method="POST",
                                     data=b"x" * 1000)
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=30)
        self.assertIn(ctx.exception.code, (401, 403))

    def sigv4_push(self, body, name, claimed_sha256):
        url = f"{self.m.endpoint}/api/v1/images?name={urllib.parse.quote(name, safe='')}"
        req = AWSRequest(method="POST", url=url, data=body,
                         headers={"x-amz-content-sha256": claimed_sha256})
        SigV4Auth(Credentials(self.alice["access_key_id"], self.alice["secret_access_key"]),
                  "mercato", REGION).add_auth(req)
        http_req = urllib.request.Request(url, data=body, method="POST",
                                          headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(http_req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_push_with_sigv4(self):
        archive = self.path("probe-sigv4.tar")
        oci_archive(archive, self.probe_layers(), ["/bin/probe"], "probe:sigv4")
        with open(archive, "rb") as f:
            body = f.read()
        status, out = self.sigv4_push(body, "probe/sigv4:1", hashlib.sha256(body).hexdigest())
        self.assertEqual(status, 201, out)
        self.assertEqual(out["image_uri"], self.uri_prefix() + "probe/sigv4:1")
        status, out = self.sigv4_push(body, "probe/sigv4:2", "UNSIGNED-PAYLOAD")
        self.assertEqual(status, 201, out)
        # A body that is not what the signature covers is refused and not pushed.
        status, out = self.sigv4_push(body, "probe/sigv4:3", hashlib.sha256(b"other").hexdigest())
        self.assertEqual(status, 400, out)
        self.assertEqual(out["error"]["code"], "XAmzContentSHA256Mismatch")
        self.assertNotEqual(self.cli.run("image", "describe", "probe/sigv4:3").returncode, 0)

    # ---- archives made here ----

    def probe_layers(self):
        base = layer_tar([("bin", None, 0o755), ("bin/probe", self.probe, 0o755),
                          ("data", None, 0o755), ("data/old.txt", b"old\n", 0o644)])
        top = layer_tar([("data", None, 0o755), ("data/.wh.old.txt", b"", 0o644),
                         ("data/new.txt", b"from the top layer\n", 0o644)])
        return [base, top]

    def check_probe_runs(self, ref):
        proc = self.run_image(ref, "echo", "hello", "sandbox")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("hello", proc.stdout.splitlines())
        self.assertIn("sandbox", proc.stdout.splitlines())
        proc = self.run_image(ref, "read", "/data/new.txt")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("from the top layer", proc.stdout)
        # The whiteout removed the base layer's file.
        proc = self.run_image(ref, "read", "/data/old.txt")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)

    def test_docker_save_archive_pushes_and_runs(self):
        archive = self.path("probe-docker.tar")
        docker_save_archive(archive, self.probe_layers(), ["/bin/probe"], "probe:docker")
        pushed = self.push(archive, "probe/docker:1")
        d = self.cli.json("image", "describe", "probe/docker:1")
        self.assertEqual(d["format"], "docker-archive")
        self.assertEqual(len(d["layers"]), 2)
        self.assertEqual(pushed["scan_status"], "PASSED")
        self.check_probe_runs("probe/docker:1")

    def test_oci_archive_pushes_and_runs(self):
        archive = self.path("probe-oci.tar")
        oci_archive(archive, self.probe_layers(), ["/bin/probe"], "probe:oci")
        self.push(archive, "probe/oci:1")
        self.assertEqual(self.cli.json("image", "describe", "probe/oci:1")["format"],
                         "oci-archive")
        self.check_probe_runs("probe/oci:1")

    def test_failing_container_exit_code_is_the_cli_exit_code(self):
        archive = self.path("probe-exit.tar")
        oci_archive(archive, self.probe_layers(), ["/bin/probe"], "probe:exit")
        self.push(archive, "probe/exit:1")
        proc = self.run_image("probe/exit:1", "connect", "10.1.2.3", "80")  # no route out
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("Failed (exit code 2)", proc.stderr)

    def test_scan_report_names_setuid_file_and_private_key(self):
        layer = layer_tar([("bin", None, 0o755), ("bin/probe", self.probe, 0o755),
                           ("usr", None, 0o755), ("usr/bin", None, 0o755),
                           ("usr/bin/escalate", b"\x7fELF fake", 0o4755),
                           ("etc", None, 0o755), ("etc/ssl", None, 0o755),
                           ("etc/ssl/server.key", PRIVATE_KEY, 0o600)])
        archive = self.path("planted.tar")
        oci_archive(archive, [layer], ["/bin/probe"], "planted:1")
        pushed = self.push(archive, "planted/image:1")
        self.assertEqual(pushed["scan_status"], "BLOCKED")
        report = self.cli.json("image", "scan-report", "planted/image:1")
        self.assertEqual(report["scan_status"], "BLOCKED")
        findings = {(f["rule"], f["path"]) for f in report["scan_report"]["findings"]}
        setuid = [p for r, p in findings if r == "setuid"]
        keys = [p for r, p in findings if r == "private-key"]
        self.assertTrue(any(p.endswith("usr/bin/escalate") for p in setuid), findings)
        self.assertTrue(any(p.endswith("etc/ssl/server.key") for p in keys), findings)
        human = self.cli.ok("image", "scan-report", "planted/image:1").stdout
        self.assertIn("BLOCKED", human)
        self.assertIn("usr/bin/escalate", human)
        self.assertIn("etc/ssl/server.key", human)

    def test_build_a_directory(self):
        root = self.path("rootfs")
        os.makedirs(os.path.join(root, "bin"))
        os.makedirs(os.path.join(root, "srv"))
        with open(os.path.join(root, "bin", "probe"), "wb") as f:
            f.write(self.probe)
        os.chmod(os.path.join(root, "bin", "probe"), 0o755)
        with open(os.path.join(root, "srv", "hello.txt"), "w") as f:
            f.write("built by mercato image build\n")
        built = self.cli.json("image", "build", root, "--name", "built/probe:1",
                              "--entrypoint", "/bin/probe", "--env", "GREETING=hi")
        self.assertEqual(built["image_uri"], self.uri_prefix() + "built/probe:1")
        d = self.cli.json("image", "describe", "built/probe:1")
        self.assertEqual(d["config"]["Entrypoint"], ["/bin/probe"])
        self.assertIn("GREETING=hi", d["config"]["Env"])
        proc = self.run_image("built/probe:1", "read", "/srv/hello.txt")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("built by mercato image build", proc.stdout)

    def test_runs_are_private_to_their_account(self):
        archive = self.path("probe-private.tar")
        oci_archive(archive, self.probe_layers(), ["/bin/probe"], "probe:private")
        self.push(archive, "probe/private:1")
        req = urllib.request.Request(
            self.m.endpoint + "/api/v1/image-runs", method="POST",
            data=json.dumps({"image": "probe/private:1", "args": ["sleep", "1"]}).encode(),
            headers={"Authorization": "Bearer " + self.alice["token"],
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            run = json.loads(resp.read())
        self.assertEqual(run["state"], "Pending")
        for path in ("", "/logs", "/model"):
            req = urllib.request.Request(
                self.m.endpoint + f"/api/v1/image-runs/{run['run_id']}{path}",
                headers={"Authorization": "Bearer " + self.bob["token"]})
            with self.assertRaises(urllib.error.HTTPError) as ctx:
                urllib.request.urlopen(req, timeout=30)
            self.assertEqual(ctx.exception.code, 404)


if __name__ == "__main__":
    unittest.main()
