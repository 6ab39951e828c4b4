// The explorer in a real headless Chromium, with every request that is not for the gateway
// refused (and a dead proxy behind that): the page must load from the gateway alone without a
// Content-Security-Policy violation, run queries, follow the role picked (and headers edited by
// hand) with a re-fetched schema, and show one query as two people side by side. In production
// mode it must offer no demo tokens. Writes screenshots to $SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const DEV_URL = process.env.DEV_URL;
const PRODUCTION_URL = process.env.PRODUCTION_URL;
const SCREENSHOTS = process.env.SCREENSHOT_DIR;
const TIMEOUT = 30_000;
mkdirSync(SCREENSHOTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
    // Anything that escaped the routing below would go to a proxy that is not there.
    '--proxy-server=http://127.0.0.1:9', '--proxy-bypass-list=127.0.0.1',
  ],
});

/** A fresh page on `origin` recording every outside request, CSP violation and error. */
async function open(origin) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const seen = { blocked: [], violations: [], errors: [], introspections: [] };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/')) {
      return route.continue();
    }
    seen.blocked.push(url);
    return route.abort('blockedbyclient');
  });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (err) => seen.errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.errors.push(msg.text());
  });
  page.on('request', (request) => {
    const body = request.postData() || '';
    if (body.includes('IntrospectionQuery')) {
      seen.introspections.push(request.headers().authorization || 'anonymous');
    }
  });
  return { context, page, seen };
}

/** Fails on anything the page did that it must not. */
async function assertClean(page, seen) {
  const violations = await page.evaluate(() => window.__violations);
  assert.deepEqual(violations, [], 'Content-Security-Policy violations');
  assert.deepEqual(seen.blocked, [], 'requests for anything but the gateway');
  assert.deepEqual(seen.errors, [], 'errors in the page');
}

/** Replaces the text of the CodeMirror editor under `selector`. */
async function setEditor(page, selector, text) {
  await page.locator(selector).first().waitFor();
  await page.evaluate(
    ({ selector, text }) => document.querySelector(selector).CodeMirror.setValue(text),
    { selector, text },
  );
}

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const HEADER_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';

/** Runs the query in the editor and waits for an answer containing `expected`. */
async function execute(page, expected) {
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    (expected) => {
      const editor = document.querySelector('.graphiql-response .CodeMirror');
      return editor && editor.CodeMirror.getValue().includes(expected);
    },
    expected,
  );
  return page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
}

async function schemaFor(page, who) {
  await page.waitForFunction(
    (who) => document.querySelector('[data-testid=schema-state]').textContent.startsWith(`schema of ${who}:`),
    who,
  );
  const state = await page.textContent('[data-testid=schema-state]');
  return Number(state.match(/(\d+) types/)[1]);
}

async function devMode() {
  const { context, page, seen } = await open(DEV_URL);
  const response = await page.goto(DEV_URL + '/');
  assert.equal(new URL(page.url()).pathname, '/graphql', '/ leads to the explorer');
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);

  // The demo's people, named, in the picker; the client is picked and her schema loaded.
  await page.locator('[data-testid=explore-as]').waitFor();
  const options = await page.locator('[data-testid=explore-as] option').allTextContents();
  assert.deepEqual(options, [
    'anonymous', 'Olivia Hart (client)', 'Noah Berg (employee)', 'Maria Lopez (manager)',
    'my headers (as edited)',
  ]);
  const clientTypes = await schemaFor(page, 'Olivia Hart (client)');
  const answer = await execute(page, '"totalCount": 1');
  assert.match(answer, /Olivia Hart/);
  assert.doesNotMatch(answer, /Offered a free check-up/, 'no internal note for the client');
  await page.screenshot({ path: join(SCREENSHOTS, 'explorer-client.png') });

  // Picking the employee fetches the employee's schema, with his token.
  await page.selectOption('[data-testid=explore-as]', 'employee');
  const employeeTypes = await schemaFor(page, 'Noah Berg (employee)');
  assert.ok(employeeTypes > clientTypes, `employee schema (${employeeTypes} types) is larger than the client's (${clientTypes})`);
  assert.ok(seen.introspections.some((h) => h.startsWith('Bearer ')), 'introspection sent the token');
  await setEditor(page, QUERY_EDITOR, [
    '# Noah Berg sees the phone outage from the inside: SLA, handler, internal note, impact',
    '{',
    '  interaction(id: "1") {',
    '    subject slaBreached handler { name } internalNote',
    '    caused(first: 3) { totalCount edges { node { customer { name } nps } } }',
    '  }',
    '}',
  ].join('\n'));
  const inside = await execute(page, 'SIP trunk');
  assert.match(inside, /"slaBreached": true/);
  await page.screenshot({ path: join(SCREENSHOTS, 'explorer-employee.png') });

  // Side by side: what does Olivia Hart see of her own record, and what do we see?
  await setEditor(page, QUERY_EDITOR, [
    '# What does Olivia Hart see of her own record, and what do we see?',
    '{',
    '  customers(first: 2) { totalCount edges { node { name } } }',
    '  interaction(id: "2") {',
    '    subject status',
    '    messages(first: 5) { edges { node { body } } }',
    '  }',
    '}',
  ].join('\n'));
  await page.selectOption('[data-testid=explore-as]', 'client');
  await schemaFor(page, 'Olivia Hart (client)');
  await execute(page, '"totalCount": 1');
  await page.click('[data-testid=compare-toggle]');
  await page.selectOption('[data-testid=compare-left]', 'client');
  await page.selectOption('[data-testid=compare-right]', 'employee');
  await page.click('[data-testid=compare-run]');
  await page.waitForFunction(() => document.querySelector('[data-testid=answer-1]').textContent.includes('Offered a free check-up'));
  const left = await page.textContent('[data-testid=answer-0]');
  const right = await page.textContent('[data-testid=answer-1]');
  assert.match(left, /"totalCount":\s*1\b/);
  assert.doesNotMatch(left, /Offered a free check-up/);
  assert.match(right, /"totalCount":\s*74\b/);
  await page.screenshot({ path: join(SCREENSHOTS, 'explorer-side-by-side.png') });

  // Headers edited by hand: the schema follows them too (the manager's, with budgets).
  const identities = await (await fetch(DEV_URL + '/graphiql/identities')).json();
  const manager = identities.identities.find((i) => i.role === 'manager');
  await setEditor(page, HEADER_EDITOR, `{"Authorization": "${manager.authorization}"}`);
  const managerTypes = await schemaFor(page, 'your headers');
  assert.equal(await page.inputValue('[data-testid=explore-as]'), 'custom');
  await setEditor(page, QUERY_EDITOR, '{ departments(first: 2) { edges { node { name budget } } } }');
  await execute(page, '"budget"');
  assert.ok(managerTypes > clientTypes);

  await assertClean(page, seen);
  await context.close();
}

async function productionMode() {
  const { context, page, seen } = await open(PRODUCTION_URL);
  await page.goto(PRODUCTION_URL + '/graphql');
  await page.locator('[data-testid=explore-as]').waitFor();
  const options = await page.locator('[data-testid=explore-as] option').allTextContents();
  assert.deepEqual(options, ['anonymous', 'my headers (as edited)'], 'no demo identities with a key configured');
  // With INTROSPECTION=employees an anonymous caller has no schema: the page says so.
  await page.waitForFunction(() =>
    document.querySelector('[data-testid=schema-state]').textContent.startsWith('no schema for this caller'));
  await setEditor(page, QUERY_EDITOR, '{ products(first: 2) { edges { node { name } } } }');
  await execute(page, 'Wellness Plan');
  const identities = await (await fetch(PRODUCTION_URL + '/graphiql/identities')).text();
  assert.doesNotMatch(identities, /Bearer ey/, "no token in production");
  await assertClean(page, seen);
  await context.close();
}

try {
  await devMode();
  await productionMode();
  console.log(`browser check: explorer ok in dev and production mode; screenshots in ${SCREENSHOTS}`);
} finally {
  await browser.close();
}
