/**
 * The frame loop's decision at each animation frame: which picture, if any, to offer the
 * scheduler (one frame in flight, `frameScheduler.ts`), from the pause/step controls and whether
 * the source has a new picture.
 */
export interface LoopControl {
  paused: boolean;
  /** One frame is asked for (the step button). */
  step: boolean;
  /** What is shown no longer matches what the views ask for (a new source, a changed request). */
  dirty: boolean;
}

/** `new`: read a new picture from the source; `again`: run the last picture again; null: nothing. */
export type LoopJob = 'new' | 'again' | null;

/**
 * A step, or a live source running with a new picture: a new picture. A still picture, or a paused
 * video, whose view changed: the same picture again. Otherwise nothing.
 */
export function pickJob(c: LoopControl, live: boolean, freshPicture: boolean): LoopJob {
  if (c.step || (live && !c.paused && freshPicture)) return 'new';
  if (c.dirty && (!live || c.paused)) return 'again';
  return null;
}
