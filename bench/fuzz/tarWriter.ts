// A tiny ustar writer for the fuzz targets: header fields can be set to anything (declared size, type flag,
// magic), with the checksum recomputed or left stale, so that mutations get past the checksum into the reader.
import sharp from 'sharp';

export interface TarMember {
  name: string;
  data: Uint8Array;
  type?: string;          // type flag, default '0'
  declaredSize?: string;  // the size field's raw text (default: the data's size in octal)
  magic?: string;         // default 'ustar'
}

const field = (h: Buffer, off: number, len: number, s: string): void => { Buffer.from(s, 'latin1').copy(h, off, 0, len); };

function header(m: TarMember, fixChecksum: boolean): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, m.name);
  field(h, 100, 8, '0000644\0');
  field(h, 108, 8, '0000000\0');
  field(h, 116, 8, '0000000\0');
  field(h, 124, 12, m.declaredSize ?? `${m.data.length.toString(8).padStart(11, '0')}\0`);
  field(h, 136, 12, '00000000000\0');
  field(h, 156, 1, m.type ?? '0');
  field(h, 257, 6, m.magic ?? 'ustar\0');
  field(h, 263, 2, '00');
  if (fixChecksum) {
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  }
  return h;
}

/** The archive bytes: each member's header and data padded to 512, then two zero blocks. */
export function tarArchive(members: TarMember[], fixChecksums = true): Uint8Array {
  const parts: Buffer[] = [];
  for (const m of members) {
    parts.push(header(m, fixChecksums), Buffer.from(m.data));
    const pad = (512 - (m.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return new Uint8Array(Buffer.concat(parts));
}

const pax = (key: string, value: string): Uint8Array => {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (`${len}${body}`.length !== len) len++;
  return Buffer.from(`${len}${body}`);
};

/** A valid small shard: PNG + txt, JPEG + json, a pax-named and a GNU long-named pair, a group without caption. */
export async function tarMembers(): Promise<TarMember[]> {
  const rgb = Buffer.alloc(8 * 6 * 3, 90);
  const png = await sharp(rgb, { raw: { width: 8, height: 6, channels: 3 } }).png().toBuffer();
  const jpg = await sharp(rgb, { raw: { width: 8, height: 6, channels: 3 } }).jpeg().toBuffer();
  const long = `${'d'.repeat(90)}/${'k'.repeat(40)}`;
  return [
    { name: '0001.png', data: png },
    { name: '0001.txt', data: Buffer.from('a grey square') },
    { name: '0002.jpg', data: jpg },
    { name: '0002.json', data: Buffer.from(JSON.stringify({ caption: 'a grey jpeg', other: [1, 2] })) },
    { name: 'PaxHeader', type: 'x', data: pax('path', 'dir/0003.png') },
    { name: 'ignored.png', data: png },
    { name: 'dir/0003.txt', data: Buffer.from('pax named') },
    { name: '././@LongLink', type: 'L', data: Buffer.from(`${long}.png\0`) },
    { name: 'short.png', data: png },
    { name: `${'d'.repeat(90)}/x.txt`, data: Buffer.from('no image for this key') },
    { name: 'dir', type: '5', data: new Uint8Array(0) },
  ];
}
