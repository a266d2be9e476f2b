"""A loopback ActivityPub peer built on bovine-herd (software nobody on the
Allmende team wrote), for the interop tests in tests/tests/interop.

bovine-herd's Quart app runs in this process on hypercorn, on 127.0.0.1 and
a free port, with its database in an in-memory SQLite (set
BOVINE_HARNESS_DB to a tortoise URL, e.g. sqlite:///tmp/x/bovine.sqlite3,
to keep it on disk). It has one actor, `alice`, registered through
bovine-store's own admin store with the base URL http://localhost:PORT, so
every id it hands out (actor, endpoints, objects, the application actor
that fetches keys) is plain http on localhost:PORT, and WebFinger answers
for acct:alice@localhost:PORT. It prints `READY http://localhost:PORT` once
it answers. The control API of interop/README.md is served beside
bovine-herd's own routes, under /_test/.

What is bovine's and what is the harness's:

* Inbox: bovine-herd's endpoint verifies the HTTP signature (its
  `add_authorization`, bovine's SignatureChecker, keys fetched by its
  application actor) and answers 401 to what does not verify. What
  verifies is handed to `start_background_task_inbox`; the harness hooks in
  there, records the activity as received (`/_test/received`), then runs
  bovine-herd's default inbox processing on it (store, Accept/Undo of
  follows, replies, updates, deletes). Every POST to alice's inbox is also
  logged with bovine's verdict (`/_test/inbox`).
* bovine-herd never answers a Follow by itself (a client is expected to
  post the Accept to the outbox), so after the Follow is processed the
  harness builds the Accept with bovine's ActivityFactory and hands it to
  bovine-herd's outbox processing, which adds the follower and delivers it.
* Outgoing activities (follow, undo, create, update, delete) are built with
  bovine's ActivityFactory/ObjectFactory and go through exactly what
  bovine-herd's outbox endpoint runs: `handle_outbox_item` (ids, storage,
  side effects) then `process_outbox_item` (social graph, then delivery:
  recipients resolved, followers collection expanded, actors fetched
  signed, POSTs signed by bovine's BovineActor). The harness awaits the
  delivery and reports every HTTP request it made (`deliveries`); a
  delivery answered with an error fails the control call.

Beside the README's endpoints: `inbox` (per POST to alice's inbox: the
signature scheme, keyId, whether bovine verified it, the signer bovine
found, the status answered), `following`, and `requests` (every HTTP
request bovine made, with its status).

What bovine-herd 0.5.19 does that a scenario should expect:

* alice's id is an opaque endpoint URL (http://localhost:PORT/endpoints/
  <token>); GETs of her actor and objects must be signed (401 otherwise);
  her public actor document has no followers/following collections and no
  sharedInbox.
* It signs with draft-cavage only (Digest, not Content-Digest). An
  RFC 9421 signature fails its check with 500 (bovine 0.5.19 with the
  http-sf of requirements.txt; with http-sf 1.0 it would be 401), so a
  sender that knocks again after a 500 gets in with draft-cavage.
* What it sends is JSON-LD compacted: one-element arrays become single
  values, the public collection is written `as:Public`.
* It does not check that the signer is the activity's actor (it logs the
  mismatch and processes the activity all the same).
"""

import asyncio
import contextvars
import copy
import json
import logging
import os
import re
import signal
import socket
import sys
import tempfile
import traceback
from urllib.parse import urlparse

logging.basicConfig(
    stream=sys.stderr,
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
logger = logging.getLogger("bovine-harness")

# bovine.jsonld opens a JSON-LD context cache, bovine_jsonld_cache.sqlite,
# in the working directory when imported, and keeps there whatever it
# loaded (or failed to load). It is opened in a scratch directory and
# replaced by an in-memory cache below, so no run leaves a file behind or
# sees an earlier run's contexts.
_scratch = tempfile.TemporaryDirectory(prefix="bovine-harness-")
_cwd = os.getcwd()
os.chdir(_scratch.name)
import bovine.jsonld  # noqa: E402
from bovine.jsonld.cache import JsonLDCache  # noqa: E402

bovine.jsonld.jsonld_cache.connection.close()
bovine.jsonld.jsonld_cache = JsonLDCache(":memory:")
os.chdir(_cwd)
_scratch.cleanup()


def _loopback_only(loader):
    """bovine fetches the JSON-LD contexts it does not ship (security/v1,
    did/v1, multikey/v1, data-integrity/v1, ...) from the web. This peer
    reaches nothing but loopback: another host's context is taken as empty,
    as bovine does when a fetch fails, but as an empty object rather than
    bovine's empty list, which pyld cannot process inside a nested
    @context (a `proof` or `signature` object): bovine's inbox processing
    would fail on every such activity."""

    def make(**kwargs):
        inner = loader(**kwargs)

        def load(url, options={}):
            host = urlparse(url).hostname
            if host in ("localhost", "127.0.0.1", "::1"):
                return inner(url, options)
            logger.info("JSON-LD context %s not fetched (loopback only): empty", url)
            return {
                "contentType": "application/ld+json",
                "contextUrl": None,
                "documentUrl": url,
                "document": {"@context": {}},
            }

        return load

    return make


bovine.jsonld.requests_document_loader = _loopback_only(bovine.jsonld.requests_document_loader)

import aiohttp  # noqa: E402
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart, g, jsonify, request

import bovine.clients
from bovine.activitystreams.activity_factory import ActivityFactory
from bovine.activitystreams.object_factory import ObjectFactory
from bovine.activitystreams.utils import id_for_object
from bovine.jsonld import with_activitystreams_context
from bovine.types import Visibility
from bovine.utils import now_isoformat
from bovine_herd import BovineHerd
from bovine_herd.add_to_queue import add_to_queue
from bovine_herd.server.authorize import add_authorization
from bovine_herd.server.utils import path_from_request
from bovine_process import handle_outbox_item, process_inbox_item, process_outbox_item
from bovine_process.types import ProcessingItem
from bovine_process.utils import ProcessorList
from bovine_store import BovineAdminStore

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


# The port is bound here, before the app starts, and the socket handed to
# hypercorn: no other process can take it in between.
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(128)
PORT = listener.getsockname()[1]
HOST = f"localhost:{PORT}"
BASE = f"http://{HOST}"

DB_URL = os.environ.get("BOVINE_HARNESS_DB", "sqlite://:memory:")

# What the harness saw.
received = []  # activities handed on by bovine-herd after its signature check
inbox_log = []  # one entry per POST to alice's inbox: bovine's verdict
requests_log = []  # every HTTP request bovine made (method, url, status)
follows = {}  # followed actor id -> the Follow alice sent (as bovine stored it)

# Collects the HTTP requests bovine makes while a control call runs
# (asyncio tasks copy the context, so deliveries in gathered tasks land here).
current_requests = contextvars.ContextVar("current_requests", default=None)

state = {}  # "actor": alice's BovineStoreActor, "info": her actor object


async def _on_request_end(session, ctx, params):
    entry = {"method": params.method, "url": str(params.url), "status": params.response.status}
    requests_log.append(entry)
    collected = current_requests.get()
    if collected is not None:
        collected.append(entry)


async def _on_request_exception(session, ctx, params):
    entry = {"method": params.method, "url": str(params.url), "status": None,
             "error": repr(params.exception)}
    requests_log.append(entry)
    collected = current_requests.get()
    if collected is not None:
        collected.append(entry)


app = Quart(__name__)


@app.before_serving
async def create_session():
    # bovine-herd uses app.config["session"] if set; this one logs requests.
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_on_request_end)
    trace.on_request_exception.append(_on_request_exception)
    app.config["session"] = aiohttp.ClientSession(trace_configs=[trace])


def alice():
    return state["actor"]


def is_alice_inbox():
    return "actor" in state and path_from_request(request) == alice().actor_object.inbox


async def authorization_with_log():
    """bovine-herd's own authorization (HTTP signature check); for POSTs to
    alice's inbox, what it found is kept for /_test/inbox."""
    await add_authorization()
    if request.method == "POST" and is_alice_inbox():
        activity_id = None
        try:
            activity_id = json.loads(await request.get_data()).get("id")
        except Exception:
            pass
        if "signature-input" in request.headers:
            scheme = "rfc9421"
            found = re.search(r'keyid="([^"]*)"', request.headers["signature-input"])
        elif "signature" in request.headers:
            scheme = "draft-cavage"
            found = re.search(r'keyId="([^"]*)"', request.headers["signature"])
        else:
            scheme, found = None, None
        key_id = found.group(1) if found else None
        g.inbox_check = {
            "activityId": activity_id,
            "scheme": scheme,
            "keyId": key_id,
            "verified": bool(g.retriever),
            "signer": g.retriever,
        }


@app.after_request
async def finish_inbox_log(response):
    check = g.get("inbox_check")
    if check is not None:
        check["status"] = response.status_code
        inbox_log.append(check)
    return response


def strip_follow(follow: dict) -> dict:
    """The Follow as embedded in an Accept or Undo: its id, actor and
    object, without the sender's @context."""
    return {
        "id": follow.get("id"),
        "type": "Follow",
        "actor": id_for_object(follow.get("actor")),
        "object": id_for_object(follow.get("object")),
    }


async def run_outbox(activity: dict) -> tuple[ProcessingItem, list]:
    """What bovine-herd's outbox endpoint does with a POST from alice:
    handle_outbox_item (ids, storage, side effects), then
    process_outbox_item (social graph, delivery), awaited. Returns the
    processed item and the HTTP requests bovine made meanwhile."""
    actor = alice()
    collected = []
    token = current_requests.set(collected)
    try:
        item = await handle_outbox_item(ProcessingItem(actor.actor_id, activity), actor)
        if item is None:
            raise RuntimeError(f"bovine-herd's outbox processing dropped {activity}")
        await process_outbox_item(item, actor)
    finally:
        current_requests.reset(token)
    return item, collected


def check_delivered(collected: list, to: str | None = None) -> list:
    posts = [x for x in collected if x["method"] == "POST"]
    failed = [x for x in collected if x["status"] is None or x["status"] >= 400]
    if failed:
        raise RuntimeError(f"bovine's requests failed: {failed}")
    if to is not None and not posts:
        raise RuntimeError(f"bovine delivered nothing (to {to}); requests: {collected}")
    return collected


async def accept_follow(follow: dict):
    """bovine-herd has no automatic Accept: alice accepts every Follow by
    sending an Accept (built by bovine's ActivityFactory) through
    bovine-herd's outbox processing, which adds the follower."""
    activity = ActivityFactory(state["info"]).accept(
        strip_follow(follow), include_activity=True
    ).build()
    item, collected = await run_outbox(activity)
    logger.info("Accepted %s with %s: %s", follow.get("id"), item.data.get("id"), collected)


async def process_inbox(item: ProcessingItem, actor, original: dict):
    # bovine-herd's default background inbox processing ...
    await ProcessorList(process_inbox_item, add_to_queue)(item, actor)
    # ... then the Accept, once the Follow is stored.
    if original.get("type") == "Follow" and id_for_object(original.get("object")) == actor.actor_id:
        try:
            await accept_follow(original)
        except Exception:
            logger.error("Accepting %s failed:\n%s", original.get("id"), traceback.format_exc())


async def start_background_task_inbox(item: ProcessingItem, actor):
    """bovine-herd hands on here what its inbox accepted (signature
    verified: item.submitter is the key's owner)."""
    original = copy.deepcopy(item.data)
    if actor.actor_id == state["actor"].actor_id:
        received.append(copy.deepcopy(original))
    app.add_background_task(process_inbox, item, actor, original)


# Registered after create_session: tortoise's and bovine-herd's
# before_serving hooks run after it.
BovineHerd(
    app,
    start_background_task_inbox=start_background_task_inbox,
    db_url=DB_URL,
    authorization_adder=authorization_with_log,
)


@app.before_serving
async def create_alice():
    admin = BovineAdminStore(domain=BASE)
    bovine_name = await admin.register("alice")
    await admin.set_properties_for_actor(
        bovine_name, {"type": "Person", "name": "Alice (bovine-herd)"}
    )
    actor = await app.config["bovine_store"].actor_for_name(bovine_name)
    state["actor"] = actor
    # What alice's client sees (bovine-herd shows the owner her followers
    # and following collections; others see neither).
    state["info"] = actor.actor_object.build(visibility=Visibility.OWNER)
    logger.info("alice is %s (inbox %s)", actor.actor_id, actor.actor_object.inbox)


# --- control API ---------------------------------------------------------


async def fetch_actor(url: str) -> dict:
    """A signed GET as alice, as bovine does (BovineActor.get)."""
    data = await alice().get(url)
    if not isinstance(data, dict) or data.get("type") == "Tombstone":
        raise RuntimeError(f"could not fetch {url}: {data}")
    return data


class CapturingSession:
    """Hands bovine's WebFinger client the app's session, keeping the JRD
    it reads (bovine returns only the actor URL)."""

    def __init__(self, session):
        self.session = session
        self.captured = []

    def get(self, *args, **kwargs):
        inner = self.session.get(*args, **kwargs)
        captured = self.captured

        class Context:
            async def __aenter__(self):
                response = await inner.__aenter__()
                entry = {"status": response.status, "text": None}
                captured.append(entry)
                text = response.text

                async def keep_text(*a, **k):
                    entry["text"] = await text(*a, **k)
                    return entry["text"]

                response.text = keep_text
                return response

            async def __aexit__(self, *exc):
                return await inner.__aexit__(*exc)

        return Context()


async def control_webfinger(body):
    resource = body.get("resource") or body.get("actor")
    if not resource:
        raise ValueError("resource missing")
    if resource.startswith("acct:"):
        host = resource.rsplit("@", 1)[1]
    else:
        host = resource.split("/")[2]
    # bovine looks up https://host unless the domain carries a scheme; the
    # loopback peers speak plain http.
    session = CapturingSession(app.config["session"])
    actor_id, _ = await bovine.clients.lookup_uri_with_webfinger(
        session, resource, domain=f"http://{host}"
    )
    jrd = None
    if session.captured and session.captured[-1]["text"]:
        jrd = json.loads(session.captured[-1]["text"])
    if actor_id is None:
        raise RuntimeError(f"bovine's WebFinger lookup of {resource} found no actor: {session.captured}")
    return jrd


async def control_lookup(body):
    url = body["actor"]
    data = await fetch_actor(url)
    public_key = data.get("publicKey")
    if isinstance(public_key, list):
        public_key = public_key[0] if public_key else None
    return {
        "id": data.get("id"),
        "type": data.get("type"),
        "preferredUsername": data.get("preferredUsername"),
        "name": data.get("name"),
        "inbox": data.get("inbox"),
        "outbox": data.get("outbox"),
        "publicKeyId": id_for_object(public_key) if public_key else None,
        "publicKeyOwner": public_key.get("owner") if isinstance(public_key, dict) else None,
    }


async def control_follow(body):
    target = body["actor"]
    await fetch_actor(target)
    activity = ActivityFactory(state["info"]).follow(target).build()
    item, collected = await run_outbox(activity)
    check_delivered(collected, target)
    follows[target] = item.data
    return {"id": item.data["id"], "deliveries": collected}


async def control_unfollow(body):
    target = body["actor"]
    follow = follows.get(target)
    if follow is None:
        raise RuntimeError(f"alice never followed {target}")
    activity = ActivityFactory(state["info"]).undo(
        strip_follow(follow), include_activity=True
    ).build()
    activity["to"] = [target]
    item, collected = await run_outbox(activity)
    check_delivered(collected, target)
    return {"id": item.data["id"], "deliveries": collected}


async def control_create(body):
    target = body["to"]
    object_type = body.get("type", "Note")
    objects = ObjectFactory(actor_information=state["info"])
    kwargs = dict(
        content=body["content"],
        to={PUBLIC},
        cc={state["info"]["followers"], target},
    )
    if body.get("name"):
        kwargs["name"] = body["name"]
    if body.get("inReplyTo"):
        kwargs["in_reply_to"] = body["inReplyTo"]
    if object_type == "Article":
        obj = objects.article(**kwargs).build()
    elif object_type == "Note":
        obj = objects.note(**kwargs).build()
    else:
        raise ValueError(f"unsupported type {object_type}")
    activity = ActivityFactory(state["info"]).create(obj).build()
    item, collected = await run_outbox(activity)
    check_delivered(collected, target)
    return {
        "id": id_for_object(item.data["object"]),
        "activity": item.data["id"],
        "deliveries": collected,
    }


async def own_object(object_id: str) -> dict:
    stored = await alice().retrieve(object_id, only_own=True)
    if stored is None:
        raise RuntimeError(f"alice has no object {object_id}")
    return stored


def addressing(obj: dict) -> dict:
    def as_set(value):
        if value is None:
            return set()
        if isinstance(value, str):
            return {value}
        return {id_for_object(x) for x in value}

    return {"to": as_set(obj.get("to")), "cc": as_set(obj.get("cc"))}


async def control_update(body):
    stored = await own_object(body["id"])
    obj = with_activitystreams_context(stored)
    obj.pop("@context", None)
    obj["content"] = body["content"]
    obj["updated"] = now_isoformat()
    activity = ActivityFactory(state["info"]).update(obj).build()
    item, collected = await run_outbox(activity)
    check_delivered(collected, body["id"])
    return {"id": item.data["id"], "deliveries": collected}


async def control_delete(body):
    stored = await own_object(body["id"])
    activity = ActivityFactory(state["info"]).delete(body["id"], **addressing(stored)).build()
    item, collected = await run_outbox(activity)
    check_delivered(collected, body["id"])
    return {"id": item.data["id"], "deliveries": collected}


async def control_followers(body):
    actor = alice()
    followers = await actor.resolve_endpoints([actor.actor_object.followers])
    return sorted(followers)


async def control_following(body):
    actor = alice()
    following = await actor.resolve_endpoints([actor.actor_object.following])
    return sorted(following)


async def control_whoami(body):
    actor = alice()
    return {
        "actor": actor.actor_id,
        "handle": f"alice@{HOST}",
        "inbox": actor.actor_object.inbox,
        "outbox": actor.actor_object.outbox,
        "followers": actor.actor_object.followers,
        "publicKeyId": state["info"]["publicKey"]["id"],
    }


CONTROL = {
    "whoami": control_whoami,
    "webfinger": control_webfinger,
    "lookup": control_lookup,
    "follow": control_follow,
    "unfollow": control_unfollow,
    "create": control_create,
    "update": control_update,
    "delete": control_delete,
    "received": lambda body: _value(received),
    "inbox": lambda body: _value(inbox_log),
    "requests": lambda body: _value(requests_log),
    "followers": control_followers,
    "following": control_following,
}


async def _value(value):
    return value


@app.post("/_test/<name>")
async def control(name):
    handler = CONTROL.get(name)
    if handler is None:
        return jsonify({"error": f"unknown control endpoint {name}"}), 404
    try:
        raw = await request.get_data()
        body = json.loads(raw) if raw.strip() else {}
        result = await handler(body)
        return jsonify(result), 200
    except Exception as error:
        logger.error("/_test/%s failed:\n%s", name, traceback.format_exc())
        return jsonify({"error": f"{type(error).__name__}: {error}"}), 500


async def announce_ready():
    """Prints READY once bovine-herd answers (WebFinger for alice)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(
                    f"{BASE}/.well-known/webfinger",
                    params={"resource": f"acct:alice@{HOST}"},
                ) as response:
                    if response.status == 200:
                        print(f"READY {BASE}", flush=True)
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    logger.error("bovine-herd did not answer")
    os._exit(1)


async def main():
    config = Config()
    config.bind = [f"fd://{listener.fileno()}"]
    config.accesslog = logging.getLogger("hypercorn.access")
    config.errorlog = logging.getLogger("hypercorn.error")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    ready = asyncio.create_task(announce_ready())
    await server
    ready.cancel()


if __name__ == "__main__":
    asyncio.run(main())
