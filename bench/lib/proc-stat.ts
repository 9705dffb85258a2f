/** CPU time of processes from /proc/PID/stat (utime + stime, in clock ticks of 10 ms on Linux). */
import { readFileSync } from 'node:fs';

const TICK_US = 10_000; // sysconf(_SC_CLK_TCK) is 100 on every Linux we run on

/** CPU microseconds used so far by the given processes together; 0 for one that is gone. */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * TICK_US;
}

export function hasProcStat(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}
