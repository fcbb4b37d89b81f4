/** Errors as the app shows them, and the error of a dropped attempt (see `latest.ts`). */

/** The reason an attempt was dropped: a later choice was made. */
export function supersededError(): Error {
  const e = new Error('superseded by a later choice');
  e.name = 'AbortError';
  return e;
}

/** True for the rejection of an aborted attempt. */
export function isAbort(e: unknown): boolean {
  return (e as { name?: string } | null)?.name === 'AbortError';
}

/** `e`'s message, first line only (errors from readers can carry long lists). */
export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
