// Atomic file writes: write a temp file beside the target, fsync, then rename over it,
// so a crash never leaves a half-written checkpoint or result file.
import fs from 'node:fs';
import path from 'node:path';

export function atomicWriteFileSync(file: string, data: string | Uint8Array | Uint8Array[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    const parts = Array.isArray(data) ? data : [data];
    for (const p of parts) fs.writeSync(fd, p as never);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

export async function atomicWriteFile(file: string, data: string | Uint8Array | Uint8Array[]): Promise<void> {
  atomicWriteFileSync(file, data);
}
