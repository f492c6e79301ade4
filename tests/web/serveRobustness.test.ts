// The static server survives hostile requests: malformed escapes, traversal, odd methods, garbage on the socket
// and a few hundred generated paths; every one gets an answer and `/` still answers afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startWebServer } from '../../web/serve.ts';

/** One raw HTTP/1.1 request; resolves with the status code (0 when the server closed without one). */
function raw(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(request));
    let data = '';
    sock.setTimeout(5000, () => { sock.destroy(); reject(new Error(`no answer to ${JSON.stringify(request.slice(0, 60))}`)); });
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('error', () => resolve(0));
    sock.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0)));
  });
}
const get = (port: number, target: string, method = 'GET', body = ''): Promise<number> =>
  raw(port, `${method} ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);

test('serve:web answers malformed, traversal and generated requests and keeps serving', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-serve-'));
  const dist = path.join(dir, 'dist');
  const model = path.join(dir, 'model');
  fs.mkdirSync(dist);
  fs.mkdirSync(model);
  fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html>ok');
  fs.writeFileSync(path.join(model, 'config.json'), '{}');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  const server = await startWebServer({ dist, modelDir: model });
  const port = Number(new URL(server.url).port);
  try {
    assert.equal(await get(port, '/'), 200);
    assert.equal(await get(port, '/model/config.json'), 200);
    assert.equal(await get(port, '/%E0%A4%A'), 400, 'malformed percent escape');
    assert.equal(await get(port, '/model/%E0%A4%A'), 400);
    assert.equal(await get(port, '/a%00b'), 400, 'NUL byte');
    for (const t of ['/../secret.txt', '/%2e%2e/secret.txt', '/model/..%2f..%2fsecret.txt', '/model/%2e%2e%2f%2e%2e%2fsecret.txt', '/..\\secret.txt']) {
      assert.equal(await get(port, t), 404, `traversal ${t}`);
    }
    assert.equal(await get(port, '/', 'DELETE'), 405);
    assert.equal(await get(port, '/', 'PUT', 'x'.repeat(1000)), 405);
    assert.ok([400, 0].includes(await raw(port, 'GARBAGE\r\n\r\n')), 'garbage request line');
    assert.ok([400, 0].includes(await raw(port, '\x00\x01\x02\xff\r\n\r\n')));
    // generated paths: random mixes of escapes, dots, slashes and bytes (seeded)
    let s = 20261207;
    const next = (n: number): number => { s = (s * 1103515245 + 12345) % 2147483648; return s % n; };
    const parts = ['%', '%E0', '%A4', '%2e', '%2f', '%5c', '..', '.', '/', '//', 'model', 'index.html', '%00', '%ff', 'a', '~', '?', '#', ';'];
    for (let i = 0; i < 300; i++) {
      let p = '/';
      for (let k = 0, n = 1 + next(8); k < n; k++) p += parts[next(parts.length)];
      const status = await get(port, p.replace(/[ \r\n]/g, ''));
      assert.ok([200, 400, 404].includes(status), `${p}: status ${status}`);
    }
    assert.equal(await get(port, '/'), 200, 'still serving');
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
