/**
 * The latent map's points, drawn with WebGL on a canvas laid over Plotly's
 * plot area (Plotly keeps the axes, the grid, zoom/pan, box/lasso and the
 * SVG shapes: the selected X and the suggestion rings).
 *
 * Why hand-written rather than a Plotly scattergl trace: Plotly recomputes
 * every trace on any data change — a restyle of one 20-point trace cost as
 * much as re-colouring all 60k (130–660 ms, measured in Chromium), so a label
 * or a colour-mode switch froze the page. Here the 60k positions are uploaded
 * once per snapshot, a colour-mode switch is one colour-buffer upload and a
 * label rewrites only the small labelled layer; a frame is one draw call per
 * layer (positions in latent coordinates, the view transform in a uniform).
 */

/** One layer's GPU buffers. */
interface Layer {
  pos: WebGLBuffer;
  col: WebGLBuffer;
  count: number;
  /** Diameter in CSS pixels. */
  size: number;
  /** Width of the white outline, as a fraction of the radius (0 = none). */
  outline: number;
  /** Multiplies every point's alpha (the base fades under a selection). */
  alpha: number;
  visible: boolean;
}

/** The latent coordinates shown by the plot area. */
export interface View {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export type LayerName = "base" | "labelled" | "selection";
const ORDER: LayerName[] = ["base", "labelled", "selection"];

const VERTEX = `
attribute vec2 a_pos;
attribute vec4 a_col;
uniform vec4 u_view; // x0, y0, 1/(x1-x0), 1/(y1-y0)
uniform float u_size;
varying vec4 v_col;
void main() {
  vec2 t = (a_pos - u_view.xy) * u_view.zw;
  gl_Position = vec4(t * 2.0 - 1.0, 0.0, 1.0);
  gl_PointSize = u_size;
  v_col = a_col;
}`;

const FRAGMENT = `
precision mediump float;
varying vec4 v_col;
uniform float u_outline;
uniform float u_alpha;
void main() {
  vec2 d = gl_PointCoord * 2.0 - 1.0;
  float r = dot(d, d);
  if (r > 1.0) discard;
  vec3 c = r > (1.0 - u_outline) * (1.0 - u_outline) ? vec3(1.0) : v_col.rgb;
  float a = v_col.a * u_alpha;
  gl_FragColor = vec4(c * a, a);
}`;

function compile(gl: WebGLRenderingContext, type: number, src: string) {
  const s = gl.createShader(type)!;
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) {
    throw new Error(`shader: ${gl.getShaderInfoLog(s)}`);
  }
  return s;
}

/** Draws point layers on `canvas`; `draw()` paints one frame. */
export class PointLayer {
  readonly canvas: HTMLCanvasElement;
  #gl: WebGLRenderingContext;
  #prog: WebGLProgram;
  #loc: {
    pos: number;
    col: number;
    view: WebGLUniformLocation;
    size: WebGLUniformLocation;
    outline: WebGLUniformLocation;
    alpha: WebGLUniformLocation;
  };
  #layers = new Map<LayerName, Layer>();
  #view: View = { x0: -1, x1: 1, y0: -1, y1: 1 };
  #frame = 0;
  /** Frames painted (tests and benches wait on it). */
  frames = 0;

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
    const gl = canvas.getContext("webgl", {
      premultipliedAlpha: true,
      antialias: false,
      preserveDrawingBuffer: true,
    });
    if (!gl) throw new Error("WebGL is not available in this browser");
    this.#gl = gl;
    const prog = gl.createProgram()!;
    gl.attachShader(prog, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(prog, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) {
      throw new Error(`shader link: ${gl.getProgramInfoLog(prog)}`);
    }
    this.#prog = prog;
    this.#loc = {
      pos: gl.getAttribLocation(prog, "a_pos"),
      col: gl.getAttribLocation(prog, "a_col"),
      view: gl.getUniformLocation(prog, "u_view")!,
      size: gl.getUniformLocation(prog, "u_size")!,
      outline: gl.getUniformLocation(prog, "u_outline")!,
      alpha: gl.getUniformLocation(prog, "u_alpha")!,
    };
    gl.enable(gl.BLEND);
    // Premultiplied colours (the fragment shader multiplies by alpha).
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
  }

  #layer(name: LayerName): Layer {
    let l = this.#layers.get(name);
    if (!l) {
      const gl = this.#gl;
      l = {
        pos: gl.createBuffer()!,
        col: gl.createBuffer()!,
        count: 0,
        size: 3,
        outline: 0,
        alpha: 1,
        visible: true,
      };
      this.#layers.set(name, l);
    }
    return l;
  }

  /** Positions (interleaved x, y) and colours (RGBA bytes) of a layer. */
  setPoints(name: LayerName, xy: Float32Array, rgba: Uint8Array) {
    const gl = this.#gl;
    const l = this.#layer(name);
    gl.bindBuffer(gl.ARRAY_BUFFER, l.pos);
    gl.bufferData(gl.ARRAY_BUFFER, xy, gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, l.col);
    gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.STATIC_DRAW);
    l.count = Math.min(xy.length >> 1, rgba.length >> 2);
  }

  /** New colours for the same points (a colour-mode switch). */
  setColors(name: LayerName, rgba: Uint8Array) {
    const gl = this.#gl;
    const l = this.#layer(name);
    gl.bindBuffer(gl.ARRAY_BUFFER, l.col);
    gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.STATIC_DRAW);
  }

  setStyle(
    name: LayerName,
    style: Partial<Pick<Layer, "size" | "outline" | "alpha" | "visible">>,
  ) {
    Object.assign(this.#layer(name), style);
  }

  /** The latent rectangle the canvas shows. */
  setView(view: View) {
    this.#view = view;
  }

  /** Sizes the drawing buffer to the canvas's CSS box × devicePixelRatio. */
  resize(width: number, height: number) {
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(width * dpr));
    const h = Math.max(1, Math.round(height * dpr));
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
  }

  /** Paints at the next animation frame (many calls, one frame). */
  schedule() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.draw();
    });
  }

  /** Paints one frame now. */
  draw() {
    const gl = this.#gl;
    const dpr = globalThis.devicePixelRatio || 1;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(this.#prog);
    const v = this.#view;
    const dx = v.x1 - v.x0 || 1;
    const dy = v.y1 - v.y0 || 1;
    gl.uniform4f(this.#loc.view, v.x0, v.y0, 1 / dx, 1 / dy);
    for (const name of ORDER) {
      const l = this.#layers.get(name);
      if (!l || !l.visible || l.count === 0) continue;
      gl.uniform1f(this.#loc.size, l.size * dpr);
      gl.uniform1f(this.#loc.outline, l.outline);
      gl.uniform1f(this.#loc.alpha, l.alpha);
      gl.bindBuffer(gl.ARRAY_BUFFER, l.pos);
      gl.enableVertexAttribArray(this.#loc.pos);
      gl.vertexAttribPointer(this.#loc.pos, 2, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, l.col);
      gl.enableVertexAttribArray(this.#loc.col);
      gl.vertexAttribPointer(this.#loc.col, 4, gl.UNSIGNED_BYTE, true, 0, 0);
      gl.drawArrays(gl.POINTS, 0, l.count);
    }
    this.frames++;
  }

  /** Frees the GPU buffers. */
  dispose() {
    cancelAnimationFrame(this.#frame);
    const gl = this.#gl;
    for (const l of this.#layers.values()) {
      gl.deleteBuffer(l.pos);
      gl.deleteBuffer(l.col);
    }
    this.#layers.clear();
    gl.deleteProgram(this.#prog);
  }
}
