/**
 * Draws the app icons as PNG files (static/icons/): the dashboard's logo
 * (static/icon.svg: points of a latent space and the red "selected" X) on
 * the theme blue. `deno run -A scripts/make_icons.ts` rewrites them; the
 * PNGs are committed, so nothing runs this at start-up.
 *
 * - icon-192.png, icon-512.png: purpose "any" (rounded square, transparent corners);
 * - icon-512-maskable.png: purpose "maskable" (full-bleed background, the
 *   logo inside the central 80 % safe zone).
 *
 * A minimal PNG encoder: 8-bit RGBA, filter 0, zlib via CompressionStream.
 */

const BG = [0x1d, 0x4e, 0xd8];
const RED = [0xff, 0x5a, 0x5f];

/** The logo in a 64×64 design space, as in static/icon.svg. */
const DOTS: Array<[number, number, number, number]> = [
  [18, 22, 4, 1],
  [28, 16, 3, 0.8],
  [24, 30, 3, 0.7],
  [40, 40, 4, 1],
  [47, 32, 3, 0.8],
  [36, 50, 3, 0.7],
  [46, 48, 2.5, 0.6],
  [16, 38, 2.5, 0.6],
];
const X_SEGMENTS: Array<[number, number, number, number]> = [
  [38, 14, 48, 24],
  [48, 14, 38, 24],
];
const X_HALF_WIDTH = 1.75;

function segDist(
  px: number,
  py: number,
  [x1, y1, x2, y2]: [number, number, number, number],
): number {
  const dx = x2 - x1, dy = y2 - y1;
  const t = Math.max(
    0,
    Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)),
  );
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

/** Colour (rgb, alpha) of one point in design space; maskable = full bleed. */
function shade(u: number, v: number, maskable: boolean): [number[], number] {
  // Background: rounded square (rx 14 of 64) or, maskable, everything.
  let inside = true;
  if (!maskable) {
    const r = 14;
    const cx = Math.min(Math.max(u, r), 64 - r);
    const cy = Math.min(Math.max(v, r), 64 - r);
    inside = u >= 0 && u <= 64 && v >= 0 && v <= 64 &&
      Math.hypot(u - cx, v - cy) <= r;
  }
  if (!inside) return [[0, 0, 0], 0];
  let c = [...BG];
  for (const [x, y, r, a] of DOTS) {
    if (Math.hypot(u - x, v - y) <= r) {
      c = c.map((ch) => ch + (255 - ch) * a);
    }
  }
  for (const s of X_SEGMENTS) {
    if (segDist(u, v, s) <= X_HALF_WIDTH) c = [...RED];
  }
  return [c, 1];
}

function draw(size: number, maskable: boolean): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  // Maskable: the 64-unit logo shrinks to the safe zone (80 % of the side).
  const scale = maskable ? 0.8 : 1;
  const SS = 4; // 4×4 supersampling for smooth edges
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const fx = (x + (sx + 0.5) / SS) / size;
          const fy = (y + (sy + 0.5) / SS) / size;
          const u = ((fx - 0.5) / scale + 0.5) * 64;
          const v = ((fy - 0.5) / scale + 0.5) * 64;
          const [c, al] = shade(u, v, maskable);
          r += c[0] * al;
          g += c[1] * al;
          b += c[2] * al;
          a += al;
        }
      }
      const o = 4 * (y * size + x);
      const n = SS * SS;
      // Un-premultiply: colour averaged over the covered samples only.
      px[o] = a ? Math.round(r / a) : 0;
      px[o + 1] = a ? Math.round(g / a) : 0;
      px[o + 2] = a ? Math.round(b / a) : 0;
      px[o + 3] = Math.round((255 * a) / n);
    }
  }
  return px;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function zlib(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function encodePng(
  rgba: Uint8Array,
  width: number,
  height: number,
): Promise<Uint8Array> {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = new Uint8Array(height * (1 + 4 * width));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + 4 * width)] = 0; // filter: none
    raw.set(
      rgba.subarray(4 * width * y, 4 * width * (y + 1)),
      y * (1 + 4 * width) + 1,
    );
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", await zlib(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

if (import.meta.main) {
  const dir = decodeURIComponent(
    new URL("../static/icons/", import.meta.url).pathname,
  );
  await Deno.mkdir(dir, { recursive: true });
  for (
    const [name, size, maskable] of [
      ["icon-192.png", 192, false],
      ["icon-512.png", 512, false],
      ["icon-512-maskable.png", 512, true],
    ] as const
  ) {
    const png = await encodePng(draw(size, maskable), size, size);
    await Deno.writeFile(`${dir}${name}`, png);
    console.log(`${name}: ${size}×${size}, ${png.length} bytes`);
  }
}
