// A loopback ActivityPub peer built on Fedify (software nobody on the
// Allmende team wrote), for the interop test in tests/tests/interop.rs.
//
// It serves WebFinger and one actor, `alice`, accepts follows, and on
// request looks up, follows, unfollows and writes to an Allmende actor:
// the control API of interop/README.md, under /_test/, plus `sign` and
// `inbox` (the signature checks below). It prints `READY <base URL>` once
// it listens.
//
// Every POST to an inbox is checked twice: by the harness itself with
// Fedify's `verifyRequestDetailed` (draft-cavage, fetching the signer's
// key), whose result it records per request (`/_test/inbox`: key id,
// verified or why not, and the status Fedify answered), and then by
// Fedify's own inbox, which refuses what does not verify. So the test sees
// which check was made and what it found, including for the tampered
// requests it sends as a negative control.

import http from "node:http";
import { Temporal } from "@js-temporal/polyfill";
import { randomUUID } from "node:crypto";
import {
  createFederation,
  generateCryptoKeyPair,
  MemoryKvStore,
  signRequest,
  verifyRequestDetailed,
} from "@fedify/fedify";
import { lookupWebFinger } from "@fedify/webfinger";
import {
  Accept,
  Article,
  Create,
  Delete,
  Endpoints,
  Follow,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Undo,
  Update,
  Announce,
} from "@fedify/vocab";

const federation = createFederation({
  kv: new MemoryKvStore(),
  // Loopback addresses are private; allowed for this test peer only.
  allowPrivateAddress: true,
  // Fedify's default: RFC 9421 first, draft-cavage if refused.
  firstKnock: "rfc9421",
});

// An RSA key (publicKey, HTTP signatures) and an Ed25519 key (a Multikey
// in assertionMethod, FEP-521a).
const keyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const edKeyPair = await generateCryptoKeyPair("Ed25519");
// Activities handed to the listeners (only verified ones reach them).
const received = [];
// One entry per POST to an inbox: the harness's own signature check.
const inboxChecks = [];
// The JSON of every POST to an inbox, by activity id: `received` lists
// activities as they arrived, not as Fedify re-serialises them.
const rawById = new Map();
// Alice's followers (actor ids), her follows (target id -> Follow id) and
// her objects (id -> { json, to }).
const followers = new Set();
const follows = new Map();
const objects = new Map();

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "alice") return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice (Fedify)",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) =>
    identifier === "alice" ? [keyPair, edKeyPair] : []
  );

async function record(ctx, activity) {
  const object = await activity.getObject(ctx).catch(() => null);
  const objectJson = object && typeof object.toJsonLd === "function"
    ? await object.toJsonLd({ format: "compact" })
    : null;
  const id = activity.id?.href ?? null;
  received.push({
    ...(rawById.get(id) ?? {}),
    type: activity.constructor.name,
    id,
    actor: activity.actorId?.href ?? null,
    objectType: objectJson?.type ?? null,
    objectId: object?.id?.href ?? null,
    objectName: objectJson?.name ?? null,
  });
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  // Fetch signers' keys signed as alice (needed for authorized fetch).
  .setSharedKeyDispatcher(() => ({ identifier: "alice" }))
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    const follower = await follow.getActor(ctx);
    if (follower == null) return;
    followers.add(follower.id.href);
    await ctx.sendActivity(
      { identifier: "alice" },
      follower,
      new Accept({
        id: new URL(`/accepts/${randomUUID()}`, ctx.origin),
        actor: ctx.getActorUri("alice"),
        object: follow,
      }),
    );
  })
  .on(Accept, record)
  // A group's Announce (FEP-1b12) of a member's activity.
  .on(Announce, record)
  .on(Create, record)
  .on(Update, record)
  .on(Delete, record)
  .on(Undo, async (ctx, undo) => {
    await record(ctx, undo);
    const object = await undo.getObject(ctx).catch(() => null);
    if (object instanceof Follow) followers.delete(undo.actorId?.href);
  });

let origin;

// Verifies a request's HTTP signature (and digest) as Fedify does, and
// describes the result.
async function checkSignature(request, body) {
  const ctx = federation.createContext(new URL(origin), undefined);
  let activityId = null;
  try {
    activityId = JSON.parse(body.toString("utf8"))?.id ?? null;
  } catch {
    // not JSON: the check still runs
  }
  // Keys are fetched with signed requests (as the inbox does with its
  // shared key dispatcher below): Allmende may run in authorized-fetch
  // mode, where unsigned fetches of actor documents are refused.
  const spec = request.headers.has("signature-input") ? "rfc9421" : "draft-cavage";
  const result = await verifyRequestDetailed(request, {
    documentLoader: await ctx.getDocumentLoader({ identifier: "alice" }),
    contextLoader: ctx.contextLoader,
  });
  return result.verified
    ? { activityId, spec, verified: true, keyId: result.key.id?.href ?? null, reason: null }
    : {
      activityId,
      spec,
      verified: false,
      keyId: result.reason.keyId?.href ?? null,
      reason: result.reason.type,
    };
}

async function controlRequest(path, body) {
  const ctx = federation.createContext(new URL(origin), undefined);
  const alice = ctx.getActorUri("alice");
  // Fetches signed as alice ("authorized fetch").
  const documentLoader = await ctx.getDocumentLoader({ identifier: "alice" });
  const lookup = async () => {
    const actor = await ctx.lookupObject(body.actor, { documentLoader });
    if (actor == null) throw new Error(`could not fetch ${body.actor}`);
    return actor;
  };
  switch (path) {
    case "/_test/sign": {
      // A POST of body.body to body.url signed by Fedify per RFC 9421, as
      // alice, with her RSA key (Fedify signs HTTP requests with RSA only;
      // her Ed25519 key is for object proofs): the headers to send.
      const [pair] = await ctx.getActorKeyPairs("alice");
      const keyId = pair.keyId;
      const request = new Request(body.url, {
        method: "POST",
        headers: { "Content-Type": "application/activity+json" },
        body: body.body,
      });
      const signed = await signRequest(request, pair.privateKey, keyId, { spec: "rfc9421" });
      return { keyId: keyId.href, headers: Object.fromEntries(signed.headers) };
    }
    case "/_test/whoami":
      return {
        actor: alice.href,
        handle: `alice@${new URL(origin).host}`,
        inbox: ctx.getInboxUri("alice").href,
      };
    case "/_test/received":
      return received;
    case "/_test/followers":
      return [...followers];
    case "/_test/inbox":
      return inboxChecks;
    case "/_test/webfinger": {
      // acct: lookups go to https; the loopback peer is http, so the
      // resource is the actor URL (answered by the same endpoint).
      // `resource` of the control API is an acct: URI; Fedify would look
      // it up over https, so the actor URL beside it is used.
      const jrd = await lookupWebFinger(body.actor, { allowPrivateAddress: true });
      return jrd;
    }
    case "/_test/lookup": {
      const actor = await lookup();
      const key = await actor.getPublicKey({ documentLoader });
      const multikeys = [];
      for await (const m of actor.getAssertionMethods({ documentLoader })) {
        multikeys.push({ id: m.id?.href ?? null, algorithm: m.publicKey?.algorithm?.name ?? null });
      }
      return {
        assertionMethods: multikeys,
        id: actor.id?.href,
        type: actor.constructor.name,
        preferredUsername: actor.preferredUsername?.toString(),
        name: actor.name?.toString(),
        inbox: actor.inboxId?.href,
        sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
        publicKeyId: key?.id?.href ?? null,
        publicKeyOwner: key?.ownerId?.href ?? null,
      };
    }
    case "/_test/follow": {
      const actor = await lookup();
      const id = new URL(`/follows/${randomUUID()}`, origin);
      follows.set(actor.id.href, id);
      await ctx.sendActivity(
        { identifier: "alice" },
        actor,
        new Follow({ id, actor: alice, object: actor.id }),
      );
      return { id: id.href };
    }
    case "/_test/unfollow": {
      const actor = await lookup();
      const followId = follows.get(actor.id.href);
      if (followId == null) throw new Error("alice does not follow that actor");
      follows.delete(actor.id.href);
      const id = new URL(`/undos/${randomUUID()}`, origin);
      await ctx.sendActivity(
        { identifier: "alice" },
        actor,
        new Undo({
          id,
          actor: alice,
          object: new Follow({ id: followId, actor: alice, object: actor.id }),
        }),
      );
      return { id: id.href };
    }
    case "/_test/create": {
      body.actor ??= body.to;
      const actor = await lookup();
      const id = new URL(`/notes/${randomUUID()}`, origin);
      const fields = {
        id,
        attribution: alice,
        name: body.name ?? undefined,
        content: body.content,
        replyTarget: body.inReplyTo ? new URL(body.inReplyTo) : undefined,
        to: PUBLIC_COLLECTION,
        ccs: [actor.id],
        published: Temporal.Now.instant(),
      };
      const Type = body.type === "Article" ? Article : Note;
      objects.set(id.href, { Type, fields, actor });
      const activity = new Create({
        id: new URL(`/creates/${randomUUID()}`, origin),
        actor: alice,
        object: new Type(fields),
        to: PUBLIC_COLLECTION,
        ccs: [actor.id],
      });
      await ctx.sendActivity({ identifier: "alice" }, actor, activity);
      return { id: id.href, activity: activity.id.href };
    }
    case "/_test/update": {
      const kept = objects.get(body.id);
      if (kept == null) throw new Error("no such object");
      kept.fields = { ...kept.fields, content: body.content, updated: Temporal.Now.instant() };
      const activity = new Update({
        id: new URL(`/updates/${randomUUID()}`, origin),
        actor: alice,
        object: new kept.Type(kept.fields),
        to: PUBLIC_COLLECTION,
        ccs: [kept.actor.id],
      });
      await ctx.sendActivity({ identifier: "alice" }, kept.actor, activity);
      return { id: activity.id.href };
    }
    case "/_test/delete": {
      const kept = objects.get(body.id);
      if (kept == null) throw new Error("no such object");
      objects.delete(body.id);
      const activity = new Delete({
        id: new URL(`/deletes/${randomUUID()}`, origin),
        actor: alice,
        object: new URL(body.id),
        to: PUBLIC_COLLECTION,
        ccs: [kept.actor.id],
      });
      await ctx.sendActivity({ identifier: "alice" }, kept.actor, activity);
      return { id: activity.id.href };
    }
    default:
      return undefined;
  }
}

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, origin);
    if (url.pathname.startsWith("/_test/")) {
      const input = body.length ? JSON.parse(body.toString("utf8")) : {};
      const result = await controlRequest(url.pathname, input);
      res.writeHead(result === undefined ? 404 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify(result ?? { error: "unknown" }));
      return;
    }
    const request = new Request(url, {
      method: req.method,
      headers: Object.entries(req.headers).flatMap(([k, v]) =>
        Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]
      ),
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
    });
    const isInbox = req.method === "POST" && /\/inbox$/.test(url.pathname);
    if (isInbox) {
      try {
        const raw = JSON.parse(body.toString("utf8"));
        if (typeof raw?.id === "string") rawById.set(raw.id, raw);
      } catch {
        // not JSON: Fedify refuses it
      }
    }
    const check = isInbox ? await checkSignature(request.clone(), body) : null;
    const response = await federation.fetch(request, { contextData: undefined });
    if (check) {
      check.status = response.status;
      inboxChecks.push(check);
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(error?.stack ?? error) }));
  }
});

server.listen(0, "127.0.0.1", () => {
  origin = `http://localhost:${server.address().port}`;
  console.log(`READY ${origin}`);
});
