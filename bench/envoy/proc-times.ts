/** utime and stime apart (bench/lib/proc-stat.ts sums them): the kernel's share says how much of a process's time is the network. */
import { readFileSync } from 'node:fs';

const TICK_US = 10_000;

export interface ProcTimes {
  readonly userUs: number;
  readonly systemUs: number;
}

export function procTimes(pids: readonly number[]): ProcTimes {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      user += Number(fields[11]);
      system += Number(fields[12]);
    } catch {
      // gone: counts nothing
    }
  }
  return { userUs: user * TICK_US, systemUs: system * TICK_US };
}

export function since(before: ProcTimes, after: ProcTimes = before): ProcTimes {
  return { userUs: after.userUs - before.userUs, systemUs: after.systemUs - before.systemUs };
}
