/**
 * The official code's reference outputs (tests/fixtures/official, see its README) for browser
 * tests: the vitest browser server serves the project root, so they are fetched by their path.
 */
export const REFERENCE_URL = '/tests/fixtures/official';

/** The bytes of `path` (relative to tests/fixtures/official), or an error naming it. */
export async function fetchReferenceBytes(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const res = await fetch(`${REFERENCE_URL}/${path}`);
  if (!res.ok) throw new Error(`fetch ${REFERENCE_URL}/${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
