import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

/**
 * Where the CPU goes while a side is loaded: the server process, PostgreSQL (the postmaster and all its
 * children) and this process (autocannon). Read from /proc, so Linux only; every reading is null
 * elsewhere, or for PostgreSQL when it is not the embedded server (its processes are not ours to find).
 * On a 2-CPU machine everything shares the same cores: CPU per request is what bounds req/s.
 */

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux the bench runs on.

export interface CpuReading {
  server: number | null;
  postgres: number | null;
  loadGenerator: number;
  // The whole machine: busy and total CPU seconds over all CPUs.
  machineBusy: number;
  machineTotal: number;
}

/** CPU milliseconds per completed request, by process group. */
export interface CpuPerRequest {
  serverMs: number | null;
  postgresMs: number | null;
  loadGeneratorMs: number;
  // All three over the machine's capacity during the run, in percent.
  busyPercent: number | null;
  // Everything else that ran meanwhile (tests of other sessions, …), in percent: it skews the numbers.
  othersPercent: number | null;
  // What req/s this CPU cost allows at most on this machine, whatever else runs: all CPUs for the
  // three groups, and one for the server's JavaScript thread. An estimate (no waits, no contention).
  ceilingPerSecond: number | null;
}

/** user + system seconds of one process (all its threads); with `reaped`, also its waited-for children. */
function processSeconds(pid: number, reaped = false): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17.
    const own = Number(fields[11]) + Number(fields[12]);
    const children = reaped ? Number(fields[13]) + Number(fields[14]) : 0;
    return (own + children) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** The postmaster's pid from its data directory, or null. */
export function postmasterPid(dataDir: string): number | null {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** The postmaster, its live children, and what its exited children (backends, …) already used. */
function postgresSeconds(postmaster: number): number | null {
  const own = processSeconds(postmaster, true);
  if (own === null) return null;
  let total = own;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === postmaster) continue;
    if (parentOf(pid) === postmaster) total += processSeconds(pid) ?? 0;
  }
  return total;
}

export function readCpu(serverPid: number | undefined, postmaster: number | null): CpuReading {
  const usage = process.cpuUsage();
  const machine = cpus().reduce(
    (acc, c) => {
      const busy = c.times.user + c.times.nice + c.times.sys + c.times.irq;
      return { busy: acc.busy + busy, total: acc.total + busy + c.times.idle };
    },
    { busy: 0, total: 0 },
  );
  return {
    machineBusy: machine.busy / 1000,
    machineTotal: machine.total / 1000,
    server: serverPid === undefined ? null : processSeconds(serverPid),
    postgres: postmaster === null ? null : postgresSeconds(postmaster),
    loadGenerator: (usage.user + usage.system) / 1e6,
  };
}

export function cpuPerRequest(before: CpuReading, after: CpuReading, completed: number, seconds: number, cpus: number): CpuPerRequest {
  const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
  const server = delta(before.server, after.server);
  const postgres = delta(before.postgres, after.postgres);
  const loadGenerator = after.loadGenerator - before.loadGenerator;
  const perRequest = (s: number | null) => (s === null || completed === 0 ? null : Math.round((s * 1e5) / completed) / 100);
  const ours = server === null || postgres === null || seconds <= 0 ? null : (100 * (server + postgres + loadGenerator)) / (seconds * cpus);
  const machineTotal = after.machineTotal - before.machineTotal;
  const machine = machineTotal > 0 ? (100 * (after.machineBusy - before.machineBusy)) / machineTotal : null;
  const serverMs = perRequest(server);
  const postgresMs = perRequest(postgres);
  const loadGeneratorMs = perRequest(loadGenerator) ?? 0;
  const total = serverMs === null || postgresMs === null ? null : serverMs + postgresMs + loadGeneratorMs;
  return {
    serverMs,
    postgresMs,
    loadGeneratorMs,
    ceilingPerSecond: total === null || serverMs === null || total <= 0 ? null : Math.round(Math.min((1000 * cpus) / total, 1000 / serverMs)),
    busyPercent: ours === null ? null : Math.round(ours),
    othersPercent: ours === null || machine === null ? null : Math.max(0, Math.round(machine - ours)),
  };
}
