/**
 * "Download this frame" (`logic/frameDownload.ts`): the shown frame's picture is normalized on the
 * CPU (input.npy) and run once more from exactly that input, with every spike map where the engine
 * has them, so that every file in the zip comes from input.npy, as `spikeformer infer --input
 * input.npy` would compute it. The views are the page's canvases (each `canvas[role=img]`, named
 * by its accessible name) as PNGs.
 */
import { useState } from 'react';
import { preprocessOnCpu } from '../engine/frames.ts';
import type { InferenceEngine } from '../engine/types.ts';
import { oneLine } from '../logic/errors.ts';
import { COUNTS_ONLY_NOTE, frameZip, viewFileName } from '../logic/frameDownload.ts';
import type { LayerIndex, ShownFrame } from '../logic/view.ts';

async function pngOf(canvas: HTMLCanvasElement | OffscreenCanvas): Promise<Uint8Array> {
  const blob = canvas instanceof OffscreenCanvas
    ? await canvas.convertToBlob({ type: 'image/png' })
    : await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('a view could not be drawn to PNG');
  return new Uint8Array(await blob.arrayBuffer());
}

/** The page's drawn views, as PNGs named after them. */
async function viewImages(): Promise<[string, Uint8Array][]> {
  const taken = new Set<string>();
  const out: [string, Uint8Array][] = [];
  for (const c of document.querySelectorAll<HTMLCanvasElement>('main canvas[role="img"]')) {
    if (c.width === 0 || c.height === 0) continue;
    out.push([viewFileName(c.getAttribute('aria-label') ?? 'view', taken), await pngOf(c)]);
  }
  return out;
}

function save(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export interface FrameDownloadInput {
  engine: InferenceEngine | null;
  /** The frame the views show (null while none is). */
  frame: ShownFrame | null;
  index: LayerIndex;
  tasks: readonly string[];
  modelName: string;
  /** The frame's number, for the file name. */
  frameNumber: number;
}

export function useFrameDownload({ engine, frame, index, tasks, modelName, frameNumber }: FrameDownloadInput) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const download = async () => {
    if (!engine || !frame || busy) return;
    setBusy(true);
    setError(null);
    try {
      const { graph } = frame;
      const [, height, width] = graph.shapes.get(graph.input)!;
      const input = preprocessOnCpu(frame.input, width, height, graph.config.mean, graph.config.std);
      const spikeMaps = engine.hasSpikeMaps;
      const result = await engine.runFrame(input.slice(), { spikeMaps: spikeMaps ? index.lifs.map((l) => l.name) : [], membranes: [] });
      const picture = new OffscreenCanvas(width, height);
      picture.getContext('2d')!.drawImage(frame.input, 0, 0, width, height);
      const images: [string, Uint8Array][] = [['input.png', await pngOf(picture)], ...(await viewImages())];
      const { zip, names } = frameZip({
        graph, result, input, spikeMaps, tasks, modelName, images, backend: `${engine.backendName} (${engine.adapterName})`,
      });
      const name = `spikeformer-frame-${frameNumber}.zip`;
      save(zip, name);
      setSaved(`${name}: ${names.length} files`);
    } catch (e) {
      setError(`Could not pack this frame: ${oneLine(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return {
    canDownload: !!engine && !!frame && !busy,
    busy,
    error,
    saved,
    note: engine && !engine.hasSpikeMaps ? `${engine.backendName}: ${COUNTS_ONLY_NOTE}.` : null,
    onDownload: () => void download(),
  };
}
