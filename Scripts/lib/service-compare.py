#!/usr/bin/env python3
"""Compares a local tree with what a Media Manager service holds (used by Scripts/soak.sh).

Usage: service-compare.py API_URL KEY LOCAL_DIR
Lists every folder and file under the media root through the API, downloads each file from its URL and
compares it with LOCAL_DIR/PATH. Prints a summary; exits 1 on any difference (missing, extra, not READY,
different bytes).
"""
import hashlib, json, os, sys, urllib.parse, urllib.request

api, key, local = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]


def get(path, params):
    url = f"{api}/{path}?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(url, headers={"Authorization": key})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def pages(path, key_name, parent):
    cursor = None
    while True:
        params = {"parentFolderId": parent, "paging.limit": "100"}
        if cursor:
            params["paging.cursor"] = cursor
        body = get(path, params)
        yield from body.get(key_name, [])
        nxt = body.get("nextCursor") or {}
        cursor = (nxt.get("cursors") or {}).get("next") if nxt.get("hasNext") else None
        if not cursor:
            return


remote = {}
stack = [("media-root", "")]
while stack:
    folder, prefix = stack.pop()
    for sub in pages("folders", "folders", folder):
        stack.append((sub["id"], prefix + sub["displayName"] + "/"))
    for f in pages("files", "files", folder):
        remote[prefix + f["displayName"]] = f

expected = {}
for root, _, files in os.walk(local):
    for name in files:
        full = os.path.join(root, name)
        if os.path.isfile(full) and not os.path.islink(full):
            expected[os.path.relpath(full, local)] = full

problems = []
for path in sorted(set(expected) - set(remote)):
    problems.append(f"missing on the service: {path}")
for path in sorted(set(remote) - set(expected)):
    problems.append(f"extra on the service: {path}")
for path in sorted(set(expected) & set(remote)):
    f = remote[path]
    if f.get("operationStatus") != "READY":
        problems.append(f"not READY: {path} ({f.get('operationStatus')})")
        continue
    digest = hashlib.sha256()
    with urllib.request.urlopen(f["url"], timeout=300) as response:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
    with open(expected[path], "rb") as handle:
        local_digest = hashlib.file_digest(handle, "sha256") if hasattr(hashlib, "file_digest") else None
    if local_digest is None:
        h = hashlib.sha256()
        with open(expected[path], "rb") as handle:
            while chunk := handle.read(1 << 20):
                h.update(chunk)
        local_digest = h
    if digest.hexdigest() != local_digest.hexdigest():
        problems.append(f"different bytes: {path}")

print(f"service-compare: {len(expected)} local files, {len(remote)} on the service, {len(problems)} problems")
for problem in problems[:50]:
    print("  " + problem)
sys.exit(1 if problems else 0)
