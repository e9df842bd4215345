import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessCpu {
  pid: number;
  /** `bench`, `azurite`, `local host`, or the command line's script. */
  role: string;
  /** User + system CPU time consumed so far, seconds. */
  cpuSeconds: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU time of this process and its direct children (Azurite, the local host) from /proc, so a benchmark can
 * say which process a storm saturates. Linux only; elsewhere it returns an empty list.
 */
export function processCpu(): ProcessCpu[] {
  const out: ProcessCpu[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat || (pid !== process.pid && stat.ppid !== process.pid)) {
      continue;
    }
    out.push({ pid, role: pid === process.pid ? 'bench (simulator, clients)' : roleOf(pid), cpuSeconds: stat.cpuSeconds });
  }
  return out;
}

/** CPU seconds each role used between two samples (processes that started or ended in between count what they used). */
export function cpuBetween(before: readonly ProcessCpu[], after: readonly ProcessCpu[]): Record<string, number> {
  const used: Record<string, number> = {};
  for (const a of after) {
    const b = before.find((p) => p.pid === a.pid);
    used[a.role] = Math.round(((used[a.role] ?? 0) + a.cpuSeconds - (b?.cpuSeconds ?? 0)) * 10) / 10;
  }
  return used;
}

function readStat(pid: number): { ppid: number; cpuSeconds: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return { ppid, cpuSeconds: (utime + stime) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

function roleOf(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmd.includes('azurite')) {
      return 'azurite (storage)';
    }
    if (cmd.includes('host/main.js')) {
      return 'local host (app)';
    }
    return cmd.split('\0').slice(1, 2).join(' ') || 'other';
  } catch {
    return 'other';
  }
}
