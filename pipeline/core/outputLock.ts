import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LockError } from './errors.js';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/**
 * An exclusive lock on one output directory, as a sibling file created with
 * O_EXCL. A lock left by a process that no longer exists on this host (killed
 * with SIGKILL, power loss) is taken over, so a rerun after a crash works.
 */
export class OutputLock {
  private constructor(readonly path: string) {}

  static async acquire(path: string, target: string): Promise<OutputLock> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx', 0o600);
        const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
        await handle.writeFile(JSON.stringify(owner));
        await handle.sync();
        await handle.close();
        return new OutputLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = await readOwner(path);
        if (owner !== undefined && isAlive(owner)) {
          throw new LockError(
            `${target} is being written by another run (pid ${owner.pid} on ${owner.host}, since ${owner.startedAt}). Wait for it to finish, or choose another --out.`,
          );
        }
        await rm(path, { force: true });
      }
    }
    throw new LockError(`Could not lock ${target}: another run keeps taking the lock.`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    // A lock file whose writer died before writing it: treat as stale.
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
