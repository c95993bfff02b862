/**
 * Test hook for the kill-at-any-moment test (docs/training.md): with MORELORA_CRASH_AT=<name>#<n>
 * the process SIGKILLs itself the n-th time it reaches crashPoint(<name>) (n defaults to 1), so a
 * test can kill a run at an exact moment, including halfway through a checkpoint write.
 */
const wanted = process.env.MORELORA_CRASH_AT?.match(/^([\w-]+)(?:#(\d+))?$/);
let hits = 0;

export function crashPoint(name: string): void {
  if (!wanted || wanted[1] !== name) return;
  if (++hits === Number(wanted[2] ?? 1)) process.kill(process.pid, "SIGKILL");
}
