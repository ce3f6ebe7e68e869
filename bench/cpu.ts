import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * CPU time a process has used so far (user + system, ms), read from /proc/<pid>/stat. Benches
 * print it per phase as a share of the wall time, to show which process a figure waited on.
 * Undefined where /proc is missing (not Linux) or the process is gone.
 */
export async function processCpuMs(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
}

let ticks: number | undefined;
const clockTicks = () => {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticks;
};

/** Measures a phase's CPU per process; `share()` gives each as a % of one core over the wall time. */
export async function cpuMeter(pids: Record<string, number | undefined>) {
  const start = performance.now();
  const before = await readAll(pids);
  return {
    async share(): Promise<string> {
      const wall = performance.now() - start;
      const after = await readAll(pids);
      return Object.keys(pids)
        .filter((k) => before[k] !== undefined && after[k] !== undefined)
        .map((k) => `${k} ${(((after[k]! - before[k]!) / wall) * 100).toFixed(0)}%`)
        .join(', ');
    },
  };
}

async function readAll(pids: Record<string, number | undefined>) {
  const out: Record<string, number | undefined> = {};
  for (const [k, pid] of Object.entries(pids))
    out[k] = pid === undefined ? undefined : await processCpuMs(pid);
  return out;
}

/** This process's CPU from now on (no /proc needed): milliseconds used, and as a share of one core. */
export function ownCpu() {
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const ms = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  };
  return { ms, share: () => ms() / (performance.now() - start) };
}
