// A tiny static server for the browser page: the built page (web/dist) at /, a model directory at /model/.
//   npm run serve:web -- --model runs/demo/model [--port 8080] [--dist web/dist]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.safetensors': 'application/octet-stream',
};

export interface WebServerOptions { dist: string; modelDir?: string; host?: string; port?: number }
export interface WebServer { url: string; close(): Promise<void> }

/** The file under root for a URL path, or null when it would leave root. */
function within(root: string, urlPath: string): string | null {
  const file = path.resolve(root, '.' + path.posix.normalize(decodeURIComponent(urlPath)));
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

export function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const dist = path.resolve(o.dist);
  const modelDir = o.modelDir ? path.resolve(o.modelDir) : null;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let p = url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname;
    let root = dist;
    if (p.startsWith('/model/')) {
      root = modelDir ?? '';
      p = p.slice('/model'.length);
    }
    const file = root ? within(root, p) : null;
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405).end(); return; }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'); return; }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': fs.statSync(file).size, 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      const a = server.address() as { address: string; port: number };
      resolve({ url: `http://${a.address}:${a.port}/`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  const dist = arg('--dist') ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'dist');
  const modelDir = arg('--model');
  if (!fs.existsSync(path.join(dist, 'main.js'))) {
    process.stderr.write(`serve:web: ${dist}/main.js not found: run npm run build:web first\n`);
    process.exit(1);
  }
  if (!modelDir || !fs.existsSync(path.join(modelDir, 'config.json'))) {
    process.stderr.write('serve:web: give --model DIR, a model directory with config.json and model.safetensors\n');
    process.exit(1);
  }
  startWebServer({ dist, modelDir, port: Number(arg('--port') ?? 8080), host: arg('--host') ?? '127.0.0.1' }).then((s) => {
    process.stdout.write(`serving ${dist} with the model ${modelDir} at ${s.url}\n`);
  });
}
