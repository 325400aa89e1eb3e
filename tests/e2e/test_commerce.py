"""Commerce end to end (issue 6's acceptance 1, 2, 4 and 5; 3, kill -9 during metering, is
test_metering.py): one scripted month, January 2027, on mercatod --frozen-clock so that
every instance-second is exact, driven by boto3, the native API and the CLI.

Prices: product HOURLY (endpoint 0.50, transform 0.40 per ml.m5.large hour, 7-day trial,
test account C) and product PER-INFERENCE (0.001 per inference); infrastructure 0.10 per
ml.m5.large hour for endpoints and transforms; Washington's 6.5 % sales tax for buyer A.
- A (subscribed Jan 1, trial to Jan 8): an endpoint for 2 h 30 min on Jan 10 and a
  10-minute transform;
- B (subscribed Jan 12): the endpoint for 1 h inside the trial, and 1 h on Jan 20 after it;
- C (the seller's test account): the endpoint for 1 h;
- D: 1,234 invocations of the per-inference product: 34 answered 4xx/5xx, 200 carrying
  ConsumedUnits 3, the rest 1 each; its endpoint runs 1 h.
Every invoice line and total is computed by hand below (integers, micro-USD).
"""

from decimal import Decimal
import os
import tempfile
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import marketplace_helpers as mh
from harness import REGION, Mercatod
from marketplace_helpers import api, api_ok, err
from test_sagemaker_hosting_robustness import push_probe_image

TYPE = "ml.m5.large"
HOUR = 3600


def half_up(numerator, divisor):
    return (numerator + divisor // 2) // divisor


def hourly(seconds, micros_per_hour):
    return half_up(seconds * micros_per_hour, HOUR)


class CommerceMonthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod(extra_args=["--frozen-clock"])
        m = cls.m
        cls.tmp = tempfile.TemporaryDirectory(prefix="mercato-commerce-")
        cls.admin_cli = mh.cli(m, m.admin)
        cls.set_clock("2027-01-01T00:00:00Z")
        cls.seller = m.create_account("seller")
        cls.a, cls.b = m.create_account("buyer-a"), m.create_account("buyer-b")
        cls.c, cls.d = m.create_account("tester-c"), m.create_account("buyer-d")
        cls.sm = {k: mh.client(m, "sagemaker", v) for k, v in
                  (("seller", cls.seller), ("a", cls.a), ("b", cls.b), ("c", cls.c),
                   ("d", cls.d))}
        cls.list_products()

    @classmethod
    def tearDownClass(cls):
        cls.m.close()
        cls.tmp.cleanup()

    # ---- setup ----

    @classmethod
    def set_clock(cls, iso):
        api_ok(cls.m, cls.m.admin, "POST", "/api/v1/admin/clock", {"set": iso})

    @classmethod
    def advance(cls, seconds):
        api_ok(cls.m, cls.m.admin, "POST", "/api/v1/admin/clock", {"advance_seconds": seconds})

    @classmethod
    def list_products(cls):
        m, seller, sm = cls.m, cls.seller, cls.sm["seller"]
        api_ok(m, seller, "POST", "/api/v1/sellers", {
            "LegalName": "Probe Works LLC", "Email": "pay@probe.example", "Country": "US",
            "State": "OR", "BankAccount": "000111222333", "BankRouting": "123000848"})
        push_probe_image(m, seller, cls.tmp.name, "probe/serve:1")
        s3 = m.s3_client(seller)
        s3.create_bucket(Bucket="seller-data")
        s3.put_object(Bucket="seller-data", Key="sample/rows.csv", Body=b"1,2,3,4\n")
        s3.create_bucket(Bucket="seller-reports")
        cls.codes, cls.ids, offers = {}, {}, {}
        for key, env, offer in (
                ("hourly", {"PROBE_SLEEP": "4"},
                 {"Pricing": {"Endpoint": {TYPE: "0.50"}, "Transform": {TYPE: "0.40"}},
                  "FreeTrialDays": 7, "TestAccounts": [mh.account_id(cls.c)]}),
                ("inference", {}, {"Pricing": {"PerInference": "0.001"}})):
            offers[key] = offer
            spec = mh.inference_spec("probe/serve:1")
            spec["Containers"][0]["Environment"] = env
            spec["SupportedContentTypes"] = ["text/csv", "text/plain"]
            definition = {"TransformInput": {"DataSource": {"S3DataSource": {
                              "S3DataType": "S3Prefix", "S3Uri": "s3://seller-data/sample/"}},
                              "ContentType": "text/csv"},
                          "TransformOutput": {"S3OutputPath": f"s3://seller-data/val-{key}"},
                          "TransformResources": {"InstanceType": TYPE, "InstanceCount": 1}}
            sm.create_model_package(
                ModelPackageName=f"probe-{key}", InferenceSpecification=spec,
                CertifyForMarketplace=True,
                ValidationSpecification={"ValidationRole": mh.ROLE, "ValidationProfiles": [
                    {"ProfileName": "p", "TransformJobDefinition": definition}]})
        for key in ("hourly", "inference"):
            mh.wait_package(m, sm, f"probe-{key}")
            arn = sm.describe_model_package(ModelPackageName=f"probe-{key}")["ModelPackageArn"]
            p = api_ok(m, seller, "POST", "/api/v1/products", {
                "Title": f"Probe {key}", "ShortDescription": f"A {key} priced probe"})
            pid = p["ProductId"]
            api_ok(m, seller, "POST", f"/api/v1/products/{pid}/versions",
                   {"Source": arn, "Version": "1.0", "ReleaseNotes": "first"})
            api_ok(m, seller, "PUT", f"/api/v1/products/{pid}/offer", offers[key])
            api_ok(m, seller, "POST", f"/api/v1/products/{pid}/visibility",
                   {"Visibility": "Public"})
            detail = api_ok(m, seller, "GET", f"/api/v1/products/{pid}")
            cls.ids[key], cls.codes[key] = pid, detail["ProductCode"]
            setattr(cls, f"arn_{key}", detail["Versions"][0]["EscrowedArn"])
        api_ok(m, m.admin, "PUT", "/api/v1/admin/prices/infrastructure",
               {"Endpoint": {TYPE: "0.10"}, "Transform": {TYPE: "0.10"}})
        api_ok(m, m.admin, "PUT", "/api/v1/admin/billing/tax-rates", {"US": {"WA": "0.065"}})
        api_ok(m, cls.a, "PUT", "/api/v1/billing/address", {"Country": "US", "State": "WA"})

    # ---- the month ----

    def subscribe(self, creds, key, ref=None):
        body = {"Product": self.codes[key], "AcceptEula": True}
        if ref:
            body["RefTag"] = ref
        return api_ok(self.m, creds, "POST", "/api/v1/subscriptions", body)

    def endpoint_for(self, who, key, name, seconds, during=None):
        """An endpoint that runs for exactly `seconds` of (frozen) clock time."""
        sm = self.sm[who]
        sm.create_model(ModelName=name, ExecutionRoleArn=mh.ROLE,
                        Containers=[{"ModelPackageName": getattr(self, f"arn_{key}")}])
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
            "VariantName": "v", "ModelName": name, "InstanceType": TYPE,
            "InitialInstanceCount": 1}])
        sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
        mh.wait_endpoint(self.m, sm, name)
        if during:
            during(sm)
        self.advance(seconds)
        sm.delete_endpoint(EndpointName=name)
        # The instance is stopped once the endpoint record is gone.
        deadline = time.monotonic() + mh.WAIT
        while time.monotonic() < deadline:
            if name not in [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]:
                return
            time.sleep(0.2)
        self.fail(f"endpoint {name} was not deleted")

    def usage(self, creds, month="2027-01"):
        return api_ok(self.m, creds, "GET", f"/api/v1/usage?month={month}")

    def wait_usage(self, creds, predicate, what):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            u = self.usage(creds)
            if predicate(u):
                return u
            time.sleep(0.3)
        self.fail(f"usage never showed {what}: {u}")

    def test_1_scripted_month_invoices_and_disbursement(self):
        m = self.m
        # A: subscribed Jan 1 (trial Jan 1-8); on Jan 10 an endpoint for 2 h 30 min and a
        # 10-minute transform.
        self.subscribe(self.a, "hourly", ref="newsletter")
        self.set_clock("2027-01-10T00:00:00Z")
        self.endpoint_for("a", "hourly", "a-endpoint", 2 * HOUR + 30 * 60)
        s3 = m.s3_client(self.a)
        s3.create_bucket(Bucket="a-data")
        s3.put_object(Bucket="a-data", Key="in/rows.csv", Body=b"5,1,2,3\n")
        sm = self.sm["a"]
        sm.create_model(ModelName="a-batch", ExecutionRoleArn=mh.ROLE,
                        Containers=[{"ModelPackageName": self.arn_hourly}])
        sm.create_transform_job(
            TransformJobName="a-batch", ModelName="a-batch",
            TransformInput={"DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://a-data/in/"}}, "ContentType": "text/csv"},
            TransformOutput={"S3OutputPath": "s3://a-data/out"},
            TransformResources={"InstanceType": TYPE, "InstanceCount": 1})
        # Its instance is up once TransformStartTime shows; the probe then answers after 4 s.
        mh.wait_for("transform start", lambda: "TransformStartTime" in sm.describe_transform_job(
            TransformJobName="a-batch"), (True,), m=m)
        self.advance(10 * 60)
        mh.wait_for("transform a-batch", lambda: sm.describe_transform_job(
            TransformJobName="a-batch")["TransformJobStatus"], ("Completed",), ("Failed",), m)

        # B (trial Jan 12-19): 1 h inside the trial, 1 h on Jan 20. C, a test account: 1 h.
        self.set_clock("2027-01-12T00:00:00Z")
        self.subscribe(self.b, "hourly", ref="blog")
        self.subscribe(self.c, "hourly")
        self.endpoint_for("b", "hourly", "b-trial", HOUR)
        # D: per-inference product, 1,234 invocations within one hour.
        self.set_clock("2027-01-15T00:00:00Z")
        self.subscribe(self.d, "inference")
        rt = boto3.session.Session().client(
            "sagemaker-runtime", endpoint_url=m.endpoint, region_name=REGION,
            aws_access_key_id=self.d["access_key_id"],
            aws_secret_access_key=self.d["secret_access_key"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"},
                          max_pool_connections=4))

        def invoke_all(_):
            bodies = ([b"status=400"] * 20 + [b"status=500"] * 14 + [b"units=3"] * 200 +
                      [b"1,2,3,4"] * 1000)
            failed = 0
            for body in bodies:
                try:
                    rt.invoke_endpoint(EndpointName="d-endpoint", Body=body,
                                       ContentType="text/plain")
                except ClientError as e:
                    self.assertEqual(e.response["Error"]["Code"], "ModelError")
                    failed += 1
            self.assertEqual(failed, 34)

        self.endpoint_for("d", "inference", "d-endpoint", HOUR, during=invoke_all)
        self.set_clock("2027-01-20T00:00:00Z")
        self.endpoint_for("b", "hourly", "b-paid", HOUR)
        self.endpoint_for("c", "hourly", "c-endpoint", HOUR)

        # Everything is metered before the month closes.
        def seconds(u, use):
            return sum(float(r["Quantity"]) for r in u["Rows"] if r["Use"] == use)
        self.wait_usage(self.a, lambda u: seconds(u, "Endpoint") == 9000 and
                        seconds(u, "Transform") == 600, "A's 9000 + 600 s")
        self.wait_usage(self.d, lambda u: seconds(u, "Inference") == 1600, "D's 1600 units")
        self.wait_usage(self.c, lambda u: seconds(u, "Endpoint") == 3600, "C's 3600 s")
        self.wait_usage(self.b, lambda u: seconds(u, "Endpoint") == 7200, "B's 7200 s")

        # Closing a month that has not ended is refused.
        status, out = api(m, m.admin, "POST", "/api/v1/admin/billing/close-month",
                          {"Month": "2027-01"})
        self.assertEqual((status, err(out)[0]), (409, "MonthNotEnded"), out)
        self.set_clock("2027-02-01T00:00:01Z")
        api_ok(m, m.admin, "POST", "/api/v1/admin/billing/close-month", {"Month": "2027-01"})

        # ---- hand-computed invoices ----
        endpoint, transform, infra, per_inf = 500_000, 400_000, 100_000, 1_000
        a_sw = hourly(9000, endpoint) + hourly(600, transform)
        a_infra = hourly(9000, infra) + hourly(600, infra)
        a_tax = half_up((a_sw + a_infra) * 65_000, 1_000_000)
        expected = {
            "a": (a_sw, a_infra, a_tax),
            "b": (hourly(3600, endpoint), hourly(7200, infra), 0),
            "c": (0, hourly(3600, infra), 0),
            "d": (1600 * per_inf, hourly(3600, infra), 0),
        }
        self.assertEqual(a_sw, 1_316_667)
        self.assertEqual(a_tax, 102_917)
        invoices = {}
        for who, creds in (("a", self.a), ("b", self.b), ("c", self.c), ("d", self.d)):
            bills = api_ok(m, creds, "GET", "/api/v1/bills?month=2027-01")["Bills"]
            self.assertEqual(len(bills), 1, bills)
            inv = api_ok(m, creds, "GET", f"/api/v1/bills/{bills[0]['InvoiceId']}")
            invoices[who] = inv
            sw, infra_total, tax = expected[who]
            self.assertEqual(inv["SoftwareSubtotalMicros"], sw, (who, inv))
            self.assertEqual(inv["InfrastructureSubtotalMicros"], infra_total, (who, inv))
            self.assertEqual(inv["TaxMicros"], tax, (who, inv))
            self.assertEqual(inv["TotalMicros"], sw + infra_total + tax, (who, inv))
            self.assertEqual(sum(l["AmountMicros"] for l in inv["Lines"]), sw + infra_total)

        def lines(who, **match):
            return [l for l in invoices[who]["Lines"]
                    if all(l[k] == v for k, v in match.items())]
        a_end = lines("a", Kind="Software", Use="Endpoint")
        self.assertEqual([(l["Quantity"], l["UnitPriceMicros"], l["AmountMicros"], l["Pricing"])
                          for l in a_end], [(9000, endpoint, 1_250_000, "Paid")])
        a_tr = lines("a", Kind="Software", Use="Transform")
        self.assertEqual([(l["Quantity"], l["AmountMicros"]) for l in a_tr], [(600, 66_667)])
        b_sw = sorted((l["Pricing"], l["Quantity"], l["AmountMicros"])
                      for l in lines("b", Kind="Software"))
        self.assertEqual(b_sw, [("FreeTrial", 3600, 0), ("Paid", 3600, 500_000)])
        self.assertEqual([(l["Pricing"], l["Quantity"], l["AmountMicros"])
                          for l in lines("c", Kind="Software")], [("TestAccount", 3600, 0)])
        self.assertEqual([(l["Quantity"], l["AmountMicros"])
                          for l in lines("d", Kind="Software", Use="Inference")],
                         [(1600, 1_600_000)])

        revenue = a_sw + 500_000 + 1_600_000
        fee = half_up(revenue * 200_000, 1_000_000)
        out = api_ok(m, self.seller, "GET", "/api/v1/sellers/me/disbursements")
        jan = [x for x in out["Disbursements"] if x["Month"] == "2027-01"]
        self.assertEqual(len(jan), 1, out)
        self.assertEqual(jan[0]["SoftwareRevenueMicros"], revenue)
        self.assertEqual(jan[0]["ListingFeeMicros"], fee)
        self.assertEqual(jan[0]["AmountMicros"], revenue - fee)
        self.assertEqual(jan[0]["AmountMicros"], 2_733_334)
        type(self).invoices = invoices

    def test_2_reports_and_generate_data_set(self):
        m, seller = self.m, self.seller

        def report(name, **q):
            query = "&".join(f"{k}={v}" for k, v in q.items())
            return api_ok(m, seller, "GET",
                          f"/api/v1/sellers/me/reports/{name}?{query}&format=json")

        def pick(data, *columns):
            return sorted(tuple(r[c] for c in columns) for r in data["Rows"])

        usage = report("daily_business_usage_by_instance_type", date="2027-01-10")
        self.assertEqual(pick(usage, "Use", "Instance Type", "Usage Units", "Usage Unit Type",
                              "User's State"),
                         [("Endpoint", TYPE, "2.500000", "Hrs", "WA"),
                          ("Transform", TYPE, "0.166667", "Hrs", "WA")])
        self.assertNotIn(mh.account_id(self.a), str(usage))
        fees = report("daily_business_fees", date="2027-01-10")
        self.assertEqual(pick(fees, "Use", "Pricing", "Customer Fee Amount (Estimated)"),
                         [("Endpoint", "Paid", "1.250000"), ("Transform", "Paid", "0.066667")])
        revenue = report("monthly_revenue_billing_and_revenue_data", month="2027-01")
        self.assertEqual(
            pick(revenue, "Product Code", "Customer Billed Amount", "AWS Listing Fee",
                 "Partner Revenue"),
            sorted([(self.codes["hourly"], "1.316667", "0.263333", "1.053334"),   # A
                    (self.codes["hourly"], "0.500000", "0.100000", "0.400000"),   # B
                    (self.codes["hourly"], "0.000000", "0.000000", "0.000000"),   # C
                    (self.codes["inference"], "1.600000", "0.320000", "1.280000")]))  # D
        new = report("daily_business_new_product_subscribers", date="2027-01-12")
        self.assertEqual(pick(new, "Product Code", "Ref Tag", "Free Trial End Date"),
                         [(self.codes["hourly"], "", "2027-01-19"),
                          (self.codes["hourly"], "blog", "2027-01-19")])
        conv = report("daily_business_free_trial_conversions", date="2027-01-19")
        # B converted (paid use after the trial); C, a test account, stayed subscribed.
        conv_rows = conv["Rows"]
        self.assertEqual(len(conv_rows), 2, conv)
        self.assertEqual([r["Converted to Paid"] for r in conv_rows], ["Yes", "Yes"])
        disbursed = report("disbursed_amount_by_product", date="2027-02-01")
        by_code = {r["Product Code"]: r for r in disbursed["Rows"]}
        self.assertEqual(by_code[self.codes["hourly"]]["Gross Revenue"], "1.816667")
        self.assertEqual(by_code[self.codes["inference"]]["Gross Revenue"], "1.600000")
        total = sum(Decimal(r["Disbursed Amount"]) for r in disbursed["Rows"])
        self.assertEqual(total, Decimal("2.733334"))

        mca = boto3.session.Session().client(
            "marketplacecommerceanalytics", endpoint_url=m.endpoint, region_name=REGION,
            aws_access_key_id=seller["access_key_id"],
            aws_secret_access_key=seller["secret_access_key"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        out = mca.generate_data_set(
            dataSetType="daily_business_usage_by_instance_type",
            dataSetPublicationDate="2027-01-10T00:00:00Z",
            roleNameArn="arn:aws:iam::123456789012:role/Reports",
            destinationS3BucketName="seller-reports", destinationS3Prefix="mp",
            snsTopicArn="arn:aws:sns:us-east-1:123456789012:reports")
        self.assertTrue(out["dataSetRequestId"])
        s3 = m.s3_client(seller)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="seller-reports")["Contents"]]
        self.assertIn("mp/daily_business_usage_by_instance_type_2027-01-10.csv", keys)
        self.assertIn("mp/daily_business_usage_by_instance_type_2027-01-10.meta.json", keys)

    def test_3_close_twice_and_refund_adjustment(self):
        m = self.m
        before = api_ok(m, self.a, "GET", "/api/v1/bills?month=2027-01")
        api_ok(m, m.admin, "POST", "/api/v1/admin/billing/close-month", {"Month": "2027-01"})
        self.assertEqual(api_ok(m, self.a, "GET", "/api/v1/bills?month=2027-01"), before)

        invoice = self.invoices["a"]["InvoiceId"]
        api_ok(m, m.admin, "POST", "/api/v1/admin/billing/refunds", {
            "InvoiceId": invoice, "Amount": "0.50", "Reason": "endpoint outage",
            "ProductId": self.ids["hourly"]})
        again = api_ok(m, self.a, "GET", f"/api/v1/bills/{invoice}")
        self.assertEqual(again, self.invoices["a"])  # issued invoices never change
        bills = api_ok(m, self.a, "GET", "/api/v1/bills")["Bills"]
        adjustments = [b for b in bills if b["Kind"] == "Adjustment"]
        self.assertEqual(len(adjustments), 1, bills)
        self.assertEqual(adjustments[0]["RefersTo"], invoice)

        self.set_clock("2027-03-01T00:00:01Z")
        api_ok(m, m.admin, "POST", "/api/v1/admin/billing/close-month", {"Month": "2027-02"})
        out = api_ok(m, self.seller, "GET", "/api/v1/sellers/me/disbursements")
        feb = [x for x in out["Disbursements"] if x["Month"] == "2027-02"]
        self.assertEqual(len(feb), 1, out)
        self.assertEqual(feb[0]["RefundsMicros"], 500_000)
        self.assertEqual(feb[0]["AmountMicros"], -500_000)

    def test_4_bad_input_changes_nothing(self):
        m, seller = self.m, self.seller
        pid = self.ids["hourly"]
        before = api_ok(m, seller, "GET", f"/api/v1/products/{pid}")["Offer"]
        for offer in ({"Pricing": {"Endpoint": {TYPE: "-1"}}},
                      {"Pricing": {"Endpoint": {TYPE: "abc"}}},
                      {"Pricing": {"Endpoint": {TYPE: 0.5}}},
                      {"Pricing": {"Endpoint": {"ml.z9.huge": "1"}}},
                      {"Pricing": {"Endpoint": {TYPE: "1"}}, "FreeTrialDays": 3},
                      {"Pricing": {"Endpoint": {TYPE: "1"}}, "FreeTrialDays": 121}):
            status, out = api(m, seller, "PUT", f"/api/v1/products/{pid}/offer", offer)
            self.assertEqual(status, 400, (offer, out))
            self.assertTrue(err(out)[1], out)
        self.assertEqual(api_ok(m, seller, "GET", f"/api/v1/products/{pid}")["Offer"], before)
        prices = api_ok(m, m.admin, "GET", "/api/v1/admin/prices/infrastructure")
        for body in ({"Endpoint": {TYPE: "-0.1"}}, {"Endpoint": {"ml.z9.huge": "1"}},
                     {"Gaming": {TYPE: "1"}}):
            status, out = api(m, m.admin, "PUT", "/api/v1/admin/prices/infrastructure", body)
            self.assertEqual(status, 400, (body, out))
        self.assertEqual(api_ok(m, m.admin, "GET", "/api/v1/admin/prices/infrastructure"),
                         prices)
        for month, code in (("2027-13", 400), ("January", 400), ("2099-01", 409)):
            status, out = api(m, m.admin, "POST", "/api/v1/admin/billing/close-month",
                              {"Month": month})
            self.assertEqual(status, code, (month, out))
        periods = api_ok(m, m.admin, "GET", "/api/v1/admin/billing/periods")
        self.assertNotIn("2099-01", str(periods))

    def test_5_grace_end_stops_running_jobs(self):
        """After a removed product's grace period, a buyer's transform job still running it is
        stopped (the probe answers each of its 10 records after 4 s)."""
        m, sm = self.m, self.sm["a"]
        m.s3_client(self.a).put_object(Bucket="a-data", Key="long/rows.csv",
                                       Body=b"".join(b"%d,1,2,3\n" % i for i in range(10)))
        sm.create_transform_job(
            TransformJobName="a-long", ModelName="a-batch", BatchStrategy="SingleRecord",
            MaxConcurrentTransforms=1,
            TransformInput={"DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://a-data/long/"}},
                "ContentType": "text/csv", "SplitType": "Line"},
            TransformOutput={"S3OutputPath": "s3://a-data/long-out"},
            TransformResources={"InstanceType": TYPE, "InstanceCount": 1})
        mh.wait_for("transform start", lambda: "TransformStartTime" in sm.describe_transform_job(
            TransformJobName="a-long"), (True,), m=m)
        api_ok(m, self.seller, "POST", f"/api/v1/products/{self.ids['hourly']}/remove", {})
        self.advance(91 * 86400)
        mh.wait_for("transform a-long", lambda: sm.describe_transform_job(
            TransformJobName="a-long")["TransformJobStatus"], ("Stopped",), ("Completed",), m,
            timeout=30)
        kinds = [n["Type"] for n in api_ok(m, self.a, "GET",
                                           "/api/v1/notifications")["Notifications"]]
        self.assertIn("subscription.expired", kinds)


if __name__ == "__main__":
    unittest.main()
