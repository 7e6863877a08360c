"""Prepares a moto S3 server for tests/vault_s3.rs, then turns its authentication on.

Usage: moto_setup.py ENDPOINT   (prints "ACCESS_KEY_ID SECRET_ACCESS_KEY" of a user allowed s3:*)

Runs while moto still accepts anything (INITIAL_NO_AUTH_ACTION_COUNT unset); the last call,
/moto-api/reset-auth with 0, makes moto check every later request's signature and key, so
wrong credentials get a real 403 (SignatureDoesNotMatch / InvalidAccessKeyId).
"""
import json
import sys

import boto3
import requests

endpoint = sys.argv[1]
anon = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="setup",
    aws_secret_access_key="setup",
)
iam = boto3.client("iam", **anon)
iam.create_user(UserName="backupscope")
iam.put_user_policy(
    UserName="backupscope",
    PolicyName="s3",
    PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    ),
)
key = iam.create_access_key(UserName="backupscope")["AccessKey"]

s3 = boto3.client("s3", **anon)


def backup(bucket, prefix, name, phase, tarball=True):
    base = f"{prefix}backups/{name}/"
    body = {"kind": "Backup", "apiVersion": "velero.io/v1", "metadata": {"name": name}, "status": {"phase": phase}}
    s3.put_object(Bucket=bucket, Key=base + "velero-backup.json", Body=json.dumps(body).encode())
    s3.put_object(Bucket=bucket, Key=base + f"{name}-logs.gz", Body=b"log")
    if tarball:
        s3.put_object(Bucket=bucket, Key=base + f"{name}.tar.gz", Body=b"tarball")


s3.create_bucket(Bucket="velero-prod")
backup("velero-prod", "cluster-a/", "b-ok", "Completed")
backup("velero-prod", "cluster-a/", "b-notar", "Completed")
# The planted deleted tarball: uploaded, then removed.
s3.delete_object(Bucket="velero-prod", Key="cluster-a/backups/b-notar/b-notar.tar.gz")
backup("velero-prod", "cluster-a/", "b-orphan", "Completed")
backup("velero-prod", "cluster-a/", "b-mismatch", "PartiallyFailed")
s3.put_object(Bucket="velero-prod", Key="cluster-a/kopia/apps/kopia.repository", Body=b"repo")

s3.create_bucket(Bucket="stray")
backup("stray", "", "s-1", "Completed")
s3.put_object(Bucket="stray", Key="tmp-export/dump.sql", Body=b"stray")

requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
print(key["AccessKeyId"], key["SecretAccessKey"])
