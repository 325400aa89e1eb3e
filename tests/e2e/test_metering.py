"""Metering end to end (issue 6): GET /api/v1/usage and `mercato usage`, the operator's
metering switch, and crash safety: after `kill -9` of mercatod while an endpoint runs and a
restart, the endpoint's metered instance time is never more than it really ran and at most a
few seconds less (the instance is closed at its last metered instant, so the downtime is not
billed).

The crash test needs the built-in XGBoost image ($MERCATO_BUILD_DIR/images) and the sandbox;
it reads the server's SQLite file (read-only) to compare usage with the instance rows.
"""

import os
import sqlite3
import tempfile
import time
import unittest

from harness import Mercatod
from marketplace_helpers import (IMAGE_TAR, account_id, api, api_ok, cli, client, err,
                                 push_xgboost)
import test_sagemaker_endpoints as endpoints

SEC = 1_000_000
MAX_LOSS = 5 * SEC  # per instance (the tick is 1 s)


class MeteringApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod(extra_args=["--test-clock"])
        cls.buyer = cls.m.create_account("buyer")
        cls.other = cls.m.create_account("other")

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def test_empty_month_and_bad_month(self):
        out = api_ok(self.m, self.buyer, "GET", "/api/v1/usage")
        self.assertRegex(out["Month"], r"^\d{4}-\d{2}$")
        self.assertEqual(out["Rows"], [])
        self.assertEqual(out["TotalCost"], "0.000000")
        out = api_ok(self.m, self.buyer, "GET", "/api/v1/usage?month=2026-02")
        self.assertEqual(out["Month"], "2026-02")
        for bad in ("2026-13", "2026-1", "abc", "2026-02-01"):
            status, out = api(self.m, self.buyer, "GET", "/api/v1/usage?month=" + bad)
            self.assertEqual(status, 400, bad)
            self.assertEqual(err(out)[0], "ValidationError")

    def test_only_operator_reads_others_and_switches_metering(self):
        status, out = api(self.m, self.buyer, "GET",
                          "/api/v1/usage?account=" + account_id(self.other))
        self.assertEqual(status, 403)
        status, out = api(self.m, self.buyer, "PUT", "/api/v1/admin/metering",
                          {"InferenceMetering": False})
        self.assertEqual(status, 403)
        self.assertEqual(err(out)[0], "AccessDenied")
        op = self.m.admin
        status, out = api(self.m, op, "PUT", "/api/v1/admin/metering", {"InferenceMetering": 1})
        self.assertEqual(status, 400)
        out = api_ok(self.m, op, "PUT", "/api/v1/admin/metering", {"InferenceMetering": False})
        self.assertFalse(out["InferenceMetering"])
        out = api_ok(self.m, op, "PUT", "/api/v1/admin/metering", {"InferenceMetering": True})
        self.assertTrue(out["InferenceMetering"])
        api_ok(self.m, op, "GET", "/api/v1/usage?account=" + account_id(self.other))

    def test_cli(self):
        c = cli(self.m, self.buyer)
        out = c.json("usage", "--month", "2026-03")
        self.assertEqual(out["Month"], "2026-03")
        text = c.ok("usage").stdout
        self.assertIn("total: software 0.000000", text)
        r = c.run("usage", "--month", "March")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("YYYY-MM", r.stderr + r.stdout)


class MeteringCrashTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(IMAGE_TAR):
            self.skipTest(f"{IMAGE_TAR} is not built")
        self.m = Mercatod()
        self.addCleanup(self.m.close)
        self.buyer = self.m.create_account("buyer")

    def db(self):
        return sqlite3.connect(f"file:{self.m.data_dir}/mercato.db?mode=ro", uri=True, timeout=10)

    def endpoint_seconds(self):
        out = api_ok(self.m, self.buyer, "GET", "/api/v1/usage")
        return sum(float(r["Quantity"]) for r in out["Rows"] if r["Use"] == "Endpoint")

    def wait(self, what, fn, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fn():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.m.log_tail(40)}")

    def test_kill9_never_overbills(self):
        push_xgboost(self.m, self.buyer)
        with tempfile.TemporaryDirectory() as work:
            model = endpoints.SageMakerEndpointsTest.train_model(None, work)
            s3 = self.m.s3_client(self.buyer)
            s3.create_bucket(Bucket="models")
            s3.upload_file(model, "models", "iris/model.tar.gz")
        sm = client(self.m, "sagemaker", self.buyer)
        sm.create_model(ModelName="iris", PrimaryContainer={
            "Image": "mercato-xgboost:latest", "ModelDataUrl": "s3://models/iris/model.tar.gz"})
        sm.create_endpoint_config(EndpointConfigName="iris", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "iris", "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large"}])
        sm.create_endpoint(EndpointName="iris", EndpointConfigName="iris")
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName="iris", WaiterConfig={"Delay": 1, "MaxAttempts": 180})
        self.wait("endpoint usage", lambda: self.endpoint_seconds() >= 2)
        time.sleep(1.5)
        self.m.kill9()
        killed_at = int(time.time() * SEC)
        self.m.start()  # same data dir: the endpoint comes back with a new instance
        sm = client(self.m, "sagemaker", self.buyer)
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName="iris", WaiterConfig={"Delay": 1, "MaxAttempts": 180})
        time.sleep(3)
        self.m.stop()  # graceful: a last metering tick
        stopped_at = int(time.time() * SEC)

        with self.db() as db:
            # A row still open after a graceful stop is closed at its cursor by the next
            # start's recovery: use that instant.
            rows = db.execute("SELECT i.instance_id, i.started_at, COALESCE(i.stopped_at,"
                              " c.metered_until) FROM endpoint_instances i LEFT JOIN"
                              " meter_cursors c ON c.source = 'endpoint_instances' AND"
                              " c.instance_id = i.instance_id ORDER BY i.started_at").fetchall()
            billed = db.execute("SELECT SUM(quantity) FROM usage_records WHERE use = 'Endpoint'"
                                " AND buyer_account = ?", (account_id(self.buyer),)).fetchone()[0]
        self.assertGreaterEqual(len(rows), 2, rows)
        first = rows[0]
        # The crashed instance is closed at its last metered instant, before the kill.
        self.assertLessEqual(first[2], killed_at)
        self.assertGreaterEqual(first[2], killed_at - MAX_LOSS)
        for _, started, stopped in rows:
            self.assertIsNotNone(stopped)
            self.assertLessEqual(stopped, stopped_at)
        recorded = sum(stopped - started for _, started, stopped in rows)
        self.assertLessEqual(billed, recorded)
        self.assertGreaterEqual(billed, recorded - MAX_LOSS * len(rows))
        # Nothing is billed for the time mercatod was down.
        self.assertLess(billed, stopped_at - rows[0][1])

if __name__ == "__main__":
    unittest.main()
