// The web server (web/serve.ts, `npm run serve:web`) under generated requests: URLs built from escapes, dots,
// slashes and bytes, odd methods, and byte-mutated raw requests. Property: every request gets an answer (or, for
// a request line HTTP cannot parse, a closed socket), never a 500, never a file outside the served folders, within
// the bound; and `/` still answers 200 afterwards.
import fc from 'fast-check';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startWebServer } from '../../web/serve.ts';
import { bounded, ensure, FuzzFailure, mutatedBytes, type FuzzTarget } from './harness.ts';

interface ServeCtx { port: number; secret: string }
type ServeInput = { kind: 'url'; method: string; target: string } | { kind: 'raw'; bytes: Uint8Array };

const SECRET = 'detclip-fuzz-secret-4f1c';
const TOKENS = ['/', '/', '..', '.', '%2e', '%2E', '%2f', '%2F', '%5c', '\\', '%00', '%', '%E0%A4%A', '%C0%AE', '%25', '?', '#', '//',
  'model', 'model/', 'index.html', 'config.json', 'secret.txt', 'dist', ';', '%20', ' ', '\t', 'é', '\u0000', '\r\n'];

/**
 * One raw request; the status code, or 0 when the server closed without one. Reads until the body is complete.
 * The socket stays open for writing (Node's server drops the answer to a half-closed request) until `graceMs` has
 * passed without a complete answer: an incomplete request is then ended, as a client that gave up would.
 */
function send(port: number, bytes: Uint8Array, graceMs = 400): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes));
    const timer = setTimeout(() => sock.end(), graceMs);
    let data = Buffer.alloc(0);
    const finish = (): void => {
      clearTimeout(timer);
      sock.destroy();
      const text = data.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), body: head >= 0 ? text.slice(head + 4) : '' });
    };
    sock.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const text = data.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(text)?.[1];
      if (head >= 0 && len !== undefined && data.length >= head + 4 + Number(len)) finish();
    });
    sock.on('error', finish);
    sock.on('close', finish);
  });
}

const request = (method: string, target: string): Uint8Array =>
  new Uint8Array(Buffer.from(`${method} ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 'latin1'));

export const serveTarget: FuzzTarget<ServeCtx, ServeInput> = {
  name: 'serve', about: 'serve:web (web/serve.ts) on generated URLs and methods and byte-mutated raw requests; / must keep answering', boundMs: 3000, testRuns: 100,
  async setup(dir) {
    const dist = path.join(dir, 'dist');
    const model = path.join(dir, 'model');
    fs.mkdirSync(dist);
    fs.mkdirSync(model);
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html>ok');
    fs.writeFileSync(path.join(model, 'config.json'), '{}');
    fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
    const server = await startWebServer({ dist, modelDir: model });
    server.unref();
    return { port: Number(new URL(server.url).port), secret: SECRET };
  },
  arbitrary() {
    const method = fc.oneof(fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'get'),
      fc.stringMatching(/^[A-Z]{1,12}$/));
    const target = fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 12 })
      .map((parts) => (parts[0]!.startsWith('/') ? '' : '/') + parts.join(''));
    const url = fc.record({ kind: fc.constant('url' as const), method, target });
    const raw = mutatedBytes(request('GET', '/model/config.json')).map((bytes) => ({ kind: 'raw' as const, bytes }));
    return fc.oneof({ arbitrary: url, weight: 3 }, { arbitrary: raw, weight: 1 });
  },
  async run(ctx, input) {
    const bytes = input.kind === 'url' ? request(input.method, input.target) : input.bytes;
    const what = input.kind === 'url' ? `${input.method} ${JSON.stringify(input.target)}` : `raw ${JSON.stringify(Buffer.from(input.bytes).toString('latin1').slice(0, 80))}`;
    const r = await bounded(this.boundMs, what, () => send(ctx.port, bytes));
    ensure(r.status !== 500, `${what}: 500 internal error`);
    ensure(!r.body.includes(ctx.secret), `${what}: served a file outside the served folders`);
    // a request HTTP can parse gets a status line; only an unparsable one may be closed without one
    if (input.kind === 'url' && r.status === 0 && !/[\s\u0000-\u001f\u007f-\uffff]/.test(input.target)) {
      throw new FuzzFailure(`${what}: no answer`);
    }
    const home = await bounded(this.boundMs, `${what}, then GET /`, () => send(ctx.port, request('GET', '/')));
    ensure(home.status === 200, `after ${what}: GET / answered ${home.status}`);
  },
};
