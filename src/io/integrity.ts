// Checksums on the JSON files detclip writes and reads back whole (a checkpoint's state.json; a model directory's
// config.json stays hand-editable: its schema and the weights' shapes check it) and the records in them of the
// safetensors files they go with. Browser-safe (no node:*).
//
// A stamped JSON object carries
//   crc32   CRC-32 of JSON.stringify(the object without `crc32`): compact, keys in file order, so re-indenting
//           the file does not matter but any changed value, key or structure does;
//   files   { "model.safetensors": { bytes, crc32 } }: each companion file's size and its own embedded checksum
//           (safetensors `__metadata__` 'detclip.crc32'), so a file from another save is refused too.
// Files written before checksums existed (and foreign ones) have neither and load as before. One damaged byte can
// hide a checksum only by renaming its key; `crc32` and `files` then vouch for each other (one without the other
// is an error), and a renamed key elsewhere changes nothing that is read.
import { UserError } from '../errors.ts';
import { crc32, crcHex } from './crc32.ts';

export interface FileRecord { bytes: number; crc32: string }
export type FileRecords = Record<string, FileRecord>;

const canonicalCrc = (obj: object): string => crcHex(crc32(new TextEncoder().encode(JSON.stringify(obj))));

/** `obj` with `files` (when given) and then `crc32` added last. */
export function stampJson<T extends object>(obj: T, files?: FileRecords): T & { crc32: string; files?: FileRecords } {
  const body = files ? { ...obj, files } : { ...obj };
  return { ...body, crc32: canonicalCrc(body) };
}

/**
 * Checks a parsed JSON object's `crc32` (see the header). `hint` ends the mismatch message (e.g. how to accept a
 * hand edit). Returns the object without `crc32` and the `files` records (undefined when the file has none).
 */
export function verifyJson(where: string, obj: unknown, hint = ''): { body: Record<string, unknown>; files?: FileRecords } {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { body: obj as Record<string, unknown> };
  const { crc32: stored, ...body } = obj as Record<string, unknown>;
  const files = body.files;
  if (stored === undefined) {
    if (files !== undefined) throw new UserError(`${where}: damaged (it records file checksums but its own "crc32" is missing)`);
    return { body };
  }
  if (typeof stored !== 'string' || !/^[0-9a-f]{8}$/.test(stored)) throw new UserError(`${where}: damaged ("crc32" is not 8 hex digits)`);
  if (canonicalCrc(body) !== stored) throw new UserError(`${where}: checksum mismatch: the file is damaged${hint}`);
  if (files === undefined) return { body };
  const ok = typeof files === 'object' && files !== null && !Array.isArray(files) && Object.values(files).every((r) =>
    typeof r === 'object' && r !== null && Number.isSafeInteger((r as FileRecord).bytes) && typeof (r as FileRecord).crc32 === 'string');
  if (!ok) throw new UserError(`${where}: bad "files" record`);
  return { body, files: files as FileRecords };
}

/**
 * Compares a companion file with its record: `actual` is its size and embedded checksum (undefined when it has
 * none). No record: nothing to compare.
 */
export function checkFileRecord(file: string, recordedIn: string, record: FileRecord | undefined, actual: { bytes: number; crc32?: string }): void {
  if (!record) return;
  if (actual.bytes !== record.bytes || actual.crc32 !== record.crc32) {
    const what = actual.bytes !== record.bytes ? `${actual.bytes} bytes, ${recordedIn} records ${record.bytes}` : `its checksum ${actual.crc32 ?? '(none)'} is not the ${record.crc32} that ${recordedIn} records`;
    throw new UserError(`${file}: damaged or from another save (${what})`);
  }
}
