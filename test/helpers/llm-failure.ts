/** The LlmError a backend call ended with (the test fails when it resolved or threw something else). */
import { expect } from 'vitest';
import { LlmError } from '../../src/ports/llm.js';

export async function failure(p: Promise<unknown>): Promise<LlmError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LlmError);
  return err as LlmError;
}
