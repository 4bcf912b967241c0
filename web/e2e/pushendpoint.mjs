// A local Web Push endpoint for browser tests: it stands where a browser
// vendor's push service would, holds a subscription's keys, and decrypts
// what the server sends per RFC 8291 (aes128gcm, RFC 8188), after checking
// the VAPID authorisation (RFC 8292). Nothing leaves the machine.
import assert from 'node:assert/strict';
import { createECDH, createDecipheriv, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { createServer } from 'node:http';

const b64u = (buf) => Buffer.from(buf).toString('base64url');

/**
 * pushEndpoint starts the endpoint; its subscription() is what a browser's
 * PushSubscription.toJSON() would give, received() the decrypted pushes.
 */
export async function pushEndpoint() {
  const ecdh = createECDH('prime256v1');
  const uaPublic = ecdh.generateKeys(); // 65-byte uncompressed point
  const authSecret = randomBytes(16);
  const got = [];
  const waiters = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = Buffer.concat(chunks);
        assert.equal(req.headers['content-encoding'], 'aes128gcm');
        assert.ok(Number(req.headers.ttl) > 0, 'a TTL header');
        const vapid = checkVapid(req.headers.authorization ?? '', `http://${req.headers.host}`);
        const push = { headers: req.headers, vapid, payload: JSON.parse(decrypt(body, ecdh, uaPublic, authSecret).toString('utf8')) };
        got.push(push);
        for (const w of waiters.splice(0)) w();
        res.writeHead(201).end();
      } catch (err) {
        got.push({ error: String(err?.stack ?? err) });
        for (const w of waiters.splice(0)) w();
        res.writeHead(400).end();
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/push/${b64u(randomBytes(8))}`;
  return {
    subscription: () => ({ endpoint: url, keys: { p256dh: b64u(uaPublic), auth: b64u(authSecret) } }),
    received: () => got,
    /** next waits for a push (or a failed one) beyond the first n. */
    async next(n, ms = 15000) {
      const deadline = Date.now() + ms;
      while (got.length <= n) {
        if (Date.now() > deadline) assert.fail(`no push arrived within ${ms} ms`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
      }
      const p = got[n];
      assert.ok(!p.error, `a push failed to decrypt or verify: ${p.error}`);
      return p;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

/** decrypt opens one aes128gcm body addressed to the subscription's keys (RFC 8291 §3.4, RFC 8188 §2). */
function decrypt(body, ecdh, uaPublic, authSecret) {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  assert.equal(idlen, 65, 'the key id is the server\'s ephemeral public key');
  assert.ok(records.length <= rs, 'one record');
  const shared = ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(records.subarray(records.length - 16));
  const plain = Buffer.concat([d.update(records.subarray(0, records.length - 16)), d.final()]);
  // The last record ends with the delimiter 2, then zero padding.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  assert.equal(plain[end], 2, 'the last record\'s delimiter');
  return plain.subarray(0, end);
}

/** checkVapid verifies "vapid t=JWT, k=KEY": an ES256 JWT for this origin, signed by KEY, not expired. */
function checkVapid(header, origin) {
  const m = header.match(/^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/);
  assert.ok(m, `Authorization is "vapid t=…, k=…": ${header}`);
  const [h, p, s] = m[1].split('.');
  const head = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  assert.equal(head.alg, 'ES256');
  assert.equal(claims.aud, origin);
  assert.ok(claims.exp * 1000 > Date.now() && claims.exp * 1000 < Date.now() + 24 * 3600 * 1000 + 60_000, 'exp within 24 h');
  assert.ok(typeof claims.sub === 'string' && /^(mailto:|https:)/.test(claims.sub), 'a contact in sub');
  const point = Buffer.from(m[2], 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) }, format: 'jwk' });
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  assert.ok(ok, 'the VAPID signature verifies with k');
  return { key: m[2], claims };
}
