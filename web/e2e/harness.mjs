// Shared pieces for browser tests that each start their own server: the
// real binary on port 0 in a temp dir, accounts made through the API (with
// phones verified from the development SMS outbox), browser contexts that
// start signed in, and a PNG generator for uploads.
//
// PLAZA_BIN names a built binary (otherwise one is built once per process);
// PLAZA_CHROMIUM names the browser (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const shots = join(root, 'docs', 'screenshots');
export const phone = { width: 390, height: 844 };
const chromiumPath = process.env.PLAZA_CHROMIUM || '/usr/bin/chromium';

let builtBin;

/** plazaBin returns PLAZA_BIN, or builds the binary once into dir. */
export function plazaBin(dir) {
  if (process.env.PLAZA_BIN) return process.env.PLAZA_BIN;
  if (!builtBin) {
    builtBin = join(dir, 'plaza');
    execFileSync('go', ['build', '-o', builtBin, './cmd/plaza'], { cwd: root, stdio: 'inherit' });
  }
  return builtBin;
}

/**
 * launchBrowser starts headless Chromium, or fails with how to install it;
 * extraArgs are added to its command line.
 */
export async function launchBrowser(extraArgs = []) {
  if (!existsSync(chromiumPath)) {
    assert.fail(`Chromium not found at ${chromiumPath}: install it with "apt-get update && apt-get install -y chromium" ` +
      '(.ci/run does), or set PLAZA_CHROMIUM to its path.');
  }
  mkdirSync(shots, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

/**
 * startServer runs plaza serve in a fresh temp dir and resolves once it
 * logs "plaza serving"; extraArgs are added to its command line. The
 * result's stop() ends it and removes the dir.
 */
export async function startServer(extraArgs = []) {
  const tmp = mkdtempSync(join(tmpdir(), 'plaza-e2e-mb-'));
  const data = join(tmp, 'data');
  const bin = plazaBin(tmp);
  const proc = spawn(bin, [
    'serve', '--listen', '127.0.0.1:0', '--data', data, '--rate-limits', 'off', '--log-format', 'json', ...extraArgs,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const logs = [];
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plaza did not log "plaza serving" within 30s:\n${logs.join('\n')}`)), 30000);
    createInterface({ input: proc.stderr }).on('line', (line) => {
      logs.push(line);
      let rec;
      try { rec = JSON.parse(line); } catch { return; }
      if (rec.msg === 'plaza serving') {
        clearTimeout(timer);
        resolve(rec.addr);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`plaza exited with ${code} before serving:\n${logs.join('\n')}`));
    });
  });
  const server = {
    addr,
    data,
    logs,
    async stop() {
      if (proc.exitCode === null) {
        await new Promise((resolve) => {
          proc.once('exit', resolve);
          proc.kill('SIGTERM');
        });
      }
      rmSync(tmp, { recursive: true, force: true });
    },
    /** call sends one API request and returns the parsed body (or throws with the error body). */
    async call(token, method, path, body) {
      const headers = { Accept: 'application/json' };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(`${addr}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      const data = text ? JSON.parse(text) : undefined;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return data;
    },
    /** serves reports whether the OpenAPI document lists a route ("GET /api/v1/me/exports"). */
    async serves(route) {
      const [method, path] = route.split(' ');
      const doc = await (await fetch(`${addr}/api/v1/openapi.json`)).json();
      return !!doc.paths?.[path]?.[method.toLowerCase()];
    },
    /** grant gives an account a role with the admin CLI while the server runs. */
    grant(handle, role) {
      execFileSync(bin, ['admin', 'grant', '--data', data, handle, role], { stdio: 'pipe' });
    },
    /** smsCode returns the latest code the development outbox holds for a number. */
    smsCode(to) {
      const file = join(data, 'outbox', 'sms.jsonl');
      const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
      const codes = lines.filter(Boolean).map((l) => JSON.parse(l)).filter((m) => m.to === to);
      assert.ok(codes.length > 0, `no SMS to ${to} in the outbox`);
      return codes.at(-1).code;
    },
  };
  return server;
}

let phones = 0;

/**
 * account registers through the API and verifies a phone (posting needs
 * one); it returns {id, handle, token}.
 */
export async function account(server, handle, displayName) {
  const terms = await server.call(null, 'GET', '/terms');
  const r = await server.call(null, 'POST', '/accounts', {
    handle, password: 'a long passphrase', display_name: displayName, birth_date: '1990-01-02',
    accepted_terms_version: terms.version,
  });
  const number = `+861380013${String(8000 + ++phones).padStart(4, '0')}`;
  await server.call(r.token, 'POST', '/me/phone', { phone: number });
  await server.call(r.token, 'POST', '/me/phone/verify', { code: server.smsCode(number) });
  return { id: r.account.id, handle, token: r.token };
}

/**
 * person opens a phone-sized browser context signed in as acct that
 * records console errors. Failed requests that a step provokes on purpose
 * are allowed while p.expectFailedRequests is set, and those to URLs that
 * match one of the regular expressions in p.allowFailed always.
 */
export async function person(browser, server, acct) {
  const context = await browser.newContext({ viewport: phone, deviceScaleFactor: 2, baseURL: server.addr });
  await context.addInitScript((token) => localStorage.setItem('plaza.token', token), acct.token);
  const page = await context.newPage();
  const p = { ...acct, context, page, problems: [], expectFailedRequests: false, allowFailed: [] };
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const failed = /^Failed to load resource/.test(m.text());
    if (p.expectFailedRequests && failed) return;
    if (failed && p.allowFailed.some((re) => re.test(m.location()?.url ?? ''))) return;
    p.problems.push(`${acct.handle} console: ${m.text()}`);
  });
  page.on('pageerror', (e) => p.problems.push(`${acct.handle} page error: ${e.message}`));
  return p;
}

/** shot saves a phone-sized screenshot into docs/screenshots. */
export function shot(page, name) {
  return page.screenshot({ path: join(shots, name) });
}

/** png encodes a width×height RGB picture (a sunset-like gradient, hue shifted by seed) as PNG. */
export function png(width, height, seed = 0) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, body) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const tb = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(tb));
    return Buffer.concat([len, tb, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // no filter
    for (let x = 0; x < width; x++) {
      const sun = (x - width * 0.6) ** 2 + (y - height * 0.45) ** 2 < (height * 0.18) ** 2;
      const i = row + 1 + x * 3;
      raw[i] = sun ? 255 : (40 + seed * 70 + Math.round((215 * y) / height)) % 256;
      raw[i + 1] = sun ? 220 : (60 + seed * 40 + Math.round((90 * y) / height)) % 256;
      raw[i + 2] = sun ? 120 : (140 + seed * 90 - Math.round((80 * y) / height)) % 256;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** poll calls fn until it returns a truthy value or the deadline passes. */
export async function poll(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
