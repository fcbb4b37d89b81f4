import { useRef, type ReactNode } from 'react';
import { SAMPLES, sampleUrl } from '../samples.ts';
import type { FrameSourceState } from '../useFrameSource.ts';

interface Props {
  src: FrameSourceState;
  onUnsupportedFile(file: File): void;
  /** Drawn over the preview (task boxes and masks), in the preview's square. */
  overlay?: ReactNode;
}

/** Webcam, image or video file, or a bundled sample — with the preview of what the model sees. */
export function SourcePicker({ src, onUnsupportedFile, overlay }: Props) {
  const fileRef = useRef<HTMLInputElement>(null);
  const mirrored = src.source?.mirrored ?? src.mode === 'camera';

  return (
    <section className="panel" aria-labelledby="source-heading">
      <h2 id="source-heading">Input</h2>
      <div
        className={`preview${src.mode === 'none' ? ' empty' : ''}`}
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          e.stopPropagation();
          const file = e.dataTransfer.files[0];
          if (file && !src.openFile(file)) onUnsupportedFile(file);
        }}
      >
        <video
          ref={src.videoRef}
          className={mirrored ? 'mirrored' : undefined}
          hidden={src.mode !== 'camera' && src.mode !== 'video'}
          playsInline
          muted
          aria-label="Camera or video preview"
        />
        {src.imageUrl && (
          <img key={src.imageKey} ref={src.imageRef} src={src.imageUrl} alt={`Input picture: ${src.source?.name ?? 'loading'}`} hidden={src.mode !== 'image'} onLoad={src.onImageLoad} />
        )}
        {src.mode !== 'none' && overlay}
        {src.mode === 'none' && <p className="drop-hint">Start the camera, open a file, pick a sample, or drop an image or video here.</p>}
      </div>
      <p className="note">The model sees the centred square of the picture, as shown{mirrored ? ' (the camera preview is mirrored; the model sees it unmirrored)' : ''}.</p>
      <div className="controls">
        {src.cameraState === 'on' ? (
          <button type="button" onClick={src.stopCamera}>
            Stop camera
          </button>
        ) : (
          <button type="button" onClick={() => void src.startCamera(src.cameraId || undefined)} disabled={src.cameraState === 'starting'}>
            {src.cameraState === 'starting' ? 'Starting camera…' : 'Start camera'}
          </button>
        )}
        {src.cameras.length > 1 && (
          <label>
            Camera{' '}
            <select value={src.cameraId} onChange={(e) => void src.startCamera(e.target.value)}>
              {src.cameras.map((c) => (
                <option key={c.deviceId} value={c.deviceId}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" onClick={() => fileRef.current?.click()}>
          Open image or video…
        </button>
        <input
          ref={fileRef}
          type="file"
          accept="image/*,video/*"
          hidden
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file && !src.openFile(file)) onUnsupportedFile(file);
            e.target.value = '';
          }}
        />
      </div>
      {src.cameraError && (
        <p className="status status-bad" role="alert">
          {src.cameraError}
        </p>
      )}
      <div className="samples" role="group" aria-label="Sample pictures">
        {SAMPLES.map((s) => (
          <button key={s.file} type="button" className="sample" onClick={() => src.openSample(sampleUrl(s.file), s.title)} aria-label={`Sample: ${s.title}`}>
            <img src={sampleUrl(s.file)} alt="" width={44} height={44} />
          </button>
        ))}
      </div>
    </section>
  );
}
