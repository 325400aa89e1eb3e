"""SageMaker training jobs end to end: boto3's sagemaker client against a real mercatod and
the real sandbox.

- The built-in XGBoost image trains on the Iris data uploaded to Mercato's S3 (train and
  validation channels), with a MetricDefinition over its per-round log lines; the job is
  awaited with the training_job_completed_or_stopped waiter, its model.tar.gz is deployed to
  an endpoint and must classify the test rows with at least 90% accuracy.
- A bad hyperparameter (eta=5) fails the job with a FailureReason naming eta.
- A test image holding only the static sandbox_probe (/bin/probe): its `train` subcommand
  sleeps (PROBE_TRAIN_SLEEP) for the MaxRuntimeInSeconds and StopTrainingJob cases, and
  with InstanceCount=2 makes algo-2 connect to algo-1 over the job's network group.
- Errors (ResourceInUse, ResourceNotFound, ValidationException), another account, list
  filters and the native log route.
mercatod runs with MERCATO_TRAINING_STOP_GRACE_SECONDS=2 so that stops are quick.
"""

import datetime
import os
import tarfile
import tempfile
import time
import unittest

from botocore.exceptions import ClientError, WaiterError

import test_sagemaker_endpoints as endpoints
from harness import Mercatod
from test_sagemaker_hosting_robustness import native, push_probe_image

# Helpers shared with the hosting tests (imported as module attributes so that unittest does
# not collect the hosting test class here).
DATA, IMAGE_TAR = endpoints.DATA, endpoints.IMAGE_TAR
client, error_of, iris_test_rows = endpoints.client, endpoints.error_of, endpoints.test_rows

WAIT = 300  # seconds; bounds every wait below
ROLE = "arn:aws:iam::123456789012:role/MercatoTraining"
PROBE_IMAGE = "probe/train:1"


def account_id(creds):
    return creds.get("account_id") or creds["account"]["id"]


class SageMakerTrainingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod(env={"MERCATO_TRAINING_STOP_GRACE_SECONDS": "2"})
        cls.alice = cls.m.create_account("alice")
        cls.bob = cls.m.create_account("bob")
        cls.sm = client(cls.m, "sagemaker", cls.alice)
        cls.s3 = cls.m.s3_client(cls.alice)
        cls.s3.create_bucket(Bucket="iris-data")
        cls.s3.create_bucket(Bucket="training-out")
        for name in ("train", "validation"):
            cls.s3.upload_file(os.path.join(DATA, name + ".csv"), "iris-data",
                               f"iris/{name}/{name}.csv")
        cls.tmp = tempfile.TemporaryDirectory(prefix="mercato-training-")
        push_probe_image(cls.m, cls.alice, cls.tmp.name, PROBE_IMAGE)
        cls.xgboost = os.path.exists(IMAGE_TAR) and \
            endpoints.SageMakerEndpointsTest.push_image(cls, cls.alice) is not None

    @classmethod
    def tearDownClass(cls):
        cls.m.close()
        cls.tmp.cleanup()

    # ---- helpers ----

    def channel(self, name, uri, data_type="S3Prefix"):
        return {"ChannelName": name, "ContentType": "text/csv",
                "DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": uri}}}

    def create(self, name, image=PROBE_IMAGE, count=1, max_runtime=600, env=None, **extra):
        args = dict(
            TrainingJobName=name, RoleArn=ROLE,
            AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
            OutputDataConfig={"S3OutputPath": "s3://training-out/jobs"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": count,
                            "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": max_runtime})
        if env:
            args["Environment"] = env
        args.update(extra)
        return self.sm.create_training_job(**args)

    def wait(self, name):
        try:
            self.sm.get_waiter("training_job_completed_or_stopped").wait(
                TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": WAIT})
        except WaiterError:
            pass  # Failed is a waiter failure; the caller checks the status
        return self.sm.describe_training_job(TrainingJobName=name)

    def wait_secondary(self, name, status):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            d = self.sm.describe_training_job(TrainingJobName=name)
            if d["SecondaryStatus"] == status:
                return d
            time.sleep(0.2)
        self.fail(f"{name} never reached {status}: {d['SecondaryStatus']}")

    def statuses(self, d):
        return [t["Status"] for t in d["SecondaryStatusTransitions"]]

    def s3_key(self, uri):
        self.assertTrue(uri.startswith("s3://training-out/"), uri)
        return uri[len("s3://training-out/"):]

    # ---- XGBoost ----

    def test_xgboost_train_deploy_and_invoke(self):
        if not self.xgboost:
            self.skipTest(f"{IMAGE_TAR} is not built or image push is unavailable")
        self.sm.create_training_job(
            TrainingJobName="iris-xgb", RoleArn=ROLE,
            AlgorithmSpecification={
                "TrainingImage": "mercato-xgboost:latest", "TrainingInputMode": "File",
                "MetricDefinitions": [
                    {"Name": "validation:merror", "Regex": "validation-merror:([0-9\\.]+)"},
                    {"Name": "train:merror", "Regex": "train-merror:([0-9\\.]+)"}]},
            HyperParameters={"objective": "multi:softmax", "num_class": "3", "num_round": "20",
                             "eval_metric": "merror"},
            InputDataConfig=[self.channel("train", "s3://iris-data/iris/train"),
                             self.channel("validation", "s3://iris-data/iris/validation/")],
            OutputDataConfig={"S3OutputPath": "s3://training-out/xgb/"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1,
                            "VolumeSizeInGB": 5},
            StoppingCondition={"MaxRuntimeInSeconds": 600})
        d = self.wait("iris-xgb")
        self.assertEqual(d["TrainingJobStatus"], "Completed", d.get("FailureReason"))
        self.assertEqual(d["SecondaryStatus"], "Completed")
        self.assertEqual(self.statuses(d),
                         ["Starting", "Downloading", "Training", "Uploading", "Completed"])
        for t in d["SecondaryStatusTransitions"]:
            self.assertIn("EndTime", t)
            self.assertTrue(t["StatusMessage"])
        self.assertEqual(d["HyperParameters"]["num_round"], "20")
        self.assertEqual(d["AlgorithmSpecification"]["TrainingImage"], "mercato-xgboost:latest")
        self.assertEqual(d["RoleArn"], ROLE)
        self.assertGreaterEqual(d["TrainingTimeInSeconds"], 1)
        self.assertGreaterEqual(d["BillableTimeInSeconds"], 1)
        self.assertLessEqual(d["TrainingStartTime"], d["TrainingEndTime"])
        metrics = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
        self.assertEqual(set(metrics), {"validation:merror", "train:merror"})
        self.assertLessEqual(metrics["validation:merror"], 0.15)
        artifact = d["ModelArtifacts"]["S3ModelArtifacts"]
        self.assertEqual(artifact, "s3://training-out/xgb/iris-xgb/output/model.tar.gz")
        self.assertGreater(
            self.s3.head_object(Bucket="training-out", Key=self.s3_key(artifact))["ContentLength"],
            0)

        # The native log route: the owner reads algo-1's lines, another account gets 404.
        status, logs = native(self.m, self.alice, "/api/v1/logs/training-jobs/iris-xgb")
        self.assertEqual(status, 200)
        self.assertTrue(any("validation-merror" in e["message"] for e in logs["events"]))
        self.assertTrue(logs["done"])
        status, _ = native(self.m, self.alice,
                           "/api/v1/logs/training-jobs/iris-xgb?since_line=%d" % logs["next_line"])
        self.assertEqual(status, 200)
        status, _ = native(self.m, self.bob, "/api/v1/logs/training-jobs/iris-xgb")
        self.assertEqual(status, 404)

        # Deploy the trained model.
        self.sm.create_model(ModelName="iris-trained", PrimaryContainer={
            "Image": "mercato-xgboost:latest", "ModelDataUrl": artifact})
        self.sm.create_endpoint_config(EndpointConfigName="iris-trained", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "iris-trained", "InitialInstanceCount": 1,
            "InstanceType": "ml.t2.medium"}])
        self.sm.create_endpoint(EndpointName="iris-trained", EndpointConfigName="iris-trained")
        self.sm.get_waiter("endpoint_in_service").wait(
            EndpointName="iris-trained", WaiterConfig={"Delay": 1, "MaxAttempts": WAIT})
        labels, rows = iris_test_rows()
        rt = client(self.m, "sagemaker-runtime", self.alice)
        r = rt.invoke_endpoint(EndpointName="iris-trained", Body=rows, ContentType="text/csv")
        preds = [float(x) for x in r["Body"].read().decode().replace("\n", ",").split(",") if x]
        self.assertEqual(len(preds), len(labels))
        accuracy = sum(int(p) == l for p, l in zip(preds, labels)) / len(labels)
        self.assertGreaterEqual(accuracy, 0.9)
        self.sm.delete_endpoint(EndpointName="iris-trained")

    def test_xgboost_bad_hyperparameter_fails(self):
        if not self.xgboost:
            self.skipTest(f"{IMAGE_TAR} is not built or image push is unavailable")
        self.create("iris-bad-eta", image="mercato-xgboost:latest",
                    HyperParameters={"objective": "multi:softmax", "num_class": "3",
                                     "num_round": "5", "eta": "5"},
                    InputDataConfig=[self.channel("train", "s3://iris-data/iris/train/")])
        d = self.wait("iris-bad-eta")
        self.assertEqual(d["TrainingJobStatus"], "Failed")
        self.assertEqual(d["SecondaryStatus"], "Failed")
        self.assertIn("eta", d["FailureReason"])
        self.assertLessEqual(len(d["FailureReason"]), 1024)
        self.assertNotIn("ModelArtifacts", d)
        self.assertEqual(self.statuses(d)[-1], "Failed")

    # ---- the probe image ----

    def test_max_runtime_stops_the_job(self):
        self.create("sleepy", max_runtime=1, env={"PROBE_TRAIN_SLEEP": "600"})
        d = self.wait("sleepy")
        self.assertEqual(d["TrainingJobStatus"], "Stopped")
        self.assertEqual(d["SecondaryStatus"], "MaxRuntimeExceeded")
        self.assertEqual(self.statuses(d)[-1], "MaxRuntimeExceeded")
        self.assertEqual(d["StoppingCondition"]["MaxRuntimeInSeconds"], 1)

    def test_stop_training_job(self):
        self.create("stop-me", env={"PROBE_TRAIN_SLEEP": "600"})
        self.wait_secondary("stop-me", "Training")
        self.sm.stop_training_job(TrainingJobName="stop-me")
        self.assertIn(self.sm.describe_training_job(TrainingJobName="stop-me")["TrainingJobStatus"],
                      ("Stopping", "Stopped"))
        d = self.wait("stop-me")
        self.assertEqual(d["TrainingJobStatus"], "Stopped")
        self.assertEqual(d["SecondaryStatus"], "Stopped")
        self.assertEqual(self.statuses(d)[-2:], ["Stopping", "Stopped"])
        with self.assertRaises(ClientError) as ctx:
            self.sm.stop_training_job(TrainingJobName="stop-me")
        self.assertEqual(error_of(ctx)[0], "ValidationException")

    def test_two_hosts_talk_over_the_job_network(self):
        self.create("two-hosts", count=2)
        d = self.wait("two-hosts")
        self.assertEqual(d["TrainingJobStatus"], "Completed", d.get("FailureReason"))
        self.assertEqual(d["ResourceConfig"]["InstanceCount"], 2)
        key = self.s3_key(d["ModelArtifacts"]["S3ModelArtifacts"])
        self.assertEqual(key, "jobs/two-hosts/output/model.tar.gz")
        path = os.path.join(self.tmp.name, "two-hosts.tar.gz")
        self.s3.download_file("training-out", key, path)
        with tarfile.open(path) as tar:
            names = [n.lstrip("./") for n in tar.getnames()]
        self.assertIn("algo-1.txt", names)  # algo-1's /opt/ml/model
        status, logs = native(self.m, self.alice, "/api/v1/logs/training-jobs/two-hosts")
        self.assertEqual(status, 200)
        messages = [e["message"] for e in logs["events"]]
        self.assertIn("hello from algo-2", messages)
        status, logs = native(self.m, self.alice,
                              "/api/v1/logs/training-jobs/two-hosts?host=algo-2")
        self.assertEqual(status, 200)
        self.assertIn("probe-peers: 1", [e["message"] for e in logs["events"]])

    def test_errors_and_other_accounts(self):
        self.create("dup-name")
        with self.assertRaises(ClientError) as ctx:
            self.create("dup-name")
        code, msg, status = error_of(ctx)
        self.assertEqual((code, status), ("ResourceInUse", 400))
        self.assertIn("training-job/dup-name", msg)
        with self.assertRaises(ClientError) as ctx:
            self.sm.describe_training_job(TrainingJobName="no-such-job")
        self.assertEqual(error_of(ctx)[:2], ("ResourceNotFound", "Requested resource not found."))
        with self.assertRaises(ClientError) as ctx:
            self.sm.stop_training_job(TrainingJobName="no-such-job")
        self.assertEqual(error_of(ctx)[0], "ResourceNotFound")
        with self.assertRaises(ClientError) as ctx:
            self.create("bad-image", image="absent:1")
        self.assertEqual(error_of(ctx)[0], "ValidationException")
        self.assertIn("absent:1", error_of(ctx)[1])
        with self.assertRaises(ClientError) as ctx:
            self.create("bad-out", OutputDataConfig={"S3OutputPath": "s3://nobody-bucket/x"})
        self.assertIn("nobody-bucket", error_of(ctx)[1])
        with self.assertRaises(ClientError) as ctx:
            self.create("bad-type", ResourceConfig={"InstanceType": "ml.m5.large",
                                                    "InstanceCount": 1, "VolumeSizeInGB": 1},
                        HyperParameters={"x": "1"},
                        AlgorithmSpecification={"TrainingImage": PROBE_IMAGE,
                                                "TrainingInputMode": "Pipe"})
        self.assertIn("Pipe", error_of(ctx)[1])
        # Bob sees nothing of Alice's and cannot read her buckets.
        bob = client(self.m, "sagemaker", self.bob)
        with self.assertRaises(ClientError) as ctx:
            bob.describe_training_job(TrainingJobName="dup-name")
        self.assertEqual(error_of(ctx)[0], "ResourceNotFound")
        self.assertEqual(bob.list_training_jobs()["TrainingJobSummaries"], [])
        with self.assertRaises(ClientError) as ctx:
            bob.create_training_job(
                TrainingJobName="steal", RoleArn=ROLE,
                AlgorithmSpecification={"TrainingImage": PROBE_IMAGE,
                                        "TrainingInputMode": "File"},
                OutputDataConfig={"S3OutputPath": "s3://training-out/x"},
                ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                "VolumeSizeInGB": 1})
        self.assertEqual(error_of(ctx)[0], "ValidationException")
        self.wait("dup-name")

    def test_list_filters(self):
        for name in ("lst-b", "lst-a", "lst-c"):
            self.create(name)
        for name in ("lst-b", "lst-a", "lst-c"):
            self.assertEqual(self.wait(name)["TrainingJobStatus"], "Completed")
        page = self.sm.list_training_jobs(NameContains="lst-", SortBy="Name",
                                          SortOrder="Ascending")
        self.assertEqual([s["TrainingJobName"] for s in page["TrainingJobSummaries"]],
                         ["lst-a", "lst-b", "lst-c"])
        s = page["TrainingJobSummaries"][0]
        self.assertEqual(s["TrainingJobStatus"], "Completed")
        self.assertEqual(s["SecondaryStatus"], "Completed")
        self.assertIn("TrainingEndTime", s)
        page = self.sm.list_training_jobs(NameContains="lst-", MaxResults=2)
        self.assertEqual(len(page["TrainingJobSummaries"]), 2)
        rest = self.sm.list_training_jobs(NameContains="lst-", MaxResults=2,
                                          NextToken=page["NextToken"])
        self.assertEqual(len(rest["TrainingJobSummaries"]), 1)
        self.assertEqual(self.sm.list_training_jobs(NameContains="lst-", StatusEquals="Failed")
                         ["TrainingJobSummaries"], [])
        self.assertEqual(self.sm.list_training_jobs(
            NameContains="lst-", CreationTimeBefore=datetime.datetime(2000, 1, 1))
            ["TrainingJobSummaries"], [])
        # The paginator works too.
        names = [s["TrainingJobName"]
                 for p in self.sm.get_paginator("list_training_jobs").paginate(
                     NameContains="lst-", PaginationConfig={"PageSize": 1})
                 for s in p["TrainingJobSummaries"]]
        self.assertEqual(sorted(names), ["lst-a", "lst-b", "lst-c"])


class TrainingRestartTest(unittest.TestCase):
    """A job running when mercatod dies ends Failed at the next start, never stuck."""

    def test_job_in_progress_at_restart_ends_failed(self):
        with Mercatod() as m, tempfile.TemporaryDirectory() as tmp:
            alice = m.create_account("alice")
            m.s3_client(alice).create_bucket(Bucket="out")
            push_probe_image(m, alice, tmp, PROBE_IMAGE)
            sm = client(m, "sagemaker", alice)
            sm.create_training_job(
                TrainingJobName="interrupted", RoleArn=ROLE,
                AlgorithmSpecification={"TrainingImage": PROBE_IMAGE,
                                        "TrainingInputMode": "File"},
                Environment={"PROBE_TRAIN_SLEEP": "600"},
                OutputDataConfig={"S3OutputPath": "s3://out/"},
                ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                "VolumeSizeInGB": 1})
            deadline = time.monotonic() + WAIT
            while sm.describe_training_job(
                    TrainingJobName="interrupted")["SecondaryStatus"] != "Training":
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.2)
            m.kill9()
            m.start()
            d = client(m, "sagemaker", alice).describe_training_job(TrainingJobName="interrupted")
            self.assertEqual(d["TrainingJobStatus"], "Failed")
            self.assertEqual(d["SecondaryStatus"], "Failed")
            self.assertEqual(d["FailureReason"], "mercatod restarted while the job was running")
            self.assertEqual([t["Status"] for t in d["SecondaryStatusTransitions"]],
                             ["Starting", "Downloading", "Training", "Failed"])


if __name__ == "__main__":
    unittest.main()
