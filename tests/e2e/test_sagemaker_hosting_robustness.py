"""SageMaker hosting when things go wrong, on the real sandbox: containers that never answer
/ping, exit, hang or fail; another account; two instances and one of them killed; an
UpdateEndpoint under a steady stream of invocations; a restart of mercatod; and the
operations surface (logs, per-minute metrics, instances) over the native API and the CLI.

The test image holds only the static sandbox_probe binary as /bin/probe; its `serve`
subcommand is a SageMaker inference server whose misbehaviour the model's Environment
selects (PROBE_PING=hang, PROBE_EXIT_AFTER=N, PROBE_SLEEP=S, PROBE_STATUS=CODE). It answers
/invocations with "<hostname>:<body>", and an instance's hostname is its instance id.
mercatod runs with MERCATO_INVOCATION_TIMEOUT_SECONDS=2 so timeouts come quickly.
"""

import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from cli_helpers import Cli, layer_tar, oci_archive, probe_path
from harness import REGION, Mercatod

WAIT = 120  # seconds; bounds every wait below
ENV = {"MERCATO_INVOCATION_TIMEOUT_SECONDS": "2"}


def client(m, service, creds):
    # parameter_validation off: botocore enforces SageMaker's 60 s minimum of
    # ContainerStartupHealthCheckTimeoutInSeconds, which Mercato relaxes for tests.
    return boto3.session.Session().client(
        service, endpoint_url=m.endpoint, region_name=REGION,
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60,
                      parameter_validation=False))


def push_probe_image(m, creds, workdir, name="probe/serve:1"):
    with open(probe_path(), "rb") as f:
        probe = f.read()
    layer = layer_tar([("bin", None, 0o755), ("bin/probe", probe, 0o755)])
    archive = os.path.join(workdir, "probe-serve.tar")
    oci_archive(archive, [layer], ["/bin/probe"], name)
    with open(archive, "rb") as f:
        data = f.read()
    req = urllib.request.Request(
        m.endpoint + "/api/v1/images?name=" + urllib.parse.quote(name, safe=""), method="POST",
        data=data, headers={"Authorization": "Bearer " + creds["token"],
                            "Content-Type": "application/x-tar"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        assert resp.status == 201, resp.status
    return name


def native(m, creds, path):
    """GET on the native API; returns (status, JSON body)."""
    req = urllib.request.Request(m.endpoint + path,
                                 headers={"Authorization": "Bearer " + creds["token"]})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def account_id(creds):
    return creds.get("account_id") or creds["account"]["id"]


class Hosting:
    """Creates models, configs and endpoints of the probe image for one account."""

    def __init__(self, m, creds, image):
        self.m, self.creds, self.image = m, creds, image
        self.sm = client(m, "sagemaker", creds)
        self.rt = client(m, "sagemaker-runtime", creds)

    def config(self, name, env=None, count=1, timeout=None, variant="AllTraffic"):
        container = {"Image": self.image}
        if env:
            container["Environment"] = env
        self.sm.create_model(ModelName=name + "-model", PrimaryContainer=container)
        pv = {"VariantName": variant, "ModelName": name + "-model",
              "InitialInstanceCount": count, "InstanceType": "ml.t2.medium"}
        if timeout is not None:
            pv["ContainerStartupHealthCheckTimeoutInSeconds"] = timeout
        self.sm.create_endpoint_config(EndpointConfigName=name + "-config",
                                       ProductionVariants=[pv])
        return name + "-config"

    def endpoint(self, name, **kwargs):
        self.sm.create_endpoint(EndpointName=name, EndpointConfigName=self.config(name, **kwargs))

    def wait(self, name, statuses=("InService", "Failed"), config=None):
        deadline = time.monotonic() + WAIT
        while True:
            d = self.sm.describe_endpoint(EndpointName=name)
            if d["EndpointStatus"] in statuses and (
                    config is None or d["EndpointConfigName"] == config):
                return d
            if time.monotonic() > deadline:
                raise AssertionError(f"endpoint {name} stuck: {d}\n{self.m.log_tail()}")
            time.sleep(0.25)

    def invoke(self, name, body="x", rt=None):
        r = (rt or self.rt).invoke_endpoint(EndpointName=name, Body=body,
                                            ContentType="text/plain")
        return r["InvokedProductionVariant"], r["Body"].read().decode()


class RobustnessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod(env=ENV)
        cls.alice = cls.m.create_account("alice")
        cls.bob = cls.m.create_account("bob")
        cls.tmp = tempfile.TemporaryDirectory(prefix="mercato-robust-")
        cls.h = Hosting(cls.m, cls.alice, push_probe_image(cls.m, cls.alice, cls.tmp.name))
        cls.bob_rt = client(cls.m, "sagemaker-runtime", cls.bob)

    @classmethod
    def tearDownClass(cls):
        cls.m.close()
        cls.tmp.cleanup()

    def model_error(self, name):
        with self.assertRaises(ClientError) as ctx:
            self.h.invoke(name)
        return ctx.exception.response

    # ---- containers that fail ----

    def test_never_answering_ping_fails_with_reason(self):
        self.h.endpoint("noping", env={"PROBE_PING": "hang"}, timeout=2)
        d = self.h.wait("noping")
        self.assertEqual(d["EndpointStatus"], "Failed")
        self.assertIn("did not pass the ping health check within 2 seconds", d["FailureReason"])

    def test_container_that_exits_fails_with_reason(self):
        # /ping never succeeds, so the exit (after 1 s) is what ends the creation.
        self.h.endpoint("exits", env={"PROBE_PING": "hang", "PROBE_EXIT_AFTER": "1"},
                        timeout=600)
        d = self.h.wait("exits")
        self.assertEqual(d["EndpointStatus"], "Failed")
        self.assertIn("exited with code 3", d["FailureReason"])
        self.assertIn("exiting after 1 seconds on purpose", d["FailureReason"])

    def test_invocation_past_the_timeout_is_a_model_error(self):
        self.h.endpoint("sleepy", env={"PROBE_SLEEP": "30"})
        self.assertEqual(self.h.wait("sleepy")["EndpointStatus"], "InService")
        err = self.model_error("sleepy")
        self.assertEqual(err["Error"]["Code"], "ModelError")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 424)
        self.assertIn("timed out", err["Error"]["Message"])
        self.assertIn("after 2 seconds", err["Error"]["Message"])

    def test_container_500_is_a_model_error_and_other_accounts_see_nothing(self):
        self.h.endpoint("fails", env={"PROBE_STATUS": "500"})
        self.assertEqual(self.h.wait("fails")["EndpointStatus"], "InService")
        err = self.model_error("fails")
        self.assertEqual(err["Error"]["Code"], "ModelError")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 424)
        self.assertEqual(err["OriginalStatusCode"], 500)
        self.assertEqual(err["OriginalMessage"], "probe failed on purpose")

        with self.assertRaises(ClientError) as ctx:
            self.h.invoke("fails", rt=self.bob_rt)
        e = ctx.exception.response
        self.assertEqual(e["Error"]["Code"], "ValidationError")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(e["Error"]["Message"],
                         "Endpoint fails of account %s not found." % account_id(self.bob))

        status, metrics = native(self.m, self.alice, "/api/v1/endpoints/fails/metrics")
        self.assertEqual(status, 200, metrics)
        points = metrics["Variants"][0]["Datapoints"]
        self.assertEqual(sum(p["Invocation4XXErrors"] for p in points), 1)
        self.assertEqual(native(self.m, self.bob, "/api/v1/endpoints/fails/metrics")[0], 404)

    # ---- two instances, logs, metrics, a killed instance ----

    def instances(self, name):
        status, out = native(self.m, self.m.admin, "/api/v1/endpoints/%s/instances?account_id=%s"
                             % (name, account_id(self.alice)))
        self.assertEqual(status, 200, out)
        return out["Instances"]

    def test_two_instances_serve_and_survive_a_killed_one(self):
        self.h.endpoint("pair", count=2)
        self.assertEqual(self.h.wait("pair")["EndpointStatus"], "InService")
        served = {}
        for i in range(40):
            variant, body = self.h.invoke("pair", body="req%d" % i)
            self.assertEqual(variant, "AllTraffic")
            instance, echoed = body.split(":", 1)
            self.assertEqual(echoed, "req%d" % i)
            served[instance] = served.get(instance, 0) + 1
        self.assertEqual(len(served), 2, served)

        # Metrics count every invocation per instance.
        status, metrics = native(self.m, self.alice, "/api/v1/endpoints/pair/metrics")
        self.assertEqual(status, 200, metrics)
        per_instance = {}
        for p in metrics["Variants"][0]["Datapoints"]:
            for k, n in p["InvocationsPerInstance"].items():
                per_instance[k] = per_instance.get(k, 0) + n
        self.assertEqual(per_instance, served)
        cli = Cli(self.m, self.alice)
        table = cli.ok("endpoints", "metrics", "pair").stdout
        self.assertIn("INVOCATIONS", table)
        self.assertIn("AllTraffic", table)

        # Logs: both instances' lines, for alice only.
        deadline = time.monotonic() + WAIT
        while True:
            status, logs = native(self.m, self.alice, "/api/v1/logs/endpoints/pair")
            self.assertEqual(status, 200, logs)
            lines = [e for e in logs["events"] if "invocation" in e["message"]]
            seen = {e["instance"] for e in lines}
            if len(lines) >= 40 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(seen, set(served))
        self.assertGreaterEqual(logs["next_line"], 40)
        status, more = native(self.m, self.alice,
                              "/api/v1/logs/endpoints/pair?since_line=%d" % logs["next_line"])
        self.assertEqual((status, more["next_line"] >= logs["next_line"]), (200, True))
        status, none = native(self.m, self.bob, "/api/v1/logs/endpoints/pair")
        self.assertEqual(status, 404, none)
        out = cli.ok("logs", "pair", "--since", "10m").stdout
        for instance in served:
            self.assertIn(instance, out)
        self.follow_sees(cli, "pair", "invocation", "followed")
        missing = cli.run("logs", "nothing-here")
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("no endpoint, training job or transform job named nothing-here",
                      missing.stderr)
        self.assertNotEqual(Cli(self.m, self.bob).run("logs", "pair").returncode, 0)

        # Kill one instance's process: requests keep succeeding and it is replaced.
        before = self.instances("pair")
        self.assertEqual(len(before), 2)
        self.assertTrue(all("Pid" in i for i in before), before)
        self.assertNotIn("Pid", native(self.m, self.alice, "/api/v1/endpoints/pair/instances")[1]
                         ["Instances"][0])
        victim = before[0]
        os.kill(victim["Pid"], signal.SIGKILL)
        for i in range(20):
            _, body = self.h.invoke("pair", body="after%d" % i)
            self.assertNotEqual(body.split(":", 1)[0], victim["InstanceId"])
        deadline = time.monotonic() + WAIT
        while True:
            now = self.instances("pair")
            ids = {i["InstanceId"] for i in now if i["Healthy"]}
            if len(ids) == 2 and victim["InstanceId"] not in ids:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"instance not replaced: {now}\n{self.m.log_tail()}")
            time.sleep(0.25)
        self.assertEqual(self.h.sm.describe_endpoint(EndpointName="pair")["EndpointStatus"],
                         "InService")
        answered = {self.h.invoke("pair")[1].split(":", 1)[0] for _ in range(30)}
        self.assertEqual(answered, ids)

    def follow_sees(self, cli, name, *needles):
        """`mercato logs NAME --follow` prints old lines, then new ones as they come."""
        proc = cli.popen("logs", name, "--follow", stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()
        try:
            wanted = list(needles)
            deadline = time.monotonic() + WAIT
            while wanted and time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=1)
                except queue.Empty:
                    continue
                if wanted[0] in line:
                    wanted.pop(0)
                    if wanted == ["followed"]:
                        self.h.invoke(name, body="followed")  # a line written after the start
            self.assertEqual(wanted, [])
        finally:
            proc.kill()
            proc.wait(timeout=30)

    # ---- update under load ----

    def test_update_endpoint_under_load_loses_no_invocation(self):
        self.h.endpoint("rolling")
        self.assertEqual(self.h.wait("rolling")["EndpointStatus"], "InService")
        old = {i["InstanceId"] for i in self.instances("rolling")}
        new_config = self.h.config("rolling-v2", env={"VERSION": "2"}, count=2)

        stop = threading.Event()
        results = {"ok": 0, "failures": [], "bodies": []}
        rt = client(self.m, "sagemaker-runtime", self.alice)

        def load():
            while not stop.is_set():
                try:
                    _, body = self.h.invoke("rolling", body="steady", rt=rt)
                    results["ok"] += 1
                    results["bodies"].append(body.split(":", 1)[0])
                except Exception as e:  # every failure counts
                    results["failures"].append(repr(e))

        thread = threading.Thread(target=load, daemon=True)
        thread.start()
        try:
            while results["ok"] < 5 and thread.is_alive():
                time.sleep(0.05)
            self.h.sm.update_endpoint(EndpointName="rolling", EndpointConfigName=new_config)
            d = self.h.wait("rolling", statuses=("InService",), config=new_config)
            target = results["ok"] + 20
            deadline = time.monotonic() + WAIT
            while results["ok"] < target and time.monotonic() < deadline and thread.is_alive():
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(timeout=WAIT)
        self.assertEqual(results["failures"], [])
        self.assertEqual(d["EndpointConfigName"], new_config)
        self.assertNotIn("FailureReason", d)
        now = {i["InstanceId"] for i in self.instances("rolling")}
        self.assertEqual(len(now), 2)
        self.assertFalse(now & old)
        self.assertTrue(set(results["bodies"][-10:]) <= now)
        self.assertTrue(set(results["bodies"]) & old)


class RestartTest(unittest.TestCase):
    def test_endpoint_comes_back_after_a_restart_without_any_call(self):
        with Mercatod(env=ENV) as m, tempfile.TemporaryDirectory() as tmp:
            alice = m.create_account("alice")
            h = Hosting(m, alice, push_probe_image(m, alice, tmp))
            h.endpoint("durable", count=1)
            self.assertEqual(h.wait("durable")["EndpointStatus"], "InService")
            h.invoke("durable")
            m.restart()
            rt = client(m, "sagemaker-runtime", alice)  # the port changed
            deadline = time.monotonic() + WAIT
            while True:
                try:
                    variant, body = Hosting(m, alice, h.image).invoke("durable", rt=rt)
                    break
                except ClientError as e:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"no answer after restart: {e}\n{m.log_tail()}")
                    time.sleep(0.25)
            self.assertEqual(variant, "AllTraffic")
            self.assertTrue(body.endswith(":x"))
            sm = client(m, "sagemaker", alice)
            self.assertEqual(sm.describe_endpoint(EndpointName="durable")["EndpointStatus"],
                             "InService")


if __name__ == "__main__":
    unittest.main()
