// A loopback ActivityPub peer built on @evanp/activitypub-bot (software
// nobody on the Allmende team wrote), for the interop tests in
// tests/tests/interop. It serves the control API of interop/README.md
// beside the bot server's own routes and prints `READY <base URL>` once it
// listens.
//
// Run it with the Node this package installs (the bot needs Node >= 22):
//   node_modules/.bin/node harness.mjs
//
// The bot server runs in-process (`makeApp`, the package's own entry point)
// on an in-memory SQLite database, with one bot, `alice`, whose context
// (BotContext) does all sending: followActor, unfollowActor, sendNote,
// updateNote, deleteNote; an Article (no call for it in the framework) is
// stored and sent through the context's `doActivity`, which is the
// framework's own delivery. Follows of alice are accepted by the framework's
// default handling.
//
// What reached alice is recorded where the framework hands an activity to
// her (`deliverer.deliverTo`): after its own signature check (a badly
// signed POST is answered 401, one with no signature at all 500), and, for
// the shared inbox, after it dispatched the activity by its addressing —
// an activity whose `to`/`cc` do not lead to alice never reaches her, so it
// is not listed. Each is listed as the JSON that was POSTed. `/_test/inbox` lists
// every POST to an inbox with the signature scheme and the framework's
// answer, `/_test/sent` every request the framework sent with the scheme it
// signed with, the body and the answer it got (so the RFC 9421 first knock,
// and its draft-cavage retry, can be seen).
//
// activitystrea.ms: the bot wants ^4, which the npm registry reachable here
// does not have (its newest there is 3.1.0); package.json overrides it to
// 3.1.0, and `patchActivityStreams` below adds what 3.2.0–4.0.0 changed that
// the bot relies on: `registerContext` and a document loader that sees the
// registered contexts, the original context on export, `isActivity()`, and
// dates as Date objects. (With these, the bot's own test suite at 0.51.2
// passes on 3.1.0.)

import http from 'node:http'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'

const require = createRequire(import.meta.url)

const AS = 'https://www.w3.org/ns/activitystreams#'
const PUBLIC = `${AS}Public`

// ---------------------------------------------------------------------------
// activitystrea.ms 3.1.0 → what the bot expects of 4.x

function patchActivityStreams () {
  const { version } = require('activitystrea.ms/package.json')
  if (!version.startsWith('3.')) return // a real 4.x: nothing to add
  // 3.2.0 (with registerContext below): before the library's main module
  // loads, since its JSON-LD instance takes a document loader from a Loader
  // of its own at load time, registered contexts must be visible to every
  // Loader's document loader.
  const Loader = require('activitystrea.ms/src/contextloader.js')
  const makeDocLoader = Loader.prototype.makeDocLoader
  Loader.prototype.makeDocLoader = function () {
    const own = makeDocLoader.call(this)
    return async (url) => {
      const registered = Loader.defaultInstance.get(url)
      return registered
        ? { contextUrl: null, document: registered, documentUrl: url }
        : own(url)
    }
  }
  // 3.2.0: `export({ useOriginalContext: true })` reads the environment's
  // original context under the name 3.1.0 gets wrong (`origContext`);
  // without it every document is compacted against the ActivityStreams
  // context alone (alice's `publicKey` comes out as a full IRI).
  const Environment = require('activitystrea.ms/src/environment.js')
  if (!('origContext' in Environment.prototype)) {
    Object.defineProperty(Environment.prototype, 'origContext', {
      get () { return this.originalContext }
    })
  }
  const as2 = require('activitystrea.ms')
  // 3.2.0: register a context document from client code.
  as2.registerContext = (url, context) => {
    Loader.defaultInstance.register(url, context)
  }
  // 3.3.0: is this object an activity? (known activity type, else one of
  // the activity properties)
  const activityTypes = new Set([
    'Activity', 'IntransitiveActivity', 'Accept', 'Add', 'Announce', 'Arrive',
    'Block', 'Create', 'Delete', 'Dislike', 'Flag', 'Follow', 'Ignore',
    'Invite', 'Join', 'Leave', 'Like', 'Listen', 'Move', 'Offer', 'Question',
    'Reject', 'Read', 'Remove', 'TentativeReject', 'TentativeAccept',
    'Travel', 'Undo', 'Update', 'View'
  ].map((t) => AS + t))
  const activityProps = ['actor', 'object', 'target', 'result', 'origin', 'instrument']
  // 4.0.0: date-valued properties (published, updated, deleted, ...) are
  // plain Dates, not moment objects. It shows on the wire: an object that
  // the bot embeds in an activity (the Tombstone of a Delete) is copied
  // with its enumerable properties, and a moment object copies as some
  // hundred of moment's own fields.
  const moment = createRequire(require.resolve('activitystrea.ms'))('moment')
  const get = as2.models.Base.prototype.get
  Object.defineProperty(as2.models.Base.prototype, 'get', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function (key) {
      const value = get.call(this, key)
      return moment.isMoment(value) ? value.toDate() : value
    }
  })
  // A method as a class declares it: not enumerable (an object embedded in
  // JSON that is imported again must not carry it as a property).
  Object.defineProperty(as2.models.Base.prototype, 'isActivity', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function isActivity () {
      const types = [].concat(this.type ?? [])
      if (types.some((t) => activityTypes.has(t))) return true
      return activityProps.some((p) => this.has(p))
    }
  })
}

patchActivityStreams()

const as2 = require('activitystrea.ms')
const { makeApp, Bot } = await import('@evanp/activitypub-bot')
const { SafeFetcher } = await import('@evanp/activitypub-bot/lib/safefetcher.js')

// ---------------------------------------------------------------------------
// What went in and out

// Every request the framework sends (its SafeFetcher is its only HTTP
// client): method, URL, signature scheme, answer.
const sent = []
const fetchOriginal = SafeFetcher.prototype.fetch
SafeFetcher.prototype.fetch = async function (url, options = {}) {
  const headers = options.headers ?? {}
  const has = (name) => Object.keys(headers).some((k) => k.toLowerCase() === name)
  const entry = {
    method: options.method ?? 'GET',
    url: String(url),
    spec: has('signature-input') ? 'rfc9421' : has('signature') ? 'draft-cavage' : null,
    activityId: null,
    activityType: null,
    body: null,
    status: null,
    error: null
  }
  if (typeof options.body === 'string') {
    try {
      entry.body = JSON.parse(options.body)
      entry.activityId = entry.body.id ?? null
      entry.activityType = entry.body.type ?? null
    } catch {
      // not JSON
    }
  }
  sent.push(entry)
  try {
    const res = await fetchOriginal.call(this, url, options)
    entry.status = res.status
    return res
  } catch (err) {
    entry.error = String(err?.message ?? err)
    throw err
  }
}

// Every POST to one of alice's inboxes, and the activities accepted.
const inboxChecks = []
const received = []
// The JSON of every POST an inbox route accepted, by activity id.
const rawById = new Map()

// ---------------------------------------------------------------------------
// The bot

// The framework's base Bot: its default handling accepts every Follow.
const alice = new Bot('alice', {
  fullname: 'Alice (activitypub-bot)',
  description: 'Interop test peer'
})

// The port first: the bot server builds its ids from the origin.
const server = http.createServer((req, res) => handle(req, res))
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://localhost:${server.address().port}`
const host = new URL(origin).host

const app = await makeApp({
  databaseUrl: 'sqlite::memory:',
  origin,
  bots: { alice },
  logLevel: process.env.LOG_LEVEL ?? 'warn',
  deliveryWorkerCount: 2,
  distributionWorkerCount: 2,
  fanoutWorkerCount: 2,
  intakeWorkerCount: 2,
  // Loopback peers: the framework refuses private addresses otherwise.
  allowPrivateNetworkRequests: true
})

const ctx = alice._context
const { actorStorage, objectStorage, domainBlocker, deliverer } = app.locals
const deliverTo = deliverer.deliverTo.bind(deliverer)
deliverer.deliverTo = async (activity, bot) => {
  if (bot.username === 'alice') {
    // The POSTed JSON is looked up when listed: a POST to alice's own
    // inbox is handed to her before its response (and this record) is done.
    received.push({ id: activity.id, exported: await activity.export({ useOriginalContext: true }) })
  }
  return await deliverTo(activity, bot)
}
// The framework's HTTP client, for WebFinger (its own WebFinger calls,
// `toActorId`, only speak https).
const fetcher = new SafeFetcher(domainBlocker, { allowPrivate: true })

const INBOXES = new Set(['/user/alice/inbox', '/shared/inbox'])

function handle (req, res) {
  const url = new URL(req.url, origin)
  if (url.pathname.startsWith('/_test/')) {
    control(req, res, url.pathname.slice('/_test/'.length))
    return
  }
  if (req.method === 'POST' && INBOXES.has(url.pathname)) {
    res.on('finish', () => {
      // The bot server's JSON parser keeps the raw body (`rawBodyText`).
      let activity = null
      try {
        activity = JSON.parse(req.rawBodyText)
      } catch {
        // not JSON
      }
      const ok = res.statusCode >= 200 && res.statusCode < 300
      inboxChecks.push({
        path: url.pathname,
        activityId: activity?.id ?? null,
        type: activity?.type ?? null,
        spec: req.headers['signature-input']
          ? 'rfc9421'
          : req.headers.signature ? 'draft-cavage' : null,
        status: res.statusCode
      })
      if (ok && typeof activity?.id === 'string') rawById.set(activity.id, activity)
    })
  }
  app(req, res)
}

// ---------------------------------------------------------------------------
// The control API

function stripTags (html) {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0*39;|&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .trim()
}

const first = (values) => (values ? Array.from(values)[0] : undefined)
const short = (type) => (typeof type === 'string' && type.startsWith(AS) ? type.slice(AS.length) : type)

async function remoteActor (id) {
  if (!id) throw new Error('actor is required')
  const actor = await ctx.getObject(id)
  if (!actor) throw new Error(`could not fetch ${id}`)
  return actor
}

// The newest activity in alice's outbox of `type` whose object is `objectId`.
async function fromOutbox (type, objectId) {
  for await (const item of actorStorage.items('alice', 'outbox')) {
    const activity = await objectStorage.read(item.id)
    if (activity.type === AS + type && first(activity.object)?.id === objectId) {
      return activity
    }
  }
  throw new Error(`no ${type} of ${objectId} in alice's outbox`)
}

function newId (type) {
  // The framework's id shape, /user/alice/<type>/<21 characters>.
  const nanoid = randomBytes(16).toString('base64url').slice(0, 21)
  return `${origin}/user/alice/${type}/${nanoid}`
}

const handlers = {
  async whoami () {
    return { actor: ctx.botActorId, handle: `alice@${host}`, inbox: `${origin}/user/alice/inbox` }
  },

  async webfinger ({ resource }) {
    const [, domain] = String(resource).replace(/^acct:/, '').split('@')
    const res = await fetcher.fetch(
      `http://${domain}/.well-known/webfinger?resource=${encodeURIComponent(resource)}`,
      { headers: { accept: 'application/jrd+json' } }
    )
    if (res.status !== 200) throw new Error(`WebFinger: ${res.status} ${await res.text()}`)
    return await res.json()
  },

  async lookup ({ actor: id }) {
    const actor = await remoteActor(id)
    const json = await actor.export({ useOriginalContext: true })
    const key = [].concat(json.publicKey ?? [])[0]
    return {
      id: actor.id,
      type: short(actor.type),
      preferredUsername: json.preferredUsername ?? null,
      inbox: first(actor.inbox)?.id ?? json.inbox ?? null,
      publicKeyId: (typeof key === 'string' ? key : key?.id) ?? null
    }
  },

  async follow ({ actor: id }) {
    const activity = await ctx.followActor(await remoteActor(id))
    return { id: activity.id }
  },

  async unfollow ({ actor: id }) {
    const activity = await ctx.unfollowActor(await remoteActor(id))
    return { id: activity.id }
  },

  async create ({ to, type = 'Note', content, name, inReplyTo }) {
    if (!to) throw new Error('to is required')
    const cc = [ctx.getFollowersId(), to]
    if (type === 'Note' && name == null) {
      // sendNote takes text, and makes HTML of it (escaped, in a <p>).
      const note = await ctx.sendNote(stripTags(content), { to: PUBLIC, cc, inReplyTo })
      const activity = await fromOutbox('Create', note.id)
      return { id: note.id, activity: activity.id }
    }
    // No call for an Article (or a named Note): stored as sendNote stores
    // its Note, and sent through the context's doActivity.
    const id = newId(type.toLowerCase())
    const object = await as2.import({
      '@context': 'https://www.w3.org/ns/activitystreams',
      id,
      type,
      name,
      content,
      inReplyTo,
      to: PUBLIC,
      cc,
      published: new Date().toISOString(),
      attributedTo: ctx.botActorId
    })
    await objectStorage.create(object)
    const activity = await ctx.doActivity({
      '@context': 'https://www.w3.org/ns/activitystreams',
      type: 'Create',
      to: PUBLIC,
      cc,
      object
    })
    return { id, activity: activity.id }
  },

  async update ({ id, content }) {
    const object = await ctx.getObject(id)
    await ctx.updateNote(object, content)
    const activity = await fromOutbox('Update', id)
    return { id: activity.id }
  },

  async delete ({ id }) {
    const object = await ctx.getObject(id)
    const activity = await ctx.deleteNote(object)
    return { id: activity.id }
  },

  async received () {
    return received.map(({ id, exported }) => rawById.get(id) ?? exported)
  },

  async inbox () {
    return inboxChecks
  },

  async sent () {
    return sent
  },

  async followers () {
    const ids = []
    for await (const actor of ctx.followers()) ids.push(actor.id)
    return ids
  },

  async following () {
    const ids = []
    for await (const actor of ctx.following()) ids.push(actor.id)
    return ids
  },

  // Waits until the framework's queues are empty (everything sent).
  async idle () {
    await app.onIdle()
    return {}
  }
}

function control (req, res, name) {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', async () => {
    let status = 200
    let result
    try {
      const handler = Object.hasOwn(handlers, name) ? handlers[name] : null
      if (!handler) {
        status = 404
        result = { error: `no control endpoint ${name}` }
      } else {
        const text = Buffer.concat(chunks).toString('utf8')
        result = await handler(text ? JSON.parse(text) : {})
      }
    } catch (err) {
      status = 500
      result = { error: String(err?.stack ?? err) }
    }
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(result))
  })
}

async function stop () {
  server.close()
  await app.cleanup().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

console.log(`READY ${origin}`)
