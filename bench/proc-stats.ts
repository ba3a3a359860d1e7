/**
 * CPU time and memory of a process group, read from /proc (Linux only).
 *
 * Every server the bench starts runs in its own session (`setsid`), so its
 * process group holds the server and everything it forked: Squid's
 * log_file_daemon, nginx's workers. CPU is utime + stime of every thread of
 * every process in the group (fields 14 and 15 of /proc/PID/stat, in clock
 * ticks; `getconf CLK_TCK`, normally 100, i.e. 10 ms resolution).
 */
import { readdirSync, readFileSync } from 'node:fs'

const TICKS_PER_SECOND = readClockTicks()

function readClockTicks(): number {
  const out = Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim()
  const ticks = Number(out)
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100
}

/** The fields after the `(comm)` of /proc/PID/stat; comm may contain spaces and parentheses. */
function readStatFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined // exited between listing and reading
  }
}

/** Every live pid whose process group is `pgid`. */
export function listGroup(pgid: number): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) {
      continue
    }
    // After `(comm) `: state ppid pgrp ... ; pgrp is index 2.
    const fields = readStatFields(pid)
    if (fields && Number(fields[2]) === pgid) {
      pids.push(pid)
    }
  }
  return pids
}

/** CPU time used so far by all processes of a group, microseconds. */
export interface GroupCpu {
  userUs: number
  systemUs: number
}

/** CPU time (user and system) used so far by all processes of a group. */
export function readGroupCpu(pgid: number): GroupCpu {
  let user = 0
  let system = 0
  for (const pid of listGroup(pgid)) {
    // utime and stime are fields 14 and 15 of the full line: indexes 11 and 12 here.
    const fields = readStatFields(pid)
    if (fields) {
      user += Number(fields[11])
      system += Number(fields[12])
    }
  }
  const us = 1_000_000 / TICKS_PER_SECOND
  return { userUs: user * us, systemUs: system * us }
}

/** CPU microseconds (user + system) used so far by all processes of a group. */
export function readGroupCpuUs(pgid: number): number {
  const cpu = readGroupCpu(pgid)
  return cpu.userUs + cpu.systemUs
}

export interface GroupMemory {
  /** Resident set size now, summed over the group, bytes. */
  rss: number
  /** Peak resident set size (VmHWM) summed over the group, bytes. */
  peak: number
}

/** Resident and peak memory of a process group, from /proc/PID/status. */
export function readGroupMemory(pgid: number): GroupMemory {
  const total: GroupMemory = { rss: 0, peak: 0 }
  for (const pid of listGroup(pgid)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      total.rss += readKiB(status, 'VmRSS') * 1024
      total.peak += readKiB(status, 'VmHWM') * 1024
    } catch {
      // exited meanwhile
    }
  }
  return total
}

function readKiB(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return match ? Number(match[1]) : 0
}

/** CPU microseconds all CPUs spent busy since boot (/proc/stat: everything but idle and iowait). */
export function readMachineBusyUs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
  // cpu  user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  const ticks = user + nice + system + irq + softirq + (steal || 0)
  return (ticks * 1_000_000) / TICKS_PER_SECOND
}
