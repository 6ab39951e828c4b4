// Relay's Global Object Identification against a running gateway (GATEWAY_URL, JWT_SECRET from
// the environment): a @refetchable fragment on Customer (relay/customer.js) pages the customer's
// interactions with usePaginationFragment. Relay fetches every further page through
// `node(id:)` with the customer's global id, and keys its store by `id` alone (Relay's default),
// which only works when ids are unique across types. Run as an employee (another customer) and
// as a client (its own record); loadNext twice; the pages must join into exactly the first rows
// of one big page, cursors included, with no duplicates.
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { Suspense, act, createElement } from 'react';
import TestRenderer from 'react-test-renderer';
import { RelayEnvironmentProvider, useLazyLoadQuery, usePaginationFragment } from 'react-relay';
import { Environment, Network, RecordSource, Store } from 'relay-runtime';

const require = createRequire(import.meta.url);
const base = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8000';
const secret = process.env.JWT_SECRET;
if (!secret) throw new Error('JWT_SECRET is required');
let failures = 0;
const check = (ok, what, detail = '') => {
  if (ok) console.log(`ok   ${what}`);
  else { failures++; console.log(`FAIL ${what} ${detail}`); }
};

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
function token(role, sub) {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: String(sub), role, iat: now, exp: now + 600 })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
// A token names its subject by row number; the schema's ids are global ("Customer:7", base64).
const rowOf = (globalId) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1];
async function post(bearer, query, variables = {}) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const manager = token('manager', 1);
const who = await post(manager, `{
  client: customers(filter: {search: "olivia.hart@brightpaws"}) { nodes { id } }
  employee: customers(filter: {search: "noah.berg@northwind"}) { nodes { id } }
  others: customers(first: 50, filter: {kind: EXTERNAL}) { nodes { id interactions(first: 1) { totalCount } } } }`);
if (who.errors) throw new Error(`demo identities: ${JSON.stringify(who.errors)}`);
const clientId = who.data.client.nodes[0].id;
const employeeId = who.data.employee.nodes[0].id;
const busiest = who.data.others.nodes.filter((c) => c.id !== clientId)
  .sort((a, b) => b.interactions.totalCount - a.interactions.totalCount)[0].id;

const queryArtifact = require('./__generated__/customerInteractionsQuery.graphql.js');
const fragmentArtifact = require('./__generated__/customerInteractions_customer.graphql.js');
const PAGE = 2;

// Pages customer `id` as `bearer` sees it; returns the edges after two loadNext calls and the
// names of the operations Relay sent.
async function pageWithRelay(bearer, id) {
  const sent = [];
  const environment = new Environment({
    network: Network.create((params, variables) => {
      sent.push({ name: params.name, text: params.text, variables });
      return post(bearer, params.text, variables);
    }),
    store: new Store(new RecordSource()),
  });
  let latest = null;
  function Interactions({ customer }) {
    latest = usePaginationFragment(fragmentArtifact, customer);
    return null;
  }
  function Screen() {
    const data = useLazyLoadQuery(queryArtifact, { id });
    return data.customer ? createElement(Interactions, { customer: data.customer }) : null;
  }
  globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  let renderer;
  await act(async () => {
    renderer = TestRenderer.create(createElement(RelayEnvironmentProvider, { environment },
      createElement(Suspense, { fallback: null }, createElement(Screen))));
  });
  for (let i = 0; i < 100 && latest === null; i++) await act(settle);
  if (latest === null) throw new Error(`Relay rendered no customer for ${id}: ${JSON.stringify(sent)}`);
  for (let n = 0; n < 2; n++) {
    if (!latest.hasNext) throw new Error(`no page ${n + 2} for ${id}`);
    await act(async () => { latest.loadNext(PAGE); });
    for (let i = 0; i < 100 && latest.isLoadingNext; i++) await act(settle);
  }
  const edges = latest.data.interactions.edges.map((e) => ({ cursor: e.cursor, id: e.node.id }));
  await act(async () => renderer.unmount());
  return { edges, sent };
}

for (const [role, sub, customer] of [['employee', rowOf(employeeId), busiest], ['client', rowOf(clientId), clientId]]) {
  const bearer = token(role, sub);
  const big = await post(bearer, 'query($id: ID!) { customer(id: $id) { interactions(first: 100) { edges { cursor node { id } } } } }', { id: customer });
  const expected = (big.data?.customer?.interactions?.edges ?? []).slice(0, 3 * PAGE)
    .map((e) => ({ cursor: e.cursor, id: e.node.id }));
  check(expected.length === 3 * PAGE, `${role}: the customer has ${3 * PAGE} interactions or more`, JSON.stringify(big));
  let got;
  try {
    got = await pageWithRelay(bearer, customer);
  } catch (e) {
    check(false, `${role}: Relay pages Customer.interactions`, e.stack);
    continue;
  }
  const { edges, sent } = got;
  const ids = edges.map((e) => e.id);
  check(JSON.stringify(edges) === JSON.stringify(expected),
    `${role}: usePaginationFragment on Customer joins 3 pages of Customer.interactions, cursors included`,
    `${JSON.stringify(edges)} != ${JSON.stringify(expected)}`);
  check(new Set(ids).size === ids.length, `${role}: no interaction twice`, JSON.stringify(ids));
  const refetches = sent.filter((s) => s.name === 'customerInteractionsPageQuery');
  check(refetches.length === 2 && refetches.every((s) => /\bnode\(id: \$id\)/.test(s.text) && s.variables.id === customer),
    `${role}: each further page is fetched through node(id:) with the customer's global id`,
    JSON.stringify(sent.map((s) => [s.name, s.variables])));
}

if (failures > 0) {
  console.log(`${failures} failure(s)`);
  process.exit(1);
}
// As in pagination.mjs: the client libraries keep the event loop alive after the last check.
process.exit(0);
