"""Sellers' business reports against a real mercatod (issue 6, reports part): the native
API and `mercato seller reports`, and Commerce Analytics' GenerateDataSet through boto3's
`marketplacecommerceanalytics` client.

Usage and subscription rows are written straight into the server's SQLite file (the shared
schema of store/migrations.cc), so this test needs only the reports and sellers parts. The
GenerateDataSet test is skipped only while the server does not route the
MarketplaceCommerceAnalytics20150701 target (404 or UnknownOperationException).
"""

import csv
import io
import json
import os
import sqlite3
import unittest
import urllib.error
import urllib.request
from datetime import datetime, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from cli_helpers import Cli
from harness import REGION, Mercatod

T0 = int(datetime(2026, 11, 3, tzinfo=timezone.utc).timestamp()) * 1000000  # micros
HOUR = 3600 * 1000000


def api(m, creds, method, path):
    req = urllib.request.Request(m.endpoint + path, method=method,
                                 headers={"Authorization": "Bearer " + creds["token"]})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def account_id(creds):
    return creds.get("account_id") or creds["account"]["account_id"]


class ReportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod(extra_args=["--test-clock"])
        cls.seller = cls.m.create_account("rep-seller")
        cls.buyer = cls.m.create_account("rep-buyer")
        cls.seller_id = account_id(cls.seller)
        cls.buyer_id = account_id(cls.buyer)
        cls.cli = Cli(cls.m, cls.seller)
        cls.cli.ok("seller", "register", "--legal-name", "Report Labs", "--email",
                   "ops@example.com", "--country", "US", "--state", "WA", "--bank-account",
                   "000123456789", "--bank-routing", "021000021")
        db = os.path.join(cls.m.data_dir, "mercato.db")
        with sqlite3.connect(db, timeout=30) as conn:
            conn.execute(
                "INSERT INTO products VALUES ('prod-rep1', 'reportcode1', ?, 'Report Model',"
                " '', '', '', '', '[]', '[]', '', '', '', '', '', '{}', '[]', 'Public',"
                " 'model-package', '{}', 0, 0, '[]', '[]', 0, 0, 0, 0, 0, 0)",
                (cls.seller_id,))
            for hour, micros in ((1, 3600 * 1000000), (2, 1800 * 1000000)):
                conn.execute(
                    "INSERT INTO usage_records VALUES (?, 'sub-rep1', 'prod-rep1', ?, 'arn:e',"
                    " 'Endpoint', 'ml.m5.large', ?, ?, 0)",
                    (cls.buyer_id, cls.seller_id, T0 + hour * HOUR, micros))

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def test_native_api_json_and_csv(self):
        path = "/api/v1/sellers/me/reports/daily_business_usage_by_instance_type?date=2026-11-03"
        status, ctype, body = api(self.m, self.seller, "GET", path)
        self.assertEqual(status, 200, body)
        out = json.loads(body)
        self.assertEqual(out["Period"], "2026-11-03")
        self.assertEqual(len(out["Rows"]), 1)
        row = out["Rows"][0]
        self.assertEqual(row["Product Code"], "reportcode1")
        self.assertEqual(row["Usage Units"], "1.500000")
        self.assertEqual(row["Usage Unit Type"], "Hrs")
        self.assertNotIn(self.buyer_id, body)  # buyers only by reference id
        self.assertRegex(row["Customer Reference ID"], "^[0-9a-f]{32}$")

        status, ctype, text = api(self.m, self.seller, "GET", path + "&format=csv")
        self.assertEqual(status, 200, text)
        self.assertTrue(ctype.startswith("text/csv"), ctype)
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(rows[0][:5], ["Customer Reference ID", "User's State", "User's Country",
                                       "Product Title", "Product Code"])
        self.assertEqual(rows[1][0], row["Customer Reference ID"])  # stable

    def test_cli(self):
        out = self.cli.ok("seller", "reports", "daily_business_usage_by_instance_type",
                          "--date", "2026-11-03", "--format", "csv").stdout
        self.assertIn("Report Model,reportcode1,Endpoint,ml.m5.large,1.500000,Hrs", out)
        table = self.cli.ok("seller", "reports", "daily_business_usage_by_instance_type",
                            "--date", "2026-11-03").stdout
        self.assertIn("1 row(s)", table)
        types = self.cli.json("seller", "reports")
        names = [t["Name"] for t in types["DataSetTypes"]]
        self.assertIn("monthly_revenue_billing_and_revenue_data", names)
        self.assertIn("weekly_business_ref_tags", names)

    def test_bad_requests(self):
        status, _, body = api(self.m, self.seller, "GET",
                              "/api/v1/sellers/me/reports/no_such_set?date=2026-11-03")
        self.assertEqual(status, 400)
        self.assertIn("UnknownDataSetType", body)
        for query in ("date=2026-02-30", "month=2026-11", ""):
            status, _, body = api(self.m, self.seller, "GET",
                                  "/api/v1/sellers/me/reports/daily_business_fees?" + query)
            self.assertEqual(status, 400, query)
            self.assertIn("InvalidDate", body)
        status, _, body = api(
            self.m, self.seller, "GET",
            "/api/v1/sellers/me/reports/daily_business_fees?date=2026-11-03&format=xml")
        self.assertEqual(status, 400)
        # Not a seller: refused.
        status, _, body = api(self.m, self.buyer, "GET",
                              "/api/v1/sellers/me/reports/daily_business_fees?date=2026-11-03")
        self.assertGreaterEqual(status, 400, body)
        self.assertIn("Seller", body)
        proc = self.cli.run("seller", "reports", "daily_business_fees", "--date", "yesterday")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("InvalidDate", proc.stderr)

    def client(self, creds):
        return boto3.session.Session().client(
            "marketplacecommerceanalytics", endpoint_url=self.m.endpoint, region_name=REGION,
            aws_access_key_id=creds["access_key_id"],
            aws_secret_access_key=creds["secret_access_key"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}))

    def test_generate_data_set(self):
        s3 = self.m.s3_client(self.seller)
        s3.create_bucket(Bucket="rep-seller-reports")
        mca = self.client(self.seller)
        args = dict(dataSetType="daily_business_usage_by_instance_type",
                    dataSetPublicationDate=datetime(2026, 11, 3, tzinfo=timezone.utc),
                    roleNameArn="arn:aws:iam::%s:role/MarketplaceReports" % self.seller_id,
                    destinationS3BucketName="rep-seller-reports",
                    destinationS3Prefix="mca",
                    snsTopicArn="arn:aws:sns:local:%s:reports" % self.seller_id,
                    customerDefinedValues={"run": "e2e"})
        try:
            out = mca.generate_data_set(**args)
        except ClientError as e:
            code = e.response["Error"]["Code"]
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            if status == 404 or code in ("UnknownOperationException", "UnknownOperation"):
                self.skipTest("mercatod does not route MarketplaceCommerceAnalytics20150701 yet")
            raise
        request_id = out["dataSetRequestId"]
        self.assertRegex(request_id, "^[0-9a-f-]{36}$")
        key = "mca/daily_business_usage_by_instance_type_2026-11-03.csv"
        body = s3.get_object(Bucket="rep-seller-reports", Key=key)["Body"].read().decode()
        self.assertIn("reportcode1,Endpoint,ml.m5.large,1.500000,Hrs", body)
        meta = json.loads(s3.get_object(
            Bucket="rep-seller-reports",
            Key="mca/daily_business_usage_by_instance_type_2026-11-03.meta.json")["Body"].read())
        self.assertEqual(meta["dataSetRequestId"], request_id)
        self.assertEqual(meta["customerDefinedValues"], {"run": "e2e"})
        status, _, notes = api(self.m, self.seller, "GET", "/api/v1/notifications")
        self.assertEqual(status, 200)
        self.assertIn("dataset.published", notes)
        self.assertIn(args["snsTopicArn"], notes)

        # Someone else's bucket: refused with the service's exception, nothing written.
        other = self.m.s3_client(self.buyer)
        other.create_bucket(Bucket="rep-buyer-bucket")
        with self.assertRaises(ClientError) as ctx:
            mca.generate_data_set(**dict(args, destinationS3BucketName="rep-buyer-bucket"))
        self.assertEqual(ctx.exception.response["Error"]["Code"],
                         "MarketplaceCommerceAnalyticsException")
        self.assertIn("AccessDenied", ctx.exception.response["Error"]["Message"])
        self.assertEqual(other.list_objects_v2(Bucket="rep-buyer-bucket").get("KeyCount"), 0)
        # A buyer who is not a seller cannot generate data sets.
        with self.assertRaises(ClientError) as ctx:
            self.client(self.buyer).generate_data_set(
                **dict(args, destinationS3BucketName="rep-buyer-bucket"))
        self.assertEqual(ctx.exception.response["Error"]["Code"],
                         "MarketplaceCommerceAnalyticsException")


if __name__ == "__main__":
    unittest.main()
