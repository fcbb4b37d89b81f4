/**
 * The last choice wins: one `Latest` per concern (the source, the model, …). Each new attempt
 * aborts the one before, so an attempt that is still starting or converting when the visitor
 * chooses again can tell, when it resumes, that it must drop what it got.
 */
import { supersededError } from './errors.ts';

export class Latest {
  private controller: AbortController | null = null;

  /** Starts an attempt: aborts the previous one and returns this one's signal. */
  begin(): AbortSignal {
    this.controller?.abort(supersededError());
    this.controller = new AbortController();
    return this.controller.signal;
  }

  /** Aborts the current attempt (if any) without starting another. */
  cancel(): void {
    this.controller?.abort(supersededError());
    this.controller = null;
  }
}
