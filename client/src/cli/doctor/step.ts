import { reasonOf } from '../errors.js';

export type StepStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the doctor's report; `hint` says what to check when it is not ok. */
export interface StepResult {
  step: string;
  status: StepStatus;
  detail: string;
  ms: number;
  hint?: string;
}

/** What a step returns when it did not throw (a throw is a failure). */
export interface StepOutcome {
  status?: Exclude<StepStatus, 'fail'>;
  detail: string;
  hint?: string;
}

export interface Step {
  name: string;
  run(): Promise<StepOutcome>;
  /** What to check when `run` threw `err`. */
  hint(err: unknown): string;
}

/** Runs a step, timing it; a throw becomes a `fail` with the step's hint. */
export async function runStep(step: Step): Promise<StepResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const outcome = await step.run();
    return { step: step.name, status: outcome.status ?? 'ok', ...outcome, ms: ms() };
  } catch (err) {
    return {
      step: step.name,
      status: 'fail',
      detail: reasonOf(err).message,
      ms: ms(),
      hint: step.hint(err),
    };
  }
}

/** A step that cannot run because an earlier one failed. */
export function skipped(step: string, because: string): StepResult {
  return { step, status: 'skip', detail: because, ms: 0 };
}
