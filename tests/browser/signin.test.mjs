// Sign-in against the real `cognate serve` binary ($COGNATE_BIN, default target/debug/cognate)
// with the clients applications use: amazon-cognito-identity-js (USER_SRP_AUTH answered by
// PASSWORD_VERIFIER, USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH, GetUser), and awslabs'
// aws-jwt-verify checking the tokens against the pool's JWKS. The pool and the user are made
// with the AWS SDK for JavaScript v3. No browser is needed.
//
// Run from the repository root after `npm install` in tests/browser:
//   node tests/browser/signin.test.mjs
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
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
} from 'amazon-cognito-identity-js';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import {
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureError,
} from 'aws-jwt-verify/error';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.COGNATE_BIN || path.join(ROOT, 'target', 'debug', 'cognate');
const PASSWORD = 'Passw0rd!';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cognate-signin-'));
let server; // child process
let serverLog;
let baseUrl;

// Set up in before(): the pool, its app client, and one confirmed user.
let idp;
let poolId;
let clientId;
let issuer;
let username;
let email;
let userSub;
let userPool; // amazon-cognito-identity-js CognitoUserPool

// Filled by the SRP sign-in test, used by the ones after it.
let srpUser; // the CognitoUser that signed in
let srpSession; // its CognitoUserSession

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
    ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(tmp, 'data'), '--test-clock',
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

/** Moves the server's clock (`--test-clock`) by `seconds`, which may be negative. */
async function advanceServerClock(seconds) {
  const r = await fetch(`${baseUrl}/_cognate/test/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ AdvanceSeconds: seconds }),
  });
  assert.equal(r.status, 200, await r.text());
}

// aws-jwt-verify's Node.js fetcher is built on `https.request`, which refuses an http:// URI
// (ERR_INVALID_PROTOCOL), so the verifier cannot download the JWKS of an http:// issuer by itself.
// Its documented extension point is the JWKS cache's `fetcher` (any object with
// `fetch(uri) => Promise<ArrayBuffer>`): this one uses Node's own fetch, which speaks http://.
// Everything else (JWKS parsing, kid lookup, signature, iss/aud/exp checks) is the library's.
const httpFetcher = {
  async fetch(uri) {
    const r = await fetch(uri, { signal: AbortSignal.timeout(5000) });
    if (r.status !== 200) throw new Error(`GET ${uri}: status ${r.status}`);
    return r.arrayBuffer();
  },
};

function verifierFor(tokenUse) {
  const props = {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
  };
  if (tokenUse === 'id') {
    Object.assign(props, {
      audience: clientId,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'id') throw new Error(`token_use is ${payload.token_use}, not id`);
      },
    });
  } else {
    Object.assign(props, {
      audience: null, // access tokens carry client_id, not aud
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'access') throw new Error(`token_use is ${payload.token_use}, not access`);
        if (payload.client_id !== clientId) throw new Error(`client_id is ${payload.client_id}`);
      },
    });
  }
  return JwtRsaVerifier.create(props, { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) });
}

function decodePayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** authenticateUser as a promise: resolves with the session, rejects with onFailure's error. */
function authenticate(user, password) {
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: user.getUsername(), Password: password }), {
      onSuccess: (session) => resolve(session),
      onFailure: (err) => reject(err),
      newPasswordRequired: () => reject(new Error('unexpected newPasswordRequired')),
      mfaRequired: () => reject(new Error('unexpected mfaRequired')),
      totpRequired: () => reject(new Error('unexpected totpRequired')),
      customChallenge: () => reject(new Error('unexpected customChallenge')),
      mfaSetup: () => reject(new Error('unexpected mfaSetup')),
      selectMFAType: () => reject(new Error('unexpected selectMFAType')),
    });
  });
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
    PoolName: 'browser-signin',
    AutoVerifiedAttributes: ['email'],
  }))).UserPool.Id;
  clientId = (await idp.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId,
    ClientName: 'signin',
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }))).UserPoolClient.ClientId;
  issuer = `${baseUrl}/${poolId}`;

  const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
  username = `carol${suffix}`;
  email = `carol.${suffix}@example.com`;
  const out = await idp.send(new SignUpCommand({
    ClientId: clientId,
    Username: username,
    Password: PASSWORD,
    UserAttributes: [{ Name: 'email', Value: email }],
  }));
  assert.equal(out.UserConfirmed, false);
  userSub = out.UserSub;
  await idp.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: username }));
  const got = await idp.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
  assert.equal(got.UserStatus, 'CONFIRMED');

  userPool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint: baseUrl });
});

after(async () => {
  if (idp) idp.destroy();
  killServer();
  if (serverLog !== undefined) fs.closeSync(serverLog);
  fs.rmSync(path.join(tmp, 'data'), { recursive: true, force: true });
});

test('amazon-cognito-identity-js signs in with USER_SRP_AUTH and gets ID, access and refresh tokens', async () => {
  srpUser = new CognitoUser({ Username: username, Pool: userPool });
  assert.equal(srpUser.getAuthenticationFlowType(), 'USER_SRP_AUTH');
  srpSession = await authenticate(srpUser, PASSWORD);
  assert.ok(srpSession.isValid(), 'the session is valid');

  const idToken = srpSession.getIdToken();
  const accessToken = srpSession.getAccessToken();
  const refreshToken = srpSession.getRefreshToken().getToken();
  assert.equal(idToken.getJwtToken().split('.').length, 3);
  assert.equal(accessToken.getJwtToken().split('.').length, 3);
  assert.ok(typeof refreshToken === 'string' && refreshToken.length > 20, 'a refresh token');

  const id = idToken.decodePayload();
  assert.equal(id.token_use, 'id');
  assert.equal(id.aud, clientId);
  assert.equal(id.iss, issuer);
  assert.equal(id.sub, userSub);
  assert.equal(id['cognito:username'], username);
  assert.equal(id.email, email);
  const access = accessToken.decodePayload();
  assert.equal(access.token_use, 'access');
  assert.equal(access.client_id, clientId);
  assert.equal(access.iss, issuer);
  assert.equal(access.sub, userSub);
  assert.equal(access.username, username);
  // The SRP exchange names the user by USER_ID_FOR_SRP; the library keeps that as its username.
  assert.equal(srpUser.getUsername(), username);
});

test('a wrong password fails with NotAuthorizedException "Incorrect username or password."', async () => {
  const user = new CognitoUser({ Username: username, Pool: userPool });
  const err = await authenticate(user, `${PASSWORD}x`).then(
    (s) => assert.fail(`signed in with a wrong password: ${s.getIdToken().getJwtToken()}`),
    (e) => e,
  );
  assert.equal(err.code, 'NotAuthorizedException', `${err.code}: ${err.message}`);
  assert.equal(err.name, 'NotAuthorizedException');
  assert.equal(err.message, 'Incorrect username or password.');

  // Unknown users get the same answer, so usernames cannot be probed.
  const nobody = new CognitoUser({ Username: `nobody${randomUUID().slice(0, 8)}`, Pool: userPool });
  const err2 = await authenticate(nobody, PASSWORD).then(
    () => assert.fail('an unknown user signed in'),
    (e) => e,
  );
  assert.ok(['NotAuthorizedException', 'UserNotFoundException'].includes(err2.code), `${err2.code}: ${err2.message}`);
});

test('USER_PASSWORD_AUTH through amazon-cognito-identity-js also signs in', async () => {
  const user = new CognitoUser({ Username: username, Pool: userPool });
  user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
  const session = await authenticate(user, PASSWORD);
  assert.equal(session.getIdToken().decodePayload().sub, userSub);
  assert.equal(session.getAccessToken().decodePayload().client_id, clientId);
  assert.ok(session.getRefreshToken().getToken());

  const wrong = new CognitoUser({ Username: username, Pool: userPool });
  wrong.setAuthenticationFlowType('USER_PASSWORD_AUTH');
  const err = await authenticate(wrong, `${PASSWORD}x`).then(() => assert.fail('signed in'), (e) => e);
  assert.equal(err.code, 'NotAuthorizedException', `${err.code}: ${err.message}`);
  assert.equal(err.message, 'Incorrect username or password.');
});

test('refreshSession (REFRESH_TOKEN_AUTH) gives new ID and access tokens for the same sign-in', async () => {
  assert.ok(srpSession, 'the SRP sign-in test ran first');
  const refreshToken = srpSession.getRefreshToken();
  const fresh = await new Promise((resolve, reject) => {
    srpUser.refreshSession(refreshToken, (err, session) => (err ? reject(err) : resolve(session)));
  });
  assert.ok(fresh.isValid());
  const oldId = srpSession.getIdToken().decodePayload();
  const newId = fresh.getIdToken().decodePayload();
  const newAccess = fresh.getAccessToken().decodePayload();
  assert.notEqual(newId.jti, oldId.jti, 'a new ID token');
  assert.notEqual(newAccess.jti, srpSession.getAccessToken().decodePayload().jti, 'a new access token');
  assert.equal(newId.sub, userSub);
  assert.equal(newId.aud, clientId);
  assert.equal(newId.auth_time, oldId.auth_time, 'auth_time is that of the original sign-in');
  assert.equal(newAccess.client_id, clientId);
  // Cognito returns no new refresh token; the library keeps the one it had.
  assert.equal(fresh.getRefreshToken().getToken(), refreshToken.getToken());

  // A made-up refresh token is refused. (Asked with the v3 SDK: amazon-cognito-identity-js retries
  // every error with back-off for about five seconds before it calls back.)
  await assert.rejects(
    idp.send(new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: 'not-a-refresh-token' },
    })),
    (e) => e.name === 'NotAuthorizedException' || assert.fail(`${e.name}: ${e.message}`),
  );
  srpSession = fresh;
});

test('getUserAttributes (GetUser with the access token) returns the email', async () => {
  assert.ok(srpSession, 'the SRP sign-in test ran first');
  const attrs = await new Promise((resolve, reject) => {
    srpUser.getUserAttributes((err, result) => (err ? reject(err) : resolve(result)));
  });
  const byName = Object.fromEntries(attrs.map((a) => [a.getName(), a.getValue()]));
  assert.equal(byName.email, email);
  assert.equal(byName.sub, userSub);
});

test('the discovery document names the tokens\' issuer and JWKS', async () => {
  const r = await fetch(`${issuer}/.well-known/openid-configuration`);
  assert.equal(r.status, 200);
  const doc = await r.json();
  assert.equal(doc.issuer, issuer);
  assert.equal(doc.jwks_uri, `${issuer}/.well-known/jwks.json`);
  const jwks = await (await fetch(doc.jwks_uri)).json();
  assert.ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1);
  for (const k of jwks.keys) {
    assert.equal(k.kty, 'RSA');
    assert.equal(k.alg, 'RS256');
    assert.equal(k.use, 'sig');
  }
  const kids = jwks.keys.map((k) => k.kid);
  const idKid = JSON.parse(Buffer.from(srpSession.getIdToken().getJwtToken().split('.')[0], 'base64url')).kid;
  const accessKid = JSON.parse(Buffer.from(srpSession.getAccessToken().getJwtToken().split('.')[0], 'base64url')).kid;
  assert.ok(kids.includes(idKid), `ID token kid ${idKid} in ${kids}`);
  assert.ok(kids.includes(accessKid), `access token kid ${accessKid} in ${kids}`);
});

test('aws-jwt-verify verifies the ID token (issuer, audience = client id, token_use id)', async () => {
  const idJwt = srpSession.getIdToken().getJwtToken();
  const payload = await verifierFor('id').verify(idJwt);
  assert.equal(payload.token_use, 'id');
  assert.equal(payload.aud, clientId);
  assert.equal(payload.iss, issuer);
  assert.equal(payload.sub, userSub);
  assert.equal(payload.email, email);

  // The access token is not an ID token.
  await assert.rejects(verifierFor('id').verify(srpSession.getAccessToken().getJwtToken()));
  // Another audience or issuer is refused.
  await assert.rejects(
    JwtRsaVerifier.create(
      { issuer, audience: 'some-other-client', jwksUri: `${issuer}/.well-known/jwks.json` },
      { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
    ).verify(idJwt),
    JwtInvalidAudienceError,
  );
  await assert.rejects(
    JwtRsaVerifier.create(
      { issuer: `${baseUrl}/us-east-1_Other`, audience: clientId, jwksUri: `${issuer}/.well-known/jwks.json` },
      { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
    ).verify(idJwt),
    JwtInvalidIssuerError,
  );
});

test('aws-jwt-verify verifies the access token (issuer, client_id, token_use access)', async () => {
  const accessJwt = srpSession.getAccessToken().getJwtToken();
  const payload = await verifierFor('access').verify(accessJwt);
  assert.equal(payload.token_use, 'access');
  assert.equal(payload.client_id, clientId);
  assert.equal(payload.iss, issuer);
  assert.equal(payload.sub, userSub);
  assert.equal(payload.username, username);

  // The ID token is not an access token.
  await assert.rejects(verifierFor('access').verify(srpSession.getIdToken().getJwtToken()));
});

test('a tampered token is rejected', async () => {
  for (const [use, jwt] of [['id', srpSession.getIdToken().getJwtToken()],
    ['access', srpSession.getAccessToken().getJwtToken()]]) {
    const [h, p, s] = jwt.split('.');
    const verifier = verifierFor(use);
    // Sanity: the untouched token passes this verifier.
    await verifier.verify(jwt);

    // One character of the payload's JSON changed (the last character of `sub`), re-encoded:
    // still a well-formed token, so only the signature can catch it.
    const json = Buffer.from(p, 'base64url').toString('utf8');
    const at = json.indexOf(userSub) + userSub.length - 1;
    const swapped = json[at] === '0' ? '1' : '0';
    const forged = `${h}.${Buffer.from(json.slice(0, at) + swapped + json.slice(at + 1)).toString('base64url')}.${s}`;
    assert.notEqual(decodePayload(forged).sub, userSub);
    await assert.rejects(verifier.verify(forged), JwtInvalidSignatureError, `${use} token with a changed sub`);

    // One character of the encoded payload changed, in the middle of the segment.
    const mid = Math.floor(p.length / 2);
    const c = p[mid] === 'A' ? 'B' : 'A';
    const flipped = `${h}.${p.slice(0, mid)}${c}${p.slice(mid + 1)}.${s}`;
    await assert.rejects(verifier.verify(flipped), `${use} token with a flipped payload character`);

    // The signature of another token does not fit.
    const other = use === 'id' ? srpSession.getAccessToken().getJwtToken() : srpSession.getIdToken().getJwtToken();
    await assert.rejects(verifier.verify(`${h}.${p}.${other.split('.')[2]}`), `${use} token with another signature`);
  }
});

test('aws-jwt-verify rejects tokens that have expired (server clock moved back two hours)', async () => {
  await advanceServerClock(-7200);
  let session;
  try {
    const user = new CognitoUser({ Username: username, Pool: userPool });
    user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
    session = await authenticate(user, PASSWORD);
  } finally {
    await advanceServerClock(7200);
  }
  const access = session.getAccessToken();
  assert.ok(access.getExpiration() < Date.now() / 1000, `exp ${access.getExpiration()} is in the past`);
  await assert.rejects(verifierFor('access').verify(access.getJwtToken()), JwtExpiredError);
  await assert.rejects(verifierFor('id').verify(session.getIdToken().getJwtToken()), JwtExpiredError);
});
