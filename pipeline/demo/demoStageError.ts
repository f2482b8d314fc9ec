import { BoldlinkError, type ExitCode } from '../core/errors.js';

/** A stage of the demo failed; carries the stage's own exit code and the end of its message. */
export class DemoStageError extends BoldlinkError {
  readonly code = 'DEMO_STAGE_FAILED';
  readonly exitCode: ExitCode;
  constructor(stage: string, childExit: number, detail: string) {
    super(`demo: the '${stage}' step failed (exit ${childExit}):\n${detail}`);
    this.exitCode = childExit === 2 ? 2 : 1;
  }
}
