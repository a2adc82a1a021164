import type { MigrationProgress } from './migration-driver';

/** Calls the engine's progress listener; a throwing listener must not break a migration in flight. */
export function emitProgress(onProgress: (progress: MigrationProgress) => void, progress: MigrationProgress): void {
  try {
    onProgress(progress);
  } catch {
    // Ignored on purpose: progress is informational, the outcome is what counts.
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A signal that aborts with any of those given (undefined when none is). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length === 0 ? undefined : AbortSignal.any(present);
}
