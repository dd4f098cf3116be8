// Starts a real Bluesky network (PLC, PDS, AppView) from @atproto/dev-env on free ports, creates
// the brand account (with an app password) and a fan account whose post mentions the brand
// (with the mention facet), then prints one JSON line with the URLs, accounts and post.
// Then it waits: a line "sync" on stdin makes the AppView index everything (answered "synced");
// end of stdin or SIGTERM closes the network.
import { createInterface } from 'node:readline'
import { TestNetwork } from '@atproto/dev-env'

const letters = () => Array.from({ length: 10 }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(Math.random() * 26)]).join('')
// Schema names must be letters and underscores only (bsync prefixes its own).
const network = await TestNetwork.create({ dbPostgresSchema: `earshot_${letters()}` })
const pds = network.pds.url

async function xrpc(nsid, body, token) {
  const response = await fetch(`${pds}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  const json = await response.json()
  if (!response.ok) throw new Error(`${nsid}: ${response.status} ${JSON.stringify(json)}`)
  return json
}

async function account(handle) {
  return xrpc('com.atproto.server.createAccount', { handle, email: `${handle}@example.com`, password: 'hunter2-password' })
}

const brand = await account('acmebrand.test')
const fan = await account('coffeefan.test')
const appPassword = await xrpc('com.atproto.server.createAppPassword', { name: 'earshot' }, brand.accessJwt)

const text = `@${brand.handle} my AcmeBrand lid leaks again`
const mentionEnd = Buffer.byteLength(`@${brand.handle}`)
const post = await xrpc('com.atproto.repo.createRecord', {
  repo: fan.did,
  collection: 'app.bsky.feed.post',
  record: {
    $type: 'app.bsky.feed.post',
    text,
    createdAt: new Date().toISOString(),
    facets: [{ index: { byteStart: 0, byteEnd: mentionEnd }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: brand.did }] }],
  },
}, fan.accessJwt)
await network.processAll()

console.log(JSON.stringify({
  pds,
  brand: { handle: brand.handle, did: brand.did, appPassword: appPassword.password },
  fan: { handle: fan.handle, did: fan.did },
  post: { uri: post.uri, cid: post.cid, text },
}))

let closing = false
async function close() {
  if (closing) return
  closing = true
  await network.close()
  process.exit(0)
}
process.on('SIGTERM', close)
process.on('SIGINT', close)
const lines = createInterface({ input: process.stdin })
lines.on('line', async (line) => {
  if (line.trim() === 'sync') {
    await network.processAll()
    console.log('synced')
  }
})
lines.on('close', close)
