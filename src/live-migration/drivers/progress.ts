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
