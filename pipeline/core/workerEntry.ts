import { fileURLToPath } from 'node:url';

/**
 * The file a worker thread can load for this module, or undefined when the
 * module runs from its TypeScript sources (the tests): Node cannot start a
 * worker from a .ts file, so such callers do the work on this thread.
 */
export function workerEntry(moduleUrl: string): string | undefined {
  return moduleUrl.endsWith('.js') ? fileURLToPath(moduleUrl) : undefined;
}
