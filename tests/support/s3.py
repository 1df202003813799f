"""A local S3-compatible server (moto's, in a thread) on 127.0.0.1 for the lake's ``s3://`` tests.

Clients reach it the way a deployment would configure any S3 endpoint: ``AWS_ENDPOINT_URL`` and
credentials in the environment (botocore, hence s3fs, reads them), so worker processes started
with that environment reach it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def s3_server(bucket: str = "newsflow-lake") -> Iterator[dict[str, str]]:
    """Start the server, create ``bucket``; yields the environment variables that reach it."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    try:
        boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id="testing",
                     aws_secret_access_key="testing", region_name="us-east-1").create_bucket(Bucket=bucket)
        yield env
    finally:
        server.stop()
