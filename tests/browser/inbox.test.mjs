// The developer inbox (/_cognate/inbox) in headless Chromium, against the real `cognate serve`
// binary ($COGNATE_BIN, default target/debug/cognate) driven by the real AWS SDK for JavaScript v3.
//
// Run from the repository root after `npm install` in tests/browser:
//   node tests/browser/inbox.test.mjs
// Chromium is Debian's /usr/bin/chromium (override with $COGNATE_CHROMIUM); no browser is downloaded.
// The screenshot is written to $COGNATE_INBOX_SCREENSHOT, or to a fresh temp dir whose path is printed.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.COGNATE_BIN || path.join(ROOT, 'target', 'debug', 'cognate');
const CHROMIUM = process.env.COGNATE_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'Passw0rd!';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cognate-inbox-'));
let server; // child process
let serverLog;
let browser; // persistent context
let baseUrl;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function killServer() {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
}
process.on('exit', killServer);

async function startServer() {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const logPath = path.join(tmp, 'server.log');
  serverLog = fs.openSync(logPath, 'w');
  const env = { ...process.env };
  delete env.COGNATE_DATABASE_URL; // always the temp SQLite data dir
  server = spawn(
    BIN,
    ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(tmp, 'data'),
      '--argon2-memory-kib', '1024', '--argon2-iterations', '1'],
    { env, stdio: ['ignore', serverLog, serverLog] },
  );
  let spawnError;
  server.on('error', (e) => { spawnError = e; });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${BIN}: ${spawnError.message}`);
    if (server.exitCode !== null || Date.now() > deadline) {
      throw new Error(`cognate did not start (exit ${server.exitCode}):\n${fs.readFileSync(logPath, 'utf8')}`);
    }
    try {
      const r = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
}

async function outbox(pool, username) {
  const q = new URLSearchParams({ pool, username });
  const r = await fetch(`${baseUrl}/_cognate/outbox?${q}`);
  assert.equal(r.status, 200);
  return (await r.json()).Messages;
}

before(async () => {
  await startServer();
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  killServer();
  if (serverLog !== undefined) fs.closeSync(serverLog);
  fs.rmSync(path.join(tmp, 'data'), { recursive: true, force: true });
  fs.rmSync(path.join(tmp, 'chromium-profile'), { recursive: true, force: true });
});

test('the inbox page lists the sign-up code, filters, and the code it shows confirms the user', { timeout: 180_000 }, async (t) => {
  const idp = new CognitoIdentityProviderClient({
    endpoint: baseUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDCOGNATETEST', secretAccessKey: 'cognate-test-secret' },
    maxAttempts: 1,
  });
  const pool = (await idp.send(new CreateUserPoolCommand({
    PoolName: 'browser-inbox',
    AutoVerifiedAttributes: ['email'],
  }))).UserPool;
  const clientId = (await idp.send(new CreateUserPoolClientCommand({
    UserPoolId: pool.Id,
    ClientName: 'browser',
  }))).UserPoolClient.ClientId;

  const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
  const alice = `alice${suffix}`;
  const bob = `bob${suffix}`;
  const signUp = (username, email) => idp.send(new SignUpCommand({
    ClientId: clientId,
    Username: username,
    Password: PASSWORD,
    UserAttributes: [{ Name: 'email', Value: email }],
  }));

  const aliceOut = await signUp(alice, `alice.${suffix}@example.com`);
  assert.equal(aliceOut.UserConfirmed, false);
  assert.equal(aliceOut.CodeDeliveryDetails.DeliveryMedium, 'EMAIL');

  const profile = path.join(tmp, 'chromium-profile');
  fs.mkdirSync(profile);
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 700 },
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) pageErrors.push(m.text());
  });
  // Failed requests are judged by URL below (Chromium asks for /favicon.ico, which Cognate does not serve).
  const failedRequests = [];
  page.on('response', (r) => { if (r.status() >= 400) failedRequests.push(`${r.status()} ${new URL(r.url()).pathname}`); });

  const resp = await page.goto(`${baseUrl}/_cognate/inbox`);
  assert.equal(resp.status(), 200);
  assert.equal(await page.title(), 'Cognate inbox');

  const aliceRow = page.locator(`#messages tr[data-username="${alice}"]`);
  await aliceRow.waitFor({ state: 'visible', timeout: 15_000 });

  // Bob signs up after the page has loaded: the row must appear through the page's polling.
  await signUp(bob, `bob.${suffix}@example.com`);
  const bobRow = page.locator(`#messages tr[data-username="${bob}"]`);
  await bobRow.waitFor({ state: 'visible', timeout: 15_000 });

  // The code shown on the page is the one the outbox API reports for that user.
  const aliceMessages = await outbox(pool.Id, alice);
  assert.equal(aliceMessages.length, 1);
  const apiCode = aliceMessages[0].Code;
  assert.match(apiCode, /^\d{6}$/);
  const pageCode = (await aliceRow.locator('td.code').textContent()).trim();
  assert.equal(pageCode, apiCode);
  const bobCode = (await bobRow.locator('td.code').textContent()).trim();
  assert.equal(bobCode, (await outbox(pool.Id, bob)).at(-1).Code);
  const aliceCells = await aliceRow.locator('td').allTextContents();
  assert.ok(aliceCells.includes(pool.Id), `pool id in row: ${JSON.stringify(aliceCells)}`);
  assert.ok(aliceCells.includes(alice), `username in row: ${JSON.stringify(aliceCells)}`);

  // Newest first: bob's row comes before alice's.
  const order = await page.locator('#messages tr[data-username]').evaluateAll(
    (rows) => rows.map((r) => r.dataset.username));
  assert.ok(order.indexOf(bob) < order.indexOf(alice), `newest first: ${JSON.stringify(order)}`);

  // The filter box: alice's name shows only alice; a typed non-matching string hides every row.
  // The rows are checked right after the input events, without waiting, so the filter must act
  // on input (not only on the next 2 s refresh).
  await page.fill('#filter', alice);
  assert.equal(await aliceRow.count(), 1);
  assert.equal(await bobRow.count(), 0);
  await page.fill('#filter', '');
  await page.locator('#filter').pressSequentially(`zz-no-such-message-${suffix}`);
  assert.equal(await page.locator('#messages tr[data-username]').count(), 0);
  assert.match(await page.locator('#messages').innerText(), /No messages yet\./);
  // Filtering survives a refresh of the list (the page polls every 2 s).
  await sleep(2500);
  assert.equal(await aliceRow.count(), 0);
  await page.fill('#filter', '');
  await aliceRow.waitFor({ state: 'visible' });
  await bobRow.waitFor({ state: 'visible' });

  // The code read from the page confirms the user: it is the real code.
  await idp.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: alice, ConfirmationCode: pageCode }));
  const user = await idp.send(new AdminGetUserCommand({ UserPoolId: pool.Id, Username: alice }));
  assert.equal(user.UserStatus, 'CONFIRMED');
  const attrs = Object.fromEntries(user.UserAttributes.map((a) => [a.Name, a.Value]));
  assert.equal(attrs.email_verified, 'true');
  assert.equal(attrs.sub, aliceOut.UserSub);

  const shot = process.env.COGNATE_INBOX_SCREENSHOT || path.join(tmp, 'inbox.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(fs.statSync(shot).size > 1000);
  t.diagnostic(`screenshot: ${shot}`);

  assert.deepEqual(pageErrors, []);
  assert.deepEqual(failedRequests.filter((r) => !r.endsWith(' /favicon.ico')), []);
  idp.destroy();
});
