// Real-client checks against a running gateway (GATEWAY_URL, JWT_SECRET from the environment):
// the graphql-http server audit, then a graphql-ws subscription that must see a client's own
// new interaction, and a bad token that must be refused with 4403.
import { createHmac } from 'node:crypto';
import { buildClientSchema, getIntrospectionQuery } from 'graphql';
import { serverAudits } from 'graphql-http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8000';
const secret = process.env.JWT_SECRET;
if (!secret) throw new Error('JWT_SECRET is required');
let failures = 0;
const fail = (what) => { failures++; console.log(`FAIL ${what}`); };
const pass = (what) => console.log(`ok   ${what}`);

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
function token(role, sub) {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: String(sub), role, iat: now, exp: now + 600 })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
async function gql(query, bearer) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return res.json();
}

for (const audit of serverAudits({ url: `${base}/graphql` })) {
  const result = await audit.fn();
  if (result.status === 'ok') continue;
  if (result.status === 'error' || audit.name.startsWith('MUST')) fail(`${audit.name}: ${result.reason}`);
  else console.log(`warn ${audit.name}: ${result.reason}`);
}
pass('graphql-http audit');

// GraphiQL and code generators start with the full introspection query; it must work for every
// caller, and an anonymous caller's schema must still build.
const introspection = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
for (const [who, bearer] of [['anonymous', null], ['manager', token('manager', 1)]]) {
  const result = await gql(introspection, bearer);
  try {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    const schema = buildClientSchema(result.data);
    pass(`full introspection builds a client schema for ${who} (${Object.keys(schema.getTypeMap()).length} types)`);
  } catch (e) {
    fail(`introspection for ${who}: ${e.message}`);
  }
}

const manager = token('manager', 1);
const found = await gql('{ customers(filter: {search: "olivia.hart@brightpaws"}) { edges { node { id } } } departments { edges { node { id name } } } }', manager);
// A token names its subject by row number; the schema's ids are Relay global ids (base64 of
// "Customer:7").
const clientId = Buffer.from(found.data.customers.edges[0].node.id, 'base64').toString('utf8').split(':')[1];
const care = found.data.departments.edges.find((e) => e.node.name === 'Customer Care').node.id;
const client = token('client', clientId);

const ws = createClient({ url: `${base.replace('http', 'ws')}/graphql/ws`, webSocketImpl: WebSocket, retryAttempts: 0,
  connectionParams: { Authorization: `Bearer ${client}` } });
const event = new Promise((resolve, reject) => {
  ws.subscribe({ query: 'subscription { interactionChanged { change interaction { subject customer { id } } } }' },
    { next: resolve, error: reject, complete: () => reject(new Error('completed early')) });
});
await new Promise((r) => setTimeout(r, 500));
await gql(`mutation { openInteraction(input: {departmentId: "${care}", channel: CHAT, kind: INQUIRY, subject: "Real client", summary: "Hello"}) { id } }`, client);
const got = await Promise.race([event, new Promise((_, reject) => setTimeout(() => reject(new Error('no event within 10 s')), 10000))]).catch((e) => e);
if (got instanceof Error) fail(`graphql-ws subscription: ${got.message}`);
else if (got.data?.interactionChanged?.interaction?.subject !== 'Real client') fail(`graphql-ws event: ${JSON.stringify(got)}`);
else pass('graphql-ws subscription delivers the client its own new interaction');
await ws.dispose();

const bad = createClient({ url: `${base.replace('http', 'ws')}/graphql/ws`, webSocketImpl: WebSocket, retryAttempts: 0,
  connectionParams: { Authorization: 'Bearer not-a-token' } });
const closed = await new Promise((resolve) => bad.subscribe({ query: 'subscription { interactionChanged { change } }' },
  { next: () => resolve(null), error: resolve, complete: () => resolve(null) }));
if (closed?.code === 4403) pass('graphql-ws refuses a bad token with 4403');
else fail(`graphql-ws bad token: ${JSON.stringify(closed)}`);

// A socket is as good as its token: after exp (run.sh sets JWT_LEEWAY_SECS=0) the next operation
// is answered UNAUTHENTICATED and the socket closes with 4403.
const shortLived = (() => {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: String(clientId), role: 'client', iat: now, exp: now + 2 })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
})();
let closeCode = null;
const expiring = createClient({ url: `${base.replace('http', 'ws')}/graphql/ws`, webSocketImpl: WebSocket, retryAttempts: 0,
  lazy: false, connectionParams: { Authorization: `Bearer ${shortLived}` }, on: { closed: (e) => { closeCode = e.code; } } });
const ask = () => new Promise((resolve) => expiring.subscribe({ query: '{ viewer { role } }' },
  { next: (v) => resolve({ next: v }), error: (e) => resolve({ error: e }), complete: () => {} }));
const before = await ask();
await new Promise((r) => setTimeout(r, 3500));
const after = await ask();
await new Promise((r) => setTimeout(r, 300));
const code = Array.isArray(after.error) ? after.error[0]?.extensions?.code : after.error?.code;
if (before.next?.data?.viewer?.role === 'CLIENT' && code === 'UNAUTHENTICATED' && closeCode === 4403) {
  pass('graphql-ws: an operation after the token expired is refused and the socket closes 4403');
} else fail(`graphql-ws expiry: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}, close ${closeCode}`);
await expiring.dispose();

console.log(`real clients: ${failures === 0 ? 'all checks passed' : `${failures} failed`}`);
process.exit(failures === 0 ? 0 : 1);
