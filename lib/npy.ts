/**
 * Writes NumPy `.npy` files (format 1.0), the array format that NumPy, PyTorch,
 * Julia and R read directly. Hand-written because the format is a 10-byte preamble
 * plus a Python-dict header, and the npm writers pull in far more than that.
 */

type NpyArray = Float32Array | Uint8Array | Int32Array;

function dtypeOf(a: NpyArray): string {
  if (a instanceof Float32Array) return "<f4";
  if (a instanceof Int32Array) return "<i4";
  return "|u1";
}

/** Encodes `data` with `shape` (row-major) as .npy bytes. */
export function encodeNpy(data: NpyArray, shape: number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new Error(
      `npy: shape ${
        JSON.stringify(shape)
      } holds ${size} values, data has ${data.length}`,
    );
  }
  const shapeText = shape.length === 1
    ? `(${shape[0]},)`
    : `(${shape.join(", ")})`;
  let header = `{'descr': '${
    dtypeOf(data)
  }', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The preamble plus header must be a multiple of 64 bytes, ending in a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** Parses the header of .npy bytes (format 1.0, or 2.0/3.0's wider length). */
export function decodeNpyHeader(
  bytes: Uint8Array,
): {
  descr: string;
  shape: number[];
  fortranOrder: boolean;
  dataOffset: number;
} {
  if (
    bytes[0] !== 0x93 ||
    new TextDecoder().decode(bytes.subarray(1, 6)) !== "NUMPY"
  ) {
    throw new Error("npy: bad magic");
  }
  // Format 1.0: a 2-byte header length; 2.0 and 3.0: 4 bytes.
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const wide = bytes[6] >= 2;
  const start = wide ? 12 : 10;
  const len = wide ? view.getUint32(8, true) : view.getUint16(8, true);
  const header = new TextDecoder().decode(
    bytes.subarray(start, start + len),
  );
  const descr = /'descr': '([^']+)'/.exec(header)?.[1] ?? "";
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? "")
    .split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const fortranOrder = /'fortran_order': True/.test(header);
  return { descr, shape, fortranOrder, dataOffset: start + len };
}
