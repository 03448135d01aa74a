// A relying-party web app signs people in through Cognate's managed login with a real OpenID
// Connect client library, in headless Chromium, against the real `cognate serve` binary
// ($COGNATE_BIN, default target/debug/cognate).
//
// The RP is a small Node HTTP server started here on 127.0.0.1. It uses openid-client (v6):
// discovery at the pool's issuer (`<server>/<poolId>`), the authorization-code flow with PKCE
// (S256), state and nonce, a confidential client authenticated with client_secret_basic, the
// ID token checked by the library (signature against the JWKS, iss, aud, exp, nonce), userInfo,
// and logout through the discovery document's end_session_endpoint (Cognito's
// `/logout?client_id=…&logout_uri=…`). `allowInsecureRequests` because the test server is
// plain http. The pool, its domain (by path: `<server>/<prefix>/…`) and the app client are made
// with the AWS SDK for JavaScript v3. The pool has plain usernames (not UsernameAttributes),
// with `email` and `name` required and email auto-verified.
//
// Run from the repository root after `npm install` in tests/browser:
//   node tests/browser/oidc.test.mjs
// Chromium is Debian's /usr/bin/chromium (override with $COGNATE_CHROMIUM); no browser is
// downloaded. A screenshot of every page visited is written to tests/browser/artifacts/oidc/
// (override with $COGNATE_OIDC_ARTIFACTS; the directory is emptied first and its path printed).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import * as oidc from 'openid-client';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  CreateUserPoolDomainCommand,
} from '@aws-sdk/client-cognito-identity-provider';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const BIN = process.env.COGNATE_BIN || path.join(ROOT, 'target', 'debug', 'cognate');
const CHROMIUM = process.env.COGNATE_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.COGNATE_OIDC_ARTIFACTS || path.join(HERE, 'artifacts', 'oidc');
const PASSWORD = 'Passw0rd!';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cognate-oidc-'));
let server; // child process
let serverLog;
let serverLogPath;
let baseUrl;
let browser;

// Set up in before().
let idp;
let poolId;
let prefix;
let clientId;
let clientSecret;
let issuer;
let rp; // the relying party: { base, server, config, tokenRequests, sessions }

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
  serverLogPath = path.join(tmp, 'server.log');
  serverLog = fs.openSync(serverLogPath, 'w');
  const env = { ...process.env };
  delete env.COGNATE_DATABASE_URL; // always the temp SQLite data dir
  delete env.COGNATE_PUBLIC_URL; // the issuer and the endpoints are the listen address
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
      throw new Error(`cognate did not start (exit ${server.exitCode}):\n${fs.readFileSync(serverLogPath, 'utf8')}`);
    }
    try {
      const r = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
}

/** The developer outbox's messages for one user, oldest first. */
async function outbox(username) {
  const q = new URLSearchParams({ pool: poolId, username });
  const r = await fetch(`${baseUrl}/_cognate/outbox?${q}`);
  assert.equal(r.status, 200);
  return (await r.json()).Messages;
}

/** Waits for a message newer than the `seen` first ones and returns its code. */
async function nextCode(username, seen) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const messages = await outbox(username);
    if (messages.length > seen) {
      const code = messages.at(-1).Code;
      assert.match(code, /^\d{6}$/, JSON.stringify(messages.at(-1)));
      return code;
    }
    if (Date.now() > deadline) throw new Error(`no new message for ${username}: ${JSON.stringify(messages)}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The relying party: what a web app using openid-client would be.

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function rpPage(res, status, title, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}pre{background:#f4f5f7;padding:1rem;white-space:pre-wrap;word-break:break-all}</style>
</head><body><h1>Example RP: ${escapeHtml(title)}</h1>${body}</body></html>`);
}

function rpCookie(req) {
  const m = /(?:^|;\s*)rp_sid=([^;]+)/.exec(req.headers.cookie || '');
  return m ? m[1] : undefined;
}

/**
 * Starts the RP on a port of its own; its `config` (discovery) is set once the app client
 * exists, since the client's callback URL needs the port first.
 */
async function startRp() {
  const sessions = new Map(); // rp_sid -> { pending?: {verifier, state, nonce}, signedIn?: {...} }
  const state = { sessions, tokenRequests: [], config: undefined, base: undefined, errors: [] };

  const handle = async (req, res) => {
    const url = new URL(req.url, state.base);
    let sid = rpCookie(req);
    const setCookie = {};
    if (!sid || !sessions.has(sid)) {
      sid = randomUUID();
      sessions.set(sid, {});
      setCookie['set-cookie'] = `rp_sid=${sid}; Path=/; HttpOnly; SameSite=Lax`;
    }
    const session = sessions.get(sid);
    const { config } = state;

    if (url.pathname === '/') {
      if (session.signedIn) {
        const { claims, userInfo, sentNonce } = session.signedIn;
        return rpPage(res, 200, 'Signed in', `
<p id="greeting">Signed in as ${escapeHtml(claims['cognito:username'] ?? claims.sub)}</p>
<h2>ID token claims (validated by openid-client)</h2><pre id="id-claims">${escapeHtml(JSON.stringify(claims, null, 2))}</pre>
<h2>userInfo</h2><pre id="userinfo">${escapeHtml(JSON.stringify(userInfo, null, 2))}</pre>
<p>Nonce sent: <code id="sent-nonce">${escapeHtml(sentNonce)}</code></p>
<p><a href="/logout">Sign out</a></p>`, setCookie);
      }
      return rpPage(res, 200, 'Home', '<p id="greeting">Not signed in.</p><p><a href="/login">Sign in</a></p>', setCookie);
    }

    if (url.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const pending = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce() };
      session.pending = pending;
      const target = oidc.buildAuthorizationUrl(config, {
        redirect_uri: `${state.base}/callback`,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      res.writeHead(302, { location: target.href, 'cache-control': 'no-store', ...setCookie });
      return res.end();
    }

    if (url.pathname === '/callback') {
      const { pending } = session;
      if (!pending) return rpPage(res, 400, 'Sign-in failed', '<p id="error">No sign-in in progress.</p>', setCookie);
      try {
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        const userInfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        delete session.pending;
        session.signedIn = { claims, userInfo, sentNonce: pending.nonce, tokens };
        res.writeHead(302, { location: '/', 'cache-control': 'no-store', ...setCookie });
        return res.end();
      } catch (e) {
        state.errors.push(e);
        const cause = e.cause?.message ? ` (${e.cause.message})` : '';
        const detail = `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message}${cause}`;
        return rpPage(res, 400, 'Sign-in failed', `<p id="error">${escapeHtml(detail)}</p><p><a href="/">Home</a></p>`, setCookie);
      }
    }

    if (url.pathname === '/logout') {
      delete session.signedIn;
      const target = oidc.buildEndSessionUrl(config, { logout_uri: `${state.base}/signed-out` });
      res.writeHead(302, { location: target.href, 'cache-control': 'no-store', ...setCookie });
      return res.end();
    }

    if (url.pathname === '/signed-out') {
      return rpPage(res, 200, 'Signed out', '<p id="greeting">You have signed out.</p><p><a href="/login">Sign in again</a></p>', setCookie);
    }

    res.writeHead(404, { 'content-type': 'text/plain' });
    return res.end('not found');
  };

  state.server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      state.errors.push(e);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e?.stack ?? e));
    });
  });
  await new Promise((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.base = `http://127.0.0.1:${state.server.address().port}`;
  return state;
}

/** The RP's discovery, with a fetch that records the token endpoint's requests. */
async function configureRp() {
  const recordingFetch = (url, options) => {
    if (String(url).endsWith('/oauth2/token')) rp.tokenRequests.push(String(url));
    return fetch(url, options);
  };
  const config = await oidc.discovery(
    new URL(issuer),
    clientId,
    clientSecret,
    oidc.ClientSecretBasic(clientSecret),
    { execute: [oidc.allowInsecureRequests], [oidc.customFetch]: recordingFetch },
  );
  // Also verify the ID token's signature against the issuer's JWKS (openid-client otherwise
  // relies on TLS for a token obtained directly from the token endpoint).
  oidc.enableNonRepudiationChecks(config);
  rp.config = config;
}

// ---------------------------------------------------------------------------------------------
// Browser helpers.

let shotCount = 0;

/** A full-page screenshot of the current page; `phone` adds one at 390×844. */
async function snap(page, name, { phone = false } = {}) {
  shotCount += 1;
  const base = `${String(shotCount).padStart(2, '0')}-${name}`;
  const file = path.join(ARTIFACTS, `${base}.png`);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `${file} is a screenshot`);
  if (phone) {
    const size = page.viewportSize();
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: path.join(ARTIFACTS, `${base}-phone.png`), fullPage: true });
    await page.setViewportSize(size);
  }
}

const labelMisses = new Set();

/** A form field by its accessible label, or by id when the label does not match exactly one. */
async function field(page, label, id) {
  const byLabel = page.getByLabel(label, { exact: true });
  if (await byLabel.count() === 1) return byLabel;
  labelMisses.add(`${new URL(page.url()).pathname}: no one input labelled "${label}", used #${id}`);
  return page.locator(`#${id}`);
}

const problemsOf = new WeakMap(); // page -> console errors and page errors
const cspOf = new WeakMap(); // page -> the Content-Security-Policy of the document shown

async function newPage(t, { keep = false } = {}) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const problems = [];
  problemsOf.set(page, problems);
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.status() < 300) cspOf.set(page, r.headers()['content-security-policy']);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  // Refused forms answer 400 and the RP's refusals too, which Chromium logs as console
  // errors ("Failed to load resource"); the statuses are asserted where they are expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  if (!keep) t.after(() => context.close().catch(() => {}));
  return { page, context, problems };
}

/** Asserts that `page` shows Cognate's sign-in form (on the domain, with the two inputs). */
async function assertSignInForm(page) {
  const url = new URL(page.url());
  assert.equal(url.origin, baseUrl, `on Cognate: ${page.url()}`);
  assert.ok(url.pathname.startsWith(`/${prefix}/`), `on the domain's path: ${url.pathname}`);
  await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor({ state: 'visible' });
  await (await field(page, 'Username', 'username')).waitFor({ state: 'visible' });
  await (await field(page, 'Password', 'password')).waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Sign in' }).waitFor({ state: 'visible' });
}

/** The page's notice (`role=status`), if any. */
async function notice(page) {
  const n = page.getByRole('status');
  return (await n.count()) ? (await n.first().textContent()).trim() : undefined;
}

/** Fills and submits the sign-in form; resolves once the next page has loaded. */
async function signInOnHostedPage(page, username, password) {
  await (await field(page, 'Username', 'username')).fill(username);
  await (await field(page, 'Password', 'password')).fill(password);
  await submit(page);
}

/** Clicks the first form's submit button and waits for the page it leads to. */
async function submit(page, button = page.locator('form button[type=submit]').first()) {
  try {
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  } catch (e) {
    // A navigation Chromium blocks shows only as net::ERR_ABORTED. One cause seen: a page
    // whose Content-Security-Policy has `form-action 'self'` cannot redirect the form's answer
    // to another origin (the app's callback): Chromium applies form-action to redirects.
    const csp = cspOf.get(page);
    throw new Error(`submitting the form at ${page.url()} failed: ${e.message}\nconsole: ${JSON.stringify(problemsOf.get(page))}; CSP: ${csp}`);
  }
}

/** Asserts that the browser is back on the RP's home page (not, say, on a page with an error). */
async function assertBackAtRp(page) {
  const url = new URL(page.url());
  if (url.origin !== rp.base || url.pathname !== '/') {
    const alert = await page.getByRole('alert').allTextContents().catch(() => []);
    const error = await page.locator('#error').allTextContents().catch(() => []);
    assert.fail(`expected the RP's home page, at ${page.url()}: ${JSON.stringify([...alert, ...error])}`);
  }
}

/** The RP's home page after a sign-in: the claims it shows. */
async function rpClaims(page) {
  await page.locator('#id-claims').waitFor({ state: 'visible' });
  return {
    claims: JSON.parse(await page.locator('#id-claims').textContent()),
    userInfo: JSON.parse(await page.locator('#userinfo').textContent()),
    sentNonce: (await page.locator('#sent-nonce').textContent()).trim(),
  };
}

function assertSignedInAs(seen, username, email) {
  const { claims, userInfo, sentNonce } = seen;
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, clientId, 'the ID token is for this client');
  assert.equal(claims.token_use, 'id');
  assert.equal(claims['cognito:username'], username);
  assert.equal(claims.email, email);
  assert.equal(claims.email_verified, true);
  assert.match(claims.sub, /^[0-9a-f-]{36}$/);
  assert.ok(sentNonce.length >= 20, 'the RP sent a nonce');
  assert.equal(claims.nonce, sentNonce, 'the nonce the RP sent came back in the ID token');
  assert.equal(userInfo.sub, claims.sub);
  assert.equal(userInfo.email, email);
  assert.equal(userInfo.username, username);
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await startServer();
  rp = await startRp();

  idp = new CognitoIdentityProviderClient({
    endpoint: baseUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDCOGNATETEST', secretAccessKey: 'cognate-test-secret' },
    maxAttempts: 1,
  });
  const pool = (await idp.send(new CreateUserPoolCommand({
    PoolName: 'browser-oidc',
    AutoVerifiedAttributes: ['email'],
    Schema: [
      { Name: 'email', AttributeDataType: 'String', Required: true, Mutable: true },
      { Name: 'name', AttributeDataType: 'String', Required: true, Mutable: true },
    ],
  }))).UserPool;
  poolId = pool.Id;
  issuer = `${baseUrl}/${poolId}`;
  prefix = `oidc-${randomUUID().slice(0, 8)}`;
  await idp.send(new CreateUserPoolDomainCommand({ UserPoolId: poolId, Domain: prefix }));
  const client = (await idp.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId,
    ClientName: 'example-rp',
    GenerateSecret: true,
    AllowedOAuthFlowsUserPoolClient: true,
    AllowedOAuthFlows: ['code'],
    AllowedOAuthScopes: ['openid', 'email', 'profile'],
    CallbackURLs: [`${rp.base}/callback`],
    LogoutURLs: [`${rp.base}/signed-out`],
    SupportedIdentityProviders: ['COGNITO'],
  }))).UserPoolClient;
  clientId = client.ClientId;
  clientSecret = client.ClientSecret;
  assert.ok(clientSecret, 'the client has a secret');
  await configureRp();

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  console.log(`# screenshots: ${ARTIFACTS}`);
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (rp?.server) await new Promise((r) => rp.server.close(r));
  idp?.destroy();
  killServer();
  if (serverLog !== undefined) fs.closeSync(serverLog);
  fs.rmSync(path.join(tmp, 'data'), { recursive: true, force: true });
  for (const miss of labelMisses) console.log(`# label fallback: ${miss}`);
  console.log(`# screenshots: ${ARTIFACTS}`);
});

/** A confirmed user with a permanent password, made by the admin API. */
async function adminUser(label) {
  const username = `${label}${randomUUID().replaceAll('-', '').slice(0, 8)}`;
  const email = `${username}@example.com`;
  await idp.send(new AdminCreateUserCommand({
    UserPoolId: poolId,
    Username: username,
    MessageAction: 'SUPPRESS',
    UserAttributes: [
      { Name: 'email', Value: email },
      { Name: 'email_verified', Value: 'true' },
      { Name: 'name', Value: `Test ${label}` },
    ],
  }));
  await idp.send(new AdminSetUserPasswordCommand({
    UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true,
  }));
  return { username, email, name: `Test ${label}` };
}

test('the discovery document lists the domain\'s endpoints by path', async () => {
  const r = await fetch(`${issuer}/.well-known/openid-configuration`);
  assert.equal(r.status, 200);
  const doc = await r.json();
  const domain = `${baseUrl}/${prefix}`;
  assert.equal(doc.issuer, issuer);
  assert.equal(doc.jwks_uri, `${issuer}/.well-known/jwks.json`);
  assert.equal(doc.authorization_endpoint, `${domain}/oauth2/authorize`);
  assert.equal(doc.token_endpoint, `${domain}/oauth2/token`);
  assert.equal(doc.userinfo_endpoint, `${domain}/oauth2/userInfo`);
  assert.equal(doc.end_session_endpoint, `${domain}/logout`);
  assert.ok(doc.code_challenge_methods_supported.includes('S256'));
  assert.ok(doc.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  // What the library read is the same document.
  const meta = rp.config.serverMetadata();
  assert.equal(meta.authorization_endpoint, doc.authorization_endpoint);
  assert.equal(meta.end_session_endpoint, doc.end_session_endpoint);
});

// One browser context for tests 1–3: the managed-login session cookie carries over.
let person; // { username, email, password }
let shared; // { page, context, problems }

test('(1) a person signs up on the hosted pages, confirms with the emailed code, signs in, and the RP shows the validated claims', { timeout: 120_000 }, async (t) => {
  shared = await newPage(t, { keep: true }); // closed at the end of test (3)
  const { page } = shared;

  let resp = await page.goto(`${rp.base}/`);
  assert.equal(resp.status(), 200);
  await snap(page, 'rp-home');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await assertSignInForm(page);
  await snap(page, 'hosted-sign-in', { phone: true });

  // The authorize request the library built: PKCE S256, state, nonce, the registered callback.
  const authorize = new URL(page.url());
  const q = authorize.searchParams;
  assert.equal(q.get('client_id'), clientId);
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('redirect_uri'), `${rp.base}/callback`);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok(q.get('state') && q.get('nonce'));

  const username = `person${randomUUID().replaceAll('-', '').slice(0, 8)}`;
  const email = `${username}@example.com`;
  const password = PASSWORD;

  // Sign up: the form asks for the username, each required attribute and the password.
  await page.getByRole('link', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Sign up', level: 1 }).waitFor({ state: 'visible' });
  assert.equal(new URL(page.url()).pathname, `/${prefix}/signup`);
  assert.equal(new URL(page.url()).searchParams.get('state'), q.get('state'), 'the page carries the request');
  await snap(page, 'hosted-sign-up', { phone: true });
  await (await field(page, 'Username', 'username')).fill(username);
  await (await field(page, 'Email', 'email')).fill(email);
  await (await field(page, 'Name', 'name')).fill('Pat Person');
  await (await field(page, 'Password', 'password')).fill(password);
  const sent = (await outbox(username)).length;
  await submit(page, page.getByRole('button', { name: 'Sign up' }));

  // Confirm: the code from the outbox (after asking for a new one).
  await page.getByRole('heading', { name: 'Confirm your account', level: 1 }).waitFor({ state: 'visible' });
  await snap(page, 'hosted-confirm', { phone: true });
  assert.equal(await (await field(page, 'Username', 'username')).inputValue(), username);
  await nextCode(username, sent);
  assert.equal((await idp.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }))).UserStatus, 'UNCONFIRMED');
  await submit(page, page.getByRole('button', { name: /resend/i }));
  assert.equal(await notice(page), 'We have sent you a new code.');
  await snap(page, 'hosted-confirm-code-resent');
  const code = await nextCode(username, sent + 1);
  await (await field(page, 'Confirmation code', 'code')).fill(code);
  await submit(page, page.locator('form').first().locator('button[type=submit]'));

  // Back on the sign-in form, with a notice.
  await assertSignInForm(page);
  assert.equal(await notice(page), 'Your account is confirmed. Sign in to continue.');
  await snap(page, 'hosted-sign-in-after-confirm');
  assert.equal((await idp.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }))).UserStatus, 'CONFIRMED');
  person = { username, email, password, name: 'Pat Person' };

  await signInOnHostedPage(page, person.username, person.password);
  await assertBackAtRp(page);
  const seen = await rpClaims(page);
  await snap(page, 'rp-signed-in');
  assertSignedInAs(seen, person.username, person.email);
  assert.equal(String(seen.userInfo.email_verified), 'true');
  assert.equal(seen.userInfo.name, person.name);
  assert.equal(rp.tokenRequests.length, 1, 'one code exchange');
  assert.deepEqual(rp.errors, []);
  assert.deepEqual(shared.problems, []);
});

test('(2) a second visit is silent: the managed-login session cookie brings a code without the form', { timeout: 60_000 }, async (t) => {
  assert.ok(shared && person, 'test (1) signed someone in');
  const { page } = shared;
  const sessionCookies = (await shared.context.cookies()).filter((c) => c.name === 'cognate_session');
  assert.equal(sessionCookies.length, 1);
  assert.equal(sessionCookies[0].path, `/${prefix}`);
  assert.equal(sessionCookies[0].httpOnly, true);
  assert.equal(sessionCookies[0].sameSite, 'Lax');

  // The RP forgets its own session; the next sign-in goes through Cognate again.
  await shared.context.clearCookies({ name: 'rp_sid' });
  await page.goto(`${rp.base}/`);
  await snap(page, 'rp-home-second-visit');
  assert.match(await page.locator('#greeting').textContent(), /Not signed in/);

  const visited = [];
  const onNav = (frame) => { if (frame === page.mainFrame()) visited.push(frame.url()); };
  page.on('framenavigated', onNav);
  const tokenRequests = rp.tokenRequests.length;
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL(`${rp.base}/`);
  page.off('framenavigated', onNav);
  const seen = await rpClaims(page);
  await snap(page, 'rp-signed-in-silently');
  assertSignedInAs(seen, person.username, person.email);
  assert.equal(rp.tokenRequests.length, tokenRequests + 1);
  // No page of Cognate's was shown: the browser went RP → RP (the redirects are not pages).
  assert.deepEqual(visited.filter((u) => u.startsWith(baseUrl)), [], `pages shown: ${visited.join(' ')}`);
  assert.deepEqual(shared.problems, []);
});

test('(3) logout: the RP sends the browser to Cognate\'s /logout, which ends the session and returns to the RP', { timeout: 60_000 }, async (t) => {
  assert.ok(shared && person, 'test (1) signed someone in');
  const { page } = shared;
  t.after(() => shared.context.close().catch(() => {}));

  const hops = [];
  const onRequest = (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) hops.push(r.url()); };
  page.on('request', onRequest);
  await page.getByRole('link', { name: 'Sign out' }).click();
  await page.waitForURL(`${rp.base}/signed-out`);
  page.off('request', onRequest);
  await snap(page, 'rp-signed-out');
  assert.match(await page.locator('#greeting').textContent(), /signed out/);

  // The hop through Cognate: the discovery document's end_session_endpoint, Cognito's query.
  const logout = hops.map((u) => new URL(u)).find((u) => u.origin === baseUrl);
  assert.ok(logout, `went through Cognate: ${hops.join(' ')}`);
  assert.equal(logout.pathname, `/${prefix}/logout`);
  assert.equal(logout.searchParams.get('client_id'), clientId);
  assert.equal(logout.searchParams.get('logout_uri'), `${rp.base}/signed-out`);
  const left = (await shared.context.cookies()).filter((c) => c.name === 'cognate_session');
  assert.deepEqual(left, [], 'the session cookie is cleared');

  // The next sign-in shows the form again.
  await page.getByRole('link', { name: 'Sign in again' }).click();
  await assertSignInForm(page);
  await snap(page, 'hosted-sign-in-after-logout');
  // And it works.
  await signInOnHostedPage(page, person.username, person.password);
  await assertBackAtRp(page);
  assertSignedInAs(await rpClaims(page), person.username, person.email);
  assert.deepEqual(shared.problems, []);
});

test('(4) forgotten password: a code from the outbox sets a new password, which signs in', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await newPage(t);
  const user = await adminUser('forgetful');
  const newPassword = 'N3w-Passw0rd!';

  await page.goto(`${rp.base}/login`);
  await assertSignInForm(page);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByRole('heading', { name: 'Forgot your password?', level: 1 }).waitFor({ state: 'visible' });
  await snap(page, 'hosted-forgot-password', { phone: true });
  const seen = (await outbox(user.username)).length;
  await (await field(page, 'Username', 'username')).fill(user.username);
  await submit(page, page.getByRole('button', { name: 'Reset my password' }));

  await page.getByRole('heading', { name: 'Reset your password', level: 1 }).waitFor({ state: 'visible' });
  assert.equal(await notice(page), 'We have sent a code by email. Enter it below.');
  await snap(page, 'hosted-reset-password', { phone: true });
  const code = await nextCode(user.username, seen);
  assert.equal(await (await field(page, 'Username', 'username')).inputValue(), user.username);
  await (await field(page, 'Code', 'code')).fill(code);
  await (await field(page, 'New password', 'password')).fill(newPassword);
  // A mismatched repetition is refused on the page.
  await (await field(page, 'Enter the new password again', 'confirm_password')).fill(`${newPassword}x`);
  await submit(page, page.getByRole('button', { name: 'Change password' }));
  await page.getByRole('alert').waitFor({ state: 'visible' });
  await snap(page, 'hosted-reset-password-mismatch');
  await (await field(page, 'Code', 'code')).fill(code);
  await (await field(page, 'New password', 'password')).fill(newPassword);
  await (await field(page, 'Enter the new password again', 'confirm_password')).fill(newPassword);
  await submit(page, page.getByRole('button', { name: 'Change password' }));

  await assertSignInForm(page);
  assert.equal(await notice(page), 'Your password has been changed. Sign in with your new password.');
  await snap(page, 'hosted-sign-in-after-reset');
  // The old password no longer works; the new one does.
  await signInOnHostedPage(page, user.username, PASSWORD);
  assert.match(await page.getByRole('alert').textContent(), /Incorrect username or password/);
  await signInOnHostedPage(page, user.username, newPassword);
  await assertBackAtRp(page);
  await snap(page, 'rp-signed-in-after-reset');
  assertSignedInAs(await rpClaims(page), user.username, user.email);
  assert.deepEqual(problems, []);
});

test('(5) bad input: a tampered state is refused by the library; a wrong password shows an error', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await newPage(t);
  const user = await adminUser('careless');

  // A wrong password: the form again, with the API's message, and no redirect.
  await page.goto(`${rp.base}/login`);
  await assertSignInForm(page);
  await signInOnHostedPage(page, user.username, 'Wrong-passw0rd!');
  const alert = page.getByRole('alert');
  await alert.waitFor({ state: 'visible' });
  await snap(page, 'hosted-sign-in-wrong-password', { phone: true });
  assert.match(await alert.textContent(), /Incorrect username or password/);
  await assertSignInForm(page);

  // The right password signs in.
  await signInOnHostedPage(page, user.username, PASSWORD);
  await assertBackAtRp(page);
  assertSignedInAs(await rpClaims(page), user.username, user.email);

  // A new sign-in whose authorization response is taken before the browser follows it (the
  // browser context's own cookies: the RP's session and Cognate's), then visited with
  // another state.
  const api = page.context().request;
  const toCognate = await api.get(`${rp.base}/login`, { maxRedirects: 0 });
  assert.equal(toCognate.status(), 302);
  const silent = await api.get(toCognate.headers().location, { maxRedirects: 0 });
  assert.equal(silent.status(), 302, 'the session answers at once');
  const genuine = new URL(silent.headers().location);
  assert.equal(`${genuine.origin}${genuine.pathname}`, `${rp.base}/callback`);
  assert.ok(genuine.searchParams.get('code'));
  const tampered = new URL(genuine);
  tampered.searchParams.set('state', `${genuine.searchParams.get('state')}x`);

  const tokenRequests = rp.tokenRequests.length;
  const resp = await page.goto(tampered.href);
  await snap(page, 'rp-callback-tampered-state');
  assert.equal(resp.status(), 400);
  const error = await page.locator('#error').textContent();
  assert.match(error, /state/i, error);
  assert.equal(rp.tokenRequests.length, tokenRequests, 'the library refused before exchanging the code');

  // A callback without state at all is refused too.
  const noState = new URL(genuine);
  noState.searchParams.delete('state');
  const resp2 = await page.goto(noState.href);
  assert.equal(resp2.status(), 400);
  assert.match(await page.locator('#error').textContent(), /state/i);

  // The genuine response still completes: the refusals spent nothing.
  await page.goto(genuine.href);
  await assertBackAtRp(page);
  await snap(page, 'rp-signed-in-after-refusals');
  assertSignedInAs(await rpClaims(page), user.username, user.email);

  // An error from Cognate (a redirect_uri the client does not have) is its error page.
  const authorize = new URL(`${baseUrl}/${prefix}/oauth2/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: `${rp.base}/elsewhere`, state: 's',
  }).toString();
  const resp3 = await page.goto(authorize.href);
  await snap(page, 'hosted-error-redirect-mismatch');
  assert.equal(resp3.status(), 400);
  assert.match(await page.content(), /redirect_mismatch/);
  assert.deepEqual(problems, []);
});
