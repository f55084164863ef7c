"""Fidelity of blob_server.py, vouched for by Microsoft's own client library.

Every test drives the test server with `azure.storage.blob` (the official Python SDK), configured from a
connection string exactly as an application would, and asserts the results and error codes that Azure documents.
If the server's signing, headers, XML or error shapes drifted from Azure's, the SDK would fail here.

Run:  python3 -m venv .venv && .venv/bin/pip install -r Tests/blob-server/requirements.txt
      .venv/bin/python -m pytest Tests/blob-server/test_fidelity.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceExistsError,
                                   ResourceModifiedError, ResourceNotFoundError)
from azure.storage.blob import (AccountSasPermissions, BlobServiceClient, BlobType, LinearRetry, ResourceTypes,
                                generate_account_sas)

SERVER = Path(__file__).with_name("blob_server.py")
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
WRONG_KEY = "AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen([sys.executable, str(SERVER), "--port", "0", "--exit-on-stdin-eof"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline().strip())
    yield f"http://127.0.0.1:{port}"
    proc.stdin.close()
    proc.wait(timeout=30)


def connection_string(endpoint: str, key: str = KEY) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={endpoint}/{ACCOUNT};")


@pytest.fixture
def service(server) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(connection_string(server))


@pytest.fixture
def container(service):
    client = service.create_container(f"c{uuid.uuid4().hex[:12]}")
    return client


def test_create_container_then_again_is_conflict(service):
    name = f"c{uuid.uuid4().hex[:12]}"
    client = service.create_container(name)
    assert client.get_container_properties().name == name
    with pytest.raises(ResourceExistsError) as e:
        service.create_container(name)
    assert e.value.error_code == "ContainerAlreadyExists"
    with pytest.raises(ResourceNotFoundError) as e:
        service.get_container_client("missing-container").get_container_properties()
    assert e.value.error_code == "ContainerNotFound"


def test_upload_download_and_ranged_download(container):
    data = bytes(range(256)) * 40
    blob = container.get_blob_client("dir/a.bin")
    result = blob.upload_blob(data)
    assert result["etag"]
    assert blob.download_blob().readall() == data
    assert blob.download_blob(offset=100, length=50).readall() == data[100:150]
    assert blob.download_blob(offset=10_000).readall() == data[10_000:]
    props = blob.get_blob_properties()
    assert props.size == len(data)
    assert props.blob_type == BlobType.BLOCKBLOB
    assert props.etag == result["etag"]
    with pytest.raises(HttpResponseError) as e:
        blob.download_blob(offset=len(data) + 5, length=10).readall()
    assert e.value.status_code == 416
    assert e.value.error_code == "InvalidRange"


def test_missing_blob_is_not_found_on_get_and_head(container):
    blob = container.get_blob_client("nope")
    with pytest.raises(ResourceNotFoundError) as e:
        blob.download_blob().readall()
    assert e.value.error_code == "BlobNotFound"
    with pytest.raises(ResourceNotFoundError) as e:
        blob.get_blob_properties()
    assert e.value.error_code == "BlobNotFound"


def test_append_blob_with_position_conditions(container):
    blob = container.get_blob_client("log/0001.log")
    blob.create_append_blob()
    first = blob.append_block(b"hello ", appendpos_condition=0)
    assert first["blob_append_offset"] == "0"
    assert first["blob_committed_block_count"] == 1
    second = blob.append_block(b"world", appendpos_condition=6)
    assert second["blob_append_offset"] == "6"
    assert second["etag"] != first["etag"]
    with pytest.raises(HttpResponseError) as e:
        blob.append_block(b"late", appendpos_condition=6)
    assert e.value.status_code == 412
    assert e.value.error_code == "AppendPositionConditionNotMet"
    with pytest.raises(HttpResponseError) as e:
        blob.append_block(b"too big", maxsize_condition=12)
    assert e.value.status_code == 412
    assert e.value.error_code == "MaxBlobSizeConditionNotMet"
    assert blob.download_blob().readall() == b"hello world"
    props = blob.get_blob_properties()
    assert props.blob_type == BlobType.APPENDBLOB
    assert props.size == 11
    # Creating it again only if absent: the SDK sends If-None-Match: * and Azure answers 409 BlobAlreadyExists.
    with pytest.raises(ResourceExistsError) as e:
        blob.create_append_blob(if_none_match="*")
    assert e.value.error_code == "BlobAlreadyExists"


def test_append_to_block_blob_is_invalid_blob_type(container):
    blob = container.get_blob_client("block")
    blob.upload_blob(b"x")
    with pytest.raises(ResourceExistsError) as e:
        blob.append_block(b"y")
    assert e.value.error_code == "InvalidBlobType"


def test_seal_then_append_fails_blob_is_sealed(container):
    blob = container.get_blob_client("log/0002.log")
    blob.create_append_blob()
    blob.append_block(b"abc")
    sealed = blob.seal_append_blob()
    assert sealed["blob_sealed"] is True
    assert blob.get_blob_properties().is_append_blob_sealed is True
    with pytest.raises(ResourceExistsError) as e:
        blob.append_block(b"def")
    assert e.value.status_code == 409
    assert e.value.error_code == "BlobIsSealed"
    blob.seal_append_blob()  # sealing again succeeds
    assert blob.download_blob().readall() == b"abc"


def test_conditional_upload_with_etag(container):
    blob = container.get_blob_client("manifest.json")
    etag = blob.upload_blob(b'{"v":1}')["etag"]
    etag2 = blob.upload_blob(b'{"v":2}', overwrite=True, etag=etag,
                             match_condition=MatchConditions.IfNotModified)["etag"]
    assert etag2 != etag
    with pytest.raises(ResourceModifiedError) as e:
        blob.upload_blob(b'{"v":3}', overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified)
    assert e.value.status_code == 412
    assert e.value.error_code == "ConditionNotMet"
    assert blob.download_blob().readall() == b'{"v":2}'


def test_overwrite_false_on_existing_blob_is_resource_exists(container):
    blob = container.get_blob_client("once")
    blob.upload_blob(b"first", overwrite=False)
    with pytest.raises(ResourceExistsError) as e:
        blob.upload_blob(b"second", overwrite=False)
    assert e.value.error_code == "BlobAlreadyExists"
    assert blob.download_blob().readall() == b"first"


def test_paged_listing_is_sorted_and_follows_markers(container):
    names = [f"p/{i:03d}" for i in range(7)] + ["p+/x", "q/other"]
    for n in reversed(names):
        container.get_blob_client(n).upload_blob(n.encode())
    pages = list(container.list_blobs(name_starts_with="p/", results_per_page=3).by_page())
    page_names = [[b.name for b in page] for page in pages]
    assert page_names == [["p/000", "p/001", "p/002"], ["p/003", "p/004", "p/005"], ["p/006"]]
    everything = [b for b in container.list_blobs()]
    assert [b.name for b in everything] == sorted(names)
    item = next(b for b in everything if b.name == "p/003")
    assert item.size == 5
    assert item.blob_type == BlobType.BLOCKBLOB
    # The listing's Etag carries no quotes (as in Azure's XML); the header's does.
    assert item.etag.strip('"') == container.get_blob_client("p/003").get_blob_properties().etag.strip('"')


def test_delete_and_conditional_delete(container):
    blob = container.get_blob_client("gone")
    etag = blob.upload_blob(b"x")["etag"]
    blob.upload_blob(b"y", overwrite=True)
    with pytest.raises(ResourceModifiedError) as e:
        blob.delete_blob(etag=etag, match_condition=MatchConditions.IfNotModified)
    assert e.value.error_code == "ConditionNotMet"
    blob.delete_blob()
    assert not blob.exists()
    with pytest.raises(ResourceNotFoundError) as e:
        blob.delete_blob()
    assert e.value.error_code == "BlobNotFound"


def test_wrong_account_key_is_authentication_failed(server, container):
    bad = BlobServiceClient.from_connection_string(connection_string(server, WRONG_KEY))
    with pytest.raises(ClientAuthenticationError) as e:
        bad.get_container_client(container.container_name).get_blob_client("x").upload_blob(b"x")
    assert e.value.status_code == 403
    assert e.value.error_code == "AuthenticationFailed"


def test_account_sas_from_the_sdk_is_verified(server, container):
    container.get_blob_client("sas/readme").upload_blob(b"readable")
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    read_only = generate_account_sas(ACCOUNT, KEY, ResourceTypes(container=True, object=True),
                                     AccountSasPermissions(read=True, list=True), expiry)
    client = BlobServiceClient(f"{server}/{ACCOUNT}", credential=read_only).get_container_client(
        container.container_name)
    assert client.get_blob_client("sas/readme").download_blob().readall() == b"readable"
    assert [b.name for b in client.list_blobs(name_starts_with="sas/")] == ["sas/readme"]
    with pytest.raises(HttpResponseError) as e:
        client.get_blob_client("sas/new").upload_blob(b"no")
    assert e.value.status_code == 403
    assert e.value.error_code == "AuthorizationPermissionMismatch"
    forged = read_only.replace("sp=rl", "sp=rwdlac")
    forged_client = BlobServiceClient(f"{server}/{ACCOUNT}", credential=forged).get_container_client(
        container.container_name)
    with pytest.raises(ClientAuthenticationError) as e:
        forged_client.get_blob_client("sas/new").upload_blob(b"no")
    assert e.value.error_code == "AuthenticationFailed"


def test_injected_server_busy_is_retried_by_the_sdk(server, container):
    req = urllib.request.Request(f"{server}/__admin/faults", method="POST",
                                 data=json.dumps({"op": "get", "status": 503, "count": 1}).encode())
    urllib.request.urlopen(req).read()
    quick = BlobServiceClient.from_connection_string(connection_string(server),
                                                     retry_policy=LinearRetry(backoff=0.2, random_jitter_range=0.1))
    blob = quick.get_container_client(container.container_name).get_blob_client("busy")
    blob.upload_blob(b"eventually")
    assert blob.download_blob().readall() == b"eventually"
    log = json.loads(urllib.request.urlopen(f"{server}/__admin/requests").read())
    gets = [r["status"] for r in log if r["op"] == "get" and "/busy" in r["path"]]
    assert gets[:2] == [503, 206]


def test_expired_account_sas_is_refused(server, container):
    container.get_blob_client("sas/old").upload_blob(b"x")
    expired = generate_account_sas(ACCOUNT, KEY, ResourceTypes(container=True, object=True),
                                   AccountSasPermissions(read=True), datetime.now(timezone.utc) - timedelta(minutes=5))
    client = BlobServiceClient(f"{server}/{ACCOUNT}", credential=expired)
    with pytest.raises(ClientAuthenticationError) as e:
        client.get_blob_client(container.container_name, "sas/old").download_blob().readall()
    assert e.value.status_code == 403
    assert e.value.error_code == "AuthenticationFailed"


def admin(server: str, what: str, method: str = "GET", body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{server}/__admin/{what}", method=method, data=data)
    return json.loads(urllib.request.urlopen(req).read())


def quick_client(server: str) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(connection_string(server),
                                                    retry_policy=LinearRetry(backoff=0.1, random_jitter_range=0.05))


def statuses(server: str, op: str, name: str) -> list[int]:
    return [r["status"] for r in admin(server, "requests") if r["op"] == op and r["path"].endswith("/" + name)]


def test_probability_faults_are_drawn_per_request_and_can_be_cleared(server, container):
    admin(server, "faults", "DELETE")
    blob = quick_client(server).get_container_client(container.container_name).get_blob_client("drawn")
    blob.upload_blob(b"x")
    admin(server, "faults", "POST", {"op": "head", "status": 503, "probability": 1.0, "count": 2})
    admin(server, "faults", "POST", {"op": "get", "status": 500, "probability": 0.0})
    assert blob.get_blob_properties().size == 1          # the SDK retried past both drawn 503s
    assert blob.download_blob().readall() == b"x"        # probability 0 never hits
    rules = admin(server, "faults")
    assert [(r["op"], r["hits"], r["count"]) for r in rules] == [("head", 2, 0), ("get", 0, None)]
    assert statuses(server, "head", "drawn") == [503, 503, 200]
    admin(server, "faults", "DELETE")
    assert admin(server, "faults") == []
    assert blob.download_blob().readall() == b"x"        # clearing faults keeps the blobs


def test_a_lost_answer_looks_lost_to_every_method(server, container):
    admin(server, "faults", "DELETE")
    blob = quick_client(server).get_container_client(container.container_name).get_blob_client("lost")
    blob.upload_blob(b"kept")
    admin(server, "faults", "POST", {"op": "head", "mode": "drop-after"})
    props = blob.get_blob_properties()                   # the cut answer is an error the SDK retries
    assert props.etag and props.size == 4
    assert statuses(server, "head", "lost") == [0, 200]


def test_an_incomplete_answer_lacks_what_the_protocol_promises(server, container):
    admin(server, "faults", "DELETE")
    blob = quick_client(server).get_container_client(container.container_name).get_blob_client("incomplete")
    admin(server, "faults", "POST", {"op": "putblob", "mode": "incomplete-after"})
    result = blob.upload_blob(b"applied")
    assert result.get("etag") is None                    # 201, but no ETag: the client cannot know the version
    assert blob.download_blob().readall() == b"applied"  # ...although the write was applied
    assert statuses(server, "putblob", "incomplete") == [201]


def test_a_truncated_body_is_retried_by_the_sdk(server, container):
    admin(server, "faults", "DELETE")
    blob = quick_client(server).get_container_client(container.container_name).get_blob_client("short")
    blob.upload_blob(b"0123456789" * 10)
    admin(server, "faults", "POST", {"op": "get", "mode": "truncate-after"})
    assert blob.download_blob().readall() == b"0123456789" * 10
    gets = statuses(server, "get", "short")
    assert len(gets) == 2 and admin(server, "faults")[0]["hits"] == 1
