/**
 * Where frames come from: the webcam (getUserMedia, any of the cameras enumerateDevices lists), an
 * image or video file, or a bundled sample. The preview elements are rendered by `SourcePicker`;
 * this hook owns the streams and tells which element is ready to be read. The last choice wins:
 * choosing a file or a sample while the camera is still starting drops the camera when it comes.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Latest } from './logic/latest.ts';

export interface FrameSource {
  kind: 'camera' | 'video' | 'image';
  name: string;
  element: HTMLVideoElement | HTMLImageElement;
  /** Camera and video: new frames keep coming. Images: one picture. */
  live: boolean;
  /** The camera preview is mirrored (like a mirror); the model sees the unmirrored frame. */
  mirrored: boolean;
}

export type SourceMode = 'none' | 'camera' | 'video' | 'image';

/** A clear sentence for a getUserMedia failure. */
export function cameraErrorMessage(e: unknown): string {
  const name = (e as { name?: string })?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Camera access was denied. Allow the camera in your browser’s site settings — or open an image or video file, or pick a sample.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return 'No camera was found. Open an image or video file, or pick a sample, instead.';
  }
  if (name === 'NotReadableError') return 'The camera is in use by another program (or could not be started). Files and samples still work.';
  if (typeof navigator !== 'undefined' && !navigator.mediaDevices?.getUserMedia) {
    return 'This page cannot use a camera (it needs a secure https:// or localhost address). Files and samples still work.';
  }
  return `The camera could not be started: ${(e as Error)?.message ?? String(e)}. Files and samples still work.`;
}

/**
 * A camera stream for `signal`'s attempt, or null when a later choice aborted it while the camera
 * was starting: a stream that arrives too late is stopped at once.
 */
export async function requestStream(
  getUserMedia: (constraints: MediaStreamConstraints) => Promise<MediaStream>, constraints: MediaStreamConstraints, signal: AbortSignal,
): Promise<MediaStream | null> {
  const stream = await getUserMedia(constraints);
  if (!signal.aborted) return stream;
  stream.getTracks().forEach((t) => t.stop());
  return null;
}

export function useFrameSource() {
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const imageRef = useRef<HTMLImageElement | null>(null);
  const streamRef = useRef<MediaStream | null>(null);
  const objectUrlRef = useRef<string | null>(null);
  const [mode, setMode] = useState<SourceMode>('none');
  const [source, setSource] = useState<FrameSource | null>(null);
  const [cameraState, setCameraState] = useState<'off' | 'starting' | 'on'>('off');
  const [cameraError, setCameraError] = useState<string | null>(null);
  const [cameras, setCameras] = useState<{ deviceId: string; label: string }[]>([]);
  const [cameraId, setCameraId] = useState<string>('');
  const [imageUrl, setImageUrl] = useState<string | null>(null);
  /** Changes with every picture opened, so the <img> remounts and loads even for the same address. */
  const [imageKey, setImageKey] = useState(0);
  const pendingImageName = useRef('image');
  /** The source being started: each choice (camera, file, sample, stop) supersedes the one before. */
  const latest = useRef(new Latest());

  const stopStream = useCallback(() => {
    streamRef.current?.getTracks().forEach((t) => t.stop());
    streamRef.current = null;
    const v = videoRef.current;
    if (v) v.srcObject = null;
    setCameraState('off');
  }, []);

  /** Stops a playing video file and detaches it from the shared <video>. */
  const clearVideo = useCallback(() => {
    const v = videoRef.current;
    if (!v) return;
    v.onloadeddata = null;
    v.pause();
    if (v.getAttribute('src')) {
      v.removeAttribute('src');
      v.load();
    }
  }, []);

  const revokeUrl = useCallback(() => {
    if (objectUrlRef.current) URL.revokeObjectURL(objectUrlRef.current);
    objectUrlRef.current = null;
  }, []);

  const listCameras = useCallback(async () => {
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      setCameras(devices.filter((d) => d.kind === 'videoinput').map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` })));
    } catch {
      setCameras([]);
    }
  }, []);

  const startCamera = useCallback(async (deviceId?: string) => {
    const signal = latest.current.begin();
    setCameraError(null);
    if (!navigator.mediaDevices?.getUserMedia) {
      setCameraError(cameraErrorMessage(new Error('no getUserMedia')));
      return;
    }
    stopStream();
    clearVideo();
    revokeUrl();
    setCameraState('starting');
    try {
      const stream = await requestStream((c) => navigator.mediaDevices.getUserMedia(c), {
        video: deviceId ? { deviceId: { exact: deviceId } } : { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' },
        audio: false,
      }, signal);
      if (!stream) return;
      streamRef.current = stream;
      const id = stream.getVideoTracks()[0]?.getSettings().deviceId ?? deviceId ?? '';
      setCameraId(id);
      setSource(null);
      setImageUrl(null);
      setMode('camera');
      const video = videoRef.current;
      if (!video) throw new Error('no video element');
      video.srcObject = stream;
      video.muted = true;
      await video.play();
      if (signal.aborted) return;
      setCameraState('on');
      const label = stream.getVideoTracks()[0]?.label || 'Camera';
      setSource({ kind: 'camera', name: label, element: video, live: true, mirrored: true });
      void listCameras();
    } catch (e) {
      // A later choice stopped this stream (play() then fails): that choice stands, with no error.
      if (signal.aborted) return;
      stopStream();
      setMode((m) => (m === 'camera' ? 'none' : m));
      setCameraError(cameraErrorMessage(e));
    }
  }, [clearVideo, listCameras, revokeUrl, stopStream]);

  const stopCamera = useCallback(() => {
    latest.current.begin();
    stopStream();
    setSource((s) => (s?.kind === 'camera' ? null : s));
    setMode((m) => (m === 'camera' ? 'none' : m));
  }, [stopStream]);

  /** Opens an image or video file (from the file picker or a drop). Returns false for other files. */
  const openFile = useCallback((file: File): boolean => {
    const isVideo = file.type.startsWith('video/') || /\.(mp4|webm|ogv|mov|m4v)$/i.test(file.name);
    const isImage = file.type.startsWith('image/') || /\.(png|jpe?g|gif|webp|bmp|avif|svg)$/i.test(file.name);
    if (!isVideo && !isImage) return false;
    latest.current.begin();
    stopStream();
    clearVideo();
    revokeUrl();
    const url = URL.createObjectURL(file);
    objectUrlRef.current = url;
    setSource(null);
    setCameraError(null);
    if (isVideo) {
      setImageUrl(null);
      setMode('video');
      const video = videoRef.current;
      if (video) {
        video.srcObject = null;
        video.src = url;
        video.loop = true;
        video.muted = true;
        video.onloadeddata = () => {
          void video.play().catch(() => {});
          setSource({ kind: 'video', name: file.name, element: video, live: true, mirrored: false });
        };
      }
    } else {
      setMode('image');
      pendingImageName.current = file.name;
      setImageUrl(url);
      setImageKey((k) => k + 1);
    }
    return true;
  }, [clearVideo, revokeUrl, stopStream]);

  const openSample = useCallback((url: string, name: string) => {
    latest.current.begin();
    stopStream();
    clearVideo();
    revokeUrl();
    setSource(null);
    setCameraError(null);
    setMode('image');
    pendingImageName.current = name;
    setImageUrl(url);
    setImageKey((k) => k + 1);
  }, [clearVideo, revokeUrl, stopStream]);

  /** Called by the <img> once it has loaded. */
  const onImageLoad = useCallback(() => {
    const img = imageRef.current;
    if (img) setSource({ kind: 'image', name: pendingImageName.current, element: img, live: false, mirrored: false });
  }, []);

  useEffect(() => () => {
    streamRef.current?.getTracks().forEach((t) => t.stop());
    if (objectUrlRef.current) URL.revokeObjectURL(objectUrlRef.current);
  }, []);

  return {
    videoRef, imageRef, mode, source, cameraState, cameraError, cameras, cameraId, imageUrl, imageKey,
    startCamera, stopCamera, openFile, openSample, onImageLoad,
  };
}

export type FrameSourceState = ReturnType<typeof useFrameSource>;
