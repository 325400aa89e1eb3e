"""The marketplace end to end (issue 5's acceptance 1-6), on one mercatod --test-clock with
the real sandbox and the built-in XGBoost image, driven by boto3 and the mercato CLI.

A seller registers, pushes the XGBoost image, trains an Iris model, and creates an
algorithm and a model package, both validated by real training and transform jobs; lists
them as products with version 1.0 and publishes them. Buyers find them by a word of their
description, subscribe, and use them only through the SageMaker API:
- model product: create_model(Containers=[{"ModelPackageName": version ARN}]) → endpoint →
  invoke_endpoint classifies the Iris test rows;
- algorithm product: create_training_job(AlgorithmName=version ARN), then a model package
  of the buyer's own from the artifacts (SourceAlgorithmSpecification) → endpoint → invoke.
Then escrow (the seller deletes the source package and image; a new endpoint serves the same
predictions), versions and restriction, the negative cases, isolation both ways, and removal
with a 90-day grace period walked through with the test clock.

Tests run in name order and share the state built by the earlier ones.
"""

import json
import os
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from botocore.exceptions import ClientError

import marketplace_helpers as mh
from cli_helpers import layer_tar, oci_archive, probe_path
from harness import Mercatod
from marketplace_helpers import api, api_ok, err

DESCRIPTION_WORD = "petalometry"  # a word only the model product's description has


class MarketplaceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod(extra_args=["--test-clock"],
                         env={"MERCATO_TRAINING_STOP_GRACE_SECONDS": "2"})
        m = cls.m
        cls.seller = m.create_account("seller")
        cls.buyer = m.create_account("buyer")
        cls.late_buyer = m.create_account("late-buyer")
        cls.outsider = m.create_account("outsider")
        cls.seller_cli, cls.buyer_cli = mh.cli(m, cls.seller), mh.cli(m, cls.buyer)
        cls.sm = mh.client(m, "sagemaker", cls.seller)
        cls.buyer_sm = mh.client(m, "sagemaker", cls.buyer)
        cls.buyer_rt = mh.client(m, "sagemaker-runtime", cls.buyer)
        cls.labels, cls.rows = mh.iris_test_rows()
        cls.state = {}

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    # ---- helpers ----

    def fail_with_log(self, msg):
        self.fail(f"{msg}\n--- mercatod log ---\n{self.m.log_tail(40)}")

    def invoke(self, endpoint, rt=None):
        out = (rt or self.buyer_rt).invoke_endpoint(EndpointName=endpoint, Body=self.rows,
                                                     ContentType="text/csv",
                                                     Accept="application/json")
        return out["Body"].read()

    def deploy(self, sm, name, package, instance_type="ml.m5.large"):
        sm.create_model(ModelName=name, Containers=[{"ModelPackageName": package}],
                        ExecutionRoleArn=mh.ROLE)
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
            "VariantName": "v", "ModelName": name, "InstanceType": instance_type,
            "InitialInstanceCount": 1}])
        sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
        mh.wait_endpoint(self.m, sm, name)

    def product(self, creds, product_id):
        return api_ok(self.m, creds, "GET", f"/api/v1/products/{product_id}")

    def version_arn(self, creds, code, version):
        detail = api_ok(self.m, creds, "GET", f"/api/v1/catalog/products/{code}")
        for v in detail["Versions"]:
            if v["Version"] == version:
                return v["EscrowedArn"]
        raise AssertionError(f"version {version} not in {detail['Versions']}")

    def sm_error(self, fn, **kw):
        with self.assertRaises(ClientError) as ctx:
            fn(**kw)
        code, msg, status = mh.error_of(ctx)
        return code, msg

    # ---- 1. the seller lists, the buyer finds, subscribes and deploys ----

    def test_10_seller_registers_and_lists(self):
        m, s = self.m, self.state
        # An unregistered account cannot create a product.
        status, out = api(m, self.seller, "POST", "/api/v1/products",
                          {"Title": "Too early", "ShortDescription": "x"})
        self.assertEqual(status, 403, out)
        self.assertEqual(err(out)[0], "SellerNotRegistered")

        self.seller_cli.ok("seller", "register", "--legal-name", "Petal Labs Inc.",
                           "--email", "billing@petal.example", "--country", "US", "--state", "WA",
                           "--bank-account", "000123456789", "--bank-routing", "125000105")
        me = api_ok(m, self.seller, "GET", "/api/v1/sellers/me")
        self.assertIn("6789", me["BankAccount"])
        self.assertNotIn("000123456789", str(me))

        mh.push_xgboost(m, self.seller)
        s3 = m.s3_client(self.seller)
        mh.upload_iris(s3, "seller-data")
        self.sm.create_training_job(**mh.training_job_request("seller-iris", mh.IMAGE,
                                                              "seller-data"))
        trained = mh.wait_training(m, self.sm, "seller-iris")
        s["model_data"] = trained["ModelArtifacts"]["S3ModelArtifacts"]

        self.sm.create_algorithm(**mh.algorithm_request("xgb-algo", mh.IMAGE, "seller-data"))
        self.sm.create_model_package(**mh.model_package_request(
            "iris-model", mh.IMAGE, s["model_data"], "seller-data"))
        mh.wait_algorithm(m, self.sm, "xgb-algo")
        mh.wait_package(m, self.sm, "iris-model")
        d = self.sm.describe_model_package(ModelPackageName="iris-model")
        self.assertEqual(d["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"],
                         "Completed")
        s["package_arn"] = d["ModelPackageArn"]
        s["algorithm_arn"] = self.sm.describe_algorithm(AlgorithmName="xgb-algo")["AlgorithmArn"]

        for key, kind, title, desc, source in (
                ("model", "model-package", "Iris species classifier",
                 f"Classifies iris flowers from sepal and petal sizes ({DESCRIPTION_WORD}).",
                 s["package_arn"]),
                ("algo", "algorithm", "Boosted trees trainer",
                 "Train gradient-boosted tree classifiers on your own tabular data.",
                 s["algorithm_arn"])):
            p = api_ok(m, self.seller, "POST", "/api/v1/products", {
                "Title": title, "ShortDescription": desc,
                "LongDescription": f"# {title}\n\n{desc}\n",
                "UsageInstructions": "Send CSV rows without the label.",
                "Categories": ["Classification"], "Highlights": ["Fast", "Small"],
                "SupportContact": "support@petal.example", "Eula": "Use it kindly.",
                "RecommendedInstanceTypes": ["ml.m5.large"]})
            s[key] = p
            self.seller_cli.ok("product", "add-version", p["ProductId"], "--source", source,
                               "--version", "1.0", "--release-notes", "First release")
            api_ok(m, self.seller, "POST", f"/api/v1/products/{p['ProductId']}/visibility",
                   {"Visibility": "Public"})
            s[key + "_code"] = self.product(self.seller, p["ProductId"])["ProductCode"]

    def test_11_buyer_finds_subscribes_and_deploys_the_model(self):
        m, s = self.m, self.state
        found = api_ok(m, self.buyer, "GET", f"/api/v1/catalog/search?q={DESCRIPTION_WORD}")
        self.assertEqual(found["Products"][0]["ProductCode"], s["model_code"])
        arn = self.version_arn(self.buyer, s["model_code"], "1.0")
        s["model_v1"] = arn
        self.buyer_cli.ok("subscribe", s["model_code"], "--ref", "newsletter")
        self.deploy(self.buyer_sm, "iris-endpoint", arn)
        acc, preds = mh.accuracy(self.invoke("iris-endpoint"), self.labels)
        self.assertGreaterEqual(acc, 0.9)
        s["predictions"] = preds

    def test_12_buyer_trains_with_the_algorithm_and_deploys_the_result(self):
        m, s = self.m, self.state
        arn = self.version_arn(self.buyer, s["algo_code"], "1.0")
        s["algo_v1"] = arn
        self.buyer_cli.ok("subscribe", s["algo_code"])
        mh.upload_iris(m.s3_client(self.buyer), "buyer-data")
        self.buyer_sm.create_training_job(**mh.training_job_request(
            "buyer-train", arn, "buyer-data", hyper={"num_round": "20"}, algorithm=True))
        job = mh.wait_training(m, self.buyer_sm, "buyer-train")
        self.assertEqual(job["AlgorithmSpecification"]["AlgorithmName"], arn)
        self.assertNotIn("TrainingImage", job["AlgorithmSpecification"])
        self.assertTrue(job["EnableNetworkIsolation"])
        self.buyer_sm.create_model_package(
            ModelPackageName="my-iris",
            SourceAlgorithmSpecification={"SourceAlgorithms": [{
                "AlgorithmName": arn,
                "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]}]})
        mh.wait_package(m, self.buyer_sm, "my-iris")
        self.deploy(self.buyer_sm, "my-iris-endpoint", "my-iris")
        acc, _ = mh.accuracy(self.invoke("my-iris-endpoint"), self.labels)
        self.assertGreaterEqual(acc, 0.9)

    def test_13_buyer_runs_a_batch_transform_with_the_model(self):
        m, s = self.m, self.state
        self.buyer_sm.create_model(ModelName="iris-batch", ExecutionRoleArn=mh.ROLE,
                                   Containers=[{"ModelPackageName": s["model_v1"]}])
        self.buyer_sm.create_transform_job(
            TransformJobName="buyer-batch", ModelName="iris-batch",
            TransformInput={"DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://buyer-data/iris/batch/"}},
                "ContentType": "text/csv", "SplitType": "Line"},
            TransformOutput={"S3OutputPath": "s3://buyer-data/batch-out", "Accept": "text/csv"},
            TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
        mh.wait_for("transform buyer-batch", lambda: self.buyer_sm.describe_transform_job(
            TransformJobName="buyer-batch")["TransformJobStatus"], ("Completed",),
            ("Failed", "Stopped"), m, detail=lambda: self.buyer_sm.describe_transform_job(
                TransformJobName="buyer-batch").get("FailureReason"))
        out = m.s3_client(self.buyer).get_object(Bucket="buyer-data",
                                                 Key="batch-out/test.csv.out")["Body"].read()
        self.assertEqual(len(out.decode().strip().splitlines()), len(self.labels))
        # An instance type the package does not support for transform is refused.
        code, msg = self.sm_error(
            self.buyer_sm.create_transform_job, TransformJobName="bad-type",
            ModelName="iris-batch",
            TransformInput={"DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://buyer-data/iris/batch/"}}},
            TransformOutput={"S3OutputPath": "s3://buyer-data/x"},
            TransformResources={"InstanceType": "ml.c5.xlarge", "InstanceCount": 1})
        self.assertIn("Instance type ml.c5.xlarge is not supported", msg)

    def test_14_reviews_and_ref_tagged_urls(self):
        m, s = self.m, self.state
        code = s["model_code"]
        detail = api_ok(m, self.buyer, "GET", f"/api/v1/catalog/products/{code}?ref=newsletter")
        self.assertTrue(detail["ProductUrl"].startswith(m.endpoint + "/console/products/"),
                        detail["ProductUrl"])
        # The product's public URL is a page anyone can open (no credentials), counting the ref.
        with urllib.request.urlopen(detail["ProductUrl"] + "?ref=newsletter", timeout=30) as r:
            page = r.read().decode()
            self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("Iris species classifier", page)
        self.assertIn(f"mercato subscribe {code}", page)
        self.assertNotIn("escrow", page)
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(m.endpoint + "/console/products/nosuchcode", timeout=30)
        self.assertEqual(ctx.exception.code, 404)
        self.buyer_cli.ok("review", "add", code, "--rating", "4", "--title", "Accurate",
                          "--text", "Classified every flower I tried.")
        reviews = self.buyer_cli.json("review", "list", code)
        review_id = reviews["Reviews"][0]["ReviewId"]
        self.seller_cli.ok("review", "reply", code, review_id, "--text", "Thanks!")
        proc = mh.cli(m, self.outsider).run("review", "add", code, "--rating", "1")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("subscri", proc.stdout + proc.stderr)
        detail = api_ok(m, self.buyer, "GET", f"/api/v1/catalog/products/{code}")
        self.assertEqual(detail["Rating"]["Count"], 1)
        self.assertEqual(detail["Rating"]["Average"], 4)

    # ---- 2. escrow ----

    def test_20_escrow_outlives_the_sellers_deletes(self):
        m, s = self.m, self.state
        self.sm.delete_model_package(ModelPackageName="iris-model")
        status, out = api(m, self.seller, "DELETE", "/api/v1/images?ref=" + mh.IMAGE)
        self.assertLess(status, 300, out)
        self.deploy(self.buyer_sm, "iris-endpoint-2", s["model_v1"])
        _, preds = mh.accuracy(self.invoke("iris-endpoint-2"), self.labels)
        self.assertEqual(preds, s["predictions"])

    # ---- 3. versions ----

    def test_30_versions_and_restriction(self):
        m, s = self.m, self.state
        mh.push_xgboost(m, self.seller)
        self.sm.create_model_package(**mh.model_package_request(
            "iris-model-2", mh.IMAGE, s["model_data"], "seller-data"))
        mh.wait_package(m, self.sm, "iris-model-2")
        pid = s["model"]["ProductId"]
        arn2 = self.sm.describe_model_package(ModelPackageName="iris-model-2")["ModelPackageArn"]
        self.seller_cli.ok("product", "add-version", pid, "--source", arn2, "--version", "1.1",
                           "--release-notes", "Retrained on more petals")
        detail = api_ok(m, self.buyer, "GET", f"/api/v1/catalog/products/{s['model_code']}")
        notes = {v["Version"]: v["ReleaseNotes"] for v in detail["Versions"]}
        self.assertEqual(notes, {"1.0": "First release", "1.1": "Retrained on more petals"})

        self.seller_cli.ok("product", "restrict-version", pid, "1.0")
        late_cli, late_sm = mh.cli(m, self.late_buyer), mh.client(m, "sagemaker", self.late_buyer)
        late_cli.ok("subscribe", s["model_code"])
        detail = api_ok(m, self.late_buyer, "GET", f"/api/v1/catalog/products/{s['model_code']}")
        self.assertEqual([v["Version"] for v in detail["Versions"]], ["1.1"])
        code, msg = self.sm_error(late_sm.create_model, ModelName="late",
                                  Containers=[{"ModelPackageName": s["model_v1"]}],
                                  ExecutionRoleArn=mh.ROLE)
        self.assertEqual(code, "ValidationException")
        self.assertIn("restricted", msg)
        # The existing buyer still deploys 1.0.
        self.buyer_sm.create_model(ModelName="still-v1",
                                   Containers=[{"ModelPackageName": s["model_v1"]}],
                                   ExecutionRoleArn=mh.ROLE)

    # ---- 4. negative cases ----

    def test_40_refusals(self):
        m, s = self.m, self.state
        out_sm = mh.client(m, "sagemaker", self.outsider)
        code, msg = self.sm_error(out_sm.create_model, ModelName="x",
                                  Containers=[{"ModelPackageName": s["model_v1"]}],
                                  ExecutionRoleArn=mh.ROLE)
        self.assertEqual(code, "ValidationException")
        self.assertIn("not subscribed", msg)

        # Spot training, a hyperparameter out of range, an unsupported instance type.
        req = mh.training_job_request("spot", s["algo_v1"], "buyer-data",
                                      hyper={"num_round": "20"}, algorithm=True)
        req["EnableManagedSpotTraining"] = True
        code, msg = self.sm_error(self.buyer_sm.create_training_job, **req)
        self.assertEqual(msg, "Managed spot training is not supported for marketplace algorithms")
        code, msg = self.sm_error(self.buyer_sm.create_training_job, **mh.training_job_request(
            "range", s["algo_v1"], "buyer-data", hyper={"num_round": "5000"}, algorithm=True))
        self.assertIn("Hyperparameter 'num_round'", msg)
        self.assertIn("outside its range [1, 200]", msg)
        code, msg = self.sm_error(self.buyer_sm.create_training_job, **mh.training_job_request(
            "type", s["algo_v1"], "buyer-data", hyper={"num_round": "5"}, algorithm=True,
            instance_type="ml.c5.xlarge"))
        self.assertIn("Instance type ml.c5.xlarge is not supported", msg)
        self.buyer_sm.create_model(ModelName="typed", ExecutionRoleArn=mh.ROLE,
                                   Containers=[{"ModelPackageName": s["model_v1"]}])
        code, msg = self.sm_error(self.buyer_sm.create_endpoint_config,
                                  EndpointConfigName="typed", ProductionVariants=[{
                                      "VariantName": "v", "ModelName": "typed",
                                      "InstanceType": "ml.c5.xlarge",
                                      "InitialInstanceCount": 1}])
        self.assertIn("Instance type ml.c5.xlarge is not supported", msg)
        # No ensembling across containers.
        code, msg = self.sm_error(self.buyer_sm.create_model, ModelName="mix",
                                  ExecutionRoleArn=mh.ROLE, Containers=[
                                      {"ModelPackageName": s["model_v1"]},
                                      {"Image": "anything:1"}])
        self.assertIn("cannot combine it with other containers", msg)

        # Draft and Limited products.
        draft = api_ok(m, self.seller, "POST", "/api/v1/products", {
            "Title": "Draft thing", "ShortDescription": "not yet"})
        status, out = api(m, self.buyer, "POST", "/api/v1/subscriptions",
                          {"Product": draft["ProductId"], "AcceptEula": True})
        self.assertEqual((status, err(out)[0]), (400, "ProductNotAvailable"), out)
        api_ok(m, self.seller, "POST", f"/api/v1/products/{s['algo']['ProductId']}/visibility",
               {"Visibility": "Limited", "AllowList": [mh.account_id(self.late_buyer)]})
        status, out = api(m, self.outsider, "POST", "/api/v1/subscriptions",
                          {"Product": s["algo_code"], "AcceptEula": True})
        self.assertEqual((status, err(out)[0]), (403, "NotAllowListed"), out)
        api_ok(m, self.seller, "POST", f"/api/v1/products/{s['algo']['ProductId']}/visibility",
               {"Visibility": "Public"})

    def test_41_failed_validation_and_scan_findings_block_listing(self):
        m, s = self.m, self.state
        # Validation that fails: the transform reads a prefix with no data.
        bad = mh.model_package_request("broken", mh.IMAGE, s["model_data"], "seller-data")
        bad["ValidationSpecification"]["ValidationProfiles"][0]["TransformJobDefinition"][
            "TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://seller-data/none/"
        self.sm.create_model_package(**bad)
        mh.wait_package(m, self.sm, "broken", done=("Failed",), failed=("Completed",))
        arn = self.sm.describe_model_package(ModelPackageName="broken")["ModelPackageArn"]
        proc = self.seller_cli.run("product", "add-version", s["model"]["ProductId"], "--source",
                                   arn, "--version", "9.0")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("validation failed", proc.stderr + proc.stdout)

    def test_42_high_severity_scan_finding_blocks_listing(self):
        m, s = self.m, self.state
        key = (b"-----BEGIN RSA PRIVATE KEY-----\n" + b"MIIEpAIBAAKCAQEA" * 8 +
               b"\n-----END RSA PRIVATE KEY-----\n")
        with open(probe_path(), "rb") as f:
            probe = f.read()
        layer = layer_tar([("bin", None, 0o755), ("bin/probe", probe, 0o755),
                           ("etc", None, 0o755), ("etc/deploy.pem", key, 0o644)])
        with tempfile.TemporaryDirectory() as tmp:
            archive = os.path.join(tmp, "leaky.tar")
            oci_archive(archive, [layer], ["/bin/probe"], "leaky:1")
            with open(archive, "rb") as f:
                data = f.read()
        req = urllib.request.Request(m.endpoint + "/api/v1/images?name=leaky:1", method="POST",
                                     data=data, headers={
                                         "Authorization": "Bearer " + self.seller["token"],
                                         "Content-Type": "application/x-tar"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            self.assertEqual(json.loads(resp.read())["scan_status"], "BLOCKED")
        self.sm.create_model_package(**mh.model_package_request(
            "leaky", "leaky:1", s["model_data"], "seller-data"))
        mh.wait_package(m, self.sm, "leaky", done=("Failed", "Completed"), failed=())
        d = self.sm.describe_model_package(ModelPackageName="leaky")
        scans = d["ModelPackageStatusDetails"]["ImageScanStatuses"]
        self.assertEqual(scans[0]["Status"], "Failed", d)
        proc = self.seller_cli.run("product", "add-version", s["model"]["ProductId"], "--source",
                                   d["ModelPackageArn"], "--version", "9.1")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("scan", proc.stderr + proc.stdout)

    # ---- 5. isolation ----

    def test_50_buyer_never_reads_the_sellers_assets(self):
        m, s = self.m, self.state
        d = self.buyer_sm.describe_model_package(ModelPackageName=s["model_v1"])
        text = str(d)
        self.assertNotIn("ModelDataUrl", text)
        self.assertNotIn("Image", [k for c in d["InferenceSpecification"]["Containers"]
                                   for k in c])
        self.assertNotIn("ValidationSpecification", d)
        model = self.buyer_sm.describe_model(ModelName="iris-endpoint")
        self.assertEqual(model["Containers"][0], {"ModelPackageName": s["model_v1"]})
        ep = self.buyer_sm.describe_endpoint(EndpointName="iris-endpoint")
        self.assertEqual(ep["ProductionVariants"][0].get("DeployedImages", []), [])
        # The escrowed image and model data are out of reach by any path.
        self.assertEqual(api_ok(m, self.buyer, "GET", "/api/v1/images")["images"], [])
        with self.assertRaises(ClientError) as ctx:
            m.s3_client(self.buyer).list_objects_v2(Bucket="mercato-escrow")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDenied")
        escrow_account = s["model_v1"].split(":")[4]
        name = s["model_v1"].rsplit("/", 1)[1]
        escrow_image = f"127.0.0.1:{m.port}/{escrow_account}/escrow/{name}:1"
        code, msg = self.sm_error(self.buyer_sm.create_model, ModelName="steal",
                                  ExecutionRoleArn=mh.ROLE,
                                  PrimaryContainer={"Image": escrow_image})
        self.assertEqual(code, "ValidationException")
        code, msg = self.sm_error(self.buyer_sm.create_model, ModelName="steal2",
                                  ExecutionRoleArn=mh.ROLE, PrimaryContainer={
                                      "Image": mh.IMAGE, "ModelDataUrl":
                                      f"s3://mercato-escrow/{name}/1/model.tar.gz"})
        code, _ = self.sm_error(self.buyer_sm.describe_algorithm,
                                AlgorithmName=s["algorithm_arn"])
        self.assertIn(code, ("ResourceNotFound", "ValidationException"))
        # The buyer's own package trained with the algorithm shows the algorithm's ARN and the
        # buyer's model data, never the algorithm's image.
        mine = self.buyer_sm.describe_model_package(ModelPackageName="my-iris")
        self.assertNotIn("escrow/", str(mine))
        self.assertNotIn("mercato-xgboost", str(mine))
        # A training job shows the algorithm, never its image.
        job = self.buyer_sm.describe_training_job(TrainingJobName="buyer-train")
        self.assertNotIn("mercato-xgboost", str(job))

    def test_51_seller_never_sees_the_buyers_resources(self):
        m = self.m
        for fn, kw in ((self.sm.describe_endpoint, {"EndpointName": "iris-endpoint"}),
                       (self.sm.describe_model, {"ModelName": "iris-endpoint"}),
                       (self.sm.describe_training_job, {"TrainingJobName": "buyer-train"}),
                       (self.sm.describe_model_package, {"ModelPackageName": "my-iris"})):
            with self.assertRaises(ClientError):
                fn(**kw)
        names = [e["EndpointName"] for e in self.sm.list_endpoints()["Endpoints"]]
        self.assertNotIn("iris-endpoint", names)
        status, _ = api(m, self.seller, "GET", "/api/v1/logs/endpoints/iris-endpoint")
        self.assertEqual(status, 404)
        with self.assertRaises(ClientError) as ctx:
            m.s3_client(self.seller).list_objects_v2(Bucket="buyer-data")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDenied")
        seller_rt = mh.client(m, "sagemaker-runtime", self.seller)
        with self.assertRaises(ClientError):
            seller_rt.invoke_endpoint(EndpointName="iris-endpoint", Body=b"1,2,3,4",
                                      ContentType="text/csv")

    def test_55_marketplace_endpoints_survive_a_restart(self):
        self.m.restart()  # on a new port: clients follow
        cls = type(self)
        cls.seller_cli, cls.buyer_cli = mh.cli(self.m, self.seller), mh.cli(self.m, self.buyer)
        cls.sm = mh.client(self.m, "sagemaker", self.seller)
        cls.buyer_sm = mh.client(self.m, "sagemaker", self.buyer)
        cls.buyer_rt = mh.client(self.m, "sagemaker-runtime", self.buyer)
        mh.wait_endpoint(self.m, self.buyer_sm, "iris-endpoint")
        # The endpoint keeps its InService status across the restart while its instance is
        # started again: until then invocations answer ServiceUnavailable.
        deadline = time.monotonic() + mh.WAIT
        while True:
            try:
                body = self.invoke("iris-endpoint")
                break
            except ClientError as e:
                if e.response["Error"]["Code"] != "ServiceUnavailable" or \
                        time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        _, preds = mh.accuracy(body, self.labels)
        self.assertEqual(preds, self.state["predictions"])

    # ---- 6. removal with the test clock ----

    def test_60_removal_grace_period(self):
        m, s = self.m, self.state
        pid, code = s["model"]["ProductId"], s["model_code"]
        self.seller_cli.ok("product", "remove", pid)
        status, out = api(m, self.outsider, "POST", "/api/v1/subscriptions",
                          {"Product": code, "AcceptEula": True})
        self.assertEqual((status, err(out)[0]), (400, "ProductRestricted"), out)
        self.assertIn("removed", err(out)[1])
        self.invoke("iris-endpoint")  # the existing buyer keeps invoking

        admin_cli = mh.cli(m, m.admin)
        admin_cli.ok("admin", "clock", "advance", "88d")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            types = [n["Type"] for n in api_ok(m, self.buyer, "GET",
                                               "/api/v1/notifications")["Notifications"]]
            if "product.removal_reminder" in types:
                break
            time.sleep(0.3)
        self.assertIn("product.removed", types)
        self.assertIn("product.removal_reminder", types)
        self.invoke("iris-endpoint")

        admin_cli.ok("admin", "clock", "advance", "3d")
        mh.wait_endpoint(m, self.buyer_sm, "iris-endpoint", done=("Failed",), failed=())
        with self.assertRaises(ClientError):
            self.invoke("iris-endpoint")
        types = [n["Type"] for n in api_ok(m, self.buyer, "GET",
                                           "/api/v1/notifications")["Notifications"]]
        self.assertIn("subscription.expired", types)
        code_, msg = self.sm_error(self.buyer_sm.create_model, ModelName="after",
                                   Containers=[{"ModelPackageName": s["model_v1"]}],
                                   ExecutionRoleArn=mh.ROLE)
        self.assertEqual(code_, "ValidationException")


if __name__ == "__main__":
    unittest.main()
