// Sign-in with Amplify JS v6 (npm `aws-amplify`, `aws-amplify/auth`) against the real
// `cognate serve` binary ($COGNATE_BIN, default target/debug/cognate): signIn with its default
// USER_SRP_AUTH flow (InitiateAuth, then RespondToAuthChallenge PASSWORD_VERIFIER) and with
// USER_PASSWORD_AUTH, fetchAuthSession (and its GetTokensFromRefreshToken refresh),
// getCurrentUser, fetchUserAttributes (GetUser), signOut (RevokeToken) and signOut({ global: true })
// (GlobalSignOut). The pool, its app clients and the user are made with the AWS SDK for
// JavaScript v3, which also checks what the server did after Amplify signed out.
//
// Amplify runs in plain Node.js: `Amplify.configure` with `userPoolEndpoint` points its Cognito
// client at the server, its requests go through the global `fetch` (wrapped here to record them)
// and its tokens are kept in an in-memory key-value storage set with
// `cognitoUserPoolsTokenProvider.setKeyValueStorage`. No browser is needed.
//
// Run from the repository root after `npm install` in tests/browser:
//   node tests/browser/amplify.test.mjs
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  GetUserCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { Amplify } from 'aws-amplify';
import {
  fetchAuthSession,
  fetchUserAttributes,
  getCurrentUser,
  signIn,
  signOut,
} from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.COGNATE_BIN || path.join(ROOT, 'target', 'debug', 'cognate');
const PASSWORD = 'Passw0rd!';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cognate-amplify-'));
let server; // child process
let serverLog;
let baseUrl;

// Set up in before(): the pool, two app clients and one confirmed user.
let idp;
let poolId;
let srpClientId; // allows USER_SRP_AUTH and refresh only
let passwordClientId; // also allows USER_PASSWORD_AUTH
let issuer;
let username;
let email;
let userSub;

// Filled by the SRP sign-in test, used by the ones after it.
let firstTokens;

// ---------------------------------------------------------------------------------------------
// Amplify's token storage: an in-memory key-value store (the KeyValueStorageInterface).
class MemoryStorage {
  constructor() { this.items = new Map(); }
  async setItem(key, value) { this.items.set(key, value); }
  async getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  async removeItem(key) { this.items.delete(key); }
  async clear() { this.items.clear(); }
}
const storage = new MemoryStorage();

// Amplify's Cognito client sends its requests with the global fetch. Each one to the server is
// recorded (operation, request body, status, response body), so the tests can tell which calls
// Amplify made, including those whose errors it swallows (signOut's RevokeToken and GlobalSignOut).
const calls = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = input instanceof Request ? input.url : String(input); // Amplify passes a URL
  const headers = new Headers(init.headers);
  const target = headers.get('x-amz-target');
  const res = await realFetch(input, init);
  if (target && baseUrl && url.startsWith(baseUrl)) {
    const op = target.replace(/^AWSCognitoIdentityProviderService\./, '');
    const text = await res.clone().text();
    let request;
    let response;
    try { request = JSON.parse(init.body); } catch { request = init.body; }
    try { response = JSON.parse(text); } catch { response = text; }
    calls.push({ op, request, status: res.status, response });
  }
  return res;
};

/** The calls recorded while `fn` ran, and its result. */
async function recording(fn) {
  const start = calls.length;
  const result = await fn();
  return { result, calls: calls.slice(start) };
}

function describeCalls(list) {
  return list.map((c) => `${c.op} ${c.status} ${JSON.stringify(c.response).slice(0, 300)}`).join('\n');
}

function configureAmplify(userPoolClientId) {
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: poolId,
        userPoolClientId,
        userPoolEndpoint: baseUrl,
      },
    },
  });
  // Amplify.configure points the token provider at its default storage (localStorage, or an
  // in-memory fallback where there is none, as in Node), so ours is set after each configure.
  cognitoUserPoolsTokenProvider.setKeyValueStorage(storage);
}

/** Signs out locally if Amplify holds a session, so the next signIn starts afresh. */
async function ensureSignedOut() {
  try {
    await getCurrentUser();
  } catch {
    return;
  }
  await signOut();
}

// ---------------------------------------------------------------------------------------------
// The server.
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
  delete env.COGNATE_PUBLIC_URL; // the issuer is the listen address
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
      const r = await realFetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
}

before(async () => {
  await startServer();
  idp = new CognitoIdentityProviderClient({
    endpoint: baseUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDCOGNATETEST', secretAccessKey: 'cognate-test-secret' },
    maxAttempts: 1,
  });
  poolId = (await idp.send(new CreateUserPoolCommand({
    PoolName: 'amplify-signin',
    AutoVerifiedAttributes: ['email'],
  }))).UserPool.Id;
  srpClientId = (await idp.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId,
    ClientName: 'amplify-srp',
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }))).UserPoolClient.ClientId;
  passwordClientId = (await idp.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId,
    ClientName: 'amplify-password',
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }))).UserPoolClient.ClientId;
  issuer = `${baseUrl}/${poolId}`;

  const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
  username = `dana${suffix}`;
  email = `dana.${suffix}@example.com`;
  const out = await idp.send(new SignUpCommand({
    ClientId: srpClientId,
    Username: username,
    Password: PASSWORD,
    UserAttributes: [{ Name: 'email', Value: email }],
  }));
  userSub = out.UserSub;
  await idp.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: username }));
  const got = await idp.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
  assert.equal(got.UserStatus, 'CONFIRMED');

  configureAmplify(srpClientId);
});

after(async () => {
  // What Amplify sent and got, kept beside the server log for whoever reads a failure.
  fs.writeFileSync(path.join(tmp, 'amplify-calls.json'), JSON.stringify(calls, null, 2));
  if (idp) idp.destroy();
  killServer();
  if (serverLog !== undefined) fs.closeSync(serverLog);
  fs.rmSync(path.join(tmp, 'data'), { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
test('signIn (default USER_SRP_AUTH) signs in: isSignedIn true, nextStep DONE', async () => {
  const { result, calls: made } = await recording(() => signIn({ username, password: PASSWORD }));
  assert.equal(result.isSignedIn, true, `${JSON.stringify(result)}\n${describeCalls(made)}`);
  assert.equal(result.nextStep.signInStep, 'DONE');

  // InitiateAuth USER_SRP_AUTH, answered by RespondToAuthChallenge PASSWORD_VERIFIER.
  const ops = made.map((c) => c.op);
  assert.deepEqual(ops, ['InitiateAuth', 'RespondToAuthChallenge'], describeCalls(made));
  const [init, respond] = made;
  assert.equal(init.request.AuthFlow, 'USER_SRP_AUTH');
  assert.equal(init.request.ClientId, srpClientId);
  assert.equal(init.request.AuthParameters.USERNAME, username);
  assert.match(init.request.AuthParameters.SRP_A, /^[0-9a-f]+$/);
  assert.equal(init.status, 200);
  assert.equal(init.response.ChallengeName, 'PASSWORD_VERIFIER');
  assert.equal(respond.request.ChallengeName, 'PASSWORD_VERIFIER');
  assert.equal(respond.status, 200, describeCalls(made));
  assert.ok(respond.response.AuthenticationResult.RefreshToken, 'a refresh token');

  // Amplify keeps the tokens in the storage it was given.
  const keys = [...storage.items.keys()];
  assert.ok(keys.some((k) => k.endsWith('.accessToken')), `stored keys: ${keys}`);
  assert.ok(keys.some((k) => k.endsWith('.refreshToken')), `stored keys: ${keys}`);
});

test('fetchAuthSession returns the ID and access tokens of the signed-in user', async () => {
  const session = await fetchAuthSession();
  const { idToken, accessToken } = session.tokens ?? {};
  assert.ok(idToken && accessToken, `tokens: ${JSON.stringify(session)}`);
  assert.equal(idToken.payload['cognito:username'], username);
  assert.equal(idToken.payload.token_use, 'id');
  assert.equal(idToken.payload.aud, srpClientId);
  assert.equal(idToken.payload.iss, issuer);
  assert.equal(idToken.payload.sub, userSub);
  assert.equal(idToken.payload.email, email);
  assert.equal(accessToken.payload.token_use, 'access');
  assert.equal(accessToken.payload.client_id, srpClientId);
  assert.equal(accessToken.payload.iss, issuer);
  assert.equal(accessToken.payload.username, username);
  assert.equal(session.userSub, userSub);
  // toString() gives back the compact JWT.
  assert.equal(accessToken.toString().split('.').length, 3);
  // The tokens are the ones the server signed: its JWKS has their key.
  const jwks = await (await realFetch(`${issuer}/.well-known/jwks.json`)).json();
  const kid = JSON.parse(Buffer.from(accessToken.toString().split('.')[0], 'base64url')).kid;
  assert.ok(jwks.keys.some((k) => k.kid === kid), `kid ${kid} in the JWKS`);
  firstTokens = { idToken: idToken.toString(), accessToken: accessToken.toString() };
});

test('getCurrentUser returns the username and the sub', async () => {
  const user = await getCurrentUser();
  assert.equal(user.username, username);
  assert.equal(user.userId, userSub);
});

test('fetchUserAttributes (GetUser with the access token) returns the email', async () => {
  const { result: attrs, calls: made } = await recording(() => fetchUserAttributes());
  assert.deepEqual(made.map((c) => c.op), ['GetUser'], describeCalls(made));
  assert.equal(attrs.email, email);
  assert.equal(attrs.sub, userSub);
});

test('fetchAuthSession({ forceRefresh: true }) refreshes the tokens with GetTokensFromRefreshToken', async () => {
  assert.ok(firstTokens, 'the fetchAuthSession test ran first');
  const { result: session, calls: made } = await recording(() => fetchAuthSession({ forceRefresh: true }));
  assert.deepEqual(made.map((c) => c.op), ['GetTokensFromRefreshToken'], describeCalls(made));
  assert.equal(made[0].status, 200, describeCalls(made));
  assert.equal(made[0].request.ClientId, srpClientId);
  const { idToken, accessToken } = session.tokens;
  assert.notEqual(accessToken.toString(), firstTokens.accessToken, 'a new access token');
  assert.notEqual(idToken.toString(), firstTokens.idToken, 'a new ID token');
  assert.equal(idToken.payload['cognito:username'], username);
  assert.equal(accessToken.payload.client_id, srpClientId);
  // The refreshed tokens work: GetUser through Amplify.
  assert.equal((await fetchUserAttributes()).email, email);
});

test('signOut() revokes the refresh token (RevokeToken) and forgets the session', async () => {
  const before = await fetchAuthSession();
  const accessJwt = before.tokens.accessToken.toString();
  const refreshKey = [...storage.items.keys()].find((k) => k.endsWith('.refreshToken'));
  const refreshToken = storage.items.get(refreshKey);
  assert.ok(refreshToken, 'Amplify stored a refresh token');

  const { calls: made } = await recording(() => signOut());
  // Amplify calls RevokeToken only when the access token has an origin_jti claim.
  assert.ok(before.tokens.accessToken.payload.origin_jti, 'the access token has origin_jti');
  assert.deepEqual(made.map((c) => c.op), ['RevokeToken'], describeCalls(made));
  assert.equal(made[0].status, 200, describeCalls(made));
  assert.equal(made[0].request.ClientId, srpClientId);
  assert.equal(made[0].request.Token, refreshToken);

  // Amplify no longer has a user or tokens.
  await assert.rejects(getCurrentUser(), (e) => e.name === 'UserUnAuthenticatedException' || assert.fail(`${e.name}: ${e.message}`));
  assert.equal((await fetchAuthSession()).tokens, undefined);
  assert.ok(![...storage.items.keys()].some((k) => k.endsWith('.refreshToken')), 'no refresh token kept');

  // The server no longer accepts the refresh token, nor the access token issued from it.
  await assert.rejects(
    idp.send(new InitiateAuthCommand({
      ClientId: srpClientId,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    })),
    (e) => {
      assert.equal(e.name, 'NotAuthorizedException', `${e.name}: ${e.message}`);
      assert.equal(e.message, 'Refresh Token has been revoked');
      return true;
    },
  );
  await assert.rejects(
    idp.send(new GetUserCommand({ AccessToken: accessJwt })),
    (e) => {
      assert.equal(e.name, 'NotAuthorizedException', `${e.name}: ${e.message}`);
      assert.equal(e.message, 'Access Token has been revoked');
      return true;
    },
  );
});

test('signOut({ global: true }) after signing in again calls GlobalSignOut; the old access token is revoked', async () => {
  await ensureSignedOut();
  const signedIn = await signIn({ username, password: PASSWORD });
  assert.equal(signedIn.isSignedIn, true);
  assert.equal(signedIn.nextStep.signInStep, 'DONE');
  const session = await fetchAuthSession();
  const accessJwt = session.tokens.accessToken.toString();
  // The new access token works before the global sign-out.
  const got = await idp.send(new GetUserCommand({ AccessToken: accessJwt }));
  assert.equal(got.Username, username);

  const { calls: made } = await recording(() => signOut({ global: true }));
  assert.deepEqual(made.map((c) => c.op), ['GlobalSignOut'], describeCalls(made));
  assert.equal(made[0].request.AccessToken, accessJwt);
  assert.equal(made[0].status, 200, describeCalls(made));
  await assert.rejects(getCurrentUser(), (e) => e.name === 'UserUnAuthenticatedException' || assert.fail(`${e.name}: ${e.message}`));

  await assert.rejects(
    idp.send(new GetUserCommand({ AccessToken: accessJwt })),
    (e) => {
      assert.equal(e.name, 'NotAuthorizedException', `${e.name}: ${e.message}`);
      assert.equal(e.message, 'Access Token has been revoked');
      return true;
    },
  );
});

test('signIn with a wrong password throws NotAuthorizedException', async () => {
  await ensureSignedOut();
  const { result: err, calls: made } = await recording(() => signIn({ username, password: `${PASSWORD}x` }).then(
    (r) => assert.fail(`signed in with a wrong password: ${JSON.stringify(r)}`),
    (e) => e,
  ));
  assert.equal(err.name, 'NotAuthorizedException', `${err.name}: ${err.message}\n${describeCalls(made)}`);
  assert.equal(err.message, 'Incorrect username or password.');
  // The SRP exchange got as far as the password verifier, which the server refused.
  assert.deepEqual(made.map((c) => c.op), ['InitiateAuth', 'RespondToAuthChallenge'], describeCalls(made));
  assert.equal(made[1].status, 400);
  await assert.rejects(getCurrentUser(), (e) => e.name === 'UserUnAuthenticatedException' || assert.fail(`${e.name}: ${e.message}`));

  // An unknown user is refused too.
  const nobody = await signIn({ username: `nobody${randomUUID().slice(0, 8)}`, password: PASSWORD }).then(
    () => assert.fail('an unknown user signed in'),
    (e) => e,
  );
  assert.ok(['NotAuthorizedException', 'UserNotFoundException'].includes(nobody.name), `${nobody.name}: ${nobody.message}`);
});

test('signIn with authFlowType USER_PASSWORD_AUTH signs in through a client that allows it', async () => {
  await ensureSignedOut();
  try {
    configureAmplify(passwordClientId);
    const { result, calls: made } = await recording(() => signIn({
      username,
      password: PASSWORD,
      options: { authFlowType: 'USER_PASSWORD_AUTH' },
    }));
    assert.equal(result.isSignedIn, true, `${JSON.stringify(result)}\n${describeCalls(made)}`);
    assert.equal(result.nextStep.signInStep, 'DONE');
    assert.deepEqual(made.map((c) => c.op), ['InitiateAuth'], describeCalls(made));
    assert.equal(made[0].request.AuthFlow, 'USER_PASSWORD_AUTH');
    assert.equal(made[0].request.ClientId, passwordClientId);

    const { tokens } = await fetchAuthSession();
    assert.equal(tokens.idToken.payload['cognito:username'], username);
    assert.equal(tokens.idToken.payload.aud, passwordClientId);
    assert.equal(tokens.accessToken.payload.client_id, passwordClientId);
    assert.equal((await getCurrentUser()).username, username);
    assert.equal((await fetchUserAttributes()).email, email);

    // A wrong password through this flow is refused the same way.
    await signOut();
    const err = await signIn({
      username,
      password: `${PASSWORD}x`,
      options: { authFlowType: 'USER_PASSWORD_AUTH' },
    }).then(() => assert.fail('signed in with a wrong password'), (e) => e);
    assert.equal(err.name, 'NotAuthorizedException', `${err.name}: ${err.message}`);
    assert.equal(err.message, 'Incorrect username or password.');
  } finally {
    await ensureSignedOut();
    configureAmplify(srpClientId);
  }

  // The SRP-only client refuses the flow.
  const { result: refused, calls: made } = await recording(() => signIn({
    username,
    password: PASSWORD,
    options: { authFlowType: 'USER_PASSWORD_AUTH' },
  }).then(() => assert.fail('USER_PASSWORD_AUTH worked on a client that does not allow it'), (e) => e));
  assert.deepEqual(made.map((c) => c.op), ['InitiateAuth'], describeCalls(made));
  assert.equal(made[0].status, 400);
  assert.equal(refused.name, 'InvalidParameterException', `${refused.name}: ${refused.message}`);
});
