// A loopback ActivityPub peer built on Fedify (software nobody on the
// Allmende team wrote), for the interop test in tests/tests/interop.rs.
//
// It serves WebFinger and one actor, `alice`, accepts follows, and on
// request looks up, follows and writes to an Allmende actor. Control
// endpoints under /_test/ report what it saw. It prints `READY <base URL>`
// once it listens.
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
  received.push({
    type: activity.constructor.name,
    id: activity.id?.href ?? null,
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
  .on(Create, record)
  .on(Update, record)
  .on(Delete, record)
  .on(Undo, record);

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
    case "/_test/received":
      return received;
    case "/_test/inbox":
      return inboxChecks;
    case "/_test/webfinger": {
      // acct: lookups go to https; the loopback peer is http, so the
      // resource is the actor URL (answered by the same endpoint).
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
      await ctx.sendActivity(
        { identifier: "alice" },
        actor,
        new Follow({
          id: new URL(`/follows/${randomUUID()}`, origin),
          actor: alice,
          object: actor.id,
        }),
      );
      return { sent: true };
    }
    case "/_test/create": {
      const actor = await lookup();
      const id = new URL(`/notes/${randomUUID()}`, origin);
      const Type = body.type === "Article" ? Article : Note;
      const object = new Type({
        id,
        attribution: alice,
        name: body.type === "Article" ? body.name : undefined,
        content: body.content,
        to: PUBLIC_COLLECTION,
        ccs: [actor.id],
        published: Temporal.Now.instant(),
      });
      await ctx.sendActivity(
        { identifier: "alice" },
        actor,
        new Create({
          id: new URL(`/creates/${randomUUID()}`, origin),
          actor: alice,
          object,
          to: PUBLIC_COLLECTION,
          ccs: [actor.id],
        }),
      );
      return { id: id.href };
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
