"""Model packages and algorithms end to end: boto3's sagemaker client against a real mercatod.

A seller pushes the built-in XGBoost image, uploads a trained Iris model and validation rows
to Mercato's S3 and creates a model package with a validation profile; Mercato runs the
transform job in the seller's account and the package ends Completed. Shape and error checks
need no image. The XGBoost part is skipped with a reason when the image is not built.
"""

import os
import tempfile
import time
import unittest

from botocore.exceptions import ClientError

import test_sagemaker_endpoints as endpoints
from harness import Mercatod

BUCKET = "seller-data"
ROLE = "arn:aws:iam::123456789012:role/validation"


class ModelPackagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod()
        cls.alice = cls.m.create_account("alice")
        cls.bob = cls.m.create_account("bob")
        cls.sm = endpoints.client(cls.m, "sagemaker", cls.alice)
        cls.sm_bob = endpoints.client(cls.m, "sagemaker", cls.bob)
        cls.s3 = cls.m.s3_client(cls.alice)

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def push_and_upload(self):
        if not os.path.exists(endpoints.IMAGE_TAR):
            self.skipTest(f"{endpoints.IMAGE_TAR} is not built")
        if endpoints.SageMakerEndpointsTest.push_image(self, self.alice) is None:
            self.skipTest("POST /api/v1/images (image push) is not available on this server")
        with tempfile.TemporaryDirectory() as work:
            model_path = endpoints.SageMakerEndpointsTest.train_model(self, work)
            self.s3.create_bucket(Bucket=BUCKET)
            self.s3.upload_file(model_path, BUCKET, "model/model.tar.gz")
        rows = ["5.1,3.5,1.4,0.2", "6.2,2.9,4.3,1.3", "7.7,3.0,6.1,2.3"]
        self.s3.put_object(Bucket=BUCKET, Key="validation/rows.csv",
                           Body=("\n".join(rows) + "\n").encode(), ContentType="text/csv")

    def inference_spec(self, image="mercato-xgboost:latest"):
        return {"Containers": [{"Image": image,
                                "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
                "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
                "SupportedTransformInstanceTypes": ["ml.m5.large"]}

    def wait_package(self, arn, timeout=300):
        deadline = time.time() + timeout
        while True:
            d = self.sm.describe_model_package(ModelPackageName=arn)
            if d["ModelPackageStatus"] in ("Completed", "Failed") or time.time() > deadline:
                return d
            time.sleep(1)

    def test_validated_model_package_completes(self):
        self.push_and_upload()
        arn = self.sm.create_model_package(
            ModelPackageName="iris-xgb",
            ModelPackageDescription="Iris classifier",
            InferenceSpecification=self.inference_spec(),
            ValidationSpecification={"ValidationRole": ROLE, "ValidationProfiles": [{
                "ProfileName": "iris-batch",
                "TransformJobDefinition": {
                    "TransformInput": {"DataSource": {"S3DataSource": {
                        "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/validation/"}},
                        "ContentType": "text/csv", "SplitType": "Line"},
                    "TransformOutput": {"S3OutputPath": f"s3://{BUCKET}/validation-out",
                                        "AssembleWith": "Line"},
                    "TransformResources": {"InstanceType": "ml.m5.large",
                                           "InstanceCount": 1}}}]},
            CertifyForMarketplace=True)["ModelPackageArn"]
        self.assertTrue(arn.endswith(":model-package/iris-xgb"), arn)
        d = self.wait_package(arn)
        self.assertEqual(d["ModelPackageStatus"], "Completed", d["ModelPackageStatusDetails"])
        v = d["ModelPackageStatusDetails"]["ValidationStatuses"]
        self.assertEqual([(s["Name"], s["Status"]) for s in v], [("iris-batch", "Completed")])
        self.assertEqual(d["ModelPackageStatusDetails"]["ImageScanStatuses"][0]["Status"],
                         "Completed")
        self.assertTrue(d["CertifyForMarketplace"])
        # The transform job wrote predictions into the seller's bucket.
        keys = [o["Key"] for o in self.s3.list_objects_v2(
            Bucket=BUCKET, Prefix="validation-out/").get("Contents", [])]
        self.assertEqual(keys, ["validation-out/rows.csv.out"])
        # The temporary model is gone.
        self.assertEqual(self.sm.list_models()["Models"], [])
        # Another account cannot see it (no marketplace listing).
        with self.assertRaises(ClientError) as ctx:
            self.sm_bob.describe_model_package(ModelPackageName=arn)
        self.assertEqual(endpoints.error_of(ctx)[0], "ResourceNotFound")

    def test_shapes_and_errors(self):
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_model_package(
                ModelPackageName="nope", InferenceSpecification=self.inference_spec("missing:1"))
        code, msg, status = endpoints.error_of(ctx)
        self.assertEqual((code, status), ("ValidationException", 400))
        self.assertIn("image registry", msg)
        with self.assertRaises(ClientError) as ctx:
            self.sm.create_model_package(
                ModelPackageName="nope", InferenceSpecification=self.inference_spec(),
                CertifyForMarketplace=True)
        self.assertIn("CertifyForMarketplace requires", endpoints.error_of(ctx)[1])
        with self.assertRaises(ClientError) as ctx:
            self.sm.describe_algorithm(AlgorithmName="nothing")
        self.assertEqual(endpoints.error_of(ctx)[0], "ResourceNotFound")

        self.sm.create_model_package_group(ModelPackageGroupName="grp")
        self.assertEqual(self.sm.describe_model_package_group(
            ModelPackageGroupName="grp")["ModelPackageGroupStatus"], "Completed")
        groups = self.sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
        self.assertEqual([g["ModelPackageGroupName"] for g in groups], ["grp"])
        self.sm.delete_model_package_group(ModelPackageGroupName="grp")
        self.assertEqual(self.sm.list_algorithms()["AlgorithmSummaryList"], [])


if __name__ == "__main__":
    unittest.main()
