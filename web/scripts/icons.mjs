// Writes Plaza's PWA icons (public/icons/*.png) with nothing but Node's
// zlib: a green tile with a white speech bubble. Run with `npm run icons`;
// the output is committed, so a build does not need to run this.
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');
const green = [0x1f, 0x7a, 0x5c];
const white = [0xff, 0xff, 0xff];

const crcTable = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

// icon draws a size×size RGBA image. full: the tile fills the square (for
// "maskable" icons, whose corners the platform cuts); otherwise the tile
// has rounded corners. The bubble stays inside the maskable safe zone.
function icon(size, full) {
  const rows = [];
  const r = full ? 0 : size * 0.18;
  const cx = size / 2, cy = size * 0.47, br = size * (full ? 0.24 : 0.28);
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4); // filter byte 0: none
    for (let x = 0; x < size; x++) {
      const px = x + 0.5, py = y + 0.5;
      // Distance outside the rounded tile's corner arcs.
      const dx = Math.max(r - px, px - (size - r), 0);
      const dy = Math.max(r - py, py - (size - r), 0);
      const inTile = r === 0 || dx * dx + dy * dy <= r * r;
      const inBubble = (px - cx) ** 2 + (py - cy) ** 2 <= br * br;
      // The bubble's tail: a triangle below and left of the circle.
      const tx = px - (cx - br * 0.55), ty = py - (cy + br * 0.55);
      const inTail = tx >= 0 && ty >= 0 && tx + ty * 1.6 <= br * 0.75 && ty <= br * 0.5;
      const c = inBubble || inTail ? white : green;
      const o = 1 + x * 4;
      row[o] = c[0]; row[o + 1] = c[1]; row[o + 2] = c[2];
      row[o + 3] = inTile ? 0xff : 0;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

mkdirSync(out, { recursive: true });
for (const [name, size, full] of [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['icon-maskable-512.png', 512, true],
]) {
  writeFileSync(join(out, name), icon(size, full));
  console.log('wrote', join('public', 'icons', name));
}
