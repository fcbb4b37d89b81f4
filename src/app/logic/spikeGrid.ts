/**
 * The 2-D picture of one neuron layer at one time step: the spikes of one channel, or the spike
 * count over all channels, at every position. Maps are `[T, C, H, W]` flattened (t-major), as the
 * runtimes return them; token layers (`[C, N]`) use the same memory with N = H·W.
 */
export interface SpikeGrid {
  width: number;
  height: number;
  /** Spikes per position (0/1 for one channel, 0..C for the sum). */
  values: Uint16Array;
  /** The largest value the grid can hold (1 or C). */
  max: number;
}

export type ChannelChoice = 'sum' | number;

/** One neuron: a layer, a channel and a position. */
export interface NeuronRef {
  layer: string;
  channel: number;
  y: number;
  x: number;
}

export function spikeGrid(map: Uint8Array, shape: readonly [number, number, number], T: number, t: number, channel: ChannelChoice): SpikeGrid {
  const [c, h, w] = shape;
  const plane = h * w;
  if (map.length !== T * c * plane) throw new Error(`spike map has ${map.length} values; expected ${T}×${c}×${h}×${w}`);
  if (!(t >= 0 && t < T)) throw new Error(`time step ${t} is outside 0..${T - 1}`);
  const values = new Uint16Array(plane);
  const base = t * c * plane;
  if (channel === 'sum') {
    for (let ch = 0; ch < c; ch++) {
      const o = base + ch * plane;
      for (let i = 0; i < plane; i++) values[i] += map[o + i];
    }
    return { width: w, height: h, values, max: c };
  }
  if (!(channel >= 0 && channel < c)) throw new Error(`channel ${channel} is outside 0..${c - 1}`);
  const o = base + channel * plane;
  for (let i = 0; i < plane; i++) values[i] = map[o + i];
  return { width: w, height: h, values, max: 1 };
}

/** Index of neuron (channel, y, x) at step t in a `[T, C, H, W]` map. */
export function neuronIndex(shape: readonly [number, number, number], t: number, channel: number, y: number, x: number): number {
  const [c, h, w] = shape;
  return ((t * c + channel) * h + y) * w + x;
}

/** The channel to follow when a position is clicked in the summed view: the first that spiked there at step t (else 0). */
export function channelAt(map: Uint8Array, shape: readonly [number, number, number], t: number, y: number, x: number): number {
  const [c] = shape;
  for (let ch = 0; ch < c; ch++) if (map[neuronIndex(shape, t, ch, y, x)]) return ch;
  return 0;
}

/** Membrane potential of neuron (channel, y, x) at every step, from a `[T, C, H, W]` membrane map. */
export function membraneTrace(membrane: Float32Array, shape: readonly [number, number, number], T: number, channel: number, y: number, x: number): number[] {
  return Array.from({ length: T }, (_, t) => membrane[neuronIndex(shape, t, channel, y, x)]);
}

export interface LifStep {
  /** Potential carried in from the previous step (after reset), v_{t-1}. */
  before: number;
  /** Potential after charging, h_t (what is compared with the threshold). */
  charged: number;
  /** Input current x_t recovered from h_t = v + (x − v)/2. */
  input: number;
  spiked: boolean;
  /** Potential after the step: 0 after a spike (hard reset), else h_t. */
  after: number;
}

/**
 * Replays the LIF neuron (tau 2, hard reset to 0) over the charged potentials `h` the runtime
 * reports: which steps spiked, and the input current each step received.
 */
export function lifSteps(h: readonly number[], threshold: number): LifStep[] {
  let v = 0;
  return h.map((charged) => {
    const spiked = charged - threshold >= 0;
    const step: LifStep = { before: v, charged, input: 2 * charged - v, spiked, after: spiked ? 0 : charged };
    v = step.after;
    return step;
  });
}
