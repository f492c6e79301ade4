// A tiny static server for the browser page: the built page (web/dist) at /, a model directory at /model/ (a
// TF.js model dir, an ONNX export dir, or both in one). It sends COOP/COEP headers, so the page is cross-origin
// isolated and onnxruntime-web may use threads (SharedArrayBuffer); --no-isolate leaves them out (1 thread).
//   npm run serve:web -- --model runs/demo/model [--port 8080] [--dist web/dist] [--no-isolate]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.safetensors': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
};

/** Cross-origin isolation: SharedArrayBuffer (wasm threads) for the page; every file here is same-origin. */
const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

export interface WebServerOptions {
  dist: string; modelDir?: string; host?: string; port?: number;
  /** Send COOP/COEP so that the page is cross-origin isolated (default false; the CLI sends them unless --no-isolate). */
  isolate?: boolean;
}
export interface WebServer {
  url: string;
  close(): Promise<void>;
  /** Lets the process exit while the server is still listening (fuzzing, tests). */
  unref(): void;
}

/** A request that cannot be served as asked: answered with its status and one line, never a crash. */
class BadRequest extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** The file under root for a URL path, or null when it would leave root. */
function within(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new BadRequest(400, 'malformed percent-escape in the URL');
  }
  if (decoded.includes('\0')) throw new BadRequest(400, 'NUL byte in the URL');
  const file = path.resolve(root, '.' + path.posix.normalize(decoded));
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

function serve(req: http.IncomingMessage, res: http.ServerResponse, dist: string, modelDir: string | null, isolate: boolean): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new BadRequest(405, 'only GET and HEAD');
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw new BadRequest(400, 'malformed URL');
  }
  let p = url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname;
  let root = dist;
  if (p.startsWith('/model/')) {
    root = modelDir ?? '';
    p = p.slice('/model'.length);
  }
  const file = root ? within(root, p) : null;
  const stat = file ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
  if (!file || !stat?.isFile()) throw new BadRequest(404, 'not found');
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': stat.size, 'cache-control': 'no-cache',
    ...(isolate ? ISOLATION_HEADERS : {}),
  });
  if (req.method === 'HEAD') { res.end(); return; }
  const stream = fs.createReadStream(file);
  stream.on('error', () => res.destroy()); // e.g. the file vanished after stat: drop this connection only
  stream.pipe(res);
}

export function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const dist = path.resolve(o.dist);
  const modelDir = o.modelDir ? path.resolve(o.modelDir) : null;
  // Every request is answered on its own: one that fails gets its status and one line; the server keeps serving.
  const server = http.createServer((req, res) => {
    try {
      serve(req, res, dist, modelDir, o.isolate ?? false);
    } catch (e) {
      const status = e instanceof BadRequest ? e.status : 500;
      const line = e instanceof BadRequest ? e.message : 'internal error';
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`${line}\n`);
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      const a = server.address() as { address: string; port: number };
      resolve({
        url: `http://${a.address}:${a.port}/`,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
        unref: () => { server.unref(); },
      });
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
  if (!modelDir || !['config.json', 'manifest.json'].some((f) => fs.existsSync(path.join(modelDir, f)))) {
    process.stderr.write('serve:web: give --model DIR, a model directory with config.json and model.safetensors, or an ONNX export (manifest.json, image.onnx, text.onnx)\n');
    process.exit(1);
  }
  const isolate = !process.argv.includes('--no-isolate');
  startWebServer({ dist, modelDir, port: Number(arg('--port') ?? 8080), host: arg('--host') ?? '127.0.0.1', isolate }).then((s) => {
    process.stdout.write(`serving ${dist} with the model ${modelDir} at ${s.url}${isolate ? ' (cross-origin isolated)' : ''}\n`);
  });
}
