"""Requests through a reverse proxy in front of an Allmende node, checking
what deploy/Caddyfile and deploy/nginx.conf promise (run by
.ci/check-proxies): TLS, HSTS, Host and scheme passed on (ids and
redirects name the public URL), the body limit, and that a request for
another host never gets a page from the node.

usage: proxy-checks.py PROXY_NAME BASE_URL CA_FILE API_TOKEN
"""
import http.client
import json
import ssl
import sys
import time
import urllib.parse

name, base, ca_file, token = sys.argv[1:5]
url = urllib.parse.urlsplit(base)
context = ssl.create_default_context(cafile=ca_file)


def request(method, path, body=None, headers=None):
    connection = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def check(condition, message):
    if not condition:
        print(f"proxy check ({name}) failed: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok ({name}): {message}")


# The proxy may still be getting its certificate: a few seconds' grace.
deadline = time.monotonic() + 10
while True:
    try:
        response, page = request("GET", "/")
        break
    except (ssl.SSLError, ConnectionError, OSError):
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
check(response.status == 200, f"the start page through TLS answers 200 (got {response.status})")
check("max-age=31536000" in (response.getheader("Strict-Transport-Security") or ""), "HSTS is set")
check(response.getheader("Content-Security-Policy") is not None, "the node's own headers pass")

response, actor = request("GET", "/orgs/ulm", headers={"Accept": "application/activity+json"})
check(response.status == 200, f"the actor answers 200 (got {response.status})")
check(json.loads(actor)["id"] == f"{base}/orgs/ulm", "ids name the public https URL")

auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
response, _ = request("POST", "/api/v1/projects", json.dumps({"title": "Hinter dem Proxy"}), auth)
check(response.status == 201, f"a project is created through the proxy (got {response.status})")
location = urllib.parse.urljoin(base + "/", response.getheader("Location") or "")
check(location.startswith(base + "/api/v1/projects/"), f"Location leads to the new project at the public URL ({location})")

huge = json.dumps({"title": "x", "summary": "x" * (3 * 1024 * 1024)})
response, _ = request("POST", "/api/v1/projects", huge, auth)
check(response.status == 413, f"a 3 MB body is refused with 413 (got {response.status})")

# Another name on the same TLS connection: either the proxy has no site for
# it, or the node refuses it; never a page of the node.
response, body = request("GET", "/", headers={"Host": "evil.example"})
check(b"<html" not in body.lower() and response.status != 200 or body == b"",
      f"a request for another host gets no page (got {response.status})")
if name == "nginx":
    check(response.status == 400 and b"proxy_set_header Host" in body,
          "nginx passes the foreign Host on and the node answers 400 saying what to fix")
