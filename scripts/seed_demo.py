#!/usr/bin/env python3
"""Seeds a demo marketplace into a running mercatod (called by scripts/run.sh).

As the operator it creates two accounts, `demo-seller` and `demo-buyer`, and then, as them:
- the seller registers, pushes the built-in XGBoost image, uploads the Iris data, trains a
  model, creates an algorithm and a model package that the platform validates by running
  them, lists both as Public products (documentation, sample notebook, version 1.0);
- the buyer subscribes to the model product and deploys it to the endpoint `demo-iris`.
Credentials of both go to DATA_DIR/demo-credentials (mode 0600). A second run finds that
file and only prints the commands to try.

Usage: seed_demo.py ENDPOINT_URL DATA_DIR XGBOOST_IMAGE_TAR REPO_ROOT
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/MercatoDemo"
IMAGE = "mercato-xgboost:latest"
TYPES = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge"]
WAIT = 600


class Api:
    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None, raw=None, content_type="application/json"):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, method=method, data=data, headers={
            "Authorization": "Bearer " + self.token, "Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=600) as resp:
                text = resp.read()
                return json.loads(text) if text else {}
        except urllib.error.HTTPError as e:
            raise SystemExit(f"{method} {path}: HTTP {e.code}: {e.read().decode()}") from e


def sagemaker(url, creds, service="sagemaker"):
    return boto3.session.Session().client(
        service, endpoint_url=url, region_name=creds.get("region", "local"),
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        config=Config(retries={"max_attempts": 2, "mode": "standard"}))


def wait(what, fn, done, failed=()):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        state = fn()
        if state in done:
            return state
        if state in failed:
            raise SystemExit(f"demo: {what} ended {state}")
        time.sleep(0.5)
    raise SystemExit(f"demo: {what} did not finish in {WAIT} s")


def channels(bucket):
    return [{"ChannelName": ch, "ContentType": "text/csv",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                             "S3Uri": f"s3://{bucket}/iris/{ch}/"}}}
            for ch in ("train", "validation")]


def transform_definition(bucket):
    return {"TransformInput": {"DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/iris/batch/"}},
                "ContentType": "text/csv", "SplitType": "Line"},
            "BatchStrategy": "MultiRecord",
            "TransformOutput": {"S3OutputPath": f"s3://{bucket}/validation-output"},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1}}


def inference_spec(model_data=None):
    container = {"Image": IMAGE}
    if model_data:
        container["ModelDataUrl"] = model_data
    return {"Containers": [container], "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
            "SupportedRealtimeInferenceInstanceTypes": TYPES,
            "SupportedTransformInstanceTypes": TYPES}


HYPERPARAMETERS = [
    {"Name": "num_round", "Type": "Integer", "IsTunable": True, "IsRequired": False,
     "DefaultValue": "20",
     "Range": {"IntegerParameterRangeSpecification": {"MinValue": "1", "MaxValue": "1000"}}},
    {"Name": "max_depth", "Type": "Integer", "IsTunable": True, "IsRequired": False,
     "DefaultValue": "6",
     "Range": {"IntegerParameterRangeSpecification": {"MinValue": "1", "MaxValue": "20"}}},
    {"Name": "eta", "Type": "Continuous", "IsTunable": True, "IsRequired": False,
     "DefaultValue": "0.3",
     "Range": {"ContinuousParameterRangeSpecification": {"MinValue": "0", "MaxValue": "1"}}},
    {"Name": "objective", "Type": "Categorical", "IsTunable": False, "IsRequired": False,
     "DefaultValue": "multi:softmax", "Range": {"CategoricalParameterRangeSpecification": {
         "Values": ["multi:softmax", "multi:softprob", "binary:logistic", "reg:squarederror"]}}},
    {"Name": "num_class", "Type": "Integer", "IsTunable": False, "IsRequired": False,
     "DefaultValue": "3",
     "Range": {"IntegerParameterRangeSpecification": {"MinValue": "2", "MaxValue": "1000"}}},
    {"Name": "eval_metric", "Type": "FreeText", "IsTunable": False, "IsRequired": False,
     "DefaultValue": "merror"},
]


def seed_seller(url, seller, data_dir, image_tar, repo):
    api = Api(url, seller["token"])
    api.call("POST", "/api/v1/sellers", {
        "LegalName": "Petal Labs Inc.", "Email": "billing@petal-labs.example", "Country": "US",
        "State": "WA", "BankAccount": "000123456789", "BankRouting": "125000105"})
    with open(image_tar, "rb") as f:
        api.call("POST", "/api/v1/images?name=" + IMAGE, raw=f.read(),
                 content_type="application/x-tar")
    s3 = boto3.session.Session().client(
        "s3", endpoint_url=url, region_name="local",
        aws_access_key_id=seller["access_key_id"],
        aws_secret_access_key=seller["secret_access_key"],
        config=Config(s3={"addressing_style": "path"}))
    bucket = "demo-seller-data"
    s3.create_bucket(Bucket=bucket)
    iris = os.path.join(repo, "tests", "data", "iris")
    for ch in ("train", "validation"):
        s3.upload_file(os.path.join(iris, ch + ".csv"), bucket, f"iris/{ch}/{ch}.csv")
    with open(os.path.join(iris, "test.csv")) as f:
        rows = "".join(line.split(",", 1)[1] for line in f if line.strip())
    s3.put_object(Bucket=bucket, Key="iris/batch/test.csv", Body=rows.encode())

    sm = sagemaker(url, seller)
    print("demo: training the Iris model as demo-seller ...", flush=True)
    sm.create_training_job(
        TrainingJobName="demo-iris-train", RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        HyperParameters={"objective": "multi:softmax", "num_class": "3", "num_round": "20"},
        InputDataConfig=channels(bucket),
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    wait("training", lambda: sm.describe_training_job(
        TrainingJobName="demo-iris-train")["TrainingJobStatus"], ("Completed",),
        ("Failed", "Stopped"))
    model_data = sm.describe_training_job(
        TrainingJobName="demo-iris-train")["ModelArtifacts"]["S3ModelArtifacts"]

    print("demo: creating and validating the algorithm and the model package ...", flush=True)
    sm.create_algorithm(
        AlgorithmName="demo-xgboost",
        AlgorithmDescription="XGBoost gradient-boosted trees for tabular data",
        TrainingSpecification={
            "TrainingImage": IMAGE, "SupportedHyperParameters": HYPERPARAMETERS,
            "SupportedTrainingInstanceTypes": TYPES, "SupportsDistributedTraining": False,
            "MetricDefinitions": [{"Name": "validation:merror",
                                   "Regex": r"validation-merror:([0-9\.]+)"}],
            "TrainingChannels": [
                {"Name": "train", "IsRequired": True, "SupportedContentTypes": ["text/csv"],
                 "SupportedInputModes": ["File"]},
                {"Name": "validation", "IsRequired": False,
                 "SupportedContentTypes": ["text/csv"], "SupportedInputModes": ["File"]}]},
        InferenceSpecification=inference_spec(),
        ValidationSpecification={"ValidationRole": ROLE, "ValidationProfiles": [{
            "ProfileName": "iris",
            "TrainingJobDefinition": {
                "TrainingInputMode": "File", "HyperParameters": {"num_round": "10"},
                "InputDataConfig": channels(bucket),
                "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/validation"},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                   "VolumeSizeInGB": 1},
                "StoppingCondition": {"MaxRuntimeInSeconds": 600}},
            "TransformJobDefinition": transform_definition(bucket)}]},
        CertifyForMarketplace=True)
    sm.create_model_package(
        ModelPackageName="demo-iris",
        ModelPackageDescription="XGBoost classifier of iris species",
        InferenceSpecification=inference_spec(model_data),
        ValidationSpecification={"ValidationRole": ROLE, "ValidationProfiles": [{
            "ProfileName": "iris", "TransformJobDefinition": transform_definition(bucket)}]},
        CertifyForMarketplace=True)
    wait("algorithm validation", lambda: sm.describe_algorithm(
        AlgorithmName="demo-xgboost")["AlgorithmStatus"], ("Completed",), ("Failed",))
    wait("model package validation", lambda: sm.describe_model_package(
        ModelPackageName="demo-iris")["ModelPackageStatus"], ("Completed",), ("Failed",))

    with open(os.path.join(repo, "examples", "notebooks", "iris_classifier.ipynb")) as f:
        notebook = json.load(f)
    products = {}
    for key, kind, source, title, short, long_text in (
            ("model", "model-package",
             sm.describe_model_package(ModelPackageName="demo-iris")["ModelPackageArn"],
             "Iris species classifier",
             "Tells setosa, versicolor and virginica apart from four flower measurements.",
             "## What it does\n\nAn XGBoost model trained on the Iris data set. Send CSV rows "
             "of sepal length, sepal width, petal length and petal width (cm); get one class "
             "per row: 0 setosa, 1 versicolor, 2 virginica.\n"),
            ("algorithm", "algorithm",
             sm.describe_algorithm(AlgorithmName="demo-xgboost")["AlgorithmArn"],
             "XGBoost tabular trainer",
             "Gradient-boosted trees: train classifiers and regressors on your own CSV data.",
             "## What it does\n\nTrains XGBoost on a `train` channel (CSV, label first) with an "
             "optional `validation` channel, and serves the trained model.\n")):
        p = api.call("POST", "/api/v1/products", {
            "Title": title, "ShortDescription": short,
            "LongDescription": long_text,
            "UsageInstructions": "Subscribe, then use the version ARN with the SageMaker API "
                                 "(see the sample notebook).",
            "DataPreprocessing": "CSV without a header; no label column for inference.",
            "Categories": ["Classification", "Tabular"],
            "Highlights": ["Validated by running it", "Runs without internet access"],
            "SupportContact": "support@petal-labs.example",
            "Eula": "Demo EULA: use freely for evaluation.",
            "SampleNotebook": notebook, "RecommendedInstanceTypes": ["ml.m5.large"]})
        api.call("POST", f"/api/v1/products/{p['ProductId']}/versions",
                 {"Source": source, "Version": "1.0", "ReleaseNotes": "First release."})
        api.call("POST", f"/api/v1/products/{p['ProductId']}/visibility",
                 {"Visibility": "Public"})
        products[key] = api.call("GET", f"/api/v1/products/{p['ProductId']}")
    return products


def seed_buyer(url, buyer, products):
    api = Api(url, buyer["token"])
    code = products["model"]["ProductCode"]
    api.call("POST", "/api/v1/subscriptions", {"Product": code, "AcceptEula": True})
    detail = api.call("GET", f"/api/v1/catalog/products/{code}")
    arn = detail["Versions"][0]["EscrowedArn"]
    sm = sagemaker(url, buyer)
    sm.create_model(ModelName="demo-iris", ExecutionRoleArn=ROLE,
                    Containers=[{"ModelPackageName": arn}])
    sm.create_endpoint_config(EndpointConfigName="demo-iris", ProductionVariants=[{
        "VariantName": "main", "ModelName": "demo-iris", "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="demo-iris", EndpointConfigName="demo-iris")
    wait("endpoint demo-iris", lambda: sm.describe_endpoint(
        EndpointName="demo-iris")["EndpointStatus"], ("InService",), ("Failed",))
    return arn


def main():
    url, data_dir, image_tar, repo = sys.argv[1:5]
    path = os.path.join(data_dir, "demo-credentials")
    if not os.path.exists(path):
        with open(os.path.join(data_dir, "admin-credentials")) as f:
            admin = Api(url, json.load(f)["token"])
        seller = admin.call("POST", "/api/v1/accounts", {"name": "demo-seller"})
        buyer = admin.call("POST", "/api/v1/accounts", {"name": "demo-buyer"})
        products = seed_seller(url, seller, data_dir, image_tar, repo)
        arn = seed_buyer(url, buyer, products)
        demo = {"seller": seller, "buyer": buyer, "model_arn": arn,
                "products": {k: v["ProductCode"] for k, v in products.items()}}
        tmp = path + ".tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(demo, f, indent=2)
        os.replace(tmp, path)
    with open(path) as f:
        demo = json.load(f)
    cli = f"mercato --endpoint {url}"
    print(f"""
Demo marketplace ready (credentials in {path}):
  seller demo-seller lists: {', '.join(demo['products'].values())}
  buyer  demo-buyer  runs the endpoint demo-iris (model {demo['model_arn']})

Try, as the buyer:
  export MERCATO_TOKEN={demo['buyer']['token']}
  {cli} catalog search iris
  {cli} catalog show {demo['products']['model']}
  {cli} subscriptions
  AWS_ACCESS_KEY_ID={demo['buyer']['access_key_id']} \\
  AWS_SECRET_ACCESS_KEY={demo['buyer']['secret_access_key']} \\
  aws --endpoint-url {url} --region local sagemaker-runtime invoke-endpoint \\
      --endpoint-name demo-iris --content-type text/csv --body 5.1,3.5,1.4,0.2 /dev/stdout
And as the seller (export MERCATO_TOKEN={demo['seller']['token']}):
  {cli} product list
  {cli} seller show
""", flush=True)


if __name__ == "__main__":
    main()
