"""SageMaker batch transform end to end: boto3's sagemaker client against a real mercatod.

The XGBoost tests push the built-in image and train an Iris model the way
test_sagemaker_endpoints.py does (its helpers are reused), upload CSV inputs to Mercato's S3,
run transform jobs in the sandbox and compare the assembled .out objects with what an endpoint
of the same model answers. They are skipped with a reason when the image is not built or the
image push route is absent.
"""

import os
import random
import tempfile
import unittest

from botocore.exceptions import ClientError, WaiterError

import test_sagemaker_endpoints as endpoints
from harness import Mercatod

BUCKET = "transform-data"
# Iris feature ranges (sepal length, sepal width, petal length, petal width).
RANGES = [(4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5)]


def iris_rows(n, seed):
    rng = random.Random(seed)
    return ["%.1f,%.1f,%.1f,%.1f" % tuple(rng.uniform(lo, hi) for lo, hi in RANGES)
            for _ in range(n)]


class SageMakerTransformTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod()
        cls.alice = cls.m.create_account("alice")
        cls.connect()
        cls.model_ready = None  # None: not tried; else "" (ready) or the reason to skip

    @classmethod
    def connect(cls):
        cls.sm = endpoints.client(cls.m, "sagemaker", cls.alice)
        cls.rt = endpoints.client(cls.m, "sagemaker-runtime", cls.alice)
        cls.s3 = cls.m.s3_client(cls.alice)

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def need_model(self):
        """Pushes the image, trains and uploads the model and creates model "iris" once."""
        cls = type(self)
        if cls.model_ready is None:
            cls.model_ready = self.make_model()
        if cls.model_ready:
            self.skipTest(cls.model_ready)

    def make_model(self):
        if not os.path.exists(endpoints.IMAGE_TAR):
            return f"{endpoints.IMAGE_TAR} is not built"
        if endpoints.SageMakerEndpointsTest.push_image(self, self.alice) is None:
            return "POST /api/v1/images (image push) is not available on this server yet"
        with tempfile.TemporaryDirectory() as work:
            model_path = endpoints.SageMakerEndpointsTest.train_model(self, work)
            self.s3.create_bucket(Bucket=BUCKET)
            self.s3.upload_file(model_path, BUCKET, "model/model.tar.gz")
        self.sm.create_model(ModelName="iris", PrimaryContainer={
            "Image": "mercato-xgboost:latest",
            "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz"})
        return ""

    def put_rows(self, key, rows):
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=("\n".join(rows) + "\n").encode(),
                           ContentType="text/csv")

    def job(self, name, prefix, **extra):
        args = dict(
            TransformJobName=name, ModelName="iris",
            TransformInput={"DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{prefix}/"}},
                "ContentType": "text/csv", "SplitType": "Line"},
            TransformOutput={"S3OutputPath": f"s3://{BUCKET}/{prefix}-out",
                             "AssembleWith": "Line"},
            TransformResources={"InstanceType": "ml.t2.medium", "InstanceCount": 1})
        args.update(extra)
        return self.sm.create_transform_job(**args)

    def wait(self, name):
        try:
            self.sm.get_waiter("transform_job_completed_or_stopped").wait(
                TransformJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
        except WaiterError:
            pass  # Failed is a waiter failure; callers check the status
        return self.sm.describe_transform_job(TransformJobName=name)

    # ---- validation and error shapes ----

    def test_validation_errors(self):
        base = dict(
            TransformJobName="bad", ModelName="no-such-model",
            TransformInput={"DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://b/in/"}}},
            TransformOutput={"S3OutputPath": "s3://b/out"},
            TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_transform_job(**dict(base, MaxPayloadInMB=101))
        code, msg, status = endpoints.error_of(ctx)
        self.assertEqual((code, status), ("ValidationException", 400))
        self.assertIn("Value '101' at 'maxPayloadInMB'", msg)
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_transform_job(**dict(base, MaxPayloadInMB=10,
                                                MaxConcurrentTransforms=20))
        self.assertIn("must not exceed 100 MB", endpoints.error_of(ctx)[1])
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_transform_job(**base)
        code, msg, _ = endpoints.error_of(ctx)
        self.assertEqual(code, "ValidationException")
        self.assertIn('Could not find model "arn:aws:sagemaker:local:', msg)
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_transform_job(**dict(base, BatchStrategy="Everything"))
        self.assertIn("batchStrategy", endpoints.error_of(ctx)[1])
        with self.assertRaises(self.sm.exceptions.ResourceNotFound):
            self.sm.describe_transform_job(TransformJobName="nothing-here")
        with self.assertRaises(self.sm.exceptions.ResourceNotFound):
            self.sm.stop_transform_job(TransformJobName="nothing-here")
        self.assertEqual(
            self.sm.list_transform_jobs(NameContains="no-such-job")["TransformJobSummaries"], [])

    # ---- the real thing: XGBoost in the sandbox ----

    def test_batch_transform_matches_the_endpoint(self):
        self.need_model()
        big, small = iris_rows(10000, seed=1), iris_rows(300, seed=2)
        self.put_rows("batch/part-1.csv", big)
        self.put_rows("batch/part-2.csv", small)
        arn = self.job("iris-batch", "batch", BatchStrategy="MultiRecord",
                       MaxConcurrentTransforms=4)["TransformJobArn"]
        self.assertTrue(arn.endswith(":transform-job/iris-batch"), arn)
        d = self.wait("iris-batch")
        self.assertEqual(d["TransformJobStatus"], "Completed", d.get("FailureReason"))
        self.assertEqual(d["BatchStrategy"], "MultiRecord")
        self.assertEqual(d["MaxConcurrentTransforms"], 4)
        self.assertEqual(d["MaxPayloadInMB"], 6)  # from the container's /execution-parameters
        self.assertLessEqual(d["TransformStartTime"], d["TransformEndTime"])
        keys = [o["Key"] for o in self.s3.list_objects_v2(
            Bucket=BUCKET, Prefix="batch-out/").get("Contents", [])]
        self.assertEqual(keys, ["batch-out/part-1.csv.out", "batch-out/part-2.csv.out"])

        # The same model behind an endpoint, invoked in batches, must give the same rows.
        self.sm.create_endpoint_config(EndpointConfigName="iris-cfg", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "iris", "InitialInstanceCount": 1,
            "InstanceType": "ml.t2.medium"}])
        self.sm.create_endpoint(EndpointName="iris-ep", EndpointConfigName="iris-cfg")
        self.sm.get_waiter("endpoint_in_service").wait(
            EndpointName="iris-ep", WaiterConfig={"Delay": 1, "MaxAttempts": 180})
        try:
            for key, rows in (("part-1.csv", big), ("part-2.csv", small)):
                out = self.s3.get_object(Bucket=BUCKET, Key=f"batch-out/{key}.out")
                got = out["Body"].read().decode().splitlines()
                want = []
                for i in range(0, len(rows), 2000):
                    body = "\n".join(rows[i:i + 2000]) + "\n"
                    r = self.rt.invoke_endpoint(EndpointName="iris-ep", Body=body,
                                                ContentType="text/csv")
                    want += r["Body"].read().decode().splitlines()
                self.assertEqual(len(got), len(rows), key)
                self.assertEqual(got, want, key)
        finally:
            self.sm.delete_endpoint(EndpointName="iris-ep")

        summaries = self.sm.list_transform_jobs(
            StatusEquals="Completed", NameContains="iris-b")["TransformJobSummaries"]
        self.assertEqual([s["TransformJobName"] for s in summaries], ["iris-batch"])

    def test_failing_object_fails_the_job(self):
        self.need_model()
        self.put_rows("mixed/a-good.csv", iris_rows(50, seed=3))
        self.put_rows("mixed/b-bad.csv", iris_rows(5, seed=4) + ["5.1,not-a-number,1.4,x"])
        self.job("iris-bad", "mixed", BatchStrategy="MultiRecord")
        d = self.wait("iris-bad")
        self.assertEqual(d["TransformJobStatus"], "Failed")
        reason = d["FailureReason"]
        self.assertIn(f"s3://{BUCKET}/mixed/b-bad.csv", reason)
        self.assertIn("answered 400", reason)
        with self.assertRaises(ClientError) as ctx:
            self.sm.stop_transform_job(TransformJobName="iris-bad")
        self.assertEqual(endpoints.error_of(ctx)[0], "ValidationException")
        with self.assertRaises(ClientError) as ctx:
            self.job("iris-bad", "mixed")
        self.assertEqual(endpoints.error_of(ctx)[0], "ResourceInUse")

    def test_stop(self):
        self.need_model()
        self.put_rows("stop/a.csv", iris_rows(100, seed=5))
        self.job("iris-stop", "stop")
        self.sm.stop_transform_job(TransformJobName="iris-stop")
        self.assertIn(self.sm.describe_transform_job(TransformJobName="iris-stop")[
            "TransformJobStatus"], ("Stopping", "Stopped"))
        d = self.wait("iris-stop")
        self.assertEqual(d["TransformJobStatus"], "Stopped")
        self.sm.stop_transform_job(TransformJobName="iris-stop")  # stopping again is a no-op

    def test_zz_restart_fails_interrupted_jobs(self):
        """Runs last (it restarts the server): a job caught by a crash ends Failed."""
        self.need_model()
        self.put_rows("crash/a.csv", iris_rows(100, seed=6))
        self.job("iris-crash", "crash")
        self.m.kill9()
        self.m.start()
        type(self).connect()
        d = self.sm.describe_transform_job(TransformJobName="iris-crash")
        self.assertEqual(d["TransformJobStatus"], "Failed")
        self.assertIn("interrupted", d["FailureReason"])


if __name__ == "__main__":
    unittest.main()
