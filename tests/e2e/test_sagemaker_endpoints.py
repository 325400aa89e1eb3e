"""SageMaker hosting end to end: boto3's sagemaker and sagemaker-runtime clients and the AWS
CLI against a real mercatod.

The XGBoost path (push the built-in image, train an Iris model with the container binary,
upload model.tar.gz to Mercato's S3, create model / endpoint config / endpoint, wait for
InService, invoke with CSV, check accuracy) needs the native image push route
POST /api/v1/images?name=REPO:TAG; it is skipped with a reason when that route is absent.
"""

import json
import os
import subprocess
import tarfile
import tempfile
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import REGION, Mercatod, bin_dir

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "iris")
IMAGE_TAR = os.path.join(os.environ.get("MERCATO_BUILD_DIR", ""), "images", "mercato-xgboost.tar")


def client(m, service, creds):
    return boto3.session.Session().client(
        service, endpoint_url=m.endpoint, region_name=REGION,
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120))


def error_of(ctx):
    e = ctx.exception.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_rows():
    labels, rows = [], []
    with open(os.path.join(DATA, "test.csv")) as f:
        for line in f:
            line = line.strip()
            if line:
                label, rest = line.split(",", 1)
                labels.append(int(float(label)))
                rows.append(rest)
    return labels, "\n".join(rows) + "\n"


def numbers(value):
    """Prediction numbers from the container's JSON answer, in order."""
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, dict):
        for key in ("predictions", "score", "predicted_label"):
            if key in value:
                return numbers(value[key])
        return [v for x in value.values() for v in numbers(x)][:1]
    if isinstance(value, list):
        out = []
        for x in value:
            n = numbers(x)
            out.append(n[0] if isinstance(x, dict) and n else n)
        return [v for x in out for v in (x if isinstance(x, list) else [x])]
    return []


class SageMakerEndpointsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod()
        cls.alice = cls.m.create_account("alice")
        cls.bob = cls.m.create_account("bob")
        cls.sm = client(cls.m, "sagemaker", cls.alice)
        cls.rt = client(cls.m, "sagemaker-runtime", cls.alice)

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def account(self, creds):
        return creds.get("account_id") or creds["account"]["id"]

    # ---- validation and error shapes (no image needed) ----

    def test_invalid_names_and_missing_fields(self):
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_model(ModelName="bad_name!",
                                 PrimaryContainer={"Image": "mercato-xgboost:latest"})
        code, msg, status = error_of(ctx)
        self.assertEqual((code, status), ("ValidationException", 400))
        self.assertIn("regular expression pattern", msg)
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_model(ModelName="no-container")
        self.assertEqual(error_of(ctx)[0], "ValidationException")
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_model(ModelName="no-image", PrimaryContainer={"Image": "absent:1"})
        self.assertIn("absent:1", error_of(ctx)[1])
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_endpoint_config(
                EndpointConfigName="cfg", ProductionVariants=[{
                    "VariantName": "AllTraffic", "ModelName": "missing-model",
                    "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
        self.assertIn('Could not find model "arn:aws:sagemaker:local:', error_of(ctx)[1])
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_endpoint(EndpointName="ep", EndpointConfigName="missing-config")
        self.assertIn("Could not find endpoint configuration", error_of(ctx)[1])

    def test_describe_missing_endpoint_is_validation_exception(self):
        with self.assertRaises(ClientError) as ctx:
            self.sm.describe_endpoint(EndpointName="nothing-here")
        code, msg, _ = error_of(ctx)
        self.assertEqual(code, "ValidationException")
        self.assertEqual(msg, 'Could not find endpoint "arn:aws:sagemaker:local:%s:endpoint/'
                         'nothing-here".' % self.account(self.alice))
        self.assertEqual(self.sm.list_endpoints()["Endpoints"], [])
        self.assertEqual(self.sm.list_models(NameContains="zzz")["Models"], [])

    def test_invoke_unknown_endpoint_and_oversized_payload(self):
        with self.assertRaises(ClientError) as ctx:
            self.rt.invoke_endpoint(EndpointName="nope", Body=b"1,2,3,4", ContentType="text/csv")
        code, msg, status = error_of(ctx)
        self.assertEqual((code, status), ("ValidationError", 400))
        self.assertEqual(msg, "Endpoint nope of account %s not found." % self.account(self.alice))
        with self.assertRaises(ClientError) as ctx:
            self.rt.invoke_endpoint(EndpointName="nope", Body=b"x" * (7 << 20),
                                    ContentType="text/csv")
        code, msg, status = error_of(ctx)
        self.assertEqual((code, status), ("ValidationError", 400))
        self.assertIn("exceeds the maximum", msg)

    def test_bad_credentials(self):
        bad = dict(self.alice, secret_access_key="x" * 40)
        with self.assertRaises(ClientError) as ctx:
            client(self.m, "sagemaker", bad).list_models()
        self.assertEqual(error_of(ctx)[0], "InvalidSignatureException")

    def test_cli_create_model_reports_errors(self):
        proc = self.m.aws_cli(["sagemaker", "create-model", "--model-name", "cli-model",
                               "--primary-container", "Image=absent:2"], self.alice, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("ValidationException", proc.stderr)

    # ---- the real thing: XGBoost in the sandbox ----

    def push_image(self, creds):
        with open(IMAGE_TAR, "rb") as f:
            data = f.read()
        req = urllib.request.Request(
            self.m.endpoint + "/api/v1/images?name=mercato-xgboost:latest", method="POST",
            data=data, headers={"Authorization": "Bearer " + creds["token"],
                                "Content-Type": "application/x-tar"})
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            if e.code in (404, 405):
                return None
            raise AssertionError(f"image push: HTTP {e.code}: {e.read()!r}")

    def train_model(self, workdir):
        ml = os.path.join(workdir, "ml")
        os.makedirs(os.path.join(ml, "input/config"))
        os.makedirs(os.path.join(ml, "input/data/train"))
        with open(os.path.join(ml, "input/config/hyperparameters.json"), "w") as f:
            json.dump({"objective": "multi:softmax", "num_class": "3", "num_round": "20"}, f)
        with open(os.path.join(ml, "input/config/inputdataconfig.json"), "w") as f:
            json.dump({"train": {"ContentType": "text/csv"}}, f)
        with open(os.path.join(DATA, "train.csv")) as src, \
                open(os.path.join(ml, "input/data/train/train.csv"), "w") as dst:
            dst.write(src.read())
        subprocess.run([os.path.join(bin_dir(), "mercato-xgboost"), "--prefix", ml, "train"],
                       check=True, capture_output=True, timeout=300)
        path = os.path.join(workdir, "model.tar.gz")
        with tarfile.open(path, "w:gz") as tar:
            for name in os.listdir(os.path.join(ml, "model")):
                tar.add(os.path.join(ml, "model", name), arcname=name)
        return path

    def test_xgboost_endpoint_end_to_end(self):
        if not os.path.exists(IMAGE_TAR):
            self.skipTest(f"{IMAGE_TAR} is not built")
        if self.push_image(self.alice) is None:
            self.skipTest("POST /api/v1/images (image push) is not available on this server yet")
        with tempfile.TemporaryDirectory() as work:
            model_path = self.train_model(work)
            s3 = self.m.s3_client(self.alice)
            s3.create_bucket(Bucket="iris-models")
            s3.upload_file(model_path, "iris-models", "xgb/model.tar.gz")

        self.sm.create_model(ModelName="iris", PrimaryContainer={
            "Image": "mercato-xgboost:latest",
            "ModelDataUrl": "s3://iris-models/xgb/model.tar.gz"})
        self.sm.create_endpoint_config(EndpointConfigName="iris-config", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "iris", "InitialInstanceCount": 1,
            "InstanceType": "ml.t2.medium"}])
        self.sm.create_endpoint(EndpointName="iris", EndpointConfigName="iris-config")
        self.sm.get_waiter("endpoint_in_service").wait(
            EndpointName="iris", WaiterConfig={"Delay": 1, "MaxAttempts": 180})
        d = self.sm.describe_endpoint(EndpointName="iris")
        self.assertEqual(d["EndpointStatus"], "InService")
        self.assertEqual(d["ProductionVariants"][0]["CurrentInstanceCount"], 1)

        labels, rows = test_rows()
        r = self.rt.invoke_endpoint(EndpointName="iris", Body=rows, ContentType="text/csv",
                                    CustomAttributes="trace-1")
        self.assertEqual(r["InvokedProductionVariant"], "AllTraffic")
        preds = [float(x) for x in r["Body"].read().decode().replace("\n", ",").split(",") if x]
        self.assertEqual(len(preds), len(labels))
        accuracy = sum(int(p) == l for p, l in zip(preds, labels)) / len(labels)
        self.assertGreaterEqual(accuracy, 0.9)

        r = self.rt.invoke_endpoint(EndpointName="iris", Body=rows, ContentType="text/csv",
                                    Accept="application/json")
        self.assertTrue(r["ContentType"].startswith("application/json"))
        preds = numbers(json.loads(r["Body"].read()))
        self.assertEqual(len(preds), len(labels))
        accuracy = sum(int(p) == l for p, l in zip(preds, labels)) / len(labels)
        self.assertGreaterEqual(accuracy, 0.9)

        # A container 4xx is a ModelError with the original status.
        with self.assertRaises(ClientError) as ctx:
            self.rt.invoke_endpoint(EndpointName="iris", Body=b"{}",
                                    ContentType="application/x-unknown")
        err = ctx.exception.response
        self.assertEqual(err["Error"]["Code"], "ModelError")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 424)
        self.assertEqual(err.get("OriginalStatusCode"), 415)

        # Another account cannot see it.
        with self.assertRaises(ClientError) as ctx:
            client(self.m, "sagemaker-runtime", self.bob).invoke_endpoint(
                EndpointName="iris", Body=rows, ContentType="text/csv")
        self.assertEqual(error_of(ctx)[1],
                         "Endpoint iris of account %s not found." % self.account(self.bob))

        # The AWS CLI.
        self.m.aws_cli(["sagemaker", "create-model", "--model-name", "iris-cli",
                        "--primary-container",
                        "Image=mercato-xgboost:latest,ModelDataUrl=s3://iris-models/xgb/model.tar.gz"],
                       self.alice)
        out = os.path.join(self.m.tmp, "cli-out.csv")
        self.m.aws_cli(["sagemaker-runtime", "invoke-endpoint", "--endpoint-name", "iris",
                        "--content-type", "text/csv", "--body", "5.1,3.5,1.4,0.2", out],
                       self.alice)  # AWS CLI v1 sends a string blob argument as is
        with open(out) as f:
            self.assertEqual(int(float(f.read().strip())), 0)

        # After a restart the endpoint serves again without any API call.
        self.m.restart()
        rt = client(self.m, "sagemaker-runtime", self.alice)
        import time
        deadline = time.monotonic() + 120
        while True:
            try:
                r = rt.invoke_endpoint(EndpointName="iris", Body=rows, ContentType="text/csv")
                break
            except ClientError as e:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        self.assertEqual(r["InvokedProductionVariant"], "AllTraffic")

        sm = client(self.m, "sagemaker", self.alice)
        sm.delete_endpoint(EndpointName="iris")
        sm.get_waiter("endpoint_deleted").wait(EndpointName="iris",
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 120})


if __name__ == "__main__":
    unittest.main()
