// A Proxmox VE task as the migration driver reads it: the new lines of its log and the progress they tell, and what
// went wrong when it failed.
import type { PveClient } from './pve-client';
import { errorLines, migrationProgress, type TaskProgress } from './pve-parse';

const taskPath = (node: string, upid: string) => `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}`;

type LogPage = { data?: Array<{ n: number; t: string }> } | Array<{ n: number; t: string }>;
const linesOf = (page: LogPage | undefined) => (Array.isArray(page) ? page : (page?.data ?? []));

/** New lines of the task's log from line `from`, and the progress they tell. */
export async function readTaskLog(
  api: PveClient,
  node: string,
  upid: string,
  from: number,
  progress: TaskProgress,
): Promise<{ lines: number; progress: TaskProgress }> {
  const lines = linesOf(await api.get<LogPage>(`${taskPath(node, upid)}/log`, { start: from, limit: 500 }));
  return {
    lines: from + lines.length,
    progress: migrationProgress(
      lines.map((l) => l.t),
      progress,
    ),
  };
}

/** What the task's log says went wrong, with its exit status; null when PVE cannot tell now. */
export async function taskError(api: PveClient, node: string, upid: string): Promise<string | null> {
  try {
    const status = await api.get<{ exitstatus?: string }>(`${taskPath(node, upid)}/status`);
    const lines = linesOf(await api.get<LogPage>(`${taskPath(node, upid)}/log`, { start: 0, limit: 5000 })).map((l) => l.t);
    const errors = errorLines(lines).filter((l) => l !== status?.exitstatus);
    return [status?.exitstatus, ...errors.slice(-2)].filter(Boolean).join(': ') || null;
  } catch {
    return null;
  }
}
