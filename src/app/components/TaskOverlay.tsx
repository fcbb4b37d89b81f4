import { useEffect, useRef } from 'react';
import type { Detection } from '../../tasks/index.ts';
import { boxToOverlay, classCss, colorMask, mirrorRgba } from '../logic/taskOverlay.ts';

interface Props {
  /** Model input size (the square crop the preview shows). */
  inputSize: number;
  detections: Detection[] | null;
  mask: Uint8Array | null;
  maskOpacity: number;
  /** The preview is shown mirrored (camera): draw so boxes and mask line up with it. */
  mirrored: boolean;
}

/**
 * A canvas over the input preview (same square) with the segmentation mask and the detection boxes,
 * in the displayed frame's coordinates.
 */
export function TaskOverlay({ inputSize, detections, mask, maskOpacity, mirrored }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const draw = () => {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
      const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      ctx.clearRect(0, 0, w, h);
      if (mask && mask.length === inputSize * inputSize) {
        let rgba = colorMask(mask, maskOpacity);
        if (mirrored) rgba = mirrorRgba(rgba, inputSize, inputSize);
        const off = new OffscreenCanvas(inputSize, inputSize);
        off.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, inputSize, inputSize), 0, 0);
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(off, 0, 0, w, h);
      }
      if (detections) {
        ctx.lineWidth = 2 * dpr;
        ctx.font = `${Math.round(12 * dpr)}px system-ui, sans-serif`;
        ctx.textBaseline = 'top';
        for (const d of detections) {
          const b = boxToOverlay(d, inputSize, inputSize, w, h, mirrored);
          const color = classCss(d.class, false);
          ctx.strokeStyle = color;
          ctx.strokeRect(b.x, b.y, b.w, b.h);
          const text = `${d.label} ${(d.score * 100).toFixed(0)}%`;
          const tw = ctx.measureText(text).width + 6 * dpr;
          const th = 15 * dpr;
          const ty = b.y >= th ? b.y - th : b.y;
          ctx.fillStyle = color;
          ctx.fillRect(b.x, ty, tw, th);
          ctx.fillStyle = '#000';
          ctx.fillText(text, b.x + 3 * dpr, ty + 1.5 * dpr);
        }
      }
    };
    draw();
    const ro = new ResizeObserver(draw);
    ro.observe(canvas);
    return () => ro.disconnect();
  }, [inputSize, detections, mask, maskOpacity, mirrored]);

  return <canvas ref={ref} className="task-overlay" role="img" aria-label={`Task overlay: ${detections ? `${detections.length} boxes` : 'no boxes'}${mask ? ', segmentation mask' : ''}`} />;
}
