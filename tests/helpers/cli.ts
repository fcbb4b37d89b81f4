/** Running the `spikeformer` command as a user does (`node bin/spikeformer.mjs …`), for CLI tests. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(...args: string[]): Promise<CliResult> {
  return cliWithEnv({}, ...args);
}

/** The command with these environment variables set (an empty value unsets one). */
export async function cliWithEnv(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run('node', ['bin/spikeformer.mjs', ...args], { env: { ...process.env, SPIKEFORMER_DEBUG: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Exit status 1, one line on stderr matching `pattern`, no stack trace. */
export function expectOneLineError(r: CliResult, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
